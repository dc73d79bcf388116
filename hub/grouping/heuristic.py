"""The hub's fast solver: seeded greedy starts and an iterated local search.

Each start places units one by one in the feasible group where they add least to the
objective, then descends by the best of three neighbourhoods until none improves: moving one
unit to another group, swapping two units between groups, and swapping the labels of two whole
groups (which only matters when pins or previous groups make group numbers meaningful). The
search then kicks the solution with a few random swaps and descends again, keeping the best.
All moves are checked against every hard constraint before they are scored, so the search
never holds an infeasible grouping. The same seed always gives the same result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.grouping.model import Mode
from hub.grouping.problem import Problem

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class HeuristicSettings:
    starts: int = 3
    #: Kick-and-descend rounds per start.
    rounds: int = 30
    kick_size: int = 3


class _State:
    """A unit assignment with its group sums, costs and keep-apart conflict counts."""

    def __init__(self, p: Problem, assign: np.ndarray) -> None:
        self.p = p
        self.assign = assign.copy()
        g = p.n_groups
        onehot = np.zeros((p.n_units, g))
        onehot[np.arange(p.n_units), assign] = 1.0
        self.size = onehot.T @ p.weight
        self.ys = onehot.T @ p.ysum
        self.qs = onehot.T @ p.qsum
        self.cs = onehot.T @ p.topic_cost
        self.conflict = p.apart.astype(np.int64) @ onehot.astype(np.int64)
        self.gcost = p.mode_cost(self.size, self.ys, self.qs, self.cs)
        self.upper = np.triu(np.ones((p.n_units, p.n_units), dtype=bool), 1)
        self.heavy = np.nonzero(p.weight > 1)[0]

    def total(self) -> float:
        return float(self.gcost.sum() + self.p.lin[np.arange(self.p.n_units), self.assign].sum())

    def move(self, u: int, b: int) -> None:
        p, a = self.p, int(self.assign[u])
        for k, sign in ((a, -1.0), (b, 1.0)):
            self.size[k] += sign * p.weight[u]
            self.ys[k] += sign * p.ysum[u]
            self.qs[k] += sign * p.qsum[u]
            self.cs[k] += sign * p.topic_cost[u]
        self.conflict[:, a] -= p.apart[:, u]
        self.conflict[:, b] += p.apart[:, u]
        self.assign[u] = b
        ks = np.array([a, b])
        self.gcost[ks] = p.mode_cost(self.size[ks], self.ys[ks], self.qs[ks], self.cs[ks])

    # --- neighbourhoods: each returns (delta matrix, validity matrix) ------------------------

    def moves(self) -> tuple[np.ndarray, np.ndarray]:
        p, a = self.p, self.assign
        units = np.arange(p.n_units)
        w = p.weight
        out = p.mode_cost(self.size[a] - w, self.ys[a] - p.ysum, self.qs[a] - p.qsum,
                          self.cs[a] - p.topic_cost) - self.gcost[a]
        into = p.mode_cost(self.size[None, :] + w[:, None], self.ys[None] + p.ysum[:, None],
                           self.qs[None, :] + p.qsum[:, None],
                           self.cs[None] + p.topic_cost[:, None]) - self.gcost[None, :]
        delta = out[:, None] + into + p.lin - p.lin[units, a][:, None]
        valid = (p.allowed & (self.conflict == 0)
                 & ((self.size[a] - w) >= p.min_size)[:, None]
                 & ((self.size[None, :] + w[:, None]) <= p.max_size))
        valid[units, a] = False
        return delta, valid

    def swaps(self) -> tuple[np.ndarray, np.ndarray]:
        p, a = self.p, self.assign
        units = np.arange(p.n_units)
        w, y, q, c = p.weight, p.ysum, p.qsum, p.topic_cost
        # [u, v]: u leaves a[u] for a[v], v leaves a[v] for a[u].
        size_a = self.size[a][:, None] - w[:, None] + w[None, :]
        cost_a = p.mode_cost(size_a, self.ys[a][:, None] - y[:, None] + y[None],
                             self.qs[a][:, None] - q[:, None] + q[None],
                             self.cs[a][:, None] - c[:, None] + c[None])
        delta = cost_a + cost_a.T - self.gcost[a][:, None] - self.gcost[a][None, :]
        lin_in = p.lin[:, a]  # [u, v] = lin of u in v's group
        lin_own = p.lin[units, a]
        delta += lin_in + lin_in.T - lin_own[:, None] - lin_own[None, :]
        fits = (size_a >= p.min_size) & (size_a <= p.max_size)
        allowed_in = p.allowed[:, a]
        free = (self.conflict[:, a] - p.apart) == 0
        valid = (fits & fits.T & allowed_in & allowed_in.T & free & free.T
                 & (a[:, None] != a[None, :]))
        valid &= self.upper
        return delta, valid

    def trade(self, u: int) -> tuple[float, int, int]:
        """Best swap of unit u for two units (v, x) of one other group with the same weight.

        Keep-together units weigh more than one student, so with fixed group sizes a plain
        swap can never move them; this is the move that can.
        """
        p, a = self.p, self.assign
        au = int(a[u])
        w, y, q, c = p.weight, p.ysum, p.qsum, p.topic_cost
        same = a[:, None] == a[None, :]
        ok = (same & (a[:, None] != au) & self.upper
              & (np.abs(w[:, None] + w[None, :] - w[u]) < 1e-9)
              & p.allowed[:, au][:, None] & p.allowed[:, au][None, :])
        free_a = (self.conflict[:, au] - p.apart[:, u]) == 0
        ok &= free_a[:, None] & free_a[None, :]
        b = a[:, None] * np.ones_like(a)[None, :]
        ok &= p.allowed[u][b]
        ok &= (self.conflict[u][b] - p.apart[u][:, None] - p.apart[u][None, :]) == 0
        if not ok.any():
            return np.inf, -1, -1
        vs, xs = np.nonzero(ok)
        bs = a[vs]
        ca = p.mode_cost(self.size[au] - w[u] + w[vs] + w[xs],
                         self.ys[au] - y[u] + y[vs] + y[xs], self.qs[au] - q[u] + q[vs] + q[xs],
                         self.cs[au] - c[u] + c[vs] + c[xs])
        cb = p.mode_cost(self.size[bs] + w[u] - w[vs] - w[xs],
                         self.ys[bs] + y[u] - y[vs] - y[xs], self.qs[bs] + q[u] - q[vs] - q[xs],
                         self.cs[bs] + c[u] - c[vs] - c[xs])
        delta = (ca + cb - self.gcost[au] - self.gcost[bs] + p.lin[u, bs] - p.lin[u, au]
                 + p.lin[vs, au] + p.lin[xs, au] - p.lin[vs, bs] - p.lin[xs, bs])
        i = int(np.argmin(delta))
        return float(delta[i]), int(vs[i]), int(xs[i])

    def relabels(self) -> tuple[np.ndarray, np.ndarray]:
        p, g = self.p, self.p.n_groups
        onehot = np.zeros((p.n_units, g))
        onehot[np.arange(p.n_units), self.assign] = 1.0
        m = onehot.T @ p.lin  # [k, l]: lin of group k's units if they were group l
        d = np.diag(m)
        delta = m + m.T - d[:, None] - d[None, :]
        ok = (onehot.T @ (~p.allowed)) == 0
        valid = ok & ok.T & np.triu(np.ones((g, g), dtype=bool), 1)
        return delta, valid

    def relabel(self, k: int, j: int) -> None:
        a = self.assign
        in_k, in_j = a == k, a == j
        a[in_k], a[in_j] = j, k
        for arr in (self.size, self.ys, self.qs, self.cs, self.gcost):
            arr[[k, j]] = arr[[j, k]]
        self.conflict[:, [k, j]] = self.conflict[:, [j, k]]

    def descend(self) -> None:
        relabel = bool(self.p.distinguished)
        while True:
            best, step = -_EPS, None
            delta, valid = self.moves()
            if valid.any():
                d = np.where(valid, delta, np.inf)
                i = int(np.argmin(d))
                if d.flat[i] < best:
                    best, step = d.flat[i], ("move", *np.unravel_index(i, d.shape))
            delta, valid = self.swaps()
            if valid.any():
                d = np.where(valid, delta, np.inf)
                i = int(np.argmin(d))
                if d.flat[i] < best:
                    best, step = d.flat[i], ("swap", *np.unravel_index(i, d.shape))
            if relabel:
                delta, valid = self.relabels()
                if valid.any():
                    d = np.where(valid, delta, np.inf)
                    i = int(np.argmin(d))
                    if d.flat[i] < best:
                        best, step = d.flat[i], ("relabel", *np.unravel_index(i, d.shape))
            for u in self.heavy:
                d, v, x = self.trade(int(u))
                if d < best:
                    best, step = d, ("trade", int(u), (v, x))
            if step is None:
                return
            kind, x, y = step
            if kind == "trade":
                au, bv = int(self.assign[x]), int(self.assign[y[0]])
                self.move(int(x), bv)
                self.move(y[0], au)
                self.move(y[1], au)
                continue
            if kind == "move":
                self.move(int(x), int(y))
            elif kind == "swap":
                ax, ay = int(self.assign[x]), int(self.assign[y])
                self.move(int(x), ay)
                self.move(int(y), ax)
            else:
                self.relabel(int(x), int(y))

    def kick(self, rng: np.random.Generator, count: int) -> None:
        """Make ``count`` random feasible swaps (or moves), whatever they cost."""
        p = self.p
        done = tries = 0
        while done < count and tries < 40 * count:
            tries += 1
            u, v = (int(x) for x in rng.integers(p.n_units, size=2))
            a, b = int(self.assign[u]), int(self.assign[v])
            if a == b:
                continue
            if (p.weight[u] == p.weight[v] and p.allowed[u, b] and p.allowed[v, a]
                    and self.conflict[u, b] - p.apart[u, v] == 0
                    and self.conflict[v, a] - p.apart[v, u] == 0):
                self.move(u, b)
                self.move(v, a)
                done += 1
            elif (p.allowed[u, b] and self.conflict[u, b] == 0
                  and self.size[a] - p.weight[u] >= p.min_size
                  and self.size[b] + p.weight[u] <= p.max_size):
                self.move(u, b)
                done += 1


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
            cost = p.topic_cost[u, topics] + p.lin[u]
        else:
            cost = (p.mode_cost(new_size, ys + p.ysum[u], qs + p.qsum[u],
                                cs + p.topic_cost[u]) - base + p.lin[u])
        k = int(np.argmin(np.where(ok, cost, np.inf)))
        assign[u] = k
        size[k] += w
        ys[k] += p.ysum[u]
        qs[k] += p.qsum[u]
        cs[k] += p.topic_cost[u]
        conflict[:, k] += p.apart[:, u]
        base[k] = p.mode_cost(size[k:k + 1], ys[k:k + 1], qs[k:k + 1], cs[k:k + 1])[0]
    return assign


def _start_order(p: Problem, rng: np.random.Generator, first: bool) -> np.ndarray:
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


def solve_heuristic(p: Problem, seed: int = 0,
                    settings: HeuristicSettings | None = None) -> np.ndarray | None:
    """Best unit assignment found, or None if no greedy start was feasible."""
    settings = settings or HeuristicSettings()
    rng = np.random.default_rng(seed)
    best: np.ndarray | None = None
    best_cost = np.inf
    starts: list[tuple[np.ndarray, np.ndarray | None]] = []
    if p.mode is Mode.INTEREST:
        # Local moves rarely change how many groups each activity gets, so the starts do:
        # the plans that cost least when greedily filled, tried in turn.
        order = _start_order(p, rng, first=True)
        plans = []
        for plan in _topic_plans(p):
            assign = greedy_start(p, order, plan)
            if assign is not None:
                plans.append((p.evaluate_units(assign)[0], len(plans), plan))
        plans.sort(key=lambda x: (x[0], x[1]))
        starts = [(_start_order(p, rng, first=True), plan)
                  for _, _, plan in plans[:settings.starts]]
    found = 0
    # Greedy can paint itself into a corner under tight constraints; retry with other orders.
    for attempt in range(10 * settings.starts):
        if found == settings.starts:
            break
        order, plan = (starts[attempt] if attempt < len(starts)
                       else (_start_order(p, rng, first=attempt == 0), None))
        assign = greedy_start(p, order, plan)
        if assign is None:
            continue
        found += 1
        best_cost, best = _improve(p, assign, rng, settings, best_cost, best)
    return best


def _topic_plans(p: Problem) -> list[np.ndarray]:
    """Activity per group: the plan proportional to first choices, and its one-group shifts."""
    g, t = p.n_groups, len(p.topics)
    demand = np.zeros(t)
    for u in range(p.n_units):
        demand[int(np.argmin(p.topic_cost[u]))] += p.weight[u]
    count = np.zeros(t, dtype=np.int64)
    for _ in range(g):  # D'Hondt: each group goes to the activity with most demand per group
        count[int(np.argmax(demand / (count + 1)))] += 1
    plans = [count]
    for a in range(t):
        for b in range(t):
            if a != b and count[a] > 0:
                shifted = count.copy()
                shifted[a] -= 1
                shifted[b] += 1
                plans.append(shifted)
    return [np.repeat(np.arange(t), c) for c in plans]


def improve(p: Problem, assign: np.ndarray, seed: int = 0,
            settings: HeuristicSettings | None = None) -> np.ndarray:
    """Run the local search from a given feasible assignment."""
    settings = settings or HeuristicSettings()
    _, best = _improve(p, assign, np.random.default_rng(seed), settings, np.inf, None)
    assert best is not None
    return best


def _improve(p: Problem, assign: np.ndarray, rng: np.random.Generator,
             settings: HeuristicSettings, best_cost: float,
             best: np.ndarray | None) -> tuple[float, np.ndarray | None]:
    state = _State(p, assign)
    state.descend()
    current = state.total()
    keep = state.assign.copy()
    for _ in range(settings.rounds):
        state.kick(rng, int(rng.integers(2, 2 * settings.kick_size + 1)))
        state.descend()
        cost = state.total()
        if cost <= current + _EPS:
            current, keep = cost, state.assign.copy()
        else:
            state = _State(p, keep)
    if current < best_cost - _EPS:
        return current, keep
    return best_cost, best
