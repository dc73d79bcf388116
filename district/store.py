"""Writing a batch of district records to PostgreSQL, idempotently on the record id; and
a room's erasure of one student's records, which no later record can undo."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

import psycopg

from broker.contract import DistrictCheckIn, DistrictErasure

#: Advisory lock (a constant unique to this application): every batch takes it shared, a
#: batch with erasures exclusive, so that an erasure never runs beside an insert of the same
#: student by another worker (neither would see the other's rows before its commit).
ERASURE_LOCK = 0x5354_0003

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


def student_digest(room: str, student: str) -> bytes:
    """What the tombstone of an erased student keeps instead of the id."""
    return hashlib.sha256(f"{room}\0{student}".encode()).digest()


def lock_for(conn: psycopg.Connection, erasing: bool) -> None:
    """Take :data:`ERASURE_LOCK` for this transaction (exclusive when ``erasing``)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)" if erasing else
                 "SELECT pg_advisory_xact_lock_shared(%s)", (ERASURE_LOCK,))


_TOMBSTONE = """
INSERT INTO erasures (digest, room, erased_at)
SELECT d, r, to_timestamp(t) FROM unnest(%s::bytea[], %s::text[], %s::float8[]) AS e(d, r, t)
ON CONFLICT (digest) DO UPDATE SET erased_at = greatest(erasures.erased_at, excluded.erased_at)
"""
_ERASE = """
DELETE FROM checkins c USING unnest(%s::text[], %s::text[]) AS e(room, student)
WHERE c.room = e.room AND c.student = e.student
"""
_ERASED = """
SELECT t.id FROM unnest(%s::text[], %s::bytea[], %s::float8[]) AS t(id, digest, stored)
JOIN erasures e ON e.digest = t.digest AND to_timestamp(t.stored) <= e.erased_at
"""


def erase_students(conn: psycopg.Connection, erasures: Sequence[DistrictErasure]) -> int:
    """Delete every row of each erasure's student of its room (all partitions) and keep the
    tombstone; returns the rows deleted. An erasure no newer than the student's tombstone (a
    resend, or one overtaken by a later erasure) changes nothing: the rows of a student
    re-enrolled since are not its to delete. Call inside a transaction holding
    :func:`lock_for` exclusive."""
    latest: dict[bytes, DistrictErasure] = {}
    for e in erasures:
        digest = student_digest(e.sender, e.student)
        if digest not in latest or e.ts > latest[digest].ts:
            latest[digest] = e
    if not latest:
        return 0
    done = dict(conn.execute("SELECT digest, extract(epoch FROM erased_at)::float8 "
                             "FROM erasures WHERE digest = ANY(%s)", (list(latest),)))
    # PostgreSQL keeps microseconds: a resend's ts may differ from the stored one by that.
    new = [e for d, e in latest.items() if d not in done or e.ts > done[d] + 0.001]
    if not new:
        return 0
    conn.execute(_TOMBSTONE, ([student_digest(e.sender, e.student) for e in new],
                              [e.sender for e in new], [e.ts for e in new]))
    cur = conn.execute(_ERASE, ([e.sender for e in new], [e.student for e in new]))
    return cur.rowcount


def erased_records(conn: psycopg.Connection, records: Sequence[DistrictCheckIn]) -> set[str]:
    """Ids of ``records`` whose student their room erased after the hub stored them: they
    arrived late (in flight behind the erasure) and must not bring the student back."""
    if not records:
        return set()
    rows = conn.execute(_ERASED, ([r.id for r in records],
                                  [student_digest(r.sender, r.student) for r in records],
                                  [r.ts for r in records]))
    return {row[0] for row in rows}
