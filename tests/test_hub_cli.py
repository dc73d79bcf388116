"""`stations hub` as a person runs it in a terminal: without a broker it says so once, with
what to do; Ctrl-C stops it cleanly (its MQTT process is not killed under it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from broker.mosquitto import free_port
from tests.conftest import ROOM, wait_until


def test_without_a_broker_it_says_once_which_and_what_to_do(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    text = (ROOM / "hub.toml").read_text().replace("port = 1883", f"port = {port}")
    (tmp_path / "hub.toml").write_text(text)
    (tmp_path / "roster.toml").write_text((ROOM / "roster.toml").read_text())
    proc = subprocess.run([sys.executable, "-m", "stations", "hub", "--no-display",
                           "--seconds", "7"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    problems = [line for line in proc.stderr.splitlines() if "cannot connect" in line]
    # paho retried (after 1, 2 and 4 s) without a word; the diagnosis came once.
    assert len(problems) == 1, proc.stderr
    line = problems[0]
    assert f"127.0.0.1:{port}" in line and "plain (loopback) listener" in line
    assert "stations demo" in line and "mosquitto" in line and "Retrying" in line
    assert " ERROR " not in proc.stderr, proc.stderr


@pytest.mark.broker
def test_ctrl_c_in_a_terminal_stops_the_hub_cleanly(room: Callable[..., Path]) -> None:
    """A terminal's Ctrl-C reaches the hub and its MQTT process at once: the MQTT process
    must leave it to the hub, which says goodbye (retained offline status) and exits 0."""
    folder = room()
    log_path = folder / "hub-terminal.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "stations", "hub", "--no-display",
                                 "--config", str(folder / "hub.toml")], cwd=folder,
                                stdout=log, stderr=log, start_new_session=True)
    try:
        assert wait_until(lambda: "connected to" in log_path.read_text(), timeout=30), \
            log_path.read_text()
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # the whole foreground group, as a terminal does
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log_path.read_text()
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert "exited unexpectedly" not in text, text
    broker_log = (folder / "mosquitto.log").read_text()
    assert "Client hub disconnected." in broker_log  # a clean DISCONNECT, not a lost socket
