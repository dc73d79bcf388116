"""OneRoster 1.1 and 1.2 exports written from the specs' column lists, the way real SIS
exports come: UTF-8 with a byte-order mark, CRLF line endings, quoted commas."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

ORGS = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
        "parentSourcedId"]
CLASSES = ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId",
           "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds",
           "subjects", "subjectCodes", "periods"]
USERS_11 = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
            "username", "userIds", "givenName", "familyName", "middleName", "identifier",
            "email", "sms", "phone", "agentSourcedIds", "grades", "password"]
USERS_12 = ["sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds",
            "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
            "agentSourcedIds", "grades", "password", "userMasterIdentifier",
            "resourceSourcedIds", "preferredGivenName", "preferredMiddleName",
            "preferredFamilyName", "primaryOrgSourcedId", "pronouns"]
ROLES = ["sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role",
         "beginDate", "endDate", "orgSourcedId", "userProfileSourcedId"]
ENROLLMENTS = ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
               "userSourcedId", "role", "primary", "beginDate", "endDate"]

PEOPLE = [  # id, given, family, preferred, role, grade, status
    ("u-t1", "Maria", "Lopez", "", "teacher", "", ""),
    ("u-s1", "Ana", "Rivera", "", "student", "04", ""),
    ("u-s2", "Benjamin", "Okafor", "Ben", "student", "04", "active"),
    ("u-s3", "Chloe", "Nguyen, Jr.", "", "student", "04", ""),
    ("u-s4", "Dev", "Patel", "", "student", "05", "tobedeleted"),
    ("u-s5", "Ella", "Schmidt", "", "student", "05", ""),
]
ENROLLS = [  # id, class, user, role, end date, status
    ("e1", "c-math", "u-t1", "teacher", "", ""),
    ("e2", "c-math", "u-s1", "student", "", ""),
    ("e3", "c-math", "u-s2", "student", "", ""),
    ("e4", "c-math", "u-s3", "student", "", ""),
    ("e5", "c-math", "u-s4", "student", "", ""),     # the user is tobedeleted
    ("e6", "c-read", "u-s3", "student", "2001-06-30", ""),  # ended
    ("e7", "c-read", "u-s5", "student", "", ""),
    ("e8", "c-read", "u-s1", "student", "", "tobedeleted"),
]


def _csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def files(version: str) -> dict[str, bytes]:
    out = {
        "manifest.csv": _csv(["propertyName", "value"],
                             [{"propertyName": "manifest.version", "value": "1.0"},
                              {"propertyName": "oneroster.version", "value": version},
                              {"propertyName": "file.enrollments", "value": "bulk"}]),
        "orgs.csv": _csv(ORGS, [{"sourcedId": "o-school", "name": "Hill School, North",
                                 "type": "school"}]),
        "classes.csv": _csv(CLASSES, [
            {"sourcedId": "c-math", "title": "Maths, Grade 4", "schoolSourcedId": "o-school",
             "classType": "scheduled", "termSourcedIds": "t1", "grades": "04"},
            {"sourcedId": "c-read", "title": "Reading", "schoolSourcedId": "o-school",
             "classType": "scheduled", "termSourcedIds": "t1"}]),
        "enrollments.csv": _csv(ENROLLMENTS, [
            {"sourcedId": e, "classSourcedId": c, "schoolSourcedId": "o-school",
             "userSourcedId": u, "role": r, "endDate": end, "status": st,
             "primary": "false"} for e, c, u, r, end, st in ENROLLS]),
    }
    if version == "1.1":
        out["users.csv"] = _csv(USERS_11, [
            {"sourcedId": i, "givenName": g, "familyName": f, "role": r, "grades": gr,
             "status": st, "enabledUser": "true", "orgSourcedIds": "o-school"}
            for i, g, f, _p, r, gr, st in PEOPLE])
    else:
        out["users.csv"] = _csv(USERS_12, [
            {"sourcedId": i, "givenName": g, "familyName": f, "preferredGivenName": p,
             "grades": gr, "status": st, "enabledUser": "true",
             "primaryOrgSourcedId": "o-school"} for i, g, f, p, _r, gr, st in PEOPLE])
        out["roles.csv"] = _csv(ROLES, [
            {"sourcedId": f"r-{i}", "userSourcedId": i, "roleType": "primary", "role": r,
             "orgSourcedId": "o-school"} for i, _g, _f, _p, r, _gr, _st in PEOPLE])
    return out


def write_folder(folder: Path, data: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in data.items():
        (folder / name).write_bytes(content)
    return folder


def write_zip(path: Path, data: dict[str, bytes], prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, content in data.items():
            z.writestr(prefix + name, content)
    return path
