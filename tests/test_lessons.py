"""Lessons per class in the hub's store (hub/lessons.py): plans that narrow the room's, each
class's groups (the config's class seeded from the file, the others split evenly), the
checks approved groups pass, the timetable, the lesson history, and a family's erasure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hub.config import load_hub_config
from hub.lessons import (
    ROOM_PLAN,
    ClassPlan,
    LessonBook,
    Slot,
    check_plan,
    class_groups,
    even_groups,
    lesson_problem,
    room_plan,
    rotation_plan,
    without_student,
)
from hub.rotation import GroupDef, Model, Rotation
from hub.store import open_db
from stations.sqlitedb import transaction
from tests.conftest import ROOM


@pytest.fixture
def room_plan_():  # type: ignore[no-untyped-def]
    return load_hub_config(ROOM / "hub.toml").plan


@pytest.fixture
def book(tmp_path: Path) -> LessonBook:
    return LessonBook(open_db(tmp_path / "hub.db"))


def test_a_class_plan_narrows_the_rooms_stations_block_and_model(room_plan_) -> None:
    short = ClassPlan("short", "Short", ("s1", "s3", "s4"), 8, "")
    groups = even_groups([f"p{k}" for k in range(12)], room_plan_)
    plan = rotation_plan(room_plan_, short, groups[:3])
    assert [s.id for s in plan.stations] == ["s1", "s3", "s4"]
    assert plan.block_count == 3 and plan.block(0).length_s == 8 * 60
    assert plan.block(0).warning_s == room_plan_.block(0).warning_s  # the room's
    assert plan.teacher_table is not None and plan.teacher_table.every_lesson == ("g1",)
    rotation = Rotation(plan)
    rotation.start(0.0)
    assert set(rotation.assignments().values()) == {"g1", "g2", "g3"}
    flex = rotation_plan(room_plan_, ClassPlan("f", "Flex", ("s2", "s3"), 0, "flex"), ())
    assert flex.model is Model.FLEX and flex.teacher_table is None  # s1 is not in it
    same = rotation_plan(room_plan_, room_plan(), room_plan_.groups)
    assert same.fingerprint() == room_plan_.fingerprint()


@pytest.mark.parametrize("plan, problem", [
    (ClassPlan("Bad Id", "x"), "plan id"),
    (ClassPlan("p", ""), "needs a name"),
    (ClassPlan("p", "P", ("s1", "s9")), "no station 's9'"),
    (ClassPlan("p", "P", ("s1", "s1")), "listed twice"),
    (ClassPlan("p", "P", (), 2), "not longer than the room's warning"),
    (ClassPlan("p", "P", (), 0, "carousel"), "is not one of"),
])
def test_a_plan_that_cannot_run_is_refused_with_the_reason(room_plan_, plan, problem) -> None:
    with pytest.raises(ValueError, match=problem):
        check_plan(plan, room_plan_)


def test_first_groups_split_evenly_and_respect_station_capacity(room_plan_) -> None:
    students = [f"p{k:02d}" for k in range(26)]
    groups = even_groups(students, room_plan_)  # 4 stations, two of them hold 6
    assert len(groups) == 5 and sorted(len(g.members) for g in groups) == [5, 5, 5, 5, 6]
    assert sorted(m for g in groups for m in g.members) == students
    assert [g.name for g in groups][:2] == ["Group 1", "Group 2"]
    assert len(even_groups(students[:3], room_plan_)) == 3
    # ... and five groups cannot all rotate through four stations: refused, with the reason
    assert "5 groups but the plan has 4 stations" in lesson_problem(room_plan_, groups,
                                                                     ("confidence",))


def test_groups_that_cannot_run_are_named(room_plan_) -> None:
    ok = room_plan_.groups
    assert lesson_problem(room_plan_, ok, ("confidence",)) is None
    big = (GroupDef("g1", "Foxes", tuple(f"p{k}" for k in range(7))),)
    assert "has 7 students but Teacher table holds 6" in lesson_problem(room_plan_, big, ())
    twins = (GroupDef("g1", "A", ()), GroupDef("g1", "B", ()))
    assert lesson_problem(room_plan_, twins, ()) == "two groups share an id"
    long = (GroupDef("g1", "x" * 70, ("p1",)),)
    assert "70 characters; the stations show at most 64" in lesson_problem(room_plan_, long, ())


def test_the_config_class_follows_the_file_until_the_teacher_replaces_its_groups(
        room_plan_) -> None:
    configured = room_plan_.groups
    groups, source, new = class_groups(None, configured, [], room_plan_)
    assert (groups, source, new) == (configured, "config", True)
    edited = (GroupDef("g1", "Foxes", ("stu-01",)),)
    assert class_groups((configured, "config"), edited, [], room_plan_) == (edited, "config",
                                                                            True)
    approved = (GroupDef("g1", "Comets", ("stu-02",)),)
    assert class_groups((approved, "approved skill"), edited, [], room_plan_) == (
        approved, "approved skill", False)
    other, source, new = class_groups(None, (), ["a", "b", "c", "d", "e"], room_plan_)
    assert source == "even split" and new and len(other) == 4


def test_plans_groups_constraints_and_settings_are_kept_per_class(book: LessonBook) -> None:
    assert book.plans("c1") == [room_plan()]
    book.save_plan("c1", ClassPlan("short", "Short", ("s1", "s2"), 8, "flex"))
    assert [p.id for p in book.plans("c1")] == [ROOM_PLAN, "short"]
    assert book.plans("c2") == [room_plan()]
    with pytest.raises(ValueError, match="room's own plan"):
        book.save_plan("c1", ClassPlan(ROOM_PLAN, "Mine"))
    groups = (GroupDef("g1", "A", ("x", "y")), GroupDef("g2", "B", ("z",)))
    with transaction(book.db):
        book.save_groups("c1", groups, "approved skill", 1.0)
    assert book.groups("c1") == (groups, "approved skill") and book.groups("c2") is None
    book.save_constraints("c1", {"keep_apart": [["x", "z"]], "pinned": {"y": 1}})
    assert book.constraints("c1")["pinned"] == {"y": 1} and book.constraints("c2") == {}
    book.set_setting("c1", "questions", ["goal"])
    book.set_setting("c1", "history", False)
    assert book.settings("c1") == {"questions": ["goal"], "history": False}
    book.set_setting("c1", "history", None)
    assert book.settings("c1") == {"questions": ["goal"]}
    with pytest.raises(ValueError, match="unknown class setting"):
        book.set_setting("c1", "colour", "red")


def test_the_timetable_proposes_the_class_of_the_hour_and_refuses_overlaps(
        book: LessonBook) -> None:
    book.add_slot(Slot(0, "08:30", "09:20", "c1"))
    book.add_slot(Slot(0, "09:30", "10:20", "c2", "short"))
    with pytest.raises(ValueError, match="overlaps mon 09:30-10:20"):
        book.add_slot(Slot(0, "10:00", "10:45", "c3"))
    with pytest.raises(ValueError, match="end must come after"):
        book.add_slot(Slot(1, "10:00", "09:45", "c3"))
    with pytest.raises(ValueError, match="not a time of day"):
        book.add_slot(Slot(1, "9:60", "10:45", "c3"))
    monday = dt.datetime(2025, 10, 6, 9, 45)  # a Monday
    assert book.proposed(monday.timestamp()) == Slot(0, "09:30", "10:20", "c2", "short")
    assert book.proposed(monday.replace(hour=9, minute=25).timestamp()) is None
    assert book.proposed((monday + dt.timedelta(days=1)).timestamp()) is None
    assert book.remove_slot(0, "09:30") and not book.remove_slot(0, "09:30")


def test_lesson_history_and_a_familys_erasure(book: LessonBook) -> None:
    with transaction(book.db):
        first = book.begin_lesson("c1", ROOM_PLAN, [("a", "b"), ("c", "d")], 100.0)
        book.end_lesson(first, 200.0)
        second = book.begin_lesson("c1", "short", [("a", "c"), ("b", "d")], 300.0)
        book.save_groups("c1", (GroupDef("g1", "A", ("a", "c")),), "approved", 300.0)
    book.save_constraints("c1", {"keep_apart": [["a", "b"]], "keep_together": [["a", "c", "d"]],
                                 "pinned": {"a": 1}})
    recent = book.recent_lessons("c1", 5)
    assert [r.seq for r in recent] == [second, first] and recent[1].ended_at == 200.0
    assert recent[0].groups == (("a", "c"), ("b", "d"))
    assert book.lesson_count("c1") == 2 and book.lesson_count("c2") == 0
    about = book.about_student("a")
    assert about["groups"] == [{"class_id": "c1", "group": "g1", "name": "A"}]
    assert [x["with"] for x in about["lessons"]] == [["b"], ["c"]]
    assert about["constraints"]["c1"]["pinned"] == 1
    with transaction(book.db):
        book.forget_student("a")
    assert book.about_student("a") == {"groups": [], "lessons": [], "constraints": {}}
    assert book.recent_lessons("c1", 1)[0].groups == (("c",), ("b", "d"))
    assert book.constraints("c1") == {"keep_together": [["c", "d"]]}


def test_without_student_drops_what_no_longer_holds() -> None:
    data = {"keep_apart": [["a", "b"]], "keep_together": [["a", "b"]], "pinned": {"a": 2},
            "not_in": {"b": [1]}, "groups": 4}
    assert without_student(data, "a") == {"not_in": {"b": [1]}, "groups": 4}
