"""OneRoster CSV import, 1.1 and 1.2, zip and folder, good files and each kind of bad one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from hub.cli import register
from hub.oneroster import OneRosterError, import_oneroster
from hub.roster import Roster
from hub.store import open_db
from tests.oneroster_files import files, write_folder, write_zip

EXPECTED = {"classes": 2, "students": 4, "teachers": 1,
            "per_class": {"c-math": 3, "c-read": 1}}


def roster(tmp_path: Path) -> Roster:
    return Roster(open_db(tmp_path / "hub.db"))


def snapshot(r: Roster) -> list:
    return [r.db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("students", "classes", "enrollments", "teachers", "orgs")]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("packed", ["zip", "folder"])
def test_import_both_versions(tmp_path: Path, version: str, packed: str) -> None:
    data = files(version)
    source = (write_zip(tmp_path / "export.zip", data, prefix="export/") if packed == "zip"
              else write_folder(tmp_path / "export", data))
    r = roster(tmp_path)
    summary = import_oneroster(source, r)
    assert summary.version == version
    got = summary.to_dict()
    assert {k: got[k] for k in EXPECTED} == EXPECTED
    # e2, e3, e4 (maths), e7 (reading) and the teacher's e1: ended, deleted and deleted-user
    # enrollments are kept but not active
    assert summary.enrollments == 5
    s2 = r.student("u-s2")
    assert s2.family_name == "Okafor" and s2.grade == "04"
    assert s2.preferred_name == ("Ben" if version == "1.2" else "")
    assert r.student("u-s3").family_name == "Nguyen, Jr."  # quoted comma
    assert r.student("u-s4") is not None and "u-s4" not in {s.id for s in r.students()}
    assert {s.id for s in r.students("c-math")} == {"u-s1", "u-s2", "u-s3"}
    assert {s.id for s in r.students("c-read")} == {"u-s5"}
    assert r.classes()["c-math"] == "Maths, Grade 4"


def test_reimport_updates_and_never_duplicates(tmp_path: Path) -> None:
    r = roster(tmp_path)
    folder = write_folder(tmp_path / "export", files("1.2"))
    import_oneroster(folder, r)
    before = snapshot(r)
    import_oneroster(folder, r)
    assert snapshot(r) == before
    users = (folder / "users.csv").read_bytes().replace(b"Okafor", b"Okafor-Smith")
    (folder / "users.csv").write_bytes(users)
    import_oneroster(folder, r)
    assert r.student("u-s2").family_name == "Okafor-Smith"
    assert r.db.execute("SELECT COUNT(*) FROM students").fetchone()[0] == 5


def _break(data: dict[str, bytes], name: str, old: bytes, new: bytes) -> dict[str, bytes]:
    assert old in data[name], old
    return {**data, name: data[name].replace(old, new, 1)}


BAD = [
    ("missing column", "1.1", lambda d: _break(d, "users.csv", b"givenName", b"given_name"),
     ("users.csv", 1, "givenName"), "required column"),
    ("missing file", "1.2", lambda d: {k: v for k, v in d.items() if k != "roles.csv"},
     ("roles.csv", None, None), "missing"),
    ("unknown class", "1.1", lambda d: _break(d, "enrollments.csv", b"e7,,,c-read",
                                               b"e7,,,c-art"),
     ("enrollments.csv", 8, "classSourcedId"), "'c-art' is not in classes.csv"),
    ("duplicate sourcedId", "1.2", lambda d: _break(d, "users.csv", b"u-s5,", b"u-s1,"),
     ("users.csv", 7, "sourcedId"), "duplicate sourcedId 'u-s1' (first on row 3)"),
    ("role outside the vocabulary", "1.2", lambda d: _break(d, "roles.csv", b"student",
                                                             b"pupil"),
     ("roles.csv", 3, "role"), "'pupil' is not in the OneRoster vocabulary"),
    ("1.1 user role", "1.1", lambda d: _break(d, "users.csv", b"teacher", b"janitor"),
     ("users.csv", 2, "role"), "'janitor'"),
    ("not UTF-8", "1.1", lambda d: _break(d, "users.csv", b"Chloe", "Chloé".encode("latin-1")),
     ("users.csv", 5, None), "not UTF-8"),
    ("bad date", "1.2", lambda d: _break(d, "enrollments.csv", b"2001-06-30", b"30/06/2001"),
     ("enrollments.csv", 7, "endDate"), "not a date"),
    # a display name a reply to a station cannot carry: the reply would be dropped and the
    # check-in resent forever (the same limit as roster.toml's)
    ("long display name", "1.1", lambda d: _break(d, "users.csv", b"Chloe", b"C" * 73),
     ("users.csv", 5, "givenName"), "is 76 characters; a reply to a station carries at most 64"),
    ("long preferred name", "1.2", lambda d: _break(d, "users.csv", b",Ben,", b"," + b"B" * 73
                                                    + b","),
     ("users.csv", 4, "preferredGivenName"), "carries at most 64"),
]


@pytest.mark.parametrize(("label", "version", "edit", "where", "problem"), BAD,
                         ids=[b[0] for b in BAD])
def test_bad_files_name_file_row_column_and_change_nothing(tmp_path: Path, label, version,
                                                           edit, where, problem) -> None:
    r = roster(tmp_path)
    import_oneroster(write_folder(tmp_path / "good", files("1.1")), r)  # a previous import
    before = snapshot(r)
    source = write_zip(tmp_path / "bad.zip", edit(files(version)))
    with pytest.raises(OneRosterError) as err:
        import_oneroster(source, r)
    assert (err.value.file, err.value.row, err.value.column) == where
    assert problem in str(err.value)
    assert snapshot(r) == before


def test_not_a_zip_or_folder(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(OneRosterError, match="neither a folder nor a zip"):
        import_oneroster(tmp_path / "x.txt", roster(tmp_path))


def test_cli_import_json_summary_and_errors(tmp_path: Path, room, capsys) -> None:
    import argparse

    folder = room()
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    export = write_zip(tmp_path / "export.zip", files("1.2"))
    args = parser.parse_args(["roster", "import", str(export), "--json",
                              "--config", str(folder / "hub.toml")])
    assert args.func(args) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert {k: summary[k] for k in EXPECTED} == EXPECTED and summary["enrollments"] == 5
    with sqlite3.connect(folder / "hub.db") as db:
        assert db.execute("SELECT COUNT(*) FROM classes").fetchone()[0] == 2
    bad = write_zip(tmp_path / "bad.zip", {k: v for k, v in files("1.1").items()
                                           if k != "orgs.csv"})
    args = parser.parse_args(["roster", "import", str(bad), "--config",
                              str(folder / "hub.toml")])
    with pytest.raises(OneRosterError, match=r"orgs\.csv: missing"):
        args.func(args)
