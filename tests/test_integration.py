"""The whole path on the room as deployed: kiosk runtimes → broker → hub service → kiosks.

Nothing is faked but the badge reader (the simulated one): real paho clients, a real Mosquitto
running the room's generated config (stations over TLS with their own passwords, the hub on
its loopback listener, the ACL), real SQLite files.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import load_hub_config
from hub.roster import read_roster_file
from hub.service import HubService
from kiosk.config import load_kiosk_config
from kiosk.readers.simulated import SimulatedReader
from kiosk.runtime import KioskRuntime
from kiosk.screens.base import ScreenId
from tests.broker_helpers import connect
from tests.conftest import REPO, wait_until

pytestmark = pytest.mark.broker


@pytest.fixture
def setup(room) -> Iterator[tuple[Path, HubService]]:
    folder = room()
    hub = HubService(load_hub_config(folder / "hub.toml"))
    hub.start()
    try:
        assert hub.bus.wait_connected(10)
        yield folder, hub
    finally:
        hub.stop()


def kiosk(folder: Path, station: str) -> KioskRuntime:
    rt = KioskRuntime(load_kiosk_config(folder / f"kiosk-{station}.toml"),
                      SimulatedReader(repeat_s=0))
    rt.start()
    return rt


def press(rt: KioskRuntime, button_id: str) -> None:
    button = next(b for b in rt.machine.current.buttons(rt.ctx) if b.id == button_id)
    rt.press(*button.center)


def check_in(rt: KioskRuntime, badge: str, answer: str = "2") -> str:
    """One student's visit through the real screens; returns the check-in id."""
    assert isinstance(rt.reader, SimulatedReader)
    rt.reader.tap(badge)
    rt.step()
    assert rt.machine.screen_id is ScreenId.WELCOME
    press(rt, "next")
    press(rt, answer)
    first = rt.machine.current.buttons(rt.ctx)[0].id
    press(rt, first)
    assert rt.machine.screen_id is ScreenId.GO
    return rt.ctx.visit.checkin_id


def badges(folder: Path) -> list[str]:
    return [e.badges[0] for e in read_roster_file(folder / "roster.toml")]


def stored(folder: Path) -> dict[str, str]:
    with sqlite3.connect(folder / "hub.db") as db:
        return dict(db.execute("SELECT id, station FROM checkins").fetchall())


def test_twenty_taps_on_two_kiosks_are_stored_and_answered(setup) -> None:
    folder, hub = setup
    kiosks = [kiosk(folder, "s1"), kiosk(folder, "s2")]
    try:
        assert all(rt.bus.wait_connected(10) for rt in kiosks)
        ids: dict[str, str] = {}
        for n, badge in enumerate((badges(folder) * 2)[:20]):
            rt = kiosks[n % 2]
            ids[check_in(rt, badge)] = rt.station
            assert wait_until(lambda rt=rt: rt.ctx.visit.reply is not None, step=rt.step)
            reply = rt.ctx.visit.reply
            assert reply.status == "accepted" and reply.display_name.endswith(".")
            assert reply.go_to in {"s1", "s2", "s3", "s4"}  # the rotation is running
        assert stored(folder) == ids
        for rt in kiosks:
            assert rt.stats.replies == 10 and rt.outbox.pending_count() == 0
        assert hub.ingest.stats.stored == 20 and hub.ingest.stats.duplicates == 0
        # the teacher's display knows names and places, nothing else
        names = {a.display_name for a in hub.view.arrivals}
        assert len(names) == 16 and all(len(n.split()) == 2 for n in names)
    finally:
        for rt in kiosks:
            rt.close()


def test_unknown_badge_is_answered_kindly_and_not_stored(setup) -> None:
    folder, _hub = setup
    rt = kiosk(folder, "s1")
    try:
        assert rt.bus.wait_connected(10)
        rt.reader.tap("DEADBEEF")
        assert wait_until(lambda: rt.machine.screen_id is ScreenId.UNKNOWN, step=rt.step)
        assert stored(folder) == {}
    finally:
        rt.close()


def test_garbage_on_the_wire_is_counted_and_the_hub_keeps_going(setup, deployed_room) -> None:
    folder, hub = setup
    # Station s1's own credentials, in the hands of a broken or hostile program.
    raw = connect(deployed_room.creds("s1"), deployed_room.tls_port)
    try:
        topic = "stations/v1/demo-room/station/s1/checkin"
        for payload in (b"{", b'{"v": 9}', b'{"v": 1, "kind": "checkin"}'):
            raw.publish(topic, payload)
        # Over the contract's size the broker itself drops it (its message_size_limit).
        raw.publish(topic, b"x" * 10000, qos=0)
        assert wait_until(lambda: sum(hub.ingest.stats.rejected.values()) == 3)
        assert dict(hub.ingest.stats.rejected) == {"malformed": 1, "unknown_version": 1,
                                                   "invalid": 1}
        rt = kiosk(folder, "s1")
        try:  # and real check-ins still go through
            assert rt.bus.wait_connected(10)
            check_in(rt, badges(folder)[0])
            assert wait_until(lambda: rt.ctx.visit.reply is not None, step=rt.step)
        finally:
            rt.close()
        assert len(stored(folder)) == 1
        assert sum(hub.ingest.stats.rejected.values()) == 3  # the oversized one never came
    finally:
        raw.close()


def test_broker_down_five_taps_all_arrive_exactly_once(setup, deployed_room) -> None:
    mosquitto = deployed_room.broker
    folder, hub = setup
    rt = kiosk(folder, "s1")
    try:
        assert rt.bus.wait_connected(10)
        mosquitto.stop()
        assert wait_until(lambda: not rt.ctx.online, step=rt.step)
        ids = []
        for badge in badges(folder)[:5]:
            ids.append(check_in(rt, badge))
            rt.machine.update(rt.clock() + 60)  # the student leaves; back to idle
        assert rt.outbox.pending_count() == 5 and stored(folder) == {}
        mosquitto.start()
        assert wait_until(lambda: rt.outbox.pending_count() == 0, timeout=60, step=rt.step)
        assert sorted(stored(folder)) == sorted(ids)
        assert hub.ingest.stats.stored == 5
    finally:
        rt.close()


def test_a_killed_kiosk_sends_its_check_in_on_the_next_start(setup) -> None:
    folder, _hub = setup
    badge = badges(folder)[3]
    # A kiosk process that saves a check-in to its outbox and is killed before it can send
    # (its broker address points nowhere, so the publish cannot have happened).
    script = textwrap.dedent(f"""
        import os, signal
        from dataclasses import replace
        from broker.client import BrokerSettings
        from kiosk.config import load_kiosk_config
        from kiosk.readers.simulated import SimulatedReader
        from kiosk.runtime import KioskRuntime
        from tests.test_integration import check_in
        config = load_kiosk_config({str(folder / 'kiosk-s1.toml')!r})
        config = replace(config, broker=BrokerSettings(port=1))
        rt = KioskRuntime(config, SimulatedReader())
        rt.start()
        print(check_in(rt, {badge!r}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    checkin_id = proc.stdout.strip()
    assert stored(folder) == {}
    rt = kiosk(folder, "s1")
    try:
        assert [p.id for p in rt.outbox.all()] == [checkin_id]
        assert wait_until(lambda: rt.outbox.pending_count() == 0, timeout=20, step=rt.step)
        assert stored(folder) == {checkin_id: "s1"}
    finally:
        rt.close()


def test_resent_check_in_is_stored_once(setup) -> None:
    folder, hub = setup
    rt = kiosk(folder, "s2")
    try:
        assert rt.bus.wait_connected(10)
        checkin_id = check_in(rt, badges(folder)[0])
        (pending,) = rt.outbox.all()
        assert wait_until(lambda: rt.outbox.pending_count() == 0, step=rt.step)
        # the reply was lost, say: the station sends the same message again
        rt.outbox.add(pending.id, pending.topic, pending.payload)
        assert wait_until(lambda: rt.outbox.pending_count() == 0, step=rt.step)
        assert hub.ingest.stats.duplicates == 1
        assert stored(folder) == {checkin_id: "s2"}
    finally:
        rt.close()


def test_lights_and_buttons_follow_the_station(setup, deployed_room) -> None:
    """The gpiozero feedback (mock pins, real gpiozero code) tracks the runtime."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from kiosk.feedback import Feedback
    from kiosk.pinmap import load_pinmap

    folder, _hub = setup
    factory = MockFactory(pin_class=MockPWMPin)
    feedback = Feedback.from_pinmap(load_pinmap().boards["kiosk"], pin_factory=factory,
                                    idle="glow")
    rt = KioskRuntime(load_kiosk_config(folder / "kiosk-s1.toml"), SimulatedReader(),
                      feedback=[feedback])
    feedback.on_button(rt.physical_button)
    rt.start()
    try:
        assert wait_until(lambda: rt.ctx.online, step=rt.step)
        assert feedback.led.color != (0, 0, 1)  # online: not the offline blue
        rt.reader.tap(badges(folder)[0])
        rt.step()
        press(rt, "next")
        # the three physical buttons answer with the screen's first three choices
        factory.pin(5).drive_low()
        assert wait_until(lambda: rt.machine.screen_id is ScreenId.CHOICE, step=rt.step)
        assert rt.ctx.visit.answers == {"confidence": 1}
        factory.pin(5).drive_high()
        factory.pin(6).drive_low()
        assert wait_until(lambda: rt.machine.screen_id is ScreenId.GO, step=rt.step)
        assert wait_until(lambda: rt.ctx.visit.reply is not None, step=rt.step)
        assert tuple(feedback.led.color) == (0, 1, 0)  # accepted: green
        deployed_room.broker.stop()
        assert wait_until(lambda: tuple(feedback.led.color) == (0, 0, 1), timeout=15,
                          step=rt.step)  # offline: blue, once the signal is over
    finally:
        rt.close()
        feedback.close()


def test_a_check_in_the_hub_never_accepts_is_quarantined_and_not_sent_again(
        setup, capsys) -> None:
    """A station whose own menu is out of date: its check-ins are answered ``rejected``, kept
    in its quarantine, counted in its status, shown to the teacher, listed by ``stations
    outbox quarantine``, and never sent again."""
    from dataclasses import replace

    from broker.client import BrokerSettings
    from broker.contract import Activity
    from stations.cli import main

    folder, hub = setup
    config = load_kiosk_config(folder / "kiosk-s2.toml")
    stale = replace(config, activities=(Activity("juggling", "Juggling", "star"),))
    # Students tap while the station is off the network, so its own old menu is shown.
    rt = KioskRuntime(replace(stale, broker=BrokerSettings(port=1)), SimulatedReader(repeat_s=0))
    rt.start()
    try:
        first = check_in(rt, badges(folder)[0])
        rt.machine.update(rt.clock() + 60)
        second = check_in(rt, badges(folder)[1])
        assert rt.ctx.visit.activity == "juggling" and rt.outbox.pending_count() == 2
    finally:
        rt.close()
    rt = KioskRuntime(stale, SimulatedReader(repeat_s=0))  # back on the network
    rt.start()
    try:
        assert wait_until(lambda: rt.outbox.quarantined_count() == 2, step=rt.step)
        assert rt.outbox.pending_count() == 0 and rt.stats.quarantined == 2
        assert [(q.id, q.reason) for q in rt.outbox.quarantined()] == [
            (first, "activity_not_on_menu"), (second, "activity_not_on_menu")]
        assert stored(folder) == {} and hub.ingest.stats.refused["activity_not_on_menu"] == 2
        # the station's status says so, and the teacher sees which station
        assert wait_until(lambda: hub.ingest.quarantined == {"s2": 2}, step=rt.step)
        assert wait_until(lambda: any(w.startswith("Computers keeps 2 check-in")
                                      for w in hub.view.warnings))
        with sqlite3.connect(folder / "hub.db") as db:
            assert db.execute("SELECT quarantined FROM station_status WHERE station='s2'"
                              ).fetchone() == (2,)
        # after a reconnect everything unanswered goes again: these are not among it
        rt.outbox.reset_sent()
        for _ in range(20):
            rt.step()
            time.sleep(0.02)
        assert hub.ingest.stats.refused["activity_not_on_menu"] == 2
        assert main(["outbox", "quarantine", "--config", str(folder / "kiosk-s2.toml"),
                     "--json"]) == 0
        listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert listed["station"] == "s2"
        assert [(q["id"], q["reason"], q["message"]["activity"]) for q in
                listed["quarantined"]] == [(first, "activity_not_on_menu", "juggling"),
                                           (second, "activity_not_on_menu", "juggling")]
        assert main(["outbox", "quarantine", "--config", str(folder / "kiosk-s2.toml")]) == 0
        assert "2 check-in(s) the hub rejected" in capsys.readouterr().out
    finally:
        rt.close()
    # Nothing was deleted: the station as provisioned (the hub's menu) still keeps both,
    # sends neither, and its students' check-ins are accepted as ever.
    rt = kiosk(folder, "s2")
    try:
        assert rt.outbox.quarantined_count() == 2 and rt.outbox.pending_count() == 0
        assert rt.bus.wait_connected(10)
        assert wait_until(lambda: rt.ctx.rotation is not None, step=rt.step)
        check_in(rt, badges(folder)[2])
        assert wait_until(lambda: rt.ctx.visit.reply is not None, step=rt.step)
        assert rt.ctx.visit.reply.status == "accepted" and len(stored(folder)) == 1
        assert hub.ingest.stats.refused["activity_not_on_menu"] == 2
    finally:
        rt.close()


@pytest.mark.parametrize("stopping", [False, True])
def test_a_stopping_station_does_not_diagnose_the_broker(room, deployed_room, caplog,
                                                          stopping: bool) -> None:
    """A station losing its broker says why (the control); one that is being stopped does
    not: the broker going away is part of the stop, not news for IT."""
    import logging

    folder = room()
    rt = kiosk(folder, "s1")
    try:
        assert rt.bus.wait_connected(10)
        if stopping:
            rt.request_stop()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="broker.client"):
            deployed_room.broker.stop()
            wait_until(lambda: "cannot connect" in caplog.text, timeout=4)
        assert ("cannot connect" in caplog.text) is not stopping, caplog.text
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert bool(warnings) is not stopping, caplog.text  # not even "disconnected"
    finally:
        rt.close()
