"""The grouping engine: skill, mixed and interest groups with hard constraints and reasons.

A pure core (no MQTT, SQLite or pygame): the hub passes a :class:`ClassData`, the teacher's
:class:`Constraints` and :class:`Options`, and shows the :class:`Grouping` it gets back, with a
reason per student and a :class:`Comparison` with the current groups. :func:`make_groups` runs
the fast heuristic; ``exact=True`` also proves the optimum with the set-partitioning method in
:mod:`hub.grouping.exact` (HiGHS). :func:`regroup_present` rebalances the current groups for the
students present, moving as few as possible; :func:`recent_pairs` turns past lessons' groups
into the pair history ``Options.recent_pairs`` avoids. The objective is defined in
:mod:`hub.grouping.problem` and :mod:`hub.grouping.features`.
"""

from hub.grouping.classcsv import ColumnRoles, classify_columns, parse_class_csv, read_class_csv
from hub.grouping.constraintsfile import constraints_from_json, read_constraints
from hub.grouping.errors import (
    ClassCsvError,
    ConstraintsError,
    GroupingError,
    InfeasibleGroupingError,
)
from hub.grouping.history import recent_pairs
from hub.grouping.model import (
    CONFIDENCE_TREND,
    GOAL_PROGRESS,
    ClassData,
    Comparison,
    Constraints,
    Grouping,
    Mode,
    Move,
    Options,
    Student,
)
from hub.grouping.solve import make_groups, regroup_present

__all__ = [
    "CONFIDENCE_TREND", "GOAL_PROGRESS", "ClassCsvError", "ClassData", "ColumnRoles",
    "Comparison", "Constraints", "ConstraintsError", "Grouping", "GroupingError",
    "InfeasibleGroupingError", "Mode", "Move", "Options", "Student", "classify_columns",
    "constraints_from_json", "make_groups", "parse_class_csv", "read_class_csv",
    "read_constraints", "recent_pairs", "regroup_present",
]
