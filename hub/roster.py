"""Students, classes, enrollments and badges, kept in the hub's SQLite database.

The roster comes from a OneRoster CSV import (:mod:`hub.oneroster`) or, for a small room, a
TOML file (``[[students]]`` with ``id``, ``given_name``, ``family_name``, optional
``preferred_name``, ``grade``, ``language``, ``classes`` and ``badges``; optional
``[[classes]]`` with ``id`` and ``title``). Student ids are pseudonymous (OneRoster
``sourcedId``): they go on the wire and into check-ins; names stay on the hub.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from broker.contract import SHORT_TEXT_MAX, normalise_badge
from stations.sqlitedb import add_columns, transaction
from stations.text import Text
from stations.tomlconfig import Section, load_toml

SCHEMA = """
CREATE TABLE IF NOT EXISTS students (
    id             TEXT PRIMARY KEY,
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    preferred_name TEXT NOT NULL DEFAULT '',
    grade          TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS badges (
    badge      TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id),
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS orgs (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    type   TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS classes (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    school_id  TEXT NOT NULL DEFAULT '',
    class_code TEXT NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS teachers (
    id          TEXT PRIMARY KEY,
    given_name  TEXT NOT NULL,
    family_name TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS enrollments (
    id         TEXT PRIMARY KEY,
    class_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL,
    begin_date TEXT NOT NULL DEFAULT '',
    end_date   TEXT NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS enrollments_class ON enrollments(class_id, role);
CREATE INDEX IF NOT EXISTS enrollments_user ON enrollments(user_id);
"""

#: Columns added after the first release: created on an old database at open.
_ADDED_COLUMNS = {
    "students": [("active", "INTEGER NOT NULL DEFAULT 1"), ("language", "TEXT NOT NULL DEFAULT ''"),
                 ("source", "TEXT NOT NULL DEFAULT 'toml'"),
                 # The school's other ids for the student, to match a gradebook's rows by:
                 # the student number (OneRoster ``identifier``), username and e-mail.
                 ("identifier", "TEXT NOT NULL DEFAULT ''"),
                 ("username", "TEXT NOT NULL DEFAULT ''"),
                 ("email", "TEXT NOT NULL DEFAULT ''")],
    "badges": [("assigned_at", "REAL NOT NULL DEFAULT 0"), ("revoked_at", "REAL")],
}

#: Avatars on the welcome screen: Okabe-Ito colours, picked from the id so they stay put.
AVATARS = ("orange", "sky", "green", "yellow", "blue", "vermillion", "purple")
_LANGUAGE = re.compile(r"^([a-z]{2,3}(-[A-Z]{2})?)?$")
_STUDENT_COLS = "s.id, s.given_name, s.family_name, s.preferred_name, s.grade, s.language"


@dataclass(frozen=True, slots=True)
class Student:
    id: str
    given_name: str
    family_name: str
    preferred_name: str = ""
    grade: str = ""
    language: str = ""

    @property
    def display_name(self) -> str:
        """First name and last initial: all a station or the class screen ever shows."""
        first = self.preferred_name or self.given_name
        initial = self.family_name[:1]
        return f"{first} {initial}." if initial else first

    @property
    def avatar(self) -> str:
        digest = hashlib.blake2s(self.id.encode(), digest_size=2).digest()
        return AVATARS[int.from_bytes(digest, "big") % len(AVATARS)]


def display_name_problem(student: Student) -> Text | None:
    """Why the student's display name cannot travel in a reply to a station (the station
    would refuse the reply, and the check-in would be resent forever), or None. The name
    comes from ``preferred_name`` when there is one, else ``given_name``."""
    name = student.display_name
    if len(name) <= SHORT_TEXT_MAX:
        return None
    return Text("the display name %(name)r… is %(length)d characters; a reply to a station "
                "carries at most %(most)d", name=name[:20], length=len(name),
                most=SHORT_TEXT_MAX)


@dataclass(frozen=True, slots=True)
class SchoolIds:
    """The school's other ids for a student (to match a gradebook's rows); never on the wire."""

    identifier: str = ""
    username: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class RosterEntry:
    student: Student
    badges: tuple[str, ...]
    classes: tuple[str, ...] = ()
    ids: SchoolIds = SchoolIds()


@dataclass(frozen=True, slots=True)
class RosterFile:
    entries: list[RosterEntry]
    classes: dict[str, str]


@dataclass(frozen=True, slots=True)
class BadgeRecord:
    badge: str
    student_id: str
    revoked: bool
    assigned_at: float
    revoked_at: float | None


def read_roster(path: Path | str) -> RosterFile:
    """Parse a roster TOML file; ConfigError names the file, entry and key on any problem."""
    path = Path(path)
    root = Section(path, load_toml(path))
    classes = {}
    for c in root.tables("classes", required=False):
        classes[c.get("id", str)] = c.get("title", str)
    entries: list[RosterEntry] = []
    seen_ids: set[str] = set()
    seen_badges: dict[str, str] = {}
    for item in root.tables("students", required=False):
        sid = item.get("id", str)
        if sid in seen_ids:
            raise item.error("id", f"duplicate student id {sid!r}")
        seen_ids.add(sid)
        language = item.get("language", str, "")
        if not _LANGUAGE.match(language):
            raise item.error("language", f"{language!r} is not a language tag like es or pt-BR")
        student = Student(sid, item.get("given_name", str), item.get("family_name", str),
                          item.get("preferred_name", str, ""), item.get("grade", str, ""),
                          language)
        too_long = display_name_problem(student)
        if too_long is not None:
            raise item.error("preferred_name" if student.preferred_name else "given_name",
                             too_long)
        badges = []
        for raw in item.get("badges", list, []):
            try:
                badge = normalise_badge(str(raw))
            except ValueError as err:
                raise item.error("badges", str(err)) from err
            if badge in seen_badges:
                raise item.error("badges", f"badge {badge} is already {seen_badges[badge]}'s")
            seen_badges[badge] = sid
            badges.append(badge)
        member_of = tuple(item.get("classes", list, []))
        for cid in member_of:
            if cid not in classes:
                raise item.error("classes", f"no class {cid!r}: add it under [[classes]]")
        ids = SchoolIds(item.get("identifier", str, ""), item.get("username", str, ""),
                        item.get("email", str, ""))
        entries.append(RosterEntry(student, tuple(badges), member_of, ids))
    root.check_unknown()
    return RosterFile(entries, classes)


def read_roster_file(path: Path | str) -> list[RosterEntry]:
    return read_roster(path).entries


class Roster:
    """Roster queries and updates over the hub's database connection."""

    def __init__(self, db: sqlite3.Connection, *, create: bool = True) -> None:
        """``create=False`` for a read-only connection to a database the hub made."""
        self._db = db
        if create:
            db.executescript(SCHEMA)
            add_columns(db, _ADDED_COLUMNS)

    @property
    def db(self) -> sqlite3.Connection:
        return self._db

    def load(self, entries: list[RosterEntry], classes: dict[str, str] | None = None,
             now: float | None = None) -> None:
        """Insert or update every entry in one transaction (re-loading never duplicates)."""
        now = time.time() if now is None else now
        with transaction(self._db):
            for cid, title in (classes or {}).items():
                self._db.execute("INSERT INTO classes (id, title) VALUES (?, ?) ON CONFLICT(id) "
                                 "DO UPDATE SET title=excluded.title, active=1", (cid, title))
            for entry in entries:
                s = entry.student
                self.upsert_student(s, source="toml", ids=entry.ids)
                for badge in entry.badges:
                    # The file's badge wins only if the badge is not in use by someone else:
                    # a reassignment made on the hub is not undone at the next start.
                    row = self._db.execute("SELECT student_id, revoked FROM badges "
                                           "WHERE badge=?", (badge,)).fetchone()
                    if row is None:
                        self.assign_badge(badge, s.id, now)
                for cid in entry.classes:
                    self._db.execute(
                        "INSERT INTO enrollments (id, class_id, user_id, role) "
                        "VALUES (?, ?, ?, 'student') ON CONFLICT(id) DO UPDATE SET active=1",
                        (f"toml:{cid}:{s.id}", cid, s.id))

    def upsert_student(self, s: Student, *, source: str, active: bool = True,
                       ids: SchoolIds = SchoolIds()) -> None:
        # An id the source does not give (the TOML file often has none) keeps what an
        # import brought.
        self._db.execute(
            "INSERT INTO students (id, given_name, family_name, preferred_name, grade, "
            "language, active, source, identifier, username, email) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
            "SET given_name=excluded.given_name, family_name=excluded.family_name, "
            "preferred_name=excluded.preferred_name, grade=excluded.grade, "
            "language=CASE WHEN excluded.language != '' THEN excluded.language ELSE language "
            "END, active=excluded.active, source=excluded.source, "
            "identifier=CASE WHEN excluded.identifier != '' THEN excluded.identifier "
            "ELSE identifier END, username=CASE WHEN excluded.username != '' THEN "
            "excluded.username ELSE username END, email=CASE WHEN excluded.email != '' THEN "
            "excluded.email ELSE email END",
            (s.id, s.given_name, s.family_name, s.preferred_name, s.grade, s.language,
             int(active), source, ids.identifier, ids.username, ids.email))

    # --- badges ---------------------------------------------------------------------------------

    def assign_badge(self, badge: str, student_id: str, now: float | None = None) -> None:
        """Give ``badge`` to the student (a revoked or someone else's badge is reassigned)."""
        now = time.time() if now is None else now
        self._db.execute("INSERT INTO badges (badge, student_id, revoked, assigned_at, "
                         "revoked_at) VALUES (?, ?, 0, ?, NULL) ON CONFLICT(badge) DO UPDATE "
                         "SET student_id=excluded.student_id, revoked=0, "
                         "assigned_at=excluded.assigned_at, revoked_at=NULL",
                         (badge, student_id, now))

    def revoke_badge(self, badge: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self._db.execute("UPDATE badges SET revoked=1, revoked_at=? WHERE badge=? "
                                "AND revoked=0", (now, badge)).rowcount > 0

    def badge(self, badge: str) -> BadgeRecord | None:
        row = self._db.execute("SELECT badge, student_id, revoked, assigned_at, revoked_at "
                               "FROM badges WHERE badge=?", (badge,)).fetchone()
        return BadgeRecord(row[0], row[1], bool(row[2]), row[3], row[4]) if row else None

    def badges_of(self, student_id: str, *, include_revoked: bool = False) -> list[BadgeRecord]:
        rows = self._db.execute("SELECT badge, student_id, revoked, assigned_at, revoked_at "
                                "FROM badges WHERE student_id=? ORDER BY assigned_at",
                                (student_id,)).fetchall()
        records = [BadgeRecord(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]
        return [b for b in records if include_revoked or not b.revoked]

    # --- students -------------------------------------------------------------------------------

    def student(self, student_id: str) -> Student | None:
        row = self._db.execute(f"SELECT {_STUDENT_COLS} FROM students s WHERE s.id=?",
                               (student_id,)).fetchone()
        return Student(*row) if row else None

    def student_for_badge(self, badge: str) -> Student | None:
        row = self._db.execute(
            f"SELECT {_STUDENT_COLS} FROM badges b JOIN students s ON s.id = b.student_id "
            "WHERE b.badge=? AND b.revoked=0 AND s.active=1", (badge,)).fetchone()
        return Student(*row) if row else None

    def students_for_badges(self, badges: set[str]) -> dict[str, Student]:
        """Badge → student for the known, active ones among ``badges``, in one query."""
        found: dict[str, Student] = {}
        listed = sorted(badges)
        for i in range(0, len(listed), 500):
            chunk = listed[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for badge, *student in self._db.execute(
                    f"SELECT b.badge, {_STUDENT_COLS} FROM badges b JOIN students s "
                    f"ON s.id = b.student_id WHERE b.badge IN ({marks}) AND b.revoked=0 "
                    "AND s.active=1", chunk):
                found[badge] = Student(*student)
        return found

    def students(self, class_id: str | None = None) -> list[Student]:
        """Active students, by family name (of one class if ``class_id`` is given)."""
        if class_id:
            rows = self._db.execute(
                f"SELECT DISTINCT {_STUDENT_COLS} FROM students s JOIN enrollments e "
                "ON e.user_id = s.id WHERE e.class_id=? AND e.role='student' AND e.active=1 "
                "AND s.active=1 ORDER BY s.family_name, s.given_name", (class_id,)).fetchall()
        else:
            rows = self._db.execute(f"SELECT {_STUDENT_COLS} FROM students s WHERE s.active=1 "
                                    "ORDER BY s.family_name, s.given_name").fetchall()
        return [Student(*row) for row in rows]

    def students_without_badge(self) -> list[Student]:
        rows = self._db.execute(
            f"SELECT {_STUDENT_COLS} FROM students s WHERE s.active=1 AND NOT EXISTS "
            "(SELECT 1 FROM badges b WHERE b.student_id=s.id AND b.revoked=0) "
            "ORDER BY s.family_name, s.given_name").fetchall()
        return [Student(*row) for row in rows]

    def classes_of(self, student_id: str) -> list[str]:
        return [r[0] for r in self._db.execute(
            "SELECT class_id FROM enrollments WHERE user_id=? AND active=1 ORDER BY class_id",
            (student_id,))]

    def school_ids(self, class_id: str) -> dict[str, SchoolIds]:
        """Student id → the school's other ids, for the active students of one class."""
        rows = self._db.execute(
            "SELECT DISTINCT s.id, s.identifier, s.username, s.email FROM students s JOIN "
            "enrollments e ON e.user_id = s.id WHERE e.class_id=? AND e.role='student' AND "
            "e.active=1 AND s.active=1", (class_id,)).fetchall()
        return {r[0]: SchoolIds(r[1], r[2], r[3]) for r in rows}

    def classes(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT id, title FROM classes WHERE active=1 "
                                     "ORDER BY title").fetchall())
