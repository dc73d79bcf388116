"""A thin layer over HiGHS (``highspy``) for the set-partitioning and feasibility models.

HiGHS is imported here, lazily, so importing the grouping engine stays cheap and the hub's
fast path (the heuristic) never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def new_model(time_limit: float | None = None) -> Any:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    return h


def infinity() -> float:
    import highspy

    return float(highspy.kHighsInf)


def add_rows(h: Any, lower: Sequence[float], upper: Sequence[float]) -> None:
    n = len(lower)
    h.addRows(n, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64), 0,
              np.zeros(n, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))


def add_cols(h: Any, costs: Sequence[float], rows: Sequence[Sequence[int]],
             upper: float | None = None, values: Sequence[Sequence[float]] | None = None) -> None:
    """Add columns; ``rows[j]`` lists the rows column j covers (coefficient 1 unless given)."""
    n = len(costs)
    if n == 0:
        return
    starts = np.zeros(n, dtype=np.int32)
    pos = 0
    for j, r in enumerate(rows):
        starts[j] = pos
        pos += len(r)
    index = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=pos)
    if values is None:
        vals = np.ones(pos)
    else:
        vals = np.fromiter((v for vs in values for v in vs), dtype=np.float64, count=pos)
    hi = np.full(n, infinity() if upper is None else upper)
    h.addCols(n, np.asarray(costs, dtype=np.float64), np.zeros(n), hi, pos, starts, index, vals)


def make_integer(h: Any) -> None:
    import highspy

    n = h.getNumCol()
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.array([highspy.HighsVarType.kInteger] * n))


def status(h: Any) -> str:
    return str(h.modelStatusToString(h.getModelStatus()))
