"""The engine's front door: validate, solve, order the groups, compare and explain them.

:func:`make_groups` forms groups for a class; :func:`regroup_present` rebalances the current
groups for the students present, moving as few as possible.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import replace

import numpy as np

from hub.grouping.errors import ConstraintsError, InfeasibleGroupingError
from hub.grouping.exact import Progress, solve_exact
from hub.grouping.explain import student_reasons, summary
from hub.grouping.feasibility import feasible_assignment, infeasibility_error
from hub.grouping.heuristic import HeuristicSettings, improve, solve_heuristic
from hub.grouping.model import ClassData, Comparison, Constraints, Grouping, Mode, Move, Options
from hub.grouping.problem import Problem, build_problem

log = logging.getLogger(__name__)


def heuristic_assignment(p: Problem, cls: ClassData, constraints: Constraints,
                         options: Options,
                         settings: HeuristicSettings | None = None) -> np.ndarray:
    """The heuristic's unit assignment; raises InfeasibleGroupingError naming the clash.

    With ``fewest_moves`` the search also starts from an assignment that moves the fewest
    students (a small assignment model in HiGHS): every step it accepts lowers the objective,
    in which one move outweighs everything else, so the result moves exactly that few.
    """
    assign = solve_heuristic(p, options.seed, settings)
    if p.fewest_moves and (p.prev_label >= 0).any():
        start = feasible_assignment(p, cost=p.lin)
        if start is None:
            raise infeasibility_error(cls, constraints, options)
        fewest = improve(p, start, options.seed, settings)
        if assign is None or p.evaluate_units(fewest)[0] < p.evaluate_units(assign)[0]:
            assign = fewest
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
                time_limit: float = 120.0, progress: Progress | None = None) -> Grouping:
    """Form groups. ``exact`` also proves the optimum (seconds rather than milliseconds),
    telling ``progress`` how it goes.

    Raises ConstraintsError for malformed constraints and InfeasibleGroupingError when the
    hard constraints cannot all hold.
    """
    return _solve(cls, constraints, options, exact=exact, source=source, settings=settings,
                  time_limit=time_limit, progress=progress)


def regroup_present(cls: ClassData, current: Sequence[Sequence[str]], absent: Collection[str],
                    constraints: Constraints | None = None, options: Options | None = None, *,
                    exact: bool = False, source: str = "constraints",
                    settings: HeuristicSettings | None = None,
                    time_limit: float = 120.0, progress: Progress | None = None) -> Grouping:
    """Rebalance the ``current`` groups (group 1 first) for the students present.

    ``absent`` students are left out; the groups keep their numbers (and count, unless
    ``constraints.groups`` says otherwise) and every constraint holds for the students
    present: size limits (as even as possible when none are given), pins, keep apart and
    together. Moving as few students as possible comes first; among the groupings that move
    that few, the best by the mode's objective (``Options``) wins. Students of ``cls`` in no
    current group (new to the class) are placed where they fit best.
    """
    constraints = constraints or Constraints()
    options = options or Options()
    ids = {s.id for s in cls.students}
    gone = set(absent)
    unknown = sorted(gone - ids)
    if unknown:
        raise ConstraintsError(source, "absent", f"unknown student {unknown[0]!r}")

    def here(group: Sequence[str]) -> tuple[str, ...]:
        return tuple(s for s in group if s not in gone)

    present = replace(cls, students=tuple(s for s in cls.students if s.id not in gone))
    kept = replace(
        constraints,
        groups=constraints.groups or len(current),
        keep_apart=tuple(pair for pair in constraints.keep_apart if not gone & set(pair)),
        keep_together=tuple(t for t in map(here, constraints.keep_together) if len(t) > 1),
        pinned={s: k for s, k in constraints.pinned.items() if s not in gone},
        not_in={s: k for s, k in constraints.not_in.items() if s not in gone},
        previous_groups=tuple(here(g) for g in current),
        fewest_moves=True)
    return _solve(present, kept, options, exact=exact, source=source, settings=settings,
                  time_limit=time_limit, progress=progress,
                  left_out=tuple(s.id for s in cls.students if s.id in gone))


def _solve(cls: ClassData, constraints: Constraints, options: Options, *, exact: bool,
           source: str, settings: HeuristicSettings | None, time_limit: float,
           progress: Progress | None, left_out: tuple[str, ...] = ()) -> Grouping:
    t0 = time.perf_counter()
    p = build_problem(cls, constraints, options, source)
    assign = heuristic_assignment(p, cls, constraints, options, settings)
    proven, bound, method = False, None, "heuristic"
    if exact:
        result = solve_exact(p, assign, time_limit=time_limit, progress=progress)
        assign, proven, bound, method = result.assign, result.proven, result.bound, "exact"
    problems = p.violations(assign)
    if problems:  # would be a bug: both solvers only ever hold feasible groupings
        raise InfeasibleGroupingError("internal error, grouping breaks: " + "; ".join(problems))
    labels = p.student_labels(assign)
    topics = _topics(p, labels)
    labels, topics = _display_order(p, labels, topics)
    score, mode_score = p.evaluate_students(labels)
    comparison = _compare(p, labels) if constraints.previous_groups else None
    groups = tuple(tuple(p.ids[i] for i in np.nonzero(labels == k)[0])
                   for k in range(p.n_groups))
    log.info("grouped %d students into %d %s groups by %s in %.0f ms, score %.4f", p.n,
             p.n_groups, p.mode.value, method, 1000 * (time.perf_counter() - t0), score)
    return Grouping(mode=p.mode, groups=groups, topics=tuple(topics),
                    reasons=student_reasons(cls, p, labels, topics), score=score,
                    mode_score=mode_score, method=method, proven_optimal=proven, bound=bound,
                    summary=summary(p, labels, score, comparison, proven, bound, method,
                                    len(left_out)),
                    comparison=comparison, estimated_scores=_estimated(p),
                    left_out=left_out)


def _compare(p: Problem, labels: np.ndarray) -> Comparison:
    prev = p.prev_label
    moves = tuple(Move(p.ids[i], int(prev[i]) + 1 if prev[i] >= 0 else None, int(labels[i]) + 1)
                  for i in range(p.n) if prev[i] != labels[i])
    if (prev >= 0).all():
        current, current_mode = p.evaluate_students(prev)
        return Comparison(current_score=current, current_mode_score=current_mode, moves=moves,
                          current_breaks=tuple(p.student_violations(prev)))
    return Comparison(current_score=None, current_mode_score=None, moves=moves)


def _estimated(p: Problem) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for i, j in zip(*np.nonzero(p.estimated[:, :p.n_standards]), strict=True):
        out.setdefault(p.ids[i], {})[p.features[j]] = float(p.shown[i, j])
    return out


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
            return (float(p.x[members, :p.n_standards].mean()),)
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
