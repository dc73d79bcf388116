"""Greedy starts for the local search: unit orders, and activity plans laid onto groups."""

from __future__ import annotations

import numpy as np

from hub.grouping.problem import Problem

_EPS = 1e-9


def greedy_start(p: Problem, order: np.ndarray,
                 topics: np.ndarray | None = None) -> np.ndarray | None:
    """Place units in ``order``, each where it adds least; None when it paints itself in.

    With ``topics`` (interest mode) group k is costed as if fixed to activity ``topics[k]``,
    which lets a start aim at a given number of groups per activity.
    """
    g = p.n_groups
    assign = np.full(p.n_units, -1, dtype=np.int64)
    size = np.zeros(g)
    ys = np.zeros((g, p.ysum.shape[1]))
    qs = np.zeros(g)
    cs = np.zeros((g, p.topic_cost.shape[1]))
    conflict = np.zeros((p.n_units, g), dtype=np.int64)
    pp = np.zeros((p.n_units, g))  # pair-history cost with each group's members so far
    remaining = float(p.weight.sum())
    base = p.mode_cost(size, ys, qs, cs)
    for u in order:
        w = p.weight[u]
        remaining -= w
        new_size = size + w
        deficit = np.maximum(p.min_size - size, 0).sum()
        # After placing u, the students left must still be able to fill every group to min.
        new_deficit = deficit - np.minimum(np.maximum(p.min_size - size, 0), w)
        ok = (p.allowed[u] & (conflict[u] == 0) & (new_size <= p.max_size)
              & (new_deficit <= remaining + _EPS))
        if not ok.any():
            return None
        if topics is not None:
            cost = p.topic_cost[u, topics] + p.lin[u] + pp[u]
        else:
            cost = (p.mode_cost(new_size, ys + p.ysum[u], qs + p.qsum[u],
                                cs + p.topic_cost[u]) - base + p.lin[u] + pp[u])
        k = int(np.argmin(np.where(ok, cost, np.inf)))
        assign[u] = k
        size[k] += w
        ys[k] += p.ysum[u]
        qs[k] += p.qsum[u]
        cs[k] += p.topic_cost[u]
        conflict[:, k] += p.apart[:, u]
        pp[:, k] += p.pairs[:, u]
        base[k] = p.mode_cost(size[k:k + 1], ys[k:k + 1], qs[k:k + 1], cs[k:k + 1])[0]
    return assign


def start_order(p: Problem, rng: np.random.Generator, first: bool) -> np.ndarray:
    # Most constrained first: pinned units, then units with keep-apart partners, then big ones.
    freedom = p.allowed.sum(axis=1)
    partners = p.apart.sum(axis=1)
    noise = rng.random(p.n_units) if not first else np.zeros(p.n_units)
    if p.ysum.shape[1] and not first:
        spread = np.zeros(p.n_units)
    elif p.ysum.shape[1]:
        # Deterministic first start: extreme students first, so groups form around them.
        spread = -np.abs(p.ysum / p.weight[:, None]).sum(axis=1)
    else:
        spread = np.zeros(p.n_units)
    return np.lexsort((noise, spread, -p.weight, -partners, freedom))


def orient(p: Problem, counts: np.ndarray) -> np.ndarray:
    """Activity per group for a plan: pinned students' groups get the activity they like best."""
    left = list(np.repeat(np.arange(len(counts)), counts))
    topics = np.full(p.n_groups, -1, dtype=np.int64)
    only = p.allowed.sum(axis=1) == 1
    for k in sorted(p.distinguished):
        fixed = only & p.allowed[:, k]
        if fixed.any():
            cost = p.topic_cost[fixed].sum(axis=0)
            pick = min(left, key=lambda j: (cost[j], j))
            topics[k] = pick
            left.remove(pick)
    for k in range(p.n_groups):
        if topics[k] < 0:
            topics[k] = left.pop(0)
    return topics
