"""``stations district report``: the district's aggregates as CSV, from the SQL views.

Four files, one row per day and school / class / activity / reflection answer, counted in the
district's time zone. No row-level student data: only counts, and rows covering fewer than
``[report] min_students`` students are left out (a class of three would otherwise be
recognisable from its reflection answers).
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from district.config import DistrictConfig
from stations.errors import StationsError

log = logging.getLogger(__name__)

_CLASS_STUDENTS = ("(SELECT students FROM report_class_day k WHERE k.day = v.day "
                   "AND k.school = v.school AND k.class_id = v.class_id)")
#: File → (view, columns, which column holds the students counted for the size rule).
REPORTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "schools.csv": ("report_school_day", ("day", "school", "rooms", "checkins", "students"),
                    "students"),
    "classes.csv": ("report_class_day", ("day", "school", "class_id", "checkins", "students"),
                    "students"),
    "activities.csv": ("report_activity_day", ("day", "school", "class_id", "station_kind",
                                               "activity", "checkins", "students"),
                       _CLASS_STUDENTS),
    "reflections.csv": ("report_reflection_day", ("day", "school", "class_id", "question",
                                                  "answer", "answers"), _CLASS_STUDENTS),
}


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int
    withheld: int


def write_reports(conn: psycopg.Connection, config: DistrictConfig, out: Path, *,
                  start: dt.date | None = None, end: dt.date | None = None) -> list[Written]:
    """Write every report for days in [start, end] (inclusive; None = open) into ``out``."""
    if start is not None and end is not None and end < start:
        raise StationsError(f"--to {end} is before --from {start}")
    out.mkdir(parents=True, exist_ok=True)
    minimum = config.report.min_students
    written = []
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL TIME ZONE {}").format(
            sql.Literal(config.report.timezone)))
        for name, (view, columns, students) in REPORTS.items():
            where = [sql.SQL("{} >= %(min)s").format(sql.SQL(students))]
            if start is not None:
                where.append(sql.SQL("v.day >= %(start)s"))
            if end is not None:
                where.append(sql.SQL("v.day <= %(end)s"))
            cols = sql.SQL(", ").join(sql.SQL("v.") + sql.Identifier(c) for c in columns)
            query = sql.SQL("SELECT {cols} FROM {view} v WHERE {where} ORDER BY {cols}").format(
                cols=cols, view=sql.Identifier(view), where=sql.SQL(" AND ").join(where))
            args = {"min": minimum, "start": start, "end": end}
            rows = conn.execute(query, args).fetchall()
            total_query = sql.SQL("SELECT count(*) FROM {view} v WHERE {where}").format(
                view=sql.Identifier(view),
                where=sql.SQL(" AND ").join(where[1:]) if len(where) > 1 else sql.SQL("true"))
            total = conn.execute(total_query, args).fetchone()[0]  # type: ignore[index]
            path = out / name
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(columns)
                writer.writerows(rows)
            written.append(Written(path, len(rows), total - len(rows)))
            log.info("wrote %s: %d rows (%d withheld: fewer than %d students)", path,
                     len(rows), total - len(rows), minimum)
    return written
