"""The district tier end to end on a real Mosquitto (the generated district config: TLS, an
account and ACL per room) and a real PostgreSQL (a throwaway cluster from Debian's package):
two deployed rooms' hubs feed the real `stations district ingest`; a week offline loses
nothing; a forged record is refused; the reports hold no row-level student data."""

from __future__ import annotations

import csv
import datetime as dt
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from broker import contract as c
from broker.credentials import DeviceCredentials
from district import schema
from district.deployment import DeployedDistrict
from district.report import write_reports
from district.store import insert_records, stored_counts
from hub.config import load_hub_config
from hub.service import HubService
from stations.deployment import DeployedRoom
from tests.broker_helpers import Session, connect
from tests.conftest import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.broker,
              pytest.mark.usefixtures("need_mosquitto")]  # a failure in CI, never a skip
ROOMS = {"room-a": "school-1", "room-b": "school-2"}
STATIONS = ("s1", "s2", "s3", "s4")
BADGES = ("0411A133", "0412A236", "0413A339", "0414A43C", "0415A53F", "0416A642")
#: An activity on each demo station's menu (the hub refuses others).
MENU = {"s1": "practice", "s2": "quiz", "s3": "puzzle", "s4": "read"}


def room_session(district: DeployedDistrict, room: str) -> Session:
    t = district.room_table(room)
    creds = DeviceCredentials(room=room, device="hub", role="hub", host="127.0.0.1",
                              port=district.rooms_port, tls=True, username=t["username"],
                              password=t["password"], client_id=t["client_id"],
                              ca_file=Path(t["ca_file"]))
    return connect(creds, district.rooms_port)


def record(room: str, *, sender: str | None = None, tapped_at: float | None = None,
           student: str = "stu-01") -> c.DistrictCheckIn:
    now = time.time()
    return c.DistrictCheckIn(**c.envelope(sender or room, now), student=student,
                             class_id="demo-4a", station="s1", station_kind="online",
                             activity="read", answers={"confidence": 2},
                             tapped_at=tapped_at or now - 60, made_at=now - 50)


stop = DeployedDistrict.stop_ingest


@pytest.fixture
def district(tmp_path: Path, pg_dsn: str) -> Iterator[DeployedDistrict]:
    # A small queue for the ingest's sessions, so the outage below overflows it.
    deployed = DeployedDistrict(tmp_path / "district", rooms=ROOMS, dsn=pg_dsn,
                                settings={"broker_config": {"max_queued_messages": 50}})
    deployed.start()
    try:
        yield deployed
    finally:
        deployed.stop()


def test_two_rooms_reach_the_district_once_each_even_after_a_week_offline(
        tmp_path: Path, district: DeployedDistrict, pg_dsn: str) -> None:
    ingest = district.run_ingest(workers=2)
    rooms: list[DeployedRoom] = []
    hubs: list[HubService] = []
    stations: list[tuple[str, Session]] = []
    try:
        assert wait_until(lambda: district.ingest_connected(2), 30), district.broker.log_text()
        for room_id in ROOMS:
            room = DeployedRoom(tmp_path / room_id, room=room_id, stations=STATIONS).start()
            rooms.append(room)
            hub_toml = room.hub_config(settings={"process": False})
            district.join(hub_toml, room_id, resend_seconds=3)
            hub = HubService(load_hub_config(hub_toml))
            hub.start()
            hubs.append(hub)
            stations += [(room_id, connect(room.creds(s), room.tls_port)) for s in STATIONS]

        def check_in(count: int, days: float) -> list[str]:
            ids = []
            now = time.time()
            for n in range(count):
                for room_id, session in stations:
                    station = session.client._client_id.decode()
                    tapped = now - days * 86400 * n / max(1, count)
                    m = c.CheckIn(**c.envelope(station, tapped + 20),
                                  badge=BADGES[n % len(BADGES)],
                                  answers={"confidence": n % 4}, activity=MENU[station],
                                  tapped_at=tapped)
                    ack = session.publish(c.station_topic(room_id, station, "checkin"),
                                          c.encode(m))
                    assert not ack.is_failure  # type: ignore[attr-defined]
                    ids.append(m.id)
            return ids

        def in_hubs() -> int:
            total = 0
            for room in rooms:
                with sqlite3.connect(room.folder / "hub.db") as db:
                    total += db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
            return total

        def pending() -> int:
            total = 0
            for room in rooms:
                with sqlite3.connect(room.folder / "hub.db") as db:
                    total += db.execute("SELECT COUNT(*) FROM district_outbox").fetchone()[0]
            return total

        def in_district(ids: list[str]) -> dict[str, int]:
            with psycopg.connect(pg_dsn) as conn:
                return stored_counts(conn, ids)

        ids = check_in(5, days=0)
        assert wait_until(lambda: in_hubs() == len(ids), 20)
        assert wait_until(lambda: pending() == 0, 30), f"{pending()} still queued"
        assert set(in_district(ids).values()) == {1}

        # A week offline: the district broker goes down, then the ingest; the rooms keep
        # storing a week of check-ins (spread over 7 days, across a month's partitions).
        district.broker.stop()
        stop(ingest)
        week = check_in(30, days=7)
        assert wait_until(lambda: in_hubs() == len(ids) + len(week), 30)
        assert pending() == len(week)
        # The broker comes back first: the hubs send everything while no worker is there,
        # more than the ingest's sessions may queue (50 each); then the ingest returns.
        mark = len(district.broker.log_text())
        district.broker.start()
        time.sleep(3)
        ingest = district.run_ingest(workers=2)
        assert wait_until(lambda: district.ingest_connected(2, mark), 30)
        assert wait_until(lambda: pending() == 0, 60), f"{pending()} still queued"
        counts = in_district(ids + week)
        assert [i for i, n in counts.items() if n != 1] == []
        # What the broker could not queue for the absent workers came again from the rooms.
        assert sum(hub.uplink.resent for hub in hubs if hub.uplink is not None) > 0
        with psycopg.connect(pg_dsn) as conn:
            assert conn.execute("SELECT count(*) FROM checkins").fetchone()[0] == \
                len(ids) + len(week)
            assert conn.execute("SELECT count(DISTINCT student) FROM checkins").fetchone()[0] \
                == len(BADGES)
            assert not conn.execute("SELECT 1 FROM checkins WHERE answers::text LIKE '%04%' "
                                    "OR student LIKE '04%'").fetchall()  # no badge ids
    finally:
        for _, session in stations:
            session.close()
        for hub in hubs:
            hub.stop()
        for room in rooms:
            room.stop()
        stop(ingest)


def test_a_forged_record_is_refused_and_a_bad_one_counted_never_stored(
        district: DeployedDistrict, pg_dsn: str) -> None:
    ingest = district.run_ingest(workers=1)
    room_a = room_session(district, "room-a")
    room_b = room_session(district, "room-b")
    try:
        assert wait_until(lambda: district.ingest_connected(1), 30)
        room_a.subscribe(c.district_topic("room-a", "district/ack"))
        room_b.subscribe(c.district_topic("room-b", "district/ack"))
        # Mosquitto grants the subscription but delivers nothing the ACL does not allow.
        room_a.subscribe(c.district_topic("room-b", "district/ack"))
        forged = record("room-b")
        refused = room_a.publish(c.district_topic("room-b", "district/checkin"),
                                 c.encode(forged))
        assert refused.is_failure and refused.value == 0x87  # type: ignore[attr-defined]
        # On its own topic, a record claiming to be room-b's, and a broken one.
        claim = record("room-a", sender="room-b")
        good = record("room-a")
        for payload in (c.encode(claim), b'{"v": 1, "kind": "district_checkin"}',
                        c.encode(good)):
            ack = room_a.publish(c.district_topic("room-a", "district/checkin"), payload)
            assert not ack.is_failure  # type: ignore[attr-defined]
        acks: list[c.DistrictAck] = []
        assert wait_until(lambda: bool(acks.extend(
            c.decode(m.topic, m.payload)[1] for m in room_a.received(0.2)))
            or any(good.id in a.stored for a in acks), 20)
        assert any(r.id == claim.id and r.reason == "sender_mismatch"
                   for a in acks for r in a.rejected)
        own_b = record("room-b")
        room_b.publish(c.district_topic("room-b", "district/checkin"), c.encode(own_b))
        assert wait_until(lambda: any(own_b.id in c.decode(m.topic, m.payload)[1].stored
                                      for m in room_b.received(0.2)), 20)
        assert all(m.topic.startswith("stations/v1/room-a/") for m in room_a.received(0.5))
        with psycopg.connect(pg_dsn) as conn:
            assert stored_counts(conn, [forged.id, claim.id, good.id, own_b.id]) == \
                {forged.id: 0, claim.id: 0, good.id: 1, own_b.id: 1}
            assert dict(conn.execute("SELECT reason, count FROM ingest_rejections")) == \
                {"sender_mismatch": 1, "invalid": 1}
    finally:
        room_a.close()
        room_b.close()
        stop(ingest)


def test_schema_migrates_once_makes_partitions_ahead_and_drops_expired_months(
        pg_dsn: str) -> None:
    today = dt.date(2026, 3, 15)
    with psycopg.connect(pg_dsn) as conn:
        schema.prepare(conn, months_ahead=2, keep_months=6, rooms=[("room-a", "s-1")],
                       today=today)
        assert schema.migrate(conn) == []  # nothing left to apply
        assert sorted(schema.partitions(conn)) == [dt.date(2026, m, 1) for m in (3, 4, 5)]
        schema.ensure_partitions(conn, [dt.date(2025, 8, 9), dt.date(2025, 9, 1)])
        old = dt.datetime(2025, 8, 9, tzinfo=dt.UTC).timestamp()
        with conn.transaction():
            insert_records(conn, [(record("room-a", tapped_at=old), b'{"confidence": 2}')])
        assert schema.drop_expired(conn, today, keep_months=6) == ["checkins_y2025m08"]
        assert conn.execute("SELECT count(*) FROM checkins").fetchone()[0] == 0
        assert dt.date(2025, 9, 1) in schema.partitions(conn)


def test_reports_are_aggregates_and_small_groups_are_withheld(
        tmp_path: Path, district: DeployedDistrict, pg_dsn: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    from stations.cli import main

    assert main(["district", "migrate", "--config", str(district.path)]) == 0
    now = time.time()
    with psycopg.connect(pg_dsn) as conn:
        rows = []
        for n in range(12):  # room-a: 6 students; room-b: 2 students (withheld)
            room = "room-a" if n < 10 else "room-b"
            r = record(room, student=f"stu-{n % 6 if room == 'room-a' else n}",
                       tapped_at=now - 3600)
            rows.append((r, f'{{"confidence": {n % 3}}}'.encode()))
        with conn.transaction():
            insert_records(conn, rows)
    out = tmp_path / "reports"
    assert main(["district", "report", "--config", str(district.path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "schools.csv: 1 rows (1 withheld: under 5 students)" in printed
    assert sorted(p.name for p in out.iterdir()) == \
        ["activities.csv", "classes.csv", "reflections.csv", "schools.csv"]
    schools = list(csv.DictReader((out / "schools.csv").open()))
    assert [(s["school"], s["checkins"], s["students"]) for s in schools] == \
        [("school-1", "10", "6")]
    reflections = list(csv.DictReader((out / "reflections.csv").open()))
    assert sorted((r["answer"], r["answers"]) for r in reflections) == \
        [("0", "4"), ("1", "3"), ("2", "3")]
    text = "".join(p.read_text() for p in out.iterdir())
    assert "stu-" not in text and "room-" not in text  # no student, nor a room of one class
    with psycopg.connect(pg_dsn) as conn:  # days outside --from/--to are left out
        assert write_reports(conn, district.config, tmp_path / "again",
                             start=dt.date.today() + dt.timedelta(days=2))[0].rows == 0


def test_the_district_broker_config_keeps_secrets_and_revokes_rooms_it_no_longer_lists(
        tmp_path: Path, district: DeployedDistrict) -> None:
    from district.broker_config import generate
    from district.config import load_district_config

    before = district.room_table("room-a")["password"]
    text = district.path.read_text()
    start = text.index('[[rooms]]\nid = "room-b"')
    district.path.write_text(text[:start])
    result = generate(load_district_config(district.path), district.out)
    assert result.revoked == ["room-b"] and result.new_secrets == []
    assert district.room_table("room-a")["password"] == before
    acl = (district.out / "broker" / "acl.rooms").read_text()
    assert "room-b" not in acl and "topic write stations/v1/room-a/district/checkin" in acl
    assert os.stat(district.out / "broker" / "passwd.rooms").st_mode & 0o777 == 0o600
