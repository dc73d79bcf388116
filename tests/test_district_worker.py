"""The ingest worker's pure core: what a batch stores, refuses and acknowledges."""

from __future__ import annotations

import time

from broker import contract as c
from district.worker import ack_messages, triage

NOW = time.time()


def record(room: str = "room-a", tapped_at: float = NOW - 60) -> c.DistrictCheckIn:
    return c.DistrictCheckIn(**c.envelope(room, NOW), student="stu-01", class_id="",
                             station="s1", station_kind="", activity="read",
                             answers={"mood": 2}, tapped_at=tapped_at, made_at=tapped_at)


def topic(room: str = "room-a") -> str:
    return c.district_topic(room, "district/checkin")


def test_a_batch_is_sorted_into_stored_and_refused_with_reasons() -> None:
    good, old, future, claim = (record(), record(tapped_at=NOW - 400 * 86400),
                                record(tapped_at=NOW + 30 * 86400), record("room-b"))
    messages = [(topic(), c.encode(good)), (topic(), c.encode(good)),  # a redelivery
                (topic(), c.encode(old)), (topic(), c.encode(future)),
                (topic(), c.encode(claim)), (topic(), b"[]"),
                ("elsewhere/x", c.encode(good)),
                (topic(), c.encode(wrong := c.DistrictAck(**c.envelope("ingest", NOW))))]
    t = triage(messages, now=NOW, kept_from=NOW - 365 * 86400)
    assert list(t.records) == [good.id]
    assert dict(t.reasons) == {"expired": 1, "future": 1, "sender_mismatch": 1,
                               "malformed": 1, "bad_topic": 1, "wrong_kind": 1}
    assert sorted(t.refused["room-a"]) == sorted([(old.id, "expired"), (future.id, "future"),
                                                 (claim.id, "sender_mismatch"),
                                                 (wrong.id, "wrong_kind")])


def test_acks_go_to_each_room_in_chunks_the_contract_allows() -> None:
    records = [record("room-a") for _ in range(c.MAX_ACK_IDS + 5)] + [record("room-b")]
    t = triage([(topic(r.sender), c.encode(r)) for r in records], now=NOW, kept_from=None)
    acks = [c.decode(tp, payload) for tp, payload in ack_messages(t, "ingest", NOW)]
    by_room: dict[str, list[str]] = {}
    for route, ack in acks:
        assert isinstance(ack, c.DistrictAck)
        by_room.setdefault(route.room, []).extend(ack.stored)
    assert sorted(by_room["room-a"]) == sorted(r.id for r in records[:-1])
    assert by_room["room-b"] == [records[-1].id]
    assert len(acks) == 3
