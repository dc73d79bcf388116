"""Seeded synthetic classes for benchmarks, tests and demos (no real student data).

Scores follow a common pattern in classroom data: a general ability factor plus a
standard-specific one, clipped to 0-100. Two kinds of class:

* even: three 0-100 standards centred in the 60s with a spread of about 15 points, and a few
  scores missing at random;
* uneven, where the old objective went wrong: standards that differ in spread (a narrow one
  of about 6 points, a wide one of about 25) and in scale (a 1-4 rubric), a few students who
  each miss one or two scores, and one student (at 24 or more) with no score yet.

Preferences are ranked from a skewed popularity (some activities are everybody's favourite),
and most students have a confidence trend from their reflections. Constraints are the kind a
teacher adds: two pairs kept apart, a pair kept together, one student pinned to the teacher
table and one kept away from it, and last rotation's groups.
"""

from __future__ import annotations

import math

import numpy as np

from hub.grouping.model import CONFIDENCE_TREND, ClassData, Constraints, Student

STANDARDS = ("fractions", "decimals", "ratios")
#: Uneven classes: (standard, centre, spread in points, scale).
UNEVEN = (("fractions", 70, 6, "0-100"), ("decimals", 55, 25, "0-100"),
          ("ratios", 2.6, 0.9, "1-4"), ("geometry", 65, 15, "0-100"))
ACTIVITIES = ("lego", "art", "coding", "reading")
_NAMES = ("Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jin", "Kai", "Lea",
          "Mo", "Nia", "Oto", "Pia", "Quin", "Rui", "Sam", "Tia", "Uma", "Vik", "Wen", "Xia",
          "Yan", "Zoe", "Abe", "Bea", "Cal", "Dina", "Ezra", "Fern", "Gio", "Hugo", "Iris",
          "Jude", "Kira", "Leo", "Mia", "Ned")


def synthetic_class(n: int, seed: int = 0, missing: float = 0.04,
                    uneven: bool = False) -> ClassData:
    rng = np.random.default_rng(seed)
    ability = rng.normal(0.0, 1.0, n)
    students = []
    popularity = np.array([0.4, 0.3, 0.2, 0.1])
    for i in range(n):
        scores: dict[str, float | None] = {}
        if uneven:
            for std, centre, spread, scale in UNEVEN:
                v = centre + spread * (0.8 * ability[i] + 0.6 * rng.normal())
                scores[std] = (float(np.clip(round(v), 1, 4) - 1) / 3 * 100 if scale == "1-4"
                               else float(np.clip(round(v), 0, 100)))
        else:
            for std in STANDARDS:
                v = 65 + 15 * (0.8 * ability[i] + 0.6 * rng.normal())
                scores[std] = (None if rng.random() < missing
                               else float(np.clip(round(v), 0, 100)))
        order = rng.choice(len(ACTIVITIES), size=3, replace=False, p=popularity)
        trend = None if rng.random() < 0.1 else round(float(rng.uniform(-1, 1)), 1)
        name = _NAMES[i % len(_NAMES)] + ("" if i < len(_NAMES) else str(i // len(_NAMES)))
        students.append(Student(id=f"s{i + 1:03d}", name=name, scores=scores,
                                preferences=tuple(ACTIVITIES[j] for j in order),
                                features={CONFIDENCE_TREND: trend}))
    if not uneven:
        return ClassData(students=tuple(students), standards=STANDARDS,
                         scales=dict.fromkeys(STANDARDS, "0-100"))
    names = tuple(std for std, *_ in UNEVEN)
    # A few students miss one or two scores (absent on a quiz day), one has none yet.
    for i in rng.permutation(n)[:max(2, n // 6)]:
        gone = rng.choice(len(names), size=int(rng.integers(1, 3)), replace=False)
        students[i] = _without(students[i], {names[j] for j in gone})
    if n >= 24:
        i = int(rng.integers(n))
        students[i] = _without(students[i], set(names))
    return ClassData(students=tuple(students), standards=names,
                     scales={std: scale for std, _, _, scale in UNEVEN})


def _without(s: Student, standards: set[str]) -> Student:
    return Student(id=s.id, name=s.name, preferences=s.preferences, features=s.features,
                   scores={k: None if k in standards else v for k, v in s.scores.items()})


def synthetic_constraints(cls: ClassData, groups: int, seed: int = 0,
                          previous: bool = True) -> Constraints:
    rng = np.random.default_rng(seed + 1)
    ids = [s.id for s in cls.students]
    n = len(ids)
    pick = [ids[i] for i in rng.permutation(n)[:7]]
    prev: tuple[tuple[str, ...], ...] = ()
    if previous:
        size = math.ceil(n / groups)
        shuffled = [ids[i] for i in rng.permutation(n)]
        prev = tuple(tuple(shuffled[k * size:(k + 1) * size]) for k in range(groups))
        prev = tuple(g for g in prev if g)
    return Constraints(groups=groups,
                       keep_apart=((pick[0], pick[1]), (pick[2], pick[3])),
                       keep_together=((pick[4], pick[5]),),
                       pinned={pick[6]: 1},
                       not_in={pick[0]: (1,)},
                       previous_groups=prev)
