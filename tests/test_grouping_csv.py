"""The class CSV reader, the constraints file and the ``stations group`` command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from hub.grouping.classcsv import parse_class_csv, read_class_csv
from hub.grouping.cli import SAMPLE_DIR, register
from hub.grouping.constraintsfile import read_constraints
from hub.grouping.errors import ClassCsvError, ConstraintsError

GOOD = """student_id,name,fractions,decimals (1-4),preferences,confidence_trend
s1,Ana,42,2,lego;art,falling
s2,Ben,,4,art,0.5
s3,Cid,NA,1,,
"""


def test_reads_scores_scales_preferences_and_trends() -> None:
    cls = parse_class_csv(GOOD)
    assert cls.standards == ("fractions", "decimals")
    assert cls.scales == {"fractions": "0-100", "decimals": "1-4"}
    ana, ben, cid = cls.students
    assert ana.scores == {"fractions": 42.0, "decimals": pytest.approx(100 / 3)}
    assert ben.scores["fractions"] is None and ben.scores["decimals"] == 100.0
    assert cid.scores["decimals"] == 0.0
    assert ana.preferences == ("lego", "art") and cid.preferences == ()
    assert ana.features["confidence_trend"] == -1.0 and ben.features["confidence_trend"] == 0.5
    assert cid.features["confidence_trend"] is None
    assert ana.label == "Ana"


def test_semicolon_separated_with_bom_and_auto_rubric_scale() -> None:
    cls = parse_class_csv("\ufeffid;ratios\nx;3\ny;4\n")
    assert cls.scales["ratios"] == "1-4"
    assert [s.scores["ratios"] for s in cls.students] == [pytest.approx(200 / 3), 100.0]


@pytest.mark.parametrize(("text", "row", "column", "problem"), [
    ("", None, None, "the file is empty"),
    ("s1,40,50\ns2,60,70\n", 1, None, "missing header"),
    ("student_id,fractions\ns1,40\ns1,50\n", 3, "student_id", "duplicate student 's1' (first "
                                                               "on row 2)"),
    ("student_id,fractions\ns1,forty\n", 2, "fractions", "score 'forty' is not a number"),
    ("student_id,fractions\ns1,140\n", 2, "fractions", "score '140' is outside 0-100"),
    ("student_id,fractions (1-4)\ns1,7\n", 2, "fractions (1-4)", "outside the 1-4 scale"),
    ("student_id,fractions\ns1,40,50\n", 2, None, "has 3 fields but the header has 2"),
    ("student_id,fractions\n,40\n", 2, "student_id", "missing student id"),
    ("student_id,fractions,Fractions\ns1,1,2\n", 1, "Fractions", "duplicate column"),
    ("student_id,confidence_trend\ns1,sad\n", 2, "confidence_trend", "must be -1 to 1"),
    ("student_id,preferences\ns1,art;art\n", 2, "preferences", "listed twice"),
    ("student_id,fractions\n", None, None, "no student rows"),
])
def test_rejects_bad_input_naming_row_and_column(text: str, row: int | None,
                                                 column: str | None, problem: str) -> None:
    with pytest.raises(ClassCsvError) as info:
        parse_class_csv(text, "class.csv")
    err = info.value
    assert (err.row, err.column) == (row, column)
    assert problem in str(err)
    assert str(err).startswith("class.csv")
    assert isinstance(err, ValueError)


def test_blank_lines_keep_spreadsheet_row_numbers() -> None:
    with pytest.raises(ClassCsvError, match=r"row 4, column 'm': score 'x'"):
        parse_class_csv("student_id,m\ns1,1\n\ns2,x\n", "c.csv")


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ClassCsvError, match="file not found"):
        read_class_csv(tmp_path / "missing.csv")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("student_id,name\ns1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(ClassCsvError, match="not UTF-8"):
        read_class_csv(bad)


@pytest.mark.parametrize(("data", "message"), [
    ("[1]", "must be a JSON object"),
    ('{"groups": "five"}', "groups: must be a whole number"),
    ('{"keep_apart": [["a"]]}', "keep_apart[0]: must be a pair of student ids"),
    ('{"pinned": {"a": "one"}}', "pinned.a: must be a whole number"),
    ('{"colour": 1}', "colour: unknown key"),
    ('{"groups": 2,', "not valid JSON"),
    ('{"fewest_moves": 1}', "fewest_moves: must be true or false"),
])
def test_constraints_file_errors_name_the_key(tmp_path: Path, data: str, message: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(data)
    with pytest.raises(ConstraintsError) as info:
        read_constraints(path)
    assert message in str(info.value) and str(path) in str(info.value)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="stations")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.mark.parametrize("mode", ["skill", "mixed", "interest"])
def test_cli_groups_the_shipped_sample(mode: str, capsys: pytest.CaptureFixture[str]) -> None:
    sample = SAMPLE_DIR / "class-7b.csv"
    constraints = SAMPLE_DIR / "class-7b-constraints.json"
    assert run_cli("group", str(sample), "--mode", mode, "--groups", "5", "--constraints",
                   str(constraints), "--json") == 0
    out = capsys.readouterr().out.strip().splitlines()
    payload = json.loads(out[-1])
    cls = read_class_csv(sample)
    c = read_constraints(constraints)
    groups = payload["groups"]
    assert len(groups) == 5
    assert sorted(s for g in groups for s in g) == sorted(s.id for s in cls.students)
    where = {s: k for k, g in enumerate(groups) for s in g}
    assert all(where[a] != where[b] for a, b in c.keep_apart)
    assert all(where[s] == k - 1 for s, k in c.pinned.items())
    assert set(payload["reasons"]) == set(where)
    assert isinstance(payload["score"], float)
    assert out[0].startswith("Group 1")


def test_cli_exact_reports_a_proof(capsys: pytest.CaptureFixture[str]) -> None:
    sample = SAMPLE_DIR / "class-7b.csv"
    assert run_cli("group", str(sample), "--groups", "4", "--standards", "fractions",
                   "--exact", "--json") == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out.strip().splitlines()[-1])
    assert payload["proven_optimal"] is True and payload["method"] == "exact"
    assert "exact method: LP bound: round 1" in captured.err  # long work shows progress


def test_cli_bad_csv_raises_the_named_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("student_id,m\ns1,1\ns1,2\n")
    with pytest.raises(ClassCsvError, match="row 3"):
        run_cli("group", str(path), "--groups", "1")


# --- gradebook and roster exports ---------------------------------------------------------------

GRADEBOOK = """sourcedId,identifier,givenName,familyName,preferredFirstName,email,section,grade,\
fractions,decimals,ratios (1-4),Total
u-1,70200,Zoë,Quinn,,zoe@school.example,7B,7,63,47,3,55
u-2,70201,Liam,Murphy,Lee,liam@school.example,7B,7,68,,2,68
"""


def test_a_gradebook_export_with_name_columns_is_read() -> None:
    cls = parse_class_csv(GRADEBOOK)
    assert [s.id for s in cls.students] == ["u-1", "u-2"]  # sourcedId, the roster's id
    assert [s.name for s in cls.students] == ["Zoë Quinn", "Lee Murphy"]
    assert cls.standards == ("fractions", "decimals", "ratios")
    assert cls.scales["ratios"] == "1-4"
    assert cls.students[1].scores["decimals"] is None
    assert cls.ignored_columns == ("identifier", "email", "section", "grade", "Total")


@pytest.mark.parametrize(("header", "row", "sid", "name"), [
    ("student_id,given_name,family_name,m", "s1,Zoë,Quinn,50", "s1", "Zoë Quinn"),
    ("Student ID,First Name,Last Name,m", "s1,Zoë,Quinn,50", "s1", "Zoë Quinn"),
    ("identifier,first,last,Section,m", "70200,Zoë,Quinn,3,50", "70200", "Zoë Quinn"),
    ("username,Surname,Forename,m", "zquinn,Quinn,Zoë,50", "zquinn", "Zoë Quinn"),
    ("Email,Name,Grade Level,m", "zoe@school.example,Zoë Quinn,7,50", "zoe@school.example",
     "Zoë Quinn"),
    ("sourcedId,email,username,Student Name,metadata.house,m", "u-9,z@s.example,zq,Zoë Q,Red,50",
     "u-9", "Zoë Q"),
])
def test_name_and_id_columns_are_recognised_not_read_as_standards(header: str, row: str,
                                                                  sid: str, name: str) -> None:
    cls = parse_class_csv(f"{header}\n{row}\n")
    assert cls.standards == ("m",)
    assert (cls.students[0].id, cls.students[0].name) == (sid, name)
    assert cls.students[0].scores == {"m": 50.0}


def test_a_declared_scale_makes_any_column_a_standard() -> None:
    cls = parse_class_csv("student_id,grade (0-100),section\ns1,88,2\n")
    assert cls.standards == ("grade",) and cls.ignored_columns == ("section",)


def test_goal_progress_is_a_reflection_feature() -> None:
    cls = parse_class_csv("student_id,m,goal_progress,Confidence Trend\ns1,5,0.75,rising\n"
                          "s2,6,,\n")
    assert cls.standards == ("m",)
    assert cls.students[0].features == {"goal_progress": 0.75, "confidence_trend": 1.0}
    assert cls.students[1].features == {"goal_progress": None, "confidence_trend": None}


@pytest.mark.parametrize(("text", "row", "column", "problem"), [
    ("student_id,first_name,given_name,m\ns1,Zoë,Zoë,5\n", 1, "given_name",
     "ambiguous column: both 'first_name' and 'given_name' would be the given name"),
    ("sourcedId,Sourced ID,m\na,b,5\n", 1, "Sourced ID",
     "ambiguous column: both 'sourcedId' and 'Sourced ID' would be the student's sourcedId"),
    ("student_id,Student Full,m\ns1,Zoë Quinn,50\n", 2, "Student Full",
     "score 'Zoë Quinn' is not a number (a standard column holds 0-100 or 1-4 scores; if this "
     "column is a name, id or other information, give it a header such as given_name"),
    ("student_id,m\ns1,50\ns2,Zoë\n", 3, "m", "score 'Zoë' is not a number"),
    ("student_id,goal_progress\ns1,lots\n", 2, "goal_progress", "goal progress 'lots' must be "
                                                                 "0 to 1"),
    ("given_name,family_name,m\nZoë,Quinn,50\n", 1, None,
     "include a student id (student_id, sourcedId, identifier, username or email"),
])
def test_gradebook_problems_name_row_and_column(text: str, row: int, column: str | None,
                                                problem: str) -> None:
    with pytest.raises(ClassCsvError) as info:
        parse_class_csv(text, "book.csv")
    assert (info.value.row, info.value.column) == (row, column)
    assert problem in str(info.value)


def test_cli_groups_the_gradebook_sample(capsys: pytest.CaptureFixture[str]) -> None:
    sample = SAMPLE_DIR / "gradebook-7b.csv"
    assert run_cli("group", str(sample), "--groups", "4", "--json") == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "Not standards (skipped): identifier, email, section, grade, Total"
    payload = json.loads(out[-1])
    cls = read_class_csv(sample)
    assert cls.standards == ("fractions", "decimals", "ratios")
    assert sorted(s for g in payload["groups"] for s in g) == sorted(s.id for s in cls.students)
    missing = {s.id for s in cls.students if None in s.scores.values()}
    assert set(payload["estimated_scores"]) == missing and len(missing) == 4
    assert all("est." in payload["reasons"][sid] for sid in missing)
    assert "missing scores estimated" in payload["summary"]
