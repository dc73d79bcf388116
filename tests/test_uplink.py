"""The hub's district outbox and uplink core on a real SQLite: a check-in and its district
record are one transaction; records leave only when the district's ack names them."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from broker import contract as c
from hub.export import erase_student
from hub.roster import Roster, read_roster
from hub.store import HubStore, open_db
from hub.uplink import DistrictFeed, Uplink
from tests.conftest import ROOM

NOW = time.time()
FEED = DistrictFeed("room-a", "class-4a", {"s1": "online"})


def checkin(n: int = 0, badge: str = "0411A133") -> c.CheckIn:
    return c.CheckIn(**c.envelope("s1", NOW), badge=badge, answers={"confidence": 2},
                     activity="read", tapped_at=NOW - 10 - n)


def ack(*stored: str, rejected: tuple[tuple[str, str], ...] = ()) -> tuple[str, bytes]:
    message = c.DistrictAck(**c.envelope("ingest", NOW), stored=stored,
                            rejected=tuple(c.RejectedRecord(i, r) for i, r in rejected))
    return c.district_topic("room-a", "district/ack"), c.encode(message)


@pytest.fixture
def store(tmp_path: Path) -> HubStore:
    return HubStore(open_db(tmp_path / "hub.db"))


def test_the_record_carries_the_roster_id_and_no_badge_or_name(store: HubStore) -> None:
    message = checkin()
    store.add_checkin(message, "s1", "stu-01", NOW, FEED.row(message, "s1", "stu-01", NOW))
    [queued] = store.district_after(0, 10)
    _, record = c.decode(c.district_topic("room-a", "district/checkin"), queued.payload)
    assert isinstance(record, c.DistrictCheckIn)
    assert (record.id, record.sender, record.student, record.class_id, record.station_kind) \
        == (message.id, "room-a", "stu-01", "class-4a", "online")
    assert message.badge not in queued.payload.decode()


def test_a_check_in_is_never_stored_without_its_district_record(store: HubStore) -> None:
    """The last statement of the transaction fails: neither the check-in nor its record stays."""
    message = checkin()
    store.db.execute("CREATE TRIGGER boom BEFORE INSERT ON district_outbox "
                     "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        store.add_checkin(message, "s1", "stu-01", NOW, FEED.row(message, "s1", "stu-01", NOW))
    assert store.checkin_count() == 0 and store.district_pending() == 0
    rows = [(m, FEED.row(m, "s1", "stu-01", NOW)) for m in (checkin(1), checkin(2))]
    with pytest.raises(sqlite3.IntegrityError):
        store.add_checkin_rows([(m.id, "s1", "stu-01", m.badge, "{}", m.activity, m.tapped_at,
                                 m.ts, NOW) for m, _ in rows], [r for _, r in rows])
    assert store.checkin_count() == 0 and store.district_pending() == 0


def test_ingest_queues_every_stored_check_in_once(tmp_path: Path) -> None:
    from hub.config import load_hub_config
    from hub.ingest import Ingest
    from hub.rotation import Rotation

    config = load_hub_config(ROOM / "hub.toml")
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster_file = read_roster(config.roster)
    roster.load(roster_file.entries, roster_file.classes)
    store = HubStore(db)
    ingest = Ingest(config.room, store, roster, Rotation(config.plan),
                    district=DistrictFeed(config.room, "demo-4a",
                                          {s.id: s.kind for s in config.plan.stations}))
    messages = [c.CheckIn(**c.envelope("s1", NOW), badge="0411A133", answers={"confidence": 2},
                          activity="practice", tapped_at=NOW - n) for n in range(5)]
    batch = [(c.station_topic(config.room, "s1", "checkin"), c.encode(m)) for m in messages]
    ingest.handle_batch(batch + batch[:2], NOW)  # two resends in the same batch
    ingest.handle_batch(batch[2:], NOW)  # and three in the next
    assert store.checkin_count() == 5
    assert [r.id for r in store.district_after(0, 100)] == [m.id for m in messages]


def test_uplink_sends_a_window_resends_unconfirmed_and_forgets_only_acked(
        store: HubStore) -> None:
    clock = [100.0]
    messages = [checkin(n) for n in range(5)]
    for m in messages:
        store.add_checkin(m, "s1", "stu-01", NOW, FEED.row(m, "s1", "stu-01", NOW))
    uplink = Uplink(store, "room-a", window=3, resend_s=30, clock=lambda: clock[0])
    first = uplink.due()
    assert [json.loads(p)["id"] for _, p in first] == [m.id for m in messages[:3]]
    assert uplink.due() == []  # the window is full
    uplink.acknowledged(*ack(messages[0].id, messages[1].id))
    assert [json.loads(p)["id"] for _, p in uplink.due()] == [m.id for m in messages[3:]]
    assert store.district_pending() == 3
    clock[0] += 31  # no ack for 30 s: the unconfirmed window goes again
    assert [json.loads(p)["id"] for _, p in uplink.due()] == [m.id for m in messages[2:]]
    uplink.acknowledged(*ack(messages[2].id, rejected=((messages[3].id, "invalid"),)))
    assert store.district_refusals() == [(messages[3].id, "invalid")]
    uplink.reset()  # a reconnect: everything unconfirmed, nothing refused
    assert [json.loads(p)["id"] for _, p in uplink.due()] == [messages[4].id]
    assert (uplink.confirmed, uplink.refused) == (3, 1)


@pytest.mark.parametrize("payload", [b"{}", b"not json"])
def test_a_bad_ack_changes_nothing(store: HubStore, payload: bytes) -> None:
    m = checkin()
    store.add_checkin(m, "s1", "stu-01", NOW, FEED.row(m, "s1", "stu-01", NOW))
    uplink = Uplink(store, "room-a")
    uplink.acknowledged(c.district_topic("room-a", "district/ack"), payload)
    uplink.acknowledged(c.district_topic("room-b", "district/ack"), ack(m.id)[1])
    assert store.district_pending() == 1 and uplink.bad_acks == 2


def test_erasing_a_student_erases_what_the_district_has_not_got(tmp_path: Path) -> None:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster_file = read_roster(ROOM / "roster.toml")
    roster.load(roster_file.entries, roster_file.classes)
    store = HubStore(db)
    m = checkin()
    store.add_checkin(m, "s1", "stu-01", NOW, FEED.row(m, "s1", "stu-01", NOW))
    erase_student(store, "stu-01")
    assert store.district_pending() == 0


def test_an_erasure_is_queued_with_the_erasure_or_not_at_all(tmp_path: Path) -> None:
    """The erasure replaces the student's queued check-ins in the outbox, in the transaction
    that erases them here: a failure keeps the student and queues nothing."""
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster_file = read_roster(ROOM / "roster.toml")
    roster.load(roster_file.entries, roster_file.classes)
    store = HubStore(db)
    for n, (student, badge) in enumerate([("stu-01", "0411A133"), ("stu-02", "0412A236")]):
        m = checkin(n, badge)
        store.add_checkin(m, "s1", student, NOW, FEED.row(m, "s1", student, NOW))
    db.execute("CREATE TRIGGER boom BEFORE INSERT ON district_outbox "
               "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        erase_student(store, "stu-01", district=FEED, now=NOW + 5)
    assert roster.student("stu-01") is not None and store.district_pending() == 2
    db.execute("DROP TRIGGER boom")
    erased = erase_student(store, "stu-01", district=FEED, now=NOW + 5)
    assert erased.district_queued and erased.district_unsent == 1
    queued = store.district_after(0, 10)
    assert len(queued) == 2
    _, erasure = c.decode(c.district_topic("room-a", "district/checkin"), queued[-1].payload)
    assert isinstance(erasure, c.DistrictErasure)
    assert (erasure.sender, erasure.student, erasure.ts) == ("room-a", "stu-01", NOW + 5)
    assert b"Ana" not in queued[-1].payload  # the roster id only, never a name
    # It goes like a record, on the room's record topic, and leaves when acknowledged.
    uplink = Uplink(store, "room-a")
    assert [t for t, _ in uplink.due()] == [c.district_topic("room-a", "district/checkin")] * 2
    uplink.acknowledged(*ack(erasure.id))
    assert store.district_pending() == 1


@pytest.mark.parametrize(("table", "key", "problem"), [
    ('host = "d.example"\nusername = "room-a"\npassword = "x"\nwindw = 5\n', "district.windw",
     "did you mean `window`"),
    ('host = "d.example"\nusername = "room-a"\n', "district.password", "the room's own account"),
    ('host = "d.example"\nusername = "room-a"\npassword = "x"\nca_file = "nope.crt"\n',
     "district.ca_file", "does not exist"),
    ('host = "d.example"\nusername = "room-a"\npassword = "x"\nresend_seconds = 0\n',
     "district.resend_seconds", "greater than 0"),
])
def test_a_bad_district_table_is_refused_naming_the_key(tmp_path: Path, table: str, key: str,
                                                        problem: str) -> None:
    from hub.config import load_hub_config
    from stations.errors import ConfigError

    (tmp_path / "roster.toml").write_text((ROOM / "roster.toml").read_text())
    path = tmp_path / "hub.toml"
    path.write_text((ROOM / "hub.toml").read_text() + "\n[district]\n" + table)
    with pytest.raises(ConfigError) as err:
        load_hub_config(path)
    assert err.value.key == key and problem in err.value.problem
