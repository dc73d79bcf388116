"""Reasons a teacher can read: one line per student, one summary for the result.

These name scores and preferences, so they are for the teacher's view only, never for a
screen other students can see.
"""

from __future__ import annotations

import numpy as np

from hub.grouping.model import ClassData, Mode
from hub.grouping.problem import Problem

_ORDINAL = ("first", "second", "third")
_MAX_LISTED = 3


def _fmt(cls: ClassData, standard: str, value: float) -> str:
    if cls.scales.get(standard) == "1-4":
        return f"{value / 100 * 3 + 1:.1f}"
    return f"{value:.0f}"


def student_reasons(cls: ClassData, p: Problem, labels: np.ndarray,
                    topics: list[str | None]) -> dict[str, str]:
    """Reason per student id for the per-student groups ``labels`` (0-based)."""
    reasons: dict[str, str] = {}
    g = p.n_groups
    means = np.zeros((g, p.x.shape[1]))
    for k in range(g):
        members = labels == k
        if members.any() and p.x.shape[1]:
            means[k] = p.x[members].mean(axis=0)
    class_mean = p.x.mean(axis=0) if p.x.shape[1] else np.zeros(0)
    unit_of = {i: u for u, members in enumerate(p.units) for i in members}
    for i, student in enumerate(cls.students):
        k = int(labels[i])
        parts: list[str] = []
        if p.mode is Mode.SKILL:
            shown = []
            for f, name in enumerate(p.features[:_MAX_LISTED]):
                raw = student.scores.get(name)
                own = "no score" if raw is None else _fmt(cls, name, raw)
                shown.append(f"{name} {own} (group {_fmt(cls, name, means[k, f])})")
            more = len(p.features) - _MAX_LISTED
            parts.append("grouped on " + ", ".join(shown) + (f" +{more} more" if more > 0
                                                              else ""))
        elif p.mode is Mode.MIXED:
            dev = np.abs(p.x[i] - class_mean)
            f = int(np.argmax(dev))
            name = p.features[f]
            if name == "confidence trend":
                trend = student.confidence_trend or 0.0
                word = "rising" if trend > 0.2 else "falling" if trend < -0.2 else "steady"
                parts.append(f"mix: confidence {word}")
            else:
                raw = student.scores.get(name)
                own = "no score" if raw is None else _fmt(cls, name, raw)
                parts.append(f"mix: {name} {own} (group {_fmt(cls, name, means[k, f])}, "
                             f"class {_fmt(cls, name, class_mean[f])})")
        else:
            topic = topics[k]
            if not student.preferences:
                parts.append(f"{topic}: no stated preference")
            elif topic in student.preferences:
                rank = student.preferences.index(topic)
                word = _ORDINAL[rank] if rank < len(_ORDINAL) else f"choice {rank + 1}"
                parts.append(f"{word} choice: {topic}" + (
                    "" if rank == 0 else f" ({student.preferences[0]} groups full)"))
            else:
                parts.append(f"{topic}: not a listed choice ({student.preferences[0]} groups "
                             f"full)")
        mates = [p.names[j] for j in p.units[unit_of[i]] if j != i]
        if mates:
            parts.append("kept with " + ", ".join(mates))
        u = unit_of[i]
        apart = [p.unit_name(v) for v in np.nonzero(p.apart[u])[0]]
        if apart:
            parts.append("kept apart from " + ", ".join(apart))
        if p.allowed[u].sum() == 1:
            parts.append(f"pinned to group {k + 1}")
        elif not p.allowed[u].all():
            banned = [str(b + 1) for b in np.nonzero(~p.allowed[u])[0]]
            parts.append("not in group " + ", ".join(banned))
        prev = int(p.prev_label[i])
        if prev >= 0:
            parts.append(f"stayed in group {k + 1}" if prev == k
                         else f"moved from group {prev + 1}")
        reasons[student.id] = "; ".join(parts)
    return reasons


def summary(p: Problem, score: float, moved: int | None, previous: float | None,
            proven: bool, bound: float | None, method: str) -> str:
    what = {Mode.SKILL: "skill groups on " + ", ".join(p.features),
            Mode.MIXED: "mixed groups on " + ", ".join(p.features),
            Mode.INTEREST: "interest groups"}[p.mode]
    text = f"{p.n_groups} {what}: score {score:.3f}"
    if method == "exact":
        text += " (proven optimum)" if proven else (
            f" (best found; optimum at least {bound:.3f})" if bound is not None else "")
    if previous is not None:
        if previous > score + 1e-9:
            text += f"; last groups scored {previous:.3f}, {previous - score:.3f} worse"
        else:
            text += f"; last groups scored {previous:.3f}"
    if moved is not None:
        text += f"; {moved} of {p.n} students moved"
    return text
