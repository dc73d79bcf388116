"""Transfer chains: negative cycles, the activity-plan relaxation, and the chain neighbourhood."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.grouping.model import ClassData, Constraints, Mode, Options, Student
from hub.grouping.neighbourhoods import SearchState
from hub.grouping.plans import rank_plans
from hub.grouping.problem import build_problem
from hub.grouping.synthetic import synthetic_class
from hub.grouping.transfers import best_cycle, relaxed_plan_cost


def all_cycles(w: np.ndarray) -> list[tuple[float, list[int]]]:
    n = w.shape[0]
    out = []
    for k in range(2, n + 1):
        for nodes in itertools.permutations(range(n), k):
            if nodes[0] != min(nodes):
                continue
            total = sum(w[a, b] for a, b in zip(nodes, nodes[1:] + nodes[:1], strict=True))
            out.append((total, list(nodes)))
    return out


@settings(max_examples=80, deadline=None, database=None)
@given(st.integers(2, 5), st.integers(0, 10_000))
def test_best_cycle_is_the_most_negative_cycle(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.integers(-3, 6, size=(n, n)).astype(float)
    w[rng.random((n, n)) < 0.2] = np.inf
    np.fill_diagonal(w, np.inf)
    gain, cycle = best_cycle(w)
    least = min((t for t, _ in all_cycles(w)), default=np.inf)
    if least < 0:
        assert gain == pytest.approx(least)
        assert len(set(cycle)) == len(cycle) >= 2
        assert sum(w[a, b] for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True)) \
            == pytest.approx(gain)
    else:
        assert (gain, cycle) == (0.0, [])


@settings(max_examples=60, deadline=None, database=None)
@given(st.integers(1, 7), st.integers(2, 3), st.integers(0, 10_000))
def test_relaxed_plan_cost_matches_brute_force(m: int, bins: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 4, size=(m, bins)).astype(float)
    lo = rng.integers(0, 3, size=bins)
    hi = lo + rng.integers(0, 3, size=bins)
    best = np.inf
    for where in itertools.product(range(bins), repeat=m):
        count = np.bincount(np.array(where), minlength=bins)
        if np.all(count >= lo) and np.all(count <= hi):
            best = min(best, float(cost[np.arange(m), list(where)].sum()))
    assert relaxed_plan_cost(cost, lo, hi) == best


@settings(max_examples=60, deadline=None, database=None)
@given(st.integers(1, 7), st.integers(2, 3), st.integers(0, 10_000))
def test_relaxed_plan_cost_with_convex_count_costs_matches_brute_force(m: int, bins: int,
                                                                      seed: int) -> None:
    # Interest mode's size balance: a bin's own cost grows convexly with its count, and can
    # make a bin worth leaving even when every item sits in its cheapest bin.
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 4, size=(m, bins)).astype(float)
    lo = rng.integers(0, 3, size=bins)
    hi = lo + rng.integers(0, 4, size=bins)
    steps = np.sort(rng.uniform(-1.0, 1.5, size=(bins, m + 1)), axis=1)  # rising marginals
    count_cost = np.concatenate([np.zeros((bins, 1)), np.cumsum(steps, axis=1)], axis=1)
    best = np.inf
    for where in itertools.product(range(bins), repeat=m):
        count = np.bincount(np.array(where), minlength=bins)
        if np.all(count >= lo) and np.all(count <= hi):
            best = min(best, float(cost[np.arange(m), list(where)].sum()
                                   + count_cost[np.arange(bins), count].sum()))
    assert relaxed_plan_cost(cost, lo, hi, count_cost) == pytest.approx(best, abs=1e-9)


def cyclic_class() -> tuple[ClassData, list[int]]:
    """Three groups of three where only a 3-cycle of moves helps (no swap or move does)."""
    spec = [("a", ("lego", "art")), ("a", ("lego", "art")), ("x", ("art", "lego")),
            ("b", ("art", "coding")), ("b", ("art", "coding")), ("y", ("coding", "art")),
            ("c", ("coding", "lego")), ("c", ("coding", "lego")), ("z", ("lego", "coding"))]
    students = tuple(Student(id=f"{kind}{i}", preferences=prefs)
                     for i, (kind, prefs) in enumerate(spec))
    return ClassData(students=students, standards=()), [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_chain_neighbourhood_finds_the_cycle_swaps_miss() -> None:
    cls, labels = cyclic_class()
    p = build_problem(cls, Constraints(groups=3), Options(mode=Mode.INTEREST))
    state = SearchState(p, p.unit_assignment(labels))
    assert state.total() == 3  # x, y and z each in their second choice
    for delta, valid in (state.moves(), state.swaps()):
        assert not (valid & (delta < -1e-9)).any()
    gain, moves = state.chain()
    assert gain == -3 and len(moves) == 3
    for u, b in moves:
        state.move(u, b)
    assert state.total() == 0
    assert not p.violations(state.assign)


def test_chain_may_bring_in_a_student_whose_keep_apart_partner_leaves() -> None:
    # x joins the art group exactly as y, whom x must be kept apart from, leaves it.
    cls, labels = cyclic_class()
    c = Constraints(groups=3, keep_apart=(("x2", "y5"),))
    p = build_problem(cls, c, Options(mode=Mode.INTEREST))
    state = SearchState(p, p.unit_assignment(labels))
    gain, moves = state.chain()
    assert gain == -3
    for u, b in moves:
        state.move(u, b)
    assert state.total() == 0
    assert not p.violations(state.assign)


def test_chain_never_breaks_a_keep_apart_pair() -> None:
    # Now x must be kept apart from b3, who stays in the art group: x cannot join it.
    cls, labels = cyclic_class()
    c = Constraints(groups=3, keep_apart=(("x2", "b3"),))
    p = build_problem(cls, c, Options(mode=Mode.INTEREST))
    state = SearchState(p, p.unit_assignment(labels))
    gain, moves = state.chain()
    for u, b in moves:
        state.move(u, b)
    assert not p.violations(state.assign)
    assert gain > -3


@settings(max_examples=25, deadline=None, database=None)
@given(st.integers(12, 36), st.integers(2, 6), st.integers(0, 10_000))
def test_plan_search_keeps_the_best_relaxed_plan(n: int, groups: int, seed: int) -> None:
    # The lower bound that cuts the plan search short must never cut the best plan.
    cls = synthetic_class(n, seed=seed)
    p = build_problem(cls, Constraints(groups=groups), Options(mode=Mode.INTEREST))
    t = len(p.topics)

    def relaxed(counts: np.ndarray) -> float:
        return relaxed_plan_cost(p.student_c, p.min_size * counts, p.max_size * counts)

    every = [np.bincount(np.array(c, dtype=np.int64), minlength=t)
             for c in itertools.combinations_with_replacement(range(t), groups)]
    best = min(relaxed(c) for c in every)
    ranked = rank_plans(p, keep=3, max_solves=None)
    plans = ranked.plans
    assert relaxed(plans[0]) == best
    assert ranked.floor == best
    assert all(c.sum() == groups for c in plans)
    assert [relaxed(c) for c in plans] == sorted(relaxed(c) for c in plans)


@settings(max_examples=10, deadline=None, database=None)
@given(st.integers(8, 10), st.integers(0, 10_000))
def test_activity_plan_floor_with_size_balance_is_a_lower_bound(n: int, seed: int) -> None:
    # With a size range the relaxation includes the most even split's balance cost. Without
    # pins or pairs kept apart every relaxed solution is a grouping (split each activity's
    # students evenly over its groups), so the floor is the optimum itself (by brute force).
    cls = synthetic_class(n, seed=seed)
    p = build_problem(cls, Constraints(groups=2, min_size=2, max_size=n - 2),
                      Options(mode=Mode.INTEREST))
    assert p.balance_weight > 0
    optimum = min(p.evaluate_units(np.array(a))[0]
                  for a in itertools.product(range(2), repeat=p.n_units)
                  if not p.violations(np.array(a)))
    floor = rank_plans(p, keep=1, max_solves=None).floor
    assert floor == pytest.approx(optimum, abs=1e-9)
