"""The exact reference method: set partitioning over feasible groups, proven optimal.

Model: one binary column per (group, family), where a family is a distinguished group number
(pinned students or previous groups make group numbers matter) or "one of the interchangeable
groups", and in interest mode also an activity. Rows: every unit exactly once, every
distinguished group number exactly once, and the interchangeable groups as many times as there
are. A column's cost is its group's mode cost (with interest mode's size balance) plus its
students' stability costs and the pair-history costs inside it.

1. **LP bound by column generation.** Start from the heuristic's groups, solve the LP
   relaxation with HiGHS, and price new columns with the exact enumeration in
   :mod:`hub.grouping.enumerate` until none has negative reduced cost. The Lagrangian bound
   ``LB = duals' objective + each row group's least reduced cost`` is then a proven lower bound.
2. **Pruning by reduced cost.** A group whose reduced cost exceeds its family's least reduced
   cost by more than ``UB - LB`` (UB: the heuristic's objective) cannot be in any solution
   better than the heuristic's, so only the groups under that threshold are enumerated.
3. **Integer program.** HiGHS solves the set-partitioning MIP over those groups (plus the
   heuristic's own). Its optimum is the proven optimum of the whole problem.

Interest mode has two shortcuts, both exact. Its set-partitioning LP bound is loose (whole-number
preference costs, many groups of equal cost), so first the activity-plan bound of
:mod:`hub.grouping.plans` is computed (it includes the size balance): an incumbent that meets
it is optimal and nothing else is solved. Otherwise, when objective values lie on a grid (no
stability or pair costs), only groupings at least one grid step better than the incumbent can
matter, which shrinks the pruning gap of step 2 by that step: 1 when the sizes are fixed
(preference costs are whole numbers), else the balance weight lambda (two values with the same
preference cost differ by at least lambda, and with different ones by at least
``1 - lambda * (S2max - S2min) = lambda``).

This is the standard route for clustering with size constraints (du Merle, Hansen, Jaumard and
Mladenovic, "An interior point algorithm for minimum sum-of-squares clustering", 1999; Aloise,
Hansen and Liberti, "An improved column generation algorithm for minimum sum-of-squares
clustering", 2012). A compact assignment model (student x group binaries, in CP-SAT or a MIP)
has an LP/propagation bound near zero for these objectives and proves nothing at 24-36
students; the set-partitioning LP bound is tight, usually within a fraction of a percent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hub.grouping import highs
from hub.grouping.enumerate import Found, GroupSpace, SearchLimit, enumerate_groups
from hub.grouping.model import Mode
from hub.grouping.plans import rank_plans
from hub.grouping.problem import Problem

log = logging.getLogger(__name__)

_TOL = 1e-7


@dataclass(frozen=True, slots=True)
class ExactResult:
    assign: np.ndarray
    objective: float
    #: Proven lower bound on the optimum (equal to objective when proven).
    bound: float
    proven: bool
    lp_bound: float
    columns_enumerated: int
    lp_iterations: int
    seconds: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class _Family:
    row: int  # label row index, or the free row
    label: int | None  # distinguished group (0-based) or None for interchangeable groups
    topic: int | None
    lin: np.ndarray  # (U,) linear cost of each unit in this family
    allowed: np.ndarray  # (U,) bool


class _Model:
    def __init__(self, p: Problem) -> None:
        self.p = p
        self.space = GroupSpace(p)
        g = p.n_groups
        self.dist = sorted(p.distinguished)
        self.free = [k for k in range(g) if k not in p.distinguished]
        self.n_rows = p.n_units + len(self.dist) + (1 if self.free else 0)
        topics: list[int | None] = (list(range(len(p.topics))) if p.mode is Mode.INTEREST
                                    else [None])
        fams = []
        for r, k in enumerate(self.dist):
            fams += [self._family(p.n_units + r, k, k, t) for t in topics]
        if self.free:
            fams += [self._family(self.n_rows - 1, None, self.free[0], t) for t in topics]
        self.families = fams
        self.sizes = range(p.min_size, p.max_size + 1)
        self.rhs = np.ones(self.n_rows)
        if self.free:
            self.rhs[-1] = len(self.free)
        self.columns: dict[tuple[int, int], float] = {}  # (mask, family) -> cost

    def _family(self, row: int, label: int | None, like: int, topic: int | None) -> _Family:
        p = self.p
        # The pairs inside a keep-together set are paid wherever it goes: a unit's own cost.
        lin = p.lin[:, like] + p.pair_within
        if topic is not None:
            lin = lin + p.topic_cost[:, topic]
        return _Family(row, label, topic, lin, p.allowed[:, like].copy())

    def cost(self, mask: int, f: int) -> float:
        fam = self.families[f]
        units = self.space.members(mask)
        size = self.space.w[units].sum()
        mode = self.space.cost(np.array([size]), self.space.y[units].sum(axis=0)[None],
                               np.array([self.space.q[units].sum()]))[0]
        return float(mode + fam.lin[units].sum() + self.space.pair_cost(units))

    def incumbent_columns(self, assign: np.ndarray) -> list[tuple[int, int]]:
        out = []
        for k in range(self.p.n_groups):
            units = np.nonzero(assign == k)[0]
            mask = int(np.bitwise_or.reduce(self.space.bits[units]))
            fams = [f for f, fam in enumerate(self.families)
                    if fam.label == k or (fam.label is None and k in self.free)]
            # In interest mode the group takes whichever activity suits it best.
            best = min(fams, key=lambda f: (self.cost(mask, f), f))
            out.append((mask, best))
        return out

    def column_rows(self, mask: int, f: int) -> list[int]:
        return [*self.space.members(mask), self.families[f].row]


#: Called with a line of progress as the exact method goes (its stages take seconds).
Progress = Callable[[str], None]


def solve_exact(p: Problem, incumbent: np.ndarray, time_limit: float = 120.0,
                max_columns: int = 400_000, progress: Progress | None = None) -> ExactResult:
    """Prove the optimum (or bound it, if a limit is hit first) starting from ``incumbent``."""
    say = progress or (lambda text: None)
    t0 = time.monotonic()
    deadline = t0 + time_limit
    model = _Model(p)
    ub = p.evaluate_units(incumbent)[0]
    if p.mode is Mode.INTEREST:
        # The activity-plan relaxation bounds interest groupings from below, often tightly
        # where the set-partitioning LP is loose; an incumbent that meets it is optimal.
        floor = rank_plans(p, keep=1, max_solves=None).floor
        if ub <= floor + 1e-9 * max(1.0, abs(ub)):
            return ExactResult(assign=incumbent.copy(), objective=ub, bound=ub, proven=True,
                               lp_bound=floor, columns_enumerated=0, lp_iterations=0,
                               seconds=time.monotonic() - t0,
                               note="meets the activity-plan bound")
    inc_cols = model.incumbent_columns(incumbent)
    for mask, f in inc_cols:
        model.columns[(mask, f)] = model.cost(mask, f)

    # --- 1. column generation ------------------------------------------------------------------
    h = highs.new_model()
    highs.add_rows(h, model.rhs, model.rhs)
    order = list(model.columns)
    highs.add_cols(h, [model.columns[c] for c in order],
                   [model.column_rows(*c) for c in order])
    iterations = 0
    lb = -np.inf
    lp_value = -np.inf
    complete = False  # partial pricing until it finds nothing, then one complete round
    try:
        while True:
            iterations += 1
            say(f"LP bound: round {iterations}, {len(order)} candidate groups")
            h.run()
            if highs.status(h) != "Optimal":
                raise RuntimeError(f"LP relaxation: {highs.status(h)}")
            lp_value = float(h.getInfo().objective_function_value)
            duals = np.asarray(h.getSolution().row_dual)
            pi = duals[:p.n_units]
            new: list[tuple[int, int]] = []
            row_min: dict[int, float] = {}
            for f, fam in enumerate(model.families):
                found = enumerate_groups(model.space, fam.lin - pi, fam.allowed,
                                         float(duals[fam.row]), model.sizes, -_TOL, keep=30,
                                         stop_after=None if complete else 30,
                                         deadline=deadline)
                # A complete search found every column under -tol, so its least is exact,
                # and -tol bounds the family when it found none.
                least = found.min_rc() if found.rcs else -_TOL
                row_min[fam.row] = min(row_min.get(fam.row, np.inf),
                                       least if found.complete else -np.inf)
                new += [(mask, f) for mask in found.masks if (mask, f) not in model.columns]
            if all(np.isfinite(v) for v in row_min.values()):
                lb = max(lb, _lagrangian(model, duals, row_min))
            if not new:
                if complete:
                    break
                complete = True
                continue
            complete = False
            for c in new:
                model.columns[c] = model.cost(*c)
            highs.add_cols(h, [model.columns[c] for c in new],
                           [model.column_rows(*c) for c in new])
            order += new
    except SearchLimit as err:
        return _unproven(p, incumbent, ub, lb, lp_value, iterations, t0, f"LP: {err}")
    log.debug("exact: LP %.6f after %d rounds, %d columns", lp_value, iterations, len(order))

    # --- 2. enumerate every column that could beat the incumbent ----------------------------------
    say(f"LP bound {lb:.4f} against {ub:.4f}: listing the groups that could do better")
    # The threshold must use the bound of the same duals it prices with.
    final_lb = _lagrangian(model, duals, row_min)
    # Only groupings strictly better than the incumbent matter, and when objective values
    # lie on a grid (interest mode without stability or pair costs) "better" means at least
    # one step lower: the pruning gap shrinks by that step, often to nothing when it is 1,
    # since the LP bound of integral preference costs is typically a whole number below the
    # optimum.
    step = _objective_step(p)
    gap = max(ub - step - final_lb, -step) + 1e-9 * max(1.0, abs(ub))
    pool: dict[tuple[int, int], float] = {c: model.columns[c] for c in inc_cols}
    try:
        for f, fam in enumerate(model.families):
            a = fam.lin - pi
            found: Found = enumerate_groups(
                model.space, a, fam.allowed, float(duals[fam.row]), model.sizes,
                row_min[fam.row] + gap, max_columns=max_columns - len(pool), deadline=deadline)
            for mask in found.masks:
                pool[(mask, f)] = model.cost(mask, f)
    except SearchLimit as err:
        return _unproven(p, incumbent, ub, lb, lp_value, iterations, t0,
                         f"enumeration: {err}")

    # --- 3. set-partitioning MIP over the surviving columns -------------------------------------
    say(f"choosing among {len(pool)} candidate groups")
    mip = highs.new_model(max(deadline - time.monotonic(), 1.0))
    highs.add_rows(mip, model.rhs, model.rhs)
    keys = list(pool)
    highs.add_cols(mip, [pool[c] for c in keys], [model.column_rows(*c) for c in keys],
                   upper=1.0)
    highs.make_integer(mip)
    mip.setOptionValue("mip_rel_gap", 0.0)
    mip.setOptionValue("mip_abs_gap", 1e-9)
    mip.run()
    if highs.status(mip) != "Optimal":
        return _unproven(p, incumbent, ub, lb, lp_value, iterations, t0,
                         f"MIP: {highs.status(mip)}")
    x = np.asarray(mip.getSolution().col_value)
    chosen = [keys[j] for j in np.nonzero(x > 0.5)[0]]
    assign = _assignment(model, chosen)
    objective = p.evaluate_units(assign)[0]
    if objective > ub:  # numerical noise only; the incumbent's columns are in the pool
        assign, objective = incumbent.copy(), ub
    return ExactResult(assign=assign, objective=objective, bound=objective, proven=True,
                       lp_bound=lb, columns_enumerated=len(pool), lp_iterations=iterations,
                       seconds=time.monotonic() - t0)


def _objective_step(p: Problem) -> float:
    """The least difference between two distinct objective values, if they lie on a grid."""
    if p.mode is not Mode.INTEREST or np.any(p.lin != 0) or p.has_pairs \
            or np.any(p.pair_within != 0):
        return 0.0
    if not np.all(p.topic_cost == np.round(p.topic_cost)):
        return 0.0
    return p.balance_weight if p.balance_weight else 1.0


def _lagrangian(model: _Model, duals: np.ndarray, row_min: dict[int, float]) -> float:
    value = float(duals @ model.rhs)
    for row, rc in row_min.items():
        value += model.rhs[row] * rc
    return value


def _assignment(model: _Model, chosen: list[tuple[int, int]]) -> np.ndarray:
    assign = np.full(model.p.n_units, -1, dtype=np.int64)
    free = iter(model.free)
    for mask, f in chosen:
        fam = model.families[f]
        k = fam.label if fam.label is not None else next(free)
        assign[model.space.members(mask)] = k
    return assign


def _unproven(p: Problem, incumbent: np.ndarray, ub: float, lb: float, lp_value: float,
              iterations: int, t0: float, note: str) -> ExactResult:
    log.info("exact: no proof (%s); best %.6f, bound %.6f", note, ub, lb)
    return ExactResult(assign=incumbent.copy(), objective=ub, bound=lb, proven=False,
                       lp_bound=lb, columns_enumerated=0, lp_iterations=iterations,
                       seconds=time.monotonic() - t0, note=note)
