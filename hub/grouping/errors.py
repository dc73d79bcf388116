"""Errors raised by the grouping engine.

Each is a :class:`stations.errors.StationsError` and a :class:`ValueError` (all of them are
about bad or contradictory input, never about the machine), with structured attributes so the
hub can show the teacher exactly what to fix.
"""

from __future__ import annotations

from pathlib import Path

from stations.errors import StationsError
from stations.text import Text


class GroupingError(StationsError, ValueError):
    """Base of the grouping engine's errors."""


class ClassCsvError(GroupingError):
    """A class CSV file is malformed; names the file, row (1-based, header is row 1) and column."""

    def __init__(self, path: Path | str, row: int | None, column: str | None,
                 problem: str) -> None:
        self.path = Path(path)
        self.row = row
        self.column = column
        self.problem = problem
        #: The file as the teacher named it, for messages and the console.
        self.file = self.path.name
        where = str(self.path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}")


class ConstraintsError(GroupingError):
    """A constraints file or request is malformed: unknown student, bad key or value."""

    def __init__(self, source: str, key: str | None, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        # A Text (stations/text.py): the console reads the source and problem in its language
        super().__init__(Text("%(source)s: %(key)s: %(problem)s", source=source, key=key,
                              problem=problem) if key
                         else Text("%(source)s: %(problem)s", source=source, problem=problem))


class InfeasibleGroupingError(GroupingError):
    """The hard constraints cannot all hold at once.

    ``conflict`` lists the constraints (in words) that clash; removing any one of them makes
    the rest satisfiable when the engine could narrow the conflict down that far.
    """

    def __init__(self, message: str, conflict: tuple[str, ...] = ()) -> None:
        self.conflict = conflict
        super().__init__(message)
