"""Pair history: who worked together in the last few lessons, as costs for the objective.

The hub stores each lesson's groups; :func:`recent_pairs` turns the last few into
``Options.recent_pairs``: every pair of students who shared a group costs ``weight`` if it was
last lesson, ``weight * decay`` the lesson before, and so on, summed over the lessons given.
Putting such a pair together again costs that much (a soft preference, never a constraint).

``weight`` is in objective units: in skill and mixed modes one average student's share of the
class's spread, in interest mode one preference step. The default, 0.05, makes a group of six
who all worked together last lesson (15 pairs) cost 0.75: a real push apart, yet less than one
student's second choice or one average student's worth of spread, so the teacher's mode still
decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

DEFAULT_WEIGHT = 0.05
DEFAULT_DECAY = 0.5


def recent_pairs(lessons: Iterable[Sequence[Sequence[str]]], weight: float = DEFAULT_WEIGHT,
                 decay: float = DEFAULT_DECAY) -> dict[frozenset[str], float]:
    """Pair costs from past lessons' groups, most recent lesson first."""
    if weight < 0 or not 0 <= decay <= 1:
        raise ValueError(f"weight must be 0 or more and decay 0 to 1, got {weight}, {decay}")
    out: dict[frozenset[str], float] = {}
    w = weight
    for groups in lessons:
        for group in groups:
            members = sorted(set(group))
            for a_i, a in enumerate(members):
                for b in members[a_i + 1:]:
                    key = frozenset((a, b))
                    out[key] = out.get(key, 0.0) + w
        w *= decay
    return out
