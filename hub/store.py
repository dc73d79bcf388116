"""The hub's SQLite database (WAL): check-ins stored once per message id, station status,
unknown badges, the rotation state that must survive a restart, and the district outbox."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from broker.contract import CheckIn
from stations.errors import StoreError
from stations.sqlitedb import add_columns, connect, transaction

_json = msgspec.json.Encoder(order="sorted")

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkins (
    id          TEXT PRIMARY KEY,          -- the station's message id: resends collapse here
    station     TEXT NOT NULL,
    student_id  TEXT NOT NULL,
    badge       TEXT NOT NULL,
    answers     TEXT NOT NULL,             -- JSON object
    activity    TEXT NOT NULL,
    tapped_at   REAL NOT NULL,
    sent_at     REAL NOT NULL,
    received_at REAL NOT NULL
) WITHOUT ROWID;  -- keyed by the message id alone: one b-tree to insert into, not two
CREATE INDEX IF NOT EXISTS checkins_student ON checkins(student_id, tapped_at);
CREATE TABLE IF NOT EXISTS unknown_badges (
    id        TEXT PRIMARY KEY,
    station   TEXT NOT NULL,
    badge     TEXT NOT NULL,
    seen_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS station_status (
    station     TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    pending     INTEGER NOT NULL,
    reader      TEXT NOT NULL,
    updated_at  REAL NOT NULL,
    quarantined INTEGER NOT NULL DEFAULT 0  -- check-ins the hub refused, kept at the station
);
CREATE TABLE IF NOT EXISTS hub_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Every activity each station's menu has offered (now or in an earlier plan): a check-in
-- for one of them is a fact to store even after the teacher changed the menu.
CREATE TABLE IF NOT EXISTS offered_activities (
    station  TEXT NOT NULL,
    activity TEXT NOT NULL,
    PRIMARY KEY (station, activity)
) WITHOUT ROWID;
-- What the district has not confirmed yet: one row per stored check-in, written in the same
-- transaction as the check-in, deleted only when the district's ingest confirms its commit.
CREATE TABLE IF NOT EXISTS district_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- sending order
    id         TEXT NOT NULL UNIQUE,               -- the check-in's id
    student_id TEXT NOT NULL,                      -- for a family's erase request
    payload    BLOB NOT NULL,                      -- the encoded DistrictCheckIn, sent as is
    queued_at  REAL NOT NULL,
    rejected   TEXT                                -- the district's reason, when refused for good
);
-- xAPI statements not yet taken by the learning record store: written in the same
-- transaction as their check-in, deleted only when the LRS has them (hub/lrs.py).
CREATE TABLE IF NOT EXISTS xapi_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- sending order
    id         TEXT NOT NULL UNIQUE,               -- the statement's id
    checkin_id TEXT NOT NULL,
    student_id TEXT NOT NULL,                      -- for a family's erase request
    statement  TEXT NOT NULL,                      -- the statement as JSON, sent as is
    queued_at  REAL NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,         -- POSTs begun: from 1, the LRS may have it
    failed     TEXT                                -- the LRS's reason, when refused for good
);
-- Every class that meets in the room keeps its own lessons (hub/lessons.py): plans beyond
-- the room's own (the config's [rotation]), groups, constraints, settings over the config's.
CREATE TABLE IF NOT EXISTS class_plans (
    class_id      TEXT NOT NULL,
    plan_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    stations      TEXT NOT NULL,                   -- JSON list of station ids, in order
    block_minutes REAL NOT NULL,
    model         TEXT NOT NULL,
    PRIMARY KEY (class_id, plan_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS class_groups (
    class_id   TEXT PRIMARY KEY,
    groups     TEXT NOT NULL,                      -- JSON [{"id", "name", "members"}]
    source     TEXT NOT NULL,                      -- config, even split, approved, regroup
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS class_constraints (
    class_id    TEXT PRIMARY KEY,
    constraints TEXT NOT NULL                      -- JSON, hub.grouping's constraints file
);
CREATE TABLE IF NOT EXISTS class_settings (
    class_id TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,                        -- JSON
    PRIMARY KEY (class_id, key)
) WITHOUT ROWID;
-- When each class meets: the hub proposes the class (and plan) of the hour.
CREATE TABLE IF NOT EXISTS timetable (
    weekday  INTEGER NOT NULL,                     -- 0 Monday .. 6 Sunday
    start    TEXT NOT NULL,                        -- HH:MM, local time
    end      TEXT NOT NULL,
    class_id TEXT NOT NULL,
    plan_id  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (weekday, start)
) WITHOUT ROWID;
-- Each lesson run: its class, plan, time and the groups that worked together (the pair
-- history the grouping engine avoids repeating, and the window of the reflections it reads).
CREATE TABLE IF NOT EXISTS lessons (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    class_id   TEXT NOT NULL,
    plan_id    TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at   REAL,
    groups     TEXT NOT NULL                       -- JSON [[member ids], ...]
);
CREATE INDEX IF NOT EXISTS lessons_class ON lessons(class_id, started_at);
-- Assessment scores per class and standard (hub/scores.py); every import is kept, the
-- latest score of a student on a standard counts (by date, then import).
CREATE TABLE IF NOT EXISTS score_imports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    class_id    TEXT NOT NULL,
    file        TEXT NOT NULL,
    imported_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    import_id  INTEGER NOT NULL REFERENCES score_imports(id),
    class_id   TEXT NOT NULL,
    student_id TEXT NOT NULL,
    standard   TEXT NOT NULL,
    taken_on   TEXT NOT NULL,                      -- YYYY-MM-DD
    score      REAL NOT NULL,                      -- 0-100 (a 1-4 rubric mapped 1 -> 0, 4 -> 100)
    scale      TEXT NOT NULL,                      -- 0-100 or 1-4, as the file gave it
    PRIMARY KEY (import_id, student_id, standard, taken_on)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scores_class ON scores(class_id, student_id, standard);
CREATE INDEX IF NOT EXISTS scores_student ON scores(student_id);
"""

#: Columns added after the first release: created on an old database at open.
_ADDED_COLUMNS = {"station_status": [("quarantined", "INTEGER NOT NULL DEFAULT 0")]}

#: The rotation's whole state in ``hub_state``: saved with every change (see HubService).
ROTATION_KEY = "rotation"
#: Settings changed while the hub runs (the console), over the config file's values.
SETTINGS_KEY = "settings"
#: The lesson the rotation state belongs to: its class and plan (hub/lessons.py).
LESSON_KEY = "lesson"


_INSERT_CHECKIN = ("INSERT OR IGNORE INTO checkins (id, station, student_id, badge, answers, "
                   "activity, tapped_at, sent_at, received_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


_INSERT_DISTRICT = ("INSERT OR IGNORE INTO district_outbox (id, student_id, payload, queued_at) "
                    "VALUES (?, ?, ?, ?)")

_INSERT_STATEMENT = ("INSERT OR IGNORE INTO xapi_outbox (id, checkin_id, student_id, statement, "
                     "queued_at) VALUES (?, ?, ?, ?, ?)")


def checkin_row(message: CheckIn, station: str, student_id: str,
                received_at: float) -> tuple[object, ...]:
    return (message.id, station, student_id, message.badge, _json.encode(message.answers),
            message.activity, message.tapped_at, message.ts, received_at)


@dataclass(frozen=True, slots=True)
class CheckInRecord:
    """A stored check-in with its reflection answers, for export and the teacher's flags."""

    id: str
    station: str
    student_id: str
    badge: str
    answers: dict[str, int]
    activity: str
    tapped_at: float
    received_at: float


@dataclass(frozen=True, slots=True)
class Purged:
    checkins: int
    unknown_badges: int
    scores: int = 0
    lessons: int = 0


def open_db(path: Path | str) -> sqlite3.Connection:
    """One connection for the hub's ingest thread; WAL so readers never block it, and
    synchronous=FULL so that a commit the hub acknowledges survives a power cut."""
    db = connect(path, "hub database", check_same_thread=False)
    try:
        db.executescript(SCHEMA)
        add_columns(db, _ADDED_COLUMNS)
        return db
    except sqlite3.Error as err:
        db.close()
        raise StoreError(f"hub database {path}: {err}") from err


@dataclass(frozen=True, slots=True)
class QueuedRecord:
    """One record in the district outbox, ready to publish."""

    seq: int
    id: str
    payload: bytes


class HubStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One real transaction (see :func:`stations.sqlitedb.transaction`)."""
        with transaction(self.db) as db:
            yield db

    def add_checkin(self, message: CheckIn, station: str, student_id: str,
                    received_at: float,
                    district: tuple[object, ...] | None = None) -> bool:
        """Store once (with its district outbox row, if given, in the same transaction);
        False if this message id was already stored (a resend)."""
        with self.transaction():
            cur = self.db.execute(_INSERT_CHECKIN,
                                  checkin_row(message, station, student_id, received_at))
            if cur.rowcount > 0 and district is not None:
                self.db.execute(_INSERT_DISTRICT, district)
        return cur.rowcount > 0

    def add_checkin_rows(self, rows: list[tuple[object, ...]],
                         district: Sequence[tuple[object, ...]] = (),
                         statements: Sequence[tuple[object, ...]] = ()) -> None:
        """Many new check-ins (rows from :func:`checkin_row`) with, in the same transaction,
        what goes out of the room for them: their district outbox rows (``(id, student_id,
        payload, queued_at)``) and their xAPI statements' outbox rows (``(id, checkin_id,
        student_id, statement, queued_at)``)."""
        if not rows:
            return
        with self.transaction():
            self.db.executemany(_INSERT_CHECKIN, rows)
            if district:
                self.db.executemany(_INSERT_DISTRICT, district)
            if statements:
                self.db.executemany(_INSERT_STATEMENT, statements)

    def queue_district(self, row: tuple[object, ...]) -> None:
        """One district outbox row (``(id, student_id, payload, queued_at)``); in the caller's
        transaction."""
        self.db.execute(_INSERT_DISTRICT, row)

    def queue_statements(self, rows: Sequence[tuple[object, ...]]) -> None:
        """xAPI outbox rows (``(id, checkin_id, student_id, statement, queued_at)``); in the
        caller's transaction."""
        self.db.executemany(_INSERT_STATEMENT, rows)

    # --- the district outbox ------------------------------------------------------------------

    def district_after(self, seq: int, limit: int) -> list[QueuedRecord]:
        """Queued records after ``seq`` in sending order (those refused for good left out)."""
        return [QueuedRecord(*row) for row in self.db.execute(
            "SELECT seq, id, payload FROM district_outbox WHERE seq > ? AND rejected IS NULL "
            "ORDER BY seq LIMIT ?", (seq, limit))]

    def district_confirmed(self, ids: Iterable[str]) -> int:
        """Drop records the district has committed; how many were still queued."""
        ids = list(ids)
        with self.transaction():
            return sum(self.db.execute("DELETE FROM district_outbox WHERE id=?",
                                       (i,)).rowcount for i in ids)

    def district_refused(self, reasons: Iterable[tuple[str, str]]) -> int:
        """Set aside records the district refused for good (kept, never resent)."""
        with self.transaction():
            return sum(self.db.execute(
                "UPDATE district_outbox SET rejected=? WHERE id=? AND rejected IS NULL",
                (reason, record_id)).rowcount for record_id, reason in reasons)

    def district_pending(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM district_outbox "
                               "WHERE rejected IS NULL").fetchone()[0]

    def district_refusals(self) -> list[tuple[str, str]]:
        """``(id, reason)`` of every record the district refused."""
        return self.db.execute("SELECT id, rejected FROM district_outbox "
                               "WHERE rejected IS NOT NULL ORDER BY seq").fetchall()

    def stored_ids(self, ids: list[str]) -> set[str]:
        """Which of these message ids are stored already."""
        found: set[str] = set()
        for i in range(0, len(ids), 500):  # SQLite's bound-parameter limit, with room
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(row[0] for row in self.db.execute(
                f"SELECT id FROM checkins WHERE id IN ({marks})", chunk))
        return found

    def add_unknown(self, message_id: str, station: str, badge: str, seen_at: float) -> None:
        self.db.execute("INSERT OR IGNORE INTO unknown_badges (id, station, badge, seen_at) "
                        "VALUES (?, ?, ?, ?)", (message_id, station, badge, seen_at))

    def set_station_status(self, station: str, state: str, pending: int, reader: str,
                           now: float, quarantined: int = 0) -> None:
        self.db.execute("INSERT INTO station_status (station, state, pending, reader, "
                        "updated_at, quarantined) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(station) DO UPDATE SET state=excluded.state, "
                        "pending=excluded.pending, reader=excluded.reader, "
                        "updated_at=excluded.updated_at, quarantined=excluded.quarantined",
                        (station, state, pending, reader, now, quarantined))

    def station_states(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT station, state FROM station_status").fetchall())

    def quarantined(self) -> dict[str, int]:
        """Station → check-ins it keeps in quarantine (as its last status said), if any."""
        return dict(self.db.execute("SELECT station, quarantined FROM station_status "
                                    "WHERE quarantined > 0").fetchall())

    def offer_activities(self, menus: Mapping[str, set[str]]) -> dict[str, set[str]]:
        """Record the plan's menus (station → activity ids); return every activity each
        station has ever offered, these included."""
        with self.transaction():
            self.db.executemany("INSERT OR IGNORE INTO offered_activities VALUES (?, ?)",
                                [(s, a) for s, ids in menus.items() for a in ids])
        offered: dict[str, set[str]] = {}
        for station, activity in self.db.execute("SELECT station, activity "
                                                 "FROM offered_activities"):
            offered.setdefault(station, set()).add(activity)
        return offered

    def latest_checkins(self, since: float) -> list[tuple[str, str, float]]:
        """Each student's latest check-in tapped at or after ``since``: (student, station,
        tapped_at). What the display shows as arrivals, rebuilt after a restart."""
        # SQLite returns the bare columns of the row that holds the MAX().
        return self.db.execute("SELECT student_id, station, MAX(tapped_at) FROM checkins "
                               "WHERE tapped_at >= ? GROUP BY student_id",
                               (since,)).fetchall()

    def recent_answers(self, student_id: str, limit: int) -> list[dict[str, int]]:
        """The student's last ``limit`` reflections (non-empty answers), oldest first."""
        rows = self.db.execute("SELECT answers FROM checkins WHERE student_id=? AND "
                               "length(answers) > 2 ORDER BY tapped_at DESC, id DESC LIMIT ?",
                               (student_id, limit)).fetchall()
        return [json.loads(r[0]) for r in reversed(rows)]

    def checkin_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]

    def checkins_between(self, start: float, end: float,
                         student_id: str | None = None) -> list[CheckInRecord]:
        """Check-ins tapped in [start, end), oldest first (of one student if given)."""
        sql = ("SELECT id, station, student_id, badge, answers, activity, tapped_at, "
               "received_at FROM checkins WHERE tapped_at >= ? AND tapped_at < ?")
        args: tuple[object, ...] = (start, end)
        if student_id is not None:
            sql += " AND student_id = ?"
            args += (student_id,)
        rows = self.db.execute(sql + " ORDER BY tapped_at, id", args).fetchall()
        return [CheckInRecord(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7])
                for r in rows]

    def purge_before(self, cutoff: float) -> Purged:
        """Delete check-ins (with their reflections), unknown-badge sightings, assessment
        scores (by the day they were taken) and lessons' group history older than
        ``cutoff``, in one transaction."""
        day = dt.datetime.fromtimestamp(cutoff).date().isoformat()
        with self.transaction():
            checkins = self.db.execute("DELETE FROM checkins WHERE tapped_at < ? "
                                       "AND received_at < ?", (cutoff, cutoff)).rowcount
            unknown = self.db.execute("DELETE FROM unknown_badges WHERE seen_at < ?",
                                      (cutoff,)).rowcount
            scores = self.db.execute("DELETE FROM scores WHERE taken_on < ?", (day,)).rowcount
            self.db.execute("DELETE FROM score_imports WHERE NOT EXISTS (SELECT 1 FROM scores "
                            "WHERE scores.import_id = score_imports.id)")
            lessons = self.db.execute("DELETE FROM lessons WHERE started_at < ? AND "
                                      "ended_at IS NOT NULL", (cutoff,)).rowcount
        return Purged(checkins, unknown, scores, lessons)

    def unknown_badge_sightings(self, badges: list[str]) -> list[tuple[str, str, float]]:
        if not badges:
            return []
        marks = ",".join("?" * len(badges))
        return self.db.execute(f"SELECT badge, station, seen_at FROM unknown_badges "
                               f"WHERE badge IN ({marks}) ORDER BY seen_at", badges).fetchall()

    def save_state(self, key: str, value: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO hub_state VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                        "value=excluded.value", (key, json.dumps(value)))

    def load_state(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT value FROM hub_state WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None
