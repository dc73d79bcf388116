"""Compile a class, constraints and options into the numeric problem both solvers share.

The objective, lower is better, is a sum over groups plus per-student and per-pair terms:

* skill: the within-group sum of squared distances between each student's standardised scores
  (on the chosen standards, :mod:`hub.grouping.features`) and the group mean, i.e. how
  different the students in a group are;
* mixed: the sum over groups of ``size * |group mean - class mean|^2``, i.e. how far each
  group's mix is from the class's. Skill plus mixed cost is the class's total spread, so mixed
  mode is exactly "as spread out as the class" and skill mode "as alike as possible";
* interest: for each student, how far down their preference list the group's activity is
  (0 first choice, 1 second, 2 third, 3 not listed), plus the groups' size balance
  ``lambda * sum_k (size_k - n/G)^2`` (less a constant, so the most even sizes cost 0) with
  ``lambda = 1 / (S2max - S2min + 1)`` where S2 is the sum of squared sizes over the size range
  allowed: the whole balance term stays below one preference step, so preferences come first
  and size balance decides between groupings with the same preference cost (lexicographic).
  When the sizes are fixed (the size range is one student wide) the term is constant and off;
* pair history: ``recent_pairs[{i, j}]`` for every pair of students sharing a group again;
* stability: ``stability_weight`` per student who is not in the group they were in last time;
  with ``fewest_moves`` the weight is one more than any difference the other terms can make
  (so moving fewer students always wins, and the objective decides among the rest).

Score costs are divided by the class's mean squared distance from the class mean (its spread
per student), so a cost of 1 is "one average student's worth of spread", the class's total
spread is n, and the stability and pair weights mean the same thing in every mode and class.

Keep-together sets are merged into *units* that both solvers move as one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hub.grouping.errors import ConstraintsError, InfeasibleGroupingError
from hub.grouping.features import UNLISTED_COST, interest_costs, score_features
from hub.grouping.model import ClassData, Constraints, Mode, Options
from stations.text import Text


@dataclass(frozen=True, eq=False)
class Problem:
    mode: Mode
    ids: tuple[str, ...]
    names: tuple[str, ...]
    n_groups: int
    min_size: int
    max_size: int
    #: Student indices of each unit (keep-together sets merged, everyone else alone).
    units: tuple[tuple[int, ...], ...]
    unit_of: np.ndarray  # (n,) each student's unit
    weight: np.ndarray  # (U,) students per unit
    ysum: np.ndarray  # (U, d) sum of the unit's centred features
    qsum: np.ndarray  # (U,) sum of the unit's squared feature norms
    topic_cost: np.ndarray  # (U, T) interest cost of each activity, summed over the unit
    topics: tuple[str, ...]
    lin: np.ndarray  # (U, G) stability cost of putting the unit in each group
    allowed: np.ndarray  # (U, G) bool: pins and exclusions
    apart: np.ndarray  # (U, U) bool: units that must not share a group
    #: Groups that pins or previous groups make distinct; the others are interchangeable.
    distinguished: frozenset[int]
    scale: float
    features: tuple[str, ...]
    n_standards: int  # the first n_standards features are standards, the rest reflections
    x: np.ndarray  # (n, d) standardised student features, for ordering and explanations
    shown: np.ndarray  # (n, d) the same in the teacher's units, estimates filled in
    estimated: np.ndarray  # (n, d) bool: estimated score or assumed feature
    no_scores: np.ndarray  # (n,) bool: no score at all, placed at the class mean
    student_y: np.ndarray  # (n, d) centred student features
    student_c: np.ndarray  # (n, T) interest cost of each activity per student
    prev_label: np.ndarray  # (n,) previous group (0-based) or -1
    stability_weight: float  # per student moved (the lexicographic weight with fewest_moves)
    fewest_moves: bool
    #: Interest size balance: ``balance_weight * ((size - mean_size)^2 - balance_offset)``
    #: per group; 0 when sizes are fixed or in other modes.
    balance_weight: float
    mean_size: float
    balance_offset: float
    student_pairs: np.ndarray  # (n, n) symmetric pair-history cost, zero diagonal
    pairs: np.ndarray  # (U, U) the same summed over units, zero diagonal
    pair_within: np.ndarray  # (U,) pair-history cost inside each unit (always paid)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def has_pairs(self) -> bool:
        return bool(self.pairs.any())

    def size_cost(self, size: np.ndarray) -> np.ndarray:
        """Interest mode's size-balance cost of groups of these sizes (0 for even sizes)."""
        return self.balance_weight * ((size - self.mean_size) ** 2 - self.balance_offset)

    def mode_cost(self, size: np.ndarray, ysum: np.ndarray, qsum: np.ndarray,
                  csum: np.ndarray) -> np.ndarray:
        """Mode cost of groups given their sums; works over any leading array shape."""
        if self.mode is Mode.INTEREST:
            pref = csum.min(axis=-1) if csum.shape[-1] else np.zeros(np.shape(size))
            return pref + self.size_cost(size) if self.balance_weight else pref
        # An empty group has a zero sum, so dividing by max(size, 1) gives it cost 0.
        between = (ysum * ysum).sum(axis=-1) / np.maximum(size, 1)
        if self.mode is Mode.SKILL:
            return (qsum - between) / self.scale
        return between / self.scale

    def unit_assignment(self, labels: Sequence[int]) -> np.ndarray:
        """Per-unit labels from per-student labels (all members share one label)."""
        return np.array([labels[u[0]] for u in self.units], dtype=np.int64)

    def evaluate_units(self, assign: np.ndarray) -> tuple[float, float]:
        """(total objective, mode part) of a unit assignment to groups 0..G-1."""
        return self.evaluate_students(self.student_labels(assign))

    def student_labels(self, assign: np.ndarray) -> np.ndarray:
        return np.asarray(assign, dtype=np.int64)[self.unit_of]

    def evaluate_students(self, labels: np.ndarray) -> tuple[float, float]:
        """(total objective, mode part) of per-student groups 0..G-1 (any constraints)."""
        g = int(max(self.n_groups, labels.max() + 1))
        size = np.bincount(labels, minlength=g).astype(np.float64)
        ys = np.zeros((g, self.student_y.shape[1]))
        np.add.at(ys, labels, self.student_y)
        qs = np.bincount(labels, weights=(self.student_y ** 2).sum(axis=1), minlength=g)
        cs = np.zeros((g, self.student_c.shape[1]))
        np.add.at(cs, labels, self.student_c)
        mode = float(self.mode_cost(size, ys, qs, cs).sum())
        return mode + self.pair_cost(labels) + self.stability_weight * self.moved(labels), mode

    def pair_cost(self, labels: np.ndarray) -> float:
        """Pair-history cost of per-student groups: every recent pair sharing a group."""
        if not self.student_pairs.any():
            return 0.0
        same = labels[:, None] == labels[None, :]
        return float(0.5 * self.student_pairs[same].sum())

    def moved(self, labels: np.ndarray) -> int:
        """Students who were in a group last time and are not in that group now."""
        had = self.prev_label >= 0
        return int((had & (self.prev_label != labels)).sum())

    def violations(self, assign: np.ndarray) -> list[str]:
        """Every hard constraint the unit assignment breaks (empty when feasible)."""
        return self.student_violations(self.student_labels(assign))

    def student_violations(self, labels: np.ndarray) -> list[str]:
        """Every hard constraint per-student groups break (they may split a unit)."""
        out: list[str] = []
        size = np.bincount(labels, minlength=self.n_groups)
        for k, s in enumerate(size):
            if k >= self.n_groups:
                out.append(f"there are only {self.n_groups} groups")
            elif not self.min_size <= s <= self.max_size:
                out.append(f"group {k + 1} has {int(s)} students")
        where = [sorted({int(labels[i]) for i in members}) for members in self.units]
        for u, ks in enumerate(where):
            if len(ks) > 1:
                out.append(f"{self.unit_name(u)} are split up")
            out += [f"{self.unit_name(u)} may not be in group {k + 1}" for k in ks
                    if k < self.n_groups and not self.allowed[u, k]]
        a, b = np.nonzero(np.triu(self.apart))
        for u, v in zip(a, b, strict=True):
            if set(where[u]) & set(where[v]):
                out.append(f"{self.unit_name(u)} and {self.unit_name(v)} share a group")
        return out

    def unit_name(self, u: int) -> str:
        return " + ".join(self.names[i] for i in self.units[u])


def _sizes(n: int, c: Constraints, source: str) -> tuple[int, int, int]:
    for key in ("groups", "min_size", "max_size"):
        value = getattr(c, key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            raise ConstraintsError(source, key, Text(
                "must be a whole number of at least 1, got %(value)r", value=value))
    groups, lo, hi = c.groups, c.min_size, c.max_size
    if lo is not None and hi is not None and lo > hi:
        raise ConstraintsError(source, "min_size", Text(
            "%(low)d is larger than max_size %(high)d", low=lo, high=hi))
    if groups is None:
        if hi is None:
            raise ConstraintsError(source, "groups",
                                   Text("give a group count or a maximum group size"))
        groups = math.ceil(n / hi)
    if groups > n:
        raise InfeasibleGroupingError(Text("%(students)d students cannot make %(groups)d "
                                           "groups", students=n, groups=groups))
    if lo is None:
        lo = min(n // groups, hi) if hi is not None else n // groups
    if hi is None:
        hi = max(lo, math.ceil(n / groups))
    lo = max(lo, 1)
    if not groups * lo <= n <= groups * hi:
        raise InfeasibleGroupingError(
            Text("%(students)d students cannot make %(groups)d groups of %(low)d to %(high)d "
                 "students", students=n, groups=groups, low=lo, high=hi),
            (Text("%(groups)d groups", groups=groups),
             Text("group size %(low)d to %(high)d", low=lo, high=hi)))
    return groups, lo, hi


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else Text(
        "%(names)s and %(last)s", names=", ".join(names[:-1]), last=names[-1])


def _pinned(name: str, k: int) -> Text:
    return Text("%(name)s pinned to group %(group)d", name=name, group=k + 1)


def _not_in(name: str, k: int) -> Text:
    return Text("%(name)s not in group %(group)d", name=name, group=k + 1)


def _together(names: Sequence[str]) -> Text:
    return Text("keep together %(names)s", names=_join(names))


def _at_most(hi: int) -> Text:
    return Text("group size at most %(most)d", most=hi)


def build_problem(cls: ClassData, constraints: Constraints, options: Options,
                  source: str = "constraints") -> Problem:
    """Validate everything and compile it; raises ConstraintsError or InfeasibleGroupingError.

    ``source`` names where the constraints came from in error messages (a file name).
    """
    students = cls.students
    n = len(students)
    if n == 0:
        raise ConstraintsError(source, None, Text("the class has no students"))
    ids = tuple(s.id for s in students)
    names = tuple(s.label for s in students)
    index = {sid: i for i, sid in enumerate(ids)}
    g, lo, hi = _sizes(n, constraints, source)

    def idx(key: str, sid: object) -> int:
        if not isinstance(sid, str) or sid not in index:
            raise ConstraintsError(source, key, Text("unknown student %(id)r", id=sid))
        return index[sid]

    def label(key: str, k: object) -> int:
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= g:
            raise ConstraintsError(source, key, Text(
                "group %(group)r does not exist: there are %(count)d groups, numbered 1 to "
                "%(count)d", group=k, count=g))
        return k - 1

    if constraints.stability_weight < 0 or not math.isfinite(constraints.stability_weight):
        raise ConstraintsError(source, "stability_weight", Text(
            "must be 0 or more, got %(value)r", value=constraints.stability_weight))

    # --- keep-together sets become units ---------------------------------------------------
    uf = _UnionFind(n)
    for j, group in enumerate(constraints.keep_together):
        members = [idx(f"keep_together[{j}]", sid) for sid in group]
        for m in members[1:]:
            uf.union(members[0], m)
    roots: dict[int, list[int]] = {}
    for i in range(n):
        roots.setdefault(uf.find(i), []).append(i)
    units = tuple(tuple(m) for m in roots.values())
    unit_of = np.empty(n, dtype=np.int64)
    for u, members in enumerate(units):
        unit_of[list(members)] = u
        if len(members) > hi:
            together = [names[i] for i in members]
            raise InfeasibleGroupingError(
                Text("%(names)s must be together but groups hold at most %(most)d students",
                     names=_join(together), most=hi), (_together(together), _at_most(hi)))

    # --- pins --------------------------------------------------------------------------------
    pin = np.full(n, -1, dtype=np.int64)
    for sid, k in constraints.pinned.items():
        pin[idx(f"pinned.{sid}", sid)] = label(f"pinned.{sid}", k)
    banned = np.zeros((n, g), dtype=bool)
    for sid, ks in constraints.not_in.items():
        i = idx(f"not_in.{sid}", sid)
        for k in ks:
            banned[i, label(f"not_in.{sid}", k)] = True
    for i in range(n):
        if pin[i] >= 0 and banned[i, pin[i]]:
            raise InfeasibleGroupingError(
                Text("%(name)s is pinned to group %(group)d and must not be in group "
                     "%(group)d", name=names[i], group=pin[i] + 1),
                (_pinned(names[i], pin[i]), _not_in(names[i], pin[i])))
    allowed = np.ones((len(units), g), dtype=bool)
    for u, members in enumerate(units):
        pinned = [i for i in members if pin[i] >= 0]
        for a in pinned:
            for b in pinned:
                if a < b and pin[a] != pin[b]:
                    raise InfeasibleGroupingError(
                        Text("%(a)s and %(b)s must be together but %(b)s is pinned to group "
                             "%(group_b)d and %(a)s to group %(group_a)d", a=names[a],
                             b=names[b], group_a=pin[a] + 1, group_b=pin[b] + 1),
                        (_together([names[a], names[b]]), _pinned(names[a], pin[a]),
                         _pinned(names[b], pin[b])))
        if pinned:
            k = pin[pinned[0]]
            allowed[u] = False
            allowed[u, k] = True
            for i in members:
                if banned[i, k]:
                    a = pinned[0]
                    raise InfeasibleGroupingError(
                        Text("%(a)s and %(b)s must be together but %(a)s is pinned to group "
                             "%(group)d and %(b)s must not be in group %(group)d", a=names[a],
                             b=names[i], group=k + 1),
                        (_together([names[a], names[i]]), _pinned(names[a], k),
                         _not_in(names[i], k)))
        allowed[u] &= ~banned[list(members)].any(axis=0)
        if not allowed[u].any():
            who = _join([names[i] for i in members])
            raise InfeasibleGroupingError(
                Text("%(names)s may not be in any of the %(count)d groups", names=who, count=g),
                tuple(Text("%(name)s not in groups %(groups)s", name=names[i], groups=str(
                    sorted(int(k) + 1 for k in np.nonzero(banned[i])[0])))
                      for i in members if banned[i].any()))
    for k in range(g):
        pinned_here = [i for i in range(n) if pin[i] == k]
        if len(pinned_here) > hi:
            raise InfeasibleGroupingError(
                Text("%(count)d students are pinned to group %(group)d but groups hold at most "
                     "%(most)d: %(names)s", count=len(pinned_here), group=k + 1, most=hi,
                     names=_join([names[i] for i in pinned_here])),
                (*(_pinned(names[i], k) for i in pinned_here), _at_most(hi)))


    # --- keep-apart pairs --------------------------------------------------------------------
    apart = np.zeros((len(units), len(units)), dtype=bool)
    for j, pair in enumerate(constraints.keep_apart):
        key = f"keep_apart[{j}]"
        if len(pair) != 2:
            raise ConstraintsError(source, key, Text(
                "must be a pair of student ids, got %(value)r", value=pair))
        a, b = idx(key, pair[0]), idx(key, pair[1])
        if a == b:
            raise ConstraintsError(source, key, Text(
                "%(id)r cannot be kept apart from itself", id=ids[a]))
        keep_apart = Text("keep apart %(a)s and %(b)s", a=names[a], b=names[b])
        if unit_of[a] == unit_of[b]:
            raise InfeasibleGroupingError(
                Text("%(a)s and %(b)s must be kept apart but must also be together",
                     a=names[a], b=names[b]),
                (keep_apart, _together([names[a], names[b]])))
        if pin[a] >= 0 and pin[a] == pin[b]:
            raise InfeasibleGroupingError(
                Text("%(a)s and %(b)s must be kept apart but both are pinned to group "
                     "%(group)d", a=names[a], b=names[b], group=pin[a] + 1),
                (keep_apart, _pinned(names[a], pin[a]), _pinned(names[b], pin[b])))
        apart[unit_of[a], unit_of[b]] = apart[unit_of[b], unit_of[a]] = True

    # --- features -----------------------------------------------------------------------------
    if options.mode is Mode.INTEREST:
        topics, student_c = interest_costs(cls, source)
        feats = None
        x = np.zeros((n, 0))
    else:
        topics, student_c = (), np.zeros((n, 0))
        feats = score_features(cls, options, source)
        x = feats.z
    weight = np.array([len(m) for m in units], dtype=np.float64)
    member = np.zeros((n, len(units)))
    member[np.arange(n), unit_of] = 1.0
    centred = x - x.mean(axis=0) if x.shape[1] else x
    total = float((centred * centred).sum())
    scale = total / n if total > 1e-12 and options.mode is not Mode.INTEREST else 1.0
    ysum = member.T @ centred
    qsum = member.T @ (centred * centred).sum(axis=1)
    csum = member.T @ student_c

    # --- pair history ----------------------------------------------------------------------------
    student_pairs = _pair_matrix(options, index, source)
    unit_pairs = member.T @ student_pairs @ member
    pair_within = 0.5 * np.diag(unit_pairs).copy()
    np.fill_diagonal(unit_pairs, 0.0)

    # --- previous groups and stability -------------------------------------------------------
    prev = np.full(n, -1, dtype=np.int64)
    for k, group in enumerate(constraints.previous_groups):
        for sid in group:
            if sid not in index:
                continue  # a student who has left the class since
            if prev[index[sid]] >= 0:
                raise ConstraintsError(source, f"previous_groups[{k}]", Text(
                    "%(id)r is in more than one previous group", id=sid))

            prev[index[sid]] = k
    w = float(constraints.stability_weight)
    if constraints.fewest_moves:
        # One move must outweigh any difference the other terms can make: mode costs lie
        # in [0, n] (skill, mixed: the class's total spread) or [0, 3n + 1) (interest).
        mode_range = n if options.mode is not Mode.INTEREST else UNLISTED_COST * n + 1.0
        w = mode_range + 0.5 * float(student_pairs.sum()) + 1.0
    lin = np.zeros((len(units), g))
    if w > 0:
        for u, members in enumerate(units):
            for i in members:
                if prev[i] >= 0:
                    lin[u] += w
                    if prev[i] < g:
                        lin[u, prev[i]] -= w
    distinguished = {int(k) for k in pin if k >= 0}
    distinguished |= {int(k) for k in np.nonzero(banned.any(axis=0))[0]}
    if w > 0:
        distinguished |= {int(k) for k in prev if 0 <= k < g}

    balance, mean_size, offset = 0.0, n / g, 0.0
    if options.mode is Mode.INTEREST:
        balance, offset = _size_balance(n, g, lo, hi)
    return Problem(mode=options.mode, ids=ids, names=names, n_groups=g, min_size=lo,
                   max_size=hi, units=units, unit_of=unit_of, weight=weight, ysum=ysum,
                   qsum=qsum, topic_cost=csum, topics=topics, lin=lin, allowed=allowed,
                   apart=apart, distinguished=frozenset(distinguished), scale=scale,
                   features=feats.names if feats else (),
                   n_standards=feats.n_standards if feats else 0, x=x,
                   shown=feats.shown if feats else x,
                   estimated=feats.estimated if feats else np.zeros((n, 0), dtype=bool),
                   no_scores=feats.no_scores if feats else np.zeros(n, dtype=bool),
                   student_y=centred, student_c=student_c, prev_label=prev,
                   stability_weight=w, fewest_moves=constraints.fewest_moves,
                   balance_weight=balance, mean_size=mean_size, balance_offset=offset,
                   student_pairs=student_pairs, pairs=unit_pairs, pair_within=pair_within)


def _size_balance(n: int, g: int, lo: int, hi: int) -> tuple[float, float]:
    """(lambda, per-group offset) of interest mode's size balance (see the module text)."""
    if hi - lo <= 1:
        return 0.0, 0.0  # the sizes are fixed by n, g and the range: nothing to balance
    q, r = divmod(n, g)
    s2min = (g - r) * q * q + r * (q + 1) ** 2
    # The most uneven sizes: as many groups as possible at the maximum, the rest at the minimum.
    full, rest = divmod(n - g * lo, hi - lo)
    sizes = [hi] * full + [lo + rest] * (rest > 0)
    sizes += [lo] * (g - len(sizes))
    s2max = sum(s * s for s in sizes)
    return 1.0 / (s2max - s2min + 1), (s2min - n * n / g) / g


def _pair_matrix(options: Options, index: dict[str, int], source: str) -> np.ndarray:
    n = len(index)
    out = np.zeros((n, n))
    for pair, cost in options.recent_pairs.items():
        members = tuple(pair)
        if len(members) != 2:
            raise ConstraintsError(source, "recent_pairs",
                                   f"{sorted(members)!r} is not a pair of student ids")
        if not isinstance(cost, int | float) or not math.isfinite(cost) or cost < 0:
            raise ConstraintsError(source, "recent_pairs",
                                   f"{sorted(members)!r}: cost must be 0 or more, got {cost!r}")
        a, b = (index.get(str(m)) for m in members)
        if a is None or b is None:
            continue  # history naturally names students absent or gone today
        out[a, b] += cost
        out[b, a] += cost
    return out
