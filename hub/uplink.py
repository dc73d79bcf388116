"""The room's uplink to the district: what leaves the room, and when it may be forgotten.

Every check-in the hub stored is queued, in the same SQLite transaction, as a
:class:`~broker.contract.DistrictCheckIn` in the ``district_outbox`` table
(:class:`DistrictFeed` makes the row); a family's erasure is queued the same way, as a
:class:`~broker.contract.DistrictErasure` in the erasure's transaction. :class:`Uplink`
decides what to publish: records in outbox order, at most ``window`` unconfirmed at a time,
and the whole unconfirmed window again when no confirmation came for ``resend_s`` or after a
reconnect. A record leaves the outbox only when a :class:`~broker.contract.DistrictAck` from
the district's ingest names it, which the ingest publishes after its PostgreSQL transaction
committed; a PUBACK from the district's broker proves nothing about the database and is not
waited for.

The hub talks to the district broker with a client of its own (the room's account, which may
write only this room's ``district/checkin`` and read its ``district/ack``) rather than
through a Mosquitto bridge: a bridge's queue is bounded and cannot carry the ack back to the
outbox. Here the outbox on the hub's disk is the only buffer, and it has no bound but the disk.

Pure: no sockets or threads; the service feeds it the clock, the acks and the connection.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from broker import contract
from broker.client import BrokerSettings, read_broker
from broker.contract import CheckIn, DistrictAck, DistrictCheckIn, DistrictErasure
from hub.store import HubStore
from stations.tomlconfig import Section

log = logging.getLogger(__name__)

ACK_LEAF = "district/ack"
RECORD_LEAF = "district/checkin"


@dataclass(frozen=True)
class DistrictSettings:
    """The ``[district]`` table of hub.toml: the district broker and the uplink's pace."""

    broker: BrokerSettings
    #: Records published and not yet confirmed, at most.
    window: int = 500
    #: Unconfirmed this long, the window is sent again.
    resend_s: float = 30.0


def read_district(section: Section, base: Path) -> DistrictSettings:
    """``[district]``: ``host``, ``port``, ``username``, ``password``, ``ca_file`` (relative to
    the config file), ``client_id``, ``window``, ``resend_seconds``."""
    broker = read_broker(section)
    if broker.username is None or broker.password is None:
        raise section.error("username" if broker.username is None else "password",
                            "is required: the room's own account at the district broker")
    if broker.ca_file is not None:
        ca = Path(broker.ca_file).expanduser()
        ca = ca if ca.is_absolute() else base / ca
        if not ca.is_file():
            raise section.error("ca_file", f"{ca} does not exist (the district broker's CA "
                                           "certificate, PEM)")
        broker = dataclasses.replace(broker, ca_file=str(ca))
    return DistrictSettings(broker=broker,
                            window=section.positive("window", int, 500),
                            resend_s=section.positive("resend_seconds", float, 30.0))


@dataclass(frozen=True)
class DistrictFeed:
    """Makes the district outbox row of a stored check-in (pseudonymous: no badge, no name)."""

    room: str
    class_id: str
    #: Station id → its kind in the room's plan.
    kinds: dict[str, str]

    def row(self, message: CheckIn, station: str, student_id: str,
            stored_at: float) -> tuple[object, ...]:
        record = DistrictCheckIn(
            v=contract.SCHEMA_VERSION, id=message.id, sender=self.room, ts=stored_at,
            student=student_id, class_id=self.class_id, station=station,
            station_kind=self.kinds.get(station, ""),  # type: ignore[arg-type]
            activity=message.activity, answers=message.answers,
            tapped_at=message.tapped_at, made_at=message.ts)
        return (message.id, student_id, contract.encode(record), stored_at)

    def erasure_row(self, student_id: str, erased_at: float) -> tuple[object, ...]:
        """The outbox row of a family's erasure: the district deletes what this room sent of
        the student and refuses their records stored here until ``erased_at``."""
        erasure = DistrictErasure(**contract.envelope(self.room, erased_at), student=student_id)
        return (erasure.id, student_id, contract.encode(erasure), erased_at)


class Uplink:
    """What to publish to the district and when; confirmations empty the outbox."""

    def __init__(self, store: HubStore, room: str, *, window: int = 500,
                 resend_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.room = room
        self.window = window
        self.resend_s = resend_s
        self.clock = clock
        self.topic = contract.district_topic(room, RECORD_LEAF)
        self.ack_topic = contract.district_topic(room, ACK_LEAF)
        #: Record id → when it was published; insertion order is sending order.
        self._in_flight: dict[str, float] = {}
        self._cursor = 0
        self.sent = 0
        self.resent = 0
        self.confirmed = 0
        self.refused = 0
        self.bad_acks = 0

    def reset(self) -> None:
        """Everything unconfirmed goes again from the start of the outbox (a reconnect)."""
        self._in_flight.clear()
        self._cursor = 0

    def due(self) -> list[tuple[str, bytes]]:
        """``(topic, payload)`` to publish now; call only while connected."""
        now = self.clock()
        if self._in_flight and now - next(iter(self._in_flight.values())) >= self.resend_s:
            log.info("district: %d records unconfirmed for %.0f s; sending them again",
                     len(self._in_flight), self.resend_s)
            self.resent += len(self._in_flight)
            self.reset()
        room = self.window - len(self._in_flight)
        if room <= 0:
            return []
        records = self.store.district_after(self._cursor, room)
        for record in records:
            self._in_flight[record.id] = now
            self._cursor = record.seq
        self.sent += len(records)
        return [(self.topic, record.payload) for record in records]

    def acknowledged(self, topic: str, payload: bytes) -> None:
        """A message on the room's ack topic: drop what the district committed."""
        try:
            _, ack = contract.decode(topic, payload, room=self.room)
        except contract.ContractError as err:
            self.bad_acks += 1
            log.warning("district: ignored an ack: %s", err)
            return
        if not isinstance(ack, DistrictAck):
            self.bad_acks += 1
            log.warning("district: ignored a %s on the ack topic", type(ack).__name__)
            return
        if ack.stored:
            self.confirmed += self.store.district_confirmed(ack.stored)
        if ack.rejected:
            refused = self.store.district_refused((r.id, r.reason) for r in ack.rejected)
            self.refused += refused
            for r in ack.rejected:
                if r.reason == "erased":  # its student's erasure dropped it here already
                    log.info("district refused record %s: its student was erased", r.id)
                else:
                    log.error("district refused record %s: %s (kept aside in "
                              "district_outbox)", r.id, r.reason)
        for record_id in ack.stored:
            self._in_flight.pop(record_id, None)
        for r in ack.rejected:
            self._in_flight.pop(r.id, None)
