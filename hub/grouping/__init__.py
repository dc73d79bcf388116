"""The grouping engine: skill, mixed and interest groups with hard constraints and reasons.

A pure core (no MQTT, SQLite or pygame): the hub passes a :class:`ClassData`, the teacher's
:class:`Constraints` and :class:`Options`, and shows the :class:`Grouping` it gets back.
:func:`make_groups` runs the fast heuristic; ``exact=True`` also proves the optimum with the
set-partitioning method in :mod:`hub.grouping.exact` (HiGHS).
"""

from hub.grouping.classcsv import parse_class_csv, read_class_csv
from hub.grouping.constraintsfile import constraints_from_json, read_constraints
from hub.grouping.errors import (
    ClassCsvError,
    ConstraintsError,
    GroupingError,
    InfeasibleGroupingError,
)
from hub.grouping.model import ClassData, Constraints, Grouping, Mode, Options, Student
from hub.grouping.solve import make_groups

__all__ = [
    "ClassCsvError", "ClassData", "Constraints", "ConstraintsError", "Grouping",
    "GroupingError", "InfeasibleGroupingError", "Mode", "Options", "Student",
    "constraints_from_json", "make_groups", "parse_class_csv", "read_class_csv",
    "read_constraints",
]
