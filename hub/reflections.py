"""Reflections as data: each student's confidence trend, goal progress and favourite activities,
from the check-ins of the class's last few lessons. Pure: records in, numbers out.

- **confidence trend** (``hub.grouping.CONFIDENCE_TREND``, -1 falling .. +1 rising): the
  least-squares line through the student's confidence answers (1-4, in check-in order); its
  rise from the first answer to the last, as a share of the whole scale (3 steps), clipped to
  -1..1. Needs two answers.
- **goal progress** (``GOAL_PROGRESS``, 0 .. 1): the mean goal answer on 0..1 ("not started"
  0, "done" 1).
- **preferences**: the activities the student chose at the stations, most often first (the
  more recent first among equals); what interest groups form around.

These are for the teacher's eyes and the grouping engine only: never on the class view, a
station or the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hub.grouping import CONFIDENCE_TREND, GOAL_PROGRESS
from hub.store import CheckInRecord
from stations.text import Text

#: Steps of the 1-4 answer scale.
SCALE_STEPS = 3.0
#: Activities kept as a student's preferences.
MAX_PREFERENCES = 3


@dataclass(frozen=True, slots=True)
class Reflections:
    """Per student: the engine's features and ranked activity preferences."""

    features: Mapping[str, Mapping[str, float]]
    preferences: Mapping[str, tuple[str, ...]]
    #: Check-ins read per student.
    counts: Mapping[str, int]


def trend(values: list[int]) -> float | None:
    """The fitted rise from first to last answer, as a share of the scale (-1..1)."""
    n = len(values)
    if n < 2:
        return None
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    sxx = sum((x - mean_x) ** 2 for x in range(n))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / sxx
    return max(-1.0, min(1.0, slope * (n - 1) / SCALE_STEPS))


def reflections(records: Iterable[CheckInRecord],
                students: Iterable[str] | None = None) -> Reflections:
    """The features and preferences of ``students`` (all in the records if None)."""
    wanted = None if students is None else set(students)
    rows: dict[str, list[CheckInRecord]] = {}
    for r in sorted(records, key=lambda r: (r.tapped_at, r.id)):
        if wanted is None or r.student_id in wanted:
            rows.setdefault(r.student_id, []).append(r)
    features: dict[str, dict[str, float]] = {}
    preferences: dict[str, tuple[str, ...]] = {}
    for sid, mine in rows.items():
        found: dict[str, float] = {}
        confidence = trend([r.answers["confidence"] for r in mine if "confidence" in r.answers])
        if confidence is not None:
            found[CONFIDENCE_TREND] = round(confidence, 3)
        goals = [r.answers["goal"] for r in mine if "goal" in r.answers]
        if goals:
            found[GOAL_PROGRESS] = round(sum((g - 1) / SCALE_STEPS for g in goals)
                                         / len(goals), 3)
        if found:
            features[sid] = found
        chosen: dict[str, tuple[int, int]] = {}
        for k, r in enumerate(mine):
            count, _last = chosen.get(r.activity, (0, 0))
            chosen[r.activity] = (count + 1, k)
        ranked = sorted(chosen, key=lambda a: (-chosen[a][0], -chosen[a][1], a))
        if ranked:
            preferences[sid] = tuple(ranked[:MAX_PREFERENCES])
    return Reflections(features, preferences, {sid: len(v) for sid, v in rows.items()})


def describe(features: Mapping[str, float]) -> str:
    """The teacher's words for a student's features: "confidence falling · goals 25%"."""
    parts = []
    t = features.get(CONFIDENCE_TREND)
    if t is not None:
        word = Text("rising") if t > 0.2 else Text("falling") if t < -0.2 else Text("steady")
        parts.append(Text("confidence %(trend)s (%(value)+.1f)", trend=word, value=t))
    g = features.get(GOAL_PROGRESS)
    if g is not None:
        parts.append(Text("goals %(percent)d%%", percent=round(100 * g)))
    return Text.joined(" · ", parts)

