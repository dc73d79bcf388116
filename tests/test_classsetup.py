"""The pure edits of a class's constraints (hub/classsetup.py) and the one check both the CLI
and the console's setup page run before anything is stored."""

from __future__ import annotations

import pytest

from hub import classsetup as cs
from hub.lessons import ClassPlan, room_plan
from hub.rotation import GroupDef, RotationPlan, StationDef

NAMES = {f"s{k}": f"Student {k}" for k in range(1, 9)}


def plan(stations: int = 4) -> RotationPlan:
    return RotationPlan(stations=tuple(StationDef(f"st{k}", f"Station {k}", "online")
                                       for k in range(1, stations + 1)),
                        groups=(), block_s=600.0)


def test_keep_apart_of_three_keeps_every_pair_apart_once() -> None:
    data = cs.keep_apart({}, ["s1", "s2", "s3"])
    assert data == {"keep_apart": [["s1", "s2"], ["s1", "s3"], ["s2", "s3"]]}
    assert cs.keep_apart(data, ["s2", "s1"]) == data  # already kept apart
    with pytest.raises(ValueError, match="at least 2 different students"):
        cs.keep_apart({}, ["s1", "s1"])


def test_rules_in_order_and_each_one_removed() -> None:
    data = cs.keep_together(cs.keep_apart({}, ["s1", "s2"]), ["s3", "s4"])
    data = cs.keep_out(cs.keep_out(cs.pin(data, "s5", 2), "s6", 1), "s6", 3)
    data = cs.set_size(cs.set_size(data, "max_size", 5), "groups", 3)
    rules = cs.rules(data)
    assert [(r.kind, r.students, r.number) for r in rules] == [
        ("keep_apart", ("s1", "s2"), 0), ("keep_together", ("s3", "s4"), 0),
        ("pinned", ("s5",), 2), ("not_in", ("s6",), 1), ("not_in", ("s6",), 3),
        ("groups", (), 3), ("max_size", (), 5)]
    for rule in rules:
        less = cs.remove(data, rule)
        assert rule not in cs.rules(less) and len(cs.rules(less)) == len(rules) - 1
    assert cs.remove(data, rules[3])["not_in"] == {"s6": [3]}
    with pytest.raises(ValueError, match="no such constraint"):
        cs.remove(data, cs.Rule("pinned", ("s5",), 1))
    assert cs.set_size(data, "groups", 0).get("groups") is None  # 0 drops it
    with pytest.raises(ValueError, match="give 1 or more"):
        cs.set_size(data, "max_size", -1)


@pytest.mark.parametrize(("data", "reason"), [
    ({"pinned": {"s1": 5}}, "group 5 does not exist: there are 4 groups"),
    ({"keep_apart": [["s1", "s2"]], "keep_together": [["s1", "s2"]]},
     "must be kept apart but must also be together"),
    ({"pinned": {"s1": 2}, "not_in": {"s1": [2]}}, "is pinned to group 2 and must not be"),
    ({"min_size": 5, "max_size": 3}, "5 is larger than max_size 3"),
    ({"keep_together": [["s1", "s2", "s3"]], "max_size": 2}, "must be together but groups"),
    ({"pinned": {"s99": 1}}, "no student 's99' in class c1"),
    ({"keep_apart": [["s1"]]}, "must be a pair"),
    ({"shoe_size": 3}, "unknown key"),
])
def test_the_check_refuses_what_the_engine_could_not_keep(data, reason) -> None:
    with pytest.raises(ValueError, match=reason):
        cs.check_constraints(data, "c1", NAMES, plan(), ())


def test_the_check_accepts_what_the_engine_can_keep() -> None:
    groups = tuple(GroupDef(f"g{k}", f"G{k}", (f"s{2 * k - 1}", f"s{2 * k}"))
                   for k in range(1, 5))
    cs.check_constraints({"keep_apart": [["s1", "s2"]], "pinned": {"s3": 4}}, "c1", NAMES,
                         plan(), groups)
    with pytest.raises(ValueError, match="group 4 does not exist: there are 3 groups"):
        # 8 students in groups of at most 3 make 3 groups
        cs.check_constraints({"pinned": {"s3": 4}, "max_size": 3}, "c1", NAMES, plan(), groups)
    cs.check_constraints({}, "c1", {}, plan(), ())  # nothing to keep, no students: fine


def test_a_plan_is_checked_against_the_room() -> None:
    class Book:
        def __init__(self) -> None:
            self.saved: list[ClassPlan] = []

        def save_plan(self, class_id: str, p: ClassPlan) -> None:
            self.saved.append(p)

    book = Book()
    with pytest.raises(ValueError, match="no station 'st9'"):
        cs.save_plan(book, plan(), "c1", ClassPlan("x", "X", ("st9",)))  # type: ignore[arg-type]
    assert book.saved == []
    cs.save_plan(book, plan(), "c1", ClassPlan("x", "X", ("st1",)))  # type: ignore[arg-type]
    assert book.saved == [ClassPlan("x", "X", ("st1",))]
    assert room_plan().id == "room"
