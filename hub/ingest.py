"""The hub's message handling: validate, store, decide the reply. No sockets, no threads.

The service shell feeds it ``(topic, payload)`` pairs in batches; everything a batch stores
is committed, in one transaction, before its replies are published, so a station's outbox is
only cleared for check-ins that are on the hub's disk. A batch whose transaction fails changes
nothing, in the database or in memory, and is not answered: the stations send it again.

A check-in the hub will never accept is answered ``rejected`` with a reason (see
``broker/CONTRACT.md``), so that the station stops sending it and keeps it in quarantine:
one that breaks the contract but whose message id can be read, and one whose activity was
never on the station's menu.

A reply names the student (display name, language, avatar) only while the student's visit
at that station is open: from the hub's answer to their tap (the Hello) at that station,
until another badge is tapped there, they tap at another station, or :data:`VISIT_S` pass
(the hub's clock). A check-in that arrives later (a resend, or one that sat in an outbox
while the Wi-Fi was down) is acknowledged without a name: the student has left.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import msgspec

from broker import contract
from broker.contract import (
    CheckIn,
    ContractError,
    Hello,
    PastReflection,
    Reply,
    StationStatus,
)
from hub.badges import Enrollment
from hub.lrs import StatementFeed
from hub.roster import Roster, Student
from hub.rotation import Model, Rotation, StationDef
from hub.store import ROTATION_KEY, HubStore, checkin_row
from hub.uplink import DistrictFeed

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
        # A clock stepped back (NTP on a Pi without a real-time clock) refills nothing and
        # takes nothing away: it must never empty the bucket.
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


#: A class of 30 tapping at one station within a minute is 1 a second; a station sending far
#: more is broken or forged, and must not crowd out the others. What it loses here it sends
#: again from its outbox (no reply means resend), so nothing is lost.
STATION_RATE = 10.0
STATION_BURST = 40.0
#: The longest a visit at a kiosk lasts: the greeting, up to four reflection questions and
#: the choice board (each gives up after 30 s untouched) and the go screen.
VISIT_S = 180.0


@dataclass
class IngestStats:
    stored: int = 0
    duplicates: int = 0
    unknown_badges: int = 0
    hellos: int = 0
    wrong_station: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    #: Check-ins answered ``rejected`` (never acceptable), by reason.
    refused: Counter[str] = field(default_factory=Counter)
    #: Replies the contract would refuse, sent without the student's details instead.
    unsendable: int = 0

    def copy(self) -> IngestStats:
        return replace(self, rejected=Counter(self.rejected), refused=Counter(self.refused))


#: Contract faults of a check-in that no resend can cure (the station resends the same bytes).
#: ``oversized`` and ``malformed`` are not here: their message id cannot be read.
_REFUSED_FAULTS = frozenset({"invalid", "unknown_version", "sender_mismatch", "wrong_kind"})
_MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")
_raw_checkin = msgspec.json.Decoder(dict)


@dataclass(frozen=True, slots=True)
class _Memory:
    """What a batch changes in memory, as it was before: put back if the batch fails."""

    stats: IngestStats
    arrivals: dict[str, Arrival]
    station_states: dict[str, str]
    quarantined: dict[str, int]
    absent: set[str]
    visits: dict[str, list[str]]
    open_visits: dict[str, tuple[str, float]]


class Ingest:
    def __init__(self, room: str, store: HubStore, roster: Roster, rotation: Rotation,
                 enrollment: Enrollment | None = None, *,
                 on_unsendable: Callable[[str, ContractError], None] | None = None,
                 district: DistrictFeed | None = None,
                 shows_history: Callable[[str], bool] = lambda student_id: False,
                 statements: StatementFeed | None = None,
                 stations: Sequence[StationDef] | None = None) -> None:
        self.room = room
        #: With a district uplink, every stored check-in is queued for it in the same
        #: transaction (the district outbox).
        self.district = district
        #: Whether a student (by id) is shown their own last reflections at the station.
        self.shows_history = shows_history
        #: With xAPI on, every stored check-in's statements are queued for the learning
        #: record store in the same transaction as the check-in (the xAPI outbox).
        self.statements = statements
        self.store = store
        self.roster = roster
        self.rotation = rotation
        #: Badge enrollment mode: unknown badges are offered to the teacher while it is on.
        self.enrollment = enrollment or Enrollment()
        self.stats = IngestStats()
        #: Latest arrival per student (by tap time), for the display; :meth:`recall` fills it
        #: from the store after a restart.
        self.arrivals: dict[str, Arrival] = {}
        self.station_states: dict[str, str] = store.station_states()
        #: Station → check-ins it keeps in quarantine, from its status messages.
        self.quarantined: dict[str, int] = store.quarantined()
        # Every station of the room (``stations``), not only the lesson's: a lesson may use
        # some of them, and another lesson the others.
        current = {s.id: {a.id for a in s.activities}
                   for s in (rotation.plan.stations if stations is None else stations)
                   if s.activities}
        offered = store.offer_activities(current)
        #: Station → every activity its menu has offered. Stations without a menu in the plan
        #: show their own (from the kiosk's config) and are not checked.
        self._menus = {sid: ids | offered.get(sid, set()) for sid, ids in current.items()}
        self._buckets: dict[str, TokenBucket] = {}
        #: Open visits: station → (student id, when the hub answered their tap there), and
        #: student id → the station of their open visit.
        self._visits: dict[str, tuple[str, float]] = {}
        self._visiting: dict[str, str] = {}
        #: Told (topic, problem) of a reply the contract would refuse, for the teacher's
        #: warnings; it is logged, counted and sent without the student's details, so the
        #: station's outbox still clears.
        self.on_unsendable = on_unsendable
        # Filled for the length of one batch (see handle_batch).
        self._students: dict[str, Student] = {}
        self._known: set[str] = set()
        self._rows: list[tuple[object, ...]] = []
        self._district_rows: list[tuple[object, ...]] = []
        self._statement_rows: list[tuple[object, ...]] = []
        self._places: dict[str, StationDef | None] = {}
        self._lesson_changed = False

    def recall(self, now: float) -> int:
        """After a restart: who is where, from the check-ins stored this block (today, if no
        lesson is on), as the display had it before. Returns how many students."""
        midnight = dt.datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0,
                                                          microsecond=0).timestamp()
        since = max(midnight, self.rotation.block_started_at)
        names = {s.id: s.display_name for s in self.roster.students()}
        flex = self.rotation.plan.model is Model.FLEX
        for student_id, station, tapped_at in self.store.latest_checkins(since):
            where = None if flex else self.rotation.station_id_for(student_id)
            self.arrivals[student_id] = Arrival(student_id, names.get(student_id, student_id),
                                                station, tapped_at, where or "")
        return len(self.arrivals)

    def handle_batch(self, messages: list[tuple[str, bytes]], now: float) -> list[Outgoing]:
        """Handle many messages in one transaction; return replies to publish after commit.

        The batch asks SQLite three questions in all (which ids are stored already, who the
        badges belong to, insert the new rows) instead of two or three per message: each
        call into SQLite gives up the GIL, and getting it back behind paho's thread is what
        costs, not the SQL.
        """
        out: list[Outgoing] = []
        accepted: list[tuple[str, contract.Message]] = []
        for topic, payload in messages:
            result = self._accept(topic, payload, now)
            if isinstance(result, Outgoing):
                out.append(result)
            elif result is not None:
                accepted.append(result)
        ids = [m.id for _, m in accepted if isinstance(m, CheckIn)]
        badges = {m.badge for _, m in accepted if isinstance(m, CheckIn | Hello)}
        before = self._remember()
        try:
            with self.store.transaction():
                # Roster changes come between batches (teacher actions), never inside one.
                self._known = self.store.stored_ids(ids)
                self._students = self.roster.students_for_badges(badges)
                self._rows = []
                self._district_rows = []
                self._statement_rows = []
                self._places = {}
                self._lesson_changed = False
                for station, message in accepted:
                    out.extend(self._dispatch(station, message, now))
                self.store.add_checkin_rows(self._rows, self._district_rows,
                                            self._statement_rows)
                if self._lesson_changed:  # an absence lifted, a visit counted: with them
                    self.store.save_state(ROTATION_KEY, self.rotation.to_dict())
        except BaseException:
            self._restore(before)
            raise
        return out

    def _remember(self) -> _Memory:
        rot = self.rotation
        return _Memory(self.stats.copy(), dict(self.arrivals), dict(self.station_states),
                       dict(self.quarantined), set(rot.absent),
                       {k: list(v) for k, v in rot.visits.items()}, dict(self._visits))

    def _restore(self, before: _Memory) -> None:
        self.stats, self.arrivals = before.stats, before.arrivals
        self.station_states, self.quarantined = before.station_states, before.quarantined
        self.rotation.absent, self.rotation.visits = before.absent, before.visits
        self._visits = before.open_visits
        self._visiting = {who: station for station, (who, _at) in self._visits.items()}

    def handle(self, topic: str, payload: bytes, now: float) -> list[Outgoing]:
        """Handle one message (a batch of one)."""
        return self.handle_batch([(topic, payload)], now)

    def _accept(self, topic: str, payload: bytes, now: float
                ) -> tuple[str, contract.Message] | Outgoing | None:
        """Validate and rate-limit: the station and message; a ``rejected`` reply for a
        check-in no resend can cure; or None (counted and logged)."""
        try:
            route, message = contract.decode(topic, payload, room=self.room)
        except ContractError as err:
            self.stats.rejected[err.reason] += 1
            log.warning("rejected message: %s", err)
            return self._refuse_broken(topic, payload, err, now)
        station = route.station
        if station is None:
            # Room broadcasts (rotation, hub status) are ours; nothing to do with an echo.
            return None
        if not self._take(station, now):
            return None
        return station, message

    def _take(self, station: str, now: float) -> bool:
        bucket = self._buckets.setdefault(station, TokenBucket(STATION_RATE, STATION_BURST))
        if bucket.take(now):
            return True
        self.stats.rejected["rate_limited"] += 1
        if self.stats.rejected["rate_limited"] % 100 == 1:  # one line per 100, not a flood
            log.warning("station %s is over %.0f messages/s: dropping (it will resend)",
                        station, STATION_RATE)
        return False

    def _refuse_broken(self, topic: str, payload: bytes, err: ContractError, now: float
                       ) -> Outgoing | None:
        """A check-in that breaks the contract is resent unchanged forever unless answered:
        answer ``rejected`` when its station (from the topic, which the ACL vouches for) and
        its message id can be read."""
        if err.reason not in _REFUSED_FAULTS:
            return None
        try:
            route = contract.parse_topic(topic)
            raw = _raw_checkin.decode(payload)
        except (ContractError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return None
        message_id = raw.get("id")
        if (route.leaf != "checkin" or route.station is None or not isinstance(message_id, str)
                or not _MESSAGE_ID.match(message_id) or not self._take(route.station, now)):
            return None
        return self._refuse(route.station, message_id, err.reason, now)

    def _refuse(self, station: str, message_id: str, reason: str, now: float) -> Outgoing:
        self.stats.refused[reason] += 1
        log.warning("check-in %s from %s refused for good (%s): the station keeps it in "
                    "quarantine", message_id, station, reason)
        return self._reply(station, message_id, "checkin", "rejected", now, reason=reason)

    def _dispatch(self, station: str, message: contract.Message, now: float
                  ) -> list[Outgoing]:
        if isinstance(message, CheckIn):
            return [self._checkin(station, message, now)]
        if isinstance(message, Hello):
            return [self._hello(station, message, now)]
        if isinstance(message, StationStatus):
            self.store.set_station_status(station, message.state, message.pending,
                                          message.reader, now, message.quarantined)
            self.station_states[station] = message.state
            if message.quarantined:
                self.quarantined[station] = message.quarantined
            else:
                self.quarantined.pop(station, None)
            log.info("station %s is %s (%d pending, %d in quarantine, reader %s)", station,
                     message.state, message.pending, message.quarantined, message.reader)
            return []
        self.stats.rejected["wrong_direction"] += 1
        log.warning("rejected message: a %s from station %s (only the hub sends those)",
                    type(message).__name__, station)
        return []

    # --- kinds ----------------------------------------------------------------------------------

    def _student(self, badge: str) -> Student | None:
        return self._students.get(badge)

    def _where(self, student_id: str) -> StationDef | None:
        """Where the student should be; within a batch asked once per student (in flex the
        answer moves with every arrival, so it is asked each time)."""
        if self.rotation.plan.model is Model.FLEX:
            return self.rotation.station_for(student_id)
        if student_id not in self._places:
            self._places[student_id] = self.rotation.station_for(student_id)
        return self._places[student_id]

    def _store(self, message: CheckIn, station: str, student_id: str, now: float) -> bool:
        """Store a check-in once; False for a resend of one already stored."""
        if message.id in self._known:
            return False
        self._known.add(message.id)
        self._rows.append(checkin_row(message, station, student_id, now))
        if self.district is not None:  # queued for the district in the same transaction
            self._district_rows.append(self.district.row(message, station, student_id, now))
        if self.statements is not None:
            self._statement_rows.extend(self.statements.rows(message, station, student_id,
                                                             now))
        return True

    def _checkin(self, station: str, message: CheckIn, now: float) -> Outgoing:
        menu = self._menus.get(station)
        if menu is not None and message.activity not in menu:
            return self._refuse(station, message.id, "activity_not_on_menu", now)
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
            latest = self.arrivals.get(student.id)
            if latest is None or latest.at <= arrival.at:  # a late resend is not where they are
                self.arrivals[student.id] = arrival
            self._close_visits_elsewhere(student.id, station)
            self._lesson_changed |= self.rotation.record_arrival(student.id, station)
            if arrival.wrong_station:
                self.stats.wrong_station += 1
                # The check-in's id, never the student's: the journal outlives an erasure.
                log.info("check-in %s stored: at %s but expected at %s", message.id, station,
                         expected)
            else:
                log.info("check-in %s stored: at %s", message.id, station)
            duplicate = False
        else:
            self.stats.duplicates += 1
            log.info("check-in %s already stored: acknowledged again", message.id)
            duplicate = True
        return self._reply(station, message.id, "checkin", "accepted", now, student,
                           duplicate=duplicate, named=self.visit_open(student.id, station, now))

    def _hello(self, station: str, message: Hello, now: float) -> Outgoing:
        self.stats.hellos += 1
        student = self._student(message.badge)
        if student is None:
            self._end_visit(station)
            if self.enrollment.offer(message.badge, station, now):
                log.info("unknown badge %s at %s offered for enrollment", message.badge,
                         station)
            return self._reply(station, message.id, "hello", "unknown_badge", now)
        self._close_visits_elsewhere(student.id, station)
        self._end_visit(station)
        self._visits[station] = (student.id, now)
        self._visiting[student.id] = station
        history = ()
        if self.shows_history(student.id):
            history = tuple(PastReflection(dict(list(answers.items())[:4]))
                            for answers in self.store.recent_answers(student.id,
                                                                      contract.MAX_HISTORY))
        return self._reply(station, message.id, "hello", "accepted", now, student, named=True,
                           history=history)

    # --- visits -----------------------------------------------------------------------------

    def visit_open(self, student_id: str, station: str, now: float) -> bool:
        """Whether the student is still at the station's screens (see the module's doc)."""
        visit = self._visits.get(station)
        return visit is not None and visit[0] == student_id and 0 <= now - visit[1] <= VISIT_S

    def _close_visits_elsewhere(self, student_id: str, station: str) -> None:
        other = self._visiting.get(student_id)
        if other is not None and other != station:
            self._end_visit(other)

    def _end_visit(self, station: str) -> None:
        visit = self._visits.pop(station, None)
        if visit is not None:
            self._visiting.pop(visit[0], None)

    def _reply(self, station: str, in_reply_to: str, request: str, status: str, now: float,
               student: Student | None = None, *, duplicate: bool = False,
               reason: str = "", named: bool = False,
               history: tuple[PastReflection, ...] = ()) -> Outgoing:
        go_to = self._where(student.id) if student else None
        personal = student if named else None
        reply = Reply(**contract.envelope(HUB_SENDER, now), in_reply_to=in_reply_to,
                      request=request, status=status, reason=reason,  # type: ignore[arg-type]
                      display_name=personal.display_name if personal else "",
                      go_to=go_to.id if go_to else "", go_to_name=go_to.name if go_to else "",
                      duplicate=duplicate, language=personal.language if personal else "",
                      avatar=personal.avatar if personal else "",  # type: ignore[arg-type]
                      history=history if personal else ())
        topic = contract.station_topic(self.room, station, "reply")
        if personal is None:
            # Ids from a message the contract accepted, station names and reasons checked
            # at load: nothing here can break it, so no second parse on the hot path.
            return Outgoing(topic, contract.encode(reply))
        try:
            return Outgoing(topic, contract.encode_checked(reply))
        except ContractError as err:
            # The station would reject it and resend its check-in for ever: answer without
            # what broke the contract (a name too long for it, say), and tell the shell.
            self.stats.unsendable += 1
            log.error("reply to %s sent without the student's details: %s", station, err)
            if self.on_unsendable is not None:
                self.on_unsendable(topic, err)
            bare = msgspec.structs.replace(reply, display_name="", go_to_name="",
                                           language="", avatar="", history=())
            return Outgoing(topic, contract.encode(bare))
