"""SQLite the way every device here uses it: durable on disk, one real transaction per change.

Both the hub's store and the station's outbox open their file with :func:`connect` and make
every change of more than one statement inside :func:`transaction`.

The connection runs in autocommit (``isolation_level=None``): Python's ``sqlite3`` then never
opens a transaction on its own, and ``with connection:`` does *not* open one either (it only
commits one that is already open). So a change of several statements is atomic only inside
:func:`transaction`, which issues ``BEGIN IMMEDIATE`` … ``COMMIT`` itself and ``ROLLBACK`` on
any error. (Python 3.12's ``autocommit`` attribute would do the same; 3.11 is the floor.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from stations.errors import StoreError


def connect(path: Path | str, what: str, *, check_same_thread: bool = True
            ) -> sqlite3.Connection:
    """Open (creating its folder) a WAL database that keeps every commit through a power cut.

    ``what`` names the file in errors ("hub database", "outbox").
    """
    try:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=check_same_thread)
        db.execute("PRAGMA journal_mode=WAL")
        # Acknowledged means durable. SQLite's documentation of PRAGMA synchronous
        # (https://www.sqlite.org/pragma.html#pragma_synchronous): in WAL mode with NORMAL,
        # "a transaction committed ... might roll back following a power loss or system
        # crash"; with FULL "an additional sync operation of the WAL file happens after each
        # transaction commit", which makes commits durable across a power loss. A station
        # forgets a check-in once the hub answers, and the hub answers after its commit, so
        # the hub's commit has to be on the disk, not in the page cache. One fsync per
        # transaction; the ingest batches many check-ins into one.
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        return db
    except sqlite3.Error as err:
        raise StoreError(f"{what} {path}: {err}") from err


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One real transaction: everything inside commits together or not at all.

    ``BEGIN IMMEDIATE`` takes the write lock at the start, so what is read inside (is this
    badge someone else's?) cannot change before the write. Any exception rolls everything
    back and propagates. Used inside another transaction it becomes a savepoint: an error
    undoes only the inner part (and, if it propagates, the outer rolls back as well).
    """
    if db.in_transaction:
        db.execute("SAVEPOINT nested")
        try:
            yield db
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK TO nested")
                db.execute("RELEASE nested")
            raise
        db.execute("RELEASE nested")
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        # Some errors (disk full, I/O) have rolled back already: then there is nothing to do.
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def add_columns(db: sqlite3.Connection,
                columns: Mapping[str, Sequence[tuple[str, str]]]) -> None:
    """Add columns a later release introduced to a database made by an earlier one."""
    for table, wanted in columns.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, decl in wanted:
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
