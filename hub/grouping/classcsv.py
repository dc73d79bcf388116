"""Reading the class CSV a teacher imports: one row per student, one column per standard.

Columns (header names are case-insensitive):

* ``student_id`` (or ``id``), required: the pseudonymous id the hub uses;
* ``name``, optional: shown to the teacher only;
* ``preferences``, optional: ranked activities, first choice first, separated by ``;`` or ``|``;
* ``confidence_trend``, optional: -1..1, or ``falling`` / ``steady`` / ``rising``;
* every other column is a learning standard. Scores are 0-100 or a 1-4 rubric; a header may
  say which (``fractions (1-4)``), otherwise a column whose scores all lie in 1-4 is read as a
  rubric. Empty cells, ``NA``, ``n/a`` and ``-`` are missing scores.

Comma, semicolon and tab separated files are accepted (spreadsheet exports differ by locale),
with or without a byte-order mark. Every problem raises :class:`ClassCsvError` naming the file,
row (the header is row 1) and column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from hub.grouping.errors import ClassCsvError
from hub.grouping.model import ClassData, Student

_ID_COLUMNS = ("student_id", "id")
_MISSING = {"", "na", "n/a", "-", "none", "null"}
_TRENDS = {"falling": -1.0, "down": -1.0, "steady": 0.0, "flat": 0.0, "rising": 1.0, "up": 1.0}
_SCALE_RE = re.compile(r"^(.*?)\s*[\(\[]\s*(0\s*-\s*100|1\s*-\s*4)\s*[\)\]]\s*$")
_MAX_ID = 64


def read_class_csv(path: Path | str) -> ClassData:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as err:
        raise ClassCsvError(path, None, None, "file not found") from err
    except UnicodeDecodeError as err:
        raise ClassCsvError(path, None, None, "is not UTF-8 text (save it as CSV UTF-8)") \
            from err
    except OSError as err:
        raise ClassCsvError(path, None, None, f"cannot be read ({err.strerror})") from err
    return parse_class_csv(text, path)


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def parse_class_csv(text: str, source: Path | str = "<class csv>") -> ClassData:
    text = text.removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text), _dialect(text)))
    # Row numbers as a spreadsheet shows them: blank lines count but are skipped.
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        raise ClassCsvError(source, None, None, "the file is empty: expected a header row "
                                                "with student_id and one column per standard")
    header_row, header = numbered[0]
    names = [h.strip() for h in header]
    lowered = [h.lower() for h in names]
    id_col = next((lowered.index(c) for c in _ID_COLUMNS if c in lowered), None)
    if id_col is None:
        raise ClassCsvError(source, header_row, None,
                            "missing header: the first row must name the columns and include "
                            f"student_id (found {', '.join(repr(h) for h in names)})")
    seen: dict[str, int] = {}
    for j, h in enumerate(lowered):
        if not h:
            raise ClassCsvError(source, header_row, f"#{j + 1}", "empty column name")
        if h in seen:
            raise ClassCsvError(source, header_row, names[j],
                                f"duplicate column (also column {seen[h] + 1})")
        seen[h] = j
    special = {id_col}
    name_col = seen.get("name")
    pref_col = seen.get("preferences")
    trend_col = seen.get("confidence_trend")
    special |= {c for c in (name_col, pref_col, trend_col) if c is not None}
    standards: list[tuple[int, str, str | None]] = []
    for j, h in enumerate(names):
        if j in special:
            continue
        m = _SCALE_RE.match(h)
        if m:
            standards.append((j, m.group(1), m.group(2).replace(" ", "")))
        else:
            standards.append((j, h, None))

    students: list[tuple[int, str, str, dict[str, float | None], tuple[str, ...],
                         float | None]] = []
    first_row: dict[str, int] = {}
    for row_no, row in numbered[1:]:
        if len(row) != len(names):
            raise ClassCsvError(source, row_no, None,
                                f"has {len(row)} fields but the header has {len(names)}")
        sid = row[id_col].strip()
        if not sid:
            raise ClassCsvError(source, row_no, names[id_col], "missing student id")
        if len(sid) > _MAX_ID or any(ch.isspace() for ch in sid):
            raise ClassCsvError(source, row_no, names[id_col],
                                f"student id {sid!r} must be at most {_MAX_ID} characters "
                                "without spaces")
        if sid in first_row:
            raise ClassCsvError(source, row_no, names[id_col],
                                f"duplicate student {sid!r} (first on row {first_row[sid]})")
        first_row[sid] = row_no
        scores: dict[str, float | None] = {}
        for j, std, _ in standards:
            cell = row[j].strip()
            if cell.lower() in _MISSING:
                scores[std] = None
                continue
            try:
                value = float(cell.replace(",", ".") if cell.count(",") == 1
                              and "." not in cell else cell)
            except ValueError:
                raise ClassCsvError(source, row_no, names[j],
                                    f"score {cell!r} is not a number") from None
            if not math.isfinite(value) or not 0 <= value <= 100:
                raise ClassCsvError(source, row_no, names[j],
                                    f"score {cell!r} is outside 0-100")
            scores[std] = value
        prefs: tuple[str, ...] = ()
        if pref_col is not None:
            items = [x.strip() for x in re.split(r"[;|]", row[pref_col]) if x.strip()]
            if len(set(items)) != len(items):
                raise ClassCsvError(source, row_no, names[pref_col],
                                    f"an activity is listed twice in {row[pref_col]!r}")
            prefs = tuple(items)
        trend = None
        if trend_col is not None:
            cell = row[trend_col].strip().lower()
            if cell not in _MISSING:
                if cell in _TRENDS:
                    trend = _TRENDS[cell]
                else:
                    try:
                        trend = float(cell)
                    except ValueError:
                        trend = math.nan
                    if not -1 <= trend <= 1:
                        raise ClassCsvError(source, row_no, names[trend_col],
                                            f"confidence trend {row[trend_col].strip()!r} must "
                                            "be -1 to 1, or falling, steady or rising")
        name = row[name_col].strip() if name_col is not None else ""
        students.append((row_no, sid, name, scores, prefs, trend))
    if not students:
        raise ClassCsvError(source, None, None, "no student rows after the header")

    scales: dict[str, str] = {}
    for j, std, declared in standards:
        values = [s[3][std] for s in students if s[3][std] is not None]
        scale = declared or ("1-4" if values and all(1 <= v <= 4 for v in values)
                             else "0-100")
        scales[std] = scale
        if scale == "1-4":
            for row_no, _, _, scores, _, _ in students:
                v = scores[std]
                if v is None:
                    continue
                if not 1 <= v <= 4:
                    raise ClassCsvError(source, row_no, names[j],
                                        f"score {v:g} is outside the 1-4 scale")
                scores[std] = (v - 1) / 3 * 100
    return ClassData(
        students=tuple(Student(id=sid, name=name, scores=scores, preferences=prefs,
                               confidence_trend=trend)
                       for _, sid, name, scores, prefs, trend in students),
        standards=tuple(std for _, std, _ in standards), scales=scales)
