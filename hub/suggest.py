"""The grouping engine fed from the hub's own data: scores, reflections, constraints, history.

Two halves, so that the engine never runs on the display's or the ingest thread:

- :func:`gather` reads what a suggestion needs from the hub's database (quick: the class's
  roster, its latest scores, the check-ins of its last few lessons, its constraints, its
  current groups and the groups of its recent lessons) into an :class:`EngineInput`;
- :func:`run` calls the engine on it (:func:`hub.grouping.make_groups`, or for "regroup the
  students present" :func:`hub.grouping.regroup_present`) and returns a :class:`Suggestion`:
  the groups named for the teacher, a reason per student, how each group compares with the
  current ones, and each student's reflection features in words.

The service runs :func:`run` on a worker thread; ``stations groups suggest`` runs both in
its own process. Everything a suggestion holds (scores, reasons, features) is for the
teacher's eyes only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hub.export import DAY_S
from hub.grouping import (
    CONFIDENCE_TREND,
    GOAL_PROGRESS,
    ClassData,
    Constraints,
    Grouping,
    Mode,
    Options,
    Student,
    constraints_from_json,
    make_groups,
    recent_pairs,
    regroup_present,
)
from hub.grouping.explain import GROUP
from hub.lessons import LessonBook, without_student
from hub.reflections import Reflections, describe, reflections
from hub.roster import Roster
from hub.rotation import GroupDef, Model, RotationPlan
from hub.scores import latest_scores
from hub.store import HubStore
from stations.text import Text, text_of

log = logging.getLogger(__name__)

MODES = ("skill", "mixed", "interest")
#: "Regroup the students present": the current groups, absentees left out.
PRESENT = "present"
#: Mixed groups also balance the reflections: each feature pulls a quarter as hard as one
#: standard (the engine's default weight for the confidence trend).
BALANCED = {CONFIDENCE_TREND: 0.25, GOAL_PROGRESS: 0.25}
#: Lessons whose groups make the pair history (most recent first, each half the last's weight).
PAIR_LESSONS = 3
#: Regrouping the present has no scores to weigh: one constant column stands in.
_LEVEL = "(none)"



class SuggestError(ValueError):
    """Why no suggestion can be made (no scores yet, a constraint that cannot hold...)."""


@dataclass(frozen=True)
class GroupRequest:
    class_id: str
    #: skill, mixed, interest, or present (regroup the students here).
    mode: str = "skill"
    #: Standards to group on (skill, mixed); () for all the class's.
    standards: tuple[str, ...] = ()
    #: Students left out (present: marked absent).
    absent: tuple[str, ...] = ()
    #: Present: students with no check-in since this moment are left out too.
    since: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class EngineInput:
    request: GroupRequest
    cls: ClassData
    constraints: Constraints
    options: Options
    #: The current groups (names for the suggestion's groups, the comparison's baseline).
    current: tuple[GroupDef, ...]
    names: Mapping[str, str]
    features: Mapping[str, Mapping[str, float]]
    absent: tuple[str, ...] = ()
    #: The standards the scores cover (for the teacher's choice).
    standards: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuggestedGroup:
    name: str
    members: tuple[str, ...]
    #: How it differs from the current group of the same number ("3 stay · 1 from Owls").
    change: str = ""
    topic: str = ""


@dataclass(frozen=True)
class Suggestion:
    """Suggested groups with everything the teacher reads about them (teacher only)."""

    class_id: str
    mode: str
    groups: tuple[SuggestedGroup, ...]
    #: Student id → why they are in their group.
    reasons: Mapping[str, str]
    #: Student id → their reflection features in words ("confidence falling (-0.7)").
    features: Mapping[str, str] = field(default_factory=dict)
    #: One line for the teacher; the engine's own summary is in ``detail``.
    summary: str = ""
    detail: str = ""
    #: Students whose group changes.
    moved: int = 0
    left_out: tuple[str, ...] = ()
    seconds: float = 0.0
    #: The teacher moved students by hand since the engine made it.
    adjusted: bool = False

    @property
    def pairs(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple((g.name, g.members) for g in self.groups)

    def as_json(self, features: Mapping[str, Mapping[str, float]] | None = None
                ) -> dict[str, Any]:
        return {"class": self.class_id, "mode": self.mode,
                "groups": [list(g.members) for g in self.groups],
                "names": [g.name for g in self.groups],
                "changes": [g.change for g in self.groups],
                "topics": [g.topic or None for g in self.groups],
                "reasons": dict(self.reasons), "features": dict(features or {}),
                "summary": self.summary, "detail": self.detail, "moved": self.moved,
                "left_out": list(self.left_out), "seconds": round(self.seconds, 3)}

    def without(self, student: str) -> Suggestion:
        """The suggestion with an erased student taken out everywhere."""
        return replace(self, groups=tuple(replace(g, members=tuple(
            m for m in g.members if m != student)) for g in self.groups),
            reasons={k: v for k, v in self.reasons.items() if k != student},
            features={k: v for k, v in self.features.items() if k != student},
            left_out=tuple(m for m in self.left_out if m != student))

    def adjust(self, student: str, group: str, current: Sequence[GroupDef]) -> Suggestion:
        """The suggestion with ``student`` moved to the group named ``group``."""
        names = [g.name for g in self.groups]
        if group not in names:
            raise ValueError(Text("no suggested group %(group)r", group=group))
        if not any(student in g.members for g in self.groups):
            raise ValueError(Text("that student is not in the suggested groups"))
        groups = [replace(g, members=tuple(m for m in g.members if m != student)
                          + ((student,) if g.name == group else ())) for g in self.groups]
        members = [g.members for g in groups]
        groups = [replace(g, change=c) for g, c in zip(groups, changes(current, members),
                                                        strict=True)]
        reasons = dict(self.reasons)
        reasons[student] = Text("moved to %(group)s by the teacher", group=group)
        return replace(self, groups=tuple(groups), reasons=reasons, adjusted=True,
                       moved=moved(current, members))


def changes(current: Sequence[GroupDef], suggested: Sequence[Sequence[str]]) -> list[str]:
    """Per suggested group, how it differs from the current group in the same place."""
    where = {m: g for g in current for m in g.members}
    out = []
    for k, members in enumerate(suggested):
        same = current[k] if k < len(current) else None
        stay = [m for m in members if same is not None and where.get(m) is same]
        joins: dict[str | None, int] = {}  # None: new to the class's groups
        for m in members:
            if m in stay:
                continue
            origin = where.get(m)
            label = origin.name if origin is not None else None
            joins[label] = joins.get(label, 0) + 1
        parts = [Text("%(count)d stay", count=len(stay)) if same is not None
                 else Text("new group")]
        parts += [Text("%(count)d from %(group)s", count=n, group=label) if label is not None
                  else Text("%(count)d new", count=n) for label, n in joins.items()]
        out.append(Text.joined(" · ", parts))
    return out


def moved(current: Sequence[GroupDef], suggested: Sequence[Sequence[str]]) -> int:
    where = {m: k for k, g in enumerate(current) for m in g.members}
    return sum(1 for k, members in enumerate(suggested) for m in members
               if m in where and where[m] != k)


def lesson_records(store: HubStore, book: LessonBook, class_id: str, now: float,
                   lessons: int, lookback_days: int) -> list[Any]:
    """The check-ins of the class's last ``lessons`` lessons (the lookback period if it has
    had none yet)."""
    recent = book.recent_lessons(class_id, lessons)
    if not recent:
        return store.checkins_between(now - lookback_days * DAY_S, now + 60.0)
    records = []
    for lesson in recent:
        records += store.checkins_between(lesson.started_at, (lesson.ended_at or now) + 60.0)
    return records


def stored_constraints(book: LessonBook, class_id: str, students: Sequence[str]
                       ) -> Constraints:
    """The class's constraints, leaving out students who are no longer in the class."""
    data = book.constraints(class_id)
    mentioned = {s for p in data.get("keep_apart", []) for s in p}
    mentioned |= {s for t in data.get("keep_together", []) for s in t}
    mentioned |= set(data.get("pinned", {})) | set(data.get("not_in", {}))
    for gone in mentioned - set(students):
        data = without_student(data, gone)
    return constraints_from_json(data, Text("class %(class_id)s constraints",
                                            class_id=class_id))


def gather(store: HubStore, roster: Roster, book: LessonBook, request: GroupRequest,
           plan: RotationPlan, current: Sequence[GroupDef], now: float, *,
           reflection_lessons: int = 5, lookback_days: int = 14,
           absent: Sequence[str] = ()) -> EngineInput:
    """Everything the engine needs for the class, read from the hub's database."""
    class_id = request.class_id
    people = roster.students(class_id) if class_id else roster.students()
    if not people:
        raise SuggestError(Text("class %(class_id)s has no students on this hub: import its "
                                "roster first", class_id=class_id or "(none)"))
    ids = [s.id for s in people]
    names = {s.id: s.display_name for s in people}
    data = latest_scores(store.db, class_id, ids) if class_id else None
    found = reflections(lesson_records(store, book, class_id, now, reflection_lessons,
                                       lookback_days), ids)
    mode = request.mode
    if mode not in (*MODES, PRESENT):
        raise SuggestError(Text("mode %(mode)r is not one of %(modes)s or %(present)s",
                                mode=mode, modes=", ".join(MODES), present=PRESENT))
    standards = data.standards if data is not None else ()
    chosen = request.standards or None
    if mode in ("skill", "mixed"):
        if not standards:
            raise SuggestError(Text(
                "no scores for class %(class_id)s yet: import this week's scores first "
                "(stations scores import FILE --class %(class_id)s, or the console's scores "
                "page)", class_id=class_id))
        for std in request.standards:
            if std not in standards:
                raise SuggestError(Text(
                    "no scores on %(standard)r in class %(class_id)s (it has %(standards)s)",
                    standard=std, class_id=class_id, standards=", ".join(standards)))
    if mode == "interest" and not found.preferences:
        raise SuggestError(Text("interest groups form around the activities students chose "
                                "at the stations, and this class has chosen none yet"))
    current = tuple(GroupDef(g.id, g.name, tuple(m for m in g.members if m in names))
                    for g in current)
    students = tuple(_student(sid, names[sid], data.scores.get(sid, {}) if data else {},
                              found, mode) for sid in ids)
    used = (_LEVEL,) if mode == PRESENT else standards
    cls = ClassData(students, used, dict(data.scales) if data else {})
    constraints = sized_constraints(stored_constraints(book, class_id, ids), plan, current,
                                    len(ids))
    if mode != PRESENT:
        constraints = replace(constraints, previous_groups=tuple(
            g.members for g in current if g.members))
    history = recent_pairs([r.groups for r in book.recent_lessons(class_id, PAIR_LESSONS)])
    options = Options(mode=Mode.SKILL if mode == PRESENT else Mode(mode),
                      standards=chosen if mode in ("skill", "mixed") else None,
                      seed=request.seed, recent_pairs=history,
                      balance_features=BALANCED)
    left = tuple(sorted(set(absent) & set(names))) if mode == PRESENT else ()
    return EngineInput(request, cls, constraints, options, current, names, found.features,
                       left, standards)


def _student(sid: str, name: str, scores: Mapping[str, float], found: Reflections,
             mode: str) -> Student:
    if mode == PRESENT:
        return Student(sid, name, {_LEVEL: 0.0})
    return Student(sid, name, dict(scores), found.preferences.get(sid, ()),
                   dict(found.features.get(sid, {})))


def sized_constraints(constraints: Constraints, plan: RotationPlan,
                      current: Sequence[GroupDef], n: int) -> Constraints:
    """The class's size rules within what the plan can run: in station rotation at most
    one group per station and none larger than a station holds."""
    caps = [s.capacity for s in plan.stations if s.capacity]
    station = plan.model is Model.STATION
    max_size = constraints.max_size
    if station and caps:
        max_size = min(max_size or min(caps), min(caps))
    groups = constraints.groups
    if groups is None and constraints.min_size is None and constraints.max_size is None:
        groups = len([g for g in current if g.members]) or len(plan.stations)
    if station and groups is not None:
        groups = min(groups, len(plan.stations))
    if groups is not None:
        groups = max(1, min(groups, n))
    return replace(constraints, groups=groups, max_size=max_size)


def run(inp: EngineInput) -> Suggestion:
    """Call the engine (on a worker thread in the hub); SuggestError says why it cannot."""
    from hub.grouping import GroupingError

    started = time.perf_counter()
    request = inp.request
    try:
        if request.mode == PRESENT:
            result = regroup_present(inp.cls, [g.members for g in inp.current], inp.absent,
                                     inp.constraints, inp.options,
                                     source=_class(request.class_id))
        else:
            result = make_groups(inp.cls, inp.constraints, inp.options,
                                 source=_class(request.class_id))
    except GroupingError as err:
        raise SuggestError(text_of(err)) from err
    return _suggestion(inp, result, time.perf_counter() - started)


def _class(class_id: str) -> Text:
    """The class, as the engine's messages name where their constraints came from."""
    return Text("class %(class_id)s", class_id=class_id)


def _headline(inp: EngineInput, result: Grouping, n_moved: int) -> str:
    """One line for the teacher: what the groups are made on, who moves, and how they
    compare with the current groups under the same measure."""
    n = len(inp.cls.students)
    on = len(inp.options.standards or inp.cls.standards)
    what = {"skill": Text("Skill groups on 1 standard") if on == 1
            else Text("Skill groups on %(count)d standards", count=on),
            "mixed": Text("Mixed groups on 1 standard") if on == 1
            else Text("Mixed groups on %(count)d standards", count=on),
            "interest": Text("Interest groups from the activities chosen")}[inp.request.mode]
    current = result.comparison.current_score if result.comparison is not None else None
    if current is not None:
        return Text("%(what)s: %(moved)d of %(students)d students move; score %(score).2f, "
                    "the current groups %(current).2f (lower is better)", what=what,
                    moved=n_moved, students=n, score=result.score, current=current)
    return Text("%(what)s: %(moved)d of %(students)d students move", what=what,
                moved=n_moved, students=n)


def _suggestion(inp: EngineInput, result: Grouping, seconds: float) -> Suggestion:
    current = inp.current
    members = [tuple(g) for g in result.groups]
    names = [current[k].name if k < len(current) and current[k].name else f"Group {k + 1}"
             for k in range(len(members))]
    taken: set[str] = set()
    for k, name in enumerate(names):  # never two groups of one name
        n = k + 1
        while name in taken:
            name = f"Group {n}"
            n += 1
        names[k] = name
        taken.add(name)
    groups = tuple(SuggestedGroup(name, m, change, topic or "")
                   for name, m, change, topic in zip(names, members, changes(current, members),
                                                     result.topics, strict=True))
    where = {m: names[k] for k, g in enumerate(members) for m in g}
    before = {m: g.name for g in current for m in g.members}
    if inp.request.mode == PRESENT:
        reasons: dict[str, str] = {
            sid: (Text("stays in %(group)s", group=where[sid]) if before.get(sid) == where[sid]
                  else Text("moves from %(before)s to %(group)s to even out the groups",
                            before=before[sid], group=where[sid]) if sid in before
                  else Text("joins %(group)s", group=where[sid]))
            for sid in where}
        reasons.update({sid: Text("absent: left out") for sid in result.left_out})
        n_moved = moved(current, members)
        summary = Text("Regrouped the %(students)d students here (%(absent)d absent left "
                       "out): %(moved)d moved, the fewest the size limits allow",
                       students=len(where), absent=len(result.left_out), moved=n_moved)
    else:
        def named(value: Any) -> Any:  # the engine's "group 2": the teacher's name for it
            if isinstance(value, Text) and value.msgid == GROUP:
                k = value.params["number"] - 1
                return names[k] if 0 <= k < len(names) else value
            return value
        reasons = {sid: text.map_params(named) if isinstance(text, Text) else text
                   for sid, text in result.reasons.items()}
        n_moved = result.moved or 0
        summary = _headline(inp, result, n_moved)
    return Suggestion(
        class_id=inp.request.class_id, mode=inp.request.mode, groups=groups, reasons=reasons,

        features={sid: describe(f) for sid, f in inp.features.items() if describe(f)},
        summary=summary, detail=result.summary, moved=n_moved,
        left_out=tuple(result.left_out), seconds=seconds)
