"""The engine's front door: validate, solve, order the groups and explain them."""

from __future__ import annotations

import logging
import time

import numpy as np

from hub.grouping.errors import InfeasibleGroupingError
from hub.grouping.exact import solve_exact
from hub.grouping.explain import student_reasons, summary
from hub.grouping.feasibility import feasible_assignment, infeasibility_error
from hub.grouping.heuristic import HeuristicSettings, improve, solve_heuristic
from hub.grouping.model import ClassData, Constraints, Grouping, Mode, Options
from hub.grouping.problem import Problem, build_problem

log = logging.getLogger(__name__)


def heuristic_assignment(p: Problem, cls: ClassData, constraints: Constraints,
                         options: Options,
                         settings: HeuristicSettings | None = None) -> np.ndarray:
    """The heuristic's unit assignment; raises InfeasibleGroupingError naming the clash."""
    assign = solve_heuristic(p, options.seed, settings)
    if assign is None:
        # Greedy starts all failed: let the feasibility model decide, and name the clash.
        start = feasible_assignment(p)
        if start is None:
            raise infeasibility_error(cls, constraints, options)
        assign = improve(p, start, options.seed, settings)
    return assign


def make_groups(cls: ClassData, constraints: Constraints, options: Options, *,
                exact: bool = False, source: str = "constraints",
                settings: HeuristicSettings | None = None,
                time_limit: float = 120.0) -> Grouping:
    """Form groups. ``exact`` also proves the optimum (seconds rather than milliseconds).

    Raises ConstraintsError for malformed constraints and InfeasibleGroupingError when the
    hard constraints cannot all hold.
    """
    t0 = time.perf_counter()
    p = build_problem(cls, constraints, options, source)
    assign = heuristic_assignment(p, cls, constraints, options, settings)
    proven, bound, method = False, None, "heuristic"
    if exact:
        result = solve_exact(p, assign, time_limit=time_limit)
        assign, proven, bound, method = result.assign, result.proven, result.bound, "exact"
    problems = p.violations(assign)
    if problems:  # would be a bug: both solvers only ever hold feasible groupings
        raise InfeasibleGroupingError("internal error, grouping breaks: " + "; ".join(problems))
    labels = p.student_labels(assign)
    topics = _topics(p, labels)
    labels, topics = _display_order(p, labels, topics)
    score, mode_score = p.evaluate_students(labels)
    moved = p.moved(labels) if (p.prev_label >= 0).any() else None
    previous = None
    if (p.prev_label >= 0).all() and p.prev_label.max() < p.n_groups:
        previous = p.evaluate_students(p.prev_label)[0]
    groups = tuple(tuple(p.ids[i] for i in np.nonzero(labels == k)[0])
                   for k in range(p.n_groups))
    log.info("grouped %d students into %d %s groups by %s in %.0f ms, score %.4f", p.n,
             p.n_groups, p.mode.value, method, 1000 * (time.perf_counter() - t0), score)
    return Grouping(mode=p.mode, groups=groups, topics=tuple(topics),
                    reasons=student_reasons(cls, p, labels, topics), score=score,
                    mode_score=mode_score, moved=moved, previous_score=previous,
                    method=method, proven_optimal=proven, bound=bound,
                    summary=summary(p, score, moved, previous, proven, bound, method))


def _topics(p: Problem, labels: np.ndarray) -> list[str | None]:
    if p.mode is not Mode.INTEREST:
        return [None] * p.n_groups
    out: list[str | None] = []
    for k in range(p.n_groups):
        cost = p.student_c[labels == k].sum(axis=0)
        out.append(p.topics[int(np.argmin(cost))])
    return out


def _display_order(p: Problem, labels: np.ndarray,
                   topics: list[str | None]) -> tuple[np.ndarray, list[str | None]]:
    """Renumber the interchangeable groups so the list reads well; pinned numbers stay."""
    free = [k for k in range(p.n_groups) if k not in p.distinguished]

    def key(k: int) -> tuple[float | str, ...]:
        members = np.nonzero(labels == k)[0]
        if p.mode is Mode.SKILL:  # lowest scores first: group 1 is the teacher table
            return (float(p.x[members].mean()),)
        if p.mode is Mode.INTEREST:
            return (p.topics.index(topics[k]) if topics[k] else 0, int(members.min()))
        return (int(members.min()),)

    order = sorted(free, key=key)
    new_labels = labels.copy()
    new_topics = list(topics)
    for slot, k in zip(free, order, strict=True):
        new_labels[labels == k] = slot
        new_topics[slot] = topics[k]
    return new_labels, new_topics
