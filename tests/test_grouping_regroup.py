"""Regrouping the students present: absent students left out, as few moves as possible, then
the best groups; and how a suggestion compares with the current groups."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from hub.grouping.errors import ConstraintsError
from hub.grouping.model import Constraints, Mode, Move, Options
from hub.grouping.problem import build_problem
from hub.grouping.solve import make_groups, regroup_present
from hub.grouping.synthetic import synthetic_class


def lexicographic_optimum(p) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """(fewest moves, best objective among those) over every feasible grouping."""
    combos = np.array(list(itertools.product(range(p.n_groups), repeat=p.n_units)))
    labels = combos[:, p.unit_of]
    had = p.prev_label >= 0
    moves = ((labels != p.prev_label) & had).sum(axis=1)
    best: tuple[int, float] = (p.n + 1, np.inf)
    for m in np.unique(moves):
        for assign in combos[moves == m]:
            if not p.violations(assign):
                mode = p.evaluate_units(assign)[1] + p.pair_cost(p.student_labels(assign))
                best = min(best, (int(m), mode))
        if np.isfinite(best[1]):
            return best
    return best


@pytest.mark.parametrize("mode", list(Mode))
def test_regroup_present_moves_as_few_as_possible_then_groups_best(mode: Mode) -> None:
    cls = synthetic_class(11, seed=5)
    ids = [s.id for s in cls.students]
    current = [ids[0:4], ids[4:8], ids[8:11]]  # 4, 4, 3
    absent = {ids[0], ids[1]}  # group 1 drops to 2; 9 present make groups of 3
    pinned = {ids[5]: 2}
    constraints = Constraints(pinned=pinned, keep_apart=((ids[2], ids[6]),))
    for exact in (False, True):
        result = regroup_present(cls, current, absent, constraints, Options(mode=mode),
                                 exact=exact)
        assert result.left_out == (ids[0], ids[1])
        placed = [s for g in result.groups for s in g]
        assert sorted(placed) == sorted(set(ids) - absent)
        assert [len(g) for g in result.groups] == [3, 3, 3]
        assert ids[5] in result.groups[1]
        assert result.moved == 1  # one student must join group 1, and only one does
        assert result.comparison is not None and len(result.comparison.moves) == 1
        (move,) = result.comparison.moves
        assert move.to_group == 1 and move.from_group == 2
        assert "the fewest possible" in result.summary and "2 absent left out" in result.summary
    # The exact result is the lexicographic optimum: fewest moves, then the best groups.
    present = cls.__class__(students=tuple(s for s in cls.students if s.id not in absent),
                            standards=cls.standards, scales=cls.scales)
    p = build_problem(present, Constraints(groups=3, pinned=pinned, fewest_moves=True,
                                           previous_groups=tuple(
                                               tuple(s for s in g if s not in absent)
                                               for g in current)), Options(mode=mode))
    moves, best = lexicographic_optimum(p)
    assert (result.moved, result.mode_score) == (moves, pytest.approx(best, abs=1e-9))


def test_fewest_moves_beats_any_gain_of_regrouping() -> None:
    # The current groups are poor skill groups; a soft stability weight lets the engine
    # regroup everyone, fewest moves keeps all but the students it must move.
    cls = synthetic_class(16, seed=4)
    ids = [s.id for s in cls.students]
    current = [ids[k::4] for k in range(4)]
    soft = make_groups(cls, Constraints(groups=4, previous_groups=tuple(map(tuple, current)),
                                        stability_weight=0.1), Options())
    assert soft.moved is not None and soft.moved > 4
    kept = regroup_present(cls, current, absent=())
    assert kept.moved == 0 and kept.groups == tuple(map(tuple, current))
    gone = regroup_present(cls, current, absent=[ids[0], ids[4], ids[8]])  # group 1: 4 -> 1
    assert gone.moved == 2 and len(gone.groups[0]) == 3
    assert sorted(len(g) for g in gone.groups) == [3, 3, 3, 4]


def test_students_new_to_the_groups_are_placed_without_counting_as_moves() -> None:
    cls = synthetic_class(10, seed=2)
    ids = [s.id for s in cls.students]
    current = [ids[0:4], ids[4:8]]  # ids[8], ids[9] joined the class since
    result = regroup_present(cls, current, absent=[ids[0]])
    assert result.moved == 0  # the two newcomers fill the groups: 4 + 5 of 9
    assert result.comparison is not None
    joined = [m for m in result.comparison.moves if m.from_group is None]
    assert sorted(m.student for m in joined) == [ids[8], ids[9]]
    assert result.comparison.current_score is None  # the current groups miss two students
    assert "joins group" in result.reasons[ids[8]]


def test_regroup_keeps_the_teachers_size_limits() -> None:
    cls = synthetic_class(12, seed=3)
    ids = [s.id for s in cls.students]
    current = [ids[0:4], ids[4:8], ids[8:12]]
    # Sizes 3 to 5 allowed: dropping two from group 1 leaves 2, so one student must join it,
    # and nobody else needs to move.
    result = regroup_present(cls, current, [ids[0], ids[1]],
                             Constraints(min_size=3, max_size=5))
    assert result.moved == 1
    assert sorted(len(g) for g in result.groups) == [3, 3, 4] and len(result.groups[0]) == 3


def test_unknown_absent_student_is_named() -> None:
    cls = synthetic_class(8, seed=1)
    with pytest.raises(ConstraintsError, match="absent: unknown student 'zz'"):
        regroup_present(cls, [[s.id for s in cls.students]], ["zz"])


def test_comparison_with_the_current_groups() -> None:
    cls = synthetic_class(12, seed=8)
    ids = [s.id for s in cls.students]
    current = tuple(tuple(ids[k::3]) for k in range(3))
    result = make_groups(cls, Constraints(groups=3, previous_groups=current,
                                          stability_weight=0.0), Options())
    comparison = result.comparison
    assert comparison is not None
    p = build_problem(cls, Constraints(groups=3, previous_groups=current,
                                       stability_weight=0.0), Options())
    assert comparison.current_score == pytest.approx(p.evaluate_students(p.prev_label)[0])
    assert comparison.current_score > result.score
    where = {s: k + 1 for k, g in enumerate(result.groups) for s in g}
    before = {s: k + 1 for k, g in enumerate(current) for s in g}
    assert set(comparison.moves) == {Move(s, before[s], where[s]) for s in ids
                                     if before[s] != where[s]}
    assert comparison.current_breaks == ()
    payload = json.loads(json.dumps(result.as_json()))
    assert payload["comparison"]["moved"] == result.moved == len(comparison.moves)
    assert payload["comparison"]["current_score"] == pytest.approx(comparison.current_score)
    assert set(payload["reasons"]) == set(ids)


def test_comparison_names_what_the_current_groups_break() -> None:
    cls = synthetic_class(9, seed=2)
    ids = [s.id for s in cls.students]
    current = [ids[0:2], ids[2:9]]  # sizes 2 and 7 but groups of 4-5 are asked for
    result = make_groups(cls, Constraints(groups=2, previous_groups=tuple(map(tuple, current)),
                                          keep_apart=((ids[2], ids[3]),)), Options())
    assert result.comparison is not None
    assert set(result.comparison.current_breaks) >= {"group 1 has 2 students",
                                                     "group 2 has 7 students"}
    assert any("share a group" in b for b in result.comparison.current_breaks)
