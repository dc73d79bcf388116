"""Scores in the hub (hub/scores.py): a gradebook's CSV stored per class and standard with its
dates, students matched to the roster by any id the school uses, every problem named by file,
row and column with nothing stored; retention and a family's export and erasure cover them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hub.export import apply_retention, erase_student, export_student
from hub.oneroster import import_oneroster
from hub.roster import Roster, SchoolIds
from hub.scores import ScoresError, import_scores, latest_scores
from hub.store import HubStore, open_db
from stations.sqlitedb import transaction
from tests.conftest import ROOM

SAMPLES = ROOM / "samples"
NOW = dt.datetime(2025, 10, 6, 9, 0).timestamp()


@pytest.fixture
def roster(tmp_path: Path) -> Roster:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    import_oneroster(SAMPLES / "oneroster-1.2", roster)  # demo-4a, with student numbers
    return roster


def stored(roster: Roster) -> tuple[int, int]:
    db = roster.db
    return (db.execute("SELECT COUNT(*) FROM scores").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM score_imports").fetchone()[0])


def write(tmp_path: Path, text: str, name: str = "quiz.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_sample_imports_into_the_demo_room_and_the_latest_score_counts(
        roster: Roster, tmp_path: Path) -> None:
    result = import_scores(SAMPLES / "scores.csv", roster, "demo-4a", NOW)
    assert (result.students, result.scores) == (16, 79)
    assert result.dates == ("2025-09-19", "2025-10-03")
    assert result.standards == ("4.NF.A.1 equivalent fractions", "4.NF.A.2 compare fractions",
                                "4.NBT.B.5 multiply multi-digit")
    assert result.not_read == ("given_name", "family_name")  # names are not standards
    latest = latest_scores(roster.db, "demo-4a")
    assert latest.scores["stu-01"]["4.NF.A.1 equivalent fractions"] == 50  # 40, then 50
    # Gia missed the second quiz's fractions comparison: her earlier score still counts.
    assert latest.scores["stu-07"]["4.NF.A.2 compare fractions"] == 79
    assert latest.latest == "2025-10-03" and stored(roster) == (79, 1)
    # A later import adds to them; for the same day the later import counts.
    again = write(tmp_path, "sourcedId,date,4.NF.A.1 equivalent fractions\n"
                            "stu-01,2025-10-03,55\n")
    import_scores(again, roster, "demo-4a", NOW)
    assert latest_scores(roster.db, "demo-4a").scores["stu-01"][
        "4.NF.A.1 equivalent fractions"] == 55
    assert stored(roster) == (80, 2)


def test_students_are_matched_by_student_number_username_or_email(roster: Roster,
                                                                  tmp_path: Path) -> None:
    with transaction(roster.db):
        ella = roster.student("stu-05")
        assert ella is not None
        roster.upsert_student(ella, source="oneroster", ids=SchoolIds(email="Ella@school.org"))
    path = write(tmp_path, "Student Number,First Name,Last Name,Username,Email,Section,"
                           "Fractions (1-4),Total\n"
                           "40101,Ana,Rivera,,,4A,2,50\n"
                           ",Ben,Okafor,BEN.OKAFOR,,4A,4,90\n"
                           ",Ella,Schmidt,,ella@SCHOOL.org,4A,3,70\n")
    result = import_scores(path, roster, "demo-4a", NOW)
    assert result.standards == ("Fractions",) and result.dates == ("2025-10-06",)
    assert set(result.not_read) == {"First Name", "Last Name", "Section", "Total"}
    latest = latest_scores(roster.db, "demo-4a")
    assert {sid: s["Fractions"] for sid, s in latest.scores.items()} == {
        "stu-01": pytest.approx(100 / 3), "stu-02": 100.0, "stu-05": pytest.approx(200 / 3)}
    assert latest.scales == {"Fractions": "1-4"}


@pytest.mark.parametrize("text, row, column, problem", [
    ("sourcedId,date,fractions\nstu-01,2025-10-03,50\nstu-99,2025-10-03,60\n", 3,
     "sourcedId", "no student 'stu-99' in class demo-4a"),
    ("sourcedId,identifier,fractions\nstu-01,40102,50\n", 2, "identifier",
     "'40102' is Ben O. (stu-02) but sourcedId 'stu-01' is Ana R. (stu-01)"),
    ("sourcedId,first_name,given_name,fractions\nstu-01,Ana,Ana,50\n", 1, "given_name",
     "ambiguous column"),
    ("sourcedId,date,fractions\nstu-01,2025-10-03,Zoë\n", 2, "fractions",
     "score 'Zoë' is not a number"),
    ("sourcedId,date,fractions\nstu-01,3 Oct,50\n", 2, "date", "'3 Oct' is not a date"),
    ("sourcedId,date,fractions\nstu-01,2025-10-03,50\nstu-01,2025-10-03,60\n", 3, "date",
     "is on row 2 for 2025-10-03 already"),
    ("given_name,fractions\nAna,50\n", 1, None, "no column to match students by"),
    ("sourcedId,given_name,date\nstu-01,Ana,2025-10-03\n", 1, None, "no standards"),
    ("sourcedId,fractions (1-4)\nstu-01,5\n", 2, "fractions (1-4)", "outside the 1-4 scale"),
    ("sourcedId,fractions\nstu-01,50,7\n", 2, None, "has 3 fields but the header has 2"),
    ("sourcedId,assessment date,date,fractions\nstu-01,2025-10-03,2025-10-03,50\n", 1, "date",
     "both 'assessment date' and 'date' would be the date"),
])
def test_a_bad_scores_file_is_named_by_row_and_column_and_nothing_is_stored(
        roster: Roster, tmp_path: Path, text: str, row: int, column: str | None,
        problem: str) -> None:
    import_scores(SAMPLES / "scores.csv", roster, "demo-4a", NOW)
    before = stored(roster)
    path = write(tmp_path, text)
    with pytest.raises(ScoresError) as caught:
        import_scores(path, roster, "demo-4a", NOW)
    err = caught.value
    assert (err.file, err.row, err.column) == ("quiz.csv", row, column), str(err)
    assert problem in err.problem
    assert f"quiz.csv, row {row}" in str(err)
    assert stored(roster) == before


def test_a_student_of_another_class_or_no_class_is_refused(roster: Roster,
                                                          tmp_path: Path) -> None:
    with transaction(roster.db):
        roster.db.execute("INSERT INTO classes (id, title) VALUES ('demo-4b', 'Grade 4B')")
    path = write(tmp_path, "sourcedId,fractions\nstu-01,50\n")
    with pytest.raises(ScoresError, match=r"Ana R. \(stu-01\) is not a student of class "
                                          "demo-4b"):
        import_scores(path, roster, "demo-4b", NOW)
    with pytest.raises(ScoresError, match="no class 'nope' on this hub"):
        import_scores(path, roster, "nope", NOW)
    assert stored(roster) == (0, 0)


def test_retention_export_and_erasure_cover_scores(roster: Roster) -> None:
    import_scores(SAMPLES / "scores.csv", roster, "demo-4a", NOW)
    store = HubStore(roster.db)
    data = export_student(store, roster, "stu-07")
    assert [(s["taken_on"], s["standard"], s["score"]) for s in data["scores"]][:2] == [
        ("2025-09-19", "4.NF.A.1 equivalent fractions", 64.0),
        ("2025-09-19", "4.NF.A.2 compare fractions", 79.0)]
    assert data["scores"][0]["file"] == "scores.csv"
    # Kept 10 days on 2025-10-06: the quiz of 2025-09-19 goes, that of 2025-10-03 stays.
    purged = apply_retention(store, 10, NOW)
    assert purged.scores == 32 and stored(roster) == (47, 1)
    erased = erase_student(store, "stu-07")
    assert erased.scores == 2  # Gia had no fractions-comparison score on 2025-10-03
    assert roster.db.execute("SELECT COUNT(*) FROM scores WHERE student_id='stu-07'"
                             ).fetchone()[0] == 0
