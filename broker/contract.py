"""The versioned topic and payload contract between stations and the hub.

Pure Python: no sockets, no paho. ``broker/CONTRACT.md`` documents the same thing for people;
``tests/test_contract.py`` checks that the two agree.

Every payload is one JSON object with an envelope (``v``, ``kind``, ``id``, ``sender``, ``ts``)
and the fields of its kind. Receivers call :func:`decode` on every message, which either returns
a typed message or raises :class:`~stations.errors.ContractError` with a stable ``reason``.
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from stations.errors import ContractError

SCHEMA_VERSION = 1
NAMESPACE = "stations/v1"
#: Larger payloads are rejected before parsing; the broker config sets the same limit.
MAX_PAYLOAD_BYTES = 8192
QOS = 1
#: What one message can carry; config loaders check names, labels and menus against these.
SHORT_TEXT_MAX = 64
MAX_ACTIVITIES = 8
MAX_STATIONS = 32
MAX_QUESTIONS = 4

_ID = r"^[a-z0-9][a-z0-9-]{0,31}$"
ID_RE = re.compile(_ID)
Ident = Annotated[str, msgspec.Meta(pattern=_ID)]
#: An id, or "" for none.
OptionalIdent = Annotated[str, msgspec.Meta(pattern=r"^([a-z0-9][a-z0-9-]{0,31})?$")]
#: Badge ids are normalised by readers to upper-case hex or decimal digits.
_BADGE = r"^[0-9A-F]{4,32}$"
BADGE_RE = re.compile(_BADGE)
BadgeId = Annotated[str, msgspec.Meta(pattern=_BADGE)]
MessageId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}$")]
# Unix seconds; anything before 2020 or non-finite is a broken clock or a forgery.
Timestamp = Annotated[float, msgspec.Meta(ge=1_577_836_800.0, le=4_102_444_800.0)]
ShortText = Annotated[str, msgspec.Meta(max_length=SHORT_TEXT_MAX)]
#: The Okabe-Ito palette by name: distinguishable with every common colour-blindness.
Colour = Literal["", "orange", "sky", "green", "yellow", "blue", "vermillion", "purple", "black"]
Language = Annotated[str, msgspec.Meta(pattern=r"^([a-z]{2,3}(-[A-Z]{2})?)?$")]
AnswerValue = Annotated[int, msgspec.Meta(ge=0, le=10)]
#: A roster id (OneRoster ``sourcedId``): pseudonymous, so never an e-mail address or spaces.
SourcedId = Annotated[str, msgspec.Meta(pattern=r"^[^\s@]{1,128}$")]
OptionalSourcedId = Annotated[str, msgspec.Meta(pattern=r"^([^\s@]{1,128})?$")]
StationKind = Literal["teacher-led", "online", "collaborative", "independent"]
#: Ids a district ack may carry in one message (32 hex digits each, within the payload limit).
MAX_ACK_IDS = 200


class _Message(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind"):
    v: int
    id: MessageId
    sender: Ident
    ts: Timestamp


class CheckIn(_Message, tag="checkin"):
    """Station → hub: a student checked in (badge, reflection answers, chosen activity)."""

    badge: BadgeId
    answers: Annotated[dict[Ident, AnswerValue], msgspec.Meta(max_length=16)]
    activity: Ident
    tapped_at: Timestamp


class Hello(_Message, tag="hello"):
    """Station → hub: a badge was just tapped; asks who it is, so the station can greet them."""

    badge: BadgeId


ReplyStatus = Literal["accepted", "unknown_badge", "rejected"]
#: How many past reflections a hello reply may carry (the welcome shows a short row).
MAX_HISTORY = 5
MAX_TRANSLATIONS = 8
TRANSLATION_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
#: Per-language texts of a label or name: language → words (the default is the plain field).
Translations = Annotated[dict[Annotated[str, msgspec.Meta(pattern=TRANSLATION_LANGUAGE_RE.pattern)],
                              ShortText], msgspec.Meta(max_length=MAX_TRANSLATIONS)]


class PastReflection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One of the student's own earlier check-ins, as the answers they chose (no times, no
    activity: the welcome shows the faces, nothing a young child must read)."""

    answers: Annotated[dict[Ident, AnswerValue], msgspec.Meta(max_length=4)]


class Reply(_Message, tag="reply", omit_defaults=True):
    """Hub → one station: the answer to a hello or a check-in.

    Fields at their default are left out of the JSON (as in StationStatus), so a reply with
    nothing new to say is read by a station that predates a field.
    """

    in_reply_to: MessageId
    request: Literal["hello", "checkin"]
    status: ReplyStatus
    reason: ShortText = ""
    #: First name and last initial only, and only to the station the student is at.
    display_name: ShortText = ""
    go_to: OptionalIdent = ""
    go_to_name: ShortText = ""
    duplicate: bool = False
    #: The student's language for the screens ("" = the station's own), and a colour for
    #: their welcome avatar; both only when accepted.
    language: Language = ""
    avatar: Colour = ""
    #: The student's own last reflections, oldest first; only in the reply to their own
    #: hello, only to the station they are at, and only when the class shows history.
    history: Annotated[tuple[PastReflection, ...], msgspec.Meta(max_length=MAX_HISTORY)] = ()


class StationStatus(_Message, tag="status", omit_defaults=True):
    """Station → hub, retained; the broker publishes the ``offline`` last will for us.

    Fields at their default are left out of the JSON, so a hub that predates a field still
    reads the status of a station that has nothing to say in it.
    """

    state: Literal["online", "offline"]
    pending: Annotated[int, msgspec.Meta(ge=0)] = 0
    reader: Literal["ok", "fault", "none"] = "ok"
    #: Check-ins the hub answered ``rejected``, kept in the station's quarantine.
    quarantined: Annotated[int, msgspec.Meta(ge=0)] = 0


class HubStatus(_Message, tag="hub_status"):
    """Hub → all, retained, with an ``offline`` last will."""

    state: Literal["online", "offline"]


class Activity(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    id: Ident
    label: ShortText
    icon: Ident = "star"
    #: ``label`` in other languages; a language not listed falls back to ``label``.
    labels: Translations = {}

    def label_in(self, language: str) -> str:
        return translated(self.label, self.labels, language)


class StationPlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    id: Ident
    name: ShortText
    kind: StationKind
    #: The public name of the group there this block: never a name that labels ability.
    group: ShortText = ""
    activities: Annotated[tuple[Activity, ...], msgspec.Meta(max_length=MAX_ACTIVITIES)] = ()
    #: How students recognise the station across the room: "go to the blue table".
    colour: Colour = ""
    icon: Ident = "pin"
    #: The id of that group ("" if none), for whatever needs to follow a group.
    group_id: OptionalIdent = ""
    #: ``name`` in other languages; a language not listed falls back to ``name``.
    names: Translations = {}

    def name_in(self, language: str) -> str:
        return translated(self.name, self.names, language)


def translated(default: str, texts: dict[str, str], language: str) -> str:
    """``texts`` in ``language`` (``pt-BR`` falls back to ``pt``), else ``default``."""
    return texts.get(language) or texts.get(language.split("-")[0]) or default


class RotationState(_Message, tag="rotation"):
    """Hub → all stations, retained: where each group is now and how long the block has left."""

    state: Literal["idle", "running", "paused", "ended"]
    block: Annotated[int, msgspec.Meta(ge=0)]
    blocks: Annotated[int, msgspec.Meta(ge=0)]
    remaining_s: Annotated[float, msgspec.Meta(ge=0)]
    stations: Annotated[tuple[StationPlan, ...], msgspec.Meta(max_length=MAX_STATIONS)] = ()
    #: Of ``remaining_s``, the seconds still left for moving between stations.
    moving_s: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    #: The class's reflection questions, by id, in order (the kiosk knows how to ask each).
    questions: Annotated[tuple[Ident, ...], msgspec.Meta(max_length=MAX_QUESTIONS)] = (
        "confidence",)


class Notice(_Message, tag="notice"):
    """Hub → all stations, not retained: something every station shows at once."""

    event: Literal["warning", "move", "paused", "resumed", "ended"]
    block: Annotated[int, msgspec.Meta(ge=0)] = 0
    remaining_s: Annotated[float, msgspec.Meta(ge=0)] = 0.0


class DistrictCheckIn(_Message, tag="district_checkin"):
    """Hub → district: one check-in the hub stored, as the district keeps it.

    ``id`` is the station's check-in id (the district stores by it), ``sender`` the room and
    ``ts`` when the hub stored it. Pseudonymous: the roster's ``sourcedId``, never a name,
    an e-mail address or a badge id.
    """

    student: SourcedId
    class_id: OptionalSourcedId
    station: Ident
    station_kind: StationKind | Literal[""]
    activity: Ident
    answers: Annotated[dict[Ident, AnswerValue], msgspec.Meta(max_length=16)]
    tapped_at: Timestamp
    #: When the station finished the check-in (its ``ts``).
    made_at: Timestamp


class DistrictErasure(_Message, tag="district_erasure"):
    """Hub → district: a family's erasure request: delete every record of ``student`` this room
    sent, and refuse any of them still on the way.

    ``id`` is fresh (the district confirms it like a record), ``sender`` the room, ``ts`` when
    the hub erased the student: records of the student the hub stored until then are refused
    (reason ``erased``) wherever they arrive later. Travels on the room's
    ``district/checkin`` topic, in outbox order with the check-ins.
    """

    student: SourcedId


class RejectedRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: MessageId
    reason: ShortText


class DistrictAck(_Message, tag="district_ack"):
    """District ingest → one room: these records are committed in the district's database
    (or refused for good, with a reason); the hub may drop them from its district outbox."""

    stored: Annotated[tuple[MessageId, ...], msgspec.Meta(max_length=MAX_ACK_IDS)] = ()
    rejected: Annotated[tuple[RejectedRecord, ...], msgspec.Meta(max_length=MAX_ACK_IDS)] = ()


Message = (CheckIn | Hello | Reply | StationStatus | HubStatus | RotationState | Notice
           | DistrictCheckIn | DistrictErasure | DistrictAck)
#: What a room sends the district: its record stream, one topic, outbox order.
DistrictRecord = DistrictCheckIn | DistrictErasure

# Which kind travels on which topic leaf; a message on the wrong leaf is rejected.
STATION_TOPICS: dict[str, type[_Message]] = {
    "checkin": CheckIn,
    "hello": Hello,
    "reply": Reply,
    "status": StationStatus,
}
ROOM_TOPICS: dict[str, type[_Message] | tuple[type[_Message], ...]] = {
    "rotation": RotationState,
    "notice": Notice,
    "hub/status": HubStatus,
    # The room's record stream: check-ins and erasures, in the order the hub queued them.
    "district/checkin": (DistrictCheckIn, DistrictErasure),
    "district/ack": DistrictAck,
}
#: The room's topics that travel between the hub and the district's broker.
DISTRICT_TOPICS = ("district/checkin", "district/ack")

_envelope_decoder = msgspec.json.Decoder(dict)
_decoder = msgspec.json.Decoder(Message)
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Route:
    """Where a topic points: the room, the station (if any) and the leaf, e.g. ``checkin``."""

    room: str
    station: str | None
    leaf: str


# --- topics -----------------------------------------------------------------------------------

def _check_id(value: str, what: str) -> str:
    if not ID_RE.match(value):
        raise ValueError(f"{what} {value!r} must be 1-32 lower-case letters, digits or '-'")
    return value


def station_topic(room: str, station: str, leaf: str) -> str:
    if leaf not in STATION_TOPICS:
        raise ValueError(f"unknown station topic leaf {leaf!r}")
    return f"{NAMESPACE}/{_check_id(room, 'room')}/station/{_check_id(station, 'station')}/{leaf}"


def rotation_topic(room: str) -> str:
    return f"{NAMESPACE}/{_check_id(room, 'room')}/rotation"


def notice_topic(room: str) -> str:
    return f"{NAMESPACE}/{_check_id(room, 'room')}/notice"


def hub_status_topic(room: str) -> str:
    return f"{NAMESPACE}/{_check_id(room, 'room')}/hub/status"


def district_topic(room: str, leaf: str) -> str:
    """``district/checkin`` (hub → district) or ``district/ack`` (district → hub)."""
    if leaf not in DISTRICT_TOPICS:
        raise ValueError(f"unknown district topic leaf {leaf!r}")
    return f"{NAMESPACE}/{_check_id(room, 'room')}/{leaf}"


def district_ingest_subscription(group: str) -> str:
    """The MQTT 5 shared subscription every ingest worker of ``group`` takes."""
    return f"$share/{_check_id(group, 'group')}/{NAMESPACE}/+/district/checkin"


def hub_subscriptions(room: str) -> list[str]:
    """Topic filters the hub subscribes to."""
    base = f"{NAMESPACE}/{_check_id(room, 'room')}/station/+"
    return [f"{base}/checkin", f"{base}/hello", f"{base}/status"]


def station_subscriptions(room: str, station: str) -> list[str]:
    """Topic filters one station subscribes to: its own replies and the room's broadcasts."""
    return [station_topic(room, station, "reply"), rotation_topic(room), notice_topic(room),
            hub_status_topic(room)]


def parse_topic(topic: str) -> Route:
    parts = topic.split("/")
    if len(parts) < 4 or "/".join(parts[:2]) != NAMESPACE:
        raise ContractError("bad_topic", f"not under {NAMESPACE}/", topic)
    room = parts[2]
    if not ID_RE.match(room):
        raise ContractError("bad_topic", f"room {room!r} is not a valid id", topic)
    rest = parts[3:]
    if len(rest) == 3 and rest[0] == "station":
        station, leaf = rest[1], rest[2]
        if not ID_RE.match(station):
            raise ContractError("bad_topic", f"station {station!r} is not a valid id", topic)
        if leaf not in STATION_TOPICS:
            raise ContractError("bad_topic", f"unknown station topic {leaf!r}", topic)
        return Route(room, station, leaf)
    leaf = "/".join(rest)
    if leaf in ROOM_TOPICS:
        return Route(room, None, leaf)
    raise ContractError("bad_topic", f"unknown topic {leaf!r}", topic)


# --- payloads ---------------------------------------------------------------------------------

def normalise_badge(raw: str | bytes) -> str:
    """Upper-case hex (or decimal digits) without separators, or ValueError saying why not.

    Bytes are UID bytes as read from a card (``b"\\x04\\xab"`` → ``"04AB"``).
    """
    text = raw.hex() if isinstance(raw, bytes) else raw
    text = text.strip().replace(":", "").replace(" ", "").replace("-", "").upper()
    if not BADGE_RE.match(text):
        raise ValueError(f"badge id {raw!r} is not 4-32 hex digits")
    return text


def new_id() -> str:
    """128 random bits as 32 hex digits (what uuid4().hex gives, without building a UUID)."""
    return os.urandom(16).hex()


def envelope(sender: str, now: float | None = None) -> dict[str, object]:
    """The common fields of a new message from ``sender``."""
    return {"v": SCHEMA_VERSION, "id": new_id(), "sender": sender,
            "ts": time.time() if now is None else now}


def encode(message: Message) -> bytes:
    """The payload of ``message``, unchecked (msgspec checks types on decoding only)."""
    return _encoder.encode(message)


def encode_checked(message: Message) -> bytes:
    """The payload of ``message`` if a receiver would accept it, else ContractError.

    msgspec checks constraints (lengths, patterns, ranges) when decoding, not encoding: a
    sender that wants to know its message will be accepted decodes it back, as the receiver
    will. Reason ``oversized`` or ``invalid``, with the field that is wrong.
    """
    payload = _encoder.encode(message)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("oversized", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        _decoder.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as err:
        raise ContractError("invalid", str(err)) from err
    return payload


def _why_not(payload: bytes, err: Exception, topic: str) -> ContractError:
    """The reason a payload failed the typed parse: not JSON, wrong version, or invalid."""
    try:
        raw = _envelope_decoder.decode(payload)
    # Bad UTF-8 inside a string and absurd nesting escape msgspec's own error types.
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as raw_err:
        return ContractError("malformed", f"not a JSON object ({raw_err})", topic)
    version = raw.get("v")
    if version != SCHEMA_VERSION:
        return ContractError("unknown_version", f"schema version {version!r}, "
                             f"this build speaks {SCHEMA_VERSION}", topic)
    return ContractError("invalid", str(err), topic)


def decode(topic: str, payload: bytes, *, room: str | None = None) -> tuple[Route, Message]:
    """Validate one received message against the contract.

    Raises ContractError with reason ``oversized``, ``malformed``, ``unknown_version``,
    ``invalid``, ``bad_topic``, ``wrong_room``, ``wrong_kind`` or ``sender_mismatch``.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("oversized", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}", topic)
    route = parse_topic(topic)
    if room is not None and route.room != room:
        raise ContractError("wrong_room", f"room {route.room!r} is not {room!r}", topic)
    try:
        # One typed parse in the common case; the slower look at the raw JSON only runs to
        # name the reason when that fails.
        message = _decoder.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as err:
        raise _why_not(payload, err, topic) from err
    if message.v != SCHEMA_VERSION:
        raise ContractError("unknown_version", f"schema version {message.v!r}, "
                            f"this build speaks {SCHEMA_VERSION}", topic)
    expected = STATION_TOPICS.get(route.leaf) or ROOM_TOPICS[route.leaf]
    if not isinstance(message, expected):
        raise ContractError("wrong_kind", f"a {type(message).__name__} on a {route.leaf} topic",
                            topic)
    if not math.isfinite(message.ts):
        raise ContractError("invalid", "ts is not a finite number", topic)
    # Station messages speak for the station in the topic, which the broker's ACL enforces;
    # a payload that claims another sender is forged or broken.
    if route.station is not None and route.leaf != "reply" and message.sender != route.station:
        raise ContractError("sender_mismatch",
                            f"sender {message.sender!r} on station {route.station!r}'s topic",
                            topic)
    # A room's records speak for the room in the topic (the district broker's ACL lets a room
    # write only its own); a record claiming another room is forged.
    if isinstance(message, DistrictCheckIn | DistrictErasure) and message.sender != route.room:
        raise ContractError("sender_mismatch",
                            f"sender {message.sender!r} on room {route.room!r}'s topic", topic)
    return route, message
