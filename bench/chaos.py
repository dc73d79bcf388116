"""Nothing lost, nothing doubled: check-ins under broker restarts and killed processes.

``--stations`` simulated stations (real KioskRuntimes: outbox, paho client, state machine;
no window) in a few processes make check-ins at a classroom's rate against a real Mosquitto
and the real hub service (``stations hub --no-display``), for ``--minutes``. Meanwhile a
driver, at random times from ``--seed``, restarts Mosquitto, kills the hub with SIGKILL and
restarts it, and kills station processes with SIGKILL (mid-send as often as not) and
restarts them. Then the stations stop tapping and empty their outboxes, and every check-in
a station accepted into its outbox is looked up in the hub's database:

    accepted   check-ins stations accepted (their outbox commit)
    stored     of those, stored by the hub
    lost       accepted but not stored               (target 0)
    duplicated the same check-in stored more than once (target 0)

With ``--json`` the last line is one JSON object with those keys and the disruption counts.

    python bench/chaos.py [--minutes 3] [--stations 30] [--seed 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

PER_PROCESS = 6
ROOM = "chaos-room"


# --- a station process ------------------------------------------------------------------------

def run_stations(folder: Path, stations: list[str], port: int, seed: int) -> None:
    """Run several station runtimes until SIGTERM, then drain their outboxes and exit."""
    import logging
    from dataclasses import replace

    from broker.client import BrokerSettings
    from hub.roster import read_roster_file
    from kiosk.config import load_kiosk_config
    from kiosk.readers.simulated import SimulatedReader
    from kiosk.runtime import KioskRuntime
    from kiosk.screens.base import ScreenId

    logging.basicConfig(level=logging.ERROR)
    badges = [e.badges[0] for e in read_roster_file(folder / "roster.toml")]
    rng = random.Random(seed)
    base = load_kiosk_config(ROOT / "stations" / "room" / "kiosk.toml")
    runtimes, logs, next_at = [], [], []
    for sid in stations:
        config = replace(base, room=ROOM, station=sid, outbox=folder / f"outbox-{sid}.db",
                         broker=BrokerSettings(port=port))
        rt = KioskRuntime(config, SimulatedReader(repeat_s=0))
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

class Cluster:
    def __init__(self, folder: Path, n_stations: int, seed: int) -> None:
        from broker.mosquitto import Mosquitto

        self.folder = folder
        self.broker = Mosquitto(workdir=folder / "broker")
        (folder / "broker").mkdir()
        self.broker.start()
        text = (ROOT / "stations" / "room" / "hub.toml").read_text()
        (folder / "hub.toml").write_text(text.replace('room = "demo-room"', f'room = "{ROOM}"')
                                         .replace("port = 1883", f"port = {self.broker.port}"))
        (folder / "roster.toml").write_text(
            (ROOT / "stations" / "room" / "roster.toml").read_text())
        self.env = dict(os.environ, PYGAME_HIDE_SUPPORT_PROMPT="1", PYTHONPATH=str(ROOT))
        self.hub: subprocess.Popen[bytes] | None = None
        ids = [f"st-{i:02d}" for i in range(n_stations)]
        self.groups = [ids[i:i + PER_PROCESS] for i in range(0, len(ids), PER_PROCESS)]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(self.groups)
        self.seed = seed
        self.counts = {"broker_restarts": 0, "hub_kills": 0, "station_kills": 0}

    def start_hub(self) -> None:
        with (self.folder / "hub.log").open("ab") as log:
            self.hub = subprocess.Popen(
                [sys.executable, "-m", "stations", "--log-level", "WARNING", "hub", "--config",
                 str(self.folder / "hub.toml"), "--no-display"], cwd=ROOT, env=self.env,
                stdout=log, stderr=log)

    def start_stations(self, k: int) -> None:
        with (self.folder / f"stations-{k}.log").open("ab") as log:
            self.procs[k] = subprocess.Popen(
                [sys.executable, __file__, "--station-process", ",".join(self.groups[k]),
                 "--folder", str(self.folder), "--port", str(self.broker.port),
                 "--seed", str(self.seed * 1000 + k + 1000 * self.counts["station_kills"])],
                cwd=ROOT, env=self.env, stdout=log, stderr=log)

    def disrupt(self, rng: random.Random) -> str:
        what = rng.choice(["broker", "hub", "station", "station"])
        if what == "broker":
            self.broker.stop()
            time.sleep(rng.uniform(1.0, 5.0))
            self.broker.start()
            self.counts["broker_restarts"] += 1
        elif what == "hub":
            assert self.hub is not None
            self.hub.kill()
            self.hub.wait()
            time.sleep(rng.uniform(0.5, 3.0))
            self.start_hub()
            self.counts["hub_kills"] += 1
        else:
            k = rng.randrange(len(self.procs))
            proc = self.procs[k]
            assert proc is not None
            proc.kill()
            proc.wait()
            time.sleep(rng.uniform(0.2, 2.0))
            self.start_stations(k)
            self.counts["station_kills"] += 1
        return what

    def finish(self) -> None:
        for proc in self.procs:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                proc.wait(120)
        if self.hub is not None:
            self.hub.send_signal(signal.SIGTERM)
            self.hub.wait(30)
        self.broker.close()


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--stations", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--every", type=float, default=12.0,
                        help="mean seconds between disruptions")
    parser.add_argument("--keep", type=Path, default=None, help="keep the run's files here")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--station-process", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.station_process:
        run_stations(args.folder, args.station_process.split(","), args.port, args.seed)
        return 0

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        cluster = Cluster(folder, args.stations, args.seed)
        events = []
        try:
            cluster.start_hub()
            time.sleep(1.5)
            for k in range(len(cluster.groups)):
                cluster.start_stations(k)
            end = time.monotonic() + args.minutes * 60
            while True:
                wait = rng.expovariate(1.0 / args.every)
                if time.monotonic() + wait >= end:
                    break
                time.sleep(wait)
                events.append(cluster.disrupt(rng))
            time.sleep(max(0.0, end - time.monotonic()))
        finally:
            cluster.finish()
        result = {**tally(folder), **cluster.counts, "minutes": args.minutes,
                  "stations": args.stations, "seed": args.seed}
    print(f"{args.stations} stations for {args.minutes:g} min, seed {args.seed}: "
          f"{result['broker_restarts']} broker restarts, {result['hub_kills']} hub SIGKILLs, "
          f"{result['station_kills']} station SIGKILLs")
    print(f"accepted {result['accepted']}  stored {result['stored']}  lost {result['lost']}  "
          f"duplicated {result['duplicated']}  (left in outboxes {result['left_in_outboxes']})")
    if args.json:
        print(json.dumps(result))
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
