"""`stations demo --headless --seconds 15`: the whole room, as a newcomer would run it, on the
room's generated broker config (TLS, a password per device, the ACL)."""

from __future__ import annotations

import json
import subprocess
import sys
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
