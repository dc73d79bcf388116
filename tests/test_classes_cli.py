"""`stations scores`, `stations groups` and `stations classes` on the hub's database, as a
teacher or IT runs them (in-process through ``stations.cli.main``): the sample scores import
into the demo room, suggestions with ``--json``, constraints kept per class and honoured,
plans and the timetable, and bad input refused with nothing changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stations.cli import main
from tests.conftest import ROOM

SAMPLES = ROOM / "samples"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo room with its roster imported from the OneRoster sample."""
    for name in ("hub.toml", "roster.toml"):
        shutil.copy(ROOM / name, tmp_path / name)
    monkeypatch.setenv("STATIONS_CONFIG", str(tmp_path / "hub.toml"))
    assert main(["roster", "import", str(SAMPLES / "oneroster-1.2")]) == 0
    return tmp_path / "hub.toml"


def last_json(out: str) -> dict:  # type: ignore[type-arg]
    return json.loads(out.strip().splitlines()[-1])


def test_import_scores_then_suggest_skill_groups_as_json(config: Path, capsys) -> None:
    assert main(["scores", "import", str(SAMPLES / "scores.csv"), "--class", "demo-4a",
                 "--json"]) == 0
    out = capsys.readouterr().out
    assert "imported 79 scores of 16 students on 3 standards" in out
    assert last_json(out)["dates"] == ["2025-09-19", "2025-10-03"]
    assert main(["groups", "suggest", "--class", "demo-4a", "--mode", "skill", "--json"]) == 0
    out = capsys.readouterr().out
    result = last_json(out)
    groups = result["groups"]
    assert sorted(m for g in groups for m in g) == [f"stu-{k:02d}" for k in range(1, 17)]
    assert len(groups) == 4 and all(len(g) == 4 for g in groups)
    assert set(result["reasons"]) == {m for g in groups for m in g}
    assert all(r.startswith("grouped on") for r in result["reasons"].values())
    assert result["names"] == ["Foxes", "Owls", "Otters", "Hawks"]  # the current groups'
    assert "Foxes (4): " in out and "Ana R. (stu-01): grouped on" in out
    # One standard, chosen by the teacher: skill groups on it alone.
    assert main(["groups", "suggest", "--class", "demo-4a", "--standards",
                 "4.NF.A.2 compare fractions", "--json"]) == 0
    assert "Skill groups on 1 standard:" in capsys.readouterr().out


def test_constraints_are_kept_per_class_and_every_suggestion_keeps_them(config: Path,
                                                                         capsys) -> None:
    main(["scores", "import", str(SAMPLES / "scores.csv"), "--class", "demo-4a"])
    capsys.readouterr()
    # stu-09 and stu-05 have the class's two best scores: skill groups would put them together
    assert main(["groups", "constraints", "--class", "demo-4a", "--keep-apart",
                 "stu-09,stu-05", "--keep-together", "stu-01,stu-16", "--pin", "stu-12=2",
                 "--max-size", "5", "--json"]) == 0
    assert last_json(capsys.readouterr().out) == {
        "keep_apart": [["stu-09", "stu-05"]], "keep_together": [["stu-01", "stu-16"]],
        "max_size": 5, "pinned": {"stu-12": 2}}
    for mode in ("skill", "mixed"):
        assert main(["groups", "suggest", "--class", "demo-4a", "--mode", mode,
                     "--json"]) == 0
        groups = last_json(capsys.readouterr().out)["groups"]
        where = {m: k for k, g in enumerate(groups) for m in g}
        assert where["stu-09"] != where["stu-05"]
        assert where["stu-01"] == where["stu-16"] and where["stu-12"] == 1
        assert max(len(g) for g in groups) <= 5
    # A student the class does not have is refused, and nothing changes.
    assert main(["groups", "constraints", "--class", "demo-4a", "--pin", "stu-99=1"]) == 2
    assert "no student 'stu-99' in class demo-4a" in capsys.readouterr().err
    assert main(["groups", "constraints", "--class", "demo-4a", "--forget", "stu-09",
                 "--json"]) == 0
    assert "keep_apart" not in last_json(capsys.readouterr().out)
    assert main(["groups", "constraints", "--class", "demo-4a", "--clear", "--json"]) == 0
    assert last_json(capsys.readouterr().out) == {}


def test_regroup_present_from_the_command_line(config: Path, capsys) -> None:
    assert main(["groups", "suggest", "--class", "demo-4a", "--mode", "present", "--absent",
                 "stu-01,stu-02,stu-03", "--json"]) == 0
    result = last_json(capsys.readouterr().out)
    assert sorted(result["left_out"]) == ["stu-01", "stu-02", "stu-03"]
    assert sorted(len(g) for g in result["groups"]) == [3, 3, 3, 4]
    assert result["moved"] == 2 and result["reasons"]["stu-01"] == "absent: left out"


def test_a_bad_scores_file_exits_2_naming_row_and_column_and_stores_nothing(
        config: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "gradebook.csv"
    bad.write_text("sourcedId,given_name,family_name,fractions\nstu-01,Ana,Rivera,50\n"
                   "stu-77,Zoë,Ng,60\n", encoding="utf-8")
    assert main(["scores", "import", str(bad), "--class", "demo-4a"]) == 2
    err = capsys.readouterr().err
    assert "gradebook.csv, row 3, column 'sourcedId': no student 'stu-77' in class demo-4a" \
        in err
    assert main(["scores", "list", "--class", "demo-4a", "--json"]) == 0
    assert last_json(capsys.readouterr().out)["scores"] == {}
    assert main(["groups", "suggest", "--class", "demo-4a"]) == 2
    assert "no scores for class demo-4a yet" in capsys.readouterr().err
    assert main(["scores", "import", str(bad), "--class", "nope"]) == 2
    assert "--class nope: no such class on this hub" in capsys.readouterr().err


def test_plans_timetable_and_class_settings(config: Path, capsys) -> None:
    assert main(["classes", "plan", "add", "demo-4a", "short", "--name", "Short blocks",
                 "--stations", "s1,s2,s3", "--block-minutes", "8"]) == 0
    assert "3 stations · 8 min blocks" in capsys.readouterr().out
    assert main(["classes", "plan", "add", "demo-4a", "bad", "--stations", "s1,s9"]) == 2
    assert "no station 's9'" in capsys.readouterr().err
    assert main(["classes", "timetable", "add", "mon", "08:30", "09:20", "demo-4a", "--plan",
                 "short"]) == 0
    assert main(["classes", "timetable", "add", "mon", "09:00", "09:40", "demo-4a"]) == 2
    assert "overlaps mon 08:30-09:20" in capsys.readouterr().err
    assert main(["classes", "settings", "demo-4a", "--history", "off", "--questions",
                 "confidence,goal"]) == 0
    assert "history off, questions confidence, goal" in capsys.readouterr().out
    assert main(["classes", "settings", "demo-4a", "--questions", "shoe size"]) == 2
    capsys.readouterr()
    assert main(["classes", "list", "--json"]) == 0
    listing = last_json(capsys.readouterr().out)
    assert listing == [{"class": "demo-4a", "title": "Grade 4A · Maths",
                        "plans": ["room", "short"], "meets": ["mon 08:30-09:20 (short)"]}]
    assert main(["classes", "plan", "remove", "demo-4a", "short"]) == 0
    assert main(["classes", "plan", "remove", "demo-4a", "short"]) == 1


def test_the_cli_checks_constraints_as_the_console_does(config: Path, capsys) -> None:
    """One check for both (hub/classsetup.py): keep apart takes 2+ students (every pair), and
    rules the engine could not keep are refused when they are made, naming the students."""
    assert main(["groups", "constraints", "--class", "demo-4a", "--keep-apart",
                 "stu-01,stu-02,stu-03", "--json"]) == 0
    kept = last_json(capsys.readouterr().out)
    assert kept == {"keep_apart": [["stu-01", "stu-02"], ["stu-01", "stu-03"],
                                   ["stu-02", "stu-03"]]}
    for options, reason in ((["--keep-together", "stu-01,stu-02"],
                             "Ana R. and Ben O. must be kept apart but must also be together"),
                            (["--pin", "stu-04=9"], "group 9 does not exist: there are 4"),
                            (["--min-size", "6", "--max-size", "3"],
                             "6 is larger than max_size 3"),
                            (["--max-size", "-2"], "max size -2: give 1 or more")):
        assert main(["groups", "constraints", "--class", "demo-4a", *options]) == 2
        assert reason in capsys.readouterr().err
        assert main(["groups", "constraints", "--class", "demo-4a", "--json"]) == 0
        assert last_json(capsys.readouterr().out) == kept  # nothing changed
