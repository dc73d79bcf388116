"""Reflection flags for the teacher view: who might need a word, from their recent answers.

Pure: takes check-in records, returns flags per student. Flags are for the teacher's eyes
only (the teacher view); the class view never shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.config import ReflectionConfig
from hub.store import CheckInRecord
from stations.text import Text


@dataclass(frozen=True, slots=True)
class Flag:
    student_id: str
    kind: str  # low-confidence, low-mood, goal-stuck
    text: str
    at: float


def reflection_flags(records: Iterable[CheckInRecord],
                     config: ReflectionConfig) -> dict[str, tuple[Flag, ...]]:
    """Student id → flags, newest evidence first.

    - ``low-confidence``: the last ``flag_after`` confidence answers were all low;
    - ``low-mood``: the latest mood answer is low;
    - ``goal-stuck``: the last ``flag_after`` goal answers were all low.
    """
    history: dict[str, list[CheckInRecord]] = {}
    for r in sorted(records, key=lambda r: r.tapped_at):
        history.setdefault(r.student_id, []).append(r)
    out: dict[str, tuple[Flag, ...]] = {}
    n = config.flag_after
    for student, rows in history.items():
        flags = []
        confidence = [r for r in rows if "confidence" in r.answers]
        last = confidence[-n:]
        if len(last) == n and all(r.answers["confidence"] <= config.low_confidence
                                  for r in last):
            flags.append(Flag(student, "low-confidence",
                              Text("low confidence %(count)d times in a row", count=n),
                              last[-1].tapped_at))
        goal = [r for r in rows if "goal" in r.answers][-n:]
        if len(goal) == n and all(r.answers["goal"] <= config.low_goal for r in goal):
            flags.append(Flag(student, "goal-stuck",
                              Text("stuck on goal %(count)d times in a row", count=n),
                              goal[-1].tapped_at))
        mood = [r for r in rows if "mood" in r.answers]
        if mood and mood[-1].answers["mood"] <= config.low_mood:
            flags.append(Flag(student, "low-mood", Text("low mood at the last check-in"),
                              mood[-1].tapped_at))
        if flags:
            out[student] = tuple(sorted(flags, key=lambda f: -f.at))
    return out
