"""Badges: enrollment mode on the hub, revoke and reassign, CSV import (all or nothing)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from broker import contract as c
from hub.badges import BadgeError, Enrollment, enroll, import_badges, revoke
from hub.ingest import Ingest
from hub.roster import Roster, RosterEntry, Student
from hub.rotation import Rotation, RotationPlan
from hub.store import HubStore, open_db

ROOM = "room-1"


def setup(tmp_path: Path) -> tuple[Roster, Ingest]:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster.load([RosterEntry(Student("stu-1", "Ana", "Rivera"), ("0A0B0C0D",)),
                 RosterEntry(Student("stu-2", "Ben", "Okafor"), ())])
    return roster, Ingest(ROOM, HubStore(db), roster, Rotation(RotationPlan((), (), 600)))


def hello(station: str, badge: str, now: float) -> tuple[str, bytes]:
    return (c.station_topic(ROOM, station, "hello"),
            c.encode(c.Hello(**c.envelope(station, now), badge=badge)))


def test_enrollment_offers_an_unknown_badge_and_the_teacher_names_the_student(
        tmp_path: Path) -> None:
    roster, ingest = setup(tmp_path)
    now = time.time()
    ingest.handle_batch([hello("s2", "11223344", now)], now)
    assert ingest.enrollment.offers == []  # not enrolling: nothing offered
    ingest.enrollment.start()
    (out,) = ingest.handle_batch([hello("s2", "11223344", now)], now)
    assert c.decode(out.topic, out.payload)[1].status == "unknown_badge"
    (offer,) = ingest.enrollment.offers
    assert (offer.badge, offer.station) == ("11223344", "s2")
    enroll(roster, offer.badge, "stu-2", now)
    ingest.enrollment.take(offer.badge)
    (out,) = ingest.handle_batch([hello("s3", "11223344", now + 1)], now + 1)
    reply = c.decode(out.topic, out.payload)[1]
    assert reply.status == "accepted" and reply.display_name == "Ben O."
    assert reply.avatar != ""


def test_offers_expire_and_do_not_repeat() -> None:
    e = Enrollment()
    e.start()
    e.offer("AAAA", "s1", 0)
    e.offer("AAAA", "s2", 10)
    assert [(o.badge, o.station) for o in e.offers] == [("AAAA", "s2")]
    e.expire(10_000)
    assert e.offers == []


def test_revoke_and_reassign(tmp_path: Path) -> None:
    roster, ingest = setup(tmp_path)
    now = time.time()
    with pytest.raises(BadgeError, match="belongs to stu-1"):
        enroll(roster, "0A0B0C0D", "stu-2", now)
    revoke(roster, "0a:0b:0c:0d", now)  # as printed on a card
    assert roster.student_for_badge("0A0B0C0D") is None
    with pytest.raises(BadgeError, match="already revoked"):
        revoke(roster, "0A0B0C0D", now)
    (out,) = ingest.handle_batch([hello("s1", "0A0B0C0D", now)], now)
    assert c.decode(out.topic, out.payload)[1].status == "unknown_badge"
    enroll(roster, "0A0B0C0D", "stu-2", now)  # a revoked badge can go to someone else
    assert roster.student_for_badge("0A0B0C0D").id == "stu-2"
    enroll(roster, "0A0B0C0D", "stu-1", now, reassign=True)
    assert roster.student_for_badge("0A0B0C0D").id == "stu-1"
    # the TOML roster loaded again at the next hub start does not undo the teacher's changes
    revoke(roster, "0A0B0C0D", now)
    roster.load([RosterEntry(Student("stu-1", "Ana", "Rivera"), ("0A0B0C0D",))])
    assert roster.student_for_badge("0A0B0C0D") is None


def test_csv_import_is_all_or_nothing_and_names_row_and_column(tmp_path: Path) -> None:
    roster, _ = setup(tmp_path)
    now = time.time()
    good = tmp_path / "badges.csv"
    good.write_bytes("\ufeffbadge,student_id\r\n11-22-33-44,stu-2\r\nAABBCCDD,stu-1\r\n"
                     .encode())
    assert import_badges(good, roster, now) == 2
    assert roster.student_for_badge("11223344").id == "stu-2"
    bad = tmp_path / "bad.csv"
    bad.write_text("badge,sourcedId\n55667788,stu-2\nnot-hex!,stu-1\n")
    with pytest.raises(BadgeError) as err:
        import_badges(bad, roster, now)
    assert (err.value.file, err.value.row, err.value.column) == ("bad.csv", 3, "badge")
    assert roster.student_for_badge("55667788") is None  # row 2 was not written
    bad.write_text("badge,student_id\n55667788,stu-9\n")
    with pytest.raises(BadgeError, match="row 2, column student_id: no student 'stu-9'"):
        import_badges(bad, roster, now)
    bad.write_text("badge,student_id\n0A0B0C0D,stu-2\n")
    with pytest.raises(BadgeError, match="belongs to stu-1"):
        import_badges(bad, roster, now)
    assert import_badges(bad, roster, now, reassign=True) == 1
    bad.write_text("card,student_id\n")
    with pytest.raises(BadgeError, match="row 1, column badge"):
        import_badges(bad, roster, now)
