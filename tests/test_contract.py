"""The message contract: topics from a table, every kind round-trips, every fault is named."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from broker import contract as c
from stations.errors import ContractError

NOW = time.time()
ROOM = "room-1"


def env(sender: str = "s1") -> dict:
    return c.envelope(sender, NOW)


SAMPLES = {
    "checkin": c.CheckIn(**env(), badge="04AB12CD", answers={"confidence": 2},
                         activity="read", tapped_at=NOW - 5),
    "hello": c.Hello(**env(), badge="04AB12CD"),
    "reply": c.Reply(**env("hub"), in_reply_to=c.new_id(), request="checkin",
                     status="accepted", display_name="Ana R.", go_to="s2",
                     go_to_name="Computers"),
    "reply-history": c.Reply(**env("hub"), in_reply_to=c.new_id(), request="hello",
                             status="accepted", display_name="Ana R.", history=(
                                 c.PastReflection({"confidence": 2, "goal": 3}),
                                 c.PastReflection({"confidence": 4}))),
    "reply-unknown": c.Reply(**env("hub"), in_reply_to=c.new_id(), request="hello",
                             status="unknown_badge"),
    "status": c.StationStatus(**env(), state="online", pending=3, reader="ok"),
    "hub/status": c.HubStatus(**env("hub"), state="offline"),
    "notice": c.Notice(**env("hub"), event="warning", block=1, remaining_s=120.0),
    "rotation": c.RotationState(**env("hub"), state="running", block=1, blocks=4,
                                remaining_s=300.0, stations=(
                                    c.StationPlan("s1", "Teacher table", "teacher-led", "Foxes",
                                                  (c.Activity("read", "Read", "book",
                                                              {"es": "Leer"}),),
                                                  names={"es": "Mesa del maestro"}),)),
    "district/checkin": c.DistrictCheckIn(**env(ROOM), student="f81d4fae-7dec-11d0-a765",
                                          class_id="class-4a", station="s1",
                                          station_kind="online", activity="read",
                                          answers={"confidence": 2}, tapped_at=NOW - 9,
                                          made_at=NOW - 5),
    "district/checkin-erasure": c.DistrictErasure(**env(ROOM), student="f81d4fae-7dec-11d0"),
    "district/ack": c.DistrictAck(**env("ingest"), stored=(c.new_id(),),
                                  rejected=(c.RejectedRecord(c.new_id(), "expired"),)),
}


def topic_for(leaf: str) -> str:
    leaf = leaf.split("-")[0]
    if leaf in c.STATION_TOPICS:
        return c.station_topic(ROOM, "s1", leaf)
    if leaf.startswith("district/"):
        return c.district_topic(ROOM, leaf)
    return {"rotation": c.rotation_topic(ROOM), "notice": c.notice_topic(ROOM),
            "hub/status": c.hub_status_topic(ROOM)}[leaf]


@pytest.mark.parametrize("leaf", sorted(SAMPLES))
def test_every_kind_round_trips(leaf: str) -> None:
    message = SAMPLES[leaf]
    route, decoded = c.decode(topic_for(leaf), c.encode(message), room=ROOM)
    assert decoded == message
    assert route.leaf == leaf.split("-")[0] and route.room == ROOM


@pytest.mark.parametrize(("topic", "expected"), [
    ("stations/v1/room-1/station/s1/checkin", c.Route("room-1", "s1", "checkin")),
    ("stations/v1/room-1/station/s-9/status", c.Route("room-1", "s-9", "status")),
    ("stations/v1/room-1/rotation", c.Route("room-1", None, "rotation")),
    ("stations/v1/room-1/hub/status", c.Route("room-1", None, "hub/status")),
])
def test_topics_parse(topic: str, expected: c.Route) -> None:
    assert c.parse_topic(topic) == expected


@pytest.mark.parametrize("topic", [
    "stations/v2/room-1/rotation", "other/v1/room-1/rotation", "stations/v1/Room/rotation",
    "stations/v1/room-1/station/s1/delete", "stations/v1/room-1/station/S1/checkin",
    "stations/v1/room-1/station/s1/checkin/extra", "stations/v1/room-1", "stations/v1/room-1/x",
])
def test_bad_topics_are_rejected(topic: str) -> None:
    with pytest.raises(ContractError) as err:
        c.parse_topic(topic)
    assert err.value.reason == "bad_topic"


def test_builders_refuse_bad_ids() -> None:
    with pytest.raises(ValueError, match="station"):
        c.station_topic(ROOM, "S 1", "checkin")
    with pytest.raises(ValueError, match="leaf"):
        c.station_topic(ROOM, "s1", "nope")


def checkin_dict(**changes: object) -> dict:
    data = json.loads(c.encode(SAMPLES["checkin"]))
    data.update(changes)
    return data


@pytest.mark.parametrize(("payload", "reason", "detail"), [
    (b"x" * (c.MAX_PAYLOAD_BYTES + 1), "oversized", "bytes"),
    (b"{not json", "malformed", "JSON"),
    (b"[1, 2]", "malformed", "object"),
    (b"\xff\xfe", "malformed", ""),
    (json.dumps(checkin_dict(v=2)).encode(), "unknown_version", "version 2"),
    (json.dumps(checkin_dict(v=None)).encode(), "unknown_version", "None"),
    (json.dumps({k: v for k, v in checkin_dict().items() if k != "badge"}).encode(),
     "invalid", "badge"),
    (json.dumps(checkin_dict(badge="zz")).encode(), "invalid", "badge"),
    (json.dumps(checkin_dict(id="123")).encode(), "invalid", "id"),
    (json.dumps(checkin_dict(ts=12)).encode(), "invalid", "ts"),
    (json.dumps(checkin_dict(answers={"confidence": 99})).encode(), "invalid", "answers"),
    (json.dumps(checkin_dict(extra=1)).encode(), "invalid", "extra"),
    (json.dumps(checkin_dict(kind="launch")).encode(), "invalid", "kind"),
    (json.dumps(checkin_dict(sender="s2")).encode(), "sender_mismatch", "s2"),
    (c.encode(SAMPLES["hello"]), "wrong_kind", "Hello"),
])
def test_each_fault_has_its_reason(payload: bytes, reason: str, detail: str) -> None:
    with pytest.raises(ContractError) as err:
        c.decode(c.station_topic(ROOM, "s1", "checkin"), payload, room=ROOM)
    assert err.value.reason == reason
    assert detail in str(err.value)


def test_other_rooms_messages_are_rejected() -> None:
    with pytest.raises(ContractError) as err:
        c.decode(c.station_topic("room-2", "s1", "checkin"), c.encode(SAMPLES["checkin"]),
                 room=ROOM)
    assert err.value.reason == "wrong_room"


def test_badges_normalise() -> None:
    assert c.normalise_badge("04:ab:12:cd") == "04AB12CD"
    assert c.normalise_badge(b"\x04\xab\x12\xcd\x01\x02\x03") == "04AB12CD010203"
    assert c.normalise_badge(" 0012345678 ") == "0012345678"
    with pytest.raises(ValueError, match="hex"):
        c.normalise_badge("hello")


def test_contract_document_matches_the_code() -> None:
    """Every topic leaf and every field of every kind is written down in CONTRACT.md."""
    doc = (Path(c.__file__).with_name("CONTRACT.md")).read_text()
    assert f"`{c.NAMESPACE}/" in doc
    for leaf in [*c.STATION_TOPICS, *c.ROOM_TOPICS]:
        assert re.search(rf"/{re.escape(leaf)}`", doc), f"topic {leaf} missing from CONTRACT.md"
    kinds = [c.CheckIn, c.Hello, c.Reply, c.StationStatus, c.HubStatus, c.RotationState, c.Notice,
             c.StationPlan, c.Activity, c.DistrictCheckIn, c.DistrictErasure, c.DistrictAck,
             c.RejectedRecord,
             c.PastReflection]
    for kind in kinds:
        section = doc.split(f"### {kind.__name__}", 1)
        assert len(section) == 2, f"no section for {kind.__name__}"
        body = section[1].split("\n### ", 1)[0]
        for name in kind.__struct_fields__:
            assert f"| `{name}` |" in body, f"{kind.__name__}.{name} missing from CONTRACT.md"
    assert str(c.MAX_PAYLOAD_BYTES) in doc


@pytest.mark.parametrize("kind", ["district/checkin", "district/checkin-erasure"])
def test_a_district_record_speaks_only_for_its_own_room(kind: str) -> None:
    record = SAMPLES[kind]
    with pytest.raises(ContractError) as err:
        c.decode(c.district_topic("room-2", "district/checkin"), c.encode(record))
    assert err.value.reason == "sender_mismatch"


@pytest.mark.parametrize("student", ["ana@school.example", "Ana Perez", ""])
def test_a_district_record_carries_no_email_or_name_as_student(student: str) -> None:
    raw = json.loads(c.encode(SAMPLES["district/checkin"]))
    raw["student"] = student
    with pytest.raises(ContractError) as err:
        c.decode(c.district_topic(ROOM, "district/checkin"), json.dumps(raw).encode())
    assert err.value.reason == "invalid"


def test_a_full_district_ack_fits_the_payload_limit() -> None:
    ack = c.DistrictAck(**env("ingest"), stored=tuple(c.new_id() for _ in range(c.MAX_ACK_IDS)))
    assert len(c.encode(ack)) <= c.MAX_PAYLOAD_BYTES
    assert c.district_ingest_subscription("ingest") == \
        "$share/ingest/stations/v1/+/district/checkin"


def test_new_fields_at_their_default_stay_off_the_wire() -> None:
    """A station or hub that predates history and translations reads what does not use them."""
    reply = c.Reply(**env("hub"), in_reply_to=c.new_id(), request="hello", status="accepted")
    assert b"history" not in c.encode(reply)
    plan = c.StationPlan("s1", "Reading", "independent", activities=(c.Activity("read", "Read"),))
    assert b"names" not in c.encode(plan) and b"labels" not in c.encode(plan)


def test_translations_fall_back_per_label() -> None:
    a = c.Activity("read", "Read", "book", {"es": "Leer", "pt": "Ler"})
    assert (a.label_in("es"), a.label_in("pt-BR"), a.label_in("fr"), a.label_in("")) == \
        ("Leer", "Ler", "Read", "Read")
    plan = c.StationPlan("s1", "Blue table", "independent", names={"es": "Mesa azul"})
    assert (plan.name_in("es"), plan.name_in("en")) == ("Mesa azul", "Blue table")


def test_history_is_bounded() -> None:
    too_long = tuple(c.PastReflection({"confidence": 1}) for _ in range(c.MAX_HISTORY + 1))
    raw = json.loads(c.encode(SAMPLES["reply-history"]))
    raw["history"] = [{"answers": p.answers} for p in too_long]
    with pytest.raises(ContractError) as err:
        c.decode(topic_for("reply"), json.dumps(raw).encode(), room=ROOM)
    assert err.value.reason == "invalid"
