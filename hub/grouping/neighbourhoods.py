"""The local search's state and its neighbourhoods, each scored in full with numpy.

A :class:`SearchState` holds a unit assignment with its group sums, costs, keep-apart
conflict counts and pair-history sums, updated in place by :meth:`SearchState.move`. Each
neighbourhood returns the cost change of every candidate step and whether the step keeps every
hard constraint:

* moves (one unit to another group) and swaps (two units between groups), scored for skill
  and mixed costs from dot products (group sums x unit sums, and the units' Gram matrix), so a
  whole table costs a few numpy calls;
* relabels (two groups trade numbers; only matters when pins or previous groups tie numbers);
* trades (a keep-together set for two units of its weight from one other group);
* chains (interest and skill modes): the best cycle of single-student moves across groups with
  each group's centre held fixed (:mod:`hub.grouping.transfers`);
* kicks and exchanges: random perturbations for the iterated search.

Pair history is a quadratic term: each state keeps ``pp[u, k]``, unit u's pair cost with the
members of group k, so a move costs ``pp[u, b] - pp[u, a]`` and a swap corrects for the pair it
breaks up. Interest mode's size balance enters through the group costs (they take the size).
"""

from __future__ import annotations

import numpy as np

from hub.grouping.model import Mode
from hub.grouping.problem import Problem
from hub.grouping.transfers import best_cycle, chain_moves, transfer_graph

_EPS = 1e-9


class Shared:
    """What every state of one problem reuses: pair products and index helpers."""

    def __init__(self, p: Problem) -> None:
        self.units = np.arange(p.n_units)
        self.gram = p.ysum @ p.ysum.T  # [u, v] = y_u . y_v
        self.yy = np.diag(self.gram).copy()
        self.upper = np.triu(np.ones((p.n_units, p.n_units), dtype=bool), 1)
        self.heavy = np.nonzero(p.weight > 1)[0]
        self.single = p.weight == 1
        self.unit_w = bool(self.single.all())
        self.has_lin = bool(np.any(p.lin != 0))
        self.has_apart = bool(p.apart.any())
        self.has_pairs = p.has_pairs
        self.pair_const = float(p.pair_within.sum())
        self.pair = self.yy[:, None] + self.yy[None, :] - 2.0 * self.gram
        self.allowed_t = p.allowed.T.copy()  # [k, v]: may v be in group k
        none = np.zeros((p.n_units, p.n_groups))
        self.no_moves = (none, none.astype(bool))
        self.weights = p.weight.tolist()
        self.qs = p.qsum.tolist()
        self.group_pairs = np.triu(np.ones((p.n_groups, p.n_groups), dtype=bool), 1)


class SearchState:
    """A unit assignment with its group sums, costs and keep-apart conflict counts."""

    def __init__(self, p: Problem, assign: np.ndarray, shared: Shared | None = None) -> None:
        self.p = p
        self.sh = shared or Shared(p)
        self.assign = assign.copy()
        g = p.n_groups
        onehot = np.zeros((p.n_units, g))
        onehot[np.arange(p.n_units), assign] = 1.0
        self.size = onehot.T @ p.weight
        self.ys = onehot.T @ p.ysum
        self.qs = onehot.T @ p.qsum
        self.cs = onehot.T @ p.topic_cost
        self.sq = (self.ys * self.ys).sum(axis=1)
        self.conflict = p.apart.astype(np.int64) @ onehot.astype(np.int64)
        self.gcost = p.mode_cost(self.size, self.ys, self.qs, self.cs)
        self.pp = p.pairs @ onehot  # [u, k]: u's pair-history cost with group k's members

    def copy(self) -> SearchState:
        other = object.__new__(SearchState)
        other.p, other.sh = self.p, self.sh
        for name in ("assign", "size", "ys", "qs", "cs", "sq", "conflict", "gcost", "pp"):
            setattr(other, name, getattr(self, name).copy())
        return other

    def total(self) -> float:
        units, a = self.sh.units, self.assign
        cost = float(self.gcost.sum() + self.p.lin[units, a].sum())
        if self.sh.has_pairs:
            cost += 0.5 * float(self.pp[units, a].sum()) + self.sh.pair_const
        return cost

    def move(self, u: int, b: int) -> None:
        # Called thousands of times per solve: plain float arithmetic on the two groups
        # rather than vectorised calls, and only the sums the mode uses.
        p, sh, a = self.p, self.sh, int(self.assign[u])
        w = sh.weights[u]
        self.size[a] -= w
        self.size[b] += w
        self.conflict[:, a] -= p.apart[:, u]
        self.conflict[:, b] += p.apart[:, u]
        self.assign[u] = b
        if sh.has_pairs:
            self.pp[:, a] -= p.pairs[:, u]
            self.pp[:, b] += p.pairs[:, u]
        if p.mode is Mode.INTEREST:
            c = p.topic_cost[u]
            self.cs[a] -= c
            self.cs[b] += c
            for k in (a, b):
                pref = self.cs[k].min() if self.cs.shape[1] else 0.0
                self.gcost[k] = pref + (p.size_cost(self.size[k]) if p.balance_weight else 0.0)
            return
        y, q = p.ysum[u], sh.qs[u]
        ys, qs, sq = self.ys, self.qs, self.sq
        ys[a] -= y
        ys[b] += y
        qs[a] -= q
        qs[b] += q
        skill = p.mode is Mode.SKILL
        for k in (a, b):
            yk = ys[k]
            s2 = float(yk @ yk)
            sq[k] = s2
            size = self.size[k]
            between = s2 / size if size > 0 else 0.0
            self.gcost[k] = ((qs[k] - between) if skill else between) / p.scale

    def _score_cost(self, size: np.ndarray, sq: np.ndarray, qs: np.ndarray) -> np.ndarray:
        """Skill or mixed cost of groups from size, |sum|^2 and sum of squared norms."""
        between = sq / np.maximum(size, 1)
        if self.p.mode is Mode.SKILL:
            return (qs - between) / self.p.scale
        return between / self.p.scale

    # --- neighbourhoods: each returns (delta matrix, validity matrix) ------------------------
    # Skill and mixed costs depend on a group's sum only through |sum|^2, so moves and swaps
    # are scored from dot products (group sums x unit sums, and the unit Gram matrix) without
    # building any per-dimension arrays.

    def moves(self) -> tuple[np.ndarray, np.ndarray]:
        p, a, sh = self.p, self.assign, self.sh
        units = sh.units
        w = p.weight
        if sh.unit_w:
            shrink, grow = self.size > p.min_size, self.size < p.max_size
            if not (shrink.any() and grow.any()):  # e.g. every group exactly full
                return sh.no_moves
            valid = p.allowed & (self.conflict == 0) & shrink[a][:, None] & grow[None, :]
        else:
            valid = (p.allowed & (self.conflict == 0)
                     & ((self.size[a] - w) >= p.min_size)[:, None]
                     & ((self.size[None, :] + w[:, None]) <= p.max_size))
        valid[units, a] = False
        if not valid.any():
            return sh.no_moves
        if p.mode is Mode.INTEREST:
            out = p.mode_cost(self.size[a] - w, self.ys[a] - p.ysum, self.qs[a] - p.qsum,
                              self.cs[a] - p.topic_cost) - self.gcost[a]
            into = p.mode_cost(self.size[None, :] + w[:, None], self.ys[None] + p.ysum[:, None],
                               self.qs[None, :] + p.qsum[:, None],
                               self.cs[None] + p.topic_cost[:, None]) - self.gcost[None, :]
        else:
            r = self.ys @ p.ysum.T  # [k, u] = Y_k . y_u
            out = self._score_cost(self.size[a] - w, self.sq[a] - 2.0 * r[a, units] + sh.yy,
                                   self.qs[a] - p.qsum) - self.gcost[a]
            into = self._score_cost(self.size[None, :] + w[:, None],
                                    self.sq[None, :] + 2.0 * r.T + sh.yy[:, None],
                                    self.qs[None, :] + p.qsum[:, None]) - self.gcost[None, :]
        delta = out[:, None] + into
        if sh.has_lin:
            delta += p.lin - p.lin[units, a][:, None]
        if sh.has_pairs:
            delta += self.pp - self.pp[units, a][:, None]
        return delta, valid

    def swaps(self) -> tuple[np.ndarray, np.ndarray]:
        p, a, sh = self.p, self.assign, self.sh
        units = sh.units
        w, q = p.weight, p.qsum
        # [u, v]: u leaves a[u] for a[v], v leaves a[v] for a[u]; cost_a is a[u]'s new cost.
        size_a = (self.size[a][:, None] if sh.unit_w
                  else self.size[a][:, None] - w[:, None] + w[None, :])
        if p.mode is Mode.INTEREST:
            y, c = p.ysum, p.topic_cost
            cost_a = p.mode_cost(size_a, self.ys[a][:, None] - y[:, None] + y[None],
                                 self.qs[a][:, None] - q[:, None] + q[None],
                                 self.cs[a][:, None] - c[:, None] + c[None])
        else:
            ra = (self.ys @ p.ysum.T)[a]  # [u, v] = Y_a[u] . y_v
            sq_a = (self.sq[a] - 2.0 * ra[units, units])[:, None] + 2.0 * ra + sh.pair
            qs_a = (self.qs[a] - q)[:, None] + q[None, :] if p.mode is Mode.SKILL else 0.0
            cost_a = self._score_cost(size_a, sq_a, qs_a)
        own = self.gcost[a]
        if sh.has_lin:
            own = own + p.lin[units, a]
            cost_a = cost_a + p.lin[:, a].T  # a[u]'s new member v brings its cost there
        half = cost_a - own[:, None]
        if sh.has_pairs:
            # u joins v's group (less v, who leaves it) and leaves its own.
            half = half + self.pp[:, a] - self.pp[units, a][:, None] - p.pairs
        delta = half + half.T
        ok = ((self.conflict[:, a] - p.apart) == 0) & sh.allowed_t[a]
        if not sh.unit_w:
            ok &= (size_a >= p.min_size) & (size_a <= p.max_size)
        valid = ok & ok.T & (a[:, None] != a[None, :]) & sh.upper
        return delta, valid

    def chain(self) -> tuple[float, list[tuple[int, int]]]:
        """Best ejection chain of single students, scored with each group's centre held fixed.

        In interest mode the centre is the group's activity, in skill mode its mean scores.
        Held fixed, costs are additive per student, so a negative cycle of the transfer graph
        is an improvement, and at least as large once the centres follow the students (a
        group's own mean is the point its squared distances are least from, its best activity
        the one it costs least under); see :mod:`hub.grouping.transfers`. Keep-apart checks
        use the current members, which is conservative: every group on a cycle takes in
        exactly one student.
        """
        p, a, sh = self.p, self.assign, self.sh
        if p.mode is Mode.INTEREST:
            c = p.topic_cost[:, self.cs.argmin(axis=1)] + p.lin
        else:
            mean = self.ys / np.maximum(self.size, 1)[:, None]
            c = (p.qsum[:, None] - 2.0 * p.ysum @ mean.T
                 + p.weight[:, None] * (mean * mean).sum(axis=1)[None, :]) / p.scale + p.lin
        if sh.has_pairs:
            # Each mover's pairs with the group it joins as it is now: at least what it pays
            # once the cycle is done (a group on a cycle loses one member as one joins).
            c = c + self.pp
        delta = c - c[sh.units, a][:, None]
        movable = p.allowed & sh.single[:, None]
        shrink = np.where(self.size - 1 >= p.min_size, 0.0, np.inf)
        grow = np.where(self.size + 1 <= p.max_size, 0.0, np.inf)
        if p.balance_weight:
            # A chain through the slack node changes two groups' sizes: price that exactly.
            shrink = shrink + p.size_cost(self.size - 1) - p.size_cost(self.size)
            grow = grow + p.size_cost(self.size + 1) - p.size_cost(self.size)
        # First let a student join a group holding one partner it must be kept apart from
        # (that partner may be the one leaving on the same cycle) and check the cycle found;
        # if it breaks a pair, search again with every partner in place counted.
        for limit in (1, 0) if sh.has_apart else (0,):
            w, item = transfer_graph(np.where(movable & (self.conflict <= limit), delta, np.inf),
                                     a, shrink, grow)
            gain, cycle = best_cycle(w)
            if not cycle:
                continue
            moves = chain_moves(cycle, item, p.n_groups)
            if limit == 0 or self._apart_after(moves):
                return gain, moves
        return 0.0, []

    def _apart_after(self, moves: list[tuple[int, int]]) -> bool:
        """Whether keep-apart pairs all hold after the moves (each pair broken involves one)."""
        trial = self.copy()
        for u, b in moves:
            trial.move(u, b)
        return all(trial.conflict[u, b] == 0 for u, b in moves)

    def trade(self, u: int, into: int | None = None) -> tuple[float, int, int]:
        """Best swap of unit u for two units (v, x) of one other group (or of ``into``)
        with the same weight.

        Keep-together units weigh more than one student, so with fixed group sizes a plain
        swap can never move them; this is the move that can.
        """
        p, a = self.p, self.assign
        au = int(a[u])
        w, y, q, c = p.weight, p.ysum, p.qsum, p.topic_cost
        same = a[:, None] == a[None, :]
        target = (a != au) if into is None else (a == into)
        ok = (same & target[:, None] & self.sh.upper
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
        if self.sh.has_pairs:
            pp, r = self.pp, p.pairs
            delta = delta + (pp[u, bs] - pp[u, au] + pp[vs, au] - pp[vs, bs] + pp[xs, au]
                             - pp[xs, bs] - 2.0 * (r[u, vs] + r[u, xs] - r[vs, xs]))
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
        valid = ok & ok.T & self.sh.group_pairs
        return delta, valid

    def relabel(self, k: int, j: int) -> None:
        a = self.assign
        in_k, in_j = a == k, a == j
        a[in_k], a[in_j] = j, k
        for arr in (self.size, self.ys, self.qs, self.cs, self.sq, self.gcost):
            arr[[k, j]] = arr[[j, k]]
        self.conflict[:, [k, j]] = self.conflict[:, [j, k]]
        self.pp[:, [k, j]] = self.pp[:, [j, k]]

    def descend(self) -> None:
        """Best-improvement descent; the costlier neighbourhoods only at a local optimum."""
        p = self.p
        relabel = bool(p.distinguished)
        chains = p.mode is not Mode.MIXED
        while True:
            best, step = -_EPS, None
            for kind, (delta, valid) in (("move", self.moves()), ("swap", self.swaps())):
                if valid.any():
                    d = np.where(valid, delta, np.inf)
                    i = int(np.argmin(d))
                    if d.flat[i] < best:
                        best, step = d.flat[i], (kind, *np.unravel_index(i, d.shape))
            if step is None and relabel:
                delta, valid = self.relabels()
                if valid.any():
                    d = np.where(valid, delta, np.inf)
                    i = int(np.argmin(d))
                    if d.flat[i] < best:
                        best, step = d.flat[i], ("relabel", *np.unravel_index(i, d.shape))
            if step is None:
                for u in self.sh.heavy:
                    d, v, x = self.trade(int(u))
                    if d < best:
                        best, step = d, ("trade", int(u), (v, x))
            if step is None and chains:
                d, moves = self.chain()
                if moves and d < best:
                    for u, b in moves:
                        self.move(u, b)
                    continue
            if step is None:
                return
            kind, x, y = step
            if kind == "trade":
                au, bv = int(self.assign[x]), int(self.assign[y[0]])
                self.move(int(x), bv)
                self.move(y[0], au)
                self.move(y[1], au)
            elif kind == "move":
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
            elif p.weight[u] > p.weight[v] and self._kick_trade(rng, u, v):
                done += 1

    def exchange(self, rng: np.random.Generator | None,
                 groups: tuple[int, int] | None = None) -> bool:
        """Swap two groups' members (random ones, or ``groups``), then send back whoever may
        not be in the new group.

        Pins and exclusions tie a group number to particular students; the group formed
        around them can then only change by many small steps uphill. This swaps the whole
        groups and returns each tied student by its cheapest feasible swap with a member of
        the group it must stay in. False (state unspecified: restore it) when none exists.
        """
        p = self.p
        if groups is None:
            assert rng is not None
            pick = rng.choice(p.n_groups, size=2, replace=False)
            groups = (int(pick[0]), int(pick[1]))
        k, j = groups
        self.relabel(k, j)
        for here, back in ((k, j), (j, k)):
            for u in np.nonzero((self.assign == here) & ~p.allowed[:, here])[0]:
                delta, valid = self.swaps()
                pair = valid | valid.T
                row = np.where(pair[u] & (self.assign == back), delta[u] + delta[:, u], np.inf)
                v = int(np.argmin(row))
                if not np.isfinite(row[v]):
                    return False
                self.move(int(u), back)
                self.move(v, here)
        return True

    def _kick_trade(self, rng: np.random.Generator, u: int, v: int) -> bool:
        """Trade keep-together unit u for v and a partner x from v's group, if allowed.

        Without it a kick could never move a keep-together set when sizes are tight, and the
        search would only ever see the set where its start put it.
        """
        p, a = self.p, self.assign
        au, b = int(a[u]), int(a[v])
        x = np.nonzero((a == b) & (np.abs(p.weight + p.weight[v] - p.weight[u]) < 1e-9))[0]
        x = x[x != v]
        if not len(x):
            return False
        x = int(x[rng.integers(len(x))])
        if not (p.allowed[u, b] and p.allowed[v, au] and p.allowed[x, au]
                and not p.apart[v, x]
                and self.conflict[u, b] - p.apart[u, v] - p.apart[u, x] == 0
                and self.conflict[v, au] - p.apart[v, u] == 0
                and self.conflict[x, au] - p.apart[x, u] == 0):
            return False
        self.move(u, b)
        self.move(v, au)
        self.move(x, au)
        return True
