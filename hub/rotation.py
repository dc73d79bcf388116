"""The rotation engine: pure, with the clock passed in as ``now``; no threads, no I/O.

Three models a teacher can run:

- **station rotation**: groups rotate through the stations on a timer. Group slot ``j`` is at
  station ``(j + b) mod n`` in block ``b``, so in ``n`` blocks every group visits every
  station once (the schedule is built by :func:`hub.schedule.build_schedule`, which also
  applies the teacher-table frequency rule).
- **individual rotation**: each student follows a playlist of stations, one per block;
  students without a playlist follow their group.
- **flex**: students move when they are done: each is pointed at the next station on their
  list they have not visited yet that has room.

A lesson is a plan of blocks, each with a transition (students move), its working time and a
warning before the end. Teacher actions (start, pause, resume, extend, skip, end, move a
student to another group, mark absent) return the :class:`RotationEvent` s stations must be
told about, and so does :meth:`Rotation.tick`. The whole state is :meth:`Rotation.to_dict`;
:meth:`Rotation.restore` resumes it from the real time after a hub restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from hub.schedule import build_schedule
from stations.text import Text


class Phase(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class Model(StrEnum):
    STATION = "station-rotation"
    INDIVIDUAL = "individual-rotation"
    FLEX = "flex"


@dataclass(frozen=True, slots=True)
class ActivityDef:
    id: str
    label: str
    icon: str = "star"
    #: The label in other languages (language → words), for the screens.
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StationDef:
    id: str
    name: str
    kind: str
    activities: tuple[ActivityDef, ...] = ()
    #: Most students at once; 0 is no limit.
    capacity: int = 0
    #: Okabe-Ito colour name and icon: how students recognise it ("the blue table").
    colour: str = ""
    icon: str = "pin"
    #: The name in other languages (language → name), for the screens.
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class GroupDef:
    id: str
    #: The teacher's name for the group: the teacher view's.
    name: str
    members: tuple[str, ...]
    #: What the class and the stations call it ("" decides by :mod:`hub.privacy`'s rule).
    public_name: str = ""


def group_to_dict(g: GroupDef) -> dict[str, Any]:
    """A group as saved (the lesson's state, a class's stored groups)."""
    out: dict[str, Any] = {"id": g.id, "name": g.name, "members": list(g.members)}
    if g.public_name:
        out["public_name"] = g.public_name
    return out


def group_from_dict(d: dict[str, Any]) -> GroupDef:
    """A group saved by :func:`group_to_dict` (or by a release without public names)."""
    return GroupDef(d["id"], d["name"], tuple(d["members"]), d.get("public_name", ""))


@dataclass(frozen=True, slots=True)
class BlockDef:
    """One block: ``transition_s`` to move, then ``length_s`` of work; the warning comes
    ``warning_s`` before the end."""

    length_s: float
    transition_s: float = 0.0
    warning_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.transition_s + self.length_s


@dataclass(frozen=True, slots=True)
class TeacherTableRule:
    """The teacher-led station's frequency rule: ``every_lesson`` groups (the ones that need
    it most) come in every lesson, first; the other groups take turns from lesson to lesson."""

    station: str
    every_lesson: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RotationPlan:
    stations: tuple[StationDef, ...]
    groups: tuple[GroupDef, ...]
    #: Working time of a block when ``block_defs`` is empty.
    block_s: float
    #: Blocks in the lesson; by default every group visits every station once.
    blocks: int = 0
    model: Model = Model.STATION
    #: Per-block lengths; when given they set the number of blocks.
    block_defs: tuple[BlockDef, ...] = ()
    transition_s: float = 0.0
    warning_s: float = 0.0
    teacher_table: TeacherTableRule | None = None
    #: student id → station ids, one per block (individual rotation) or in the order the
    #: student should do them (flex).
    playlists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def block_count(self) -> int:
        if self.block_defs:
            return len(self.block_defs)
        return self.blocks or len(self.stations)

    def block(self, index: int) -> BlockDef:
        if self.block_defs:
            return self.block_defs[min(index, len(self.block_defs) - 1)]
        return BlockDef(self.block_s, self.transition_s, self.warning_s)

    def fingerprint(self) -> str:
        """What a saved state depends on: if this changes, the saved lesson cannot resume."""
        return "|".join([self.model.value, ",".join(s.id for s in self.stations),
                         ",".join(g.id for g in self.groups), str(self.block_count)])


@dataclass(frozen=True, slots=True)
class RotationEvent:
    """Something every station must be told at once (a Notice on the wire)."""

    event: str  # warning, move, paused, resumed, ended
    block: int
    remaining_s: float = 0.0


@dataclass(frozen=True, slots=True)
class RotationSnapshot:
    """What everyone else reads: the display draws it, the hub publishes it."""

    phase: Phase
    block: int
    blocks: int
    remaining_s: float
    #: station id → group id ("" where no group is there this block)
    assignments: dict[str, str]
    model: Model = Model.STATION
    #: Seconds left of the block's transition (students moving); 0 once work has begun.
    moving_s: float = 0.0
    #: Inside the warning window before the end of the block.
    warning: bool = False
    #: The next block's assignments ({} in the last block or when not running).
    next_assignments: dict[str, str] = field(default_factory=dict)
    #: station id → the students expected there now (group members, playlists, flex).
    expected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: station id → the students expected there in the next block.
    expected_next: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: group id → its members now (after the teacher's moves).
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    #: When the current block began (hub clock), to tell this block's arrivals from older.
    block_started_at: float = 0.0
    lesson: int = 0


@dataclass
class Rotation:
    plan: RotationPlan
    phase: Phase = Phase.IDLE
    block: int = 0
    #: While running: when the current block ends. While paused: None.
    ends_at: float | None = None
    #: While paused: what was left of the block.
    left_s: float = 0.0
    #: While running: when the block's transition ends; while paused, what was left of it.
    moving_until: float = 0.0
    moving_left_s: float = 0.0
    block_started_at: float = 0.0
    warned: bool = False
    #: Lessons started so far; the teacher-table rule takes turns by it.
    lessons: int = 0
    #: student id → group id, the teacher's moves (kept until groups are replaced).
    moved: dict[str, str] = field(default_factory=dict)
    #: Students marked absent for this lesson.
    absent: set[str] = field(default_factory=set)
    #: Flex: student id → stations visited this lesson, in order.
    visits: dict[str, list[str]] = field(default_factory=dict)
    #: The lesson's schedule: per block, station id → group id.
    schedule: tuple[dict[str, str], ...] = ()
    groups: tuple[GroupDef, ...] = ()

    def __post_init__(self) -> None:
        if not self.groups:
            self.groups = self.plan.groups
        if not self.schedule:
            self.schedule = build_schedule(self.plan, self.groups, self.lessons)

    # --- teacher actions ------------------------------------------------------------------------

    def start(self, now: float) -> list[RotationEvent]:
        """Begin a lesson (from idle or after the last one ended); a no-op while one runs."""
        if self.phase in (Phase.RUNNING, Phase.PAUSED):
            return []
        self.schedule = build_schedule(self.plan, self.groups, self.lessons)
        self.lessons += 1
        self.absent.clear()
        self.visits.clear()
        self.phase = Phase.RUNNING
        self._begin_block(0, now)
        return [RotationEvent("move", 0, self.remaining(now))]

    def pause(self, now: float) -> list[RotationEvent]:
        if self.phase is not Phase.RUNNING:
            return []
        self.left_s = self.remaining(now)
        self.moving_left_s = max(0.0, self.moving_until - now)
        self.phase, self.ends_at = Phase.PAUSED, None
        return [RotationEvent("paused", self.block, self.left_s)]

    def resume(self, now: float) -> list[RotationEvent]:
        if self.phase is not Phase.PAUSED:
            return []
        self.phase, self.ends_at = Phase.RUNNING, now + self.left_s
        self.moving_until = now + self.moving_left_s
        events = [RotationEvent("resumed", self.block, self.left_s)]
        return events + self._maybe_warn(now)

    def extend(self, now: float, seconds: float) -> list[RotationEvent]:
        """Add (or with a negative number, take away) time in the current block."""
        if self.phase is Phase.RUNNING and self.ends_at is not None:
            self.ends_at = max(now, self.ends_at + seconds)
        elif self.phase is Phase.PAUSED:
            self.left_s = max(0.0, self.left_s + seconds)
        else:
            return []
        if self.remaining(now) > self.plan.block(self.block).warning_s:
            self.warned = False  # the warning comes again before the new end
        return self.tick(now)

    def skip(self, now: float) -> list[RotationEvent]:
        if self.phase not in (Phase.RUNNING, Phase.PAUSED):
            return []
        return [self._advance(now)]

    def end(self, now: float) -> list[RotationEvent]:
        if self.phase in (Phase.IDLE, Phase.ENDED):
            return []
        self.phase, self.ends_at, self.left_s = Phase.ENDED, None, 0.0
        return [RotationEvent("ended", self.block)]

    def move_student(self, student_id: str, group_id: str) -> None:
        """Put one student in another group from now on (their check-ins send them there)."""
        if group_id not in {g.id for g in self.groups}:
            raise ValueError(Text("no group %(group)r", group=group_id))
        if self._base_group().get(student_id) == group_id:
            self.moved.pop(student_id, None)
        else:
            self.moved[student_id] = group_id

    def mark_absent(self, student_id: str, absent: bool = True) -> None:
        (self.absent.add if absent else self.absent.discard)(student_id)

    def set_groups(self, groups: tuple[GroupDef, ...]) -> None:
        """Replace the groups (approved suggestions from the grouping engine, say).

        Takes effect at once: a running lesson's schedule is rebuilt for the new groups from
        the current block on (the block and its time stay), so every student's place follows
        the new groups. The plan's groups become these (a saved lesson resumes with them);
        the teacher's individual moves are dropped because they were moves between the old
        groups.
        """
        self.groups = groups
        self.plan = replace(self.plan, groups=groups)
        self.moved.clear()
        running = self.phase in (Phase.RUNNING, Phase.PAUSED)
        self.schedule = build_schedule(self.plan, self.groups,
                                       max(0, self.lessons - 1) if running else self.lessons)

    def record_arrival(self, student_id: str, station_id: str) -> bool:
        """A student checked in at a station: they are here (not absent); flex counts it.

        True if the lesson's state changed (and must be saved with the check-in).
        """
        changed = student_id in self.absent
        self.absent.discard(student_id)
        if self.phase in (Phase.RUNNING, Phase.PAUSED):
            seen = self.visits.setdefault(student_id, [])
            if not seen or seen[-1] != station_id:
                seen.append(station_id)
                changed = True
        return changed

    # --- time -----------------------------------------------------------------------------------

    def tick(self, now: float) -> list[RotationEvent]:
        """Advance past every block that has ended by ``now``.

        Returns what stations must be told: at most one ``move`` (or ``ended``) however many
        blocks passed, then a ``warning`` if the current block is inside its warning window.
        """
        moved: RotationEvent | None = None
        while self.phase is Phase.RUNNING and self.ends_at is not None and now >= self.ends_at:
            moved = self._advance(self.ends_at)
        events = [moved] if moved is not None else []
        if moved is not None and moved.event == "move":
            moved = RotationEvent("move", self.block, self.remaining(now))
            events = [moved]
        return events + self._maybe_warn(now)

    def _maybe_warn(self, now: float) -> list[RotationEvent]:
        warning_s = self.plan.block(self.block).warning_s
        if (self.phase is Phase.RUNNING and not self.warned and warning_s > 0
                and self.remaining(now) <= warning_s):
            self.warned = True
            return [RotationEvent("warning", self.block, self.remaining(now))]
        return []

    def _begin_block(self, index: int, start: float) -> None:
        self.block = index
        spec = self.plan.block(index)
        self.block_started_at = start
        self.warned = False
        if self.phase is Phase.PAUSED:
            self.left_s, self.moving_left_s = spec.total_s, spec.transition_s
        else:
            self.ends_at = start + spec.total_s
            self.moving_until = start + spec.transition_s

    def _advance(self, block_start: float) -> RotationEvent:
        if self.block + 1 >= self.plan.block_count:
            self.phase, self.ends_at, self.left_s = Phase.ENDED, None, 0.0
            return RotationEvent("ended", self.block)
        self._begin_block(self.block + 1, block_start)
        return RotationEvent("move", self.block, self.plan.block(self.block).total_s)

    def remaining(self, now: float) -> float:
        if self.phase is Phase.RUNNING and self.ends_at is not None:
            return max(0.0, self.ends_at - now)
        if self.phase is Phase.PAUSED:
            return self.left_s
        return 0.0

    def moving(self, now: float) -> float:
        """Seconds left of the current block's transition."""
        if self.phase is Phase.RUNNING:
            return max(0.0, min(self.moving_until - now, self.remaining(now)))
        if self.phase is Phase.PAUSED:
            return self.moving_left_s
        return 0.0

    # --- queries --------------------------------------------------------------------------------

    def _base_group(self) -> dict[str, str]:
        return {m: g.id for g in self.groups for m in g.members}

    def group_of(self, student_id: str) -> str | None:
        return self.moved.get(student_id) or self._base_group().get(student_id)

    def members(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {g.id: [] for g in self.groups}
        for g in self.groups:
            for m in g.members:
                out[self.moved.get(m, g.id)].append(m)
        for student, group in self.moved.items():
            if student not in self._base_group() and group in out:
                out[group].append(student)
        return {g: tuple(ms) for g, ms in out.items()}

    def _running(self) -> bool:
        return self.phase in (Phase.RUNNING, Phase.PAUSED)

    def assignments(self, block: int | None = None) -> dict[str, str]:
        """Station id → group id in ``block`` (default: the current one)."""
        block = self.block if block is None else block
        result = {s.id: "" for s in self.plan.stations}
        if (self._running() and self.plan.model is not Model.FLEX
                and 0 <= block < len(self.schedule)):
            result.update(self.schedule[block])
        return result

    def _station_in(self, student_id: str, block: int) -> str | None:
        if self.plan.model is Model.FLEX:
            return None
        playlist = self.plan.playlists.get(student_id)
        if self.plan.model is Model.INDIVIDUAL and playlist:
            return playlist[block] if block < len(playlist) else None
        group = self.group_of(student_id)
        if group is None:
            return None
        for station, g in self.assignments(block).items():
            if g == group:
                return station
        return None

    def _flex_station(self, student_id: str, load: dict[str, int]) -> str | None:
        """The first station on the student's list they have not visited that has room."""
        seen = self.visits.get(student_id, [])
        if seen:
            return seen[-1]  # doing it now; the next is suggested when they finish there
        return self._flex_next(student_id, load)

    def _flex_next(self, student_id: str, load: dict[str, int]) -> str | None:
        seen = set(self.visits.get(student_id, []))
        order = self.plan.playlists.get(student_id) or tuple(s.id for s in self.plan.stations)
        capacity = {s.id: s.capacity for s in self.plan.stations}
        for sid in order:
            if sid not in seen and (capacity.get(sid, 0) == 0 or load.get(sid, 0) < capacity[sid]):
                return sid
        return None

    def _flex_load(self) -> dict[str, int]:
        load: dict[str, int] = {}
        for seen in self.visits.values():
            load[seen[-1]] = load.get(seen[-1], 0) + 1
        return load

    def station_id_for(self, student_id: str, block: int | None = None) -> str | None:
        if not self._running():
            return None
        if self.plan.model is Model.FLEX:
            return self._flex_station(student_id, self._flex_load())
        return self._station_in(student_id, self.block if block is None else block)

    def station_for(self, student_id: str) -> StationDef | None:
        """Where this student should be now, if the lesson is on."""
        sid = self.station_id_for(student_id)
        return next((s for s in self.plan.stations if s.id == sid), None)

    def next_station_for(self, student_id: str) -> str | None:
        """Where the student goes next (the next block, or for flex the next unvisited)."""
        if not self._running():
            return None
        if self.plan.model is Model.FLEX:
            return self._flex_next(student_id, self._flex_load())
        if self.block + 1 >= self.plan.block_count:
            return None
        return self._station_in(student_id, self.block + 1)

    def _students(self) -> list[str]:
        seen: dict[str, None] = {}
        for g in self.groups:
            for m in g.members:
                seen[m] = None
        for s in (*self.moved, *self.plan.playlists):
            seen[s] = None
        return list(seen)

    def expected(self, block: int | None = None) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {s.id: [] for s in self.plan.stations}
        if self._running():
            load = self._flex_load()
            nxt = block is not None and block != self.block
            for student in self._students():
                if self.plan.model is Model.FLEX:
                    sid = (self._flex_next(student, load) if nxt
                           else self._flex_station(student, load))
                else:
                    sid = self._station_in(student, self.block if block is None else block)
                if sid in out:
                    out[sid].append(student)
        return {k: tuple(v) for k, v in out.items()}

    def snapshot(self, now: float) -> RotationSnapshot:
        last = self.block + 1 >= self.plan.block_count
        nxt = self.block + 1
        running = self._running()
        return RotationSnapshot(
            self.phase, self.block, self.plan.block_count, self.remaining(now),
            self.assignments(), model=self.plan.model, moving_s=self.moving(now),
            warning=(self.phase is Phase.RUNNING and self.plan.block(self.block).warning_s > 0
                     and self.remaining(now) <= self.plan.block(self.block).warning_s),
            next_assignments=self.assignments(nxt) if running and not last else {},
            expected=self.expected(),
            expected_next=(self.expected(nxt) if running and
                           (not last or self.plan.model is Model.FLEX) else {}),
            members=self.members(), absent=frozenset(self.absent),
            block_started_at=self.block_started_at, lesson=self.lessons)

    # --- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.fingerprint(), "phase": self.phase.value, "block": self.block,
                "ends_at": self.ends_at, "left_s": self.left_s,
                "moving_until": self.moving_until, "moving_left_s": self.moving_left_s,
                "block_started_at": self.block_started_at, "warned": self.warned,
                "lessons": self.lessons, "moved": dict(self.moved),
                "absent": sorted(self.absent),
                "visits": {k: list(v) for k, v in self.visits.items()},
                "schedule": [dict(b) for b in self.schedule],
                "groups": [group_to_dict(g) for g in self.groups]}

    def restore(self, state: dict[str, Any], now: float) -> list[RotationEvent]:
        """Resume from :meth:`to_dict` at the real time ``now``.

        The countdown continues from the saved end time, so the hour the hub was down counts;
        blocks that ended meanwhile are skipped (their start times chained from the saved
        end, as if the hub had been running). Returns the events to announce: one ``move``
        if the block changed while down, a ``warning`` if the block is now in its window.
        Raises ValueError (changing nothing) if the state does not fit this plan.
        """
        if state.get("plan", self.plan.fingerprint()) != self.plan.fingerprint():
            raise ValueError("the saved lesson was for other stations, groups or blocks")
        try:
            phase = Phase(state["phase"])
            groups = tuple(group_from_dict(g)
                           for g in state.get("groups", [])) or self.plan.groups
            schedule = tuple(dict(b) for b in state.get("schedule", []))
            fields = dict(block=int(state["block"]),
                          ends_at=None if state["ends_at"] is None else float(state["ends_at"]),
                          left_s=float(state["left_s"]),
                          moving_until=float(state.get("moving_until", 0.0)),
                          moving_left_s=float(state.get("moving_left_s", 0.0)),
                          block_started_at=float(state.get("block_started_at", 0.0)),
                          warned=bool(state.get("warned", False)),
                          lessons=int(state.get("lessons", 0)),
                          moved=dict(state.get("moved", {})),
                          absent=set(state.get("absent", [])),
                          visits={k: list(v) for k, v in state.get("visits", {}).items()})
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"the saved lesson is unreadable ({err})") from err
        if phase is Phase.RUNNING and fields["ends_at"] is None:
            raise ValueError("the saved lesson is running but has no end time")
        self.phase, self.groups = phase, groups
        for key, value in fields.items():
            setattr(self, key, value)
        self.schedule = schedule or build_schedule(self.plan, self.groups,
                                                   max(0, self.lessons - 1))
        return self.tick(now)
