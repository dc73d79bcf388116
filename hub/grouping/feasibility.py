"""Deciding whether the hard constraints can hold at all, and naming the clash when not.

The quick checks in :mod:`hub.grouping.problem` catch the common clashes with a tailored
message. What they miss (three students who must all be apart with two groups, say) is
decided here by a small assignment model in HiGHS, and narrowed by a deletion filter: drop
each constraint in turn and keep it out if the rest still clash, leaving a minimal set of
constraints that cannot hold together.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hub.grouping import highs
from hub.grouping.errors import InfeasibleGroupingError
from hub.grouping.model import ClassData, Constraints, Options
from hub.grouping.problem import Problem, build_problem
from stations.text import Text


def feasible_assignment(p: Problem, time_limit: float = 30.0,
                        cost: np.ndarray | None = None) -> np.ndarray | None:
    """Some unit assignment meeting every hard constraint, or None if there is none.

    With ``cost`` (units x groups, linear) the one of least cost: ``p.lin`` gives the
    assignment that moves the fewest students.
    """
    g = p.n_groups
    h = highs.new_model(time_limit)
    # Rows: one per unit (placed once), one per group (size range), then keep-apart rows.
    pairs = np.argwhere(np.triu(p.apart, 1))
    apart_rows = [(int(u), int(v), k) for u, v in pairs for k in range(g)
                  if p.allowed[u, k] and p.allowed[v, k]]
    lower = [1.0] * p.n_units + [float(p.min_size)] * g + [0.0] * len(apart_rows)
    upper = [1.0] * p.n_units + [float(p.max_size)] * g + [1.0] * len(apart_rows)
    highs.add_rows(h, lower, upper)
    apart_of: dict[tuple[int, int], list[int]] = {}
    for r, (u, v, k) in enumerate(apart_rows):
        row = p.n_units + g + r
        apart_of.setdefault((u, k), []).append(row)
        apart_of.setdefault((v, k), []).append(row)
    cols, rows, vals = [], [], []
    for u in range(p.n_units):
        for k in range(g):
            if p.allowed[u, k]:
                cols.append((u, k))
                r = [u, p.n_units + k, *apart_of.get((u, k), [])]
                rows.append(r)
                vals.append([1.0, float(p.weight[u])] + [1.0] * (len(r) - 2))
    costs = [0.0] * len(cols) if cost is None else [float(cost[u, k]) for u, k in cols]
    highs.add_cols(h, costs, rows, upper=1.0, values=vals)
    highs.make_integer(h)
    if cost is not None:
        h.setOptionValue("mip_rel_gap", 0.0)
    h.run()
    if highs.status(h) != "Optimal":
        if highs.status(h) == "Infeasible":
            return None
        raise InfeasibleGroupingError(Text(
            "could not decide within %(seconds).0f s whether the constraints can all hold "
            "(%(status)s); try removing some", seconds=time_limit, status=highs.status(h)))
    x = np.asarray(h.getSolution().col_value)
    assign = np.full(p.n_units, -1, dtype=np.int64)
    for (u, k), value in zip(cols, x, strict=True):
        if value > 0.5:
            assign[u] = k
    return assign


def _items(c: Constraints) -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = []
    items += [("keep_apart", pair) for pair in c.keep_apart]
    items += [("keep_together", group) for group in c.keep_together]
    items += [("pinned", (sid, k)) for sid, k in c.pinned.items()]
    items += [("not_in", (sid, k)) for sid, ks in c.not_in.items() for k in ks]
    return items


def _constraints(base: Constraints, items: list[tuple[str, object]]) -> Constraints:
    pinned: dict[str, int] = {}
    not_in: dict[str, tuple[int, ...]] = {}
    apart, together = [], []
    for kind, value in items:
        if kind == "keep_apart":
            apart.append(value)
        elif kind == "keep_together":
            together.append(value)
        elif kind == "pinned":
            sid, k = value  # type: ignore[misc]
            pinned[sid] = k
        else:
            sid, k = value  # type: ignore[misc]
            not_in[sid] = (*not_in.get(sid, ()), k)
    return replace(base, keep_apart=tuple(apart), keep_together=tuple(together),  # type: ignore[arg-type]
                   pinned=pinned, not_in=not_in)


def _describe(cls: ClassData, kind: str, value: object) -> str:
    def name(sid: str) -> str:
        try:
            return cls.student(sid).label
        except KeyError:
            return sid
    if kind == "keep_apart":
        a, b = value  # type: ignore[misc]
        return Text("keep %(a)s and %(b)s apart", a=name(a), b=name(b))
    if kind == "keep_together":
        return Text("keep %(names)s together",
                    names=", ".join(name(s) for s in value))  # type: ignore[attr-defined]
    sid, k = value  # type: ignore[misc]
    if kind == "pinned":
        return Text("%(name)s in group %(group)d", name=name(sid), group=k)
    return Text("%(name)s not in group %(group)d", name=name(sid), group=k)


def _feasible(cls: ClassData, c: Constraints, options: Options) -> bool:
    try:
        p = build_problem(cls, c, options)
    except InfeasibleGroupingError:
        return False
    return feasible_assignment(p) is not None


def infeasibility_error(cls: ClassData, c: Constraints,
                        options: Options) -> InfeasibleGroupingError:
    """The error for constraints already known to clash, naming a minimal clashing set."""
    items = _items(c)
    if not _feasible(cls, _constraints(c, []), options):
        return InfeasibleGroupingError(Text("the group count and size range cannot hold for "
                                            "this class"))
    keep = list(items)
    for item in items:
        trial = [i for i in keep if i is not item]
        if not _feasible(cls, _constraints(c, trial), options):
            keep = trial
    words = tuple(_describe(cls, kind, value) for kind, value in keep)
    groups = Text("%(groups)d groups", groups=c.groups) if c.groups else Text("the group sizes")
    return InfeasibleGroupingError(
        Text("these constraints cannot all hold with %(groups)s: %(constraints)s",
             groups=groups, constraints=Text.joined("; ", words)), words)

