"""Grouping engine: the heuristic against the proven optimum and two baselines.

Seeded synthetic classes of 12, 24, 30 and 36 students (``hub.grouping.synthetic``) of two
kinds, each with two keep-apart pairs, a keep-together pair, one student pinned to group 1 and
one kept out of it:

* even: three 0-100 standards of similar spread, ~4% of scores missing at random; group sizes
  as even as possible (fixed);
* uneven: standards of different spread (about 6, 15 and 25 points) and scale (a 1-4
  rubric), a few students missing one or two scores and one (at 24+) with none; group sizes
  in a range (one below to two above the even size), so interest mode's size balance counts.

For each class and mode it reports:

* the heuristic's objective and time (median of 3 runs, seed 0: wall clock, and the process's
  CPU time, which other work on a shared machine does not inflate);
* the exact method's objective, whether optimality was proven (LP bound, columns kept
  after reduced-cost pruning, time), or the best solution and bound where not;
* the gap: skill, % above the optimum; mixed, the excess as % of the class's total spread
  (which is n in the engine's normalised units), and also as % above the optimum; interest,
  preference steps (and balance) beyond the optimum as % of the class;
* the same gap for two baselines that respect the hard constraints but ignore the objective:
  random balanced assignment and sort-then-chunk (by mean score, or by first choice).

    python bench/grouping.py [--sizes 12,24,30,36] [--kinds even,uneven] [--class-seed 1]
                             [--time-limit 300] [--json]

With ``--json`` the last line is one JSON object with mean_gap_percent, worst_gap_percent,
max_time_ms_36 (wall), max_cpu_ms_36, max_exact_s_36, hard_violations, load, baselines{...}
and every row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.grouping.exact import solve_exact
from hub.grouping.model import ClassData, Constraints, Mode, Options
from hub.grouping.problem import Problem, build_problem
from hub.grouping.solve import heuristic_assignment
from hub.grouping.synthetic import synthetic_class, synthetic_constraints

GROUPS = {12: 3, 24: 4, 30: 5, 36: 6}
KINDS = ("even", "uneven")


def bench_class(n: int, kind: str, class_seed: int) -> tuple[ClassData, Constraints]:
    """A benchmark class and its constraints (no previous groups)."""
    cls = synthetic_class(n, seed=class_seed, uneven=kind == "uneven")
    c = synthetic_constraints(cls, GROUPS[n], seed=class_seed, previous=False)
    if kind == "uneven":
        size = n // GROUPS[n]
        c = replace(c, min_size=size - 1, max_size=size + 2)
    return cls, c


def gap(p: Problem, value: float, optimum: float) -> float:
    """The target's gap: skill % above the optimum, mixed and interest % of n."""
    if p.mode is Mode.SKILL:
        return above(value, optimum)
    return 100.0 * (value - optimum) / p.n  # spread and class size are both n here


def above(value: float, optimum: float) -> float:
    """% above the optimum (0 when both are 0)."""
    return 100.0 * (value - optimum) / optimum if optimum > 1e-12 else 0.0


def _place(p: Problem, order: list[int], pick_random: np.random.Generator | None) -> np.ndarray:
    g = p.n_groups
    assign = np.full(p.n_units, -1)
    size = np.zeros(g)
    remaining = float(p.weight.sum())
    for u in order:
        w = p.weight[u]
        remaining -= w
        deficit = np.maximum(p.min_size - size, 0)
        ok = [k for k in range(g) if p.allowed[u, k] and size[k] + w <= p.max_size
              and not any(p.apart[u, v] and assign[v] == k for v in range(p.n_units))
              and (deficit.sum() - min(deficit[k], w)) <= remaining]
        if not ok:
            raise RuntimeError("baseline could not place a unit")
        k = int(pick_random.choice(ok)) if pick_random is not None else ok[0]
        assign[u] = k
        size[k] += w
    return assign


def random_balanced(p: Problem, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Most constrained first so that the random fill never paints itself in.
    order = sorted(rng.permutation(p.n_units).tolist(),
                   key=lambda u: (p.allowed[u].sum(), -p.apart[u].sum(), -p.weight[u]))
    return _place(p, order, rng)


def sort_then_chunk(p: Problem) -> np.ndarray:
    if p.mode is Mode.INTEREST:
        key = [float(np.argmin(p.topic_cost[u])) for u in range(p.n_units)]
    else:
        key = [float((p.ysum[u] / p.weight[u]).mean()) for u in range(p.n_units)]
    order = sorted(range(p.n_units), key=lambda u: key[u])
    g = p.n_groups
    # Chunk: fill group 1, then 2, ...; constrained units go where they may.
    assign = np.full(p.n_units, -1)
    size = np.zeros(g)
    target = np.full(g, p.n // g) + (np.arange(g) < p.n % g)
    for u in order:
        ok = [k for k in range(g) if p.allowed[u, k] and size[k] + p.weight[u] <= target[k]
              and not any(p.apart[u, v] and assign[v] == k for v in range(p.n_units))]
        if not ok:
            ok = [k for k in range(g) if p.allowed[u, k] and size[k] + p.weight[u] <= p.max_size
                  and not any(p.apart[u, v] and assign[v] == k for v in range(p.n_units))]
        if not ok:
            return random_balanced(p, 0)
        assign[u] = ok[0]
        size[ok[0]] += p.weight[u]
    if p.violations(assign):
        return random_balanced(p, 0)
    return assign


def run(sizes: list[int], time_limit: float, class_seed: int = 1,
        kinds: tuple[str, ...] = KINDS) -> dict:
    rows = []
    for kind in kinds:
        for n in sizes:
            for mode in Mode:
                rows.append(_row(n, kind, mode, class_seed, time_limit))
    gaps = [r["gap_percent"] for r in rows]
    at36 = [r for r in rows if r["n"] == 36]
    return dict(
        mean_gap_percent=statistics.mean(gaps), worst_gap_percent=max(gaps),
        mixed_worst_above_optimum_percent=max(
            (r["above_optimum_percent"] for r in rows if r["mode"] == "mixed"), default=None),
        max_time_ms_36=max((r["heuristic_ms"] for r in at36), default=None),
        max_cpu_ms_36=max((r["heuristic_cpu_ms"] for r in at36), default=None),
        max_exact_s_36=max((r["exact_s"] for r in at36), default=None),
        hard_violations=sum(r["hard_violations"] for r in rows),
        class_seed=class_seed, load=os.getloadavg()[0],
        all_proven=all(r["proven"] for r in rows),
        baselines={
            "random_balanced": dict(
                mean_gap_percent=statistics.mean(r["random_gap_percent"] for r in rows),
                worst_gap_percent=max(r["random_gap_percent"] for r in rows)),
            "sort_then_chunk": dict(
                mean_gap_percent=statistics.mean(r["chunk_gap_percent"] for r in rows),
                worst_gap_percent=max(r["chunk_gap_percent"] for r in rows))},
        rows=rows)


def _row(n: int, kind: str, mode: Mode, class_seed: int, time_limit: float) -> dict:
    cls, c = bench_class(n, kind, class_seed)
    options = Options(mode=mode, seed=0)
    p = build_problem(cls, c, options)
    times, cpu = [], []
    for _ in range(3):
        t, t_cpu = time.perf_counter(), time.process_time()
        heur = heuristic_assignment(p, cls, c, options)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - t_cpu)
    h = p.evaluate_units(heur)[0]
    exact = solve_exact(p, heur, time_limit=time_limit)
    rnd = statistics.mean(p.evaluate_units(random_balanced(p, s))[0] for s in range(5))
    chunk = p.evaluate_units(sort_then_chunk(p))[0]
    violations = len(p.violations(heur)) + len(p.violations(exact.assign))
    sizes = np.bincount(p.student_labels(heur), minlength=p.n_groups)
    return dict(
        n=n, kind=kind, mode=mode.value, groups=p.n_groups,
        size_range=[p.min_size, p.max_size], heuristic_sizes=sorted(sizes.tolist()),
        heuristic=h, heuristic_ms=1000 * statistics.median(times),
        heuristic_cpu_ms=1000 * statistics.median(cpu), optimum=exact.objective,
        proven=exact.proven, bound=exact.bound, lp_bound=exact.lp_bound,
        columns=exact.columns_enumerated, exact_s=exact.seconds,
        gap_percent=gap(p, h, exact.objective),
        above_optimum_percent=above(h, exact.objective),
        random_gap_percent=gap(p, rnd, exact.objective),
        chunk_gap_percent=gap(p, chunk, exact.objective),
        hard_violations=violations, note=exact.note)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="12,24,30,36")
    ap.add_argument("--kinds", default=",".join(KINDS), help="even, uneven or both")
    ap.add_argument("--time-limit", type=float, default=300.0,
                    help="exact method's limit per class, seconds")
    ap.add_argument("--class-seed", type=int, default=1,
                    help="seed of the synthetic classes (the table in bench/README.md uses 1)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        ap.error(f"unknown class kind {unknown[0]!r}: use even, uneven or both")
    load = os.getloadavg()[0]
    result = run([int(s) for s in args.sizes.split(",")], args.time_limit, args.class_seed,
                 kinds)
    print(f"load average at start {load:.2f}, at end {result['load']:.2f}")
    print(f"{'kind':<7}{'n':>3} {'mode':<9}{'sizes':>6}{'heuristic':>10}{'optimum':>10} "
          f"{'proof':<7}{'LP bound':>10}{'cols':>7}{'exact s':>8}{'heur ms':>8}{'cpu ms':>7}"
          f"{'gap %':>7}"
          f"{'>opt %':>8}{'random %':>9}{'chunk %':>8}")
    for r in result["rows"]:
        proof = "proven" if r["proven"] else "BOUND"
        lo, hi = r["size_range"]
        print(f"{r['kind']:<7}{r['n']:>3} {r['mode']:<9}{f'{lo}-{hi}':>6}{r['heuristic']:>10.4f}"
              f"{r['optimum']:>10.4f} {proof:<7}{r['lp_bound']:>10.4f}{r['columns']:>7}"
              f"{r['exact_s']:>8.2f}{r['heuristic_ms']:>8.1f}{r['heuristic_cpu_ms']:>7.1f}"
              f"{r['gap_percent']:>7.2f}"
              f"{r['above_optimum_percent']:>8.2f}{r['random_gap_percent']:>9.1f}"
              f"{r['chunk_gap_percent']:>8.1f}")
    b = result["baselines"]

    def fmt(value: float | None, spec: str) -> str:
        return "n/a" if value is None else format(value, spec)
    print(f"heuristic gap: mean {result['mean_gap_percent']:.3f}%, worst "
          f"{result['worst_gap_percent']:.3f}% (mixed: % of spread; mixed above the optimum: "
          f"worst {fmt(result['mixed_worst_above_optimum_percent'], '.1f')}%); at 36 students: "
          f"heuristic {fmt(result['max_time_ms_36'], '.1f')} ms "
          f"({fmt(result['max_cpu_ms_36'], '.1f')} ms CPU), exact "
          f"{fmt(result['max_exact_s_36'], '.1f')} s; hard violations: "
          f"{result['hard_violations']}; all proven: {result['all_proven']}")
    print(f"random balanced: mean {b['random_balanced']['mean_gap_percent']:.1f}%, worst "
          f"{b['random_balanced']['worst_gap_percent']:.1f}%; sort-then-chunk: mean "
          f"{b['sort_then_chunk']['mean_gap_percent']:.1f}%, worst "
          f"{b['sort_then_chunk']['worst_gap_percent']:.1f}%")
    if args.json:
        print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
