"""The district database's schema: versioned SQL migrations and monthly partitions.

Migrations are the numbered files in ``district/migrations`` (``NNNN_name.sql``), applied in
order, each in its own transaction with its row in ``schema_migrations``, under an advisory
lock so that several ingest processes starting at once apply each exactly once. A migration
that fails rolls back whole and stops the command with its file name.

``checkins`` is partitioned by the month of ``tapped_at`` (UTC months): partitions are made
``months_ahead`` ahead at every start and every hour, and on demand for a batch that holds an
older month (a room back after the summer). Retention drops whole partitions older than
``keep_months``: no row-by-row delete (and the erasure tombstones as old).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import psycopg
from psycopg import sql

from stations.errors import StationsError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_PARTITION = re.compile(r"^checkins_y(\d{4})m(\d{2})$")
#: Advisory lock keys (any constants unique to this application).
MIGRATE_LOCK = 0x5354_0001
PARTITION_LOCK = 0x5354_0002


class SchemaError(StationsError, RuntimeError):
    """A migration failed or the database is newer than this build."""


def migrations(folder: Path = MIGRATIONS) -> list[tuple[int, Path]]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise SchemaError(f"{path}: migration files are named NNNN_name.sql")
        found.append((int(match.group(1)), path))
    versions = [v for v, _ in found]
    if len(set(versions)) != len(versions):
        raise SchemaError(f"{folder}: two migrations share a number")
    return found


def migrate(conn: psycopg.Connection, folder: Path = MIGRATIONS) -> list[str]:
    """Apply the migrations not applied yet; returns their file names."""
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version integer PRIMARY KEY, name text NOT NULL, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        known = migrations(folder)
        newer = done - {v for v, _ in known}
        if newer:
            raise SchemaError(f"the database has migrations {sorted(newer)} this build does "
                              "not know: run a newer version of stations")
        for version, path in known:
            if version in done:
                continue
            try:
                with conn.transaction():
                    conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[arg-type]
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                                  (version, path.name))
            except psycopg.Error as err:
                raise SchemaError(f"migration {path.name} failed: {err}") from err
            log.info("applied migration %s", path.name)
            applied.append(path.name)
    return applied


def month_of(when: dt.datetime | dt.date) -> dt.date:
    return dt.date(when.year, when.month, 1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"checkins_y{month.year:04d}m{month.month:02d}"


def partitions(conn: psycopg.Connection) -> set[dt.date]:
    """The months that have a partition."""
    months = set()
    for (name,) in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'checkins'"):
        match = _PARTITION.match(name)
        if match:
            months.add(dt.date(int(match.group(1)), int(match.group(2)), 1))
    return months


def ensure_partitions(conn: psycopg.Connection, months: Iterable[dt.date]) -> list[str]:
    """Create the monthly partitions that are missing (one transaction, under a lock)."""
    wanted = sorted({month_of(m) for m in months})
    created = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
        have = partitions(conn)
        for month in wanted:
            if month in have:
                continue
            name = partition_name(month)
            conn.execute(sql.SQL(
                "CREATE TABLE {} PARTITION OF checkins FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier(name), sql.Literal(f"{month.isoformat()} 00:00:00+00"),
                sql.Literal(f"{add_months(month, 1).isoformat()} 00:00:00+00")))
            created.append(name)
    for name in created:
        log.info("created partition %s", name)
    return created


def retention_cutoff(today: dt.date, keep_months: int) -> dt.date | None:
    """The first month still kept (None: keep everything)."""
    if keep_months <= 0:
        return None
    return add_months(month_of(today), -keep_months)


def drop_expired(conn: psycopg.Connection, today: dt.date, keep_months: int) -> list[str]:
    """Drop whole partitions older than the retention period."""
    cutoff = retention_cutoff(today, keep_months)
    if cutoff is None:
        return []
    dropped = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
        for month in sorted(partitions(conn)):
            if month < cutoff:
                name = partition_name(month)
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
                dropped.append(name)
        # A tombstone guards against records stored before its erasure: older than the
        # cutoff, they are refused as expired anyway.
        conn.execute("DELETE FROM erasures WHERE erased_at < %s",
                     (dt.datetime(cutoff.year, cutoff.month, 1, tzinfo=dt.UTC),))
    for name in dropped:
        log.info("retention: dropped partition %s (older than %d months)", name, keep_months)
    return dropped


def sync_rooms(conn: psycopg.Connection, rooms: Iterable[tuple[str, str]]) -> None:
    """The district's inventory of rooms and their schools, from district.toml."""
    with conn.transaction():
        conn.cursor().executemany(
            "INSERT INTO rooms (id, school) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE "
            "SET school = excluded.school, updated_at = now() "
            "WHERE rooms.school IS DISTINCT FROM excluded.school", list(rooms))


def prepare(conn: psycopg.Connection, *, months_ahead: int, keep_months: int,
            rooms: Iterable[tuple[str, str]] = (), today: dt.date | None = None) -> None:
    """Everything the ingest needs before it runs, and again every hour."""
    today = today or dt.datetime.now(dt.UTC).date()
    migrate(conn)
    sync_rooms(conn, rooms)
    current = month_of(today)
    ensure_partitions(conn, [add_months(current, n) for n in range(months_ahead + 1)])
    drop_expired(conn, today, keep_months)
