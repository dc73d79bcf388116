"""The hub's MQTT client in a child process, against a real Mosquitto."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap

import pytest

from broker.client import BrokerSettings, BusClient
from broker.process_bus import ProcessBus
from tests.conftest import REPO, wait_until

pytestmark = pytest.mark.broker


def test_messages_cross_both_ways_in_order(mosquitto) -> None:
    settings = BrokerSettings(port=mosquitto.port)
    got: queue.Queue[tuple[str, bytes]] = queue.Queue()
    seen: queue.Queue[tuple[str, bytes]] = queue.Queue()
    bus = ProcessBus("pb-1", settings, subscriptions=["in/#"],
                     on_message=lambda t, p: got.put((t, p)))
    peer = BusClient("peer-1", settings, subscriptions=["out/#"],
                     on_message=lambda t, p: seen.put((t, p)))
    bus.start()
    peer.start()
    try:
        assert bus.wait_connected(20) and peer.wait_connected(10)
        for k in range(200):
            assert peer.publish(f"in/{k % 3}", str(k).encode())
        assert [got.get(timeout=10)[1] for _ in range(200)] == [str(k).encode()
                                                                 for k in range(200)]
        assert bus.publish_many([(f"out/{k}", b"x", False) for k in range(50)])
        assert sorted(seen.get(timeout=10)[0] for _ in range(50)) == sorted(
            f"out/{k}" for k in range(50))
    finally:
        bus.stop()
        peer.stop()


def test_a_killed_parent_takes_its_child_along_and_the_will_goes_out(mosquitto) -> None:
    settings = BrokerSettings(port=mosquitto.port)
    wills: queue.Queue[bytes] = queue.Queue()
    watcher = BusClient("watcher", settings, subscriptions=["w/#"],
                        on_message=lambda t, p: wills.put(p))
    watcher.start()
    script = textwrap.dedent(f"""
        import time
        from broker.client import BrokerSettings, Will
        from broker.process_bus import ProcessBus
        if __name__ == "__main__":
            bus = ProcessBus("pb-2", BrokerSettings(port={mosquitto.port}),
                             will=Will("w/status", b"offline", retain=False))
            bus.start()
            bus.wait_connected(20)
            print(bus._proc.pid, flush=True)
            time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, text=True,
                              stdout=subprocess.PIPE)
    try:
        assert watcher.wait_connected(10)
        child = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert wait_until(lambda: not _alive(child), timeout=10)
        assert wills.get(timeout=10) == b"offline"
    finally:
        parent.kill()
        watcher.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: it has exited and waits for init to reap it
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split()[2] != "Z"


def test_a_child_that_dies_is_started_again(mosquitto) -> None:
    settings = BrokerSettings(port=mosquitto.port)
    got: queue.Queue[bytes] = queue.Queue()
    bus = ProcessBus("pb-3", settings, subscriptions=["in/#"],
                     on_message=lambda t, p: got.put(p))
    peer = BusClient("peer-3", settings)
    bus.start()
    peer.start()
    try:
        assert bus.wait_connected(20) and peer.wait_connected(10)
        first = bus._proc
        first.kill()
        assert wait_until(lambda: bus._proc is not first and bus.connected, timeout=30)
        assert peer.publish("in/again", b"still here")
        assert got.get(timeout=10) == b"still here"
    finally:
        bus.stop()
        peer.stop()
