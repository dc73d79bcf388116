"""The hub's ingest core on a real SQLite file: idempotent, rate-limited per station."""

from __future__ import annotations

import time
from pathlib import Path

from broker import contract as c
from hub.ingest import STATION_BURST, Ingest
from hub.roster import Roster, RosterEntry, Student
from hub.rotation import Rotation, RotationPlan
from hub.store import HubStore, open_db

ROOM = "room-1"


def ingest(tmp_path: Path) -> Ingest:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster.load([RosterEntry(Student("stu-1", "Ana", "Rivera"), ("0A0B0C0D",))])
    return Ingest(ROOM, HubStore(db), roster, Rotation(RotationPlan((), (), 600)))


def checkin(station: str, now: float) -> tuple[str, bytes]:
    message = c.CheckIn(**c.envelope(station, now), badge="0A0B0C0D", answers={},
                        activity="read", tapped_at=now)
    return c.station_topic(ROOM, station, "checkin"), c.encode(message)


def test_replayed_message_is_stored_once_and_answered_each_time(tmp_path: Path) -> None:
    hub = ingest(tmp_path)
    now = time.time()
    message = checkin("s1", now)
    first = hub.handle_batch([message, message], now)
    assert len(first) == 2
    assert hub.store.checkin_count() == 1 and hub.stats.duplicates == 1
    replies = [c.decode(o.topic, o.payload)[1] for o in first]
    assert [r.duplicate for r in replies] == [False, True]
    assert all(r.display_name == "Ana R." for r in replies)


def test_a_flooding_station_is_limited_and_the_others_are_not(tmp_path: Path) -> None:
    hub = ingest(tmp_path)
    now = time.time()
    flood = [checkin("s1", now) for _ in range(200)]  # 200 in the same instant
    hub.handle_batch([*flood, checkin("s2", now)], now)
    assert hub.store.checkin_count() == STATION_BURST + 1
    assert hub.stats.rejected["rate_limited"] == 200 - STATION_BURST
    # a second later the flooder gets its share again
    hub.handle_batch([checkin("s1", now + 1)], now + 1)
    assert hub.store.checkin_count() == STATION_BURST + 2


def test_forged_sender_is_rejected_and_nothing_stored(tmp_path: Path) -> None:
    hub = ingest(tmp_path)
    now = time.time()
    topic, payload = checkin("s2", now)
    assert hub.handle(c.station_topic(ROOM, "s1", "checkin"), payload, now) == []
    assert hub.stats.rejected["sender_mismatch"] == 1
    assert hub.store.checkin_count() == 0
    del topic
