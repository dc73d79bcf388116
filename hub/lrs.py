"""xAPI statements out to a learning record store, through a durable queue in the hub's
database (``xapi_outbox``).

The ingest writes each stored check-in's statements into the queue in the check-in's own
transaction (:class:`StatementFeed`). A thread of the hub (:class:`StatementSender`) with a
database connection of its own sends what is queued, oldest first, in batches (``POST
statements`` with a list, xAPI 1.0.3 headers, basic auth or an OAuth 2 token), and deletes
a row only once the LRS has the statement. An LRS that is down, slow or refusing the hub's
credentials is retried with exponential backoff (capped), for as long as it takes, across
hub restarts. An LRS answers an id it already has with 204 or 409: that is "stored" too,
so a statement sent twice (a crash after the LRS took it, before the row was deleted) is
stored once. A statement the LRS refuses for good (400) is kept with the reason, not resent.

Schools without an LRS name a file instead: the same statements, one JSON object a line.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from broker.contract import CheckIn
from hub.xapi import XAPI_VERSION, Names, XapiSettings, statements, voiding
from stations.sqlitedb import connect, transaction

log = logging.getLogger(__name__)

HEADERS = {"X-Experience-API-Version": XAPI_VERSION, "Content-Type": "application/json"}
FIRST_BACKOFF_S = 1.0
IDLE_POLL_S = 1.0
TIMEOUT_S = 30.0


class StatementFeed:
    """Turns a stored check-in into its statements' outbox rows (inside the ingest's batch)."""

    def __init__(self, settings: XapiSettings, names: Names) -> None:
        self.settings = settings
        self.names = names

    def rows(self, message: CheckIn, station: str, student_id: str,
             now: float) -> list[tuple[object, ...]]:
        return [(s["id"], message.id, student_id, json.dumps(s, separators=(",", ":")), now)
                for s in statements(message, station, student_id, self.names,
                                    self.settings)]

    def voiding_rows(self, voided_ids: Iterable[str], now: float) -> list[tuple[object, ...]]:
        """Outbox rows of the statements withdrawing ``voided_ids`` (a student's erasure).
        They name no student and no check-in: they outlive both."""
        return [(v["id"], "", "", json.dumps(v, separators=(",", ":")), now)
                for v in (voiding(i, self.names.room, self.settings, now) for i in voided_ids)]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a batch: ids the LRS has, ids refused for good (with the reason);
    the rest wait (``retry`` says why, if anything did)."""

    stored: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()
    retry: str = ""
    #: False when the statements left waiting certainly never reached the sink (no
    #: connection): they stay "never tried", and an erasure has nothing of them to void.
    reached: bool = True


class Sink(Protocol):
    def send(self, batch: Sequence[dict[str, Any]]) -> Outcome: ...

    def close(self) -> None: ...


class LrsSink:
    """POST /statements to an LRS with httpx: basic auth, or an OAuth 2 client-credentials
    bearer token fetched (and refreshed) from ``token_url``."""

    def __init__(self, settings: XapiSettings, client: Any = None) -> None:
        import httpx

        self._httpx = httpx
        self.settings = settings
        self.url = settings.endpoint.rstrip("/") + "/statements"
        auth = (settings.username, settings.password) if settings.username else None
        self.client = client or httpx.Client(timeout=TIMEOUT_S, auth=auth, headers=HEADERS)
        self._token = ""
        self._token_until = 0.0

    def _headers(self) -> dict[str, str]:
        if not self.settings.token_url:
            return {}
        if time.time() >= self._token_until:
            answer = self.client.post(self.settings.token_url,
                                      data={"grant_type": "client_credentials"},
                                      auth=(self.settings.client_id,
                                            self.settings.client_secret),
                                      headers={"Content-Type":
                                               "application/x-www-form-urlencoded"})
            answer.raise_for_status()
            token = answer.json()
            self._token = token["access_token"]
            self._token_until = time.time() + float(token.get("expires_in", 3600)) * 0.9
        return {"Authorization": f"Bearer {self._token}"}

    def _post(self, body: Sequence[dict[str, Any]] | dict[str, Any]) -> Any:
        return self.client.post(self.url, content=json.dumps(body), headers=self._headers())

    def send(self, batch: Sequence[dict[str, Any]]) -> Outcome:
        ids = tuple(s["id"] for s in batch)
        stored: list[str] = []
        refused: list[tuple[str, str]] = []
        try:
            answer = self._post(list(batch))
            if answer.status_code == 401 and self.settings.token_url:
                # A token revoked or expired early: fetch a new one and try once more.
                self._token_until = 0.0
                answer = self._post(list(batch))
            if answer.status_code in (200, 204):  # 204: it had every one of them already
                return Outcome(stored=ids)
            if answer.status_code not in (400, 409):
                return Outcome(retry=f"HTTP {answer.status_code}: {answer.text[:200]}")
            # One statement spoils the batch (a conflict, a statement it refuses): one by
            # one, to store the rest and to know which. (An LRS stores none of a batch it
            # refuses.)
            for statement in batch:
                single = self._post(statement)
                if single.status_code in (200, 204):
                    stored.append(statement["id"])
                elif single.status_code == 409:  # it has this id: stored, even if it differs
                    log.warning("the LRS already has statement %s (409): counted as stored",
                                statement["id"])
                    stored.append(statement["id"])
                elif single.status_code == 400:
                    refused.append((statement["id"], single.text[:300]))
                else:
                    return Outcome(tuple(stored), tuple(refused),
                                   f"HTTP {single.status_code}: {single.text[:200]}")
            return Outcome(tuple(stored), tuple(refused))
        except self._httpx.ConnectError as err:  # no connection: nothing was sent
            return Outcome(tuple(stored), tuple(refused), f"{type(err).__name__}: {err}",
                           reached=False)
        except (self._httpx.HTTPError, ValueError, KeyError) as err:
            return Outcome(tuple(stored), tuple(refused), f"{type(err).__name__}: {err}")

    def close(self) -> None:
        self.client.close()


class FileSink:
    """Statements appended to a JSON-lines file, on disk (fsync) before they leave the queue.
    A crash between the two writes a line twice: the statement id tells the copies apart."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, batch: Sequence[dict[str, Any]]) -> Outcome:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                for statement in batch:
                    fh.write(json.dumps(statement, separators=(",", ":")) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as err:
            return Outcome(retry=str(err))
        return Outcome(stored=tuple(s["id"] for s in batch))

    def close(self) -> None:
        pass


def stored_statements(db: sqlite3.Connection, names: Names, settings: XapiSettings,
                      start: float, end: float) -> list[dict[str, Any]]:
    """The statements of every check-in stored with a tap in [start, end), oldest first
    (``stations xapi export``): the same ids as the queue's, so an LRS keeps one of each."""
    rows = db.execute("SELECT id, station, student_id, badge, answers, activity, tapped_at, "
                      "sent_at FROM checkins WHERE tapped_at >= ? AND tapped_at < ? "
                      "ORDER BY tapped_at, id", (start, end)).fetchall()
    out: list[dict[str, Any]] = []
    for cid, station, student_id, badge, answers, activity, tapped_at, sent_at in rows:
        message = CheckIn(v=1, id=cid, sender=station, ts=sent_at, badge=badge,
                          answers=json.loads(answers), activity=activity, tapped_at=tapped_at)
        out.extend(statements(message, station, student_id, names, settings))
    return out


def open_sink(settings: XapiSettings, base: Path) -> Sink:
    return FileSink(base / settings.file) if settings.file else LrsSink(settings)


@dataclass
class SenderStats:
    sent: int = 0
    refused: int = 0
    failures: int = 0
    last_error: str = ""


class StatementSender:
    """Drains ``xapi_outbox`` into a sink: the hub runs :meth:`run` on a thread of its own;
    tests and the CLI call :meth:`send_due`."""

    def __init__(self, database: Path, sink: Sink, *, batch: int = 50,
                 max_backoff_s: float = 300.0, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.db = connect(database, "hub database", check_same_thread=False)
        self.sink = sink
        self.batch = batch
        self.max_backoff_s = max_backoff_s
        self.clock = clock
        self.stats = SenderStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = 0.0

    def pending(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM xapi_outbox WHERE failed IS NULL"
                               ).fetchone()[0]

    def send_due(self) -> int:
        """Send one batch; returns how many left the queue (-1: the sink failed, retry)."""
        due = "SELECT id, statement FROM xapi_outbox WHERE failed IS NULL ORDER BY seq LIMIT ?"
        if not self.db.execute(due, (self.batch,)).fetchone():
            return 0
        # Counted as tried before the POST, in the transaction that picks the batch: from
        # here on the LRS may have these statements (a timeout may hide that it took them),
        # so an erasure, which cannot run in between, voids them rather than forget them.
        with transaction(self.db):
            rows = self.db.execute(due, (self.batch,)).fetchall()
            self.db.executemany("UPDATE xapi_outbox SET attempts=attempts+1 WHERE id=?",
                                [(i,) for i, _b in rows])
        outcome = self.sink.send([json.loads(body) for _id, body in rows])
        with transaction(self.db):
            self.db.executemany("DELETE FROM xapi_outbox WHERE id=?",
                                [(i,) for i in outcome.stored])
            self.db.executemany("UPDATE xapi_outbox SET failed=? WHERE id=?",
                                [(why, i) for i, why in outcome.refused])
            if not outcome.reached:
                done = set(outcome.stored) | {i for i, _ in outcome.refused}
                self.db.executemany("UPDATE xapi_outbox SET attempts=attempts-1 WHERE id=?",
                                    [(i,) for i, _b in rows if i not in done])
        self.stats.sent += len(outcome.stored)
        self.stats.refused += len(outcome.refused)
        for statement_id, why in outcome.refused:
            log.warning("the LRS refused statement %s for good (kept, not resent): %s",
                        statement_id, why)
        if outcome.retry:
            self.stats.failures += 1
            if outcome.retry != self.stats.last_error:
                log.warning("xAPI statements not sent (%d waiting): %s; retrying with "
                            "backoff", self.pending(), outcome.retry)
            self.stats.last_error = outcome.retry
            return -1
        if self.stats.last_error:
            log.info("the LRS takes statements again")
            self.stats.last_error = ""
        return len(outcome.stored) + len(outcome.refused)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                moved = self.send_due()
            except sqlite3.Error as err:
                log.error("xAPI outbox: %s", err)
                moved = -1
            if moved < 0:
                self._backoff = min(self.max_backoff_s,
                                    max(FIRST_BACKOFF_S, self._backoff * 2))
                # Jitter, so that a school's hubs do not all come back in the same second.
                self._stop.wait(self._backoff * random.uniform(0.5, 1.0))
            else:
                self._backoff = 0.0
                if moved == 0:
                    self._stop.wait(IDLE_POLL_S)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="hub-xapi", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT_S + 5)
        self.sink.close()
        self.db.close()
