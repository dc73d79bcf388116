"""The immutable snapshot the hub display draws, and the pure questions it asks of it.

Made by the ingest thread, read by the display thread (Home Assistant's coordinator
pattern). Teacher-only facts (reflection flags, the teacher's own group names) live in their
own fields, and the class view never reads them: it names groups by their public names
(:mod:`hub.privacy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hub.badges import Offer
from hub.ingest import Arrival
from hub.rotation import RotationSnapshot
from hub.teacher import AccessView

if TYPE_CHECKING:
    from hub.suggest import Suggestion


@dataclass(frozen=True, slots=True)
class StationInfo:
    id: str
    name: str
    kind: str
    colour: str = ""
    icon: str = "pin"
    capacity: int = 0


@dataclass(frozen=True, slots=True)
class EnrollmentView:
    active: bool = False
    offers: tuple[Offer, ...] = ()
    #: (student id, display name, has a badge), students without one first.
    candidates: tuple[tuple[str, str, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class LessonChoice:
    """A class a lesson may be started for, with its plans ((id, name, description))."""

    class_id: str
    title: str
    plans: tuple[tuple[str, str, str], ...]
    #: The timetable says this class meets now (and with which plan, "" for any).
    proposed: bool = False
    proposed_plan: str = ""


@dataclass(frozen=True)
class HubView:
    """Everything the display draws, made by the ingest thread, read by the display thread."""

    room: str
    rotation: RotationSnapshot
    station_names: dict[str, str]
    #: TEACHER ONLY: group id → the name the teacher gave it.
    group_names: dict[str, str]
    arrivals: tuple[Arrival, ...]
    station_states: dict[str, str]
    connected: bool
    stored: int
    at: float
    stations: tuple[StationInfo, ...] = ()
    #: student id → first name and last initial
    student_names: dict[str, str] = field(default_factory=dict)
    #: TEACHER ONLY: student id → short reflection flags ("low confidence 2 times in a row").
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    enrollment: EnrollmentView = EnrollmentView()
    class_title: str = ""
    #: Groups suggested by the grouping engine, waiting for the teacher's approval
    #: (group name → member ids); None when there is nothing to approve.
    suggested_groups: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    #: The last thing the teacher did or the hub wants the teacher to know, and when; in
    #: public names (the class view shows it), and as the teacher view shows it.
    message: str = ""
    message_at: float = 0.0
    teacher_message: str = ""
    #: Group id → the name the class may see (hub.privacy.public_group_names).
    public_group_names: dict[str, str] = field(default_factory=dict)
    #: The public names of the suggested groups, in their order.
    suggested_public: tuple[str, ...] = ()
    #: Whether the teacher view is unlocked, until when, and the PIN keypad's state.
    access: AccessView = field(default_factory=AccessView)
    #: TEACHER ONLY: problems the teacher (or IT) must hear about, e.g. the broker refusing
    #: the hub's notices, one short line each.
    warnings: tuple[str, ...] = ()
    #: The lesson's class (its roster sourcedId) and plan.
    class_id: str = ""
    plan_id: str = ""
    plan_name: str = ""
    #: When the lesson running now began (0 when none runs).
    lesson_started_at: float = 0.0
    #: The classes a lesson may be started for, the timetable's proposal first.
    lesson_choices: tuple[LessonChoice, ...] = ()
    #: TEACHER ONLY: the suggestion waiting for approval with its reasons, how each group
    #: compares with the current ones and each student's reflection features.
    suggestion: Suggestion | None = None
    #: TEACHER ONLY: what the grouping engine is making now ("" nothing), since when.
    groups_work: str = ""
    groups_work_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Person:
    student_id: str
    name: str
    #: present, missing, wrong (expected here, checked in elsewhere), visitor (checked in
    #: here, expected elsewhere), absent (marked by the teacher)
    status: str
    #: for wrong: the station they are at; for visitor: the station they should be at
    other: str = ""


def group_label(view: HubView, group_id: str, *, teacher: bool) -> str:
    """What the display calls a group: the teacher's name in the teacher view, else public."""
    if teacher:
        return view.group_names.get(group_id, "")
    return view.public_group_names.get(group_id, "")


def suggested_label(view: HubView, index: int, *, teacher: bool) -> str:
    """What the display calls the ``index``-th suggested group."""
    if teacher and view.suggested_groups is not None:
        return view.suggested_groups[index][0]
    return view.suggested_public[index] if index < len(view.suggested_public) else ""


def message(view: HubView, now: float, *, teacher: bool, show_s: float) -> str:
    """The banner to show now ("" when there is none or it is old); a message for the
    teacher alone (no public words) shows only on the teacher view."""
    if not (view.message or view.teacher_message) or now - view.message_at >= show_s:
        return ""
    return (view.teacher_message or view.message) if teacher else view.message


def _this_block(view: HubView) -> dict[str, Arrival]:
    start = view.rotation.block_started_at
    return {a.student_id: a for a in view.arrivals if a.at >= start}


def people_at(view: HubView, station_id: str) -> list[Person]:
    """Who belongs at the station this block and where they are, then who is there instead."""
    arrived = _this_block(view)
    names = view.student_names
    out: list[Person] = []
    expected = view.rotation.expected.get(station_id, ())
    for sid in expected:
        name = names.get(sid, sid)
        a = arrived.get(sid)
        if a is not None and a.station == station_id:
            out.append(Person(sid, name, "present"))
        elif a is not None:
            out.append(Person(sid, name, "wrong", view.station_names.get(a.station, a.station)))
        elif sid in view.rotation.absent:
            out.append(Person(sid, name, "absent"))
        else:
            out.append(Person(sid, name, "missing"))
    wanted = set(expected)
    for sid, a in arrived.items():
        if a.station == station_id and sid not in wanted:
            should = next((st for st, people in view.rotation.expected.items() if sid in people),
                          "")
            out.append(Person(sid, a.display_name, "visitor" if should else "present",
                              view.station_names.get(should, should)))
    order = {"visitor": 0, "wrong": 1, "missing": 2, "present": 3, "absent": 4}
    return sorted(out, key=lambda p: (order[p.status], p.name))


def counts(view: HubView) -> dict[str, int]:
    total: dict[str, int] = {"present": 0, "missing": 0, "wrong": 0, "absent": 0, "visitor": 0}
    for s in view.station_names:
        for p in people_at(view, s):
            total[p.status] += 1
    return total
