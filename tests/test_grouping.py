"""The grouping engine: hard constraints, named infeasibility, optimality on small classes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.grouping.errors import ConstraintsError, InfeasibleGroupingError
from hub.grouping.exact import solve_exact
from hub.grouping.model import ClassData, Constraints, Mode, Options, Student
from hub.grouping.problem import build_problem
from hub.grouping.solve import heuristic_assignment, make_groups
from hub.grouping.synthetic import synthetic_class, synthetic_constraints

MODES = list(Mode)


def tiny_class(n: int, seed: int) -> ClassData:
    return synthetic_class(n, seed=seed)


def check_hard(cls: ClassData, c: Constraints, groups: tuple[tuple[str, ...], ...],
               n_groups: int, lo: int, hi: int) -> None:
    where = {sid: k for k, g in enumerate(groups) for sid in g}
    assert sorted(where) == sorted(s.id for s in cls.students)  # everyone exactly once
    assert sum(len(g) for g in groups) == len(cls.students)
    assert len(groups) == n_groups
    assert all(lo <= len(g) <= hi for g in groups)
    for a, b in c.keep_apart:
        assert where[a] != where[b], (a, b)
    for s in c.keep_together:
        assert len({where[x] for x in s}) == 1, s
    for sid, k in c.pinned.items():
        assert where[sid] == k - 1
    for sid, ks in c.not_in.items():
        assert where[sid] + 1 not in ks


@st.composite
def class_and_constraints(draw: st.DrawFn) -> tuple[ClassData, Constraints]:
    n = draw(st.integers(6, 14))
    cls = tiny_class(n, draw(st.integers(0, 10_000)))
    ids = [s.id for s in cls.students]
    g = draw(st.integers(2, min(4, n // 2)))
    pick = st.sampled_from(ids)
    apart = draw(st.lists(st.tuples(pick, pick).filter(lambda p: p[0] != p[1]), max_size=3))
    together = draw(st.lists(st.lists(pick, min_size=2, max_size=2, unique=True),
                             max_size=2))
    pinned = draw(st.dictionaries(pick, st.integers(1, g), max_size=2))
    not_in = draw(st.dictionaries(pick, st.lists(st.integers(1, g), min_size=1, max_size=1,
                                                 unique=True).map(tuple), max_size=2))
    prev = draw(st.booleans())
    previous = tuple(tuple(ids[k::g]) for k in range(g)) if prev else ()
    return cls, Constraints(groups=g, keep_apart=tuple(apart),
                            keep_together=tuple(tuple(t) for t in together), pinned=pinned,
                            not_in=not_in, previous_groups=previous)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(class_and_constraints(), st.sampled_from(MODES))
def test_hard_constraints_never_violated(data: tuple[ClassData, Constraints], mode: Mode) -> None:
    cls, c = data
    try:
        result = make_groups(cls, c, Options(mode=mode))
    except InfeasibleGroupingError as err:
        # Only acceptable when no grouping exists at all: check by brute force on the model.
        from hub.grouping.feasibility import feasible_assignment
        try:
            p = build_problem(cls, c, Options(mode=mode))
        except InfeasibleGroupingError:
            return
        assert feasible_assignment(p) is None, err
        return
    n, g = len(cls.students), c.groups
    assert g is not None
    check_hard(cls, c, result.groups, g, n // g, -(-n // g))
    assert set(result.reasons) == {s.id for s in cls.students}
    assert all(result.reasons.values())


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(8, 12), st.integers(0, 10_000), st.sampled_from(MODES), st.booleans())
def test_heuristic_reaches_the_exact_optimum_on_small_classes(n: int, seed: int, mode: Mode,
                                                              previous: bool) -> None:
    cls = tiny_class(n, seed)
    c = synthetic_constraints(cls, groups=3 if n >= 9 else 2, seed=seed, previous=previous)
    o = Options(mode=mode, seed=seed)
    try:
        p = build_problem(cls, c, o)
        heur = heuristic_assignment(p, cls, c, o)
    except InfeasibleGroupingError:
        return  # random pins can clash on tiny classes; covered elsewhere
    exact = solve_exact(p, heur, time_limit=60)
    assert exact.proven
    assert not p.violations(exact.assign)
    h = p.evaluate_units(heur)[0]
    assert exact.objective <= h + 1e-9
    assert h == pytest.approx(exact.objective, abs=1e-7)


def brute_force_optimum(p) -> float:  # type: ignore[no-untyped-def]
    best = np.inf
    for code in range(p.n_groups ** p.n_units):
        assign = np.array([(code // p.n_groups ** u) % p.n_groups for u in range(p.n_units)])
        if not p.violations(assign):
            best = min(best, p.evaluate_units(assign)[0])
    return best


@pytest.mark.parametrize("mode", MODES)
def test_exact_method_matches_brute_force(mode: Mode) -> None:
    cls = tiny_class(8, 5)
    c = synthetic_constraints(cls, groups=2, seed=5)
    p = build_problem(cls, c, Options(mode=mode))
    # A deliberately poor start: the exact method must not depend on the heuristic's quality.
    start = heuristic_assignment(p, cls, c, Options(mode=mode))
    result = solve_exact(p, start)
    assert result.proven
    assert result.objective == pytest.approx(brute_force_optimum(p), abs=1e-9)
    assert result.lp_bound <= result.objective + 1e-6


@pytest.mark.parametrize("seed", [2, 9])
def test_exact_interest_shortcuts_match_brute_force(seed: int) -> None:
    # Interest costs are whole numbers, so the exact method prunes to groupings at least 1
    # better than its start, and stops at once when the start meets the activity-plan bound.
    cls = tiny_class(9, seed)
    c = Constraints(groups=3, keep_apart=((cls.students[0].id, cls.students[1].id),))
    p = build_problem(cls, c, Options(mode=Mode.INTEREST))
    optimum = brute_force_optimum(p)
    poor = np.arange(p.n_units) % 3  # round robin: feasible (0 and 1 apart), rarely good
    for start in (poor, heuristic_assignment(p, cls, c, Options(mode=Mode.INTEREST))):
        result = solve_exact(p, start)
        assert result.proven and not p.violations(result.assign)
        assert result.objective == pytest.approx(optimum, abs=1e-9)
        assert result.lp_bound <= optimum + 1e-6


def test_exact_improves_on_a_poor_incumbent() -> None:
    cls = tiny_class(12, 3)
    c = Constraints(groups=3)
    p = build_problem(cls, c, Options(mode=Mode.SKILL))
    # Round-robin by id: a valid but bad grouping.
    poor = np.arange(p.n_units) % 3
    result = solve_exact(p, poor)
    assert result.proven
    assert result.objective < p.evaluate_units(poor)[0] - 1.0
    assert result.objective == pytest.approx(
        p.evaluate_units(heuristic_assignment(p, cls, c, Options()))[0])


@pytest.mark.parametrize("mode", MODES)
def test_deterministic_for_a_seed(mode: Mode) -> None:
    cls = tiny_class(20, 11)
    c = synthetic_constraints(cls, groups=4, seed=11)
    runs = [make_groups(cls, c, Options(mode=mode, seed=7)) for _ in range(2)]
    assert runs[0].groups == runs[1].groups
    assert runs[0].reasons == runs[1].reasons
    assert runs[0].score == runs[1].score


def test_skill_groups_are_homogeneous_and_mixed_groups_are_not() -> None:
    cls = tiny_class(24, 2)
    c = Constraints(groups=4)
    skill = make_groups(cls, c, Options(mode=Mode.SKILL))
    mixed = make_groups(cls, c, Options(mode=Mode.MIXED, balance_features={}))
    p = build_problem(cls, c, Options(mode=Mode.SKILL))
    # Skill and mixed costs add up to the class's total spread (n in normalised units).
    def ssq(groups):  # type: ignore[no-untyped-def]
        index = {s: i for i, s in enumerate(p.ids)}
        labels = np.empty(p.n, dtype=np.int64)
        for k, g in enumerate(groups):
            labels[[index[s] for s in g]] = k
        return p.evaluate_students(labels)[1]
    assert ssq(skill.groups) < 0.5 * ssq(mixed.groups)
    assert ssq(mixed.groups) == pytest.approx(p.n - mixed.mode_score, rel=1e-9)


def test_interest_groups_follow_first_choices() -> None:
    prefs = ["lego"] * 6 + ["art"] * 6
    cls = ClassData(students=tuple(Student(id=f"s{i}", preferences=(p, "reading"))
                                   for i, p in enumerate(prefs)), standards=())
    result = make_groups(cls, Constraints(groups=2), Options(mode=Mode.INTEREST))
    assert result.score == 0
    assert sorted(result.topics) == ["art", "lego"]
    for k, g in enumerate(result.groups):
        assert {prefs[int(s[1:])] for s in g} == {result.topics[k]}
        assert all(result.reasons[s] == f"first choice: {result.topics[k]}" for s in g)


def test_stability_prefers_fewer_moves() -> None:
    cls = tiny_class(16, 4)
    ids = [s.id for s in cls.students]
    previous = tuple(tuple(ids[k::4]) for k in range(4))  # a poor but recent grouping
    loose = make_groups(cls, Constraints(groups=4, previous_groups=previous,
                                         stability_weight=0.0), Options())
    tight = make_groups(cls, Constraints(groups=4, previous_groups=previous,
                                         stability_weight=5.0), Options())
    assert loose.moved is not None and tight.moved is not None
    assert tight.moved < loose.moved
    assert tight.moved == 0  # each move costs more than any regrouping can gain
    assert tight.previous_score is not None and "current groups score" in tight.summary


def test_reasons_name_the_scores_the_teacher_sees() -> None:
    cls = ClassData(students=(Student(id="a", name="Ana", scores={"fractions": 42}),
                              Student(id="b", name="Ben", scores={"fractions": 48}),
                              Student(id="c", name="Cid", scores={"fractions": 90}),
                              Student(id="d", name="Dee", scores={"fractions": None})),
                    standards=("fractions",), scales={"fractions": "0-100"})
    result = make_groups(cls, Constraints(groups=2, pinned={"a": 1}), Options())
    assert result.groups[0] == ("a", "b")
    assert result.reasons["a"] == "grouped on fractions 42 (group 45); pinned to group 1"
    assert result.reasons["d"] == ("no scores yet, taken as the class average; grouped on "
                                   "fractions est. 60 (group 75)")
    payload = json.loads(json.dumps(result.as_json()))
    assert payload["groups"] == [["a", "b"], ["c", "d"]]


# --- infeasible inputs raise the named error -------------------------------------------------

def names_class(n: int = 8) -> ClassData:
    names = ["Ana", "Ben", "Cid", "Dee", "Eve", "Fin", "Gia", "Hal", "Ida", "Jo"]
    return ClassData(students=tuple(Student(id=f"s{i}", name=names[i], scores={"m": 10.0 * i})
                                    for i in range(n)), standards=("m",))


@pytest.mark.parametrize(("constraints", "message"), [
    (Constraints(groups=2, keep_together=(("s0", "s1"),), pinned={"s1": 1, "s0": 2}),
     "Ana and Ben must be together but Ben is pinned to group 1 and Ana to group 2"),
    (Constraints(groups=2, keep_apart=(("s0", "s1"),), keep_together=(("s0", "s2", "s1"),)),
     "Ana and Ben must be kept apart but must also be together"),
    (Constraints(groups=2, keep_apart=(("s2", "s3"),), pinned={"s2": 2, "s3": 2}),
     "Cid and Dee must be kept apart but both are pinned to group 2"),
    (Constraints(groups=2, pinned={"s4": 1}, not_in={"s4": (1,)}),
     "Eve is pinned to group 1 and must not be in group 1"),
    (Constraints(groups=2, keep_together=(("s0", "s1", "s2", "s3", "s4"),)),
     "Ana, Ben, Cid, Dee and Eve must be together but groups hold at most 4 students"),
    (Constraints(groups=2, pinned={f"s{i}": 1 for i in range(5)}),
     "5 students are pinned to group 1 but groups hold at most 4"),
    (Constraints(groups=2, not_in={"s5": (1, 2)}), "Fin may not be in any of the 2 groups"),
    (Constraints(groups=3, min_size=3), "8 students cannot make 3 groups of 3 to 3 students"),
    (Constraints(groups=2, keep_together=(("s0", "s1"),), pinned={"s0": 1},
                 not_in={"s1": (1,)}),
     "Ana and Ben must be together but Ana is pinned to group 1 and Ben must not be in group 1"),
])
def test_named_conflicts(constraints: Constraints, message: str) -> None:
    with pytest.raises(InfeasibleGroupingError) as info:
        make_groups(names_class(), constraints, Options())
    assert message in str(info.value)
    assert info.value.conflict or "cannot make" in message


def test_conflict_found_by_the_model_is_narrowed_to_a_minimal_set() -> None:
    # Three students pairwise apart with two groups: no quick check sees it.
    c = Constraints(groups=2, keep_apart=(("s0", "s1"), ("s1", "s2"), ("s0", "s2"),
                                          ("s5", "s6")),
                    keep_together=(("s3", "s4"),))
    with pytest.raises(InfeasibleGroupingError) as info:
        make_groups(names_class(), c, Options())
    assert set(info.value.conflict) == {"keep Ana and Ben apart", "keep Ben and Cid apart",
                                        "keep Ana and Cid apart"}
    assert "cannot all hold" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("constraints", "message"), [
    (Constraints(groups=2, keep_apart=(("s0", "zz"),)), "keep_apart[0]: unknown student 'zz'"),
    (Constraints(groups=2, pinned={"s0": 3}), "pinned.s0: group 3 does not exist"),
    (Constraints(groups=0), "groups: must be a whole number of at least 1"),
    (Constraints(), "give a group count or a maximum group size"),
    (Constraints(groups=2, stability_weight=-1), "stability_weight: must be 0 or more"),
])
def test_malformed_constraints_are_named(constraints: Constraints, message: str) -> None:
    with pytest.raises(ConstraintsError) as info:
        make_groups(names_class(), constraints, Options(), source="c.json")
    assert message in str(info.value)
    assert str(info.value).startswith("c.json: ")


def test_unknown_standard_and_missing_preferences_are_named() -> None:
    with pytest.raises(ConstraintsError, match="unknown standard 'geometry'"):
        make_groups(names_class(), Constraints(groups=2), Options(standards=("geometry",)))
    with pytest.raises(ConstraintsError, match="interest groups need stated activity"):
        make_groups(names_class(), Constraints(groups=2), Options(mode=Mode.INTEREST))


def test_exact_method_proves_optimality_at_24_students() -> None:
    cls = tiny_class(24, 1)
    c = synthetic_constraints(cls, groups=4, seed=1, previous=False)
    result = make_groups(cls, c, Options(mode=Mode.SKILL), exact=True)
    assert result.proven_optimal and result.method == "exact"
    assert result.bound == pytest.approx(result.score)
    assert "proven optimum" in result.summary
