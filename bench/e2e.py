"""Tap to reply, end to end: a check-in saved at the station, stored by the hub, answered,
as the station sees it; next to a bare broker round trip and the floor of this design.

The room as deployed (:class:`stations.deployment.DeployedRoom`): the generated broker config
(TLS, a password per device, the ACL, the hub's loopback listener) on a real Mosquitto, and
``--stations`` real station runtimes (``KioskRuntime``: simulated reader, the real state
machine and buttons, the outbox at synchronous=FULL, paho over TLS with the station's own
credentials), each in its own process as each is its own device, looping as the kiosk window
does (sleep until an event or the next frame). A simulated student taps a badge, answers and
chooses; the figure is the station's own (``KioskStats.latencies_ms``): from the press that
submits the check-in (outbox commit, publish) to the hub's reply being handled there.

The same stations, in the same run, are answered in turn (``--rounds`` turns each, every turn
with its share of the samples, so that all meet the same drift in the machine's load) by:

* ``echo`` (raw round trip): a bare responder on the hub's listener with the hub's
  credentials answers each message at once (``bench/responders.py``): publish, echo, reply.
* ``floor``: the same responder, but it first commits each check-in to SQLite with the hub's
  schema in WAL mode at the given ``synchronous`` level, one transaction each: the least any
  durable hub can do.
* ``hub``: the real hub, started as its systemd unit starts it (INFO logging, display on under
  SDL's dummy driver; ``bench/common.py``), at each ``--synchronous`` level.

At two rates (both with ``--stations`` stations, 6 by default: a rotation has 4 to 6):

* classroom: at every station a student finishes every 3 to 6 s (uniform), tapping 1.5 s
  before submitting: about 1.3 check-ins a second for the room, the busy end of a lesson (a
  whole class of 30 checks in at every change-over, a few times an hour).
* burst: a period change, 30 students in 3 s: every station takes five check-ins 0.6 s apart
  (a puck takes a tap a second; kiosks catching up after Wi-Fi came back do the same), all
  stations together, ``--bursts`` times, 5 s apart.

Target: the hub's p99 at most 2x the floor's p99 (both at synchronous=FULL, the hub's
durability). With ``--json`` the last line is one JSON object: ``e2e_ms_p50``,
``e2e_ms_p99`` (the hub at the first ``--synchronous`` level), ``raw_rtt_ms_p50``,
``raw_rtt_ms_p99``, ``floor_ms_p50``, ``floor_ms_p99``, ``ratio_p99`` (hub p99 / floor p99)
at the classroom rate; the same with a ``burst_`` prefix for bursts; and the same figures at
other levels with a ``_NORMAL``-style suffix.

    python bench/e2e.py [--stations 6] [--samples 200] [--bursts 10]
                        [--synchronous FULL,NORMAL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

ROOM = "e2e-room"
FRAME_S = 1.0 / 30  # the kiosk window's frame while a visit is on screen
#: Stations beyond the demo room's four join the hub's plan with these.
EXTRA_STATIONS = """
[[stations]]
id = "{id}"
name = "Station {n}"
kind = "independent"
activities = [
  {{ id = "read", label = "Read", icon = "book" }},
  {{ id = "draw", label = "Draw", icon = "star" }},
]
"""


# --- a station process ------------------------------------------------------------------------

def run_station(folder: Path, station: str) -> None:
    """One kiosk runtime, driven by JSON lines on stdin; answers on stdout."""
    import logging

    from kiosk.config import load_kiosk_config
    from kiosk.readers.simulated import SimulatedReader
    from kiosk.runtime import KioskRuntime
    from kiosk.screens.base import ScreenId

    logging.basicConfig(level=logging.WARNING)
    rt = KioskRuntime(load_kiosk_config(folder / f"kiosk-{station}.toml"),
                      SimulatedReader(repeat_s=0))
    rt.start()
    commands: queue.Queue[dict[str, object]] = queue.Queue()

    def read_commands() -> None:
        for line in sys.stdin:
            commands.put(json.loads(line))
        commands.put({"cmd": "stop"})

    threading.Thread(target=read_commands, daemon=True).start()
    while not rt.bus.connected:
        rt.wait(FRAME_S)
        rt.step()
    rng = random.Random(station)

    def say(obj: dict[str, object]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    say({"ready": station})
    while True:
        rt.wait(FRAME_S)
        rt.step()
        try:
            command = commands.get_nowait()
        except queue.Empty:
            continue
        if command["cmd"] == "stop":
            break
        # A plan: [tap_at, submit_at, badge] in wall-clock seconds.
        plan = sorted(command["plan"])  # type: ignore[call-overload]
        taps, submits = list(plan), sorted(plan, key=lambda p: p[1])
        before = len(rt.stats.latencies_ms)
        press_ms: list[float] = []
        missed = 0
        deadline = max(p[1] for p in plan) + 30.0
        while (submits or rt.outbox.pending_count()) and time.time() < deadline:
            now = time.time()
            wake = min([FRAME_S] + [max(0.0, p[0] - now) for p in taps[:1]]
                       + [max(0.0, p[1] - now) for p in submits[:1]])
            rt.wait(wake)
            rt.step()
            now = time.time()
            while taps and taps[0][0] <= now:
                rt.reader.tap(taps.pop(0)[2])
                rt.wait(0.0)
                rt.step()
            while submits and submits[0][1] <= now:
                submits.pop(0)
                for _ in range(8):  # answers and the activity: the real buttons
                    buttons = rt.machine.current.buttons(rt.ctx)
                    if rt.machine.screen_id is ScreenId.GO or not buttons:
                        break
                    start = time.perf_counter()
                    rt.press(*rng.choice(buttons).center)
                    if rt.machine.screen_id is ScreenId.GO:  # this press saved and sent it
                        press_ms.append((time.perf_counter() - start) * 1000.0)
                if rt.machine.screen_id is not ScreenId.GO:
                    missed += 1
                rt.machine.update(time.monotonic() + 60)  # the student leaves
        say({"latencies": rt.stats.latencies_ms[before:], "press_ms": press_ms,
             "missed": missed, "unanswered": rt.outbox.pending_count()})
    rt.close()


class Station:
    def __init__(self, folder: Path, station: str, env: dict[str, str]) -> None:
        self.station = station
        log = (folder / f"station-{station}.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, __file__, "--station-process", station,
                                      "--folder", str(folder)], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                     text=True)

    def ask(self, command: dict[str, object]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def answer(self) -> dict[str, object]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"station {self.station} exited: see its log")
        return json.loads(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.ask({"cmd": "stop"})
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- the plans --------------------------------------------------------------------------------

def classroom_plan(stations: list[str], samples: int, badges: list[str], start: float,
                   rng: random.Random) -> dict[str, list[list[object]]]:
    """At every station a student every 3-6 s, tapping 1.5 s before submitting."""
    per_station = -(-samples // len(stations))
    plans: dict[str, list[list[object]]] = {}
    for sid in stations:
        at = start + rng.uniform(0.0, 3.0)
        plan = plans.setdefault(sid, [])
        for _ in range(per_station):
            plan.append([at, at + 1.5, rng.choice(badges)])
            at += rng.uniform(3.0, 6.0)
    return plans


def burst_plan(stations: list[str], bursts: int, badges: list[str], start: float,
               rng: random.Random) -> dict[str, list[list[object]]]:
    """30 students in 3 s, ``bursts`` times: five per station, 0.6 s apart, all together."""
    per_burst = 30 // len(stations)
    plans: dict[str, list[list[object]]] = {sid: [] for sid in stations}
    for b in range(bursts):
        students = rng.sample(badges, min(len(badges), per_burst * len(stations)))
        for j, sid in enumerate(stations):
            for k in range(per_burst):
                submit = start + b * 8.0 + 0.3 + k * 0.6 + rng.uniform(0.0, 0.05)
                plans[sid].append([submit - 0.3, submit,
                                   students[(j * per_burst + k) % len(students)]])
    return plans


# --- the driver -------------------------------------------------------------------------------

def hub_own_synchronous() -> str:
    """The synchronous level the hub's ``open_db`` sets (asked of a scratch database)."""
    from bench.common import SYNC_LEVELS
    from hub.store import open_db

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "probe.db")
        value = db.execute("PRAGMA synchronous").fetchone()[0]
        db.close()
    return {v: k for k, v in SYNC_LEVELS.items()}[value]


class Room:
    def __init__(self, folder: Path, n_stations: int) -> None:
        from bench.common import UNIT_ENV, roster_toml
        from hub.roster import read_roster_file
        from stations.deployment import DeployedRoom

        self.folder = folder
        self.stations = [f"s{k + 1}" for k in range(n_stations)]
        self.room = DeployedRoom(folder, room=ROOM, stations=self.stations).start()
        self.roster = folder / "e2e-roster.toml"
        self.roster.write_text(roster_toml(30))
        self.badges = [e.badges[0] for e in read_roster_file(self.roster)]
        for sid in self.stations:
            self.room.kiosk_config(sid)
        env = dict(os.environ, **UNIT_ENV, PYTHONPATH=str(ROOT))
        self.procs = [Station(folder, sid, env) for sid in self.stations]
        for station in self.procs:
            station.answer()  # connected

    def hub_config(self, name: str, mqtt_process: bool = True) -> Path:
        """The demo room's hub config with every station in its plan and its own database."""
        groups = '\n[[groups]]\nid = "g1"'
        extra = "".join(EXTRA_STATIONS.format(id=sid, n=sid[1:]) for sid in self.stations[4:])
        return self.room.hub_config(name=f"{name}.toml", roster=self.roster, replace={
            'database = "hub.db"': f'database = "{name}.db"', groups: extra + groups},
            settings={"process": mqtt_process})

    def run(self, plans: dict[str, list[list[object]]]) -> dict[str, list[float]]:
        for station in self.procs:
            station.ask({"cmd": "run", "plan": plans[station.station]})
        latencies: list[float] = []
        press: list[float] = []
        missed = unanswered = 0
        for station in self.procs:
            result = station.answer()
            latencies += result["latencies"]  # type: ignore[arg-type]
            press += result["press_ms"]  # type: ignore[arg-type]
            missed += result["missed"]  # type: ignore[operator]
            unanswered += result["unanswered"]  # type: ignore[operator]
        if unanswered:
            raise RuntimeError(f"{unanswered} check-ins were never answered")
        return {"latencies": latencies, "press": press, "missed": [missed]}

    def warm_up(self) -> None:
        """One check-in per station, answered, before anything is measured."""
        start = time.time() + 0.3
        self.run({sid: [[start, start + 0.3, self.badges[k]]]
                  for k, sid in enumerate(self.stations)})

    def close(self) -> None:
        for station in self.procs:
            station.stop()
        self.room.stop()


def _stored(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database) as db:
        return db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]


def measure(room: Room, responder: str, level: str, plans_for: dict[str, object],
            own_level: str, args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    """Start one responder, warm up, run every plan, stop; {plan name: latencies...}."""
    from bench.common import start_hub, stop, wait_connected
    from bench.responders import Responder

    folder = room.folder
    name = responder if responder == "echo" else f"{responder}-{level}"
    database = folder / f"{name}.db"
    stored_before = _stored(database)
    if responder == "hub":
        log = folder / f"{name}.log"
        seen = log.read_text().count(": connected to ") if log.exists() else 0
        proc = start_hub(room.hub_config(name, args.mqtt_process), log, display=args.display,
                         synchronous=None if level == own_level else level)
        try:
            wait_connected(log, seen, proc)
        except RuntimeError:
            stop(proc)
            raise
        stopper = lambda: stop(proc)  # noqa: E731
    else:
        process = Responder(room.room.out / "devices" / "hub" / "mqtt.toml", ROOM, responder,
                            database=database, synchronous=level, log=folder / f"{name}.log")
        stopper = process.stop
    try:
        room.warm_up()
        results = {}
        for plan_name, make in plans_for.items():
            results[plan_name] = room.run(make(time.time() + 1.0))  # type: ignore[operator]
    finally:
        stopper()
    if responder != "echo":
        answered = sum(len(r["latencies"]) for r in results.values()) + len(room.stations)
        stored = _stored(database) - stored_before
        if stored < answered:
            raise RuntimeError(f"{name}: {answered} check-ins answered but {stored} stored")
    return results


def main(argv: list[str] | None = None) -> int:
    from bench.common import run_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=6)
    parser.add_argument("--samples", type=int, default=200,
                        help="check-ins at the classroom rate, per responder")
    parser.add_argument("--bursts", type=int, default=12, help="bursts of 30, per responder")
    parser.add_argument("--rounds", type=int, default=4,
                        help="the responders take turns this many times, each running its "
                             "share of the samples: the machine's load drifts, and this way "
                             "every responder meets the same drift")
    parser.add_argument("--synchronous", default="FULL,NORMAL",
                        help="SQLite levels for the floor and the hub; the first is the one "
                             "the target is checked at")
    parser.add_argument("--responders", default="echo,floor,hub",
                        help="which to run (default all three)")
    parser.add_argument("--display", action=argparse.BooleanOptionalAction, default=True,
                        help="the hub's display on (SDL dummy driver), as deployed")
    parser.add_argument("--mqtt-process", action=argparse.BooleanOptionalAction, default=True,
                        help="the hub's MQTT client in its own process ([broker] process), "
                             "as deployed")
    parser.add_argument("--seed", type=int, default=1)
    run_options(parser, child=True)
    args = parser.parse_args(argv)
    if args.station_process:
        run_station(args.folder, args.station_process)
        return 0
    if not 1 <= args.stations <= 30:
        parser.error("--stations: 1 to 30")

    from bench.common import load, percentile

    levels = [s.strip().upper() for s in args.synchronous.split(",") if s.strip()]
    responders = {s.strip() for s in args.responders.split(",")}
    own = hub_own_synchronous()
    rng = random.Random(args.seed)
    load_before = load()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        folder = (args.keep or Path(tmp)).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        room = Room(folder, args.stations)
        rounds = max(1, args.rounds)
        plans = {
            "classroom": lambda at: classroom_plan(room.stations, -(-args.samples // rounds),
                                                   room.badges, at, rng),
            "burst": lambda at: burst_plan(room.stations, -(-args.bursts // rounds),
                                           room.badges, at, rng),
        }
        order = [(kind, level) for kind in ("echo", "floor", "hub") if kind in responders
                 for level in (levels if kind != "echo" else [""])]
        runs: dict[str, dict[str, dict[str, list[float]]]] = {}
        try:
            for r in range(rounds):
                for kind, level in order[r % len(order):] + order[:r % len(order)]:
                    name = kind if kind == "echo" else f"{kind}-{level}"
                    result = measure(room, kind, level, plans, own, args)
                    for plan_name, values in result.items():
                        into = runs.setdefault(name, {}).setdefault(plan_name, {})
                        for key, v in values.items():
                            into.setdefault(key, []).extend(v)
            runs = {name: runs[name] for name in (k if k == "echo" else f"{k}-{lv}"
                                                  for k, lv in order)}
        finally:
            room.close()

    figures: dict[str, object] = {"stations": args.stations, "samples": args.samples,
                                  "bursts": args.bursts, "rounds": args.rounds,
                                  "hub_own_synchronous": own,
                                  "load_before": load_before, "load_after": load(),
                                  "minutes": round((time.monotonic() - started) / 60, 1)}
    print(f"e2e: {args.stations} stations over TLS with their own passwords, real kiosk "
          f"runtimes; the hub's own setting: synchronous={own}")
    for plan_name in plans:
        prefix = "" if plan_name == "classroom" else f"{plan_name}_"
        print(f"\n{plan_name}: ms at the station, from the press that submits to the reply")
        print(f"{'':24} {'n':>5} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
        for name, result in runs.items():
            values = result[plan_name]["latencies"]
            p50, p90, p99 = (percentile(values, q) for q in (50, 90, 99))
            print(f"{name:24} {len(values):5d} {p50:8.2f} {p90:8.2f} {p99:8.2f} "
                  f"{max(values):8.2f}")
            kind, _, level = name.partition("-")
            key = {"echo": "raw_rtt_ms", "floor": "floor_ms", "hub": "e2e_ms"}[kind]
            suffix = "" if level in ("", levels[0]) else f"_{level}"
            figures[f"{prefix}{key}_p50{suffix}"] = round(p50, 2)
            figures[f"{prefix}{key}_p99{suffix}"] = round(p99, 2)
            figures[f"{prefix}{key}_n{suffix}"] = len(values)
            missed = sum(result[plan_name]["missed"])
            if missed:
                print(f"  ({name}: {missed} students did not get to submit)")
        press = [v for r in runs.values() for v in r[plan_name]["press"]]
        figures[f"{prefix}station_press_ms_p50"] = round(percentile(press, 50), 2)
        figures[f"{prefix}station_press_ms_p99"] = round(percentile(press, 99), 2)
        for level in levels:
            suffix = "" if level == levels[0] else f"_{level}"
            if f"{prefix}e2e_ms_p99{suffix}" not in figures or \
                    f"{prefix}floor_ms_p99{suffix}" not in figures:
                continue
            ratio = (figures[f"{prefix}e2e_ms_p99{suffix}"]  # type: ignore[operator]
                     / figures[f"{prefix}floor_ms_p99{suffix}"])
            figures[f"{prefix}ratio_p99{suffix}"] = round(ratio, 3)
            print(f"hub p99 / floor p99 at synchronous={level}: {ratio:.2f}  (target ≤ 2)")
        print(f"the submitting press at the station (outbox commit + publish), p50 / p99: "
              f"{figures[f'{prefix}station_press_ms_p50']} / "
              f"{figures[f'{prefix}station_press_ms_p99']} ms")
    print(f"\nload average before {load_before}, after {figures['load_after']}; "
          f"{figures['minutes']} min")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
