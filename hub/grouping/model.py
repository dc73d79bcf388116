"""The grouping engine's inputs and result, as plain frozen dataclasses.

Scores are stored on a 0-100 scale whatever the teacher's file used (1-4 rubric scores are
mapped 1 -> 0, 4 -> 100) so that standards weigh the same; ``None`` is a missing score.
Group numbers are 1-based everywhere a person sees them; group 1 is the teacher table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    SKILL = "skill"  # homogeneous: students who need the same thing together
    MIXED = "mixed"  # heterogeneous: each group's mix as close to the class's as possible
    INTEREST = "interest"  # by stated activity preference, balanced in size


@dataclass(frozen=True, slots=True)
class Student:
    id: str
    name: str = ""
    scores: Mapping[str, float | None] = field(default_factory=dict)
    #: Ranked activity preferences, first choice first.
    preferences: tuple[str, ...] = ()
    #: Confidence trend from recent check-in reflections: -1 falling .. 0 steady .. +1 rising.
    confidence_trend: float | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class ClassData:
    students: tuple[Student, ...]
    standards: tuple[str, ...]
    #: Scale each standard was given in: "0-100" or "1-4".
    scales: Mapping[str, str] = field(default_factory=dict)

    def student(self, student_id: str) -> Student:
        for s in self.students:
            if s.id == student_id:
                return s
        raise KeyError(student_id)


@dataclass(frozen=True, slots=True)
class Constraints:
    """Hard constraints and the stability preference, all by student id.

    Give ``groups`` or a size range or both; with only ``groups`` sizes are as even as
    possible, with only a size range the fewest groups that fit are used.
    """

    groups: int | None = None
    min_size: int | None = None
    max_size: int | None = None
    keep_apart: tuple[tuple[str, str], ...] = ()
    keep_together: tuple[tuple[str, ...], ...] = ()
    #: student id -> the group (1-based) the student must be in.
    pinned: Mapping[str, int] = field(default_factory=dict)
    #: student id -> groups (1-based) the student must not be in.
    not_in: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    #: Last rotation's groups, group 1 first.
    previous_groups: tuple[tuple[str, ...], ...] = ()
    #: Cost of moving one student away from the previous group, in units of one average
    #: student's share of the objective (see :mod:`hub.grouping.problem`).
    stability_weight: float = 0.1


@dataclass(frozen=True, slots=True)
class Options:
    mode: Mode = Mode.SKILL
    #: Standards to group on (skill and mixed modes); None means all in the class file.
    standards: tuple[str, ...] | None = None
    seed: int = 0
    #: Mixed mode also spreads falling-confidence students across groups with this weight
    #: (relative to one standard); 0 turns it off.
    confidence_weight: float = 0.25


@dataclass(frozen=True, slots=True)
class Grouping:
    """A grouping with its reasons. Scores and reasons are for the teacher only."""

    mode: Mode
    groups: tuple[tuple[str, ...], ...]
    #: The activity each group was formed around (interest mode), else None per group.
    topics: tuple[str | None, ...]
    reasons: Mapping[str, str]
    #: Total objective (mode cost + stability cost); lower is better.
    score: float
    #: The mode part of the objective alone.
    mode_score: float
    #: Students not in the group they were in last time (None without previous groups).
    moved: int | None
    #: The previous groups' score under the same objective, when they cover this class.
    previous_score: float | None
    method: str
    proven_optimal: bool = False
    #: Lower bound on the optimum (exact method), equal to score when proven.
    bound: float | None = None
    summary: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "groups": [list(g) for g in self.groups],
            "topics": list(self.topics),
            "reasons": dict(self.reasons),
            "score": round(self.score, 6),
            "mode_score": round(self.mode_score, 6),
            "moved": self.moved,
            "previous_score": None if self.previous_score is None
            else round(self.previous_score, 6),
            "method": self.method,
            "proven_optimal": self.proven_optimal,
            "bound": None if self.bound is None else round(self.bound, 6),
            "summary": self.summary,
        }
