"""The station's durable outbox: a check-in is on disk before anything else happens to it.

Flow: :meth:`Outbox.add` commits the message (SQLite, synchronous=FULL, so it survives a
power cut); the kiosk publishes what :meth:`due` returns and calls :meth:`mark_sent`;
only the hub's reply (:meth:`acknowledge`) removes it. A message sent but never answered is
due again after ``retry_s``: the hub stores by message id, so a resend never counts twice.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from stations.errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id         TEXT PRIMARY KEY,
    topic      TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at REAL NOT NULL,
    sent_at    REAL,
    attempts   INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True, slots=True)
class Pending:
    id: str
    topic: str
    payload: bytes
    created_at: float
    attempts: int


class Outbox:
    """One SQLite file per station. Not thread-safe: use it from the kiosk's main loop."""

    def __init__(self, path: Path | str, *, retry_s: float = 10.0) -> None:
        self.path = Path(path)
        self.retry_s = retry_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a check-in the student saw accepted must survive the plug being pulled.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            # Kept in step with every add and acknowledge (this process is the only writer),
            # so the kiosk loop can ask every frame without a query.
            self._pending = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        except sqlite3.Error as err:
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

    def pending_count(self) -> int:
        return self._pending

    def all(self) -> list[Pending]:
        rows = self._db.execute("SELECT id, topic, payload, created_at, attempts FROM outbox "
                                "ORDER BY created_at").fetchall()
        return [Pending(*row) for row in rows]

    def close(self) -> None:
        self._db.close()
