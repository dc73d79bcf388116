"""A class's setup, changed the one checked way: its grouping constraints, its plans and the
room's timetable.

The command line (``stations groups constraints``, ``stations classes plan|timetable``) and
the hub service's actions (which the teacher console calls) both change them through these
functions, so a change is refused for the same reasons, with the same message, wherever the
teacher makes it; a refused change raises :class:`ValueError` and writes nothing.

Constraints stay in the engine's constraints-file form (:mod:`hub.grouping.constraintsfile`):
the edits here are pure functions from one such object to the next, and
:func:`check_constraints` validates the result as the engine will read it, against the
class's students and the plan its lessons run (a pin to group 5 when the class can make 4
groups, or two students kept apart and together, is refused when it is made, not when the
teacher asks for groups mid-lesson).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.grouping import ClassData, Mode, Options, Student, constraints_from_json
from hub.grouping.problem import build_problem
from hub.lessons import (
    ClassPlan,
    LessonBook,
    Slot,
    check_plan,
    parse_weekday,
    without_student,
)
from hub.rotation import GroupDef, RotationPlan
from hub.suggest import sized_constraints
from stations.sqlitedb import transaction
from stations.text import Text

#: The rules about students, as the constraints file names them.
STUDENT_RULES = ("keep_apart", "keep_together", "pinned", "not_in")
#: The size rules: how many groups, the smallest and the largest group.
SIZE_RULES = ("groups", "min_size", "max_size")
#: The one score every student has when only the constraints are checked.
_NONE = "(none)"


@dataclass(frozen=True, slots=True)
class Rule:
    """One constraint, as a teacher reads it: its kind, the students it names, the group
    (``pinned``, ``not_in``) or the number (a size rule)."""

    kind: str
    students: tuple[str, ...] = ()
    number: int = 0


def rules(data: Mapping[str, Any]) -> list[Rule]:
    """Every constraint of a constraints object, one by one (a student kept out of two
    groups is two rules), students' rules first, then the sizes."""
    out = [Rule("keep_apart", tuple(p)) for p in data.get("keep_apart", [])]
    out += [Rule("keep_together", tuple(t)) for t in data.get("keep_together", [])]
    out += [Rule("pinned", (sid,), k) for sid, k in data.get("pinned", {}).items()]
    for sid, ks in data.get("not_in", {}).items():
        out += [Rule("not_in", (sid,), k) for k in ([ks] if isinstance(ks, int) else ks)]
    out += [Rule(key, (), data[key]) for key in SIZE_RULES if data.get(key) is not None]
    return out


# --- edits (pure: a constraints object in, a new one out) ---------------------------------------

def keep_apart(data: Mapping[str, Any], students: Sequence[str]) -> dict[str, Any]:
    """Two or more students never in one group: every pair of them kept apart."""
    _distinct(students, 2, Text("keep apart"))
    out = copy.deepcopy(dict(data))
    pairs = out.setdefault("keep_apart", [])
    for a, b in itertools.combinations(students, 2):
        if not any(set(p) == {a, b} for p in pairs):
            pairs.append([a, b])
    return out


def keep_together(data: Mapping[str, Any], students: Sequence[str]) -> dict[str, Any]:
    """Two or more students always in one group."""
    _distinct(students, 2, Text("keep together"))
    out = copy.deepcopy(dict(data))
    teams = out.setdefault("keep_together", [])
    if not any(set(t) == set(students) for t in teams):
        teams.append(list(students))
    return out


def pin(data: Mapping[str, Any], student: str, group: int) -> dict[str, Any]:
    """A student always in this group (1 is the first: the teacher table's)."""
    _group(group, Text("pin"))
    out = copy.deepcopy(dict(data))
    out.setdefault("pinned", {})[student] = group
    return out


def keep_out(data: Mapping[str, Any], student: str, group: int) -> dict[str, Any]:
    """A student never in this group."""
    _group(group, Text("not in"))
    out = copy.deepcopy(dict(data))
    banned = out.setdefault("not_in", {}).setdefault(student, [])
    if isinstance(banned, int):
        banned = out["not_in"][student] = [banned]
    if group not in banned:
        banned.append(group)
    return out


def set_size(data: Mapping[str, Any], key: str, value: int) -> dict[str, Any]:
    """``groups``, ``min_size`` or ``max_size`` to ``value`` (0 drops the rule)."""
    if key not in SIZE_RULES:
        raise ValueError(Text("no size rule %(key)r (there are %(keys)s)", key=key,
                              keys=", ".join(SIZE_RULES)))
    if value < 0:
        raise ValueError(Text("%(rule)s %(value)d: give 1 or more (0 drops the rule)",
                              rule=key.replace("_", " "), value=value))
    out = copy.deepcopy(dict(data))
    if value == 0:
        out.pop(key, None)
    else:
        out[key] = value
    return out


def remove(data: Mapping[str, Any], rule: Rule) -> dict[str, Any]:
    """The constraints without ``rule``; ValueError if there is no such rule (it was
    removed meanwhile, say)."""
    if rule not in rules(data):
        raise ValueError(Text("no such constraint (it was changed meanwhile: reload the page)"))
    out = copy.deepcopy(dict(data))
    if rule.kind in ("keep_apart", "keep_together"):
        out[rule.kind] = [m for m in out[rule.kind] if tuple(m) != rule.students]
    elif rule.kind == "pinned":
        del out["pinned"][rule.students[0]]
    elif rule.kind == "not_in":
        sid = rule.students[0]
        ks = out["not_in"][sid]
        left = [k for k in ([ks] if isinstance(ks, int) else ks) if k != rule.number]
        if left:
            out["not_in"][sid] = left
        else:
            del out["not_in"][sid]
    else:
        out.pop(rule.kind, None)
    return {k: v for k, v in out.items() if v not in ([], {})}


def _distinct(students: Sequence[str], least: int, what: str) -> None:
    if len(set(students)) < least or len(set(students)) != len(students):
        raise ValueError(Text("%(rule)s: choose at least %(least)d different students",
                              rule=what, least=least))


def _group(group: int, what: str) -> None:
    if isinstance(group, bool) or not isinstance(group, int) or group < 1:
        raise ValueError(Text("%(rule)s: give a group number from 1, got %(group)r",
                              rule=what, group=group))


# --- the check, and the one writer of a class's constraints -----------------------------------

def check_constraints(data: Mapping[str, Any], class_id: str, names: Mapping[str, str],
                      plan: RotationPlan, current: Sequence[GroupDef]) -> None:
    """ValueError (a :class:`~hub.grouping.GroupingError`) if the engine could not keep these
    constraints for the class's students (``names``: id → display name) in lessons run with
    ``plan``: a malformed value, a student not in the class, a group that does not exist,
    rules that contradict each other or the size limits (sized to what the plan can run, as
    a suggestion sizes them: :func:`hub.suggest.sized_constraints`)."""
    source = Text("class %(class_id)s constraints", class_id=class_id)
    constraints = constraints_from_json(dict(data), source)
    for rule in rules(data):
        for sid in rule.students:
            if sid not in names:
                raise ValueError(Text("%(source)s: no student %(id)r in class %(class_id)s",
                                      source=source, id=sid, class_id=class_id))
    if not names:
        if rules(data):
            raise ValueError(Text("class %(class_id)s has no students on this hub: import "
                                  "its roster first", class_id=class_id))
        return
    students = tuple(Student(sid, name, {_NONE: 0.0}) for sid, name in names.items())
    sized = sized_constraints(constraints, plan, current, len(names))
    build_problem(ClassData(students, (_NONE,)), sized, Options(mode=Mode.SKILL), source)


def change_constraints(book: LessonBook, class_id: str, names: Mapping[str, str],
                       plan: RotationPlan, current: Sequence[GroupDef],
                       edit: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Apply ``edit`` to the class's stored constraints, check the result
    (:func:`check_constraints`) and store it; returns what is stored. On any problem,
    ValueError and nothing changes. Rules naming a student who has left the class are
    dropped with the change (suggestions ignore them already)."""
    with transaction(book.db):  # read and written under one lock: the CLI and the hub
        data = copy.deepcopy(book.constraints(class_id))
        for gone in {sid for rule in rules(data) for sid in rule.students} - set(names):
            data = without_student(data, gone)  # left the class: the engine ignores them
        data = edit(data)
        check_constraints(data, class_id, names, plan, current)
        book.save_constraints(class_id, data)
    return data


# --- plans and the timetable --------------------------------------------------------------------

def save_plan(book: LessonBook, room: RotationPlan, class_id: str, plan: ClassPlan) -> None:
    """Add or change one of the class's plans (ValueError says what is wrong)."""
    check_plan(plan, room)
    book.save_plan(class_id, plan)


def add_slot(book: LessonBook, day: str, start: str, end: str, class_id: str,
             plan_id: str = "") -> Slot:
    """The class meets ``day`` (mon … sun) from ``start`` to ``end`` (HH:MM), with this plan
    (its own or the room's; "" proposes none). ValueError: a bad day or time, an end before
    the start, a plan the class does not have, an overlap with another class's time."""
    weekday = parse_weekday(day)
    if plan_id and book.plan(class_id, plan_id) is None:
        raise ValueError(Text("class %(class_id)s has no plan %(plan)r", class_id=class_id,
                              plan=plan_id))

    slot = Slot(weekday, start, end, class_id, plan_id)
    book.add_slot(slot)
    return slot


def remove_slot(book: LessonBook, day: str, start: str) -> bool:
    """Take the time starting ``day`` ``start`` off the timetable (False: there was none)."""
    return book.remove_slot(parse_weekday(day), start)
