"""Reasons a teacher can read: one line per student, one summary for the result.

These name scores, reflections and preferences, so they are for the teacher's view only, never
for a screen other students can see.
"""

from __future__ import annotations

import numpy as np

from hub.grouping.model import CONFIDENCE_TREND, ClassData, Comparison, Mode
from hub.grouping.problem import Problem

_ORDINAL = ("first", "second", "third")
_MAX_LISTED = 3


def _fmt(cls: ClassData, standard: str, value: float) -> str:
    if cls.scales.get(standard) == "1-4":
        return f"{value / 100 * 3 + 1:.1f}"
    return f"{value:.0f}"


def _own(cls: ClassData, p: Problem, i: int, f: int) -> str:
    """A student's value on feature f as the teacher knows it, marked when estimated."""
    name = p.features[f]
    if f >= p.n_standards:
        return f"{p.shown[i, f]:.2g}" if not p.estimated[i, f] else "unknown"
    text = _fmt(cls, name, p.shown[i, f])
    return f"est. {text}" if p.estimated[i, f] else text


def _trend_word(value: float) -> str:
    return "rising" if value > 0.2 else "falling" if value < -0.2 else "steady"


def student_reasons(cls: ClassData, p: Problem, labels: np.ndarray,
                    topics: list[str | None]) -> dict[str, str]:
    """Reason per student id for the per-student groups ``labels`` (0-based)."""
    reasons: dict[str, str] = {}
    g = p.n_groups
    means = np.zeros((g, p.shown.shape[1]))
    for k in range(g):
        members = labels == k
        if members.any() and p.shown.shape[1]:
            means[k] = p.shown[members].mean(axis=0)
    class_mean = p.shown.mean(axis=0) if p.shown.shape[1] else np.zeros(0)
    same = labels[:, None] == labels[None, :]
    had_groups = bool((p.prev_label >= 0).any())
    for i, student in enumerate(cls.students):
        k = int(labels[i])
        parts: list[str] = []
        mentioned: set[int] = set()
        if p.no_scores[i]:
            parts.append("no scores yet, taken as the class average")
        if p.mode is Mode.SKILL:
            shown = []
            for f, name in enumerate(p.features[:_MAX_LISTED]):
                shown.append(f"{name} {_own(cls, p, i, f)} (group "
                             f"{_fmt(cls, name, means[k, f])})")
                mentioned.add(f)
            more = len(p.features) - _MAX_LISTED
            parts.append("grouped on " + ", ".join(shown) + (f" +{more} more" if more > 0
                                                              else ""))
        elif p.mode is Mode.MIXED:
            f = int(np.argmax(np.abs(p.student_y[i])))
            name = p.features[f]
            mentioned.add(f)
            if name == CONFIDENCE_TREND and not p.estimated[i, f]:
                parts.append(f"mix: confidence {_trend_word(p.shown[i, f])}")
            elif f >= p.n_standards:
                parts.append(f"mix: {name} {_own(cls, p, i, f)} (group {means[k, f]:.2g}, "
                             f"class {class_mean[f]:.2g})")
            else:
                parts.append(f"mix: {name} {_own(cls, p, i, f)} (group "
                             f"{_fmt(cls, name, means[k, f])}, class "
                             f"{_fmt(cls, name, class_mean[f])})")
        else:
            parts.append(_interest_reason(student.preferences, topics[k]))
        if not p.no_scores[i]:
            other = [p.features[f] for f in range(p.n_standards)
                     if p.estimated[i, f] and f not in mentioned]
            if other:
                parts.append("estimated from other scores: " + ", ".join(other))
        parts += _constraint_reasons(p, i, k)
        again = [p.names[j] for j in np.nonzero(same[i] & (p.student_pairs[i] > 0))[0]]
        if again:
            parts.append("again with " + ", ".join(again) + " (worked together recently)")
        prev = int(p.prev_label[i])
        if prev >= 0:
            parts.append(f"stayed in group {k + 1}" if prev == k
                         else f"moved from group {prev + 1}")
        elif had_groups:
            parts.append(f"joins group {k + 1}")
        reasons[student.id] = "; ".join(parts)
    return reasons


def _interest_reason(preferences: tuple[str, ...], topic: str | None) -> str:
    if not preferences:
        return f"{topic}: no stated preference"
    if topic in preferences:
        rank = preferences.index(topic)
        word = _ORDINAL[rank] if rank < len(_ORDINAL) else f"choice {rank + 1}"
        return f"{word} choice: {topic}" + ("" if rank == 0
                                            else f" ({preferences[0]} groups full)")
    return f"{topic}: not a listed choice ({preferences[0]} groups full)"


def _constraint_reasons(p: Problem, i: int, k: int) -> list[str]:
    parts = []
    u = int(p.unit_of[i])
    mates = [p.names[j] for j in p.units[u] if j != i]
    if mates:
        parts.append("kept with " + ", ".join(mates))
    apart = [p.unit_name(v) for v in np.nonzero(p.apart[u])[0]]
    if apart:
        parts.append("kept apart from " + ", ".join(apart))
    if p.allowed[u].sum() == 1:
        parts.append(f"pinned to group {k + 1}")
    elif not p.allowed[u].all():
        banned = [str(b + 1) for b in np.nonzero(~p.allowed[u])[0]]
        parts.append("not in group " + ", ".join(banned))
    return parts


def summary(p: Problem, labels: np.ndarray, score: float, comparison: Comparison | None,
            proven: bool, bound: float | None, method: str, left_out: int = 0) -> str:
    what = {Mode.SKILL: "skill groups on " + ", ".join(p.features),
            Mode.MIXED: "mixed groups on " + ", ".join(p.features),
            Mode.INTEREST: "interest groups"}[p.mode]
    text = f"{p.n_groups} {what}: score {score:.3f}"
    if method == "exact":
        if proven:
            text += " (proven optimum)"
        elif bound is not None:
            text += f" (best found; optimum at least {bound:.3f}"
            if p.mode is Mode.MIXED and bound > 0:
                text += (f", within {100 * (score - bound) / p.n:.2f}% of the class's spread, "
                         f"{100 * (score - bound) / bound:.0f}% above the bound")
            text += ")"
    if p.mode is Mode.INTEREST:
        sizes = np.bincount(labels, minlength=p.n_groups)
        text += "; sizes " + ", ".join(str(int(s)) for s in sizes)
    estimated = int(p.estimated[:, :p.n_standards][~p.no_scores].sum())
    if estimated:
        text += (f"; {estimated} missing score{'s' if estimated > 1 else ''} estimated from "
                 "each student's other scores")
    blank = int(p.no_scores.sum())
    if blank:
        text += (f"; {blank} student{'s' if blank > 1 else ''} with no scores taken as the "
                 "class average")
    if comparison is not None:
        current = comparison.current_score
        if current is not None:
            text += f"; current groups score {current:.3f}"
            if current > score + 1e-9:
                text += f", {current - score:.3f} worse"
        text += f"; {comparison.moved} of {p.n} students moved"
        if p.fewest_moves:
            text += " (the fewest possible)"
    if left_out:
        text += f"; {left_out} absent left out"
    return text
