"""Baseline responders for the benchmarks: the least a hub could do, on the same broker.

Each connects where the hub connects (the loopback listener, the hub's credentials), takes
the hub's subscriptions and answers every hello and check-in with a contract ``Reply``:

* ``echo``: answers at once: publish, echo, reply is a bare QoS 1 round trip through the broker.
* ``floor``: first commits the check-in to SQLite as the hub stores it (the hub's
  ``open_db`` and ``HubStore.add_checkin``: its schema, WAL, one transaction per check-in;
  ``synchronous`` as given, the hub's is FULL), then answers. Nothing a real hub does can be
  cheaper per check-in and still durable: it is the floor of this design.

One thread, paho's own loop; prints ``ready`` once subscribed and runs until SIGTERM.

    python bench/responders.py --creds DIR/devices/hub/mqtt.toml --room ROOM echo
    python bench/responders.py --creds ... --room ROOM floor --database floor.db --synchronous FULL
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))


def open_floor(path: Path, synchronous: str) -> sqlite3.Connection:
    """The hub's database as the hub opens it (schema, WAL), at ``synchronous``."""
    from hub.store import open_db

    db = open_db(path)
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db


def serve(creds_path: Path, room: str, mode: str, database: Path | None,
          synchronous: str) -> None:
    import paho.mqtt.client as mqtt

    from broker import contract
    from broker.client import send_at_once
    from broker.contract import CheckIn, Hello, Reply
    from broker.credentials import load_credentials
    from hub.store import HubStore

    creds = load_credentials(creds_path)
    store = HubStore(open_floor(database, synchronous)) if mode == "floor" else None
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=creds.client_id,
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(creds.username, creds.password)
    client.on_socket_open = send_at_once  # as the hub's and the stations' client do

    def on_connect(client, userdata, flags, reason_code, properties):  # type: ignore[no-untyped-def]
        client.subscribe([(t, 1) for t in contract.hub_subscriptions(room)])

    def on_subscribe(client, userdata, mid, reason_codes, properties):  # type: ignore[no-untyped-def]
        print("ready", flush=True)

    def on_message(client, userdata, message):  # type: ignore[no-untyped-def]
        route, msg = contract.decode(message.topic, message.payload, room=room)
        if not isinstance(msg, CheckIn | Hello):
            return
        now = time.time()
        if store is not None and isinstance(msg, CheckIn):
            store.add_checkin(msg, route.station, msg.badge, now)  # its own transaction
        reply = Reply(**contract.envelope("hub", now), in_reply_to=msg.id,
                      request="checkin" if isinstance(msg, CheckIn) else "hello",
                      status="accepted")
        client.publish(contract.station_topic(room, route.station, "reply"),  # type: ignore[arg-type]
                       contract.encode(reply), qos=1)

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(creds.host, creds.port, keepalive=15)
    signal.signal(signal.SIGTERM, lambda *_: client.disconnect())
    client.loop_forever()


class Responder:
    """A responder process, started and stopped by a benchmark."""

    def __init__(self, creds: Path, room: str, mode: str, *, database: Path | None = None,
                 synchronous: str = "FULL", log: Path | None = None) -> None:
        command = [sys.executable, __file__, "--creds", str(creds), "--room", room, mode]
        if mode == "floor":
            command += ["--database", str(database), "--synchronous", synchronous]
        err = log.open("ab") if log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=err,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        line = self.proc.stdout.readline() if self.proc.stdout else b""
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError(f"the {mode} responder did not start (see {log})")

    @property
    def pgid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creds", type=Path, required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("mode", choices=("echo", "floor"))
    parser.add_argument("--database", type=Path)
    parser.add_argument("--synchronous", default="FULL", choices=("NORMAL", "FULL"))
    args = parser.parse_args(argv)
    if args.mode == "floor" and args.database is None:
        parser.error("floor needs --database")
    serve(args.creds, args.room, args.mode, args.database, args.synchronous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
