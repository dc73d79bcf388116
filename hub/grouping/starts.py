"""Greedy starts for the local search: unit orders, and guides laid onto groups.

A guide fixes what each group is about before any student is placed, so the greedy places
each student where the guide says it costs least: in interest mode an activity plan (how
many groups each activity gets), in skill mode the centres of the best split of the class
into contiguous runs along its main axis of ability (:func:`contiguous_centres`).
"""

from __future__ import annotations

import numpy as np

from hub.grouping.problem import Problem

_EPS = 1e-9


def greedy_start(p: Problem, order: np.ndarray,
                 guide: np.ndarray | None = None) -> np.ndarray | None:
    """Place units in ``order``, each where it adds least; None when it paints itself in.

    With ``guide`` (units x groups) a unit costs ``guide[u, k]`` in group k, as if the
    group's activity or centre were fixed: this lets a start aim at a given number of groups
    per activity, or at given skill groups.
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
        if guide is not None:
            cost = guide[u] + p.lin[u] + pp[u]
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


def orient(p: Problem, option_cost: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The guide of a plan: ``counts[t]`` groups get option t (an activity, a centre), and
    pinned students' groups get the option they cost least under. ``option_cost`` is units x
    options; returns units x groups."""
    left = list(np.repeat(np.arange(len(counts)), counts))
    options = np.full(p.n_groups, -1, dtype=np.int64)
    only = p.allowed.sum(axis=1) == 1
    for k in sorted(p.distinguished):
        fixed = only & p.allowed[:, k]
        if fixed.any():
            cost = option_cost[fixed].sum(axis=0)
            pick = min(left, key=lambda j: (cost[j], j))
            options[k] = pick
            left.remove(pick)
    for k in range(p.n_groups):
        if options[k] < 0:
            options[k] = left.pop(0)
    return option_cost[:, options]


def contiguous_centres(p: Problem) -> np.ndarray | None:
    """Centres (groups x features) of the best split of the units, sorted along the class's
    first principal axis, into contiguous runs whose sizes are in range; None if none fits.

    Scores on related standards share a general ability, so skill groups lie close to runs
    along that axis; the best such split (a dynamic program over run ends) is a far better
    guide than a greedy order, especially when sizes may vary.
    """
    if not p.student_y.shape[1] or not p.student_y.any():
        return None
    axis = np.linalg.svd(p.student_y, full_matrices=False)[2][0]
    order = np.argsort(p.ysum @ axis / p.weight, kind="stable")
    w = np.concatenate([[0.0], np.cumsum(p.weight[order])])
    y = np.concatenate([np.zeros((1, p.ysum.shape[1])), np.cumsum(p.ysum[order], axis=0)])
    q = np.concatenate([[0.0], np.cumsum(p.qsum[order])])
    m, g = p.n_units, p.n_groups
    best = np.full((g + 1, m + 1), np.inf)
    cut = np.zeros((g + 1, m + 1), dtype=np.int64)
    best[0, 0] = 0.0
    for j in range(1, m + 1):
        i = np.arange(j)
        size = w[j] - w[i]
        ok = (size >= p.min_size - _EPS) & (size <= p.max_size + _EPS)
        dy = y[j] - y[i]
        cost = np.where(ok, q[j] - q[i] - (dy * dy).sum(axis=1) / np.maximum(size, 1), np.inf)
        for k in range(1, g + 1):
            total = best[k - 1, :j] + cost
            cut[k, j] = int(np.argmin(total))
            best[k, j] = total[cut[k, j]]
    if not np.isfinite(best[g, m]):
        return None
    centres = np.zeros((g, p.ysum.shape[1]))
    j = m
    for k in range(g, 0, -1):
        i = cut[k, j]
        centres[k - 1] = (y[j] - y[i]) / (w[j] - w[i])
        j = i
    return centres


def centre_cost(p: Problem, centres: np.ndarray) -> np.ndarray:
    """Skill cost of each unit (rows) around each centre (columns): its squared distances."""
    return (p.qsum[:, None] - 2.0 * p.ysum @ centres.T
            + p.weight[:, None] * (centres * centres).sum(axis=1)[None, :]) / p.scale
