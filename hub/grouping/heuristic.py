"""The hub's fast solver: seeded greedy starts and an iterated local search.

Each start (:mod:`hub.grouping.starts`) places units one by one in the feasible group where
they add least to the objective, then descends by best improvement until nothing improves
(:mod:`hub.grouping.neighbourhoods`). Every step scores the two cheap neighbourhoods in full,
moving one unit and swapping two; only when neither improves are the costlier ones tried:
relabelling two groups, trading a keep-together set for two units of its weight, and in
interest and skill modes ejection chains (the best cycle of single-student moves across groups,
found exactly in a small transfer graph, :mod:`hub.grouping.transfers`). The search then kicks
the solution (a few random swaps or trades, or every third round, when pins tie group numbers
to students, a swap of two whole groups) and descends again, keeping the best. Each start ends
by trying every keep-together set in every other group, and the best grouping found by
swapping each group tied to its number with every other group.

Interest mode starts from activity plans (how many groups each activity gets), since local
moves rarely change them: the plans whose exact relaxation (size balance included) costs least
(:mod:`hub.grouping.plans`). The least relaxed cost is also a proven lower bound, and the search
stops as soon as it reaches it. Pair history and stability costs are scored by every
neighbourhood like the mode's own cost (:mod:`hub.grouping.neighbourhoods`).

All moves are checked against every hard constraint before they are scored, so the search
never holds an infeasible grouping. The same seed always gives the same result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.grouping.model import Mode
from hub.grouping.neighbourhoods import SearchState, Shared
from hub.grouping.plans import rank_plans
from hub.grouping.problem import Problem
from hub.grouping.starts import (
    centre_cost,
    contiguous_centres,
    greedy_start,
    orient,
    start_order,
)

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class HeuristicSettings:
    starts: int = 3
    #: Kick-and-descend rounds per start.
    rounds: int = 30
    kick_size: int = 3
    #: When pins or exclusions tie group numbers to students, every this many rounds the
    #: kick swaps two whole groups instead (see ``SearchState.exchange``).
    exchange_every: int = 3


def solve_heuristic(p: Problem, seed: int = 0,
                    settings: HeuristicSettings | None = None) -> np.ndarray | None:
    """Best unit assignment found, or None if no greedy start was feasible."""
    settings = settings or HeuristicSettings()
    rng = np.random.default_rng(seed)
    best: np.ndarray | None = None
    best_cost = np.inf
    starts: list[tuple[np.ndarray, np.ndarray | None]] = []
    floor = -np.inf  # a proven lower bound: stop once it is reached
    if p.mode is Mode.INTEREST:
        # Local moves rarely change how many groups each activity gets, so the starts do:
        # the activity plans whose relaxed cost is least, tried in turn.
        ranked = rank_plans(p, settings.starts)
        floor = ranked.floor
        starts = [(start_order(p, rng, first=True), orient(p, p.topic_cost, plan))
                  for plan in ranked.plans]
    elif p.mode is Mode.SKILL:
        centres = contiguous_centres(p)
        if centres is not None:
            guide = orient(p, centre_cost(p, centres), np.ones(p.n_groups, dtype=np.int64))
            starts = [(_by_regret(p, guide), guide)]
    shared = Shared(p)
    found = 0
    # Greedy can paint itself into a corner under tight constraints; retry with other orders.
    for attempt in range(10 * settings.starts):
        if found == settings.starts or best_cost <= floor + _EPS:
            break
        # The first plain start (not in interest mode) places extreme students first; in
        # skill mode it comes after the contiguous split, in place of a random one.
        first = attempt == len(starts) and p.mode is not Mode.INTEREST
        order, guide = (starts[attempt] if attempt < len(starts)
                        else (start_order(p, rng, first=first), None))
        assign = greedy_start(p, order, guide)
        if assign is None:
            continue
        found += 1
        best_cost, best = _improve(p, assign, rng, settings, best_cost, best, shared, floor)
    if best is not None and p.distinguished and p.n_groups > 1 and best_cost > floor + _EPS:
        best = _exchange_groups(SearchState(p, best, shared), best_cost, floor).assign
    return best


def _by_regret(p: Problem, guide: np.ndarray) -> np.ndarray:
    """Most constrained first, then the units that lose most by not getting their best group."""
    srt = np.sort(guide, axis=1)
    regret = srt[:, 1] - srt[:, 0] if p.n_groups > 1 else np.zeros(p.n_units)
    return np.lexsort((-regret, -p.weight, -p.apart.sum(axis=1), p.allowed.sum(axis=1)))


def improve(p: Problem, assign: np.ndarray, seed: int = 0,
            settings: HeuristicSettings | None = None) -> np.ndarray:
    """Run the local search from a given feasible assignment."""
    settings = settings or HeuristicSettings()
    _, best = _improve(p, assign, np.random.default_rng(seed), settings, np.inf, None)
    assert best is not None
    return best


def _improve(p: Problem, assign: np.ndarray, rng: np.random.Generator,
             settings: HeuristicSettings, best_cost: float,
             best: np.ndarray | None,
             shared: Shared | None = None,
             floor: float = -np.inf) -> tuple[float, np.ndarray | None]:
    state = SearchState(p, assign, shared)
    state.descend()
    current = state.total()
    keep = state.copy()
    tied = bool(p.distinguished) and p.n_groups > 1
    for r in range(settings.rounds):
        if current <= floor + _EPS:
            break
        if tied and r % settings.exchange_every == settings.exchange_every - 1:
            if not state.exchange(rng):
                state = keep.copy()
                continue
        else:
            state.kick(rng, int(rng.integers(2, 2 * settings.kick_size + 1)))
        state.descend()
        cost = state.total()
        if cost <= current + _EPS:
            current, keep = cost, state.copy()
        else:
            state = keep.copy()
    current, keep = _relocate_sets(keep, current, floor)
    if current < best_cost - _EPS:
        return current, keep.assign
    return best_cost, best


def _exchange_groups(state: SearchState, current: float, floor: float) -> SearchState:
    """Swap each group tied to its number (pins, exclusions) with every other group, send the
    tied students back, descend, and keep the best while it improves.

    The group around a pinned student can take another group's activity or level only
    through such an exchange, and which pair to exchange matters: the kicks pick at random.
    """
    p = state.p
    pairs = [(k, j) for k in sorted(p.distinguished) for j in range(p.n_groups)
             if j != k and not (j in p.distinguished and j < k)]
    improved = True
    while improved and current > floor + _EPS:
        improved = False
        for k, j in pairs:
            trial = state.copy()
            if not trial.exchange(None, (k, j)):
                continue
            trial.descend()
            cost = trial.total()
            if cost < current - _EPS:
                current, state, improved = cost, trial, True
    return state


def _relocate_sets(state: SearchState, current: float, floor: float) -> tuple[float, SearchState]:
    """Try every keep-together set in every other group (by trade) and descend from there.

    A set can only move by trading places with smaller units, which usually costs something
    at first and pays only after the groups around it re-sort; single steps never see that.
    """
    p = state.p
    for _ in range(p.n_units):
        if current <= floor + _EPS:
            break
        best = None
        for u in state.sh.heavy:
            for b in range(p.n_groups):
                if b == state.assign[u] or not p.allowed[u, b]:
                    continue
                d, v, x = state.trade(int(u), into=b)
                if not np.isfinite(d):
                    continue
                trial = state.copy()
                au = int(trial.assign[u])
                trial.move(int(u), b)
                trial.move(v, au)
                trial.move(x, au)
                trial.descend()
                cost = trial.total()
                if cost < current - _EPS and (best is None or cost < best[0] - _EPS):
                    best = (cost, trial)
        if best is None:
            break
        current, state = best
    return current, state
