"""The hub and the kiosk speak systemd's notify protocol: READY, watchdog pings, STOPPING."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from hub.app import run_hub
from hub.config import load_hub_config
from kiosk.app import KioskWindow
from kiosk.config import load_kiosk_config
from kiosk.readers.simulated import SimulatedReader
from kiosk.runtime import KioskRuntime
from stations.sdnotify import Notifier

pytestmark = pytest.mark.broker


@pytest.fixture
def systemd_socket(tmp_path: Path):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    received: list[str] = []

    def drain() -> list[str]:
        while True:
            try:
                received.append(sock.recv(4096).decode())
            except TimeoutError:
                return received

    try:
        yield str(path), drain
    finally:
        sock.close()


def test_hub_reports_ready_pings_and_stopping(room, systemd_socket) -> None:
    path, drain = systemd_socket
    config = replace(load_hub_config(room() / "hub.toml"), display=False)
    notifier = Notifier(path, watchdog_usec=400_000)  # a ping at least every 0.1 s
    run_hub(config, stop=threading.Event(), seconds=1.5, notifier=notifier)
    messages = drain()
    assert messages[0].startswith("READY=1")
    assert messages.count("WATCHDOG=1") >= 2
    assert messages[-1] == "STOPPING=1"


def test_kiosk_reports_ready_after_its_first_frame(room, systemd_socket) -> None:
    path, drain = systemd_socket
    runtime = KioskRuntime(load_kiosk_config(room() / "kiosk-s1.toml"), SimulatedReader())
    KioskWindow(runtime, notifier=Notifier(path, watchdog_usec=400_000)).run(seconds=1.0)
    messages = drain()
    assert messages[0].startswith("READY=1") and "s1" in messages[0]
    assert "WATCHDOG=1" in messages
    assert messages[-1] == "STOPPING=1"
