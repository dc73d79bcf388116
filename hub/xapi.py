"""Check-ins as xAPI 1.0.3 statements, for a school's learning record store. Pure: no I/O.

Each stored check-in becomes: the student *attended* the station (at the tap), *responded*
to each reflection question (the answer as the result), and *selected* the activity. The
actor is pseudonymous: an ``account`` on the school's home page whose name is the roster's
``sourcedId``, or an HMAC of it under the school's own salt; never a name or an e-mail.
Statement ids are UUID version 5 of the check-in's message id and the statement's kind, so a
check-in sent twice, or queued again, is the same statement, which an LRS stores once.
A student's erasure withdraws the statements already sent with :func:`voiding` statements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from broker.contract import CheckIn

XAPI_VERSION = "1.0.3"
#: The namespace of every statement id this project makes (uuid5 of a fixed name).
STATEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:classroom-stations:xapi:statement")
PLATFORM = "classroom stations"

VERBS = {
    "attended": ("http://adlnet.gov/expapi/verbs/attended", "attended"),
    "responded": ("http://adlnet.gov/expapi/verbs/responded", "responded"),
    "selected": ("http://id.tincanapi.com/verb/selected", "selected"),
}
#: xAPI's reserved verb for withdrawing a statement (a family's erasure request).
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
#: What each reflection question asks, for the LRS's readers (the kiosk asks it in pictures).
QUESTION_NAMES = {"confidence": "How sure do you feel?", "goal": "How is your goal going?",
                  "mood": "How do you feel today?"}
ACTIVITY_TYPES = {
    "station": "http://activitystrea.ms/schema/1.0/place",
    "question": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "activity": "http://adlnet.gov/expapi/activities/lesson",
}


@dataclass(frozen=True)
class XapiSettings:
    """``[xapi]`` in the hub's config."""

    enabled: bool = False
    #: The school's home page: the actor's account home page and the root of activity ids.
    homepage: str = ""
    #: ``sourcedid`` (the roster's id as it is) or ``hashed`` (HMAC-SHA256 under ``salt``).
    actor: str = "sourcedid"
    salt: str = field(default="", repr=False)
    #: The LRS's xAPI endpoint (statements go to ``endpoint`` + ``statements``), or "".
    endpoint: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    #: OAuth 2 client credentials, instead of a username and password.
    token_url: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    #: Instead of an endpoint: statements appended to this file, one JSON object a line.
    file: str = ""
    batch: int = 50
    max_backoff_s: float = 300.0


@dataclass(frozen=True)
class Names:
    """What the plan calls its stations and activities (the teacher's words, not students')."""

    room: str
    stations: Mapping[str, str] = field(default_factory=dict)
    activities: Mapping[tuple[str, str], str] = field(default_factory=dict)


def statement_id(checkin_id: str, kind: str) -> str:
    return str(uuid.uuid5(STATEMENT_NAMESPACE, f"{checkin_id}/{kind}"))


def account_name(student_id: str, settings: XapiSettings) -> str:
    if settings.actor == "hashed":
        return hmac.new(settings.salt.encode(), student_id.encode(), hashlib.sha256).hexdigest()
    return student_id


def timestamp(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def _base(settings: XapiSettings) -> str:
    return settings.homepage.rstrip("/") + "/xapi"


def _activity(ident: str, kind: str, name: str, extra: Mapping[str, Any] | None = None
              ) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": ACTIVITY_TYPES[kind]}
    if name:
        definition["name"] = {"en-US": name}
    definition.update(extra or {})
    return {"objectType": "Activity", "id": ident, "definition": definition}


def statements(message: CheckIn, station: str, student_id: str, names: Names,
               settings: XapiSettings) -> list[dict[str, Any]]:
    """The statements of one stored check-in, in order: attended, responded…, selected."""
    base = _base(settings)
    actor = {"objectType": "Agent",
             "account": {"homePage": settings.homepage,
                         "name": account_name(student_id, settings)}}
    place = _activity(f"{base}/rooms/{names.room}/stations/{station}", "station",
                      names.stations.get(station, ""))
    context = {"platform": PLATFORM, "contextActivities": {"parent": [
        {"objectType": "Activity", "id": place["id"]}]}}

    def statement(kind: str, verb: str, obj: dict[str, Any], at: float,
                  **more: Any) -> dict[str, Any]:
        verb_id, display = VERBS[verb]
        out = {"id": statement_id(message.id, kind), "actor": actor,
               "verb": {"id": verb_id, "display": {"en-US": display}}, "object": obj,
               "timestamp": timestamp(at), "version": XAPI_VERSION, **more}
        return out

    out = [statement("attended", "attended", place, message.tapped_at,
                     context={"platform": PLATFORM})]
    for question, value in sorted(message.answers.items()):
        obj = _activity(f"{base}/reflection/{question}", "question",
                        QUESTION_NAMES.get(question, question),
                        {"interactionType": "likert"})
        out.append(statement(f"responded/{question}", "responded", obj, message.ts,
                             result={"response": str(value)}, context=context))
    chosen = _activity(f"{base}/rooms/{names.room}/stations/{station}/activities/"
                       f"{message.activity}", "activity",
                       names.activities.get((station, message.activity), ""))
    out.append(statement("selected", "selected", chosen, message.ts, context=context))
    return out


def statement_kinds(message: CheckIn) -> list[str]:
    """The kinds of the statements a check-in makes (what :func:`statement_id` is of)."""
    return answer_kinds(message.answers)


def answer_kinds(questions: Iterable[str]) -> list[str]:
    """The kinds of the statements of a check-in that answered ``questions``."""
    return ["attended", *(f"responded/{q}" for q in sorted(questions)), "selected"]


def voiding(voided_id: str, room: str, settings: XapiSettings, at: float) -> dict[str, Any]:
    """The statement that withdraws statement ``voided_id`` (xAPI 1.0.3, Data 2.3.2: verb
    ``voided``, object a StatementRef). The actor is the room's hub on the school's home page,
    not the student; its id is UUID 5 of the voided id, so queuing it twice makes one."""
    return {"id": statement_id(voided_id, "voided"),
            "actor": {"objectType": "Agent", "name": f"Classroom hub {room}",
                      "account": {"homePage": settings.homepage, "name": f"hub/{room}"}},
            "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": voided_id},
            "timestamp": timestamp(at), "version": XAPI_VERSION,
            "context": {"platform": PLATFORM}}
