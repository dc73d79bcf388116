"""The hub on a real Mosquitto: transitions and warnings reach every station; a check-in at the
wrong station is answered with where to go, and the teacher's display shows it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest

from broker import contract as c
from hub.config import load_hub_config
from hub.service import HubService
from hub.view import people_at
from tests.conftest import wait_until

pytestmark = pytest.mark.broker
STATIONS = ("s1", "s2", "s3", "s4")


class Listener:
    """One station's subscriptions through a real paho client."""

    def __init__(self, port: int, station: str) -> None:
        self.station = station
        self.got: list[c.Message] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{station}",
                                  protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        for topic in c.station_subscriptions("demo-room", station):
            self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        _route, message = c.decode(msg.topic, msg.payload)
        with self.lock:
            self.got.append(message)

    def of(self, kind: type) -> list:
        with self.lock:
            return [m for m in self.got if isinstance(m, kind)]

    def publish(self, leaf: str, message: c.Message) -> None:
        self.client.publish(c.station_topic("demo-room", self.station, leaf), c.encode(message),
                            qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def hub(mosquitto, room) -> Iterator[tuple[HubService, list[float], dict[str, Listener]]]:
    folder = room(mosquitto.port, **{"autostart = true": "autostart = false"})
    now = [1_760_000_000.0]
    service = HubService(load_hub_config(folder / "hub.toml"), clock=lambda: now[0])
    listeners = {s: Listener(mosquitto.port, s) for s in STATIONS}
    service.start()
    try:
        assert service.bus.wait_connected(10)
        yield service, now, listeners
    finally:
        service.stop()
        for listener in listeners.values():
            listener.close()


def test_transitions_and_warnings_reach_every_station(hub) -> None:
    service, now, listeners = hub
    assert wait_until(lambda: all(x.of(c.RotationState) for x in listeners.values()))
    service.teacher("start")
    assert wait_until(lambda: all(any(n.event == "move" and n.block == 0
                                      for n in x.of(c.Notice)) for x in listeners.values()))
    block = service.config.plan.block(0)
    now[0] += block.total_s - block.warning_s + 1  # into the warning window
    assert wait_until(lambda: all(any(n.event == "warning" for n in x.of(c.Notice))
                                  for x in listeners.values()))
    now[0] += block.warning_s  # the block ends
    assert wait_until(lambda: all(any(n.event == "move" and n.block == 1
                                      for n in x.of(c.Notice)) for x in listeners.values()))
    for x in listeners.values():
        state = x.of(c.RotationState)[-1]
        assert state.state == "running" and state.block == 1
        assert state.questions == ("confidence",)
        assert {p.colour for p in state.stations} == {"blue", "orange", "green", "purple"}
        assert all(p.group for p in state.stations)  # four groups, four stations
    service.teacher("pause")
    assert wait_until(lambda: all(any(n.event == "paused" for n in x.of(c.Notice))
                                  for x in listeners.values()))


def test_wrong_station_reply_says_where_to_go_and_the_teacher_sees_it(hub) -> None:
    service, now, listeners = hub
    service.teacher("start")
    assert wait_until(lambda: service.view.rotation.phase.value == "running")
    snap = service.view.rotation
    right = next(s for s in STATIONS if snap.expected.get(s))
    student = snap.expected[right][0]
    wrong = next(s for s in STATIONS if s != right)
    badge = service.store.db.execute("SELECT badge FROM badges WHERE student_id=?",
                                     (student,)).fetchone()[0]
    message = c.CheckIn(**c.envelope(wrong, now[0]), badge=badge, answers={"confidence": 2},
                        activity="read", tapped_at=now[0] + 1)
    listeners[wrong].publish("checkin", message)
    assert wait_until(lambda: listeners[wrong].of(c.Reply))
    reply = listeners[wrong].of(c.Reply)[0]
    assert reply.status == "accepted" and reply.go_to == right
    assert reply.go_to_name == service.view.station_names[right]
    assert not listeners[right].of(c.Reply)  # a name only goes to the station asking
    view = service.view
    statuses = {p.student_id: (p.status, p.other) for p in people_at(view, right)}
    assert statuses[student] == ("wrong", view.station_names[wrong])
    visitors = {p.student_id: p.status for p in people_at(view, wrong)}
    assert visitors[student] == "visitor"
    assert service.ingest.stats.wrong_station == 1


def test_restart_mid_block_resumes_from_real_time(mosquitto, room) -> None:
    folder = room(mosquitto.port, **{"autostart = true": "autostart = false"})
    now = [1_760_000_000.0]
    config = load_hub_config(folder / "hub.toml")
    first = HubService(config, clock=lambda: now[0])
    first.start()
    try:
        first.teacher("start")
        first.teacher("extend", 3)
        assert wait_until(lambda: first.view.rotation.remaining_s > config.plan.block(0).total_s)
    finally:
        first.stop()
    now[0] += 200  # the hub was off for 200 s
    second = HubService(config, clock=lambda: now[0])
    snap = second.rotation.snapshot(now[0])
    assert snap.phase.value == "running" and snap.block == 0
    assert snap.remaining_s == pytest.approx(config.plan.block(0).total_s + 180 - 200)
    second.store.db.close()
