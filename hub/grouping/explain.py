"""Reasons a teacher can read: one line per student, one summary for the result.

These name scores, reflections and preferences, so they are for the teacher's view only, never
for a screen other students can see.
"""

from __future__ import annotations

import numpy as np

from hub.grouping.model import CONFIDENCE_TREND, ClassData, Comparison, Mode
from hub.grouping.problem import Problem
from stations.text import N_, Text

_MAX_LISTED = 3


def _fmt(cls: ClassData, standard: str, value: float) -> str:
    if cls.scales.get(standard) == "1-4":
        return f"{value / 100 * 3 + 1:.1f}"
    return f"{value:.0f}"


def _own(cls: ClassData, p: Problem, i: int, f: int) -> str:
    """A student's value on feature f as the teacher knows it, marked when estimated."""
    name = p.features[f]
    if f >= p.n_standards:
        return f"{p.shown[i, f]:.2g}" if not p.estimated[i, f] else Text("unknown")
    text = _fmt(cls, name, p.shown[i, f])
    return Text("est. %(score)s", score=text) if p.estimated[i, f] else text


def _trend_word(value: float) -> Text:
    return Text("rising") if value > 0.2 else Text("falling") if value < -0.2 \
        else Text("steady")


def group_word(k: int) -> Text:
    """Group ``k`` (0-based) as the engine names it; :func:`hub.suggest.run` puts the
    teacher's name for it in its place (see ``GROUP``)."""
    return Text(GROUP, number=k + 1)


#: How a reason names a group: by its number (the engine knows no names).
GROUP = N_("group %(number)d")


def student_reasons(cls: ClassData, p: Problem, labels: np.ndarray,
                    topics: list[str | None]) -> dict[str, str]:
    """Reason per student id for the per-student groups ``labels`` (0-based): a
    :class:`~stations.text.Text`, its parts joined by "; "."""
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
            parts.append(Text("no scores yet, taken as the class average"))
        if p.mode is Mode.SKILL:
            shown = []
            for f, name in enumerate(p.features[:_MAX_LISTED]):
                shown.append(Text("%(standard)s %(score)s (group %(group)s)", standard=name,
                                  score=_own(cls, p, i, f),
                                  group=_fmt(cls, name, means[k, f])))
                mentioned.add(f)
            more = len(p.features) - _MAX_LISTED
            listed = Text.joined(", ", shown)
            parts.append(Text("grouped on %(scores)s +%(more)d more", scores=listed, more=more)
                         if more > 0 else Text("grouped on %(scores)s", scores=listed))
        elif p.mode is Mode.MIXED:
            f = int(np.argmax(np.abs(p.student_y[i])))
            name = p.features[f]
            mentioned.add(f)
            if name == CONFIDENCE_TREND and not p.estimated[i, f]:
                parts.append(Text("mix: confidence %(trend)s",
                                  trend=_trend_word(p.shown[i, f])))
            else:
                exact = f >= p.n_standards
                parts.append(Text(
                    "mix: %(feature)s %(value)s (group %(group)s, class %(class_mean)s)",
                    feature=name, value=_own(cls, p, i, f),
                    group=f"{means[k, f]:.2g}" if exact else _fmt(cls, name, means[k, f]),
                    class_mean=f"{class_mean[f]:.2g}" if exact
                    else _fmt(cls, name, class_mean[f])))
        else:
            parts.append(_interest_reason(student.preferences, topics[k]))
        if not p.no_scores[i]:
            other = [p.features[f] for f in range(p.n_standards)
                     if p.estimated[i, f] and f not in mentioned]
            if other:
                parts.append(Text("estimated from other scores: %(standards)s",
                                  standards=", ".join(other)))
        parts += _constraint_reasons(p, i, k)
        again = [p.names[j] for j in np.nonzero(same[i] & (p.student_pairs[i] > 0))[0]]
        if again:
            parts.append(Text("again with %(names)s (worked together recently)",
                              names=", ".join(again)))
        prev = int(p.prev_label[i])
        if prev >= 0:
            parts.append(Text("stayed in %(group)s", group=group_word(k)) if prev == k
                         else Text("moved from %(group)s", group=group_word(prev)))
        elif had_groups:
            parts.append(Text("joins %(group)s", group=group_word(k)))
        reasons[student.id] = Text.joined("; ", parts)
    return reasons


def _interest_reason(preferences: tuple[str, ...], topic: str | None) -> Text:
    if not preferences:
        return Text("%(topic)s: no stated preference", topic=topic)
    if topic in preferences:
        rank = preferences.index(topic)
        if rank == 0:
            return Text("first choice: %(topic)s", topic=topic)
        word = (Text("second"), Text("third"))[rank - 1] if rank < 3 \
            else Text("choice %(rank)d", rank=rank + 1)
        return Text("%(rank)s choice: %(topic)s (%(first)s groups full)", rank=word,
                    topic=topic, first=preferences[0])
    return Text("%(topic)s: not a listed choice (%(first)s groups full)", topic=topic,
                first=preferences[0])


def _constraint_reasons(p: Problem, i: int, k: int) -> list[str]:
    parts: list[str] = []
    u = int(p.unit_of[i])
    mates = [p.names[j] for j in p.units[u] if j != i]
    if mates:
        parts.append(Text("kept with %(names)s", names=", ".join(mates)))
    apart = [p.unit_name(v) for v in np.nonzero(p.apart[u])[0]]
    if apart:
        parts.append(Text("kept apart from %(names)s", names=", ".join(apart)))
    if p.allowed[u].sum() == 1:
        parts.append(Text("pinned to %(group)s", group=group_word(k)))
    elif not p.allowed[u].all():
        banned = [str(b + 1) for b in np.nonzero(~p.allowed[u])[0]]
        parts.append(Text("not in group %(groups)s", groups=", ".join(banned)))
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
