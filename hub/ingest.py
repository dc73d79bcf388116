"""The hub's message handling: validate, store, decide the reply. No sockets, no threads.

The service shell feeds it ``(topic, payload)`` pairs in batches; everything a batch stores
is committed before its replies are published, so a station's outbox is only cleared for
check-ins that are on the hub's disk.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from broker import contract
from broker.contract import CheckIn, ContractError, Hello, Reply, StationStatus
from hub.badges import Enrollment
from hub.roster import Roster, Student
from hub.rotation import Model, Rotation, StationDef
from hub.store import HubStore, checkin_row

log = logging.getLogger(__name__)

HUB_SENDER = "hub"


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    payload: bytes
    retain: bool = False


@dataclass(frozen=True, slots=True)
class Arrival:
    """A student seen at a station, for the teacher's display (name only, nothing else)."""

    student_id: str
    display_name: str
    station: str
    at: float
    #: Where the rotation wanted the student when they arrived ("" if anywhere will do).
    expected: str = ""

    @property
    def wrong_station(self) -> bool:
        return bool(self.expected) and self.expected != self.station


@dataclass
class TokenBucket:
    """Per-station rate limit: ``rate`` messages a second, bursts up to ``burst``."""

    rate: float
    burst: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


#: A class of 30 tapping at one station within a minute is 1 a second; a station sending far
#: more is broken or forged, and must not crowd out the others. What it loses here it sends
#: again from its outbox (no reply means resend), so nothing is lost.
STATION_RATE = 10.0
STATION_BURST = 40.0


@dataclass
class IngestStats:
    stored: int = 0
    duplicates: int = 0
    unknown_badges: int = 0
    hellos: int = 0
    wrong_station: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class Ingest:
    def __init__(self, room: str, store: HubStore, roster: Roster, rotation: Rotation,
                 enrollment: Enrollment | None = None) -> None:
        self.room = room
        self.store = store
        self.roster = roster
        self.rotation = rotation
        #: Badge enrollment mode: unknown badges are offered to the teacher while it is on.
        self.enrollment = enrollment or Enrollment()
        self.stats = IngestStats()
        #: Latest arrival per student, for the display.
        self.arrivals: dict[str, Arrival] = {}
        self.station_states: dict[str, str] = store.station_states()
        self._buckets: dict[str, TokenBucket] = {}
        # Filled for the length of one batch (see handle_batch).
        self._students: dict[str, Student] = {}
        self._known: set[str] = set()
        self._rows: list[tuple[object, ...]] = []
        self._places: dict[str, StationDef | None] = {}
        self._in_batch = False

    def handle_batch(self, messages: list[tuple[str, bytes]], now: float) -> list[Outgoing]:
        """Handle many messages in one transaction; return replies to publish after commit.

        The batch asks SQLite three questions in all (which ids are stored already, who the
        badges belong to, insert the new rows) instead of two or three per message: each
        call into SQLite gives up the GIL, and getting it back behind paho's thread is what
        costs, not the SQL.
        """
        accepted = [a for topic, payload in messages
                    if (a := self._accept(topic, payload, now)) is not None]
        ids = [m.id for _, m in accepted if isinstance(m, CheckIn)]
        badges = {m.badge for _, m in accepted if isinstance(m, CheckIn | Hello)}
        out: list[Outgoing] = []
        with self.store.db:
            # Roster changes come between batches (teacher actions), never inside one.
            self._known = self.store.stored_ids(ids)
            self._students = self.roster.students_for_badges(badges)
            self._rows = []
            self._places = {}
            self._in_batch = True
            try:
                for station, message in accepted:
                    out.extend(self._dispatch(station, message, now))
                self.store.add_checkin_rows(self._rows)
            finally:
                self._in_batch = False
        return out

    def handle(self, topic: str, payload: bytes, now: float) -> list[Outgoing]:
        """Handle one message on its own (outside a batch, each write commits by itself)."""
        accepted = self._accept(topic, payload, now)
        return self._dispatch(*accepted, now) if accepted is not None else []

    def _accept(self, topic: str, payload: bytes, now: float
                ) -> tuple[str, contract.Message] | None:
        """Validate and rate-limit; the station and message, or None (counted and logged)."""
        try:
            route, message = contract.decode(topic, payload, room=self.room)
        except ContractError as err:
            self.stats.rejected[err.reason] += 1
            log.warning("rejected message: %s", err)
            return None
        station = route.station
        if station is None:
            # Room broadcasts (rotation, hub status) are ours; nothing to do with an echo.
            return None
        bucket = self._buckets.setdefault(station, TokenBucket(STATION_RATE, STATION_BURST))
        if not bucket.take(now):
            self.stats.rejected["rate_limited"] += 1
            if self.stats.rejected["rate_limited"] % 100 == 1:  # one line per 100, not a flood
                log.warning("station %s is over %.0f messages/s: dropping (it will resend)",
                            station, STATION_RATE)
            return None
        return station, message

    def _dispatch(self, station: str, message: contract.Message, now: float
                  ) -> list[Outgoing]:
        if isinstance(message, CheckIn):
            return [self._checkin(station, message, now)]
        if isinstance(message, Hello):
            return [self._hello(station, message, now)]
        if isinstance(message, StationStatus):
            self.store.set_station_status(station, message.state, message.pending,
                                          message.reader, now)
            self.station_states[station] = message.state
            log.info("station %s is %s (%d pending, reader %s)", station, message.state,
                     message.pending, message.reader)
            return []
        self.stats.rejected["wrong_direction"] += 1
        log.warning("rejected message: a %s from station %s (only the hub sends those)",
                    type(message).__name__, station)
        return []

    # --- kinds ----------------------------------------------------------------------------------

    def _student(self, badge: str) -> Student | None:
        if self._in_batch:
            return self._students.get(badge)
        return self.roster.student_for_badge(badge)

    def _where(self, student_id: str) -> StationDef | None:
        """Where the student should be; within a batch asked once per student (in flex the
        answer moves with every arrival, so it is asked each time)."""
        if not self._in_batch or self.rotation.plan.model is Model.FLEX:
            return self.rotation.station_for(student_id)
        if student_id not in self._places:
            self._places[student_id] = self.rotation.station_for(student_id)
        return self._places[student_id]

    def _store(self, message: CheckIn, station: str, student_id: str, now: float) -> bool:
        """Store a check-in once; False for a resend of one already stored."""
        if not self._in_batch:
            return self.store.add_checkin(message, station, student_id, now)
        if message.id in self._known:
            return False
        self._known.add(message.id)
        self._rows.append(checkin_row(message, station, student_id, now))
        return True

    def _checkin(self, station: str, message: CheckIn, now: float) -> Outgoing:
        student = self._student(message.badge)
        if student is None:
            self.store.add_unknown(message.id, station, message.badge, now)
            self.stats.unknown_badges += 1
            self.enrollment.offer(message.badge, station, now)
            log.info("check-in %s at %s: unknown badge", message.id, station)
            return self._reply(station, message.id, "checkin", "unknown_badge", now)
        if self._store(message, station, student.id, now):
            self.stats.stored += 1
            # In flex any station with room is right, so nobody is ever at the wrong one.
            where = self._where(student.id)
            expected = "" if self.rotation.plan.model is Model.FLEX or where is None \
                else where.id
            arrival = Arrival(student.id, student.display_name, station, message.tapped_at,
                              expected)
            self.arrivals[student.id] = arrival
            self.rotation.record_arrival(student.id, station)
            if arrival.wrong_station:
                self.stats.wrong_station += 1
                log.info("check-in %s stored: %s at %s but expected at %s", message.id,
                         student.id, station, expected)
            else:
                log.info("check-in %s stored: %s at %s", message.id, student.id, station)
            duplicate = False
        else:
            self.stats.duplicates += 1
            log.info("check-in %s already stored: acknowledged again", message.id)
            duplicate = True
        return self._reply(station, message.id, "checkin", "accepted", now, student,
                           duplicate=duplicate)

    def _hello(self, station: str, message: Hello, now: float) -> Outgoing:
        self.stats.hellos += 1
        student = self._student(message.badge)
        if student is None:
            if self.enrollment.offer(message.badge, station, now):
                log.info("unknown badge %s at %s offered for enrollment", message.badge,
                         station)
            return self._reply(station, message.id, "hello", "unknown_badge", now)
        return self._reply(station, message.id, "hello", "accepted", now, student)

    def _reply(self, station: str, in_reply_to: str, request: str, status: str, now: float,
               student: Student | None = None, *, duplicate: bool = False) -> Outgoing:
        go_to = self._where(student.id) if student else None
        reply = Reply(**contract.envelope(HUB_SENDER, now), in_reply_to=in_reply_to,
                      request=request, status=status,  # type: ignore[arg-type]
                      display_name=student.display_name if student else "",
                      go_to=go_to.id if go_to else "", go_to_name=go_to.name if go_to else "",
                      duplicate=duplicate, language=student.language if student else "",
                      avatar=student.avatar if student else "")  # type: ignore[arg-type]
        return Outgoing(contract.station_topic(self.room, station, "reply"),
                        contract.encode(reply))
