"""Writing a batch of district records to PostgreSQL, idempotently on the record id."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import psycopg

from broker.contract import DistrictCheckIn

# One statement per batch: the columns travel as arrays and unnest into rows. A record
# already stored (a resend, a redelivery) is skipped by the primary key.
_INSERT = """
INSERT INTO checkins (id, room, student, class_id, station, station_kind, activity, answers,
                      tapped_at, made_at, stored_at)
SELECT id, room, student, class_id, station, station_kind, activity, answers::jsonb,
       to_timestamp(tapped), to_timestamp(made), to_timestamp(stored)
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[], %s::float8[], %s::float8[], %s::float8[])
     AS t(id, room, student, class_id, station, station_kind, activity, answers,
          tapped, made, stored)
ON CONFLICT (id, tapped_at) DO NOTHING
"""

_REJECTIONS = """
INSERT INTO ingest_rejections (day, reason, count)
SELECT current_date, reason, n FROM unnest(%s::text[], %s::bigint[]) AS t(reason, n)
ON CONFLICT (day, reason) DO UPDATE SET count = ingest_rejections.count + excluded.count
"""


def insert_records(conn: psycopg.Connection, records: Sequence[tuple[DistrictCheckIn, bytes]]
                   ) -> int:
    """Insert ``(record, answers_json)`` pairs; returns how many were new. Call inside a
    transaction."""
    if not records:
        return 0
    columns: list[list[object]] = [[] for _ in range(11)]
    for record, answers in records:
        row = (record.id, record.sender, record.student, record.class_id, record.station,
               record.station_kind, record.activity, answers.decode(), record.tapped_at,
               record.made_at, record.ts)
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    cur = conn.execute(_INSERT, columns)
    return cur.rowcount


def count_rejections(conn: psycopg.Connection, reasons: Counter[str]) -> None:
    """Add to the per-day count of refused records. Call inside the batch's transaction."""
    if reasons:
        names = sorted(reasons)
        conn.execute(_REJECTIONS, (names, [reasons[n] for n in names]))


def stored_counts(conn: psycopg.Connection, ids: Sequence[str]) -> dict[str, int]:
    """How many rows each of ``ids`` has (0 = lost, 2+ = duplicated): for checks."""
    counts = dict.fromkeys(ids, 0)
    for record_id, n in conn.execute(
            "SELECT id, count(*) FROM checkins WHERE id = ANY(%s) GROUP BY id", (list(ids),)):
        counts[record_id] = n
    return counts
