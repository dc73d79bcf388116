"""The shared client against a real Mosquitto: reconnects on its own, says why it can't."""

from __future__ import annotations

import queue

import pytest

from broker.client import BrokerSettings, BusClient
from broker.contract import MAX_PAYLOAD_BYTES
from broker.mosquitto import free_port
from tests.conftest import wait_until

pytestmark = pytest.mark.broker


def test_reconnects_and_keeps_its_session(mosquitto) -> None:
    got: queue.Queue[tuple[str, bytes]] = queue.Queue()
    sub = BusClient("sub-1", BrokerSettings(port=mosquitto.port), subscriptions=["t/#"],
                    on_message=lambda t, p: got.put((t, p)))
    pub = BusClient("pub-1", BrokerSettings(port=mosquitto.port))
    sub.start()
    pub.start()
    try:
        assert sub.wait_connected(10) and pub.wait_connected(10)
        sub.stop()  # away; the broker keeps its persistent session
        assert pub.publish("t/1", b"while away")
        mosquitto.restart()  # and the broker restarts in between
        assert wait_until(lambda: pub.connected, timeout=40)
        sub = BusClient("sub-1", BrokerSettings(port=mosquitto.port),
                        on_message=lambda t, p: got.put((t, p)))
        sub.start()  # no subscriptions given: the session still has them
        assert got.get(timeout=20) == ("t/1", b"while away")
    finally:
        sub.stop()
        pub.stop()


def test_refuses_oversized_payloads(mosquitto, caplog) -> None:
    """The client alone (an anonymous broker): an oversized payload is never sent, and is
    logged, counted and reported like a publish the broker refused."""
    refusals: list[tuple[str, str]] = []
    client = BusClient("big", BrokerSettings(port=mosquitto.port),
                       on_refused=lambda topic, reason: refusals.append((topic, reason)))
    client.start()
    try:
        assert client.wait_connected(10)
        with caplog.at_level("ERROR", logger="broker.client"):
            assert not client.publish("t/x", b"x" * (MAX_PAYLOAD_BYTES + 1))
        assert client.refused == 1 and refusals[0][0] == "t/x"
        assert f"over the {MAX_PAYLOAD_BYTES}-byte limit" in refusals[0][1]
        assert "t/x" in caplog.text
        assert client.publish("t/x", b"x" * MAX_PAYLOAD_BYTES)
        assert client.refused == 1
    finally:
        client.stop()


def test_explains_why_it_cannot_connect() -> None:
    port = free_port()
    client = BusClient("lonely", BrokerSettings(port=port))
    client.start()
    try:
        assert wait_until(lambda: client.last_error != "", timeout=10)
        assert f"127.0.0.1:{port}" in client.last_error
        assert not client.connected
    finally:
        client.stop()



def test_sockets_send_small_packets_at_once(deployed_room) -> None:
    """TCP_NODELAY on every connection, over TLS and again after a reconnect. With Nagle's
    algorithm on, the hub's reply, sent right after its PUBACK of the check-in, waited for the
    broker's delayed ACK: ~40 ms on every check-in (bench/e2e.py)."""
    import socket

    from kiosk.config import load_kiosk_config

    settings = load_kiosk_config(deployed_room.kiosk_config("s1")).broker
    client = BusClient("s1", settings)
    client.start()

    def nodelay() -> int:
        sock = client._client.socket()  # the live connection's socket, TLS-wrapped
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) if sock else -1

    try:
        assert client.wait_connected(10), client.last_error
        assert settings.ca_file is not None and nodelay() == 1
        deployed_room.broker.restart()
        assert wait_until(lambda: client.connected, timeout=40)
        assert nodelay() == 1
    finally:
        client.stop()
