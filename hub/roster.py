"""Students and their badges, kept in the hub's SQLite database.

For now the roster comes from a small TOML file (``[[students]]`` with ``id``, ``given_name``,
``family_name``, optional ``preferred_name``, ``grade`` and ``badges``); OneRoster import
builds on the same tables. Student ids are pseudonymous (OneRoster ``sourcedId``): they go on
the wire and into check-ins; names stay on the hub.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from broker.contract import normalise_badge
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
"""


@dataclass(frozen=True, slots=True)
class Student:
    id: str
    given_name: str
    family_name: str
    preferred_name: str = ""
    grade: str = ""

    @property
    def display_name(self) -> str:
        """First name and last initial: all a station or the class screen ever shows."""
        first = self.preferred_name or self.given_name
        initial = self.family_name[:1]
        return f"{first} {initial}." if initial else first


@dataclass(frozen=True, slots=True)
class RosterEntry:
    student: Student
    badges: tuple[str, ...]


def read_roster_file(path: Path | str) -> list[RosterEntry]:
    """Parse a roster TOML file; ConfigError names the file, entry and key on any problem."""
    path = Path(path)
    root = Section(path, load_toml(path))
    entries: list[RosterEntry] = []
    seen_ids: set[str] = set()
    seen_badges: dict[str, str] = {}
    for item in root.tables("students"):
        sid = item.get("id", str)
        if sid in seen_ids:
            raise item.error("id", f"duplicate student id {sid!r}")
        seen_ids.add(sid)
        student = Student(sid, item.get("given_name", str), item.get("family_name", str),
                          item.get("preferred_name", str, ""), item.get("grade", str, ""))
        badges = []
        raw_badges = item.get("badges", list, [])
        for raw in raw_badges:
            try:
                badge = normalise_badge(str(raw))
            except ValueError as err:
                raise item.error("badges", str(err)) from err
            if badge in seen_badges:
                raise item.error("badges", f"badge {badge} is already {seen_badges[badge]}'s")
            seen_badges[badge] = sid
            badges.append(badge)
        entries.append(RosterEntry(student, tuple(badges)))
    return entries


class Roster:
    """Roster queries and updates over the hub's database connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        db.executescript(SCHEMA)

    def load(self, entries: list[RosterEntry]) -> None:
        """Insert or update every entry in one transaction (re-loading never duplicates)."""
        with self._db:
            for entry in entries:
                s = entry.student
                self._db.execute(
                    "INSERT INTO students (id, given_name, family_name, preferred_name, grade) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "given_name=excluded.given_name, family_name=excluded.family_name, "
                    "preferred_name=excluded.preferred_name, grade=excluded.grade",
                    (s.id, s.given_name, s.family_name, s.preferred_name, s.grade))
                for badge in entry.badges:
                    self.assign_badge(badge, s.id)

    def assign_badge(self, badge: str, student_id: str) -> None:
        self._db.execute("INSERT INTO badges (badge, student_id, revoked) VALUES (?, ?, 0) "
                         "ON CONFLICT(badge) DO UPDATE SET student_id=excluded.student_id, "
                         "revoked=0", (badge, student_id))

    def revoke_badge(self, badge: str) -> bool:
        return self._db.execute("UPDATE badges SET revoked=1 WHERE badge=?",
                                (badge,)).rowcount > 0

    def student(self, student_id: str) -> Student | None:
        row = self._db.execute("SELECT id, given_name, family_name, preferred_name, grade "
                               "FROM students WHERE id=?", (student_id,)).fetchone()
        return Student(*row) if row else None

    def student_for_badge(self, badge: str) -> Student | None:
        row = self._db.execute(
            "SELECT s.id, s.given_name, s.family_name, s.preferred_name, s.grade "
            "FROM badges b JOIN students s ON s.id = b.student_id "
            "WHERE b.badge=? AND b.revoked=0", (badge,)).fetchone()
        return Student(*row) if row else None

    def students(self) -> list[Student]:
        rows = self._db.execute("SELECT id, given_name, family_name, preferred_name, grade "
                                "FROM students ORDER BY family_name, given_name").fetchall()
        return [Student(*row) for row in rows]
