"""Badges: enrollment on the hub, revoke and reassign, and a CSV import of badge ids.

Enrollment is a small pure state machine the service owns: the teacher starts it on the
hub; an unknown badge tapped at any station is *offered*; the teacher picks the student
and the badge is assigned. A badge that is already someone's is never taken silently:
reassigning is its own action (a lost card found by another student is revoked first).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from broker.contract import normalise_badge
from hub.roster import Roster
from stations.errors import StationsError
from stations.sqlitedb import transaction
from stations.text import Text

#: An offered badge is forgotten after this long: the student has walked away.
OFFER_TTL_S = 300.0
MAX_OFFERS = 6


class BadgeError(StationsError, ValueError):
    """A badge operation or badge file is wrong; names the file, row and column if any.
    ``problem`` is a :class:`~stations.text.Text`: the console shows it translated."""

    def __init__(self, problem: str, file: str = "", row: int | None = None,
                 column: str | None = None) -> None:
        self.file, self.row, self.column, self.problem = file, row, column, problem
        where = ", ".join(p for p in (file, f"row {row}" if row is not None else "",
                                      f"column {column}" if column else "") if p)
        super().__init__(f"{where}: {problem}" if where else problem)


@dataclass(frozen=True, slots=True)
class Offer:
    badge: str
    station: str
    at: float


@dataclass
class Enrollment:
    """Enrollment mode: which unknown badges wait for the teacher to name their student."""

    active: bool = False
    offers: list[Offer] = field(default_factory=list)

    def start(self) -> None:
        self.active, self.offers = True, []

    def stop(self) -> None:
        self.active, self.offers = False, []

    def offer(self, badge: str, station: str, now: float) -> bool:
        """An unknown badge was tapped; True if it is now offered to the teacher."""
        if not self.active:
            return False
        self.expire(now)
        self.offers = [o for o in self.offers if o.badge != badge]
        self.offers.insert(0, Offer(badge, station, now))
        del self.offers[MAX_OFFERS:]
        return True

    def expire(self, now: float) -> None:
        self.offers = [o for o in self.offers if now - o.at < OFFER_TTL_S]

    def take(self, badge: str) -> Offer | None:
        for o in self.offers:
            if o.badge == badge:
                self.offers.remove(o)
                return o
        return None


def enroll(roster: Roster, badge: str, student_id: str, now: float, *,
           reassign: bool = False) -> None:
    """Give ``badge`` to a student. A badge in use by someone else needs ``reassign``.

    The checks and the write are one transaction: nobody can take the badge in between.
    """
    badge = _badge(badge)
    with transaction(roster.db):
        if roster.student(student_id) is None:
            raise BadgeError(_no_student(student_id))
        record = roster.badge(badge)
        if (record is not None and not record.revoked and record.student_id != student_id
                and not reassign):
            raise BadgeError(Text("badge %(badge)s belongs to %(student)s: revoke it first or "
                                  "reassign it", badge=badge, student=record.student_id))
        roster.assign_badge(badge, student_id, now)


def revoke(roster: Roster, badge: str, now: float) -> None:
    badge = _badge(badge)
    with transaction(roster.db):
        if not roster.revoke_badge(badge, now):
            record = roster.badge(badge)
            raise BadgeError(Text("badge %(badge)s is unknown", badge=badge) if record is None
                             else Text("badge %(badge)s is already revoked", badge=badge))


def revoke_student(roster: Roster, student_id: str, now: float) -> int:
    """Revoke every badge of one student (a lost card), all or none; returns how many."""
    with transaction(roster.db):
        if roster.student(student_id) is None:
            raise BadgeError(_no_student(student_id))
        held = roster.badges_of(student_id)
        for record in held:
            roster.revoke_badge(record.badge, now)
    return len(held)


def _no_student(student_id: str) -> Text:
    return Text("no student %(id)r in the roster", id=student_id)


def _not_a_badge(raw: str) -> Text:
    return Text("badge id %(badge)r is not 4-32 hex digits", badge=raw)


def _badge(raw: str) -> str:
    try:
        return normalise_badge(raw)
    except ValueError as err:
        raise BadgeError(_not_a_badge(raw)) from err


def import_badges(path: Path | str, roster: Roster, now: float, *,
                  reassign: bool = False) -> int:
    """Import a CSV of ``badge`` and ``student_id`` (or ``sourcedId``) columns.

    All rows are checked first (unknown student, bad badge id, a badge listed twice or owned
    by another student) and only then written, in one transaction. Returns rows imported.
    """
    path = Path(path)
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise BadgeError(Text("no such badge file (a CSV with columns badge and student_id)"),
                         str(path)) from None
    except UnicodeDecodeError as err:
        raise BadgeError(Text("is not UTF-8"), name) from err
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    if "badge" not in header:
        raise BadgeError(Text("required column is missing"), name, 1, "badge")
    column = next((c for c in ("student_id", "sourcedId", "userSourcedId") if c in header), None)
    if column is None:
        raise BadgeError(Text("required column is missing (student_id or sourcedId)"), name,
                         1, "student_id")
    pairs: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    try:
        rows = list(reader)
    except csv.Error as err:
        raise BadgeError(Text("is not valid CSV (%(error)s)", error=str(err)), name) from err
    with transaction(roster.db):  # checked and written under one write lock
        for n, rec in enumerate(rows, start=2):
            raw, student = (rec.get("badge") or "").strip(), (rec.get(column) or "").strip()
            if not raw and not student:
                continue
            try:
                badge = normalise_badge(raw)
            except ValueError as err:
                raise BadgeError(_not_a_badge(raw), name, n, "badge") from err
            if badge in seen:
                raise BadgeError(Text("badge %(badge)s is listed twice (first on row %(first)d)",
                                      badge=badge, first=seen[badge]), name, n, "badge")
            seen[badge] = n
            if roster.student(student) is None:
                raise BadgeError(_no_student(student), name, n, column)
            record = roster.badge(badge)
            if (record is not None and not record.revoked and record.student_id != student
                    and not reassign):
                raise BadgeError(Text("badge %(badge)s belongs to %(student)s (use --reassign)",
                                      badge=badge, student=record.student_id), name, n, "badge")

            pairs.append((badge, student))
        for badge, student in pairs:
            roster.assign_badge(badge, student, now)
    return len(pairs)
