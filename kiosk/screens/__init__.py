"""The kiosk's screens, one module each, and the ids the state machine moves between."""
