"""Activity plans for interest groups: how many groups each activity gets, best first.

Local moves rarely change how many groups each activity has, so the heuristic starts from the
most promising plans. A plan is judged by its relaxation: students placed one by one into
activities, each activity holding between min_size and max_size students for every group it
gets, with keep-together sets, keep-apart pairs, pins, stability and pair-history costs
ignored (:func:`hub.grouping.transfers.relaxed_plan_cost` solves it exactly). Size balance is
kept: an activity holding m students in c groups pays the balance cost of the most even split
of m into c (convex in m), the least any grouping with those counts can pay. Every grouping is
feasible for the relaxation of its own plan, at no more than its cost (stability and pair
costs are never negative), so the least relaxed cost over all plans is a lower bound on the
optimum: the *floor*. When a grouping reaches it, it is proven optimal.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from hub.grouping.problem import Problem
from hub.grouping.transfers import relaxed_plan_cost

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class RankedPlans:
    #: Groups per activity (index into ``Problem.topics``), best relaxed cost first.
    plans: list[np.ndarray]
    #: Lower bound on the optimum over all plans; -inf when not every plan was judged.
    floor: float


def rank_plans(p: Problem, keep: int, max_plans: int = 5000,
               max_solves: int | None = 60) -> RankedPlans:
    """The ``keep`` best activity plans (groups per activity), best first.

    A plan is ranked by its relaxation (:func:`relaxed_plan_cost`: students placed one by one
    into activities with each activity holding between min_size and max_size students per
    group it gets; keep-apart pairs and pins ignored). Plans are visited in order of a cheap
    lower bound (students that must leave an over-subscribed activity pay at least their
    regret; students that must fill an under-subscribed one pay at least their extra cost) and
    the visit stops once that bound exceeds the ``keep``-th best relaxed cost. Ties go to the
    plan closest to the D'Hondt split of first choices.
    """
    g, t = p.n_groups, len(p.topics)
    c = p.student_c
    first = c.argmin(axis=1)
    demand = np.bincount(first, minlength=t).astype(np.float64)
    dhondt = np.zeros(t, dtype=np.int64)
    for _ in range(g):  # each group goes to the activity with most demand per group
        dhondt[int(np.argmax(demand / (dhondt + 1)))] += 1
    every = math.comb(g + t - 1, t - 1) <= max_plans
    if not every:
        plans = [dhondt] + [dhondt + np.eye(t, dtype=np.int64)[b] - np.eye(t, dtype=np.int64)[a]
                            for a in range(t) for b in range(t) if a != b and dhondt[a] > 0]
        counts = np.array(plans)
    else:
        counts = np.array([np.bincount(np.array(combo, dtype=np.int64), minlength=t)
                           for combo in itertools.combinations_with_replacement(range(t), g)])
    n = p.n
    srt = np.sort(c, axis=1)
    regret = srt[:, 1] - srt[:, 0] if t > 1 else np.zeros(n)
    extra = c - srt[:, :1]
    leave = np.zeros((t, n + 1))
    join = np.zeros((t, n + 1))
    for j in range(t):
        r = np.sort(regret[first == j])
        leave[j, 1:len(r) + 1] = np.cumsum(r)
        leave[j, len(r) + 1:] = np.inf
        e = np.sort(extra[first != j, j])
        join[j, 1:len(e) + 1] = np.cumsum(e)
        join[j, len(e) + 1:] = np.inf
    over = np.clip(demand[None, :] - p.max_size * counts, 0, n).astype(np.int64)
    under = np.clip(p.min_size * counts - demand[None, :], 0, n).astype(np.int64)
    cols = np.arange(t)[None, :]
    bound = srt[:, 0].sum() + np.maximum(leave[cols, over].sum(axis=1),
                                         join[cols, under].sum(axis=1))
    distance = np.abs(counts - dhondt[None, :]).sum(axis=1)
    ranked: list[tuple[float, int, int]] = []
    order = np.lexsort((np.arange(len(counts)), distance, bound))
    # The least relaxed cost over all plans bounds the optimum from below, once every plan
    # has been solved or cut off by a bound above a solved one.
    complete = every
    for j, i in enumerate(order):
        if len(ranked) >= keep and bound[i] > ranked[keep - 1][0] + _EPS:
            break
        if max_solves is not None and j >= max_solves:
            complete = False
            break
        value = relaxed_plan_cost(c, p.min_size * counts[i], p.max_size * counts[i],
                                  plan_count_cost(p, counts[i]))
        if np.isfinite(value):
            ranked.append((value, int(distance[i]), int(i)))
            ranked.sort()
    if not ranked:
        return RankedPlans([dhondt], -np.inf)
    floor = ranked[0][0] if complete else -np.inf
    return RankedPlans([counts[i] for _, _, i in ranked[:keep]], floor)




def plan_count_cost(p: Problem, counts: np.ndarray) -> np.ndarray | None:
    """``[t, m]``: the least size-balance cost of m students in activity t's ``counts[t]``
    groups (the most even split), or None when sizes cost nothing."""
    if not p.balance_weight:
        return None
    m = np.arange(p.n + 2)
    out = np.zeros((len(counts), len(m)))
    for t, c in enumerate(counts):
        if c == 0:
            continue  # the bin holds nobody: its count never moves from 0
        q, r = np.divmod(m, int(c))
        out[t] = (c - r) * p.size_cost(q.astype(np.float64)) + r * p.size_cost(q + 1.0)
    return out
