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

from stations.demo import notices_line
from tests.conftest import REPO
from tests.xserver import VirtualScreen, Window, have_xvfb

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def test_thenotices_line_counts_only_what_stations_could_hear() -> None:
    """The lesson's first move goes out before the kiosks connect: said so, not shown as
    a notice the stations lost."""
    early = {"notices_sent": 1, "notices_unheard": 1, "notices_due": 0,
             "notices_received": 0, "broker_refused": 0}
    assert notices_line(early).startswith(
        "notices sent by the hub: 1 (1 before any station connected)  due at the stations "
        "connected: 0  received: 0")
    later = {**early, "notices_sent": 3, "notices_due": 8, "notices_received": 8}
    assert "3 (1 before any station connected)  due at the stations connected: 8  " \
           "received: 8" in notices_line(later)
    assert "before" not in notices_line({**later, "notices_unheard": 0})


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
    # Notices went out, every station connected then received them, the ACL refused nothing.
    assert summary["broker_refused"] == 0
    assert summary["notices_sent"] >= 2 and summary["notices_due"] >= 4
    assert summary["notices_received"] >= summary["notices_due"]  # QoS 1: at least once
    assert notices_line(summary) in proc.stdout
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
    # The hub's picture was taken with the room live: every station connected in it.
    hub_stats = json.loads((out / "hub-stats.json").read_text())
    assert hub_stats["pictured_online"] == ["s1", "s2", "s3", "s4"]
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
    hub_stats = json.loads((out / "hub-stats.json").read_text())
    assert hub_stats["pictured_online"] == ["s1", "s2", "s3", "s4"]  # taken before the stop
    # Stopped in order, as the broker saw it: the stations left, then the hub, then the broker.
    lines = (out / "mosquitto.log").read_text().splitlines()

    def when(text: str) -> int:
        return next(k for k, line in enumerate(lines) if text in line)
    hub_left = when("Client hub disconnected")
    assert all(when(f"Client {s} disconnected") < hub_left for s in ("s1", "s2", "s3", "s4"))
    assert hub_left < when("terminating")


def test_room_layout_fits_every_common_screen() -> None:
    from stations.demo import room_layout

    for screen in ((1920, 1080), (1680, 1050), (1600, 900), (1440, 900), (1366, 768)):
        for n in (1, 2, 4):
            hub, kiosks = room_layout(screen, n)
            windows = [hub, *kiosks]
            for k, a in enumerate(windows):
                assert (a.x or 0) >= 0 and a.right <= screen[0] and a.bottom <= screen[1]
                assert not any(a.overlaps(b) for b in windows[k + 1:]), (screen, n)
            assert all(k.w * 3 == k.h * 5 or abs(k.w * 3 - k.h * 5) < 5 for k in kiosks)
            assert hub.w >= 720 and all(k.w >= 320 for k in kiosks)


@pytest.mark.skipif(not have_xvfb() and os.environ.get("CI") != "true",
                    reason="Xvfb is not installed (scripts/setup.sh installs it in CI)")
def test_windowed_demo_is_a_room_on_one_screen(tmp_path: Path) -> None:
    """The demo with windows, on a virtual 1366x768 screen (the smallest it is made for):
    the hub and four kiosks side by side, none overlapping, all on screen, each titled."""
    from stations.demo import room_layout

    out = tmp_path / "demo"
    with VirtualScreen((1366, 768)) as screen:
        proc = subprocess.Popen([sys.executable, "-m", "stations", "--log-level", "WARNING",
                                 "demo", "--seconds", "40", "--out", str(out),
                                 "--block-minutes", "0.2"],
                                cwd=REPO, env=screen.environment(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            titles = {"Classroom hub · room demo-room", "Teacher table · station s1",
                      "Computers · station s2", "Team table · station s3",
                      "Quiet corner · station s4"}
            deadline = time.monotonic() + 60
            windows: dict[str, Window] = {}
            while time.monotonic() < deadline and proc.poll() is None:
                windows = {w.title: w for w in screen.windows()}
                if set(windows) >= titles:
                    break
                time.sleep(0.5)
            assert set(windows) >= titles, (windows, proc.poll())
            placed = [windows[t] for t in sorted(titles)]
            for k, a in enumerate(placed):
                assert a.x >= 0 and a.y >= 0 and a.x + a.w <= 1366 and a.y + a.h <= 768, a
                for b in placed[k + 1:]:
                    assert not a.overlaps(b), (a, b)
            hub_place, kiosk_places = room_layout((1366, 768), 4)
            hub = windows["Classroom hub · room demo-room"]
            assert (hub.x, hub.y, hub.w, hub.h) == (hub_place.x, hub_place.y, hub_place.w,
                                                    hub_place.h)
            kiosks = [windows[t] for t in sorted(titles) if "station" in t]
            assert sorted((k.x, k.y, k.w, k.h) for k in kiosks) == sorted(
                (p.x, p.y, p.w, p.h) for p in kiosk_places)
            # Drawn, not blank: the screen's picture has the room's colours in every window.
            time.sleep(3)
            picture = pygame.image.load(str(screen.save(tmp_path / "room.png")))
            for w in placed:
                colours = {picture.get_at((x, y))[:3] for x in range(w.x, w.x + w.w, 7)
                           for y in range(w.y, w.y + w.h, 7)}
                assert len(colours) > 6, w.title
            stdout, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 0, stdout
    assert "stored by the hub" in stdout
    _logs_are_clean(out)
