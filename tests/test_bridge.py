"""The generated bridge against a second real Mosquitto standing in for the district broker."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from broker import tls
from broker.config_gen import generate
from broker.contract import NAMESPACE, station_topic
from broker.credentials import DeviceCredentials
from broker.devices import load_devices
from broker.passwords import hash_password
from stations.errors import ConfigError
from tests.broker_helpers import (
    Broker,
    Session,
    connect,
    free_port,
    room_broker,
    write_devices,
)

pytestmark = pytest.mark.usefixtures("need_mosquitto")  # a failure in CI, never a skip
ROOM = "room-t"
PREFIX = "district-a/"
NAME = "Ana P."


class Upstream:
    """The district's broker: TLS, the room's account from DIR/bridge, and a reader account."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        ca = tls.new_ca("district")
        server = tls.issue_server_cert(ca, "district.test", "127.0.0.1")
        self.ca_file = tmp / "district-ca.pem"
        self.ca_file.write_bytes(tls.cert_pem(ca.cert))
        (tmp / "server.crt").write_bytes(tls.cert_pem(server.cert))
        (tmp / "server.key").write_bytes(tls.key_pem(server.key))
        (tmp / "data").mkdir()
        self.reader_password = "reader-secret"
        self.broker: Broker | None = None

    def configure(self, room_out: Path) -> None:
        """Install the account the room's generator wrote for the district administrator."""
        passwd = (room_out / "bridge" / "upstream-passwd").read_text()
        acl = (room_out / "bridge" / "upstream-acl").read_text()
        (self.dir / "passwd").write_text(passwd + f"reader:{hash_password(self.reader_password)}\n")
        (self.dir / "acl").write_text(acl + "\nuser reader\ntopic read #\n")
        (self.dir / "mosquitto.conf").write_text("\n".join([
            "per_listener_settings true",
            f"user {'root' if os.geteuid() == 0 else 'mosquitto'}",
            "persistence true",
            f"persistence_location {self.dir / 'data'}/",
            "log_dest stderr",
            "log_type all",
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {self.dir / 'passwd'}",
            f"acl_file {self.dir / 'acl'}",
            f"certfile {self.dir / 'server.crt'}",
            f"keyfile {self.dir / 'server.key'}",
        ]) + "\n")
        self.broker = Broker(self.dir / "mosquitto.conf", (self.port,),
                             log_path=self.dir / "upstream.log")

    def reader(self) -> Session:
        creds = DeviceCredentials(room=ROOM, device="reader", role="station", host="127.0.0.1",
                                  port=self.port, tls=True, username="reader",
                                  password=self.reader_password, client_id="district-reader",
                                  ca_file=self.ca_file)
        # A persistent session: messages forwarded while the reader is away wait for it.
        session = connect(creds, self.port, clean_start=False)
        session.subscribe("#")
        return session


def bridge_section(upstream: Upstream) -> str:
    return "\n".join([
        "[bridge]", 'host = "127.0.0.1"', f"port = {upstream.port}",
        f'ca_file = "{upstream.ca_file}"', f'topic_prefix = "{PREFIX}"',
        "retry_min_s = 1", "retry_max_s = 2", ""])


def checkin(station: str, n: int) -> bytes:
    return json.dumps({"v": 1, "kind": "checkin", "id": f"{n:032x}", "sender": station,
                       "ts": 1.8e9, "badge": "04A1B2C3", "answers": {"mood": 3},
                       "activity": "reading", "tapped_at": 1.8e9}).encode()


def wait_uplink(hub: Session, state: bytes, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in hub.received(timeout=0.2):
            if message.topic.endswith(f"{ROOM}-uplink/state") and message.payload == state:
                return
    raise TimeoutError(f"bridge state never became {state!r}")


def test_checkins_cross_the_bridge_replies_never_do_and_outages_lose_nothing(
        tmp_path: Path) -> None:
    upstream = Upstream(tmp_path / "upstream")
    remote_checkin = f"{PREFIX}{NAMESPACE}/{ROOM}/station/a/checkin"
    with room_broker(tmp_path / "room", stations=("a", "b"),
                     extra=bridge_section(upstream),
                     prepare=upstream.configure) as room:
        assert upstream.broker is not None
        upstream.broker.start()
        hub = connect(room.creds("hub"), room.local_port)
        station = connect(room.creds("a"), room.tls_port)
        reader: Session | None = None
        try:
            hub.subscribe(f"$SYS/broker/connection/{ROOM}-uplink/state")
            wait_uplink(hub, b"1")
            reader = upstream.reader()

            station.publish(station_topic(ROOM, "a", "checkin"), checkin("a", 1))
            station.publish(station_topic(ROOM, "a", "hello"), b'{"badge": "04A1B2C3"}')
            hub.publish(station_topic(ROOM, "a", "reply"),
                        json.dumps({"display_name": NAME}).encode())
            first = reader.received(timeout=1.0)
            assert [(m.topic, m.payload) for m in first] == [(remote_checkin, checkin("a", 1))]

            # The uplink goes down: the room keeps accepting check-ins and queues them.
            reader.close()
            reader = None
            upstream.broker.stop()
            wait_uplink(hub, b"0")
            for n in range(2, 7):
                ack = station.publish(station_topic(ROOM, "a", "checkin"), checkin("a", n))
                assert not ack.is_failure  # type: ignore[attr-defined]
            hub.publish(station_topic(ROOM, "a", "reply"),
                        json.dumps({"display_name": NAME}).encode())

            upstream.broker.start()
            wait_uplink(hub, b"1")
            reader = upstream.reader()
            got: list = []
            deadline = time.monotonic() + 10
            while len(got) < 5 and time.monotonic() < deadline:
                got += reader.received(timeout=0.5)
            got += reader.received(timeout=0.5)  # anything extra (a duplicate, a reply)
            assert [m.topic for m in got] == [remote_checkin] * 5
            assert [json.loads(m.payload)["id"] for m in got] == [f"{n:032x}" for n in range(2, 7)]
            assert all(NAME.encode() not in m.payload for m in first + got)
        finally:
            for session in (reader, station, hub):
                if session is not None:
                    session.close()
            upstream.broker.stop()
    conf = (room.out / "broker" / "conf.d" / "bridge.conf").read_text()
    assert "reply" not in conf and " in " not in conf and " both " not in conf


def test_the_room_account_upstream_may_write_only_its_rooms_checkins(tmp_path: Path) -> None:
    upstream = Upstream(tmp_path)
    devices = load_devices(write_devices(tmp_path / "d.toml", extra=bridge_section(upstream)))
    generate(devices, tmp_path / "out")
    acl = (tmp_path / "out" / "bridge" / "upstream-acl").read_text()
    assert acl.splitlines() == ["user room-t",
                                f"topic write {PREFIX}{NAMESPACE}/room-t/station/+/checkin"]
    conf = tmp_path / "out" / "broker" / "conf.d" / "bridge.conf"
    assert conf.stat().st_mode & 0o777 == 0o600  # holds the uplink password


@pytest.mark.parametrize("leaf", ["reply", "hello"])
def test_a_device_list_that_asks_to_bridge_replies_is_refused(tmp_path: Path, leaf: str) -> None:
    upstream = Upstream(tmp_path)
    path = write_devices(tmp_path / "d.toml",
                         extra=bridge_section(upstream) + f'forward = ["checkin", "{leaf}"]\n')
    with pytest.raises(ConfigError, match="never bridged"):
        load_devices(path)
