"""The day's CSV per class, retention, and one student's export and erasure."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import pytest

from broker import contract as c
from hub.export import apply_retention, day_bounds, erase_student, export_day, export_student
from hub.ingest import Ingest
from hub.roster import Roster, RosterEntry, Student
from hub.rotation import Rotation, RotationPlan
from hub.store import HubStore, checkin_row, open_db

ROOM = "room-1"
DAY = dt.date(2025, 3, 10)


def setup(tmp_path: Path) -> tuple[HubStore, Roster, Ingest]:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster.load([RosterEntry(Student("stu-1", "Ana", "Rivera"), ("0A0B0C0D",), ("c-4a",)),
                 RosterEntry(Student("stu-2", "Ben", "Okafor"), ("0A0B0C0E",),
                             ("c-4a", "c-art")),
                 RosterEntry(Student("stu-3", "Cy", "Day"), ("0A0B0C0F",))],
                {"c-4a": "Grade 4A", "c-art": "Art"})
    store = HubStore(db)
    return store, roster, Ingest(ROOM, store, roster, Rotation(RotationPlan((), (), 600)))


def tap(ingest: Ingest, badge: str, at: float, answers: dict[str, int]) -> None:
    m = c.CheckIn(**c.envelope("s1", at), badge=badge, answers=answers, activity="read",
                  tapped_at=at)
    ingest.handle_batch([(c.station_topic(ROOM, "s1", "checkin"), c.encode(m))], at)


def test_day_export_one_csv_per_class(tmp_path: Path) -> None:
    store, roster, ingest = setup(tmp_path)
    start, _end = day_bounds(DAY)
    tap(ingest, "0A0B0C0D", start + 9 * 3600, {"confidence": 1, "mood": 3})
    tap(ingest, "0A0B0C0E", start + 10 * 3600, {"confidence": 3})
    tap(ingest, "0A0B0C0F", start + 11 * 3600, {"goal": 2})
    tap(ingest, "0A0B0C0D", start - 3600, {"confidence": 2})  # the day before
    files = export_day(store, roster, DAY, tmp_path / "out")
    names = sorted(p.name for p in files)
    assert names == ["checkins-c-4a-2025-03-10.csv", "checkins-c-art-2025-03-10.csv",
                     "checkins-no-class-2025-03-10.csv"]
    with (tmp_path / "out" / names[0]).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["student_id"], r["time"], r["confidence"], r["mood"]) for r in rows] == \
        [("stu-1", "09:00:00", "1", "3"), ("stu-2", "10:00:00", "3", "")]
    assert rows[0]["given_name"] == "Ana" and rows[0]["class_id"] == "c-4a"
    only = export_day(store, roster, DAY, tmp_path / "one", class_id="c-art")
    assert [p.name for p in only] == ["checkins-c-art-2025-03-10.csv"]


def test_retention_deletes_only_what_is_old(tmp_path: Path) -> None:
    store, _roster, ingest = setup(tmp_path)
    now = time.time()
    tap(ingest, "0A0B0C0D", now - 40 * 86400, {"confidence": 1})
    tap(ingest, "0A0B0C0D", now - 3600, {"confidence": 2})
    store.add_unknown("f" * 32, "s1", "DEADBEEF", now - 40 * 86400)
    assert apply_retention(store, 0, now).checkins == 0  # 0 keeps everything
    purged = apply_retention(store, 30, now)
    assert (purged.checkins, purged.unknown_badges) == (1, 1)
    assert store.checkin_count() == 1


def test_export_then_erase_one_student(tmp_path: Path) -> None:
    store, roster, ingest = setup(tmp_path)
    now = time.time()
    tap(ingest, "0A0B0C0E", now - 60, {"confidence": 2})
    tap(ingest, "0A0B0C0D", now - 50, {"confidence": 3})
    state = {"groups": [{"id": "g1", "name": "Foxes", "members": ["stu-1", "stu-2"]}],
             "moved": {"stu-2": "g1"}, "absent": ["stu-2"], "visits": {}}
    store.save_state("rotation", state)
    data = export_student(store, roster, "stu-2", store.load_state("rotation"))
    assert data["student"]["given_name"] == "Ben"
    assert [b["badge"] for b in data["badges"]] == ["0A0B0C0E"]
    assert {e["class_id"] for e in data["enrollments"]} == {"c-4a", "c-art"}
    assert data["checkins"][0]["answers"] == {"confidence": 2}
    assert data["current_lesson"]["marked_absent"] is True
    erased = erase_student(store, "stu-2")
    assert (erased.checkins, erased.badges, erased.enrollments) == (1, 1, 2)
    assert roster.student("stu-2") is None and roster.student_for_badge("0A0B0C0E") is None
    assert store.checkin_count() == 1  # Ana's stays
    saved = store.load_state("rotation")
    assert "stu-2" not in saved["groups"][0]["members"] and saved["absent"] == []
    assert "stu-2" not in str(store.db.execute("SELECT * FROM checkins").fetchall())


def test_the_erase_command_says_what_it_removed_and_what_it_queued(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    """A hub with a district and an LRS: the erasure and the voiding statements are queued
    with it, and the command says so (what reaches them is tests/test_district_erase.py and
    tests/test_xapi.py)."""
    from hub.config import load_hub_config
    from hub.lrs import StatementFeed
    from hub.roster import read_roster
    from hub.service import statement_names
    from hub.uplink import DistrictFeed
    from stations.cli import main
    from tests.conftest import ROOM

    shutil.copy(ROOM / "roster.toml", tmp_path / "roster.toml")
    (tmp_path / "hub.toml").write_text(
        (ROOM / "hub.toml").read_text()
        + '\n[district]\nhost = "127.0.0.1"\nport = 1\nusername = "room-a"\npassword = "x"\n'
        + '\n[xapi]\nhomepage = "https://school.example"\nfile = "statements.jsonl"\n')
    config = load_hub_config(tmp_path / "hub.toml")
    db = open_db(config.database)
    roster = Roster(db)
    listed = read_roster(tmp_path / "roster.toml")
    roster.load(listed.entries, listed.classes)
    store = HubStore(db)
    district = DistrictFeed(config.room, "demo-4a", {})
    feed = StatementFeed(config.xapi, statement_names(config))
    now = time.time()
    for n in range(3):
        m = c.CheckIn(**c.envelope("s1", now - 100 + n), badge="0411A133",
                    answers={"confidence": 2}, activity="read", tapped_at=now - 110 + n)
        store.add_checkin_rows([checkin_row(m, "s1", "stu-01", now)],
                               [district.row(m, "s1", "stu-01", now)],
                               feed.rows(m, "s1", "stu-01", now))
        if n < 2:  # the first two reached the district and the LRS
            db.execute("DELETE FROM district_outbox WHERE id=?", (m.id,))
            db.execute("DELETE FROM xapi_outbox WHERE checkin_id=?", (m.id,))
    db.close()
    monkeypatch.chdir(tmp_path)
    assert main(["student", "erase", "stu-01", "--yes", "--config", "hub.toml"]) == 0
    said = capsys.readouterr().out
    assert "erased stu-01: 3 check-ins" in said
    assert "the district is asked to delete its copies" in said and "1 check-ins it never" in said
    assert "6 statements the learning record store has are voided" in said
    assert "3 never sent dropped" in said
    db = open_db(config.database)
    assert [json.loads(p)["kind"] for p, in db.execute("SELECT payload FROM district_outbox")] \
        == ["district_erasure"]
    voiding = [json.loads(s) for s, in db.execute("SELECT statement FROM xapi_outbox")]
    assert len(voiding) == 6 and all(v["object"]["objectType"] == "StatementRef"
                                     for v in voiding)
    db.close()
