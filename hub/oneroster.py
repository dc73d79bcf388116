"""OneRoster CSV import, versions 1.1 and 1.2, from a zip or a folder.

Files read: ``orgs.csv``, ``classes.csv``, ``users.csv``, ``enrollments.csv`` and, for 1.2,
``roles.csv`` (1.1 keeps the role in ``users.csv``). The version comes from
``manifest.csv``'s ``oneroster.version`` when present, otherwise from whether ``roles.csv``
exists. ``sourcedId`` is the key everywhere, so re-importing updates and never duplicates.

What real exports carry is handled: a UTF-8 byte-order mark, CRLF line endings, quoted
commas and line breaks, empty optional columns, ``tobedeleted`` statuses (the record is
deactivated) and enrollments whose ``endDate`` has passed (kept, not active).

Everything is parsed and checked before anything is written; a bad file raises
:class:`OneRosterError` naming the file, the row (the header is row 1) and the column, and the
database is not touched. The write is one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from hub.roster import Roster, SchoolIds, Student, display_name_problem
from stations.errors import StationsError
from stations.sqlitedb import transaction
from stations.text import Text

log = logging.getLogger(__name__)

# Role vocabularies (an ``ext:`` prefix is the spec's extension mechanism and is accepted).
USER_ROLES_11 = {"administrator", "aide", "guardian", "parent", "proctor", "relative",
                 "student", "teacher"}
ROLES_12 = {"aide", "counselor", "districtAdministrator", "guardian", "parent", "principal",
            "proctor", "relative", "siteAdministrator", "student", "systemAdministrator",
            "teacher"}
ENROLLMENT_ROLES = {"administrator", "proctor", "student", "teacher", "aide"}
ROLE_TYPES = {"primary", "secondary"}
STATUSES = {"", "active", "tobedeleted", "inactive"}

REQUIRED = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "classes.csv": ("sourcedId", "title", "schoolSourcedId"),
    "users.csv": ("sourcedId", "givenName", "familyName"),
    "enrollments.csv": ("sourcedId", "classSourcedId", "userSourcedId", "role"),
    "roles.csv": ("userSourcedId", "role", "orgSourcedId"),
}


class OneRosterError(StationsError, ValueError):
    """A OneRoster file is missing or wrong; names the file, row and column."""

    def __init__(self, file: str, row: int | None, column: str | None, problem: str) -> None:
        #: ``problem`` is a :class:`~hub.text.Text`: the console shows it translated.
        self.file, self.row, self.column, self.problem = file, row, column, problem
        where = file + (f", row {row}" if row is not None else "") + \
            (f", column {column}" if column else "")
        super().__init__(f"{where}: {problem}")


@dataclass
class Person:
    id: str
    given_name: str
    family_name: str
    preferred_name: str
    grade: str
    active: bool
    roles: set[str] = field(default_factory=set)
    ids: SchoolIds = field(default_factory=SchoolIds)
    #: Its row in users.csv, for messages.
    row: int = 0

    def student(self) -> Student:
        return Student(self.id, self.given_name, self.family_name, self.preferred_name,
                       self.grade)


@dataclass
class Parsed:
    version: str
    orgs: dict[str, tuple[str, str, bool]]
    classes: dict[str, tuple[str, str, str, bool]]
    people: dict[str, Person]
    #: id → (class, user, role, begin, end, active)
    enrollments: dict[str, tuple[str, str, str, str, str, bool]]
    bulk_enrollments: bool = True


@dataclass(frozen=True)
class ImportSummary:
    version: str
    classes: int
    students: int
    teachers: int
    enrollments: int
    per_class: dict[str, int]
    deactivated: int

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "classes": self.classes, "students": self.students,
                "teachers": self.teachers, "enrollments": self.enrollments,
                "per_class": self.per_class, "deactivated": self.deactivated}


# --- reading files ----------------------------------------------------------------------------

class _Source:
    """The CSV files of an export, in a folder or a zip (at its root or in one folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._names: dict[str, str] = {}
        if path.is_dir():
            self._names = {p.name: str(p) for p in path.iterdir() if p.suffix == ".csv"}
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile as err:
                raise OneRosterError(str(path), None, None,
                                     Text("is neither a folder nor a zip file")) from err
            for name in self._zip.namelist():
                pure = PurePosixPath(name)
                if pure.suffix == ".csv" and not pure.name.startswith("._"):
                    self._names.setdefault(pure.name, name)
        else:
            raise OneRosterError(str(path), None, None, Text("not found"))

    def has(self, name: str) -> bool:
        return name in self._names

    def read(self, name: str) -> bytes:
        if name not in self._names:
            raise OneRosterError(name, None, None, Text("missing from %(export)s",
                                                        export=self.path.name))
        if self._zip is not None:
            return self._zip.read(self._names[name])
        return Path(self._names[name]).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _rows(source: _Source, name: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """(row number, record) for each data row; the header is row 1."""
    raw = source.read(name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        row = raw[:err.start].count(b"\n") + 1
        raise OneRosterError(name, row, None, Text(
            "is not UTF-8 (byte 0x%(byte)02x at offset %(offset)d); export it again as UTF-8",
            byte=raw[err.start], offset=err.start)) from err
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise OneRosterError(name, 1, None,
                             Text("is empty: it needs at least a header")) from None
    except csv.Error as err:
        raise OneRosterError(name, 1, None, _not_csv(err)) from err
    for col in required:
        if col not in header:
            raise OneRosterError(name, 1, col, Text("required column is missing"))
    n = 1
    try:
        for values in reader:
            n += 1
            if not values or values == [""]:
                continue
            if len(values) != len(header):
                raise OneRosterError(name, n, None, Text(
                    "has %(fields)d fields, the header has %(header)d",
                    fields=len(values), header=len(header)))
            yield n, {h: v.strip() for h, v in zip(header, values, strict=True)}
    except csv.Error as err:
        raise OneRosterError(name, n + 1, None, _not_csv(err)) from err


def _not_csv(err: csv.Error) -> Text:
    return Text("is not valid CSV (%(error)s)", error=str(err))


def _status(name: str, n: int, rec: dict) -> bool:
    status = rec.get("status", "")
    if status not in STATUSES:
        raise OneRosterError(name, n, "status", Text(
            "%(value)r is not active or tobedeleted", value=status))
    return status != "tobedeleted" and status != "inactive"


def _date(name: str, n: int, rec: dict, col: str) -> str:
    value = rec.get(col, "")
    if value:
        try:
            dt.date.fromisoformat(value[:10])
        except ValueError:
            raise OneRosterError(name, n, col, Text("%(value)r is not a date (YYYY-MM-DD)",
                                                    value=value)) from None
    return value[:10]


def _required_value(name: str, n: int, rec: dict, col: str) -> str:
    value = rec.get(col, "")
    if not value:
        raise OneRosterError(name, n, col, Text("is empty but required"))
    return value


def _unique(name: str, n: int, seen: dict[str, int], sid: str) -> None:
    if sid in seen:
        raise OneRosterError(name, n, "sourcedId", Text(
            "duplicate sourcedId %(id)r (first on row %(first)d)", id=sid, first=seen[sid]))
    seen[sid] = n


def _role(name: str, n: int, col: str, value: str, allowed: set[str]) -> str:
    if value not in allowed and not value.startswith("ext:"):
        raise OneRosterError(name, n, col, Text(
            "role %(role)r is not in the OneRoster vocabulary (%(roles)s)",
            role=value, roles=", ".join(sorted(allowed))))
    return value


def _version(source: _Source) -> tuple[str, bool]:
    """(version, whether enrollments are a bulk file)."""
    version, bulk = "", True
    if source.has("manifest.csv"):
        for n, rec in _rows(source, "manifest.csv", ("propertyName", "value")):
            prop, value = rec["propertyName"], rec["value"]
            if prop == "oneroster.version":
                if value not in ("1.1", "1.2"):
                    raise OneRosterError("manifest.csv", n, "value", Text(
                        "OneRoster version %(version)r is not 1.1 or 1.2", version=value))
                version = value
            elif prop == "file.enrollments":
                bulk = value.lower() != "delta"
    if not version:
        version = "1.2" if source.has("roles.csv") else "1.1"
    return version, bulk


def parse(path: Path | str) -> Parsed:
    """Read and check a whole export; raises OneRosterError without side effects."""
    source = _Source(Path(path))
    try:
        return _parse(source)
    finally:
        source.close()


def _parse(source: _Source) -> Parsed:
    version, bulk = _version(source)
    for name in ("orgs.csv", "classes.csv", "users.csv", "enrollments.csv"):
        if not source.has(name):
            raise OneRosterError(name, None, None, Text("missing from %(export)s",
                                                        export=source.path.name))
    if version == "1.2" and not source.has("roles.csv"):
        raise OneRosterError("roles.csv", None, None, Text(
            "missing from %(export)s (OneRoster 1.2 keeps users' roles there)",
            export=source.path.name))

    orgs: dict[str, tuple[str, str, bool]] = {}
    seen: dict[str, int] = {}
    for n, rec in _rows(source, "orgs.csv", REQUIRED["orgs.csv"]):
        sid = _required_value("orgs.csv", n, rec, "sourcedId")
        _unique("orgs.csv", n, seen, sid)
        orgs[sid] = (rec["name"], rec["type"], _status("orgs.csv", n, rec))

    classes: dict[str, tuple[str, str, str, bool]] = {}
    seen = {}
    for n, rec in _rows(source, "classes.csv", REQUIRED["classes.csv"]):
        sid = _required_value("classes.csv", n, rec, "sourcedId")
        _unique("classes.csv", n, seen, sid)
        school = _required_value("classes.csv", n, rec, "schoolSourcedId")
        if school not in orgs:
            raise OneRosterError("classes.csv", n, "schoolSourcedId",
                                 Text("org %(id)r is not in orgs.csv", id=school))
        classes[sid] = (_required_value("classes.csv", n, rec, "title"), school,
                        rec.get("classCode", ""), _status("classes.csv", n, rec))

    people: dict[str, Person] = {}
    seen = {}
    user_required = REQUIRED["users.csv"] + (("role",) if version == "1.1" else ())
    for n, rec in _rows(source, "users.csv", user_required):
        sid = _required_value("users.csv", n, rec, "sourcedId")
        _unique("users.csv", n, seen, sid)
        active = _status("users.csv", n, rec) and rec.get("enabledUser", "true").lower() != "false"
        grades = rec.get("grades", "")
        person = Person(sid, _required_value("users.csv", n, rec, "givenName"),
                        rec.get("familyName", ""), rec.get("preferredGivenName", ""),
                        grades.split(",")[0].strip(), active,
                        ids=SchoolIds(rec.get("identifier", ""), rec.get("username", ""),
                                      rec.get("email", "")), row=n)
        if version == "1.1":
            person.roles.add(_role("users.csv", n, "role", rec["role"], USER_ROLES_11))
        people[sid] = person

    if version == "1.2":
        for n, rec in _rows(source, "roles.csv", REQUIRED["roles.csv"]):
            user = rec["userSourcedId"]
            if user not in people:
                raise OneRosterError("roles.csv", n, "userSourcedId",
                                     Text("user %(id)r is not in users.csv", id=user))
            org = rec["orgSourcedId"]
            if org and org not in orgs:
                raise OneRosterError("roles.csv", n, "orgSourcedId",
                                     Text("org %(id)r is not in orgs.csv", id=org))
            role_type = rec.get("roleType", "primary") or "primary"
            if role_type not in ROLE_TYPES:
                raise OneRosterError("roles.csv", n, "roleType", Text(
                    "%(value)r is not primary or secondary", value=role_type))
            role = _role("roles.csv", n, "role", rec["role"], ROLES_12)
            if _status("roles.csv", n, rec) and _current(_date("roles.csv", n, rec, "beginDate"),
                                                         _date("roles.csv", n, rec, "endDate")):
                people[user].roles.add(role)

    enrollments: dict[str, tuple[str, str, str, str, str, bool]] = {}
    seen = {}
    for n, rec in _rows(source, "enrollments.csv", REQUIRED["enrollments.csv"]):
        sid = _required_value("enrollments.csv", n, rec, "sourcedId")
        _unique("enrollments.csv", n, seen, sid)
        cls = _required_value("enrollments.csv", n, rec, "classSourcedId")
        if cls not in classes:
            raise OneRosterError("enrollments.csv", n, "classSourcedId",
                                 Text("class %(id)r is not in classes.csv", id=cls))
        user = _required_value("enrollments.csv", n, rec, "userSourcedId")
        if user not in people:
            raise OneRosterError("enrollments.csv", n, "userSourcedId",
                                 Text("user %(id)r is not in users.csv", id=user))

        role = _role("enrollments.csv", n, "role", rec["role"], ENROLLMENT_ROLES)
        begin = _date("enrollments.csv", n, rec, "beginDate")
        end = _date("enrollments.csv", n, rec, "endDate")
        active = (_status("enrollments.csv", n, rec) and _current(begin, end)
                  and classes[cls][3] and people[user].active)
        enrollments[sid] = (cls, user, role, begin, end, active)
        # 1.1 exports often list a user as a student only through enrollments
        if role in ("student", "teacher") and version == "1.1" and not people[user].roles:
            people[user].roles.add(role)
    for person in people.values():  # a student's name travels to the stations
        if "student" in person.roles:
            too_long = display_name_problem(person.student())
            if too_long is not None:
                raise OneRosterError("users.csv", person.row, "preferredGivenName"
                                     if person.preferred_name else "givenName", too_long)
    return Parsed(version, orgs, classes, people, enrollments, bulk)


def _current(begin: str, end: str, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    if begin and dt.date.fromisoformat(begin) > today:
        return False
    return not (end and dt.date.fromisoformat(end) < today)


# --- writing ----------------------------------------------------------------------------------

def import_oneroster(path: Path | str, roster: Roster) -> ImportSummary:
    """Parse, check, then write everything in one transaction; returns what is active."""
    parsed = parse(path)
    db = roster.db
    deactivated = 0
    with transaction(db):
        for sid, (name, kind, active) in parsed.orgs.items():
            db.execute("INSERT INTO orgs (id, name, type, active) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(id) DO UPDATE SET name=excluded.name, type=excluded.type, "
                       "active=excluded.active", (sid, name, kind, int(active)))
        for sid, (title, school, code, active) in parsed.classes.items():
            db.execute("INSERT INTO classes (id, title, school_id, class_code, active) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                       "title=excluded.title, school_id=excluded.school_id, "
                       "class_code=excluded.class_code, active=excluded.active",
                       (sid, title, school, code, int(active)))
        for p in parsed.people.values():
            if "student" in p.roles:
                roster.upsert_student(p.student(), source="oneroster", active=p.active,
                                      ids=p.ids)
                deactivated += not p.active
            elif "teacher" in p.roles:
                db.execute("INSERT INTO teachers (id, given_name, family_name, active) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                           "given_name=excluded.given_name, family_name=excluded.family_name, "
                           "active=excluded.active",
                           (p.id, p.given_name, p.family_name, int(p.active)))
        if parsed.bulk_enrollments:
            # A bulk file is the whole truth for its classes: enrollments it no longer lists
            # have ended.
            for cls in parsed.classes:
                db.execute("UPDATE enrollments SET active=0 WHERE class_id=? AND "
                           "id NOT LIKE 'toml:%'", (cls,))
        for sid, (cls, user, role, begin, end, active) in parsed.enrollments.items():
            db.execute("INSERT INTO enrollments (id, class_id, user_id, role, begin_date, "
                       "end_date, active) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO "
                       "UPDATE SET class_id=excluded.class_id, user_id=excluded.user_id, "
                       "role=excluded.role, begin_date=excluded.begin_date, "
                       "end_date=excluded.end_date, active=excluded.active",
                       (sid, cls, user, role, begin, end, int(active)))
    students = {p.id for p in parsed.people.values() if "student" in p.roles and p.active}
    teachers = {p.id for p in parsed.people.values()
                if "teacher" in p.roles and "student" not in p.roles and p.active}
    per_class = {c: 0 for c, v in parsed.classes.items() if v[3]}
    count = 0
    for cls, user, role, _b, _e, active in parsed.enrollments.values():
        if active:
            count += 1
            if role == "student" and user in students:
                per_class[cls] = per_class.get(cls, 0) + 1
    summary = ImportSummary(parsed.version, len(per_class), len(students), len(teachers),
                            count, per_class, deactivated)
    log.info("OneRoster %s import: %d classes, %d students, %d teachers, %d active "
             "enrollments", summary.version, summary.classes, summary.students,
             summary.teachers, summary.enrollments)
    return summary
