"""Lessons for every class that meets in the room: plans, groups, constraints, settings, the
timetable and each lesson's history, kept per class in the hub's database.

``hub.toml`` describes the room: its stations with their menus, and the room's own plan (the
``[rotation]`` table: model, block length, transition, warning, the teacher-table rule). The
classes come from the roster. Each class keeps, in the store:

- **plans**: the room's plan is every class's first (id ``room``); a class may add its own,
  each naming the stations it uses, its block length and its model (:class:`ClassPlan`);
- **groups**: the class's current groups. The class named in ``[class] id`` starts from the
  config's ``[[groups]]`` (and follows the file while the teacher has not replaced them);
  another class starts from an even split of its students, one group per station, until the
  teacher approves suggested ones;
- **constraints** for the grouping engine (keep apart, keep together, pins, sizes), in the
  engine's constraints-file form (:func:`hub.grouping.constraints_from_json`);
- **settings** over the config's defaults: ``history`` (``[class] history``) and
  ``questions`` (``[reflection] questions``);
- **lessons**: one row per lesson run, with its class, plan, start and end and the groups
  that worked together (the pair history the engine avoids repeating, and the window of the
  reflections it reads).

The **timetable** (weekday, start, end, class, plan) lets the hub propose the class of the
hour when the teacher starts a lesson.

Pure helpers (:func:`rotation_plan`, :func:`even_groups`, :func:`lesson_problem`) build and
check what the rotation engine runs; :class:`LessonBook` reads and writes the tables (each
change of several statements inside :func:`stations.sqlitedb.transaction`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from broker.contract import SHORT_TEXT_MAX
from hub.privacy import public_group_names
from hub.rotation import (
    GroupDef,
    Model,
    RotationPlan,
    StationDef,
    TeacherTableRule,
    group_from_dict,
    group_to_dict,
)
from hub.wire import rotation_size_problem
from stations.sqlitedb import transaction
from stations.text import Text

#: Every class's first plan: the room's own ``[rotation]``, every station.
ROOM_PLAN = "room"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
#: Settings a class may keep over the config's: ``history`` and ``questions``.
CLASS_SETTINGS = ("history", "questions")


@dataclass(frozen=True, slots=True)
class ClassPlan:
    """How a class's lesson runs: which stations, how long a block, which model.

    Empty values take the room's (``stations`` () = every station, ``block_minutes`` 0 and
    ``model`` "" the ``[rotation]`` table's).
    """

    id: str
    name: str
    stations: tuple[str, ...] = ()
    block_minutes: float = 0.0
    model: str = ""


def room_plan() -> ClassPlan:
    return ClassPlan(ROOM_PLAN, "The room's plan")


def check_plan(plan: ClassPlan, room: RotationPlan) -> None:
    """ValueError naming what is wrong with a class's plan for this room."""
    if not _PLAN_ID.match(plan.id):
        raise ValueError(Text("plan id %(plan)r: use 1-32 lower-case letters, digits, - or _",
                              plan=plan.id))
    if not plan.name.strip() or len(plan.name) > 64:
        raise ValueError(Text("a plan needs a name of 1 to 64 characters"))
    known = [s.id for s in room.stations]
    for sid in plan.stations:
        if sid not in known:
            raise ValueError(Text("no station %(station)r in this room (it has %(stations)s)",
                                  station=sid, stations=", ".join(known)))
    if len(set(plan.stations)) != len(plan.stations):
        raise ValueError(Text("a station is listed twice"))
    if plan.block_minutes < 0 or not math.isfinite(plan.block_minutes) or \
            plan.block_minutes > 240:
        raise ValueError(Text("block minutes must be 1 to 240 (0: the room's), got "
                              "%(minutes)g", minutes=plan.block_minutes))
    if 0 < plan.block_minutes * 60 <= room.block(0).warning_s:
        raise ValueError(Text("a block of %(minutes)g minutes is not longer than the room's "
                              "warning (%(warning)g minutes)", minutes=plan.block_minutes,
                              warning=room.block(0).warning_s / 60))
    if plan.model and plan.model not in {m.value for m in Model}:
        raise ValueError(Text("model %(model)r is not one of %(models)s", model=plan.model,
                              models=", ".join(m.value for m in Model)))


def rotation_plan(room: RotationPlan, plan: ClassPlan,
                  groups: tuple[GroupDef, ...]) -> RotationPlan:
    """The rotation plan a class's lesson runs: the room's, narrowed by the class's plan."""
    by_id = {s.id: s for s in room.stations}
    stations = tuple(by_id[s] for s in plan.stations if s in by_id) or room.stations
    rule = room.teacher_table
    if rule is not None:
        ids = {g.id for g in groups}
        rule = (TeacherTableRule(rule.station, tuple(g for g in rule.every_lesson if g in ids))
                if rule.station in {s.id for s in stations} else None)
    fields: dict[str, Any] = {"stations": stations, "groups": groups, "teacher_table": rule}
    if plan.stations:  # fewer stations: one block per station, playlists narrowed
        fields["blocks"] = 0
        used = {s.id for s in stations}
        fields["playlists"] = {who: tuple(s for s in items if s in used)
                               for who, items in room.playlists.items()}
    if plan.block_minutes:
        fields.update(block_s=plan.block_minutes * 60.0, block_defs=())
    if plan.model:
        fields["model"] = Model(plan.model)
    return dataclasses.replace(room, **fields)


def describe_plan(plan: ClassPlan, room: RotationPlan) -> str:
    """"4 stations · 12 min blocks" (station rotation is not named)."""
    run = rotation_plan(room, plan, ())
    minutes = run.block(0).length_s / 60
    text = f"{len(run.stations)} stations · {minutes:g} min blocks"
    if run.model is not Model.STATION:
        text += f" · {run.model.value.replace('-', ' ')}"
    return text


def even_groups(students: Sequence[str], plan: RotationPlan) -> tuple[GroupDef, ...]:
    """A class's first groups when nobody has made any: one per station (fewer for a small
    class, more where a station holds fewer), sizes as even as can be, in roster order."""
    if not students:
        return ()
    stations = max(1, len(plan.stations))
    caps = [s.capacity for s in plan.stations if s.capacity]
    count = min(stations, len(students))
    if caps:
        count = max(count, math.ceil(len(students) / min(caps)))
    groups = []
    for k in range(count):
        members = tuple(students[k::count])
        groups.append(GroupDef(f"g{k + 1}", f"Group {k + 1}", members))
    return tuple(groups)


def class_groups(stored: tuple[tuple[GroupDef, ...], str] | None,
                 configured: tuple[GroupDef, ...], students: Sequence[str],
                 plan: RotationPlan) -> tuple[tuple[GroupDef, ...], str, bool]:
    """A class's groups (its stored ones; the config's for the config's class, again when
    the file's change while the teacher has not replaced them; else an even split of its
    students), where they came from, and whether they are new (to be stored)."""
    if configured and (stored is None or (stored[1] == "config" and stored[0] != configured)):
        return configured, "config", True
    if stored is not None:
        return stored[0], stored[1], False
    return even_groups(students, plan), "even split", True


def lesson_problem(plan: RotationPlan, groups: Sequence[GroupDef], questions: Sequence[str],
                   stations: Sequence[StationDef] = ()) -> str | None:
    """Why these groups cannot run in this plan (as the config loader checks the config's),
    or None: more groups than stations, a group larger than a station holds, a rotation
    state the message contract cannot carry (listing ``stations``, default the plan's: the
    hub's state lists every station of the room)."""
    if plan.model is Model.STATION:
        if len(groups) > len(plan.stations):
            return Text("%(groups)d groups but the plan has %(stations)d stations: every "
                        "group needs a station in every block", groups=len(groups),
                        stations=len(plan.stations))
        for g in groups:
            for s in plan.stations:
                if s.capacity and len(g.members) > s.capacity:
                    return Text("group %(group)r has %(count)d students but %(station)s "
                                "holds %(capacity)d", group=g.name, count=len(g.members),
                                station=s.name, capacity=s.capacity)
    if len({g.id for g in groups}) != len(groups):
        return Text("two groups share an id")
    public = public_group_names(groups)
    for g in groups:
        if len(public[g.id]) > SHORT_TEXT_MAX or len(g.name) > SHORT_TEXT_MAX:
            return Text("the group name %(name)r… is %(length)d characters; the stations "
                        "show at most %(most)d", name=g.name[:24], length=len(g.name),
                        most=SHORT_TEXT_MAX)

    return rotation_size_problem(stations or plan.stations, groups, plan.block_count,
                                 questions)


def groups_to_json(groups: Iterable[GroupDef]) -> str:
    return json.dumps([group_to_dict(g) for g in groups])


def groups_from_json(text: str) -> tuple[GroupDef, ...]:
    return tuple(group_from_dict(g) for g in json.loads(text))


@dataclass(frozen=True, slots=True)
class Slot:
    """One line of the timetable: the class (and plan) that meets then."""

    weekday: int
    start: str
    end: str
    class_id: str
    plan_id: str = ""

    def covers(self, when: dt.datetime) -> bool:
        hhmm = when.strftime("%H:%M")
        return when.weekday() == self.weekday and self.start <= hhmm < self.end

    def describe(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start}-{self.end}"


def parse_weekday(text: str) -> int:
    key = text.strip().lower()[:3]
    if key not in WEEKDAYS:
        raise ValueError(Text("%(value)r is not a weekday (mon, tue, wed, thu, fri, sat, sun)",
                              value=text))
    return WEEKDAYS.index(key)


def check_time(text: str) -> str:
    if not _TIME.match(text):
        raise ValueError(Text("%(value)r is not a time of day as HH:MM (24-hour)", value=text))
    return text


@dataclass(frozen=True, slots=True)
class LessonRecord:
    """A lesson run: when, and the groups that worked together."""

    seq: int
    class_id: str
    plan_id: str
    started_at: float
    ended_at: float | None
    groups: tuple[tuple[str, ...], ...]


class LessonBook:
    """The per-class tables of the hub's database (see the module's text)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    # --- plans ----------------------------------------------------------------------------------

    def plans(self, class_id: str) -> list[ClassPlan]:
        """The class's plans: the room's first, then its own by name."""
        rows = self.db.execute("SELECT plan_id, name, stations, block_minutes, model FROM "
                               "class_plans WHERE class_id=? ORDER BY name",
                               (class_id,)).fetchall()
        return [room_plan()] + [ClassPlan(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4])
                                for r in rows]

    def plan(self, class_id: str, plan_id: str) -> ClassPlan | None:
        return next((p for p in self.plans(class_id) if p.id == plan_id), None)

    def save_plan(self, class_id: str, plan: ClassPlan) -> None:
        if plan.id == ROOM_PLAN:
            raise ValueError(Text("plan id %(plan)r is the room's own plan (hub.toml)",
                                  plan=ROOM_PLAN))
        with transaction(self.db):
            self.db.execute("INSERT INTO class_plans VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                            "(class_id, plan_id) DO UPDATE SET name=excluded.name, "
                            "stations=excluded.stations, block_minutes=excluded.block_minutes, "
                            "model=excluded.model",
                            (class_id, plan.id, plan.name, json.dumps(list(plan.stations)),
                             plan.block_minutes, plan.model))

    def remove_plan(self, class_id: str, plan_id: str) -> bool:
        with transaction(self.db):
            return self.db.execute("DELETE FROM class_plans WHERE class_id=? AND plan_id=?",
                                   (class_id, plan_id)).rowcount > 0

    # --- groups ---------------------------------------------------------------------------------

    def groups(self, class_id: str) -> tuple[tuple[GroupDef, ...], str] | None:
        """The class's current groups and where they came from, or None."""
        row = self.db.execute("SELECT groups, source FROM class_groups WHERE class_id=?",
                              (class_id,)).fetchone()
        return (groups_from_json(row[0]), row[1]) if row else None

    def save_groups(self, class_id: str, groups: Iterable[GroupDef], source: str,
                    now: float) -> None:
        self.db.execute("INSERT INTO class_groups VALUES (?, ?, ?, ?) ON CONFLICT(class_id) "
                        "DO UPDATE SET groups=excluded.groups, source=excluded.source, "
                        "updated_at=excluded.updated_at",
                        (class_id, groups_to_json(groups), source, now))

    # --- constraints and settings ---------------------------------------------------------------

    def constraints(self, class_id: str) -> dict[str, Any]:
        row = self.db.execute("SELECT constraints FROM class_constraints WHERE class_id=?",
                              (class_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    def save_constraints(self, class_id: str, data: dict[str, Any]) -> None:
        with transaction(self.db):
            if data:
                self.db.execute("INSERT INTO class_constraints VALUES (?, ?) ON CONFLICT"
                                "(class_id) DO UPDATE SET constraints=excluded.constraints",
                                (class_id, json.dumps(data, sort_keys=True)))
            else:
                self.db.execute("DELETE FROM class_constraints WHERE class_id=?", (class_id,))

    def settings(self, class_id: str) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute(
            "SELECT key, value FROM class_settings WHERE class_id=?", (class_id,))}

    def set_setting(self, class_id: str, key: str, value: Any) -> None:
        """Keep ``value`` for the class (None: back to the config's)."""
        if key not in CLASS_SETTINGS:
            raise ValueError(f"unknown class setting {key!r}")
        if value is None:
            self.db.execute("DELETE FROM class_settings WHERE class_id=? AND key=?",
                            (class_id, key))
        else:
            self.db.execute("INSERT INTO class_settings VALUES (?, ?, ?) ON CONFLICT"
                            "(class_id, key) DO UPDATE SET value=excluded.value",
                            (class_id, key, json.dumps(value)))

    # --- timetable ------------------------------------------------------------------------------

    def timetable(self) -> list[Slot]:
        return [Slot(*r) for r in self.db.execute(
            "SELECT weekday, start, end, class_id, plan_id FROM timetable "
            "ORDER BY weekday, start")]

    def add_slot(self, slot: Slot) -> None:
        check_time(slot.start)
        check_time(slot.end)
        if slot.end <= slot.start:
            raise ValueError(Text("%(slot)s: the end must come after the start",
                                  slot=slot.describe()))
        with transaction(self.db):
            for other in self.timetable():
                if (other.weekday == slot.weekday and other.start != slot.start
                        and other.start < slot.end and slot.start < other.end):
                    raise ValueError(Text("%(slot)s overlaps %(other)s (%(class_id)s)",
                                          slot=slot.describe(), other=other.describe(),
                                          class_id=other.class_id))

            self.db.execute("INSERT INTO timetable VALUES (?, ?, ?, ?, ?) ON CONFLICT"
                            "(weekday, start) DO UPDATE SET end=excluded.end, "
                            "class_id=excluded.class_id, plan_id=excluded.plan_id",
                            (slot.weekday, slot.start, slot.end, slot.class_id, slot.plan_id))

    def remove_slot(self, weekday: int, start: str) -> bool:
        with transaction(self.db):
            return self.db.execute("DELETE FROM timetable WHERE weekday=? AND start=?",
                                   (weekday, start)).rowcount > 0

    def proposed(self, now: float) -> Slot | None:
        """The timetable's class for this moment (local time), if one meets now."""
        when = dt.datetime.fromtimestamp(now)
        return next((s for s in self.timetable() if s.covers(when)), None)

    # --- lessons run ------------------------------------------------------------------------------

    def begin_lesson(self, class_id: str, plan_id: str, groups: Iterable[Sequence[str]],
                     now: float) -> int:
        cur = self.db.execute("INSERT INTO lessons (class_id, plan_id, started_at, groups) "
                              "VALUES (?, ?, ?, ?)",
                              (class_id, plan_id, now, json.dumps([list(g) for g in groups])))
        return int(cur.lastrowid or 0)

    def set_lesson_groups(self, seq: int, groups: Iterable[Sequence[str]]) -> None:
        self.db.execute("UPDATE lessons SET groups=? WHERE seq=?",
                        (json.dumps([list(g) for g in groups]), seq))

    def end_lesson(self, seq: int, now: float) -> None:
        self.db.execute("UPDATE lessons SET ended_at=? WHERE seq=? AND ended_at IS NULL",
                        (now, seq))

    def recent_lessons(self, class_id: str, count: int) -> list[LessonRecord]:
        """The class's last ``count`` lessons, most recent first."""
        rows = self.db.execute("SELECT seq, class_id, plan_id, started_at, ended_at, groups "
                               "FROM lessons WHERE class_id=? ORDER BY started_at DESC, "
                               "seq DESC LIMIT ?", (class_id, count)).fetchall()
        return [LessonRecord(r[0], r[1], r[2], r[3], r[4],
                             tuple(tuple(g) for g in json.loads(r[5]))) for r in rows]

    def lesson_count(self, class_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM lessons WHERE class_id=?",
                               (class_id,)).fetchone()[0]

    # --- a family's request -----------------------------------------------------------------------

    def forget_student(self, student_id: str) -> None:
        """Take the student out of every class's groups, constraints and lesson history."""
        for class_id, text in self.db.execute("SELECT class_id, groups FROM class_groups"
                                              ).fetchall():
            groups = tuple(dataclasses.replace(g, members=tuple(m for m in g.members
                                                                if m != student_id))
                           for g in groups_from_json(text))
            self.db.execute("UPDATE class_groups SET groups=? WHERE class_id=?",
                            (groups_to_json(groups), class_id))
        for seq, text in self.db.execute("SELECT seq, groups FROM lessons").fetchall():
            groups = [[m for m in g if m != student_id] for g in json.loads(text)]
            self.db.execute("UPDATE lessons SET groups=? WHERE seq=?", (json.dumps(groups), seq))
        for class_id, data in [(c, self.constraints(c)) for (c,) in self.db.execute(
                "SELECT class_id FROM class_constraints").fetchall()]:
            self.db.execute("UPDATE class_constraints SET constraints=? WHERE class_id=?",
                            (json.dumps(without_student(data, student_id), sort_keys=True),
                             class_id))

    def about_student(self, student_id: str) -> dict[str, Any]:
        """What the per-class tables hold about one student (for a family's export)."""
        groups = []
        for class_id, text in self.db.execute("SELECT class_id, groups FROM class_groups"):
            for g in groups_from_json(text):
                if student_id in g.members:
                    groups.append({"class_id": class_id, "group": g.id, "name": g.name})
        history = [{"class_id": r[0], "started_at": r[1], "with": [m for g in json.loads(r[2])
                                                                   if student_id in g
                                                                   for m in g
                                                                   if m != student_id]}
                   for r in self.db.execute("SELECT class_id, started_at, groups FROM lessons "
                                            "ORDER BY started_at")
                   if any(student_id in g for g in json.loads(r[2]))]
        constraints = {c: about for c, data in
                       ((c, self.constraints(c)) for (c,) in self.db.execute(
                           "SELECT class_id FROM class_constraints").fetchall())
                       if (about := about_student(data, student_id))}
        return {"groups": groups, "lessons": history, "constraints": constraints}


def without_student(data: dict[str, Any], student_id: str) -> dict[str, Any]:
    """A constraints object with every mention of the student taken out."""
    out = dict(data)
    out["keep_apart"] = [p for p in data.get("keep_apart", []) if student_id not in p]
    together = [[m for m in t if m != student_id] for t in data.get("keep_together", [])]
    out["keep_together"] = [t for t in together if len(t) > 1]
    for key in ("pinned", "not_in"):
        out[key] = {k: v for k, v in data.get(key, {}).items() if k != student_id}
    return {k: v for k, v in out.items() if v not in ([], {})}


def about_student(data: dict[str, Any], student_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    apart = [p for p in data.get("keep_apart", []) if student_id in p]
    together = [t for t in data.get("keep_together", []) if student_id in t]
    if apart:
        found["keep_apart"] = apart
    if together:
        found["keep_together"] = together
    for key in ("pinned", "not_in"):
        if student_id in data.get(key, {}):
            found[key] = data[key][student_id]
    return found
