"""The district tier under load and chaos: rooms → district broker → ingest → PostgreSQL.

Everything as deployed, on this machine: a throwaway PostgreSQL cluster (Debian's package,
``fsync`` on), the district broker on Mosquitto with its generated config (TLS, an account
and ACL per room), and the real ``stations district ingest`` (worker processes on a shared
subscription). Three parts, one run:

1. Throughput. ``--records`` district records from the simulated rooms' own accounts
   (``--publishers`` processes, as fast as QoS 1 allows) go to, in turn: a bare paho
   subscriber (raw: what the broker delivers), the ingest with 1 worker, with 2 workers.
   Rate = records over the time from the first publish to the last one received (raw) or
   committed in PostgreSQL (ingest). Target: 2 workers ≥ 0.5 of raw, and well above the
   600 records/s a district of 500 rooms sends at a period change.
2. Drain. The simulated rooms (``--rooms``, each the real uplink code on its own SQLite
   outbox: :class:`hub.uplink.Uplink` over :class:`hub.store.HubStore`) hold a backlog of
   ``--backlog`` records (45,000: a one-hour district outage in school hours); the district
   comes back (2 workers) and the time until the last record is committed is ``drain_s``.
3. Chaos. For ``--minutes``, the simulated rooms store check-ins at a period-change rate
   (``--rate`` a second for 20 s of every minute, a quarter of it for the other 40 s) and two
   real rooms (:class:`stations.deployment.DeployedRoom` with its Mosquitto, the real hub
   service, stations publishing check-ins with their own credentials) check in, while ingest
   workers, the district broker and PostgreSQL are SIGKILLed and restarted at seeded random
   times. Then everything comes back, the outboxes drain, and every record any room stored
   (parts 2 and 3) is looked up in PostgreSQL: ``lost`` (not there) and ``duplicated``
   (there more than once) must both be 0.

With ``--json`` the last line is one JSON object: ``stored``, ``lost``, ``duplicated``,
``rate_per_s`` (2 workers), ``rate_1_worker_per_s``, ``raw_rate_per_s``, ``ratio``,
``drain_s`` and the chaos counts.

    python bench/district.py [--minutes 2] [--rooms 100] [--records 40000] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

log = logging.getLogger("bench.district")
BADGES = ("0411A133", "0412A236", "0413A339", "0414A43C", "0415A53F", "0416A642")
REAL_STATIONS = ("s1", "s2", "s3", "s4")
#: An activity on each demo station's menu (the hub refuses others).
MENU = {"s1": "practice", "s2": "quiz", "s3": "puzzle", "s4": "read"}
RESEND_S = 10.0


def _settings(table: dict[str, Any]):  # type: ignore[no-untyped-def]
    from broker.client import BrokerSettings

    return BrokerSettings(host="127.0.0.1", port=table["port"], username=table["username"],
                          password=table["password"], ca_file=table["ca_file"],
                          client_id=table["client_id"], keepalive_s=30)


def _record(room: str, n: int, now: float) -> bytes:
    from broker import contract as c

    return c.encode(c.DistrictCheckIn(
        **c.envelope(room, now), student=f"stu-{n % 30:02d}", class_id=f"{room}-class",
        station=f"s{n % 4 + 1}", station_kind="online", activity="read",
        answers={"confidence": n % 4}, tapped_at=now - 30, made_at=now - 20))


# --- part 1: blast publishers -----------------------------------------------------------------

def _blaster(tables: list[dict[str, Any]], count: int, go: Any, ready: Any) -> None:
    import ssl

    import paho.mqtt.client as mqtt

    from broker import contract as c

    now = time.time()
    clients = []
    for t in tables:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=t["client_id"],
                             protocol=mqtt.MQTTv5)
        client.username_pw_set(t["username"], t["password"])
        client.tls_set(ca_certs=t["ca_file"], cert_reqs=ssl.CERT_REQUIRED)
        client.max_inflight_messages_set(200)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", t["port"], clean_start=True)
        client.loop_start()
        clients.append((t["username"], client))
    messages = [(k % len(clients), c.district_topic(clients[k % len(clients)][0],
                                                   "district/checkin"),
                 _record(clients[k % len(clients)][0], k, now)) for k in range(count)]
    ready.release()
    go.wait()
    infos = [clients[i][1].publish(topic, payload, qos=1) for i, topic, payload in messages]
    for info in infos:
        info.wait_for_publish(120)
    for _, client in clients:
        client.disconnect()
        client.loop_stop()


def _blast(tables: list[dict[str, Any]], count: int, publishers: int
           ) -> tuple[list[multiprocessing.Process], Any]:
    ctx = multiprocessing.get_context("spawn")
    go, ready = ctx.Event(), ctx.Semaphore(0)
    share = count // publishers
    procs = [ctx.Process(target=_blaster, args=(tables[i::publishers], share, go, ready))
             for i in range(publishers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire(timeout=120)
    return procs, go


def raw_rate(district: Any, tables: list[dict[str, Any]], count: int,
             publishers: int) -> float:
    import ssl

    import paho.mqtt.client as mqtt

    got = 0
    done = threading.Event()

    def on_message(client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        nonlocal got
        got += 1
        if got >= count - count % publishers:
            done.set()

    b = district.config.broker
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw",
                      protocol=mqtt.MQTTv5)
    sub.username_pw_set(b.username, b.password)
    sub.tls_set(ca_certs=b.ca_file, cert_reqs=ssl.CERT_REQUIRED)
    sub.on_message = on_message
    sub.connect("127.0.0.1", b.port, clean_start=True)
    sub.subscribe("stations/v1/+/district/checkin", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    procs, go = _blast(tables, count, publishers)
    start = time.perf_counter()
    go.set()
    done.wait(300)
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    sub.disconnect()
    sub.loop_stop()
    return got / elapsed


def _pg_count(dsn: str) -> int:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            return conn.execute("SELECT count(*) FROM checkins").fetchone()[0]  # type: ignore[index]
    except psycopg.Error:
        return -1


def _wait(predicate: Any, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def ingest_rate(district: Any, dsn: str, tables: list[dict[str, Any]], count: int,
                publishers: int, workers: int) -> float:
    mark = len(district.broker.log_text())
    ingest = district.run_ingest(workers=workers)
    try:
        if not _wait(lambda: district.ingest_connected(workers, mark), 60):
            raise RuntimeError("the ingest workers did not connect")
        time.sleep(1.0)  # subscribed
        before = _pg_count(dsn)
        target = before + count - count % publishers
        procs, go = _blast(tables, count, publishers)
        start = time.perf_counter()
        go.set()
        stored, last_change = before, time.perf_counter()
        while stored < target and time.perf_counter() - last_change < 20:
            time.sleep(0.05)
            now_stored = _pg_count(dsn)
            if now_stored != stored:
                stored, last_change = now_stored, time.perf_counter()
        for p in procs:
            p.join()
        return (stored - before) / (last_change - start)
    finally:
        district.stop_ingest(ingest)


# --- parts 2 and 3: simulated rooms with the real uplink on SQLite ---------------------------

def _rooms_process(rooms: list[tuple[str, dict[str, Any]]], folder: str, conn: Connection,
                   window: int, all_rooms: int) -> None:
    logging.basicConfig(level=logging.CRITICAL)
    import queue

    from broker import contract as c
    from broker.client import BusClient
    from hub.store import HubStore, open_db
    from hub.uplink import DistrictFeed, Uplink

    events: queue.SimpleQueue[tuple[str, str, object]] = queue.SimpleQueue()
    state: dict[str, dict[str, Any]] = {}
    for room, table in rooms:
        store = HubStore(open_db(Path(folder) / f"{room}.db"))
        uplink = Uplink(store, room, window=window, resend_s=RESEND_S)
        bus = BusClient(room, _settings(table), subscriptions=[uplink.ack_topic],
                        on_message=lambda t, p, r=room: events.put((r, t, p)),
                        on_connection=lambda up, r=room: events.put((r, "", up)))
        state[room] = {"store": store, "uplink": uplink, "bus": bus, "n": 0, "debt": 0.0,
                       "feed": DistrictFeed(room, f"{room}-class",
                                            {f"s{k}": "online" for k in range(1, 5)})}
    rate = 0.0
    started = False
    last = time.monotonic()

    def store_checkins(s: dict[str, Any], room: str, count: int, now: float) -> None:
        rows, district = [], []
        for _ in range(count):
            n = s["n"]
            s["n"] += 1
            m = c.CheckIn(**c.envelope(f"s{n % 4 + 1}", now - 5), badge=BADGES[n % 6],
                          answers={"confidence": n % 4}, activity="read", tapped_at=now - 30)
            student = f"stu-{n % 30:02d}"
            rows.append((m.id, f"s{n % 4 + 1}", student, m.badge, '{"confidence": 1}',
                         m.activity, m.tapped_at, m.ts, now))
            district.append(s["feed"].row(m, f"s{n % 4 + 1}", student, now))
        s["store"].add_checkin_rows(rows, district)

    while True:
        while conn.poll(0):
            command, arg = conn.recv()
            if command == "preload":
                now = time.time()
                for s_room, s in state.items():
                    for start in range(0, arg, 500):
                        store_checkins(s, s_room, min(500, arg - start), now)
                conn.send(("ok", None))
            elif command == "connect":
                for s in state.values():
                    s["bus"].start()
                started = True
                conn.send(("ok", None))
            elif command == "rate":  # records/s for the whole district: our share
                rate = float(arg) * len(state) / all_rooms
                last = time.monotonic()
                conn.send(("ok", None))
            elif command == "status":
                conn.send(("status", {
                    "pending": sum(s["store"].district_pending() for s in state.values()),
                    "stored": sum(s["store"].checkin_count() for s in state.values()),
                    "sent": sum(s["uplink"].sent for s in state.values()),
                    "resent": sum(s["uplink"].resent for s in state.values()),
                    "refused": sum(s["uplink"].refused for s in state.values())}))
            elif command == "stop":
                for s in state.values():
                    s["bus"].stop()
                    s["store"].db.close()
                conn.send(("ok", None))
                return
        while True:
            try:
                room, topic, item = events.get_nowait()
            except queue.Empty:
                break
            if topic:
                state[room]["uplink"].acknowledged(topic, item)
            elif item:
                state[room]["uplink"].reset()
        now_m = time.monotonic()
        dt_s, last = now_m - last, now_m
        if rate > 0:
            per_room = rate / max(1, len(state)) * dt_s
            now = time.time()
            for room, s in state.items():
                s["debt"] += per_room
                whole = int(s["debt"])
                if whole:
                    s["debt"] -= whole
                    store_checkins(s, room, whole, now)
        if started:
            for s in state.values():
                if s["bus"].connected:
                    for topic, payload in s["uplink"].due():
                        if not s["bus"].publish(topic, payload):
                            s["uplink"].reset()
                            break
        time.sleep(0.02)


class SimRooms:
    """The simulated rooms, in a few processes."""

    def __init__(self, tables: list[tuple[str, dict[str, Any]]], folder: Path, processes: int,
                 window: int = 500) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.folder = folder
        self.rooms = [room for room, _ in tables]
        self.conns: list[Connection] = []
        self.procs = []
        for i in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_rooms_process,
                               args=(tables[i::processes], str(folder), child, window,
                                     len(tables)))
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    def ask(self, command: str, arg: Any = None) -> list[Any]:
        for conn in self.conns:
            conn.send((command, arg))
        return [conn.recv()[1] for conn in self.conns]

    def status(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for part in self.ask("status"):
            for k, v in part.items():
                total[k] = total.get(k, 0) + v
        return total

    def stored_ids(self) -> list[str]:
        ids: list[str] = []
        for room in self.rooms:
            with sqlite3.connect(self.folder / f"{room}.db") as db:
                ids += [r[0] for r in db.execute("SELECT id FROM checkins")]
        return ids

    def close(self) -> None:
        self.ask("stop")
        for p in self.procs:
            p.join(10)


# --- part 3: real rooms ----------------------------------------------------------------------

class RealRoom:
    """A deployed room: its Mosquitto, the real hub service joined to the district, and
    stations publishing check-ins with their own credentials."""

    def __init__(self, folder: Path, room: str, district: Any) -> None:
        from hub.config import load_hub_config
        from hub.service import HubService
        from stations.deployment import DeployedRoom

        self.deployed = DeployedRoom(folder, room=room, stations=REAL_STATIONS).start()
        hub_toml = self.deployed.hub_config(settings={"process": False})
        district.join(hub_toml, room, resend_seconds=RESEND_S)
        self.hub = HubService(load_hub_config(hub_toml))
        self.hub.start()
        self.room = room
        self._stop = threading.Event()
        self.published = 0
        self._thread = threading.Thread(target=self._stations, daemon=True)

    def start_checkins(self, per_second: float) -> None:
        self.per_second = per_second
        self._thread.start()

    def _stations(self) -> None:
        import paho.mqtt.client as mqtt

        from broker import contract as c

        clients = []
        for s in REAL_STATIONS:
            creds = self.deployed.creds(s)
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=creds.client_id,
                                 protocol=mqtt.MQTTv5)
            client.username_pw_set(creds.username, creds.password)
            client.tls_set_context(creds.ssl_context())
            client.connect("127.0.0.1", self.deployed.tls_port)
            client.loop_start()
            clients.append((s, client))
        n = 0
        while not self._stop.wait(1.0 / self.per_second):
            station, client = clients[n % len(clients)]
            now = time.time()
            m = c.CheckIn(**c.envelope(station, now), badge=BADGES[n % 6],
                          answers={"confidence": n % 4}, activity=MENU[station],
                          tapped_at=now - 5)
            client.publish(c.station_topic(self.room, station, "checkin"), c.encode(m), qos=1)
            n += 1
            self.published = n
        for _, client in clients:
            client.disconnect()
            client.loop_stop()

    def stop_checkins(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def pending(self) -> int:
        with sqlite3.connect(self.deployed.folder / "hub.db") as db:
            return db.execute("SELECT COUNT(*) FROM district_outbox").fetchone()[0]

    def stored_ids(self) -> list[str]:
        with sqlite3.connect(self.deployed.folder / "hub.db") as db:
            return [r[0] for r in db.execute("SELECT id FROM checkins")]

    def close(self) -> None:
        self.hub.stop()
        self.deployed.stop()


def _workers_of(pid: int) -> list[int]:
    """The ingest supervisor's worker processes (not multiprocessing's helpers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and b"spawn_main" in \
                    (stat.parent / "cmdline").read_bytes():
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def chaos(district: Any, pg: Any, ingest: subprocess.Popen[bytes], rooms: SimRooms,
          real: list[RealRoom], minutes: float, rate: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    counts = {"worker_kills": 0, "broker_kills": 0, "postgres_kills": 0}
    for r in real:
        r.start_checkins(2.0)
    end = time.monotonic() + minutes * 60
    started = time.monotonic()
    next_event = time.monotonic() + rng.uniform(3, 8)
    peak = None
    while time.monotonic() < end:
        # A period change every minute: the peak rate for 20 s, a quarter of it for 40 s.
        in_peak = (time.monotonic() - started) % 60 < 20
        if in_peak != peak:
            rooms.ask("rate", rate if in_peak else rate / 4)
            peak = in_peak
        if time.monotonic() >= next_event:
            what = rng.choice(["worker", "worker", "broker", "postgres"])
            if what == "worker":
                pids = _workers_of(ingest.pid)
                if pids:
                    os.kill(rng.choice(pids), signal.SIGKILL)
                    counts["worker_kills"] += 1
            elif what == "broker":
                district.broker.kill()
                time.sleep(rng.uniform(0.5, 3))
                district.broker.start()
                counts["broker_kills"] += 1
            else:
                pg.kill()
                time.sleep(rng.uniform(0.5, 3))
                pg.start()
                counts["postgres_kills"] += 1
            log.info("chaos: %s killed and restarted", what)
            next_event = time.monotonic() + rng.uniform(3, 8)
        time.sleep(0.1)
    rooms.ask("rate", 0)
    for r in real:
        r.stop_checkins()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="chaos part length")
    parser.add_argument("--rooms", type=int, default=100, help="simulated rooms")
    parser.add_argument("--records", type=int, default=40000, help="throughput records")
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--backlog", type=int, default=45000)
    parser.add_argument("--rate", type=float, default=600.0,
                        help="records/s the simulated rooms store at a period change")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)

    import psycopg

    from district.deployment import DeployedDistrict
    from district.pgcluster import LocalPostgres
    from district.store import stored_counts

    work = Path(tempfile.mkdtemp(prefix="bench-district-"))
    pg = LocalPostgres().start()  # a folder of its own: the postgres user must reach it
    sim_names = [f"sim-{i:03d}" for i in range(args.rooms)]
    real_names = ["real-a", "real-b"]
    rooms_map = {name: f"school-{i % 10}" for i, name in enumerate(sim_names + real_names)}
    district = DeployedDistrict(work / "district", rooms=rooms_map, dsn=pg.dsn).start()
    figures: dict[str, Any] = {"rooms": args.rooms, "minutes": args.minutes}
    sims: SimRooms | None = None
    real: list[RealRoom] = []
    ingest: subprocess.Popen[bytes] | None = None
    try:
        with psycopg.connect(pg.dsn) as conn:  # the schema, as the ingest would make it
            from district import schema

            schema.prepare(conn, months_ahead=2, keep_months=24, rooms=rooms_map.items())
        tables = [district.room_table(name) for name in sim_names]
        print(f"throughput: {args.records} records from {args.rooms} rooms' accounts, "
              f"{args.publishers} publishers, TLS, QoS 1", flush=True)
        raw = raw_rate(district, tables, args.records, args.publishers)
        print(f"  raw broker → bare subscriber: {raw:,.0f} records/s", flush=True)
        one = ingest_rate(district, pg.dsn, tables, args.records, args.publishers, 1)
        print(f"  ingest, 1 worker (committed):  {one:,.0f} records/s  ratio {one / raw:.3f}",
              flush=True)
        two = ingest_rate(district, pg.dsn, tables, args.records, args.publishers, 2)
        print(f"  ingest, 2 workers (committed): {two:,.0f} records/s  ratio {two / raw:.3f}",
              flush=True)
        figures.update(raw_rate_per_s=round(raw), rate_1_worker_per_s=round(one),
                       rate_per_s=round(two), ratio=round(two / raw, 3),
                       ratio_1_worker=round(one / raw, 3))

        # Part 2: drain a backlog.
        sims = SimRooms([(n, district.room_table(n)) for n in sim_names], work / "rooms",
                        processes=4)
        per_room = args.backlog // args.rooms
        sims.ask("preload", per_room)
        backlog = per_room * args.rooms
        before = _pg_count(pg.dsn)
        mark = len(district.broker.log_text())
        ingest = district.run_ingest(workers=2)
        _wait(lambda: district.ingest_connected(2, mark), 60)
        start = time.perf_counter()
        sims.ask("connect")
        _wait(lambda: _pg_count(pg.dsn) >= before + backlog, 600, step=0.2)
        drain = time.perf_counter() - start
        _wait(lambda: sims.status()["pending"] == 0, 120, step=0.5)
        print(f"drain: {backlog:,} records queued in {args.rooms} rooms' outboxes after an "
              f"outage: {drain:.1f} s to commit them all (2 workers)", flush=True)
        figures.update(drain_s=round(drain, 2), drain_records=backlog)

        # Part 3: chaos with real rooms too.
        real = [RealRoom(work / name, name, district) for name in real_names]
        print(f"chaos: {args.minutes:g} min, {args.rooms} simulated rooms at "
              f"{args.rate:g}/s peaks, 2 real rooms; killing workers, broker, PostgreSQL",
              flush=True)
        counts = chaos(district, pg, ingest, sims, real, args.minutes, args.rate, args.seed)
        settled = _wait(lambda: sims.status()["pending"] == 0 and
                        all(r.pending() == 0 for r in real), 600, step=1.0)
        status = sims.status()
        ids = sims.stored_ids() + [i for r in real for i in r.stored_ids()]
        with psycopg.connect(pg.dsn) as conn:
            found = stored_counts(conn, ids)
        lost = sum(1 for n in found.values() if n == 0)
        duplicated = sum(1 for n in found.values() if n > 1)
        real_ids = sum(len(r.stored_ids()) for r in real)
        print(f"  {counts['worker_kills']} worker SIGKILLs, {counts['broker_kills']} broker "
              f"SIGKILLs, {counts['postgres_kills']} PostgreSQL SIGKILLs; outboxes empty: "
              f"{settled}; rooms resent {status['resent']:,} records", flush=True)
        print(f"  stored by the rooms: {len(ids):,} ({real_ids:,} by the real hubs); "
              f"in PostgreSQL: {len(ids) - lost:,}; lost {lost}, duplicated {duplicated}",
              flush=True)
        figures.update(stored=len(ids), real_hub_records=real_ids, lost=lost,
                       duplicated=duplicated, settled=settled, resent=status["resent"],
                       refused=status["refused"], **counts)
    finally:
        for r in real:
            r.close()
        if sims is not None:
            sims.close()
        if ingest is not None:
            district.stop_ingest(ingest)
        district.stop()
        pg.close()
    ok = figures.get("lost") == 0 and figures.get("duplicated") == 0
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"logs and databases kept in {work}", flush=True)
    if args.json:
        print(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
