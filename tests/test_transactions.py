"""Every change of more than one statement is one real transaction: its LAST statement fails
(a trigger RAISEs, written in SQL here, nothing mocked) and nothing at all has changed.

Also the mechanism itself (:func:`stations.sqlitedb.transaction`) and the durability setting.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from broker import contract as c
from hub import badges
from hub.export import apply_retention, erase_student
from hub.ingest import Ingest
from hub.oneroster import import_oneroster
from hub.roster import Roster, RosterEntry, Student
from hub.rotation import ActivityDef, GroupDef, Rotation, RotationPlan, StationDef
from hub.store import ROTATION_KEY, HubStore, open_db
from kiosk.outbox import Outbox
from stations.sqlitedb import transaction
from tests.oneroster_files import files, write_folder

ROOM = "room-1"
NOW = time.time()
STATION = StationDef("s1", "Quiet corner", "independent", (ActivityDef("read", "Read"),))
PLAN = RotationPlan((STATION,), (GroupDef("g1", "Foxes", ("stu-1", "stu-2", "stu-3")),), 600)
ENTRIES = [RosterEntry(Student("stu-1", "Ana", "Rivera"), ("0A0B0C0D",), ("c-4a",)),
           RosterEntry(Student("stu-2", "Ben", "Okafor"), ("0A0B0C0E", "0A0B0C1E"), ("c-4a",)),
           RosterEntry(Student("stu-3", "Cy", "Day"), ("0A0B0C0F",), ("c-4a",))]


def everything(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every row of every table, to compare before and after."""
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                       "AND name NOT LIKE 'sqlite_%'")]
    return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


def fail_on(db: sqlite3.Connection, table: str, event: str, when: str = "1") -> None:
    """Make ``event`` (INSERT, UPDATE or DELETE) on ``table`` fail where ``when`` holds."""
    name = f"fail_{table}_{event.lower()}"
    db.execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} WHEN {when} "
               "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")


@pytest.fixture
def hub(tmp_path: Path) -> tuple[HubStore, Roster]:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster.load(ENTRIES, {"c-4a": "Grade 4A"}, now=NOW - 100)
    return HubStore(db), roster


def checkin(badge: str, at: float, activity: str = "read", station: str = "s1"
            ) -> tuple[str, bytes]:
    m = c.CheckIn(**c.envelope(station, at), badge=badge, answers={"confidence": 2},
                  activity=activity, tapped_at=at)
    return c.station_topic(ROOM, station, "checkin"), c.encode(m)


def status(station: str, at: float) -> tuple[str, bytes]:
    m = c.StationStatus(**c.envelope(station, at), state="online", pending=3)
    return c.station_topic(ROOM, station, "status"), c.encode(m)


# --- the mechanism ----------------------------------------------------------------------------

def test_durable_settings_on_the_hub_and_the_outbox(tmp_path: Path) -> None:
    db = open_db(tmp_path / "hub.db")
    outbox = Outbox(tmp_path / "outbox.db")
    for conn in (db, outbox._db):
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.isolation_level is None  # so only transaction() opens one


def test_a_transaction_commits_together_or_not_at_all(tmp_path: Path) -> None:
    db = open_db(tmp_path / "hub.db")
    other = sqlite3.connect(tmp_path / "hub.db")
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO hub_state VALUES ('a', '1')")
        assert other.execute("SELECT COUNT(*) FROM hub_state").fetchone()[0] == 0  # not yet
        raise RuntimeError("half way")
    assert not db.in_transaction
    assert db.execute("SELECT COUNT(*) FROM hub_state").fetchone()[0] == 0
    with transaction(db):
        db.execute("INSERT INTO hub_state VALUES ('a', '1')")
        db.execute("INSERT INTO hub_state VALUES ('b', '2')")
    assert other.execute("SELECT COUNT(*) FROM hub_state").fetchone()[0] == 2


def test_nested_transactions_are_savepoints(tmp_path: Path) -> None:
    db = open_db(tmp_path / "hub.db")
    with transaction(db):
        db.execute("INSERT INTO hub_state VALUES ('outer', '1')")
        with pytest.raises(sqlite3.IntegrityError), transaction(db):
            db.execute("INSERT INTO hub_state VALUES ('inner', '1')")
            db.execute("INSERT INTO hub_state VALUES ('outer', '2')")  # the key is taken
        assert db.in_transaction  # the outer one goes on
    assert db.execute("SELECT key FROM hub_state").fetchall() == [("outer",)]
    with pytest.raises(ValueError), transaction(db):
        with transaction(db):
            db.execute("INSERT INTO hub_state VALUES ('inner', '1')")
        raise ValueError("the outer fails after the inner finished")
    assert db.execute("SELECT key FROM hub_state").fetchall() == [("outer",)]


# --- one test per operation -------------------------------------------------------------------

def test_roster_file_load(hub) -> None:
    store, roster = hub
    before = everything(store.db)
    entries = [*ENTRIES, RosterEntry(Student("stu-4", "Di", "Lo"), ("0A0B0C10",), ("c-4a",))]
    fail_on(store.db, "enrollments", "INSERT", "NEW.user_id = 'stu-4'")  # its last statement
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        roster.load(entries, {"c-4a": "Grade 4A (new title)"})
    assert everything(store.db) == before


def test_oneroster_import(hub, tmp_path: Path) -> None:
    store, roster = hub
    before = everything(store.db)
    fail_on(store.db, "enrollments", "INSERT", "NEW.id = 'e8'")  # the last row written
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        import_oneroster(write_folder(tmp_path / "export", files("1.2")), roster)
    assert everything(store.db) == before


@pytest.mark.parametrize("reassign", [False, True], ids=["assign", "reassign"])
def test_badge_assign_and_reassign(hub, reassign: bool) -> None:
    store, roster = hub
    badge = "0A0B0C0D" if reassign else "77777777"  # Ana's, or a new one
    before = everything(store.db)
    fail_on(store.db, "badges", "UPDATE" if reassign else "INSERT")
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        badges.enroll(roster, badge, "stu-3", NOW, reassign=reassign)
    assert everything(store.db) == before


def test_badge_revoke(hub) -> None:
    store, roster = hub
    before = everything(store.db)
    fail_on(store.db, "badges", "UPDATE")
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        badges.revoke(roster, "0A0B0C0D", NOW)
    assert everything(store.db) == before


def test_revoke_every_badge_of_a_student(hub) -> None:
    store, roster = hub
    assert [b.badge for b in roster.badges_of("stu-2")] == ["0A0B0C0E", "0A0B0C1E"]
    before = everything(store.db)
    fail_on(store.db, "badges", "UPDATE", "OLD.badge = '0A0B0C1E'")  # the second of two
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        badges.revoke_student(roster, "stu-2", NOW)
    assert everything(store.db) == before
    store.db.execute("DROP TRIGGER fail_badges_update")
    assert badges.revoke_student(roster, "stu-2", NOW) == 2
    assert roster.badges_of("stu-2") == []


def test_badge_csv_import(hub, tmp_path: Path) -> None:
    store, roster = hub
    csv = tmp_path / "badges.csv"
    csv.write_text("badge,student_id\n11223344,stu-1\n55667788,stu-3\n")
    before = everything(store.db)
    fail_on(store.db, "badges", "INSERT", "NEW.badge = '55667788'")
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        badges.import_badges(csv, roster, NOW)
    assert everything(store.db) == before


def test_student_erase(hub) -> None:
    store, roster = hub
    ingest = Ingest(ROOM, store, roster, Rotation(PLAN))
    ingest.handle_batch([checkin("0A0B0C0E", NOW - 60)], NOW - 60)
    store.add_unknown("f" * 32, "s1", "0A0B0C1E", NOW - 500)  # before it was enrolled
    store.save_state(ROTATION_KEY, {"absent": ["stu-2"], "moved": {}, "visits": {},
                                    "groups": [{"id": "g1", "members": ["stu-1", "stu-2"]}]})
    before = everything(store.db)
    fail_on(store.db, "hub_state", "UPDATE")  # the saved lesson: the last thing it writes
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        erase_student(store, "stu-2")
    assert everything(store.db) == before
    assert roster.student("stu-2") is not None


def test_retention(hub) -> None:
    store, roster = hub
    ingest = Ingest(ROOM, store, roster, Rotation(PLAN))
    ingest.handle_batch([checkin("0A0B0C0D", NOW - 40 * 86400)], NOW - 40 * 86400)
    store.add_unknown("f" * 32, "s1", "DEADBEEF", NOW - 40 * 86400)
    before = everything(store.db)
    fail_on(store.db, "unknown_badges", "DELETE")
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        apply_retention(store, 30, NOW)
    assert everything(store.db) == before


def test_ingest_batch(hub) -> None:
    """The batch's last statement stores the check-ins: it fails, so the unknown badge, the
    station's status and the first check-ins are not kept, nor is anything in memory."""
    store, roster = hub
    ingest = Ingest(ROOM, store, roster, Rotation(PLAN))
    batch = [status("s1", NOW), checkin("DEADBEEF", NOW), checkin("0A0B0C0D", NOW),
             checkin("0A0B0C0F", NOW)]
    last_id = c.decode(*batch[-1])[1].id
    before, stats = everything(store.db), ingest.stats.copy()
    fail_on(store.db, "checkins", "INSERT", f"NEW.id = '{last_id}'")
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        ingest.handle_batch(batch, NOW)
    assert everything(store.db) == before
    assert ingest.stats == stats and ingest.arrivals == {} and ingest.station_states == {}
    store.db.execute("DROP TRIGGER fail_checkins_insert")
    replies = ingest.handle_batch(batch, NOW + 20)  # the stations send it all again
    assert len(replies) == 3 and store.checkin_count() == 2
    assert set(ingest.arrivals) == {"stu-1", "stu-3"}


def test_saved_lesson_state_with_the_check_ins_that_changed_it(hub) -> None:
    """A check-in lifts an absence and counts a visit: the lesson's state is saved in the
    same transaction, as its last statement. It fails: the check-in is not kept either, and
    the lesson in memory is as it was."""
    store, roster = hub
    rotation = Rotation(PLAN)
    rotation.start(NOW - 100)
    rotation.mark_absent("stu-3")
    store.save_state(ROTATION_KEY, rotation.to_dict())
    ingest = Ingest(ROOM, store, roster, rotation)
    before, lesson = everything(store.db), rotation.to_dict()
    fail_on(store.db, "hub_state", "UPDATE")
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        ingest.handle_batch([checkin("0A0B0C0D", NOW), checkin("0A0B0C0F", NOW)], NOW)
    assert everything(store.db) == before
    assert rotation.to_dict() == lesson and "stu-3" in rotation.absent
    store.db.execute("DROP TRIGGER fail_hub_state_update")
    ingest.handle_batch([checkin("0A0B0C0F", NOW)], NOW)
    saved = store.load_state(ROTATION_KEY)
    assert saved["absent"] == [] and saved["visits"] == {"stu-3": ["s1"]}


def test_outbox_quarantine(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    box.add("a" * 32, "t", b"{}", now=1)
    before = everything(box._db)
    fail_on(box._db, "outbox", "DELETE")  # after the copy into quarantine
    with pytest.raises(sqlite3.DatabaseError, match="injected"):
        box.quarantine("a" * 32, "activity_not_on_menu")
    assert everything(box._db) == before
    assert (box.pending_count(), box.quarantined_count()) == (1, 0)
