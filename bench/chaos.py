"""Nothing lost, nothing doubled: check-ins through broker crashes, killed processes, power cuts.

The room as deployed (:class:`stations.deployment.DeployedRoom`): the room's generated broker
configuration on a real Mosquitto (TLS, a password per device, the ACL, the hub's loopback
listener), ``--stations`` stations (real KioskRuntimes: outbox, paho client over TLS with
their own credentials, state machine; no window) in a few processes, and the real hub service
(``stations hub --headless``, logging as its systemd unit does) on the loopback listener with
its own credentials. Stations make check-ins at a classroom's rate for ``--minutes``.
Meanwhile a driver, at random times from ``--seed``, does one of:

    broker restart  SIGTERM (Mosquitto saves its sessions and queues), a pause, start
    broker kill     SIGKILL: Mosquitto loses every session and queued message since its last
                    autosave (the generated config saves every 10 s); a pause, start
    hub+broker kill the hub SIGKILLed, check-ins queue for it in the broker for a few seconds,
                    then the broker SIGKILLed with them; both start again
    hub kill        SIGKILL to the hub and its MQTT process, a pause, start
    station kill    SIGKILL to one station process (mid-send as often as not), restart it
    room crash      a power cut: hub, broker and every station SIGKILLed at the same instant,
                    the room dark for a moment, then everything starts again

Then the stations stop tapping and empty their outboxes, and every check-in a station
accepted into its outbox is looked up in the hub's database:

    accepted   check-ins stations accepted (their outbox commit)
    stored     of those, stored by the hub
    lost       accepted but not stored               (target 0)
    duplicated the same check-in stored more than once (target 0)

A real power cut also loses what the operating system had not yet written to disk; killed
processes do not. That part rests on SQLite's synchronous=FULL on both sides (the station's
outbox and the hub's store), which this run cannot show.

With ``--json`` the last line is one JSON object with those keys and the disruption counts
(``broker_restarts``, ``broker_kills``, ``hub_kills``, ``station_kills``, ``room_crashes``).
``--plan hub-broker-kill,room-crash`` replaces the random choice with that sequence, repeated.

    python bench/chaos.py [--minutes 3] [--stations 30] [--seed 7] [--every 12] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

PER_PROCESS = 6
ROOM = "chaos-room"
DISRUPTIONS = ("broker-restart", "broker-kill", "hub-broker-kill", "hub-kill", "station-kill",
               "room-crash")
#: How often each is drawn: stations are many, so they crash most.
WEIGHTS = (2, 1, 1, 2, 3, 1)


# --- a station process ------------------------------------------------------------------------

def run_stations(folder: Path, stations: list[str], seed: int) -> None:
    """Run several station runtimes until SIGTERM, then drain their outboxes and exit."""
    import logging

    from hub.roster import read_roster_file
    from kiosk.config import load_kiosk_config
    from kiosk.readers.simulated import SimulatedReader
    from kiosk.runtime import KioskRuntime
    from kiosk.screens.base import ScreenId

    logging.basicConfig(level=logging.ERROR)
    badges = [e.badges[0] for e in read_roster_file(folder / "roster.toml")]
    rng = random.Random(seed)
    runtimes, logs, next_at = [], [], []
    for sid in stations:
        rt = KioskRuntime(load_kiosk_config(folder / f"kiosk-{sid}.toml"),
                          SimulatedReader(repeat_s=0))
        log = (folder / f"accepted-{sid}.log").open("a+")
        log.seek(0)
        logged = set(log.read().split())
        for pending in rt.outbox.all():  # accepted before a kill, not yet written down
            if pending.id not in logged:
                log.write(pending.id + "\n")
        log.flush()
        os.fsync(log.fileno())
        rt.start()
        runtimes.append(rt)
        logs.append(log)
        next_at.append(time.monotonic() + rng.uniform(0.5, 4.0))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    stop_at = None
    while True:
        now = time.monotonic()
        for k, rt in enumerate(runtimes):
            rt.step()
            if not stopping and now >= next_at[k]:
                next_at[k] = now + rng.uniform(3.0, 8.0)  # a student every few seconds
                rt.reader.tap(rng.choice(badges))
                rt.step()
                for _ in range(3):  # next, one answer, one activity: the real buttons
                    buttons = rt.machine.current.buttons(rt.ctx)
                    if not buttons or rt.machine.screen_id is ScreenId.GO:
                        break
                    rt.press(*rng.choice(buttons).center)
                if rt.machine.screen_id is ScreenId.GO and rt.ctx.visit is not None:
                    logs[k].write(rt.ctx.visit.checkin_id + "\n")
                    logs[k].flush()
                    os.fsync(logs[k].fileno())
                rt.machine.update(now + 60)  # the student leaves
        if stopping:
            stop_at = stop_at or now
            if all(rt.outbox.pending_count() == 0 for rt in runtimes) or now - stop_at > 90:
                break
        time.sleep(0.02)
    for rt in runtimes:
        rt.close()


# --- the driver -------------------------------------------------------------------------------

def _kill_group(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a process and everything it started (the hub's MQTT process): no clean-up."""
    if proc is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


class ChaosRoom:
    """The deployed room, its hub and its station processes, and the ways to break them."""

    def __init__(self, folder: Path, n_stations: int, seed: int) -> None:
        from bench.common import UNIT_ENV
        from stations.deployment import DeployedRoom

        self.folder = folder
        ids = [f"st-{i:02d}" for i in range(n_stations)]
        self.room = DeployedRoom(folder, room=ROOM, stations=ids).start()
        self.hub_config = self.room.hub_config()
        for sid in ids:
            self.room.kiosk_config(sid)
        # As the systemd units run them: Python unbuffered, no screen here.
        self.env = dict(os.environ, **UNIT_ENV, PYTHONPATH=str(ROOT))
        self.hub: subprocess.Popen[bytes] | None = None
        self.groups = [ids[i:i + PER_PROCESS] for i in range(0, len(ids), PER_PROCESS)]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(self.groups)
        self.seed = seed
        self.starts = 0
        self.counts = {"broker_restarts": 0, "broker_kills": 0, "hub_kills": 0,
                       "station_kills": 0, "room_crashes": 0}

    # --- starting ---------------------------------------------------------------------------

    def start_hub(self) -> None:
        from bench.common import start_hub

        self.hub = start_hub(self.hub_config, self.folder / "hub.log")

    def start_stations(self, k: int) -> None:
        self.starts += 1
        with (self.folder / f"stations-{k}.log").open("ab") as log:
            self.procs[k] = subprocess.Popen(
                [sys.executable, __file__, "--station-process", ",".join(self.groups[k]),
                 "--folder", str(self.folder), "--seed", str(self.seed * 1000 + self.starts)],
                cwd=ROOT, env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True)

    def start_all_stations(self) -> None:
        for k in range(len(self.groups)):
            self.start_stations(k)

    # --- breaking ---------------------------------------------------------------------------

    def disrupt(self, what: str, rng: random.Random) -> None:
        broker = self.room.broker
        if what == "broker-restart":
            broker.stop()
            time.sleep(rng.uniform(1.0, 5.0))
            broker.start()
            self.counts["broker_restarts"] += 1
        elif what == "broker-kill":
            broker.kill()
            time.sleep(rng.uniform(1.0, 5.0))
            broker.start()
            self.counts["broker_kills"] += 1
        elif what == "hub-broker-kill":
            self.kill_hub()
            time.sleep(rng.uniform(2.0, 6.0))  # check-ins queue for the hub in the broker...
            broker.kill()  # ...and are lost with it
            time.sleep(rng.uniform(1.0, 3.0))
            broker.start()
            self.start_hub()
            self.counts["hub_kills"] += 1
            self.counts["broker_kills"] += 1
        elif what == "hub-kill":
            self.kill_hub()
            time.sleep(rng.uniform(0.5, 3.0))
            self.start_hub()
            self.counts["hub_kills"] += 1
        elif what == "station-kill":
            k = rng.randrange(len(self.procs))
            _kill_group(self.procs[k])
            self.procs[k].wait()  # type: ignore[union-attr]
            time.sleep(rng.uniform(0.2, 2.0))
            self.start_stations(k)
            self.counts["station_kills"] += 1
        elif what == "room-crash":
            self.power_cut()
            time.sleep(rng.uniform(1.0, 4.0))  # the room is dark
            broker.start()  # the hub boots: Mosquitto, then the hub service
            self.start_hub()
            self.start_all_stations()
            self.counts["room_crashes"] += 1
        else:
            raise ValueError(f"unknown disruption {what!r}")

    def kill_hub(self) -> None:
        _kill_group(self.hub)
        if self.hub is not None:
            self.hub.wait()

    def power_cut(self) -> None:
        """Every process of the room SIGKILLed in one go, then reaped."""
        victims = [self.hub, *self.procs]
        broker = self.room.broker
        if broker.running:
            os.kill(broker.pid, signal.SIGKILL)  # type: ignore[arg-type]
        for proc in victims:
            _kill_group(proc)
        broker.kill()  # reaps it
        for proc in victims:
            if proc is not None:
                proc.wait()

    def finish(self) -> None:
        if not self.room.broker.running:
            self.room.broker.start()
        for proc in self.procs:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                try:
                    proc.wait(120)
                except subprocess.TimeoutExpired:
                    _kill_group(proc)
        if self.hub is not None:
            self.hub.send_signal(signal.SIGTERM)
            try:
                self.hub.wait(30)
            except subprocess.TimeoutExpired:
                _kill_group(self.hub)
        for proc in [self.hub, *self.procs]:  # nothing left behind, whatever happened
            _kill_group(proc)
        self.room.stop()


def tally(folder: Path) -> dict[str, int]:
    accepted: set[str] = set()
    for log in folder.glob("accepted-*.log"):
        accepted |= set(log.read_text().split())
    with sqlite3.connect(folder / "hub.db") as db:
        stored_ids = {row[0] for row in db.execute("SELECT id FROM checkins")}
        unknown = {row[0] for row in db.execute("SELECT id FROM unknown_badges")}
        # the same check-in twice would be the same station, badge and tap time twice
        duplicated = db.execute(
            "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM checkins "
            "GROUP BY station, badge, tapped_at HAVING n > 1)").fetchone()[0]
    stored = accepted & (stored_ids | unknown)
    pending = 0
    for outbox in folder.glob("outbox-*.db"):
        with sqlite3.connect(outbox) as db:
            pending += db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    return {"accepted": len(accepted), "stored": len(stored),
            "lost": len(accepted - stored), "duplicated": int(duplicated),
            "stored_not_accepted": len((stored_ids | unknown) - accepted),
            "left_in_outboxes": pending}


def _schedule(plan: list[str] | None, rng: random.Random) -> Iterator[str]:
    if plan:
        yield from itertools.cycle(plan)
    while True:
        yield rng.choices(DISRUPTIONS, weights=WEIGHTS)[0]


def main(argv: list[str] | None = None) -> int:
    from bench.common import run_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--stations", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--every", type=float, default=12.0,
                        help="mean seconds between disruptions")
    parser.add_argument("--plan", default="",
                        help=f"comma-separated disruptions to do in turn ({', '.join(DISRUPTIONS)})"
                             "; default: drawn at random")
    run_options(parser, child=True)
    args = parser.parse_args(argv)
    if args.station_process:
        run_stations(args.folder, args.station_process.split(","), args.seed)
        return 0
    plan = [p.strip() for p in args.plan.split(",") if p.strip()]
    for what in plan:
        if what not in DISRUPTIONS:
            parser.error(f"--plan: unknown disruption {what!r}; choose from "
                         f"{', '.join(DISRUPTIONS)}")

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = (args.keep or Path(tmp)).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        chaos = ChaosRoom(folder, args.stations, args.seed)
        schedule = _schedule(plan, rng)
        started = time.monotonic()
        try:
            chaos.start_hub()
            time.sleep(1.5)
            chaos.start_all_stations()
            end = started + args.minutes * 60
            while True:
                wait = rng.expovariate(1.0 / args.every) if not plan else args.every
                if time.monotonic() + wait >= end:
                    break
                time.sleep(wait)
                chaos.disrupt(next(schedule), rng)
            time.sleep(max(0.0, end - time.monotonic()))
        finally:
            chaos.finish()
        result = {**tally(folder), **chaos.counts, "minutes": args.minutes,
                  "stations": args.stations, "seed": args.seed,
                  "seconds": round(time.monotonic() - started, 1)}
    c = result
    print(f"{args.stations} stations for {args.minutes:g} min, seed {args.seed}, the room as "
          f"deployed: {c['broker_restarts']} broker restarts, {c['broker_kills']} broker "
          f"SIGKILLs, {c['hub_kills']} hub SIGKILLs, {c['station_kills']} station SIGKILLs, "
          f"{c['room_crashes']} room power cuts")
    print(f"accepted {c['accepted']}  stored {c['stored']}  lost {c['lost']}  "
          f"duplicated {c['duplicated']}  (left in outboxes {c['left_in_outboxes']})")
    if args.json:
        print(json.dumps(result))
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
