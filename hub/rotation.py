"""The station-rotation engine: pure, with the clock passed in as ``now``.

Station rotation: the class is split into groups; in block ``b`` group ``i`` is at station
``(i + b) mod n``, so every group visits every station once in ``n`` blocks. The teacher can
start, pause, resume, extend, skip and end. The engine's whole state is :meth:`to_dict`,
so the hub persists it and resumes mid-block after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class ActivityDef:
    id: str
    label: str
    icon: str = "star"


@dataclass(frozen=True, slots=True)
class StationDef:
    id: str
    name: str
    kind: str
    activities: tuple[ActivityDef, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupDef:
    id: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RotationPlan:
    stations: tuple[StationDef, ...]
    groups: tuple[GroupDef, ...]
    block_s: float
    #: Blocks in the lesson; by default every group visits every station once.
    blocks: int = 0

    @property
    def block_count(self) -> int:
        return self.blocks or len(self.stations)


@dataclass(frozen=True, slots=True)
class RotationSnapshot:
    """What everyone else reads: the display draws it, the hub publishes it."""

    phase: Phase
    block: int
    blocks: int
    remaining_s: float
    #: station id → group id ("" where no group is there this block)
    assignments: dict[str, str]


@dataclass
class Rotation:
    plan: RotationPlan
    phase: Phase = Phase.IDLE
    block: int = 0
    #: While running: when the current block ends. While paused: None.
    ends_at: float | None = None
    #: While paused: what was left of the block.
    left_s: float = 0.0
    _group_of: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._group_of = {m: g.id for g in self.plan.groups for m in g.members}

    # --- teacher actions ------------------------------------------------------------------------

    def start(self, now: float) -> None:
        self.phase, self.block = Phase.RUNNING, 0
        self.ends_at = now + self.plan.block_s

    def pause(self, now: float) -> None:
        if self.phase is Phase.RUNNING:
            self.left_s = self.remaining(now)
            self.phase, self.ends_at = Phase.PAUSED, None

    def resume(self, now: float) -> None:
        if self.phase is Phase.PAUSED:
            self.phase, self.ends_at = Phase.RUNNING, now + self.left_s

    def extend(self, now: float, seconds: float) -> None:
        if self.phase is Phase.RUNNING and self.ends_at is not None:
            self.ends_at += seconds
        elif self.phase is Phase.PAUSED:
            self.left_s += seconds

    def skip(self, now: float) -> None:
        if self.phase in (Phase.RUNNING, Phase.PAUSED):
            self._advance(now)

    def end(self, now: float) -> None:
        self.phase, self.ends_at, self.left_s = Phase.ENDED, None, 0.0

    # --- time -----------------------------------------------------------------------------------

    def tick(self, now: float) -> bool:
        """Advance past every block that has ended by ``now``; True if anything changed."""
        changed = False
        while self.phase is Phase.RUNNING and self.ends_at is not None and now >= self.ends_at:
            overshoot_from = self.ends_at
            self._advance(overshoot_from)
            changed = True
        return changed

    def _advance(self, block_start: float) -> None:
        if self.block + 1 >= self.plan.block_count:
            self.end(block_start)
            return
        self.block += 1
        if self.phase is Phase.PAUSED:
            self.left_s = self.plan.block_s
        else:
            self.ends_at = block_start + self.plan.block_s

    def remaining(self, now: float) -> float:
        if self.phase is Phase.RUNNING and self.ends_at is not None:
            return max(0.0, self.ends_at - now)
        if self.phase is Phase.PAUSED:
            return self.left_s
        return 0.0

    # --- queries --------------------------------------------------------------------------------

    def assignments(self) -> dict[str, str]:
        stations, groups = self.plan.stations, self.plan.groups
        result = {s.id: "" for s in stations}
        if self.phase in (Phase.RUNNING, Phase.PAUSED) and stations:
            for i, group in enumerate(groups):
                result[stations[(i + self.block) % len(stations)].id] = group.id
        return result

    def station_for(self, student_id: str) -> StationDef | None:
        """Where this student's group is in the current block, if the lesson is on."""
        group = self._group_of.get(student_id)
        if group is None:
            return None
        by_id = {s.id: s for s in self.plan.stations}
        for station_id, group_id in self.assignments().items():
            if group_id == group:
                return by_id[station_id]
        return None

    def snapshot(self, now: float) -> RotationSnapshot:
        return RotationSnapshot(self.phase, self.block, self.plan.block_count,
                                self.remaining(now), self.assignments())

    # --- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase.value, "block": self.block, "ends_at": self.ends_at,
                "left_s": self.left_s}

    def restore(self, state: dict[str, Any], now: float) -> None:
        """Resume from :meth:`to_dict`; blocks that ended while the hub was down are skipped."""
        self.phase = Phase(state["phase"])
        self.block = int(state["block"])
        self.ends_at = state["ends_at"]
        self.left_s = float(state["left_s"])
        self.tick(now)
