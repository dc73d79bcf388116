"""Assessment scores in the hub: a gradebook's CSV imported per class, kept with their dates.

``stations scores import FILE --class CLASS`` and the console's scores page both call
:func:`import_scores`. The file is read the way the grouping engine reads a class file
(:func:`hub.grouping.classify_columns`): one row per student and assessment, one column per
standard, names, e-mail, section and other information recognised and never read as a
standard. What differs from the engine's class file:

- students are **matched to the roster** of the class, by whichever id columns the file has:
  the roster's ``sourcedId`` (``student_id``, ``id``), the student number (``identifier``),
  ``username`` or ``email``; the first of these that has a value on the row decides, and an
  id column that names *another* student on the same row is an error;
- a **date** column (``date``, ``assessment date``, ``test date``, ``taken on``; ISO dates
  ``YYYY-MM-DD``) says when each row's scores were taken, so one file may carry several
  quizzes; rows without one take the import's date;
- every import is **kept** (``score_imports``, ``scores``); a student's score on a standard is
  their latest (by date, then by import).

Everything is checked before anything is written: an unmatched student, a student of
another class, an ambiguous column (``first_name`` and ``given_name``), a score that is not a
number, a date that is not one, the same student twice on one date: :class:`ScoresError`
names the file, row and column, and nothing is stored. The write is one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hub.grouping.classcsv import (
    ColumnRoles,
    classify_columns,
    column_key,
    numbered_rows,
    parse_score,
    read_csv_text,
    rescale,
)
from hub.grouping.errors import ClassCsvError
from hub.roster import Roster
from stations.sqlitedb import transaction
from stations.text import Text

log = logging.getLogger(__name__)

#: Headers (as :func:`column_key` makes them) of the column saying when scores were taken.
DATE_COLUMNS = frozenset(("date", "assessmentdate", "testdate", "quizdate", "takenon",
                          "datetaken", "scoredate", "assessed", "dateassessed"))
#: Id kinds, in the order a row's student is looked up.
MATCH_ORDER = ("student_id", "sourcedId", "identifier", "username", "email")
_KIND_WORDS = {"student_id": "sourcedId", "sourcedId": "sourcedId",
               "identifier": "student number", "username": "username", "email": "e-mail"}


class ScoresError(ClassCsvError):
    """A scores file that cannot be imported; names the file, row and column."""


@dataclass(frozen=True)
class ScoreImport:
    """What an import stored."""

    class_id: str
    file: str
    import_id: int
    students: int
    standards: tuple[str, ...]
    dates: tuple[str, ...]
    scores: int
    #: Columns recognised and not read (names, e-mail, section, totals...).
    not_read: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text()

    def text(self) -> Text:
        return Text("%(scores)d scores of %(students)d students on %(standards)d standards "
                    "(%(dates)s)", scores=self.scores, students=self.students,
                    standards=len(self.standards), dates=", ".join(self.dates))

    def as_json(self) -> dict[str, object]:
        return {"class": self.class_id, "file": self.file, "import": self.import_id,
                "students": self.students, "standards": list(self.standards),
                "dates": list(self.dates), "scores": self.scores,
                "not_read": list(self.not_read)}


@dataclass
class _Parsed:
    standards: list[tuple[int, str, str | None]]
    #: (row, student id, date, {standard: score on 0-100}) per row.
    rows: list[tuple[int, str, str, dict[str, float | None]]]
    scales: dict[str, str]
    not_read: tuple[str, ...]
    students: set[str] = field(default_factory=set)


class _Matcher:
    """The class's students by each kind of id the school uses."""

    def __init__(self, roster: Roster, class_id: str) -> None:
        self.roster = roster
        self.class_id = class_id
        ids = roster.school_ids(class_id)
        self.by_kind: dict[str, dict[str, str]] = {
            "student_id": {sid: sid for sid in ids}, "sourcedId": {sid: sid for sid in ids},
            "identifier": {v.identifier: sid for sid, v in ids.items() if v.identifier},
            "username": {v.username.casefold(): sid for sid, v in ids.items() if v.username},
            "email": {v.email.casefold(): sid for sid, v in ids.items() if v.email}}

    def find(self, kind: str, value: str) -> str | None:
        key = value if kind in ("student_id", "sourcedId", "identifier") else value.casefold()
        return self.by_kind[kind].get(key)

    def student(self, roles: ColumnRoles, names: list[str], row: list[str], row_no: int,
                source: Path) -> str:
        found: list[tuple[str, str, str]] = []  # (kind, value, student)
        first: tuple[str, str] | None = None
        for kind in MATCH_ORDER:
            j = roles.ids.get(kind)
            if j is None or not row[j].strip():
                continue
            value = row[j].strip()
            first = first or (names[j], value)
            sid = self.find(kind, value)
            if sid is not None:
                found.append((names[j], value, sid))
        if first is None:
            columns = ", ".join(names[j] for j in roles.ids.values())
            raise ScoresError(source, row_no, names[min(roles.ids.values())], Text(
                "no student id on this row (%(columns)s are empty)", columns=columns))
        if not found:
            column, value = first
            raise ScoresError(source, row_no, column, self._unmatched(value))
        column, value, sid = found[0]
        for other_column, other_value, other in found[1:]:
            if other != sid:
                raise ScoresError(source, row_no, other_column, Text(
                    "%(value)r is %(student)s but %(column)s %(other_value)r is "
                    "%(other_student)s: which student is it?", value=other_value,
                    student=self._name(other), column=column, other_value=value,
                    other_student=self._name(sid)))
        return sid

    def _name(self, sid: str) -> str:
        s = self.roster.student(sid)
        return f"{s.display_name} ({sid})" if s else sid

    def _unmatched(self, value: str) -> Text:
        other = self.roster.student(value)
        if other is not None:
            return Text("%(name)s (%(id)s) is not a student of class %(class_id)s: import the "
                        "roster that enrolls them, or use --class for their class",
                        name=other.display_name, id=value, class_id=self.class_id)
        return Text("no student %(id)r in class %(class_id)s (matched against the roster's "
                    "sourcedId, student number, username and e-mail)", id=value,
                    class_id=self.class_id)


def parse_scores(path: Path, roster: Roster, class_id: str, today: str) -> _Parsed:
    """Read and check a whole scores file; ScoresError without side effects."""
    try:
        header_row, names, body = numbered_rows(
            read_csv_text(path), path,
            Text("a header row with a student id (sourcedId, identifier, username or "
                 "email), the date and one column per standard"))
        roles = classify_columns(names, path, header_row)
    except ScoresError:
        raise
    except ClassCsvError as err:
        raise ScoresError(err.path, err.row, err.column, err.problem) from err
    if not roles.ids:
        raise ScoresError(path, header_row, None, Text(
            "no column to match students by: give sourcedId, identifier (student number), "
            "username or email (found %(found)s)", found=", ".join(repr(h) for h in names)))
    date_cols = [j for j, h in enumerate(names) if column_key(h) in DATE_COLUMNS]
    if len(date_cols) > 1:
        raise ScoresError(path, header_row, names[date_cols[1]], Text(
            "ambiguous column: both %(first)r and %(second)r would be %(what)s; rename or "
            "remove one", first=names[date_cols[0]], second=names[date_cols[1]],
            what=Text("the date")))
    date_col = date_cols[0] if date_cols else None
    roles.standards = [(j, std, scale) for j, std, scale in roles.standards if j != date_col]
    if not roles.standards:
        raise ScoresError(path, header_row, None, Text(
            "no standards: every column is an id, a name or other information (a standard's "
            "column holds 0-100 or 1-4 scores)"))
    matcher = _Matcher(roster, class_id)
    rows: list[tuple[int, str, str, dict[str, float | None]]] = []
    first: dict[tuple[str, str], int] = {}
    for row_no, row in body:
        sid = matcher.student(roles, names, row, row_no, path)
        day = today
        if date_col is not None and row[date_col].strip():
            day = _date(row[date_col].strip(), path, row_no, names[date_col])
        if (sid, day) in first:
            raise ScoresError(path, row_no, names[date_col] if date_col is not None else None,
                              Text("%(student)s is on row %(first)d for %(day)s already",
                                   student=matcher._name(sid), first=first[sid, day], day=day))
        first[sid, day] = row_no
        try:
            scores = {std: parse_score(row[j], path, row_no, names[j])
                      for j, std, _ in roles.standards}
        except ClassCsvError as err:
            raise ScoresError(err.path, err.row, err.column, err.problem) from err
        rows.append((row_no, sid, day, scores))
    if not rows:
        raise ScoresError(path, None, None, Text("no student rows after the header"))
    by_row = {row_no: scores for row_no, _sid, _day, scores in rows}
    try:
        scales = rescale(roles, by_row, names, path)
    except ClassCsvError as err:
        raise ScoresError(err.path, err.row, err.column, err.problem) from err
    used = {j for j, _s, _c in roles.standards} | set(roles.ids.values())
    if date_col is not None:
        used.add(date_col)
    not_read = tuple(h for j, h in enumerate(names) if j not in used)
    return _Parsed(roles.standards, rows, scales, not_read, {sid for _r, sid, _d, _s in rows})


def _date(text: str, path: Path, row: int, column: str) -> str:
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise ScoresError(path, row, column, Text("%(value)r is not a date (YYYY-MM-DD)",
                                                  value=text)) from None


def import_scores(path: Path | str, roster: Roster, class_id: str, now: float) -> ScoreImport:
    """Check the whole file, then store every score in one transaction (see the module)."""
    path = Path(path)
    if not class_id:
        raise ScoresError(path, None, None,
                          Text("which class are these scores for? (--class)"))
    if class_id not in roster.classes():
        raise ScoresError(path, None, None, Text(
            "no class %(class_id)r on this hub (the roster's classes: %(classes)s)",
            classes=", ".join(roster.classes()) or Text("none"), class_id=class_id))

    today = dt.datetime.fromtimestamp(now).date().isoformat()
    parsed = parse_scores(path, roster, class_id, today)
    db = roster.db
    stored = 0
    with transaction(db):
        cur = db.execute("INSERT INTO score_imports (class_id, file, imported_at) "
                         "VALUES (?, ?, ?)", (class_id, path.name, now))
        import_id = int(cur.lastrowid or 0)
        for _row, sid, day, scores in parsed.rows:
            values = [(import_id, class_id, sid, std, day, score, parsed.scales[std])
                      for std, score in scores.items() if score is not None]
            db.executemany("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?)", values)
            stored += len(values)
    result = ScoreImport(class_id, path.name, import_id, len(parsed.students),
                         tuple(std for _j, std, _s in parsed.standards),
                         tuple(sorted({day for _r, _s, day, _v in parsed.rows})), stored,
                         parsed.not_read)
    log.info("scores imported for class %s from %s: %s", class_id, path.name, result)
    return result


@dataclass(frozen=True)
class LatestScores:
    """Each student's latest score per standard in one class (0-100), and each standard's
    scale as last given."""

    standards: tuple[str, ...]
    scales: dict[str, str]
    scores: dict[str, dict[str, float]]
    #: The day of the newest score.
    latest: str = ""


def latest_scores(db: sqlite3.Connection, class_id: str,
                  students: Iterable[str] | None = None) -> LatestScores:
    """The scores that count: per student and standard the latest (by date, then import)."""
    wanted = None if students is None else set(students)
    scores: dict[str, dict[str, float]] = {}
    scales: dict[str, str] = {}
    order: dict[str, None] = {}
    latest = ""
    for sid, std, score, scale, day in db.execute(
            "SELECT student_id, standard, score, scale, taken_on FROM scores WHERE class_id=? "
            "ORDER BY taken_on, import_id", (class_id,)):
        if wanted is not None and sid not in wanted:
            continue
        scores.setdefault(sid, {})[std] = score
        scales[std] = scale
        order.setdefault(std, None)
        latest = max(latest, day)
    return LatestScores(tuple(order), scales, scores, latest)


def student_scores(db: sqlite3.Connection, student_id: str) -> list[dict[str, object]]:
    """Every stored score of one student (for a family's export)."""
    cur = db.execute("SELECT s.class_id, s.standard, s.taken_on, s.score, s.scale, i.file, "
                     "i.imported_at FROM scores s JOIN score_imports i ON i.id = s.import_id "
                     "WHERE s.student_id=? ORDER BY s.taken_on, s.import_id", (student_id,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
