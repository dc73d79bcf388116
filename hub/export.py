"""Data out, and data gone: the day's CSV per class, retention, one student's export and erasure.

- :func:`export_day` writes one CSV per class with the day's check-ins and their reflection
  answers (one column per question), for the teacher's spreadsheet or the school's LRS loader.
- :func:`apply_retention` deletes check-ins, reflections and unknown-badge sightings older
  than the configured number of days.
- :func:`export_student` gathers everything the hub holds about one student (for a family's
  request); :func:`erase_student` deletes it, in one transaction, and in that transaction
  queues what withdraws the copies that left the room: an erasure for the district (its
  outbox) and a voiding statement for each xAPI statement already sent to the LRS.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.lessons import LessonBook
from hub.roster import Roster
from hub.scores import student_scores
from hub.store import ROTATION_KEY, HubStore, Purged
from hub.xapi import answer_kinds, statement_id

if TYPE_CHECKING:
    from hub.lrs import StatementFeed
    from hub.uplink import DistrictFeed

log = logging.getLogger(__name__)

DAY_S = 86400.0
NO_CLASS = "no-class"
BASE_COLUMNS = ["date", "time", "class_id", "student_id", "given_name", "family_name",
                "station", "activity"]
KNOWN_QUESTIONS = ["confidence", "goal", "mood"]


def day_bounds(day: dt.date, tz: dt.tzinfo | None = None) -> tuple[float, float]:
    """Unix seconds of the day's midnight and the next (local time unless ``tz``)."""
    def midnight(d: dt.date) -> float:
        at = dt.datetime.combine(d, dt.time(0), tzinfo=tz)
        return (at if tz is not None else at.astimezone()).timestamp()
    return midnight(day), midnight(day + dt.timedelta(days=1))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "class"


def export_day(store: HubStore, roster: Roster, day: dt.date, out: Path, *,
               class_id: str | None = None, tz: dt.tzinfo | None = None) -> list[Path]:
    """Write ``checkins-<class>-<day>.csv`` per class; returns the files written.

    A student in two classes appears in both; students in no class go to ``no-class``. Only
    classes with check-ins that day get a file (or ``class_id`` alone, even if empty).
    """
    start, end = day_bounds(day, tz)
    records = store.checkins_between(start, end)
    students = {s.id: s for s in roster.students()}
    questions = list(KNOWN_QUESTIONS)
    for r in records:
        for q in r.answers:
            if q not in questions:
                questions.append(q)
    per_class: dict[str, list[dict[str, Any]]] = {}
    if class_id:
        per_class[class_id] = []
    for r in records:
        classes = roster.classes_of(r.student_id) or [NO_CLASS]
        at = dt.datetime.fromtimestamp(r.tapped_at).astimezone(tz)
        s = students.get(r.student_id) or roster.student(r.student_id)
        for cls in classes:
            if class_id and cls != class_id:
                continue
            row = {"date": at.date().isoformat(), "time": at.strftime("%H:%M:%S"),
                   "class_id": "" if cls == NO_CLASS else cls, "student_id": r.student_id,
                   "given_name": s.given_name if s else "", "family_name": s.family_name if s
                   else "", "station": r.station, "activity": r.activity}
            row.update({q: r.answers.get(q, "") for q in questions})
            per_class.setdefault(cls, []).append(row)
    if per_class:  # nothing to write makes no folder
        out.mkdir(parents=True, exist_ok=True)
    written = []
    for cls, rows in sorted(per_class.items()):
        path = out / f"checkins-{_safe(cls)}-{day.isoformat()}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=BASE_COLUMNS + questions)
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
        log.info("exported %d check-ins of class %s to %s", len(rows), cls, path)
    return written


def apply_retention(store: HubStore, days: int, now: float) -> Purged:
    """Delete what is older than ``days`` days (0 keeps everything): check-ins with their
    reflections, unknown-badge sightings, assessment scores and lessons' group history."""
    if days <= 0:
        return Purged(0, 0)
    purged = store.purge_before(now - days * DAY_S)
    if purged.checkins or purged.unknown_badges or purged.scores or purged.lessons:
        log.info("retention: deleted %d check-ins, %d unknown-badge sightings, %d scores and "
                 "%d lessons' groups older than %d days", purged.checkins,
                 purged.unknown_badges, purged.scores, purged.lessons, days)
    return purged


def _rows(db: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> list[dict[str, Any]]:
    cur = db.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def export_student(store: HubStore, roster: Roster, student_id: str,
                   rotation_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything held about one student, as one JSON-ready object."""
    db = store.db
    student = _rows(db, "SELECT * FROM students WHERE id=?", (student_id,))
    if not student:
        raise KeyError(student_id)
    badges = _rows(db, "SELECT badge, revoked, assigned_at, revoked_at FROM badges "
                       "WHERE student_id=? ORDER BY assigned_at", (student_id,))
    enrollments = _rows(db, "SELECT e.id, e.class_id, c.title AS class_title, e.role, "
                            "e.begin_date, e.end_date, e.active FROM enrollments e LEFT JOIN "
                            "classes c ON c.id = e.class_id WHERE e.user_id=?", (student_id,))
    checkins = _rows(db, "SELECT id, station, badge, answers, activity, tapped_at, sent_at, "
                         "received_at FROM checkins WHERE student_id=? ORDER BY tapped_at",
                     (student_id,))
    for c in checkins:
        c["answers"] = json.loads(c["answers"])
    sightings = store.unknown_badge_sightings([b["badge"] for b in badges])
    lesson: dict[str, Any] = {}
    if rotation_state:
        for g in rotation_state.get("groups", []):
            if student_id in g.get("members", []):
                lesson["group"] = g["id"]
        if student_id in rotation_state.get("moved", {}):
            lesson["moved_to_group"] = rotation_state["moved"][student_id]
        lesson["marked_absent"] = student_id in rotation_state.get("absent", [])
        if student_id in rotation_state.get("visits", {}):
            lesson["stations_visited"] = rotation_state["visits"][student_id]
    return {"student": student[0], "badges": badges, "enrollments": enrollments,
            "checkins": checkins, "scores": student_scores(db, student_id),
            "classes": LessonBook(db).about_student(student_id),
            "badge_sightings_before_enrollment": [
                {"badge": b, "station": s, "seen_at": t} for b, s, t in sightings],
            "current_lesson": lesson, "exported_at": dt.datetime.now().astimezone().isoformat()}


@dataclass(frozen=True)
class Erased:
    """What an erasure removed from the hub, and what it queued for the copies elsewhere."""

    checkins: int
    badges: int
    enrollments: int
    sightings: int
    scores: int = 0
    #: Queued for the district and now never sent (dropped with the rest).
    district_unsent: int = 0
    #: An erasure queued for the district (the hub has a ``[district]`` table).
    district_queued: bool = False
    #: xAPI statements queued and now never sent (dropped with the rest).
    statements_unsent: int = 0
    #: Voiding statements queued for the LRS: one per statement it already has.
    voided: int = 0

    def summary(self) -> str:
        """One line for the CLI and the console: removed here, queued for elsewhere."""
        text = (f"{self.checkins} check-ins with their reflections, {self.badges} badges, "
                f"{self.enrollments} enrollments and {self.scores} scores removed from this "
                "hub")
        if self.district_queued:
            text += ("; the district is asked to delete its copies (queued, sent when it "
                     f"is reachable; {self.district_unsent} check-ins it never got dropped)")
        if self.voided or self.statements_unsent:
            text += (f"; {self.voided} statements the learning record store has are voided "
                     f"(queued; {self.statements_unsent} never sent dropped)")
        return text


def erase_student(store: HubStore, student_id: str, rotation_key: str = ROTATION_KEY, *,
                  district: DistrictFeed | None = None,
                  statements: StatementFeed | None = None,
                  now: float | None = None) -> Erased:
    """Delete the student, their badges, enrollments, check-ins and reflections, assessment
    scores, their place in every class's groups, constraints and lesson history, and in the
    saved lesson; one transaction. In it, with ``district``, queue the erasure of what the
    district has (their queued check-ins, never sent, are dropped); with ``statements``, queue
    a voiding statement for every statement of theirs already sent to the LRS."""
    db = store.db
    now = time.time() if now is None else now
    with store.transaction():
        if db.execute("SELECT 1 FROM students WHERE id=?", (student_id,)).fetchone() is None:
            raise KeyError(student_id)
        badges = [r[0] for r in db.execute("SELECT badge FROM badges WHERE student_id=?",
                                           (student_id,))]
        marks = ",".join("?" * len(badges))
        sightings = db.execute(f"DELETE FROM unknown_badges WHERE badge IN ({marks})",
                               badges).rowcount if badges else 0
        sent: list[str] = []
        if statements is not None:
            # Statement ids follow from the check-ins. Those queued and never tried, or
            # refused for good, are not in the LRS; the rest are (or may be: a POST that timed
            # out), and are voided.
            unsent = {r[0] for r in db.execute(
                "SELECT id FROM xapi_outbox WHERE student_id=? AND (attempts=0 OR failed IS "
                "NOT NULL)", (student_id,))}
            sent = [sid for cid, answers in db.execute(
                        "SELECT id, answers FROM checkins WHERE student_id=? "
                        "ORDER BY tapped_at, id", (student_id,))
                    for sid in (statement_id(cid, k) for k in answer_kinds(json.loads(answers)))
                    if sid not in unsent]
        checkins = db.execute("DELETE FROM checkins WHERE student_id=?", (student_id,)).rowcount
        # Not yet sent to the district: it never will be (nor a pending earlier erasure: the
        # new one covers it).
        district_unsent = db.execute("DELETE FROM district_outbox WHERE student_id=?",
                                     (student_id,)).rowcount
        if district is not None:
            store.queue_district(district.erasure_row(student_id, now))
        # Statements not yet sent to the LRS go too; those it has are voided.
        statements_unsent = db.execute("DELETE FROM xapi_outbox WHERE student_id=?",
                                       (student_id,)).rowcount
        if statements is not None:
            store.queue_statements(statements.voiding_rows(sent, now))
        scores = db.execute("DELETE FROM scores WHERE student_id=?", (student_id,)).rowcount
        LessonBook(db).forget_student(student_id)
        nb = db.execute("DELETE FROM badges WHERE student_id=?", (student_id,)).rowcount
        ne = db.execute("DELETE FROM enrollments WHERE user_id=?", (student_id,)).rowcount
        db.execute("DELETE FROM students WHERE id=?", (student_id,))
        state = store.load_state(rotation_key)
        if state is not None:
            state.get("moved", {}).pop(student_id, None)
            state.get("visits", {}).pop(student_id, None)
            state["absent"] = [s for s in state.get("absent", []) if s != student_id]
            for g in state.get("groups", []):
                g["members"] = [m for m in g.get("members", []) if m != student_id]
            store.save_state(rotation_key, state)
    # Not the student's id: the journal outlives the erasure it records.
    log.info("erased a student: %d check-ins, %d badges, %d enrollments, %d scores; "
             "district erasure queued: %s, %d voiding statements queued",
             checkins, nb, ne, scores, "yes" if district is not None else "no", len(sent))
    return Erased(checkins, nb, ne, sightings, scores, district_unsent=district_unsent,
                  district_queued=district is not None, statements_unsent=statements_unsent,
                  voided=len(sent))
