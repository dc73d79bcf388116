"""One ingest worker: an MQTT 5 shared subscription in, PostgreSQL batches out.

paho's network thread only queues what arrives. The worker's own thread takes a batch (up to
``batch`` records or ``batch_ms`` after the first), checks each record against the contract
(:func:`triage`: a bad record is counted by reason and never stored), carries out the batch's
erasures and inserts the good records in one transaction (``ON CONFLICT DO NOTHING`` on the
record id), and only after the commit

1. publishes a :class:`~broker.contract.DistrictAck` to each room in the batch, naming every
   record now in the database (new or stored before) and every record refused for good, so
   the room's hub can drop them from its outbox, then
2. PUBACKs the batch's PUBLISH packets (paho's manual acknowledgements).

A worker that dies before its commit leaves the records un-PUBACKed: the broker delivers them
again when the session comes back, and the rooms send them again anyway until they are
confirmed. A database that is down is retried with backoff; nothing is PUBACKed meanwhile.

An erasure (:class:`~broker.contract.DistrictErasure`) deletes the student's rows of that room
from every partition and leaves a tombstone; a check-in of the student that the hub stored
before the erasure and that arrives after it (still in flight, or redelivered) is refused with
reason ``erased``. A resent erasure deletes nothing more and is confirmed again. Erasing and
inserting take one advisory lock (exclusive and shared), so that an erasure committing beside
another worker's insert of the same student cannot miss it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import ssl
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import msgspec
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker import contract
from broker.contract import (
    MAX_ACK_IDS,
    DistrictAck,
    DistrictCheckIn,
    DistrictErasure,
    RejectedRecord,
)
from district import schema
from district.config import DistrictConfig
from district.store import (
    count_rejections,
    erase_students,
    erased_records,
    insert_records,
    lock_for,
)

log = logging.getLogger(__name__)

#: A worker's session outlives a restart by this much (its queued records wait for it).
SESSION_EXPIRY_S = 3600
#: A record tapped this far in the future is a broken clock, not a check-in.
FUTURE_S = 7 * 86400.0
_answers = msgspec.json.Encoder(order="sorted")
_envelope = msgspec.json.Decoder(dict)


@dataclass
class Triage:
    """One batch sorted: records to store, records refused (per room, for the acks)."""

    #: Record id → (record, its answers as JSON); a redelivery within a batch counts once.
    records: dict[str, tuple[DistrictCheckIn, bytes]] = field(default_factory=dict)
    #: Erasure id → erasure (confirmed like records once carried out).
    erasures: dict[str, DistrictErasure] = field(default_factory=dict)
    #: Room → [(record id, reason)] for refused records whose room and id are known.
    refused: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    reasons: Counter[str] = field(default_factory=Counter)

    def stored_by_room(self) -> dict[str, list[str]]:
        rooms: dict[str, list[str]] = defaultdict(list)
        for record_id, (record, _) in self.records.items():
            rooms[record.sender].append(record_id)
        for erasure_id, erasure in self.erasures.items():
            rooms[erasure.sender].append(erasure_id)
        return rooms

    def refuse(self, ids: set[str], reason: str) -> None:
        """Move records from those to store to those refused (for good, with ``reason``)."""
        for record_id in ids:
            record, _ = self.records.pop(record_id)
            self.reasons[reason] += 1
            self.refused[record.sender].append((record_id, reason))


def _refused_id(topic: str, payload: bytes) -> tuple[str, str] | None:
    """The room and record id of a refused message, where both can be told."""
    try:
        room = contract.parse_topic(topic).room
        record_id = _envelope.decode(payload).get("id")
    except (contract.ContractError, msgspec.DecodeError, UnicodeDecodeError, RecursionError,
            AttributeError):
        return None
    if isinstance(record_id, str) and len(record_id) == 32 and \
            all(c in "0123456789abcdef" for c in record_id):
        return room, record_id
    return None


def triage(messages: list[tuple[str, bytes]], *, now: float,
           kept_from: float | None) -> Triage:
    """Decode a batch with the contract; pure. ``kept_from``: older taps are ``expired``."""
    out = Triage()
    for topic, payload in messages:
        reason = None
        try:
            _, record = contract.decode(topic, payload)
        except contract.ContractError as err:
            reason = err.reason
            log.warning("refused record: %s", err)
        else:
            if isinstance(record, DistrictErasure):
                out.erasures[record.id] = record
                continue
            if not isinstance(record, DistrictCheckIn):
                reason = "wrong_kind"
                log.warning("refused a %s on %s", type(record).__name__, topic)
            elif kept_from is not None and record.tapped_at < kept_from:
                reason = "expired"
            elif record.tapped_at > now + FUTURE_S:
                reason = "future"
                log.warning("refused record %s from %s: tapped in the future (clock?)",
                            record.id, record.sender)
            else:
                out.records[record.id] = (record, _answers.encode(record.answers))
                continue
        out.reasons[reason] += 1
        known = _refused_id(topic, payload)
        if known is not None:
            out.refused[known[0]].append((known[1], reason))
    return out


def ack_messages(triaged: Triage, sender: str, now: float) -> list[tuple[str, bytes]]:
    """The DistrictAcks for a committed batch: ``(topic, payload)``, ≤ MAX_ACK_IDS ids each."""
    out = []
    stored = triaged.stored_by_room()
    for room in sorted(set(stored) | set(triaged.refused)):
        ids = stored.get(room, [])
        refused = [RejectedRecord(i, r) for i, r in triaged.refused.get(room, [])]
        for start in range(0, max(len(ids), len(refused), 1), MAX_ACK_IDS):
            ack = DistrictAck(**contract.envelope(sender, now),
                              stored=tuple(ids[start:start + MAX_ACK_IDS]),
                              rejected=tuple(refused[start:start + MAX_ACK_IDS]))
            out.append((contract.district_topic(room, "district/ack"), contract.encode(ack)))
    return out


@dataclass(frozen=True, slots=True)
class _Received:
    topic: str
    payload: bytes
    mid: int
    qos: int
    #: Which connection it came on: a PUBACK goes only on the same session.
    generation: int


@dataclass
class WorkerStats:
    batches: int = 0
    stored: int = 0
    already: int = 0
    #: Erasures carried out, and the rows they deleted.
    erasures: int = 0
    erased_rows: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class IngestWorker:
    """One worker of the shared subscription ``$share/<group>/stations/v1/+/district/checkin``."""

    def __init__(self, config: DistrictConfig, index: int, *,
                 stop: threading.Event | None = None) -> None:
        self.config = config
        self.index = index
        self.stop_event = stop or threading.Event()
        self.client_id = f"{config.ingest.group}-{index}"
        self.stats = WorkerStats()
        self._inbox: queue.SimpleQueue[_Received] = queue.SimpleQueue()
        self._generation = 0
        self._connected = threading.Event()
        self._db: psycopg.Connection | None = None
        self._months: set[dt.date] = set()
        self.log = logging.getLogger(f"{__name__}.{self.client_id}")
        settings = config.broker
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        client.username_pw_set(settings.username, settings.password)
        if settings.ca_file is not None:
            client.tls_set(ca_certs=settings.ca_file, cert_reqs=ssl.CERT_REQUIRED,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.max_inflight_messages_set(100)  # our acks to the rooms
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    # --- paho's thread ------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: mqtt.ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            self.log.error("district broker refused the connection: %s", reason_code)
            return
        self._generation += 1
        self.log.info("connected to %s:%d (session present: %s)", self.config.broker.host,
                      self.config.broker.port, flags.session_present)
        client.subscribe(contract.district_ingest_subscription(self.config.ingest.group),
                         qos=contract.QOS)
        self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object,
                       flags: mqtt.DisconnectFlags, reason_code: mqtt.ReasonCode,
                       properties: Properties | None) -> None:
        if self._connected.is_set():
            self.log.warning("disconnected from the district broker: %s", reason_code)
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: object,
                    message: mqtt.MQTTMessage) -> None:
        self._inbox.put(_Received(message.topic, message.payload, message.mid, message.qos,
                                  self._generation))

    # --- the worker's thread ------------------------------------------------------------------

    def run(self) -> None:
        """Until the stop event is set: take batches, store them, confirm them."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        # The broker may have this many PUBLISHes unacknowledged with us: a batch's worth.
        props.ReceiveMaximum = min(65535, max(100, 2 * self.config.ingest.batch))
        self.client.connect_async(self.config.broker.host, self.config.broker.port,
                                  keepalive=self.config.broker.keepalive_s, clean_start=False,
                                  properties=props)
        self.client.loop_start()
        last_report = time.monotonic()
        try:
            while not self.stop_event.is_set():
                batch = self._collect()
                if batch:
                    self._handle(batch)
                if time.monotonic() - last_report >= 30:
                    last_report = time.monotonic()
                    self.log.info("stored %d, already stored %d, refused %s, erasures %d "
                                  "in %d batches", self.stats.stored, self.stats.already,
                                  dict(self.stats.rejected) or "none", self.stats.erasures,
                                  self.stats.batches)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            if self._db is not None:
                self._db.close()

    def _collect(self) -> list[_Received]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.config.ingest.batch_ms / 1000.0
        while len(batch) < self.config.ingest.batch:
            left = deadline - time.monotonic()
            try:
                batch.append(self._inbox.get_nowait() if left <= 0 else
                             self._inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _kept_from(self, now: float) -> float | None:
        cutoff = schema.retention_cutoff(dt.datetime.fromtimestamp(now, dt.UTC).date(),
                                         self.config.postgres.keep_months)
        if cutoff is None:
            return None
        return dt.datetime(cutoff.year, cutoff.month, 1, tzinfo=dt.UTC).timestamp()

    def _handle(self, batch: list[_Received]) -> None:
        now = time.time()
        triaged = triage([(m.topic, m.payload) for m in batch], now=now,
                         kept_from=self._kept_from(now))
        delay = 0.2
        while True:
            try:
                inserted, erased = self._store(triaged)
                break
            except (psycopg.OperationalError, psycopg.InterfaceError) as err:
                self.log.warning("PostgreSQL: %s; retrying in %.1f s (nothing confirmed)",
                                 str(err).strip().splitlines()[0] if str(err) else err, delay)
                self._drop_db()
                if self.stop_event.wait(delay):
                    return  # not confirmed: the broker and the rooms will send it again
                delay = min(5.0, delay * 2)
        self.stats.batches += 1
        self.stats.stored += inserted
        self.stats.already += len(triaged.records) - inserted
        self.stats.rejected.update(triaged.reasons)
        self.stats.erasures += len(triaged.erasures)
        self.stats.erased_rows += erased
        if triaged.erasures:
            # Not the student: the log outlives the erasure it records.
            self.log.info("carried out %d erasures: %d rows deleted",
                          len(triaged.erasures), erased)
        # Committed: tell the rooms, then let the broker forget the PUBLISHes.
        for topic, payload in ack_messages(triaged, self.config.ingest.sender, now):
            self.client.publish(topic, payload, qos=contract.QOS)
        generation = self._generation
        for message in batch:
            if message.generation == generation:
                self.client.ack(message.mid, message.qos)

    def _store(self, triaged: Triage) -> tuple[int, int]:
        """Store a batch in one transaction: ``(records inserted, rows erased)``."""
        db = self._connect_db()
        months = {schema.month_of(dt.datetime.fromtimestamp(r.tapped_at, dt.UTC))
                  for r, _ in triaged.records.values()}
        if not months <= self._months:
            schema.ensure_partitions(db, months - self._months)
            self._months |= months
        try:
            with db.transaction():
                erased = self._erase(db, triaged)
                inserted = insert_records(db, list(triaged.records.values()))
                count_rejections(db, triaged.reasons)
            return inserted, erased
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise
        except psycopg.Error as err:
            # Something in the batch PostgreSQL will not take: find it, store the rest.
            self.log.error("batch refused by PostgreSQL (%s); storing record by record", err)
            return self._store_one_by_one(db, triaged)

    @staticmethod
    def _erase(db: psycopg.Connection, triaged: Triage) -> int:
        """The batch's erasures, then its records of erased students refused. In the
        caller's transaction."""
        lock_for(db, erasing=bool(triaged.erasures))
        erased = erase_students(db, list(triaged.erasures.values()))
        triaged.refuse(erased_records(db, [r for r, _ in triaged.records.values()]), "erased")
        return erased

    def _store_one_by_one(self, db: psycopg.Connection, triaged: Triage) -> tuple[int, int]:
        with db.transaction():
            erased = self._erase(db, triaged)
        inserted = 0
        for record_id, pair in list(triaged.records.items()):
            try:
                with db.transaction():
                    lock_for(db, erasing=False)
                    inserted += insert_records(db, [pair])
            except (psycopg.OperationalError, psycopg.InterfaceError):
                raise
            except psycopg.Error as err:
                self.log.error("record %s from %s refused by PostgreSQL: %s", record_id,
                               pair[0].sender, err)
                del triaged.records[record_id]
                triaged.reasons["unstorable"] += 1
                triaged.refused[pair[0].sender].append((record_id, "unstorable"))
        with db.transaction():
            count_rejections(db, triaged.reasons)
        return inserted, erased

    def _connect_db(self) -> psycopg.Connection:
        if self._db is None or self._db.closed:
            pg = self.config.postgres
            self._db = psycopg.connect(pg.dsn, password=pg.password, connect_timeout=5,
                                       application_name=self.client_id)
            self._months = schema.partitions(self._db)
            self._db.rollback()
        return self._db

    def _drop_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(psycopg.Error):
                self._db.close()
            self._db = None
