"""The grouping engine's inputs and result, as plain frozen dataclasses.

Scores are stored on a 0-100 scale whatever the teacher's file used (1-4 rubric scores are
mapped 1 -> 0, 4 -> 100); ``None`` is a missing score. The objective does not depend on that
scale: each chosen standard is standardised over the class (see :mod:`hub.grouping.features`).
Group numbers are 1-based everywhere a person sees them; group 1 is the teacher table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: Reflection features the hub computes from check-ins (names used in ``Student.features``).
CONFIDENCE_TREND = "confidence_trend"  # -1 falling .. 0 steady .. +1 rising
GOAL_PROGRESS = "goal_progress"  # 0 no goal met .. 1 every goal met


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
    #: Named numeric features mixed mode may balance, such as the reflections' confidence
    #: trend and goal progress (:data:`CONFIDENCE_TREND`, :data:`GOAL_PROGRESS`); on a scale
    #: of about one. ``None`` or absent: not known for this student.
    features: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class ClassData:
    students: tuple[Student, ...]
    standards: tuple[str, ...]
    #: Scale each standard was given in: "0-100" or "1-4".
    scales: Mapping[str, str] = field(default_factory=dict)
    #: Columns of the source file recognised as not standards and not used (other ids,
    #: email, section, totals...).
    ignored_columns: tuple[str, ...] = ()

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
    #: Current (last rotation's) groups, group 1 first.
    previous_groups: tuple[tuple[str, ...], ...] = ()
    #: Cost of moving one student away from the previous group, in units of one average
    #: student's share of the objective (see :mod:`hub.grouping.problem`).
    stability_weight: float = 0.1
    #: Move as few students as possible first, then the objective (lexicographic): the
    #: stability weight is replaced by one larger than any difference the rest can make.
    fewest_moves: bool = False


@dataclass(frozen=True, slots=True)
class Options:
    mode: Mode = Mode.SKILL
    #: Standards to group on (skill and mixed modes); None means all in the class file.
    standards: tuple[str, ...] | None = None
    seed: int = 0
    #: Mixed mode also balances these named features (``Student.features``) across groups,
    #: each with its weight relative to one standard (1: pulls like a standard, 0: off).
    #: Features no student has are skipped.
    balance_features: Mapping[str, float] = field(
        default_factory=lambda: {CONFIDENCE_TREND: 0.25})
    #: Pairs of student ids who worked together recently -> cost of putting them in one group
    #: again, in objective units (see :func:`hub.grouping.history.recent_pairs`).
    recent_pairs: Mapping[frozenset[str], float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Move:
    student: str
    #: 1-based groups; ``from_group`` is None for a student who was in no current group.
    from_group: int | None
    to_group: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """How a suggestion compares with the current groups (``Constraints.previous_groups``)."""

    #: The current groups' objective and mode part under the same objective, when they place
    #: every student of the suggestion in one of its groups; else None.
    current_score: float | None
    current_mode_score: float | None
    #: Students whose group changes (and students new to the groups, ``from_group`` None).
    moves: tuple[Move, ...]
    #: Hard constraints the current groups break (a group too small after absences, say).
    current_breaks: tuple[str, ...] = ()

    @property
    def moved(self) -> int:
        return sum(1 for m in self.moves if m.from_group is not None)

    def as_json(self) -> dict[str, Any]:
        return {
            "current_score": _round(self.current_score),
            "current_mode_score": _round(self.current_mode_score),
            "moved": self.moved,
            "moves": [{"student": m.student, "from": m.from_group, "to": m.to_group}
                      for m in self.moves],
            "current_breaks": list(self.current_breaks),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


@dataclass(frozen=True, slots=True)
class Grouping:
    """A grouping with its reasons. Scores and reasons are for the teacher only."""

    mode: Mode
    groups: tuple[tuple[str, ...], ...]
    #: The activity each group was formed around (interest mode), else None per group.
    topics: tuple[str | None, ...]
    #: One short line per student id: why the student is in the group.
    reasons: Mapping[str, str]
    #: Total objective (mode cost + pair history + stability cost); lower is better.
    score: float
    #: The mode part of the objective alone.
    mode_score: float
    method: str
    proven_optimal: bool = False
    #: Lower bound on the optimum (exact method), equal to score when proven.
    bound: float | None = None
    summary: str = ""
    #: Comparison with the current groups (None without previous groups).
    comparison: Comparison | None = None
    #: Missing scores the engine estimated: student id -> standard -> score (0-100 scale).
    estimated_scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: Students left out (absent, for :func:`hub.grouping.solve.regroup_present`).
    left_out: tuple[str, ...] = ()

    @property
    def moved(self) -> int | None:
        """Students not in the group they were in last time (None without previous groups)."""
        return None if self.comparison is None else self.comparison.moved

    @property
    def previous_score(self) -> float | None:
        """The current groups' score under the same objective, when they cover this class."""
        return None if self.comparison is None else self.comparison.current_score

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "groups": [list(g) for g in self.groups],
            "topics": list(self.topics),
            "reasons": dict(self.reasons),
            "score": round(self.score, 6),
            "mode_score": round(self.mode_score, 6),
            "moved": self.moved,
            "previous_score": _round(self.previous_score),
            "method": self.method,
            "proven_optimal": self.proven_optimal,
            "bound": _round(self.bound),
            "summary": self.summary,
            "comparison": None if self.comparison is None else self.comparison.as_json(),
            "estimated_scores": {sid: {k: round(v, 1) for k, v in est.items()}
                                 for sid, est in self.estimated_scores.items()},
            "left_out": list(self.left_out),
        }
