"""Scores, reflections and preferences as the numbers the objective works on.

**Every standard the teacher picks counts the same.** Each chosen standard j is standardised
over the class from its known scores:

    z_ij = (x_ij - m_j) / s_j,    s_j = max(standard deviation of the known scores, MIN_SPREAD)

so a standard whose scores spread over 60 points pulls no harder than one that spreads over
15, and a 1-4 rubric no harder than a 0-100 quiz. ``MIN_SPREAD`` (one point on the 0-100 scale)
keeps a standard that everyone scored alike from dividing by zero.

**A missing score is estimated from the student's own standing**: the mean z of the student's
known scores on the chosen standards (on the class's other standards when the student has none
of the chosen ones), mapped onto the missing standard's scale, ``m_j + s_j * mean z``. A
struggling student with one missing score therefore stays with the strugglers instead of being
pulled to the middle. A student with no score at all is placed at the class mean (z = 0).

**Reflections as data.** Mixed mode also balances the named numeric features the teacher
chose (``Options.balance_features``: a confidence trend, goal progress), each standardised the
same way (spread at least ``MIN_FEATURE_SPREAD``), missing values at the class mean, and scaled
by ``sqrt(weight)``: its share of the class's spread is ``weight`` times one standard's.

**Interest** costs per student and activity: 0 for the first choice, 1 the second, 2 the third,
``UNLISTED_COST`` for an activity not listed; a student with no stated preference costs 0
anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hub.grouping.errors import ConstraintsError
from hub.grouping.model import ClassData, Mode, Options

#: Preference cost of an activity the student did not list.
UNLISTED_COST = 3.0
#: Least spread a standard is divided by, in points of the 0-100 scale.
MIN_SPREAD = 1.0
#: Least spread a balanced feature is divided by (features are on a scale of about one).
MIN_FEATURE_SPREAD = 0.01


@dataclass(frozen=True, slots=True)
class ScoreFeatures:
    #: Column names: the chosen standards, then the balanced features.
    names: tuple[str, ...]
    #: How many of the columns are standards (the rest are features).
    n_standards: int
    #: (n, d) standardised, weighted values the objective uses.
    z: np.ndarray
    #: (n, d) the same values in the teacher's units (0-100 scores, raw features), with
    #: estimates filled in; for explanations.
    shown: np.ndarray
    #: (n, d) bool: the value was estimated (a missing score) or assumed (a missing feature).
    estimated: np.ndarray
    #: Students with no score at all, placed at the class mean.
    no_scores: np.ndarray  # (n,) bool


def _matrix(cls: ClassData, names: tuple[str, ...]) -> np.ndarray:
    return np.array([[np.nan if s.scores.get(std) is None else float(s.scores[std])  # type: ignore[arg-type]
                      for std in names] for s in cls.students], dtype=np.float64).reshape(
                          len(cls.students), len(names))


def _standardise(values: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z with NaN where missing, mean per column, spread per column) from known values."""
    known = ~np.isnan(values)
    count = known.sum(axis=0)
    mean = np.where(count > 0, np.nansum(values, axis=0) / np.maximum(count, 1), 0.0)
    dev = np.where(known, values - mean, 0.0)
    sd = np.sqrt((dev * dev).sum(axis=0) / np.maximum(count, 1))
    spread = np.maximum(sd, floor)
    return (values - mean) / spread, mean, spread


def score_features(cls: ClassData, options: Options, source: str) -> ScoreFeatures:
    """The standardised features of skill and mixed modes (see the module text)."""
    chosen = options.standards if options.standards is not None else cls.standards
    if not chosen:
        raise ConstraintsError(source, "standards", "the class file has no standards to "
                                                    "group on")
    for std in chosen:
        if std not in cls.standards:
            raise ConstraintsError(source, "standards",
                                   f"unknown standard {std!r}; the class file has "
                                   f"{', '.join(cls.standards)}")
    chosen = tuple(dict.fromkeys(chosen))
    raw = _matrix(cls, chosen)
    for j, std in enumerate(chosen):
        if np.isnan(raw[:, j]).all():
            raise ConstraintsError(source, "standards", f"no student has a score on {std!r}")
    z, mean, spread = _standardise(raw, MIN_SPREAD)
    missing = np.isnan(z)
    standing = _mean_known(z)
    others = tuple(s for s in cls.standards if s not in chosen)
    if others:
        # Students with none of the chosen scores: their standing on the other standards.
        fallback = _mean_known(_standardise(_matrix(cls, others), MIN_SPREAD)[0])
        standing = np.where(np.isnan(standing), fallback, standing)
    no_scores = np.isnan(standing)
    standing = np.where(no_scores, 0.0, standing)
    z = np.where(missing, standing[:, None], z)
    shown = np.where(missing, mean + spread * z, raw)
    names, zs, shows, est = list(chosen), [z], [shown], [missing]
    balanced = options.balance_features if options.mode is Mode.MIXED else {}
    for name, weight in balanced.items():
        if not math.isfinite(weight) or weight < 0:
            raise ConstraintsError(source, f"balance_features.{name}",
                                   f"must be 0 or more, got {weight!r}")
        col = _feature_column(cls, name, source)
        if weight == 0 or col is None:
            continue
        fz, fmean, _ = _standardise(col, MIN_FEATURE_SPREAD)
        gone = np.isnan(col)
        zs.append(math.sqrt(weight) * np.where(gone, 0.0, fz))
        shows.append(np.where(gone, fmean, col))
        est.append(gone)
        names.append(name)
    return ScoreFeatures(names=tuple(names), n_standards=len(chosen), z=np.hstack(zs),
                         shown=np.hstack(shows), estimated=np.hstack(est), no_scores=no_scores)


def _mean_known(z: np.ndarray) -> np.ndarray:
    """Each row's mean over its known (non-NaN) values; NaN for a row with none."""
    known = ~np.isnan(z)
    count = known.sum(axis=1)
    total = np.where(known, z, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _feature_column(cls: ClassData, name: str, source: str) -> np.ndarray | None:
    values = []
    for s in cls.students:
        v = s.features.get(name)
        if v is not None and not (isinstance(v, int | float) and math.isfinite(v)):
            raise ConstraintsError(source, f"features.{name}",
                                   f"{s.label}: {v!r} is not a number")
        values.append(np.nan if v is None else float(v))
    col = np.array(values, dtype=np.float64).reshape(-1, 1)
    return None if np.isnan(col).all() else col


def interest_costs(cls: ClassData, source: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Activities (most wanted first) and each student's preference cost for each."""
    counts: dict[str, float] = {}
    for s in cls.students:
        for r, t in enumerate(s.preferences):
            counts[t] = counts.get(t, 0.0) + 1.0 / (r + 1)
    if not counts:
        raise ConstraintsError(source, "mode", "interest groups need stated activity "
                                               "preferences, and no student has any")
    topics = tuple(sorted(counts, key=lambda t: (-counts[t], t)))
    cost = np.zeros((len(cls.students), len(topics)))
    for i, s in enumerate(cls.students):
        if not s.preferences:
            continue  # no stated preference: any activity is fine
        rank = {t: r for r, t in enumerate(s.preferences)}
        cost[i] = [min(float(rank.get(t, UNLISTED_COST)), UNLISTED_COST) for t in topics]
    return topics, cost
