"""Enumerating candidate groups whose reduced cost is at most a threshold, with pruning.

This is the pricing step of the set-partitioning model in :mod:`hub.grouping.exact`. A
*column* is a group (a set of units) for one *family* (a group number or "any free group", and
for interest mode an activity). Its reduced cost is ``cost(S) + sum_u a_u - mu`` where ``a_u``
holds the unit's linear costs minus its LP dual and ``mu`` the dual of the family's row.

The search is depth-first over units in a fixed order, vectorised over chunks of partial groups
with numpy. A partial group is dropped when a lower bound on the reduced cost of every
completion exceeds the threshold. The bounds, for a partial group P to be completed by a set
R of units after P's last one, to a final size s:

* skill: ``s * SSQ(S)`` is the sum of squared distances over all pairs of students in S. Pairs
  inside P are known; each candidate unit j brings its pairs with P, its internal pairs, and at
  least half of the cheapest pairs it could have with the rest of R (a table, per candidate and
  starting position, of the cheapest member pairs). Choosing R is then a knapsack on member
  counts, bounded by its fractional relaxation;
* mixed: each dimension of the group's deviation sum lies in an interval (the sums of the
  smallest and largest possible completions), and the squared distance of that box from the
  origin bounds ``|Y|^2``; the linear part is bounded separately by the same knapsack;
* interest: costs are linear, so the knapsack bound is exact up to integrality; the size
  balance depends on the final size alone, a constant of each size's search.

Pair history is quadratic and never negative: the pairs inside P are known, each candidate
brings at least its pairs with P (added to its linear cost in the knapsack), and the pairs among
the rest are bounded by zero.

Every bound is valid (never above the true minimum), so no column at or under the threshold is
missed: the enumeration is exact, which is what lets the exact method prove optimality.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from hub.grouping.model import Mode
from hub.grouping.problem import Problem

_CHUNK = 2048
_SLACK = 1e-9


class SearchLimit(Exception):
    """The enumeration hit its column or time limit; its result would be incomplete."""


@dataclass
class Found:
    masks: list[int] = field(default_factory=list)
    rcs: list[float] = field(default_factory=list)
    complete: bool = True

    def min_rc(self) -> float:
        return min(self.rcs) if self.rcs else np.inf


class GroupSpace:
    """Per-class data the enumeration needs, in a fixed unit order (position = unit index)."""

    def __init__(self, p: Problem) -> None:
        mode, weight, ysum, qsum, apart = p.mode, p.weight, p.ysum, p.qsum, p.apart
        if len(weight) > 63:
            raise ValueError("the exact method handles at most 63 units")
        self.mode = mode
        self.w = weight.astype(np.float64)
        self.y = ysum
        self.q = qsum
        self.scale = p.scale
        self.max_size = p.max_size
        self.size_cost = p.size_cost if p.balance_weight else None
        self.pairs = p.pairs
        self.has_pairs = p.has_pairs
        self.m = len(weight)
        self.unit_w = bool(np.all(self.w == 1))
        bits = np.uint64(1) << np.arange(self.m, dtype=np.uint64)
        self.bits = bits
        self.apart_mask = np.array([np.bitwise_or.reduce(bits[apart[j]]) if apart[j].any()
                                    else np.uint64(0) for j in range(self.m)], dtype=np.uint64)
        self.yy = (ysum * ysum).sum(axis=1)
        self.dint = self.w * self.q - self.yy
        if mode is Mode.SKILL:
            self._pair_table()
        elif mode is Mode.MIXED:
            self._box_table()

    def _member_view(self) -> tuple[np.ndarray, np.ndarray]:
        unit_of_member = np.repeat(np.arange(self.m), self.w.astype(np.int64))
        return unit_of_member, self.w[unit_of_member]

    def _pair_table(self) -> None:
        # pair[b, j, c]: least sum of c member-pair distances from unit j to members of units at
        # positions >= b other than j (inf when fewer than c members are there).
        m, cmax = self.m, self.max_size
        dist = (self.w[None, :] * self.q[:, None] + self.w[:, None] * self.q[None, :]
                - 2.0 * self.y @ self.y.T)
        np.maximum(dist, 0.0, out=dist)
        unit_of, wm = self._member_view()
        per_member = dist[:, unit_of] / (self.w[:, None] * wm[None, :]) * self.w[:, None]
        table = np.full((m + 1, m, cmax + 1), np.inf)
        table[:, :, 0] = 0.0
        for b in range(m + 1):
            vals = per_member.copy()
            vals[:, unit_of < b] = np.inf
            vals[np.arange(m)[:, None] == unit_of[None, :]] = np.inf
            vals.sort(axis=1)
            take = min(cmax, vals.shape[1])
            table[b, :, 1:take + 1] = np.cumsum(vals[:, :take], axis=1)
        self.pair = np.nan_to_num(table, nan=np.inf)

    def _box_table(self) -> None:
        # lo/hi[b, d, c]: least/greatest sum of c member values (unit sum / unit size) in
        # dimension d over units at positions >= b.
        m, cmax, d = self.m, self.max_size, self.y.shape[1]
        unit_of, wm = self._member_view()
        vals = self.y[unit_of] / wm[:, None]
        lo = np.full((m + 1, d, cmax + 1), np.inf)
        hi = np.full((m + 1, d, cmax + 1), -np.inf)
        lo[:, :, 0] = hi[:, :, 0] = 0.0
        for b in range(m + 1):
            v = vals[unit_of >= b]
            take = min(cmax, len(v))
            if take == 0:
                continue
            s = np.sort(v, axis=0)
            lo[b, :, 1:take + 1] = np.cumsum(s[:take], axis=0).T
            hi[b, :, 1:take + 1] = np.cumsum(s[::-1][:take], axis=0).T
        self.lo, self.hi = lo, hi

    def cost(self, size: np.ndarray, ys: np.ndarray, qs: np.ndarray) -> np.ndarray:
        """Mode cost of groups from their sums (pair history not included)."""
        if self.mode is Mode.INTEREST:
            if self.size_cost is not None:
                return self.size_cost(np.asarray(size, dtype=np.float64))
            return np.zeros(len(size))
        sq = (ys * ys).sum(axis=1)
        if self.mode is Mode.SKILL:
            return (qs - sq / size) / self.scale
        return sq / size / self.scale

    def members(self, mask: int) -> list[int]:
        return [j for j in range(self.m) if mask >> j & 1]

    def pair_cost(self, units: list[int]) -> float:
        """Pair-history cost between the units of one group."""
        if not self.has_pairs:
            return 0.0
        return float(0.5 * self.pairs[np.ix_(units, units)].sum())


def _knapsack_min(v: np.ndarray, w: np.ndarray, r: np.ndarray, unit_w: bool) -> np.ndarray:
    """Least sum of v over a (fractional) selection of total weight r, per row; inf if none."""
    rows = np.arange(len(r))
    if unit_w:
        s = np.sort(v, axis=1)
        c = np.cumsum(s, axis=1)
        c = np.concatenate([np.zeros((len(r), 1)), c], axis=1)
        ri = np.minimum(r.astype(np.int64), c.shape[1] - 1)
        out = c[rows, ri]
        out[r > v.shape[1]] = np.inf
        return np.nan_to_num(out, nan=np.inf)
    ratio = v / w[None, :]
    order = np.argsort(ratio, axis=1)
    vs = np.take_along_axis(v, order, axis=1)
    ws = np.broadcast_to(w, v.shape)
    ws = np.take_along_axis(ws, order, axis=1)
    ws = np.where(np.isfinite(vs), ws, 0.0)
    cw = np.cumsum(ws, axis=1)
    full = cw <= r[:, None] + 1e-9
    total = np.where(full, np.where(np.isfinite(vs), vs, 0.0), 0.0).sum(axis=1)
    k = full.sum(axis=1)
    before = np.where(k > 0, cw[rows, np.maximum(k - 1, 0)], 0.0)
    rest = r - before
    kk = np.minimum(k, v.shape[1] - 1)
    nxt_v, nxt_w = vs[rows, kk], ws[rows, kk]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(rest > 1e-9, np.where(nxt_w > 0, rest / nxt_w * nxt_v, np.inf), 0.0)
    out = total + np.where(rest > 1e-9, np.where(k < v.shape[1], frac, np.inf), 0.0)
    return np.nan_to_num(out, nan=np.inf)


def enumerate_groups(space: GroupSpace, a: np.ndarray, allowed: np.ndarray, mu: float,
                     sizes: range, threshold: float, *, keep: int | None = None,
                     stop_after: int | None = None, max_columns: int | None = None,
                     deadline: float | None = None) -> Found:
    """All groups with reduced cost <= threshold (or the ``keep`` best of them).

    ``a`` is each unit's linear reduced cost, ``allowed`` the units this family may hold.
    ``stop_after`` ends the search early once that many columns are found (partial pricing;
    the result is then marked incomplete). Raises SearchLimit past ``max_columns``/``deadline``.
    """
    found = Found()
    thr = threshold
    w, m = space.w, space.m
    pos = np.arange(m)
    allowed_mask = np.uint64(np.bitwise_or.reduce(space.bits[allowed])) if allowed.any() \
        else np.uint64(0)
    d = space.y.shape[1]
    pairs = space.has_pairs
    for s in sizes:
        # The size balance is a constant of the final size: fold it into the row's dual.
        mu_s = mu - (float(space.size_cost(np.array([float(s)]))[0])
                     if space.size_cost is not None else 0.0)
        first = dict(last=np.array([-1]), wsum=np.zeros(1), ys=np.zeros((1, d)),
                     qs=np.zeros(1), asum=np.zeros(1), mask=np.zeros(1, dtype=np.uint64),
                     forbid=~allowed_mask.reshape(1))
        if pairs:  # pj: each unit's pair cost with the partial group (asum holds the inside)
            first["pj"] = np.zeros((1, m))
        stack = [first]
        while stack:
            if deadline is not None and time.monotonic() > deadline:
                raise SearchLimit("time limit")
            ch = stack.pop()
            if len(ch["last"]) > _CHUNK:
                rest = {k: v[_CHUNK:] for k, v in ch.items()}
                ch = {k: v[:_CHUNK] for k, v in ch.items()}
                stack.append(rest)
            last, wsum, ys, qs, asum = ch["last"], ch["wsum"], ch["ys"], ch["qs"], ch["asum"]
            r = s - wsum
            valid = ((pos[None, :] > last[:, None])
                     & (((ch["forbid"][:, None] >> pos.astype(np.uint64)[None, :])
                         & np.uint64(1)) == 0)
                     & (w[None, :] <= r[:, None] + 1e-9))
            if space.mode is Mode.SKILL:
                start = last + 1
                cnt = np.clip((r[:, None] - w[None, :]).astype(np.int64), 0, space.max_size)
                pair = space.pair[start[:, None], pos[None, :], cnt]
                dj = (w[None, :] * qs[:, None] + wsum[:, None] * space.q[None, :]
                      - 2.0 * ys @ space.y.T)
                v = (dj + space.dint[None, :] + 0.5 * pair) / (s * space.scale) + a[None, :]
                base = (wsum * qs - (ys * ys).sum(axis=1)) / (s * space.scale) + asum - mu_s
            else:
                v = np.broadcast_to(a, (len(last), m)).copy()
                base = asum - mu_s
                if space.mode is Mode.MIXED:
                    start = last + 1
                    ri = np.clip(r.astype(np.int64), 0, space.max_size)
                    lo = ys + space.lo[start, :, ri]
                    hi = ys + space.hi[start, :, ri]
                    gap = np.where(lo > 0, lo, np.where(hi < 0, -hi, 0.0))
                    base = base + np.nan_to_num((gap * gap).sum(axis=1), nan=np.inf) / (
                        s * space.scale)
            if pairs:
                v = v + ch["pj"]
            v = np.where(valid, v, np.inf)
            with np.errstate(over="ignore", invalid="ignore"):
                bound = np.nan_to_num(base + _knapsack_min(v, w, r, space.unit_w), nan=np.inf)
            live = bound <= thr + _SLACK
            if not live.any():
                continue
            rows, cols = np.nonzero(valid & live[:, None])
            if len(rows) == 0:
                continue
            c_w = wsum[rows] + w[cols]
            c_ys = ys[rows] + space.y[cols]
            c_qs = qs[rows] + space.q[cols]
            c_a = asum[rows] + a[cols]
            c_mask = ch["mask"][rows] | space.bits[cols]
            if pairs:
                c_a = c_a + ch["pj"][rows, cols]
            done = np.abs(c_w - s) < 1e-9
            if done.any():
                rc = space.cost(c_w[done], c_ys[done], c_qs[done]) + c_a[done] - mu
                ok = rc <= thr + _SLACK
                if ok.any():
                    found.masks.extend(int(x) for x in c_mask[done][ok])
                    found.rcs.extend(float(x) for x in rc[ok])
                    if max_columns is not None and len(found.rcs) > max_columns:
                        raise SearchLimit("column limit")
                    if keep is not None and len(found.rcs) >= keep:
                        order = np.argsort(found.rcs)[:keep]
                        found.masks = [found.masks[i] for i in order]
                        found.rcs = [found.rcs[i] for i in order]
                        thr = min(thr, found.rcs[-1])
                    if stop_after is not None and len(found.rcs) >= stop_after:
                        found.complete = False
                        return found
            more = ~done
            if more.any():
                nxt = dict(last=cols[more], wsum=c_w[more], ys=c_ys[more], qs=c_qs[more],
                           asum=c_a[more], mask=c_mask[more],
                           forbid=(ch["forbid"][rows] | space.apart_mask[cols])[more])
                if pairs:
                    nxt["pj"] = (ch["pj"][rows] + space.pairs[cols])[more]
                stack.append(nxt)
    return found
