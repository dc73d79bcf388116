"""Reading the class CSV a teacher imports: one row per student, one column per standard.

Gradebook and roster exports carry more than scores, so columns are recognised by their header
(case, spaces, ``_``, ``-`` and ``.`` ignored: ``Given Name``, ``given_name`` and ``givenName``
are one column):

* an id, required: ``student_id`` or ``id``, else the first of ``sourcedId``, ``identifier``
  (student number), ``username``, ``user_id`` and ``email``; the others are recognised and
  skipped. The id is the pseudonymous id the hub uses;
* a name, optional, shown to the teacher only: ``name`` (``student``, ``full_name``), or
  given/first and family/last/surname, with a preferred (first) name taking the given
  name's place;
* information that is not a score: section, class, course, period, grade (level), school,
  teacher, status, role, dates, OneRoster's ``metadata.*``, and summary columns (total,
  average, overall, final grade, percent): recognised and skipped
  (``ClassData.ignored_columns``);
* ``preferences``, optional: ranked activities, first choice first, separated by ``;`` or ``|``;
* ``confidence_trend``, optional: -1..1, or ``falling`` / ``steady`` / ``rising``;
  ``goal_progress``, optional: 0..1 (share of goals met). Both are reflection features
  (``Student.features``) mixed mode may balance;
* every other column is a learning standard. Scores are 0-100 or a 1-4 rubric; a header may
  say which (``fractions (1-4)``; such a header is always a standard, even ``grade (0-100)``),
  otherwise a column whose scores all lie in 1-4 is read as a rubric. Empty cells, ``NA``,
  ``n/a`` and ``-`` are missing scores.

Two columns for one role (``first_name`` and ``given_name``) are ambiguous and refused.
Comma, semicolon and tab separated files are accepted (spreadsheet exports differ by locale),
with or without a byte-order mark. Every problem raises :class:`ClassCsvError` naming the file,
row (the header is row 1) and column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from hub.grouping.errors import ClassCsvError
from hub.grouping.model import CONFIDENCE_TREND, GOAL_PROGRESS, ClassData, Student
from stations.text import Text

#: Id columns by normalised header, in the order one is picked as the student id.
ID_COLUMNS = {"studentid": "student_id", "id": "student_id", "sourcedid": "sourcedId",
              "identifier": "identifier", "studentnumber": "identifier",
              "studentno": "identifier", "username": "username", "userid": "username",
              "email": "email", "emailaddress": "email"}
_ID_ORDER = ("student_id", "sourcedId", "identifier", "username", "email")
_NAME_COLUMNS = {"name": "name", "fullname": "name", "studentname": "name", "student": "name",
                 "displayname": "name", "givenname": "given", "firstname": "given",
                 "first": "given", "given": "given", "forename": "given",
                 "familyname": "family", "lastname": "family", "last": "family",
                 "family": "family", "surname": "family", "preferredname": "preferred",
                 "preferredfirstname": "preferred", "preferredgivenname": "preferred",
                 "nickname": "preferred", "middlename": "middle",
                 "preferredmiddlename": "middle", "preferredlastname": "preferred_family",
                 "preferredfamilyname": "preferred_family"}
_INFO_COLUMNS = frozenset((
    "section", "sectionid", "sectionname", "class", "classid", "classname", "classcode",
    "course", "courseid", "coursename", "coursecode", "period", "grade", "grades",
    "gradelevel", "year", "yeargroup", "form", "homeroom", "teacher", "school", "schoolid",
    "org", "orgsourcedids", "status", "role", "enableduser", "datelastmodified",
    "lastmodified", "date", "timestamp", "phone", "sms", "gender", "sex", "birthdate", "dob",
    "password", "userids", "agentsourcedids", "comments", "notes",
    "total", "average", "overall", "finalgrade", "final", "percent", "percentage", "mean"))
_FEATURE_COLUMNS = {"confidencetrend": CONFIDENCE_TREND, "goalprogress": GOAL_PROGRESS}
_ROLE_WORDS = {"given": Text("the given name"), "family": Text("the family name"),
               "name": Text("the name"), "preferred": Text("the preferred name"),
               "middle": Text("the middle name"),
               "preferred_family": Text("the preferred family name"),
               "preferences": Text("the preferences"),
               CONFIDENCE_TREND: Text("the confidence trend"),
               GOAL_PROGRESS: Text("the goal progress")}
_MISSING = {"", "na", "n/a", "-", "none", "null"}
_TRENDS = {"falling": -1.0, "down": -1.0, "steady": 0.0, "flat": 0.0, "rising": 1.0, "up": 1.0}
_SCALE_RE = re.compile(r"^(.*?)\s*[\(\[]\s*(0\s*-\s*100|1\s*-\s*4)\s*[\)\]]\s*$")
_MAX_ID = 64


def column_key(header: str) -> str:
    """A header as it is recognised: lower case, letters and digits only."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


@dataclass
class ColumnRoles:
    """What each column of a class or scores file holds (column indices, 0-based)."""

    #: Id columns by kind (student_id, sourcedId, identifier, username, email).
    ids: dict[str, int] = field(default_factory=dict)
    #: Name parts: name, given, family, preferred, middle, preferred_family.
    names: dict[str, int] = field(default_factory=dict)
    #: Reflection features by feature name, and the preferences column.
    features: dict[str, int] = field(default_factory=dict)
    preferences: int | None = None
    #: Recognised and skipped (section, grade level, totals...).
    ignored: list[int] = field(default_factory=list)
    #: (column, standard name, declared scale or None).
    standards: list[tuple[int, str, str | None]] = field(default_factory=list)

    @property
    def id_column(self) -> int | None:
        """The column the student id is read from: the first kind in priority order."""
        return next((self.ids[k] for k in _ID_ORDER if k in self.ids), None)


def classify_columns(names: list[str], source: Path | str = "<csv>",
                     row: int | None = 1) -> ColumnRoles:
    """Recognise every column of a header row; raises ClassCsvError for an ambiguous one."""
    roles = ColumnRoles()
    taken: dict[str, int] = {}  # role -> column, for the ambiguity check

    def claim(role: str, j: int, what: str) -> None:
        if role in taken:
            raise ClassCsvError(source, row, names[j], Text(
                "ambiguous column: both %(first)r and %(second)r would be %(what)s; rename "
                "or remove one", first=names[taken[role]], second=names[j], what=what))
        taken[role] = j

    for j, header in enumerate(names):
        key = column_key(header)
        scaled = _SCALE_RE.match(header)
        if scaled:  # a declared scale makes any column a standard
            roles.standards.append((j, scaled.group(1), scaled.group(2).replace(" ", "")))
        elif key in ID_COLUMNS:
            kind = ID_COLUMNS[key]
            claim("id:" + kind, j, Text("the student's %(kind)s", kind=kind))
            roles.ids[kind] = j
        elif key in _NAME_COLUMNS:
            part = _NAME_COLUMNS[key]
            claim(part, j, _ROLE_WORDS[part])
            roles.names[part] = j
        elif key in _FEATURE_COLUMNS:
            feature = _FEATURE_COLUMNS[key]
            claim(feature, j, _ROLE_WORDS[feature])
            roles.features[feature] = j
        elif key == "preferences":
            claim("preferences", j, _ROLE_WORDS["preferences"])
            roles.preferences = j
        elif key in _INFO_COLUMNS or key.startswith("metadata"):
            roles.ignored.append(j)
        else:
            roles.standards.append((j, header, None))
    return roles


def read_class_csv(path: Path | str) -> ClassData:
    path = Path(path)
    return parse_class_csv(read_csv_text(path), path)


def read_csv_text(path: Path) -> str:
    """A CSV file's text (UTF-8, with or without a byte-order mark); ClassCsvError if not."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as err:
        raise ClassCsvError(path, None, None, Text("file not found")) from err
    except UnicodeDecodeError as err:
        raise ClassCsvError(path, None, None,
                            Text("is not UTF-8 text (save it as CSV UTF-8)")) from err
    except OSError as err:
        raise ClassCsvError(path, None, None, Text("cannot be read (%(error)s)",
                                                   error=err.strerror)) from err


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def numbered_rows(text: str, source: Path | str, empty: str
                  ) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(header row number, header names, [(row number, cells)]) of a CSV text whose first
    non-blank row is a header; rows numbered as a spreadsheet shows them (blank lines count
    but are skipped). ClassCsvError for an empty file (``empty`` says what was expected), an
    empty or repeated column name."""
    text = text.removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text), _dialect(text)))
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        raise ClassCsvError(source, None, None, Text("the file is empty: expected %(expected)s",
                                                     expected=empty))
    header_row, header = numbered[0]
    names = [h.strip() for h in header]
    seen: dict[str, int] = {}
    for j, h in enumerate(names):
        if not h:
            raise ClassCsvError(source, header_row, f"#{j + 1}", Text("empty column name"))
        if h.lower() in seen:
            raise ClassCsvError(source, header_row, names[j], Text(
                "duplicate column (also column %(other)d)", other=seen[h.lower()] + 1))
        seen[h.lower()] = j
    for row_no, row in numbered[1:]:
        if len(row) != len(names):
            raise ClassCsvError(source, row_no, None, Text(
                "has %(fields)d fields but the header has %(header)d", fields=len(row),
                header=len(names)))
    return header_row, names, numbered[1:]


def parse_class_csv(text: str, source: Path | str = "<class csv>") -> ClassData:
    header_row, names, body = numbered_rows(
        text, source, Text("a header row with student_id and one column per standard"))
    roles = classify_columns(names, source, header_row)
    id_col = roles.id_column
    if id_col is None:
        raise ClassCsvError(source, header_row, None, Text(
            "missing header: the first row must name the columns and include a student id "
            "(student_id, sourcedId, identifier, username or email; found %(found)s)",
            found=", ".join(repr(h) for h in names)))

    students: list[tuple[int, Student]] = []
    first_row: dict[str, int] = {}
    for row_no, row in body:
        sid = row[id_col].strip()
        if not sid:
            raise ClassCsvError(source, row_no, names[id_col], Text("missing student id"))
        if len(sid) > _MAX_ID or any(ch.isspace() for ch in sid):
            raise ClassCsvError(source, row_no, names[id_col], Text(
                "student id %(id)r must be at most %(max)d characters without spaces",
                id=sid, max=_MAX_ID))
        if sid in first_row:
            raise ClassCsvError(source, row_no, names[id_col], Text(
                "duplicate student %(id)r (first on row %(first)d)", id=sid,
                first=first_row[sid]))
        first_row[sid] = row_no
        scores = {std: parse_score(row[j], source, row_no, names[j])
                  for j, std, _ in roles.standards}
        prefs: tuple[str, ...] = ()
        if roles.preferences is not None:
            cell = row[roles.preferences]
            items = [x.strip() for x in re.split(r"[;|]", cell) if x.strip()]
            if len(set(items)) != len(items):
                raise ClassCsvError(source, row_no, names[roles.preferences],
                                    Text("an activity is listed twice in %(cell)r", cell=cell))
            prefs = tuple(items)
        features = {f: _feature(f, row[j], source, row_no, names[j])
                    for f, j in roles.features.items()}
        students.append((row_no, Student(id=sid, name=_name(roles, row), scores=scores,
                                         preferences=prefs, features=features)))
    if not students:
        raise ClassCsvError(source, None, None, Text("no student rows after the header"))

    rescaled = {row_no: dict(s.scores) for row_no, s in students}
    scales = rescale(roles, rescaled, names, source)
    used = {roles.names.get("name")} if "name" in roles.names else {
        roles.names.get(k) for k in ("given", "family", "preferred", "preferred_family")}
    skipped = sorted({*roles.ignored, *roles.ids.values(), *roles.names.values()}
                     - {id_col} - used)
    return ClassData(
        students=tuple(Student(id=s.id, name=s.name, scores=rescaled[row_no],
                               preferences=s.preferences, features=s.features)
                       for row_no, s in students),
        standards=tuple(std for _, std, _ in roles.standards), scales=scales,
        ignored_columns=tuple(names[j] for j in skipped))


def rescale(roles: ColumnRoles, rows: dict[int, dict[str, float | None]], names: list[str],
            source: Path | str) -> dict[str, str]:
    """Each standard's scale ("0-100" or "1-4": declared in its header, else a column whose
    scores all lie in 1-4), with the rows' 1-4 scores mapped onto 0-100 in place (1 -> 0,
    4 -> 100). ``rows``: row number -> standard -> score."""
    scales: dict[str, str] = {}
    for j, std, declared in roles.standards:
        values = [v for sc in rows.values() if (v := sc.get(std)) is not None]
        scale = declared or ("1-4" if values and all(1 <= v <= 4 for v in values)
                             else "0-100")
        scales[std] = scale
        if scale == "1-4":
            for row_no, sc in rows.items():
                v = sc.get(std)
                if v is None:
                    continue
                if not 1 <= v <= 4:
                    raise ClassCsvError(source, row_no, names[j], Text(
                        "score %(score)g is outside the 1-4 scale", score=v))
                sc[std] = (v - 1) / 3 * 100
    return scales


def parse_score(cell: str, source: Path | str, row: int, column: str) -> float | None:
    cell = cell.strip()
    if cell.lower() in _MISSING:
        return None
    try:
        value = float(cell.replace(",", ".") if cell.count(",") == 1 and "." not in cell
                      else cell)
    except ValueError:
        raise ClassCsvError(source, row, column, Text(
            "score %(cell)r is not a number (a standard column holds 0-100 or 1-4 scores; if "
            "this column is a name, id or other information, give it a header such as "
            "given_name, family_name, student_id or section)", cell=cell)) from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise ClassCsvError(source, row, column,
                            Text("score %(cell)r is outside 0-100", cell=cell))
    return value


def _feature(feature: str, cell: str, source: Path | str, row: int,
             column: str) -> float | None:
    text = cell.strip().lower()
    if text in _MISSING:
        return None
    if feature == CONFIDENCE_TREND and text in _TRENDS:
        return _TRENDS[text]
    low, high, words = ((-1.0, 1.0, Text("-1 to 1, or falling, steady or rising"))
                        if feature == CONFIDENCE_TREND else (0.0, 1.0, Text("0 to 1")))
    what = Text("confidence trend") if feature == CONFIDENCE_TREND else Text("goal progress")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise ClassCsvError(source, row, column, Text(
            "%(feature)s %(cell)r must be %(range)s", feature=what,

            cell=cell.strip(), range=words))

    return value


def _name(roles: ColumnRoles, row: list[str]) -> str:
    def part(role: str) -> str:
        j = roles.names.get(role)
        return row[j].strip() if j is not None else ""
    if part("name"):
        return part("name")
    first = part("preferred") or part("given")
    last = part("preferred_family") or part("family")
    return " ".join(x for x in (first, last) if x)
