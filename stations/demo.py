"""`stations demo`: a whole room on one machine, as IT deploys it.

Generates the room's broker configuration with the project's own generator and runs a real
Mosquitto with it (TLS with the room CA, a password per device, the ACL, the hub's loopback
listener; only ports and paths are this machine's), then the hub and up to four kiosks as
separate processes (each its own window, or SDL's dummy driver with ``--headless``), each
connecting with its own credentials, with simulated students tapping in. The demo's lesson
runs short blocks so that warnings and moves go out while you watch. At the end it stops
the kiosks (they finish the visit and empty their outboxes), then the hub, and prints what
happened.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

from stations.deployment import DEMO_ROOM, ROOM_DIR, DeployedRoom
from stations.errors import StationsError
from stations.lifecycle import child_options, stop_on_signals
from stations.ui.window import WindowGeometry

log = logging.getLogger(__name__)

HEADLESS_DEFAULT_S = 30.0
#: The demo's blocks are short so that warnings and moves happen while someone watches.
DEMO_BLOCK_MINUTES = 2.0
#: The demo hub's teacher PIN (a real room's is set with `stations teacher pin`).
DEMO_PIN = "1234"
#: The demo console's teacher account (a real room's come from `stations teacher add`).
DEMO_TEACHER, DEMO_PASSWORD = "teacher", "classroom demo"
#: A kiosk's window at most (the 7-inch display); smaller to fit the room on one screen.
KIOSK_SIZE = (800, 480)
#: Between windows; above each, a desktop's title bar; at the top and bottom, its panels.
GAP, TITLE_H, PANEL_H = 8, 32, 40


def _write_configs(room: DeployedRoom, block_minutes: float) -> tuple[Path, list[Path]]:
    from hub.console.accounts import Account, hash_password, write_accounts
    from hub.pin import hash_pin

    template = (ROOM_DIR / "hub.toml").read_text()
    hub_path = room.hub_config(replace={
        "block_minutes = 12": f"block_minutes = {block_minutes:g}",
        "transition_minutes = 1": f"transition_minutes = {block_minutes / 8:g}",
        "warning_minutes = 2": f"warning_minutes = {block_minutes / 4:g}",
        "# teacher_pin_hash = \"$scrypt$ln=15,r=8,p=1$...\"":
            f"teacher_pin_hash = \"{hash_pin(DEMO_PIN)}\"",
    }, console={})
    write_accounts(room.folder / "teachers.toml", {DEMO_TEACHER: Account(
        DEMO_TEACHER, hash_password(DEMO_PASSWORD))})
    names = {s["id"]: s["name"] for s in tomllib.loads(template)["stations"]}
    kiosks = [room.kiosk_config(sid, display_name=names.get(sid, sid))
              for sid in room.stations]
    return hub_path, kiosks


def room_layout(screen: tuple[int, int], stations: int) -> tuple[WindowGeometry,
                                                                 list[WindowGeometry]]:
    """Where the windows go on a screen: the hub at the front of the room, the stations in a
    row below it, none overlapping, each with room for a desktop's title bar above it."""
    w, h = screen
    n = max(1, stations)
    avail_h = h - PANEL_H * 2
    # The stations' row takes at most a third of the height: the hub is the front of the room.
    kw = min(KIOSK_SIZE[0], (w - GAP * (n + 1)) // n,
             (avail_h // 3 - TITLE_H) * KIOSK_SIZE[0] // KIOSK_SIZE[1])
    kh = kw * KIOSK_SIZE[1] // KIOSK_SIZE[0]
    hub_h = min(avail_h - (TITLE_H + kh) - GAP - TITLE_H, (w - 2 * GAP) * 9 // 16)
    hub_w = hub_h * 16 // 9
    if hub_w < 320 or kw < 160:
        raise StationsError(f"a {w}x{h} screen is too small for the demo's room; use "
                            "--headless")
    hub = WindowGeometry(hub_w, hub_h, (w - hub_w) // 2, PANEL_H + TITLE_H)
    row_y = hub.bottom + GAP + TITLE_H
    left = (w - (n * kw + (n - 1) * GAP)) // 2
    kiosks = [WindowGeometry(kw, kh, left + k * (kw + GAP), row_y) for k in range(n)]
    return hub, kiosks


def _screen_size() -> tuple[int, int] | None:
    """The size of the screen the windows open on (the first one); None without a screen
    (SDL then falls back to drawing off screen)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None  # no desktop (a console, ssh): SDL would only draw off screen
    import pygame

    try:
        pygame.display.init()
        sizes = pygame.display.get_desktop_sizes()
        driver = pygame.display.get_driver()
    except pygame.error:
        return None
    finally:
        pygame.display.quit()
    return sizes[0] if sizes and driver not in ("offscreen", "dummy") else None


def _spawn(args: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Each service in a process group of its own: a terminal's Ctrl-C reaches only the demo,
    # which stops the room in order. Each also ends if the demo is killed.
    with log_path.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "stations", *args], stdout=fh, stderr=fh,
                                stdin=subprocess.DEVNULL, env=env, **child_options())


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (inclusive method; nan for no values): the demo's summary and
    the benchmarks use it."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run_demo(*, seconds: float | None, headless: bool, out: Path | None, stations: int = 4,
             as_json: bool = False, seed: int = 1,
             block_minutes: float = DEMO_BLOCK_MINUTES) -> int:
    stations = max(1, min(4, stations))
    hub_place: WindowGeometry | None = None
    kiosk_places: list[WindowGeometry | None] = [None] * stations
    if not headless:
        screen = _screen_size()
        if screen is None:
            print("demo: no screen to open windows on (is DISPLAY set?): running headless; "
                  "the pictures go to the output folder")
            headless = True
        else:
            hub_place, placed = room_layout(screen, stations)
            kiosk_places = list(placed)
    if headless and seconds is None:
        seconds = HEADLESS_DEFAULT_S
    out = (out or Path("demo-out") / time.strftime("%Y%m%d-%H%M%S")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    screens = out / "screens"
    env = dict(os.environ, PYGAME_HIDE_SUPPORT_PROMPT="1")
    if headless:
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    head = ["--headless"] if headless else []
    stop = threading.Event()
    stop_on_signals(stop.set)

    ids = [s["id"] for s in tomllib.loads((ROOM_DIR / "hub.toml").read_text())["stations"]]
    room = DeployedRoom(out, room=DEMO_ROOM, stations=ids[:stations]).start()
    hub_cfg, kiosk_cfgs = _write_configs(room, block_minutes)
    print(f"demo: room {room.room} on Mosquitto with its generated config (stations over TLS "
          f"on 127.0.0.1:{room.tls_port}, the hub on loopback :{room.local_port}, a password "
          f"per device, the ACL), output in {out}; the teacher view's PIN is {DEMO_PIN}")
    from hub.config import load_hub_config

    console = load_hub_config(hub_cfg).console
    print(f"demo: the teacher console is at https://127.0.0.1:{console.port} (sign in as "
          f"{DEMO_TEACHER!r} with {DEMO_PASSWORD!r}; the browser trusts it once you import "
          f"the room CA, {room.out / 'broker' / 'ca.crt'})")
    if not headless:
        print("demo: close the hub's window or press Ctrl-C to stop", flush=True)
    hub_png = screens / "hub.png"
    hub = _spawn(["hub", "--config", str(hub_cfg), *head, "--screenshot", str(hub_png),
                  "--stats", str(out / "hub-stats.json"), "--close-asks-parent",
                  *_window(hub_place)], out / "hub.log", env)
    kiosks: list[subprocess.Popen[bytes]] = []
    try:
        if _wait_for_hub(out / "hub.db", hub, stop, timeout=20):
            for k, cfg in enumerate(kiosk_cfgs):
                sid = cfg.stem.removeprefix("kiosk-")
                kiosks.append(_spawn(["kiosk", "--config", str(cfg), *head,
                                      "--simulate", str(out / "roster.toml"),
                                      "--groups", str(hub_cfg), "--seed",
                                      str(seed * 100 + k), "--screenshots", str(screens),
                                      "--stats", str(out / f"kiosk-{sid}-stats.json"),
                                      *_window(kiosk_places[k])],
                                     out / f"kiosk-{sid}.log", env))
            started = time.monotonic()
            while not stop.is_set() and hub.poll() is None and (
                    seconds is None or time.monotonic() - started < seconds):
                stop.wait(0.2)
    finally:
        _stop_room(hub, kiosks, room, hub_png)

    summary = _summarise(out, [c.stem.removeprefix("kiosk-") for c in kiosk_cfgs])
    summary["out"] = str(out)
    summary["exit_codes"] = [p.returncode for p in [hub, *kiosks]]
    print(f"taps: {summary['taps']}  check-ins accepted by stations: {summary['checkins']}")
    print(f"stored by the hub: {summary['stored']}  replies received: {summary['replies']}  "
          f"still in outboxes: {summary['pending']}")
    print(f"end-to-end latency: p50 {summary['latency_ms_p50']:.1f} ms, "
          f"p99 {summary['latency_ms_p99']:.1f} ms")
    print(notices_line(summary))
    print(f"screenshots: {', '.join(summary['screenshots'])} in {screens}")
    if as_json:
        print(json.dumps(summary))
    ok = (summary["stored"] == summary["checkins"] == summary["taps"]
          and summary["broker_refused"] == 0
          and all(code == 0 for code in summary["exit_codes"]))
    return 0 if ok else 1


def notices_line(summary: dict[str, object]) -> str:
    """What the hub sent and what the stations heard, counting only the stations that were
    there: the lesson's first "move" goes out before any kiosk has connected."""
    before = (f" ({summary['notices_unheard']} before any station connected)"
              if summary["notices_unheard"] else "")
    return (f"notices sent by the hub: {summary['notices_sent']}{before}  due at the stations "
            f"connected: {summary['notices_due']}  received: {summary['notices_received']}  "
            f"refused by the broker: {summary['broker_refused']}")


def _window(place: WindowGeometry | None) -> list[str]:
    return [] if place is None else ["--window", str(place)]


def _stop_room(hub: subprocess.Popen[bytes], kiosks: list[subprocess.Popen[bytes]],
               room: DeployedRoom, hub_png: Path) -> None:
    """Stop in order: the hub's last picture while every station is connected; the students
    (each station finishes its visit and empties its outbox); the stations; the hub; the
    broker last."""
    print("demo: stopping the room: students stop, stations empty their outboxes, then the "
          "hub and the broker", flush=True)
    if hub.poll() is None and kiosks:
        before = hub_png.stat().st_mtime_ns if hub_png.exists() else 0
        hub.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and hub.poll() is None and (
                (hub_png.stat().st_mtime_ns if hub_png.exists() else 0) == before):
            time.sleep(0.05)
    for proc in kiosks:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in kiosks:
        _wait(proc, 40)
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
    _wait(hub, 20)
    room.stop()


def _wait_for_hub(db: Path, hub: subprocess.Popen[bytes], stop: threading.Event,
                  timeout: float) -> bool:
    """True once the hub has loaded its roster; False if stopped first; raises if the hub
    died or took too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop.is_set():
            return False
        if hub.poll() is not None:
            raise StationsError(f"the hub exited at start (code {hub.returncode}): see "
                                f"{db.parent}/hub.log")
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT COUNT(*) FROM students").fetchone()[0] > 0:
                        return True
            except sqlite3.Error:
                pass
        time.sleep(0.1)
    raise StationsError(f"the hub did not start within {timeout:.0f} s: see "
                        f"{db.parent}/hub.log")


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _summarise(out: Path, station_ids: list[str]) -> dict[str, object]:
    taps = checkins = replies = notices = 0
    latencies: list[float] = []
    for sid in station_ids:
        path = out / f"kiosk-{sid}-stats.json"
        if path.exists():
            stats = json.loads(path.read_text())
            taps += stats["taps"]
            checkins += stats["checkins"]
            replies += stats["replies"]
            notices += stats["notices"]
            latencies += stats["latencies_ms"]
    pending = 0
    for sid in station_ids:
        outbox = out / f"outbox-{sid}.db"
        if outbox.exists():
            with sqlite3.connect(outbox) as conn:
                pending += conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    with sqlite3.connect(out / "hub.db") as conn:
        stored = conn.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
    hub_stats_path = out / "hub-stats.json"
    hub_stats = json.loads(hub_stats_path.read_text()) if hub_stats_path.exists() else {}
    return {"taps": taps, "checkins": checkins, "stored": stored, "replies": replies,
            "pending": pending, "notices_sent": hub_stats.get("notices_sent", 0),
            "notices_unheard": hub_stats.get("notices_unheard", 0),
            "notices_due": hub_stats.get("notices_due", 0), "notices_received": notices,
            # Unknown (no stats file) counts as a problem, not as zero.
            "broker_refused": hub_stats.get("broker_refused", -1),
            "latency_ms_p50": percentile(latencies, 50),
            "latency_ms_p99": percentile(latencies, 99),
            "screenshots": sorted(p.name for p in (out / "screens").glob("*.png"))}
