"""`stations demo`: a whole room on one machine.

Starts a real Mosquitto on a free loopback port, the hub and up to four kiosks as separate
processes (each its own window, or SDL's dummy driver with ``--headless``), with simulated
students tapping in. At the end it stops the kiosks (they finish the visit and empty their
outboxes), then the hub, and prints what happened.
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
import time
import tomllib
from pathlib import Path

from broker.mosquitto import Mosquitto

log = logging.getLogger(__name__)

ROOM_DIR = Path(__file__).with_name("room")
HEADLESS_DEFAULT_S = 30.0


def _toml_value(value: object) -> str:
    return json.dumps(value)  # a JSON string or number is a valid TOML value


def _write_configs(out: Path, port: int, stations: int) -> tuple[Path, list[Path]]:
    hub_text = (ROOM_DIR / "hub.toml").read_text()
    hub_text = hub_text.replace("port = 1883", f"port = {port}")
    (out / "roster.toml").write_text((ROOM_DIR / "roster.toml").read_text())
    hub_path = out / "hub.toml"
    hub_path.write_text(hub_text)
    hub = tomllib.loads(hub_text)
    kiosks = []
    for station in hub["stations"][:stations]:
        sid = station["id"]
        text = (ROOM_DIR / "kiosk.toml").read_text()
        text = (text.replace('station = "s1"', f"station = {_toml_value(sid)}")
                    .replace('name = "Station 1"', f"name = {_toml_value(station['name'])}")
                    .replace("port = 1883", f"port = {port}")
                    .replace("outbox-s1.db", f"outbox-{sid}.db"))
        path = out / f"kiosk-{sid}.toml"
        path.write_text(text)
        kiosks.append(path)
    return hub_path, kiosks


def _spawn(args: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "stations", *args], stdout=fh, stderr=fh,
                                stdin=subprocess.DEVNULL, env=env)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run_demo(*, seconds: float | None, headless: bool, out: Path | None, stations: int = 4,
             as_json: bool = False, seed: int = 1) -> int:
    stations = max(1, min(4, stations))
    if headless and seconds is None:
        seconds = HEADLESS_DEFAULT_S
    out = (out or Path("demo-out") / time.strftime("%Y%m%d-%H%M%S")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    screens = out / "screens"
    env = dict(os.environ, PYGAME_HIDE_SUPPORT_PROMPT="1")
    if headless:
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    head = ["--headless"] if headless else []

    broker = Mosquitto(workdir=out / "broker")
    (out / "broker").mkdir(exist_ok=True)
    broker.start()
    hub_cfg, kiosk_cfgs = _write_configs(out, broker.port, stations)
    print(f"demo: mosquitto on 127.0.0.1:{broker.port}, output in {out}")
    hub = _spawn(["hub", "--config", str(hub_cfg), *head, "--screenshot",
                  str(screens / "hub.png"), "--stats", str(out / "hub-stats.json")],
                 out / "hub.log", env)
    kiosks = []
    try:
        _wait_for_hub(out / "hub.db", timeout=20)
        for k, cfg in enumerate(kiosk_cfgs):
            sid = cfg.stem.removeprefix("kiosk-")
            kiosks.append(_spawn(["kiosk", "--config", str(cfg), *head,
                                  "--simulate", str(out / "roster.toml"),
                                  "--groups", str(hub_cfg), "--seed",
                                  str(seed * 100 + k), "--screenshots", str(screens),
                                  "--stats", str(out / f"kiosk-{sid}-stats.json")],
                                 out / f"kiosk-{sid}.log", env))
        started = time.monotonic()
        try:
            while hub.poll() is None and (seconds is None
                                          or time.monotonic() - started < seconds):
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
    finally:
        for proc in kiosks:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in kiosks:
            _wait(proc, 40)
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)
        _wait(hub, 20)
        broker.stop()

    summary = _summarise(out, [c.stem.removeprefix("kiosk-") for c in kiosk_cfgs])
    summary["out"] = str(out)
    summary["exit_codes"] = [p.returncode for p in [hub, *kiosks]]
    print(f"taps: {summary['taps']}  check-ins accepted by stations: {summary['checkins']}")
    print(f"stored by the hub: {summary['stored']}  replies received: {summary['replies']}  "
          f"still in outboxes: {summary['pending']}")
    print(f"end-to-end latency: p50 {summary['latency_ms_p50']:.1f} ms, "
          f"p99 {summary['latency_ms_p99']:.1f} ms")
    print(f"screenshots: {', '.join(summary['screenshots'])} in {screens}")
    if as_json:
        print(json.dumps(summary))
    ok = (summary["stored"] == summary["checkins"] == summary["taps"]
          and all(code == 0 for code in summary["exit_codes"]))
    return 0 if ok else 1


def _wait_for_hub(db: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT COUNT(*) FROM students").fetchone()[0] > 0:
                        return
            except sqlite3.Error:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"the hub did not start within {timeout:.0f} s: see {db.parent}/hub.log")


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _summarise(out: Path, station_ids: list[str]) -> dict[str, object]:
    taps = checkins = replies = 0
    latencies: list[float] = []
    for sid in station_ids:
        path = out / f"kiosk-{sid}-stats.json"
        if path.exists():
            stats = json.loads(path.read_text())
            taps += stats["taps"]
            checkins += stats["checkins"]
            replies += stats["replies"]
            latencies += stats["latencies_ms"]
    pending = 0
    for sid in station_ids:
        outbox = out / f"outbox-{sid}.db"
        if outbox.exists():
            with sqlite3.connect(outbox) as conn:
                pending += conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    with sqlite3.connect(out / "hub.db") as conn:
        stored = conn.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
    return {"taps": taps, "checkins": checkins, "stored": stored, "replies": replies,
            "pending": pending,
            "latency_ms_p50": _percentile(latencies, 50),
            "latency_ms_p99": _percentile(latencies, 99),
            "screenshots": sorted(p.name for p in (out / "screens").glob("*.png"))}
