"""How many check-ins a second the hub validates and stores durably, against the broker.

Both figures come from the same run on the same Mosquitto (started here on a free loopback
port) and the same messages: valid QoS 1 check-ins from ``--stations`` stations, published
as fast as ``--publishers`` processes can.

* raw: a bare paho subscriber (QoS 1) counts the messages Mosquitto forwards to it.
* hub: the real hub service (``stations hub --no-display``, its own process) validates each
  message, stores it in SQLite (committed, WAL) and publishes a reply; the rate is stored
  rows over the time from the first publish to the last row committed.

Targets (issue 7): the hub keeps at least half the raw rate, and at least 5,000 check-ins a
second on this machine. With ``--json`` the last line is one JSON object with
``hub_rate_per_s``, ``raw_rate_per_s`` and ``ratio``.

    python bench/hub_ingest.py [--messages 40000] [--stations 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
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

ROOM = "bench-room"


def _payloads(start: int, count: int, stations: int, roster: list[str]) -> list[tuple]:
    from broker import contract as c

    now = time.time()
    out = []
    for k in range(start, start + count):
        # Not the demo plan's s1-s4, whose menus lack "read": the hub would reject those.
        station = f"b{k % stations}"
        message = c.CheckIn(**c.envelope(station, now), badge=roster[k % len(roster)],
                            answers={"confidence": 1 + k % 4}, activity="read",
                            tapped_at=now)
        out.append((c.station_topic(ROOM, station, "checkin"), c.encode(message)))
    return out


def _publisher(port: int, start: int, count: int, stations: int, roster: list[str],
               go: multiprocessing.Event) -> None:  # type: ignore[valid-type]
    import paho.mqtt.client as mqtt

    messages = _payloads(start, count, stations, roster)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{start}",
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    go.wait()  # type: ignore[attr-defined]
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(60)
    client.loop_stop()
    client.disconnect()


def _publish_all(port: int, n: int, stations: int, publishers: int, roster: list[str]
                 ) -> tuple[list[multiprocessing.Process], multiprocessing.Event]:  # type: ignore[valid-type]
    go = multiprocessing.Event()
    share = n // publishers
    procs = [multiprocessing.Process(target=_publisher,
                                     args=(port, i * share, share, stations, roster, go))
             for i in range(publishers)]
    for p in procs:
        p.start()
    time.sleep(1.5)  # connected and payloads built: time only the traffic
    return procs, go


def raw_rate(port: int, n: int, stations: int, publishers: int, roster: list[str]) -> float:
    import threading

    import paho.mqtt.client as mqtt

    got = 0
    done = threading.Event()
    first: list[float] = []

    def on_message(client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        nonlocal got
        if not first:
            first.append(time.perf_counter())
        got += 1
        if got >= n:
            done.set()

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw",
                      protocol=mqtt.MQTTv5)
    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.subscribe(f"stations/v1/{ROOM}/station/+/checkin", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    procs, go = _publish_all(port, n, stations, publishers, roster)
    start = time.perf_counter()
    go.set()
    done.wait(300)
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    sub.loop_stop()
    sub.disconnect()
    return got / elapsed


def hub_rate(port: int, n: int, stations: int, publishers: int, roster: list[str],
             folder: Path, mqtt_process: bool) -> tuple[float, int]:
    text = (ROOT / "stations" / "room" / "hub.toml").read_text()
    text = (text.replace('room = "demo-room"', f'room = "{ROOM}"')
                .replace("port = 1883", f"port = {port}")
                .replace("process = true", f"process = {str(mqtt_process).lower()}"))
    (folder / "hub.toml").write_text(text)
    (folder / "roster.toml").write_text((ROOT / "stations" / "room" / "roster.toml").read_text())
    env = dict(os.environ, PYGAME_HIDE_SUPPORT_PROMPT="1")
    hub = subprocess.Popen([sys.executable, "-m", "stations", "--log-level", "ERROR", "hub",
                            "--config", str(folder / "hub.toml"), "--no-display"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    db_path = folder / "hub.db"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not db_path.exists():
            time.sleep(0.1)
        time.sleep(1.5)  # subscribed
        db = sqlite3.connect(db_path)
        procs, go = _publish_all(port, n, stations, publishers, roster)
        start = time.perf_counter()
        go.set()
        stored, last_change = 0, time.perf_counter()
        while stored < n and time.perf_counter() - last_change < 10:
            time.sleep(0.05)  # a light poll: the reader must not slow the writer it measures
            now_stored = db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
            if now_stored != stored:
                stored, last_change = now_stored, time.perf_counter()
        elapsed = last_change - start
        for p in procs:
            p.join()
        db.close()
        return stored / elapsed, stored
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40000)
    parser.add_argument("--stations", type=int, default=2000,
                        help="distinct stations (each stays under the hub's per-station limit)")
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--mqtt-process", action=argparse.BooleanOptionalAction, default=True,
                        help="the hub's MQTT client in its own process ([broker] process)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from broker.mosquitto import Mosquitto
    from hub.roster import read_roster_file

    roster = [e.badges[0] for e in read_roster_file(ROOT / "stations" / "room" / "roster.toml")]
    # Queues deep enough for the whole run: this measures the hub, not the broker's limits.
    extra = "max_inflight_messages 1000\nmax_queued_messages 1000000\n"
    with tempfile.TemporaryDirectory() as tmp, Mosquitto(persistence=False,
                                                         extra_config=extra) as broker:
        raw = raw_rate(broker.port, args.messages, args.stations, args.publishers, roster)
        hub, stored = hub_rate(broker.port, args.messages, args.stations, args.publishers,
                               roster, Path(tmp), args.mqtt_process)
    figures = {"messages": args.messages, "stations": args.stations,
               "raw_rate_per_s": round(raw, 1), "hub_rate_per_s": round(hub, 1),
               "ratio": round(hub / raw, 3), "hub_stored": stored}
    print(f"{args.messages} check-ins from {args.stations} stations, "
          f"{args.publishers} publisher processes, Mosquitto on loopback")
    print(f"raw broker → bare subscriber: {raw:10.0f} messages/s")
    print(f"hub validated + stored:       {hub:10.0f} check-ins/s  ({stored} stored)")
    print(f"ratio hub / raw:              {hub / raw:10.3f}   (targets: ≥ 0.5 and ≥ 5000/s)")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
