"""The message bus: topic and payload contract, the shared MQTT client, and Mosquitto helpers."""
