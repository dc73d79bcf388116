"""Every action each role should and should not have, on the room as deployed.

A real Mosquitto runs the generated config (TLS listener, per-device passwords, the ACL, the
hub's loopback listener). Each test checks delivery with a legitimate client on the other end
rather than trusting return codes: a publish the ACL refuses must not arrive, and a
subscription the ACL refuses must receive nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator

import pytest

from broker import contract as c
from broker.devices import load_devices
from stations.deployment import DeployedRoom
from stations.errors import ConfigError
from tests.broker_helpers import ConnectRefused, Session, connect, write_devices

#: A laptop without Mosquitto skips; CI, where scripts/setup.sh installs it, fails.
pytestmark = [pytest.mark.broker, pytest.mark.usefixtures("need_mosquitto")]

ROOM = "acl-room"
STATION_LEAVES = ("checkin", "hello", "status", "reply")
ROOM_TOPICS = {"rotation": c.rotation_topic(ROOM), "notice": c.notice_topic(ROOM),
               "hub/status": c.hub_status_topic(ROOM)}
#: What each role may publish: (station of the topic or None for room topics, leaf).
MAY_WRITE = {
    "hub": {("a", "reply"), ("b", "reply"), (None, "rotation"), (None, "notice"),
            (None, "hub/status")},
    "a": {("a", "checkin"), ("a", "hello"), ("a", "status")},
}
#: What each role may receive.
MAY_READ = {
    "hub": {("a", "checkin"), ("a", "hello"), ("a", "status"), ("b", "checkin"), ("b", "hello"),
            ("b", "status"), (None, "rotation"), (None, "hub/status")},
    "a": {("a", "reply"), (None, "rotation"), (None, "notice"), (None, "hub/status")},
}
TARGETS = [(s, leaf) for s in ("a", "b") for leaf in STATION_LEAVES] + \
    [(None, leaf) for leaf in ROOM_TOPICS]


def topic(target: tuple[str | None, str]) -> str:
    station, leaf = target
    return ROOM_TOPICS[leaf] if station is None else c.station_topic(ROOM, station, leaf)


def owner(target: tuple[str | None, str]) -> str:
    """Who may legitimately publish on ``target``."""
    station, leaf = target
    return station if station is not None and leaf != "reply" else "hub"


def reader(target: tuple[str | None, str]) -> str:
    """Who may legitimately receive ``target`` (station "b" for room broadcasts)."""
    station, leaf = target
    if station is None:
        return "hub" if leaf == "hub/status" else "b"
    return station if leaf == "reply" else "hub"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployedRoom]:
    room = DeployedRoom(tmp_path_factory.mktemp("acl"), room=ROOM, stations=("a", "b"))
    room.start()
    try:
        yield room
    finally:
        room.stop()


def session(room: DeployedRoom, who: str) -> Session:
    if who == "hub":
        return connect(room.creds("hub"), room.local_port)
    return connect(room.creds(who), room.tls_port)


def collect(sessions: dict[str, Session], timeout: float) -> dict[str, set[bytes]]:
    return {who: {m.payload for m in s.received(timeout)} for who, s in sessions.items()}


@pytest.mark.parametrize("actor", ["hub", "a"])
def test_each_role_publishes_exactly_where_it_may(deployed: DeployedRoom, actor: str) -> None:
    readers = {who: session(deployed, who) for who in ("hub", "a", "b")}
    me = session(deployed, actor) if actor not in readers else readers[actor]
    try:
        for target in TARGETS:
            readers[reader(target)].subscribe(topic(target))
        sent = {}
        for n, target in enumerate(TARGETS):
            payload = f"{actor}-{n}".encode()
            sent[payload] = target
            me.publish(topic(target), payload)
        got = set().union(*collect(readers, 1.0).values())
        delivered = {sent[p] for p in got if p in sent}
        assert delivered == MAY_WRITE[actor]
    finally:
        for s in readers.values():
            s.close()


@pytest.mark.parametrize("actor", ["hub", "a"])
def test_each_role_receives_exactly_what_it_may(deployed: DeployedRoom, actor: str) -> None:
    writers = {who: session(deployed, who) for who in ("hub", "a", "b")}
    me = writers[actor]
    try:
        for target in TARGETS:
            # Refused at SUBACK or not: it must receive nothing it may not read (below).
            with contextlib.suppress(PermissionError):
                me.subscribe(topic(target))
        for n, target in enumerate(TARGETS):
            writers[owner(target)].publish(topic(target), f"to-{actor}-{n}".encode())
        got = {m.topic for m in me.received(1.0)}
        received = {t for t in TARGETS if topic(t) in got}
        assert received == MAY_READ[actor]
    finally:
        for s in writers.values():
            s.close()


def test_a_station_cannot_subscribe_to_everything(deployed: DeployedRoom) -> None:
    a, b = session(deployed, "a"), session(deployed, "b")
    try:
        with contextlib.suppress(PermissionError):
            a.subscribe(f"{c.NAMESPACE}/#")
        b.publish(c.station_topic(ROOM, "b", "checkin"), b"private")
        hub = session(deployed, "hub")
        hub.publish(c.station_topic(ROOM, "b", "reply"), b"a name")
        hub.close()
        assert {m.payload for m in a.received(1.0)} == set()
    finally:
        a.close()
        b.close()


def test_the_loopback_listener_is_the_hubs_alone(deployed: DeployedRoom) -> None:
    """No station secret logs in there, and the client id is the hub's username, so nothing
    can take over the hub's queued session under another name."""
    for station in ("a", "b"):
        with pytest.raises(ConnectRefused):
            connect(deployed.creds(station), deployed.local_port, tls=False)
    hub_creds = deployed.creds("hub")
    assert hub_creds.client_id == hub_creds.username == deployed.hub_user
    # The hub's credentials with any other client id still get the hub's client id: a second
    # login takes the first one's place rather than opening a session of its own.
    first = session(deployed, "hub")
    try:
        second = connect(dataclasses.replace(hub_creds, client_id="intruder"),
                         deployed.local_port)
        try:
            assert not _still_connected(first)
        finally:
            second.close()
    finally:
        first.client.loop_stop()


def _still_connected(s: Session, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not s.client.is_connected():
            return False
        time.sleep(0.05)
    return True


def test_a_station_cannot_take_the_hubs_session_over_tls(deployed: DeployedRoom) -> None:
    """A station's secret with the hub's client id on the room's Wi-Fi listener: the broker
    gives it the station's own client id, so the hub stays connected with its session."""
    hub = session(deployed, "hub")
    try:
        intruder = connect(dataclasses.replace(deployed.creds("a"),
                                               client_id=deployed.creds("hub").client_id),
                           deployed.tls_port)
        try:
            assert _still_connected(hub)
            b = session(deployed, "b")  # and the hub still hears the stations
            try:
                hub.subscribe(c.station_topic(ROOM, "b", "checkin"))
                b.publish(c.station_topic(ROOM, "b", "checkin"), b"still mine")
                assert b"still mine" in {m.payload for m in hub.received(2.0)}
            finally:
                b.close()
        finally:
            intruder.close()
    finally:
        hub.close()


def test_a_device_list_cannot_unbind_client_ids(tmp_path) -> None:
    """``username_as_client_id = false`` would let the test above succeed: it is refused."""
    path = write_devices(tmp_path / "devices.toml")
    text = path.read_text().replace("[broker]\n", "[broker]\nusername_as_client_id = false\n")
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_devices(path)
    assert err.value.key == "broker.username_as_client_id" and str(path) in str(err.value)
    assert "cannot be false" in err.value.problem and "the hub" in err.value.problem
    path.write_text(text.replace("= false", "= true"))  # an old list that says true loads
    assert load_devices(path).room == "room-t"
