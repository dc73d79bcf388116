"""A family's erasure reaches the district: on a real Mosquitto (the generated district config:
TLS, an account and ACL per room) and a real PostgreSQL, through the real `stations district
ingest`. The hub queues the erasure in the transaction that erases the student; the worker
deletes that student's rows of that room, keeps a tombstone so that a record still in flight
cannot bring them back, acknowledges a resend without deleting more, and refuses a forgery."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from broker import contract as c
from district.config import load_district_config
from district.deployment import DeployedDistrict
from district.report import write_reports
from district.store import student_digest
from hub.config import load_hub_config
from hub.service import HubService
from stations.deployment import DeployedRoom
from tests.broker_helpers import Session, connect
from tests.conftest import wait_until
from tests.test_district import ROOMS, record, room_session

pytestmark = [pytest.mark.postgres, pytest.mark.broker,
              pytest.mark.usefixtures("need_mosquitto")]  # a failure in CI, never a skip
STATIONS = ("s1", "s2")
#: The demo roster's badges of stu-01, stu-02 and stu-03.
BADGES = {"stu-01": "0411A133", "stu-02": "0412A236", "stu-03": "0413A339"}
MENU = {"s1": "practice", "s2": "quiz"}
stop = DeployedDistrict.stop_ingest


@pytest.fixture
def district(tmp_path: Path, pg_dsn: str) -> Iterator[DeployedDistrict]:
    deployed = DeployedDistrict(tmp_path / "district", rooms=ROOMS, dsn=pg_dsn)
    deployed.start()
    try:
        yield deployed
    finally:
        deployed.stop()


def rows(pg_dsn: str, room: str, student: str) -> int:
    with psycopg.connect(pg_dsn) as conn:
        return conn.execute("SELECT count(*) FROM checkins WHERE room=%s AND student=%s",
                            (room, student)).fetchone()[0]


def test_an_erased_student_leaves_the_district_even_when_it_was_down(
        tmp_path: Path, district: DeployedDistrict, pg_dsn: str) -> None:
    ingest = district.run_ingest(workers=2)
    room = DeployedRoom(tmp_path / "room-a", room="room-a", stations=STATIONS).start()
    hub_toml = room.hub_config(settings={"process": False})
    district.join(hub_toml, "room-a", resend_seconds=3)
    hub = HubService(load_hub_config(hub_toml))
    hub.start()
    stations = [connect(room.creds(s), room.tls_port) for s in STATIONS]
    other_room = room_session(district, "room-b")

    def pending() -> int:
        with sqlite3.connect(room.folder / "hub.db") as db:
            return db.execute("SELECT COUNT(*) FROM district_outbox").fetchone()[0]

    def stored() -> int:
        with sqlite3.connect(room.folder / "hub.db") as db:
            return db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]

    try:
        assert wait_until(lambda: district.ingest_connected(2), 30), district.broker.log_text()
        now = time.time()
        for n in range(3):
            for session, station in zip(stations, STATIONS, strict=True):
                for badge in BADGES.values():
                    m = c.CheckIn(**c.envelope(station, now - 600 + n), badge=badge,
                                  answers={"confidence": n}, activity=MENU[station],
                                  tapped_at=now - 620 + n)
                    assert not session.publish(c.station_topic("room-a", station, "checkin"),
                                               c.encode(m)).is_failure  # type: ignore[attr-defined]
        assert wait_until(lambda: stored() == 18, 20)
        # Another room's student with the same sourcedId is not room-a's to erase.
        theirs = record("room-b", student="stu-01")
        other_room.subscribe(c.district_topic("room-b", "district/ack"))
        other_room.publish(c.district_topic("room-b", "district/checkin"), c.encode(theirs))
        assert wait_until(lambda: pending() == 0, 30), f"{pending()} still queued"
        assert [rows(pg_dsn, "room-a", s) for s in BADGES] == [6, 6, 6]
        assert wait_until(lambda: rows(pg_dsn, "room-b", "stu-01") == 1, 20)

        erased = hub.erase_student("stu-01").result(timeout=10)
        assert erased.checkins == 6 and erased.district_queued and erased.district_unsent == 0
        assert wait_until(lambda: pending() == 0, 30), f"{pending()} still queued"
        assert rows(pg_dsn, "room-a", "stu-01") == 0
        assert [rows(pg_dsn, "room-a", s) for s in ("stu-02", "stu-03")] == [6, 6]
        assert rows(pg_dsn, "room-b", "stu-01") == 1
        with psycopg.connect(pg_dsn) as conn:
            # The tombstone keeps a digest, not the student's id.
            assert conn.execute("SELECT room, digest FROM erasures").fetchall() == [
                ("room-a", student_digest("room-a", "stu-01"))]
            # The reports keep working on what is left.
            written = write_reports(conn, load_district_config(district.path),
                                    tmp_path / "reports")
            assert all(w.path.exists() for w in written)

        # The district goes down; the teacher erases another student; the hub restarts.
        district.broker.stop()
        erased = hub.erase_student("stu-02").result(timeout=10)
        assert erased.district_queued and pending() == 1
        hub.stop()
        hub = HubService(load_hub_config(hub_toml))
        hub.start()
        assert pending() == 1
        district.broker.start()
        assert wait_until(lambda: pending() == 0, 60), f"{pending()} still queued"
        assert rows(pg_dsn, "room-a", "stu-02") == 0
        assert rows(pg_dsn, "room-a", "stu-03") == 6
        assert rows(pg_dsn, "room-b", "stu-01") == 1
    finally:
        for session in stations:
            session.close()
        other_room.close()
        hub.stop()
        room.stop()
        stop(ingest)


def acks_of(session: Session, wanted: str, acks: list[c.DistrictAck]) -> bool:
    acks.extend(c.decode(m.topic, m.payload)[1] for m in session.received(0.2))
    return any(wanted in a.stored or any(r.id == wanted for r in a.rejected) for a in acks)


def test_a_resent_erasure_changes_nothing_a_late_record_is_refused_a_forgery_too(
        district: DeployedDistrict, pg_dsn: str) -> None:
    ingest = district.run_ingest(workers=2)
    room_a = room_session(district, "room-a")
    room_b = room_session(district, "room-b")
    topic_a = c.district_topic("room-a", "district/checkin")
    try:
        assert wait_until(lambda: district.ingest_connected(2), 30)
        room_a.subscribe(c.district_topic("room-a", "district/ack"))
        room_b.subscribe(c.district_topic("room-b", "district/ack"))
        acks: list[c.DistrictAck] = []
        now = time.time()
        early = [record("room-a", student=s) for s in ("stu-01", "stu-01", "stu-02")]
        b_own = record("room-b", student="stu-01")
        for r in early:
            room_a.publish(topic_a, c.encode(r))
        room_b.publish(c.district_topic("room-b", "district/checkin"), c.encode(b_own))
        assert wait_until(lambda: acks_of(room_a, early[-1].id, acks), 20)
        assert wait_until(lambda: rows(pg_dsn, "room-b", "stu-01") == 1, 20)

        # room-a may not erase room-b's student: the broker refuses the topic, the worker
        # refuses room-a's own topic carrying a claim to be room-b.
        forged = c.DistrictErasure(**c.envelope("room-b", now), student="stu-01")
        refused = room_a.publish(c.district_topic("room-b", "district/checkin"),
                                 c.encode(forged))
        assert refused.is_failure and refused.value == 0x87  # type: ignore[attr-defined]
        room_a.publish(topic_a, c.encode(forged))
        assert wait_until(lambda: acks_of(room_a, forged.id, acks), 20)
        assert any(r.id == forged.id and r.reason == "sender_mismatch"
                   for a in acks for r in a.rejected)
        assert rows(pg_dsn, "room-b", "stu-01") == 1 and rows(pg_dsn, "room-a", "stu-01") == 2

        erasure = c.DistrictErasure(**c.envelope("room-a", now), student="stu-01")
        room_a.publish(topic_a, c.encode(erasure))
        assert wait_until(lambda: acks_of(room_a, erasure.id, acks), 20)
        assert any(erasure.id in a.stored for a in acks)
        assert rows(pg_dsn, "room-a", "stu-01") == 0
        assert rows(pg_dsn, "room-a", "stu-02") == 1 and rows(pg_dsn, "room-b", "stu-01") == 1

        # A check-in the hub stored before the erasure, arriving after it (it was in flight),
        # is refused; one stored after (the student re-enrolled) is kept.
        late = c.DistrictCheckIn(**c.envelope("room-a", now - 5), student="stu-01",
                                 class_id="demo-4a", station="s1", station_kind="online",
                                 activity="read", answers={"confidence": 1},
                                 tapped_at=now - 60, made_at=now - 50)
        time.sleep(0.01)
        again = record("room-a", student="stu-01")  # stored after the erasure
        room_a.publish(topic_a, c.encode(late))
        assert wait_until(lambda: acks_of(room_a, late.id, acks), 20)
        assert any(r.id == late.id and r.reason == "erased" for a in acks for r in a.rejected)
        room_a.publish(topic_a, c.encode(again))
        assert wait_until(lambda: acks_of(room_a, again.id, acks), 20)
        assert any(again.id in a.stored for a in acks)
        assert rows(pg_dsn, "room-a", "stu-01") == 1

        # The erasure sent again (no ack reached the hub): acknowledged, nothing more deleted.
        resent: list[c.DistrictAck] = []
        room_a.publish(topic_a, c.encode(erasure))
        assert wait_until(lambda: acks_of(room_a, erasure.id, resent), 20)
        assert any(erasure.id in a.stored for a in resent)
        assert rows(pg_dsn, "room-a", "stu-01") == 1 and rows(pg_dsn, "room-a", "stu-02") == 1
        with psycopg.connect(pg_dsn) as conn:
            assert conn.execute("SELECT count(*) FROM erasures").fetchone()[0] == 1
            assert dict(conn.execute("SELECT reason, count FROM ingest_rejections")) == \
                {"sender_mismatch": 1, "erased": 1}
    finally:
        room_a.close()
        room_b.close()
        stop(ingest)
