"""Fuzzing the hub's decoder: `contract.decode` either returns a valid message or raises
ContractError with a known reason, whatever arrives on whatever topic."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker import contract
from stations.errors import ContractError

ROOM = "room-f"
REASONS = {"oversized", "malformed", "unknown_version", "invalid", "bad_topic", "wrong_room",
           "wrong_kind", "sender_mismatch"}
TS = 1_800_000_000.0

VALID = {
    "checkin": {"v": 1, "kind": "checkin", "id": "a" * 32, "sender": "s1", "ts": TS,
                "badge": "04A1B2C3", "answers": {"mood": 3, "confidence": 7},
                "activity": "reading", "tapped_at": TS},
    "hello": {"v": 1, "kind": "hello", "id": "b" * 32, "sender": "s1", "ts": TS,
              "badge": "04A1B2C3"},
    "status": {"v": 1, "kind": "status", "id": "c" * 32, "sender": "s1", "ts": TS,
               "state": "online", "pending": 2, "reader": "ok"},
    "reply": {"v": 1, "kind": "reply", "id": "d" * 32, "sender": "hub", "ts": TS,
              "in_reply_to": "a" * 32, "request": "checkin", "status": "accepted",
              "display_name": "Ana P.", "go_to": "maths", "go_to_name": "Maths"},
    "rotation": {"v": 1, "kind": "rotation", "id": "e" * 32, "sender": "hub", "ts": TS,
                 "state": "running", "block": 1, "blocks": 3, "remaining_s": 300.0,
                 "stations": [{"id": "s1", "name": "Reading", "kind": "independent",
                               "activities": [{"id": "books", "label": "Books"}]}]},
    "hub/status": {"v": 1, "kind": "hub_status", "id": "f" * 32, "sender": "hub", "ts": TS,
                   "state": "online"},
}


def topic_for(leaf: str, station: str = "s1") -> str:
    if leaf in contract.STATION_TOPICS:
        return contract.station_topic(ROOM, station, leaf)
    return f"{contract.NAMESPACE}/{ROOM}/{leaf}"


def check(topic: str, payload: bytes) -> None:
    """The property: a typed message of the topic's kind, or ContractError with a known reason."""
    try:
        route, message = contract.decode(topic, payload, room=ROOM)
    except ContractError as err:
        assert err.reason in REASONS, err.reason
        assert err.detail
        return
    expected = contract.STATION_TOPICS.get(route.leaf) or contract.ROOM_TOPICS[route.leaf]
    assert isinstance(message, expected)
    assert len(payload) <= contract.MAX_PAYLOAD_BYTES
    assert math.isfinite(message.ts)
    if route.station is not None and route.leaf != "reply":
        assert message.sender == route.station


def test_the_valid_examples_decode() -> None:
    # Guards the fuzzing below: mutations start from messages that really are valid.
    for leaf, body in VALID.items():
        route, message = contract.decode(topic_for(leaf), json.dumps(body).encode(), room=ROOM)
        assert route.leaf == leaf and message.id == body["id"]


json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70,
                                                                         max_value=2**70)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40))
json_values = st.recursive(json_scalars,
                           lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=5),
                           max_leaves=25)
leaves = st.sampled_from(sorted(VALID))
fuzz = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz
@given(leaf=leaves, payload=st.binary(max_size=400))
def test_random_bytes(leaf: str, payload: bytes) -> None:
    check(topic_for(leaf), payload)


@fuzz
@given(leaf=leaves, raw=st.binary(min_size=1, max_size=40))
def test_random_bytes_inside_a_json_string(leaf: str, raw: bytes) -> None:
    body = json.dumps({**VALID[leaf], "sender": "@@"}).encode()
    check(topic_for(leaf), body.replace(b"@@", raw.replace(b'"', b"").replace(b"\\", b"")))


@fuzz
@given(leaf=leaves, value=json_values)
def test_random_json_documents(leaf: str, value: object) -> None:
    check(topic_for(leaf), json.dumps(value, allow_nan=True).encode())


@fuzz
@given(leaf=leaves, body_leaf=leaves, data=st.data())
def test_valid_messages_with_one_field_changed_removed_or_added(leaf: str, body_leaf: str,
                                                              data: st.DataObject) -> None:
    body = dict(VALID[body_leaf])
    key = data.draw(st.sampled_from(sorted(body)) | st.text(max_size=12), label="key")
    action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
    if action == "delete":
        body.pop(key, None)
    else:
        body[key] = data.draw(json_values, label="value")
    station = data.draw(st.sampled_from(["s1", "s2", "hub"]), label="station")
    check(topic_for(leaf, station), json.dumps(body, allow_nan=True).encode())


@fuzz
@given(topic=st.text(max_size=80) | st.builds(
    lambda parts: "/".join(parts),
    st.lists(st.sampled_from(["stations", "v1", "v2", ROOM, "other", "station", "s1", "+", "#",
                              "", "checkin", "reply", "rotation", "hub", "status", "A", "ü"]),
             max_size=7)), leaf=leaves)
def test_random_topics(topic: str, leaf: str) -> None:
    check(topic, json.dumps(VALID[leaf]).encode())


def _with(leaf: str, **changes: object) -> bytes:
    return json.dumps({**VALID[leaf], **changes}, allow_nan=True).encode()


def _nested(depth: int, inside: str = "leaf") -> bytes:
    body = json.dumps({**VALID["checkin"], inside: None})
    return body.replace("null", "[" * depth + "]" * depth).encode()


NASTY: list[tuple[str, str, bytes]] = [
    ("empty", "checkin", b""),
    ("json null", "checkin", b"null"),
    ("json array", "checkin", b"[]"),
    ("json string", "checkin", b'"checkin"'),
    ("invalid utf-8 outside strings", "checkin", b'{"v": 1, \xff\xfe}'),
    ("lone surrogate escape", "checkin", _with("checkin", badge="\ud800")),
    ("utf-8 bom", "checkin", b"\xef\xbb\xbf" + _with("checkin")),
    ("utf-16", "checkin", json.dumps(VALID["checkin"]).encode("utf-16")),
    ("nul bytes", "checkin", _with("checkin")[:20] + b"\x00" * 50),
    ("trailing garbage", "checkin", _with("checkin") + b"}{"),
    ("two objects", "checkin", _with("checkin") + _with("checkin")),
    ("truncated", "checkin", _with("checkin")[:-1]),
    ("duplicate key", "checkin", _with("checkin")[:-1] + b', "sender": "s2"}'),
    ("huge integer", "checkin", _with("checkin")[:-1] + b', "x": ' + b"9" * 5000 + b"}"),
    ("huge version", "checkin", _with("checkin", v=10**40)),
    ("float overflow", "checkin", _with("checkin")[:-1].replace(b'"ts": 1800000000.0',
                                                               b'"ts": 1e999') + b"}"),
    ("nan ts", "checkin", _with("checkin", ts=float("nan"))),
    ("infinite ts", "checkin", _with("checkin", ts=float("inf"))),
    ("negative zero ts", "checkin", _with("checkin", ts=-0.0)),
    ("answer out of range", "checkin", _with("checkin", answers={"mood": 11})),
    ("answer as bool", "checkin", _with("checkin", answers={"mood": True})),
    ("too many answers", "checkin", _with("checkin", answers={f"q{i}": 1 for i in range(17)})),
    ("version as string", "checkin", _with("checkin", v="1")),
    ("version as bool", "checkin", _with("checkin", v=True)),
    ("version as float", "checkin", _with("checkin", v=1.0)),
    ("version 2", "checkin", _with("checkin", v=2)),
    ("version 0", "checkin", _with("checkin", v=0)),
    ("no version", "checkin", json.dumps({k: v for k, v in VALID["checkin"].items()
                                          if k != "v"}).encode()),
    ("unknown kind", "checkin", _with("checkin", kind="launch")),
    ("kind of another topic", "checkin", _with("hello")),
    ("reply on a checkin topic", "checkin", _with("reply", sender="s1")),
    ("rotation from a station topic", "status", _with("rotation", sender="s1")),
    ("forged sender", "checkin", _with("checkin", sender="s2")),
    ("badge lower case", "checkin", _with("checkin", badge="04a1b2c3")),
    ("badge as number", "checkin", _with("checkin", badge=4)),
    ("badge 1 MB", "checkin", _with("checkin", badge="A" * 1_000_000)),
    ("name 1 MB", "reply", _with("reply", display_name="x" * 1_000_000)),
    ("string just under the limit", "checkin",
     _with("checkin", activity="a" * (contract.MAX_PAYLOAD_BYTES - 400))),
    ("unknown field", "checkin", _with("checkin", name="Ana P.")),
    ("id not hex", "checkin", _with("checkin", id="z" * 32)),
    ("rotation with 33 stations", "rotation",
     _with("rotation", stations=[VALID["rotation"]["stations"][0]] * 33)),
    ("moderate nesting", "checkin", _nested(200)),
]
HOLES = [
    ("invalid utf-8 in a string", "checkin",
     b'{"v": 1, "kind": "checkin", "sender": "\xff\xfe"}'),
    ("overlong utf-8 in a string", "checkin", b'{"v": 1, "kind": "\xc0\xafcheckin"}'),
    ("deep nesting in an unknown field", "checkin", _nested(1500)),
    ("deep arrays in the envelope", "checkin", b'{"v": ' + b"[" * 4000 + b"]" * 4000 + b"}"),
    ("deep objects", "checkin", b'{"a":' * 1300 + b"1" + b"}" * 1300),
]


@pytest.mark.parametrize(("name", "leaf", "payload"), NASTY, ids=[n for n, _, _ in NASTY])
def test_nasty_payloads_are_rejected_with_a_reason(name: str, leaf: str, payload: bytes) -> None:
    with pytest.raises(ContractError) as err:
        contract.decode(topic_for(leaf), payload, room=ROOM)
    assert err.value.reason in REASONS


@pytest.mark.parametrize(("name", "leaf", "payload"), HOLES, ids=[n for n, _, _ in HOLES])
def test_broken_utf8_and_deep_nesting_are_rejected_with_a_reason(name: str, leaf: str,
                                                                payload: bytes) -> None:
    assert len(payload) <= contract.MAX_PAYLOAD_BYTES
    with pytest.raises(ContractError) as err:
        contract.decode(topic_for(leaf), payload, room=ROOM)
    assert err.value.reason == "malformed"
