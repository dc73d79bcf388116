"""Helpers for tests that run a real Mosquitto with a configuration from ``stations broker-config``.

Self-contained on purpose (no conftest fixtures): a room's device list on free loopback ports,
the room as deployed (:class:`stations.deployment.DeployedRoom`: the generated
``mosquitto.conf`` on a real broker, stopped in ``finally``), and paho 2.x MQTT v5 clients that
connect with a device's credentials.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker.credentials import DeviceCredentials
from broker.mosquitto import MosquittoProcess, free_port, run_as_user
from stations.deployment import DeployedRoom

MOSQUITTO = os.environ.get("STATIONS_MOSQUITTO") or shutil.which("mosquitto") \
    or "/usr/sbin/mosquitto"


def have_mosquitto() -> bool:
    return os.access(MOSQUITTO, os.X_OK)


def write_devices(path: Path, *, room: str = "room-t", stations: tuple[str, ...] = ("a", "b"),
                  hostname: str = "hub.room-t.test", ip: str = "127.0.0.1",
                  tls_port: int | None = None, local_port: int | None = None,
                  data_dir: Path | None = None, extra: str = "") -> Path:
    """A device list on free loopback ports, persisting under ``data_dir``."""
    data_dir = data_dir or path.parent / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "[room]", f'id = "{room}"', "",
        "[hub]", f'hostname = "{hostname}"', f'ip = "{ip}"', "",
        "[broker]",
        f"tls_port = {tls_port or free_port()}",
        f"local_port = {local_port if local_port is not None else free_port()}",
        f'data_dir = "{data_dir}"',
        # Mosquitto started as root drops to this user; our 0600 files are root's.
        f'user = "{run_as_user() or "mosquitto"}"',
        "",
    ]
    for station in stations:
        lines += ["[[stations]]", f'id = "{station}"', ""]
    path.write_text("\n".join(lines) + extra)
    return path


#: A Mosquitto child process running a given config file; stop() in ``finally``.
Broker = MosquittoProcess


@contextmanager
def room_broker(tmp: Path, *, prepare: Callable[[Path], None] | None = None,
                room: str = "room-t", stations: tuple[str, ...] = ("a", "b"),
                hostname: str = "hub.room-t.test", ip: str = "127.0.0.1",
                extra: str = "") -> Iterator[DeployedRoom]:
    """Generate a room's config under ``tmp`` and run the real broker with it.

    ``prepare(out)`` runs between generating and starting (e.g. to swap the server certificate).
    """
    deployed = DeployedRoom(tmp, room=room, stations=stations, hostname=hostname, ip=ip,
                            devices_extra=extra)
    if prepare is not None:
        prepare(deployed.out)
    deployed.start()
    try:
        yield deployed
    finally:
        deployed.stop()


@dataclass
class Session:
    """A connected paho client plus what it received."""

    client: mqtt.Client
    messages: queue.Queue[mqtt.MQTTMessage] = field(default_factory=queue.Queue)
    acks: dict[int, object] = field(default_factory=dict)
    acked: threading.Condition = field(default_factory=threading.Condition)

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        granted: list[object] = []

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            granted.extend(reason_codes)
            done.set()

        self.client.on_subscribe = on_subscribe
        self.client.subscribe(topic, qos=1)
        if not done.wait(5):
            raise TimeoutError(f"no SUBACK for {topic}")
        if any(code.is_failure for code in granted):  # type: ignore[attr-defined]
            raise PermissionError(f"subscription to {topic} refused: {granted}")

    def publish(self, topic: str, payload: bytes, *, retain: bool = False,
                qos: int = 1) -> object:
        """Publish and return the PUBACK reason code (None at QoS 0)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            info.wait_for_publish(5)
            return None
        with self.acked:
            if not self.acked.wait_for(lambda: info.mid in self.acks, timeout=5):
                raise TimeoutError(f"no PUBACK for {topic}")
            return self.acks[info.mid]

    def received(self, timeout: float) -> list[mqtt.MQTTMessage]:
        got: list[mqtt.MQTTMessage] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.messages.get(timeout=left))
            except queue.Empty:
                break
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class ConnectRefused(Exception):
    def __init__(self, reason: object) -> None:
        self.reason = reason
        super().__init__(f"CONNACK {reason}")


def connect(creds: DeviceCredentials, port: int, *, host: str = "127.0.0.1",
            password: str | None = None, username: str | None = "",
            tls: bool | None = None, timeout: float = 5.0,
            clean_start: bool = True) -> Session:
    """Connect like a device would (MQTT v5, TLS per ``creds`` unless overridden).

    Raises the exception paho raised (TLS and socket errors), :class:`ConnectRefused` with the
    CONNACK reason code, or TimeoutError when the broker closed or never answered.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=creds.client_id,
                         protocol=mqtt.MQTTv5)
    if username is not None:
        client.username_pw_set(username or creds.username,
                               creds.password if password is None else password)
    use_tls = creds.tls if tls is None else tls
    if use_tls:
        context = dataclasses.replace(creds, tls=True).ssl_context()
        client.tls_set_context(context)
    session = Session(client)
    result: queue.Queue[object] = queue.Queue()

    def on_connect(client, userdata, flags, reason_code, properties):
        result.put(reason_code)

    def on_disconnect(client, userdata, flags, reason_code, properties):
        result.put(("disconnected", reason_code))

    def on_message(client, userdata, message):
        session.messages.put(message)

    def on_publish(client, userdata, mid, reason_code, properties):
        with session.acked:
            session.acks[mid] = reason_code
            session.acked.notify_all()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = on_message
    client.on_publish = on_publish
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0 if clean_start else 3600
    client.connect(host, port, keepalive=30, clean_start=clean_start, properties=props)
    client.loop_start()
    try:
        answer = result.get(timeout=timeout)
    except queue.Empty:
        client.loop_stop()
        raise TimeoutError("no CONNACK") from None
    if isinstance(answer, tuple):
        client.loop_stop()
        raise TimeoutError(f"connection closed before CONNACK ({answer[1]})")
    if answer.is_failure:  # type: ignore[attr-defined]
        client.loop_stop()
        raise ConnectRefused(answer)
    return session


class StationListener:
    """One station's subscriptions through a real paho client with the station's
    credentials: every message it receives, decoded by the contract, and its raw payload."""

    def __init__(self, room: DeployedRoom, station: str) -> None:
        from broker import contract

        self.contract = contract
        self.room = room.room
        self.station = station
        self.got: list[object] = []
        self.raw: list[bytes] = []
        self.lock = threading.Lock()
        self.session = connect(room.creds(station), room.tls_port)
        self.client = self.session.client
        self.client.on_message = self._on_message
        for topic in contract.station_subscriptions(room.room, station):
            self.session.subscribe(topic)  # raises if the ACL refuses it

    def _on_message(self, client, userdata, msg) -> None:  # type: ignore[no-untyped-def]
        _route, message = self.contract.decode(msg.topic, msg.payload)
        with self.lock:
            self.got.append(message)
            self.raw.append(msg.payload)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        with self.lock:
            return [m for m in self.got if isinstance(m, kind)]

    def payloads(self) -> bytes:
        with self.lock:
            return b"\n".join(self.raw)

    def publish(self, leaf: str, message: object) -> None:
        ack = self.session.publish(self.contract.station_topic(self.room, self.station, leaf),
                                   self.contract.encode(message))  # type: ignore[arg-type]
        assert not ack.is_failure  # type: ignore[attr-defined]

    def close(self) -> None:
        self.session.close()
