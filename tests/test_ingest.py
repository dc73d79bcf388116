"""The hub's ingest core on a real SQLite file: idempotent, rate-limited per station."""

from __future__ import annotations

import json
import time
from pathlib import Path

from broker import contract as c
from hub.ingest import STATION_BURST, VISIT_S, Ingest
from hub.roster import Roster, RosterEntry, Student
from hub.rotation import ActivityDef, Rotation, RotationPlan, StationDef
from hub.store import HubStore, open_db

ROOM = "room-1"


def ingest(tmp_path: Path) -> Ingest:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster.load([RosterEntry(Student("stu-1", "Ana", "Rivera", language="es"), ("0A0B0C0D",)),
                 RosterEntry(Student("stu-2", "Ben", "Kim"), ("0A0B0C0E",))])
    return Ingest(ROOM, HubStore(db), roster, Rotation(RotationPlan((), (), 600)))


def checkin(station: str, now: float, activity: str = "read",
            badge: str = "0A0B0C0D") -> tuple[str, bytes]:
    message = c.CheckIn(**c.envelope(station, now), badge=badge, answers={},
                        activity=activity, tapped_at=now)
    return c.station_topic(ROOM, station, "checkin"), c.encode(message)


def hello(station: str, now: float, badge: str = "0A0B0C0D") -> tuple[str, bytes]:
    return (c.station_topic(ROOM, station, "hello"),
            c.encode(c.Hello(**c.envelope(station, now), badge=badge)))


def replies(hub: Ingest, messages: list[tuple[str, bytes]], now: float) -> list[c.Reply]:
    return [c.decode(o.topic, o.payload)[1] for o in hub.handle_batch(messages, now)]


def test_replayed_message_is_stored_once_and_answered_each_time(tmp_path: Path) -> None:
    hub = ingest(tmp_path)
    now = time.time()
    message = checkin("s1", now)
    hub.handle_batch([hello("s1", now)], now)  # the tap: the student is at s1
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
    # s1 (the ACL vouches for the topic) sends what claims to be s2's: it would send it
    # forever, so it is told, and only s1 is told.
    (out,) = hub.handle(c.station_topic(ROOM, "s1", "checkin"), payload, now)
    reply = c.decode(out.topic, out.payload)[1]
    assert out.topic == c.station_topic(ROOM, "s1", "reply")
    assert (reply.status, reply.reason) == ("rejected", "sender_mismatch")
    assert reply.in_reply_to == c.decode(topic, payload)[1].id and reply.display_name == ""
    assert hub.stats.rejected["sender_mismatch"] == 1
    assert hub.store.checkin_count() == 0


# --- check-ins the hub will never accept ------------------------------------------------------

MENU = (ActivityDef("puzzle", "Puzzle"), ActivityDef("discuss", "Talk it out"))
PLAN = RotationPlan((StationDef("s1", "Team table", "collaborative", MENU),
                     StationDef("s2", "Computers", "online")), (), 600)


def planned(tmp_path: Path, plan: RotationPlan = PLAN) -> Ingest:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster.load([RosterEntry(Student("stu-1", "Ana", "Rivera"), ("0A0B0C0D",))])
    return Ingest(ROOM, HubStore(db), roster, Rotation(plan))


def answer(out: list) -> c.Reply:
    (reply,) = [c.decode(o.topic, o.payload)[1] for o in out]
    return reply


def test_an_activity_never_on_the_menu_is_rejected_and_not_stored(tmp_path: Path) -> None:
    hub = planned(tmp_path)
    now = time.time()
    reply = answer(hub.handle(*checkin("s1", now, activity="juggling"), now))
    assert (reply.status, reply.reason) == ("rejected", "activity_not_on_menu")
    assert hub.stats.refused["activity_not_on_menu"] == 1 and hub.store.checkin_count() == 0
    assert hub.arrivals == {}
    assert answer(hub.handle(*checkin("s1", now, activity="puzzle"), now)).status == "accepted"
    # a station the plan gives no menu shows its own: anything on it is a fact to store
    assert answer(hub.handle(*checkin("s2", now, activity="juggling"), now)).status == \
        "accepted"
    assert answer(hub.handle(*checkin("s9", now, activity="juggling"), now)).status == \
        "accepted"  # nor is a station outside the plan refused: see CONTRACT.md


def test_an_activity_from_an_earlier_menu_is_still_accepted(tmp_path: Path) -> None:
    planned(tmp_path).store.db.close()  # the hub ran with the old menu once
    new_menu = (ActivityDef("build", "Build"),)
    plan = RotationPlan((StationDef("s1", "Team table", "collaborative", new_menu),), (), 600)
    hub = planned(tmp_path, plan)
    now = time.time()
    # check-ins made before the teacher changed the menu, still in the station's outbox
    assert answer(hub.handle(*checkin("s1", now, activity="puzzle"), now)).status == "accepted"
    assert answer(hub.handle(*checkin("s1", now, activity="build"), now)).status == "accepted"
    assert answer(hub.handle(*checkin("s1", now, activity="read"), now)).status == "rejected"


def test_a_broken_check_in_with_a_readable_id_is_rejected(tmp_path: Path) -> None:
    hub = planned(tmp_path)
    now = time.time()
    topic, payload = checkin("s1", now, activity="puzzle")
    data = json.loads(payload)
    data["answers"] = {"confidence": 99}  # no resend can ever make this valid
    reply = answer(hub.handle(topic, json.dumps(data).encode(), now))
    assert (reply.status, reply.reason, reply.in_reply_to) == ("rejected", "invalid",
                                                                data["id"])
    data["v"] = 2
    assert answer(hub.handle(topic, json.dumps(data).encode(), now)).reason == \
        "unknown_version"
    # no id to answer to, or not a check-in: counted and dropped, as before
    assert hub.handle(topic, b"{not json", now) == []
    data.update(v=1, id="not-an-id")
    assert hub.handle(topic, json.dumps(data).encode(), now) == []
    status_topic = c.station_topic(ROOM, "s1", "status")
    assert hub.handle(status_topic, json.dumps({"v": 1, "id": "a" * 32}).encode(), now) == []
    assert hub.store.checkin_count() == 0


# --- what the display shows after a restart ---------------------------------------------------

def test_arrivals_are_recalled_after_a_restart(tmp_path: Path) -> None:
    hub = planned(tmp_path)
    now = time.time()
    hub.handle(*checkin("s1", now - 30, activity="puzzle"), now - 30)
    hub.handle(*checkin("s2", now - 10, activity="quiz"), now - 10)
    hub.handle(*checkin("s1", now - 20, activity="puzzle"), now)  # a late resend from s1
    assert hub.arrivals["stu-1"].station == "s2"  # still where they tapped last
    before = hub.arrivals
    hub.store.db.close()
    again = planned(tmp_path)
    assert again.arrivals == {}
    assert again.recall(now) == 1
    (arrival,) = again.arrivals.values()
    assert (arrival.student_id, arrival.station, arrival.display_name) == \
        ("stu-1", "s2", "Ana R.")
    assert again.arrivals == before


def test_a_name_goes_to_a_station_only_while_the_students_visit_there_is_open(
        tmp_path: Path) -> None:
    """A resend (or a late check-in) is acknowledged; it names the student only while they
    are still at that station's screens."""
    hub = ingest(tmp_path)
    t = time.time()
    (welcome,) = replies(hub, [hello("s1", t)], t)
    assert (welcome.display_name, welcome.language) == ("Ana R.", "es")
    ana = checkin("s1", t + 20)
    (first,) = replies(hub, [ana], t + 20)
    assert first.display_name == "Ana R." and not first.duplicate
    # the reply was lost: the station resends 10 s later, Ana is still at its go screen
    (again,) = replies(hub, [ana], t + 30)
    assert again.duplicate and again.display_name == "Ana R."
    # Ben taps in at s1: Ana's visit there is over, a resend of hers carries no name
    replies(hub, [hello("s1", t + 40, "0A0B0C0E")], t + 40)
    (late,) = replies(hub, [ana], t + 50)
    assert late.status == "accepted" and late.duplicate
    assert (late.display_name, late.language, late.avatar) == ("", "", "")
    # Ana taps at s2: a resend from s1 carries no name either
    replies(hub, [hello("s1", t + 60)], t + 60)
    replies(hub, [hello("s2", t + 70)], t + 70)
    (moved,) = replies(hub, [ana], t + 75)
    assert moved.display_name == ""
    # and long after the visit, even with nobody else at the station
    at_s2 = checkin("s2", t + 80)
    (s2,) = replies(hub, [at_s2], t + 80)
    assert s2.display_name == "Ana R."
    (stale,) = replies(hub, [at_s2], t + 80 + VISIT_S + 1)
    assert stale.duplicate and stale.display_name == ""
    # a check-in that sat in an outbox while the Wi-Fi was down: stored, but no name
    (offline,) = replies(hub, [checkin("s3", t + 100, badge="0A0B0C0E")], t + 900)
    assert offline.status == "accepted" and offline.display_name == ""
    assert hub.store.checkin_count() == 3


def test_a_reply_the_contract_would_refuse_goes_out_without_the_name(tmp_path: Path,
                                                                     caplog) -> None:
    """A name too long for a reply (from a OneRoster import, say): the station would reject
    the reply and resend for ever; it gets one without the name, and the hub logs and counts."""
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster.load([RosterEntry(Student("stu-1", "A" * 70, "Rivera"), ("0A0B0C0D",))])
    hub = Ingest(ROOM, HubStore(db), roster, Rotation(RotationPlan((), (), 600)))
    now = time.time()
    (welcome,) = replies(hub, [hello("s1", now)], now)  # decodes: the station accepts it
    assert welcome.status == "accepted" and welcome.display_name == ""
    (stored,) = replies(hub, [checkin("s1", now)], now)
    assert stored.status == "accepted" and stored.display_name == ""
    assert hub.stats.unsendable == 2 and hub.store.checkin_count() == 1
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2 and "display_name" in errors[0]


def test_a_clock_stepped_back_never_empties_a_stations_rate_limit() -> None:
    from hub.ingest import STATION_BURST, STATION_RATE, TokenBucket

    bucket = TokenBucket(STATION_RATE, STATION_BURST)
    assert bucket.take(1_760_000_100.0)
    # NTP steps the hub's clock back ten minutes: the next check-in still goes through.
    assert bucket.take(1_760_000_100.0 - 600)
    assert bucket.take(1_760_000_100.0 - 599)
    # and the burst limit still holds afterwards
    taken = sum(bucket.take(1_760_000_100.0) for _ in range(int(STATION_BURST) + 5))
    assert taken <= STATION_BURST
