"""`stations demo --headless --seconds 15`: the whole room, as a newcomer would run it, on the
room's generated broker config (TLS, a password per device, the ACL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pygame
import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def test_headless_demo_stores_every_tap(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "stations", "--log-level", "WARNING", "demo",
                           "--headless", "--seconds", "15", "--out", str(out), "--json",
                           # Blocks of 12 s: a warning and a move reach the stations.
                           "--block-minutes", "0.2"],
                          cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("taps", "stored", "replies", "latency_ms_p50", "latency_ms_p99"):
        assert key in summary
    assert summary["taps"] > 10
    assert summary["stored"] == summary["taps"] == summary["replies"]
    assert summary["pending"] == 0
    assert 0 < summary["latency_ms_p50"] <= summary["latency_ms_p99"]
    assert "stored by the hub" in proc.stdout
    # Notices went out, every station received them, the ACL refused nothing.
    assert summary["broker_refused"] == 0
    assert summary["notices_sent"] >= 2 and summary["notices_received"] >= 4
    # As deployed: stations over TLS with their own passwords, the hub on loopback.
    conf = (out / "room-config" / "broker" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "certfile" in conf
    for station in ("s1", "s2", "s3", "s4"):
        kiosk = (out / f"kiosk-{station}.toml").read_text()
        assert f'username = "{station}"' in kiosk and "ca_file" in kiosk
    shots = {p.name for p in (out / "screens").glob("*.png")}
    for station in ("s1", "s2", "s3", "s4"):
        for screen in ("idle", "welcome", "reflection", "choice", "go"):
            assert f"kiosk-{station}-{screen}.png" in shots
    hub = pygame.image.load(str(out / "screens" / "hub.png"))
    assert hub.get_size() == (1280, 720)  # the demo room's window
    colours = {hub.get_at((x, y))[:3] for x in range(0, 1280, 8) for y in range(0, 720, 8)}
    assert len(colours) > 8  # bar, cards, names, icons: not a blank window


def _logs_are_clean(out: Path) -> None:
    logs = sorted(out.glob("*.log"))
    assert {p.name for p in logs} >= {"hub.log", "kiosk-s1.log", "mosquitto.log"}
    for path in logs:
        text = path.read_text(errors="replace")
        assert "Traceback" not in text, f"{path.name}:\n{text[-3000:]}"
        assert "exited unexpectedly" not in text, path.name  # the hub's MQTT process
        assert "cannot connect" not in text, path.name  # nobody diagnosed the broker
        assert "KeyboardInterrupt" not in text, path.name


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_demo_stops_cleanly_on_ctrl_c_and_sigterm(tmp_path: Path, how: str) -> None:
    """Ctrl-C (SIGINT to the whole foreground process group, as a terminal sends it) and
    SIGTERM (to the demo, as a service manager sends it) both stop the room in order: every
    tap stored, outboxes empty, the summary printed, exit 0, no traceback in any log."""
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "stations", "--log-level", "WARNING",
                             "demo", "--headless", "--seconds", "300", "--out", str(out),
                             "--json", "--block-minutes", "0.2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own group, like a terminal's job
    try:
        deadline = time.monotonic() + 60
        # Under way: some check-ins stored by the hub.
        while time.monotonic() < deadline and not any(
                "acknowledged by the hub" in p.read_text(errors="replace")
                for p in out.glob("kiosk-*.log")):
            time.sleep(0.2)
        time.sleep(3)
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, stdout + stderr
    assert "Traceback" not in stderr, stderr
    assert "stored by the hub" in stdout
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["taps"] >= 1
    assert summary["stored"] == summary["taps"] == summary["replies"]
    assert summary["pending"] == 0
    assert summary["exit_codes"] == [0, 0, 0, 0, 0]
    _logs_are_clean(out)
    # Stopped in order, as the broker saw it: the stations left, then the hub, then the broker.
    lines = (out / "mosquitto.log").read_text().splitlines()

    def when(text: str) -> int:
        return next(k for k, line in enumerate(lines) if text in line)
    hub_left = when("Client hub disconnected")
    assert all(when(f"Client {s} disconnected") < hub_left for s in ("s1", "s2", "s3", "s4"))
    assert hub_left < when("terminating")
