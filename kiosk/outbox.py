"""The station's durable outbox: a check-in is on disk before anything else happens to it.

Flow: :meth:`Outbox.add` commits the message (SQLite, synchronous=FULL, so it survives a
power cut); the kiosk publishes what :meth:`due` returns and calls :meth:`mark_sent`;
only the hub's reply (:meth:`acknowledge`) removes it. A message sent but never answered is
due again after ``retry_s``: the hub stores by message id, so a resend never counts twice.

A check-in the hub answers ``rejected`` (it will never accept it) moves to the quarantine
table (:meth:`quarantine`): kept, never sent again, counted in the station's status and
listed by ``stations outbox quarantine``. Nothing is ever deleted without the hub's answer.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from stations.errors import StoreError
from stations.sqlitedb import connect, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id         TEXT PRIMARY KEY,
    topic      TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at REAL NOT NULL,
    sent_at    REAL,
    attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS quarantine (
    id          TEXT PRIMARY KEY,
    topic       TEXT NOT NULL,
    payload     BLOB NOT NULL,
    created_at  REAL NOT NULL,
    attempts    INTEGER NOT NULL,
    reason      TEXT NOT NULL,             -- the hub's reason for rejecting it
    rejected_at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Pending:
    id: str
    topic: str
    payload: bytes
    created_at: float
    attempts: int


@dataclass(frozen=True, slots=True)
class Quarantined:
    id: str
    topic: str
    payload: bytes
    created_at: float
    attempts: int
    reason: str
    rejected_at: float


class Outbox:
    """One SQLite file per station. Not thread-safe: use it from the kiosk's main loop."""

    def __init__(self, path: Path | str, *, retry_s: float = 10.0) -> None:
        self.path = Path(path)
        self.retry_s = retry_s
        # synchronous=FULL: a check-in the student saw saved must survive the plug being pulled.
        self._db = connect(self.path, "outbox")
        try:
            self._db.executescript(_SCHEMA)
            # Kept in step with every add and acknowledge (this process is the only writer),
            # so the kiosk loop can ask every frame without a query.
            self._pending = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
            self._quarantined = self._db.execute("SELECT COUNT(*) FROM quarantine"
                                                 ).fetchone()[0]
        except sqlite3.Error as err:
            self._db.close()
            raise StoreError(f"outbox {self.path}: {err}") from err

    def add(self, message_id: str, topic: str, payload: bytes, now: float | None = None) -> None:
        self._pending += self._db.execute(
            "INSERT OR IGNORE INTO outbox (id, topic, payload, created_at) VALUES (?, ?, ?, ?)",
            (message_id, topic, payload, time.time() if now is None else now)).rowcount

    def due(self, now: float | None = None, limit: int = 50) -> list[Pending]:
        """Messages never sent, or sent more than ``retry_s`` ago without an answer."""
        now = time.time() if now is None else now
        rows = self._db.execute(
            "SELECT id, topic, payload, created_at, attempts FROM outbox "
            "WHERE sent_at IS NULL OR sent_at <= ? ORDER BY created_at LIMIT ?",
            (now - self.retry_s, limit)).fetchall()
        return [Pending(*row) for row in rows]

    def mark_sent(self, message_id: str, now: float | None = None) -> None:
        self._db.execute("UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?",
                         (time.time() if now is None else now, message_id))

    def reset_sent(self) -> None:
        """After a reconnect everything unanswered is due at once."""
        self._db.execute("UPDATE outbox SET sent_at = NULL")

    def acknowledge(self, message_id: str) -> bool:
        """The hub answered: forget the message. False if it was not (or no longer) here."""
        removed = self._db.execute("DELETE FROM outbox WHERE id = ?", (message_id,)).rowcount
        self._pending -= removed
        return removed > 0

    def quarantine(self, message_id: str, reason: str, now: float | None = None) -> bool:
        """The hub rejected it for good: move it to the quarantine table, in one transaction.
        False if it was not (or no longer) in the outbox."""
        with transaction(self._db):
            moved = self._db.execute(
                "INSERT OR IGNORE INTO quarantine (id, topic, payload, created_at, attempts, "
                "reason, rejected_at) SELECT id, topic, payload, created_at, attempts, ?, ? "
                "FROM outbox WHERE id = ?",
                (reason, time.time() if now is None else now, message_id)).rowcount
            removed = self._db.execute("DELETE FROM outbox WHERE id = ?",
                                       (message_id,)).rowcount
        self._pending -= removed
        self._quarantined += moved
        return removed > 0

    def quarantined(self) -> list[Quarantined]:
        rows = self._db.execute("SELECT id, topic, payload, created_at, attempts, reason, "
                                "rejected_at FROM quarantine ORDER BY rejected_at, id").fetchall()
        return [Quarantined(*row) for row in rows]

    def quarantined_count(self) -> int:
        return self._quarantined

    def pending_count(self) -> int:
        return self._pending

    def all(self) -> list[Pending]:
        rows = self._db.execute("SELECT id, topic, payload, created_at, attempts FROM outbox "
                                "ORDER BY created_at").fetchall()
        return [Pending(*row) for row in rows]

    def close(self) -> None:
        self._db.close()
