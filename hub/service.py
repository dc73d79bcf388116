"""The hub's I/O shell: wires the ingest core and the rotation engine to MQTT and SQLite.

One ingest thread owns the database and the rotation engine. paho's network thread only puts
received messages on a queue; teacher actions from the display go on the same queue, so no
state is shared between threads except the immutable :class:`HubView` the display reads.

Across a restart: the rotation's whole state is saved in the database after every change
(``hub_state``). At start it is restored at the real time, so a block that was running keeps
its end time (the minutes the hub was down count), blocks that ended meanwhile are skipped,
and stations get one ``move`` notice if the block changed and the retained RotationState.
Who has checked in is read back from the stored check-ins (:meth:`Ingest.recall`); an absence
a check-in lifted was saved in the same transaction as the check-in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from broker import contract, tls
from broker.client import BusClient, Will
from broker.contract import ContractError, HubStatus, Notice, RotationState
from broker.process_bus import ProcessBus
from hub import badges as badge_ops
from hub import classsetup
from hub.actions import TEACHER_ONLY, Source, TeacherAction
from hub.badges import BadgeError, Enrollment
from hub.config import HubConfig, check_questions
from hub.export import Erased, apply_retention, erase_student
from hub.flags import reflection_flags
from hub.ingest import Arrival, Ingest, Outgoing
from hub.lessons import (
    ROOM_PLAN,
    ClassPlan,
    LessonBook,
    Slot,
    class_groups,
    describe_plan,
    lesson_problem,
    room_plan,
    rotation_plan,
)
from hub.lrs import StatementFeed, StatementSender, open_sink
from hub.oneroster import ImportSummary, import_oneroster
from hub.pin import verify_pin
from hub.privacy import public_group_names
from hub.roster import Roster, read_roster
from hub.rotation import (
    GroupDef,
    Phase,
    Rotation,
    RotationEvent,
    RotationPlan,
    RotationSnapshot,
)
from hub.scores import ScoreImport, import_scores
from hub.store import LESSON_KEY, ROTATION_KEY, SETTINGS_KEY, HubStore, open_db
from hub.suggest import (
    PRESENT,
    GroupRequest,
    SuggestedGroup,
    SuggestError,
    Suggestion,
    changes,
    gather,
    moved,
    run,
)
from hub.teacher import PinOutcome, TeacherAccess
from hub.uplink import DistrictFeed, Uplink
from hub.view import EnrollmentView, HubView, LessonChoice, StationInfo
from hub.wire import rotation_state
from hub.xapi import Names
from stations.text import N_, Text, text_of

__all__ = ["ROTATION_KEY", "Arrival", "HubService", "HubView", "RotationSnapshot",
           "TeacherAction"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The lesson choices (classes, plans, the timetable's proposal) are read again this often.
CHOICES_REFRESH_S = 30.0
#: Re-publish the retained rotation state this often even without a change, so a station
#: that missed one corrects its countdown.
ROTATION_REFRESH_S = 15.0
#: Reflection flags are recomputed from the database at most this often (and on check-ins).
FLAGS_REFRESH_S = 30.0
FLAGS_MIN_S = 5.0
#: An ingest loop that has not turned for this long is stuck (the watchdog stops pinging).
ALIVE_S = 10.0
#: How stale the display's view may get while check-ins pour in.
VIEW_EVERY_S = 0.2
RETENTION_EVERY_S = 6 * 3600.0
BATCH = 500
#: Marks a refusal of our own: a message the contract would refuse, so never published.
NOT_SENT = "not sent: "
#: A notice made while the broker is out of reach goes out on reconnection if still this fresh
#: (a lesson the schedule starts as the hub boots); older, the retained rotation tells it.
NOTICE_HOLD_S = 30.0
#: What the display says when a notice goes out to the stations.
NOTICE_TEXT = {"warning": "time nearly up", "move": "time to move", "paused": "paused",
               "resumed": "back to work", "ended": "lesson over"}
#: The class view's banners when something went wrong: fixed words, never the error's own
#: (it may name a group as the teacher named it, a class, a badge); the teacher view and the
#: console get the reason.
REFUSED = Text("Not done: the teacher view says why")
NEEDS_TEACHER = Text("Only the teacher can do that")
SAVE_FAILED = Text("Check-ins could not be saved: the stations will send them again")


def statement_names(config: HubConfig) -> Names:
    """The plan's names for its stations and activities, for the statements' definitions."""
    plan = config.plan
    return Names(config.room, {s.id: s.name for s in plan.stations},
                 {(s.id, a.id): a.label for s in plan.stations for a in s.activities})


def outgoing_feeds(config: HubConfig, class_id: str
                   ) -> tuple[DistrictFeed | None, StatementFeed | None]:
    """What makes the outbox rows of what leaves the room: for the district (with a
    ``[district]`` table) and for the LRS (xAPI enabled). The service and the CLI's erase
    use the same ones."""
    district = None
    if config.district is not None:
        district = DistrictFeed(config.room, class_id,
                                {s.id: s.kind for s in config.plan.stations})
    statements = StatementFeed(config.xapi, statement_names(config)) \
        if config.xapi.enabled else None
    return district, statements


@dataclass
class _Call:
    """A teacher action or a function for the ingest thread, and the future that answers
    it once the view shows its effect."""

    fn: TeacherAction | Callable[[float], Any]
    future: Future[Any]
    #: (returned, value or exception), set on the ingest thread.
    outcome: tuple[bool, Any] | None = None

    def answer(self) -> None:
        if self.outcome is None or not self.future.set_running_or_notify_cancel():
            return
        ok, value = self.outcome
        if ok:
            self.future.set_result(value)
        else:
            self.future.set_exception(value)


@dataclass
class _Work:
    """Suggested groups being made on the worker thread, and who waits for them."""

    request: GroupRequest
    started_at: float
    futures: list[Future[Suggestion]]


class HubService:
    def __init__(self, config: HubConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.room = config.room
        # The roster file is checked before the database is made: a broken one leaves nothing.
        roster_file = read_roster(config.roster)
        db = open_db(config.database)
        self.store = HubStore(db)
        self.roster = Roster(db)
        self.roster.load(roster_file.entries, roster_file.classes)
        #: Every class's plans, groups, constraints, settings and lessons (hub/lessons.py).
        self.book = LessonBook(db)
        self._apply_saved_settings()
        # The lesson the saved state belongs to: its class and plan (the config's class and
        # the room's plan before any other was chosen).
        lesson = self.store.load_state(LESSON_KEY) or {}
        self.class_id = str(lesson.get("class", config.class_id))
        if self.class_id != config.class_id and self.class_id not in self.roster.classes():
            self.class_id = config.class_id  # the class left the roster
        self.plan_id = str(lesson.get("plan", ROOM_PLAN))
        plan = self.book.plan(self.class_id, self.plan_id) or room_plan()
        self.plan_id, self.plan_name = plan.id, plan.name
        #: The lessons table's row of the lesson running now (0: none), and its number.
        self._lesson_seq = int(lesson.get("seq", 0))
        self._lesson_number = int(lesson.get("number", 0))
        self._lesson_started = float(lesson.get("started", 0.0))
        self.rotation = self._lesson_rotation(self.class_id, plan, clock())
        self._pending_events: list[RotationEvent] = []
        saved = self.store.load_state(ROTATION_KEY)
        if saved is not None:
            try:
                self._pending_events = self.rotation.restore(saved, clock())
                log.info("rotation restored: %s, block %d of %d, %.0f s left",
                         self.rotation.phase, self.rotation.block + 1,
                         self.rotation.plan.block_count, self.rotation.remaining(clock()))
            except ValueError as err:
                log.warning("saved rotation not resumed: %s; starting idle", err)
                self.rotation = self._lesson_rotation(self.class_id, plan, clock())
        self._class_settings = self.book.settings(self.class_id)
        self.enrollment = Enrollment()
        district_feed, statement_feed = outgoing_feeds(config, self.class_id)
        #: Where an erasure must reach too: the district, the LRS (None: not configured).
        self.outgoing = (district_feed, statement_feed)
        #: xAPI statements to the school's LRS (or a file), from a queue in the database.
        self.statements: StatementSender | None = None
        if config.xapi.enabled:
            self.statements = StatementSender(
                config.database, open_sink(config.xapi, config.path.parent),
                batch=config.xapi.batch, max_backoff_s=config.xapi.max_backoff_s)
        self.ingest = Ingest(self.room, self.store, self.roster, self.rotation, self.enrollment,
                             on_unsendable=self._warn_unsendable, district=district_feed,
                             shows_history=lambda _student: self._shows_history(),
                             statements=statement_feed, stations=config.plan.stations)
        if self.ingest.recall(clock()):
            log.info("arrivals recalled from the store: %d students",
                     len(self.ingest.arrivals))
        self._inbox: queue.Queue[tuple[str, bytes] | _Call | Callable[[float], None]] = \
            queue.Queue()
        #: Why the last teacher action was refused ("" if it was not).
        self._refusal = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_rotation_publish = 0.0
        self._flags: dict[str, tuple[str, ...]] = {}
        self._flags_at = -FLAGS_REFRESH_S
        self._flags_stored = -1
        self._retention_at = 0.0
        #: Suggested groups waiting for the teacher (teacher only), and those being made.
        self._offer: Suggestion | None = None
        self._work: _Work | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-groups")
        #: Run once the next view is made (futures that answer with what it shows).
        self._after_view: list[Callable[[], None]] = []
        self._choices: tuple[LessonChoice, ...] = ()
        self._choices_at = -CHOICES_REFRESH_S
        self._message, self._message_at, self._teacher_message = "", 0.0, ""
        self.access = TeacherAccess(config.teacher_pin_hash is not None,
                                    config.teacher_timeout_s)
        self._view_lock = threading.Lock()
        self._view_listeners: list[Callable[[HubView], None]] = []
        self.notices_sent: list[Notice] = []
        #: Notices handed to the broker since start; of them, those sent while no station
        #: was online (nobody to hear them); and the stations online at each, summed: what
        #: the stations should have received.
        self.notices_published = 0
        self.notices_unheard = 0
        self.notices_due = 0
        #: The last notice not sent for want of a connection (sent on reconnection if fresh).
        self._held_notice: Notice | None = None
        #: When the room's server certificate ends (the console serves it, the broker too).
        self._cert_ends = tls.certificate_end(config.console.certfile)
        #: Publishes the broker refused (an ACL that does not match the contract, a limit),
        #: and messages the hub would not send because a station would refuse them, newest
        #: last, for the teacher view's warning: (when, topic, reason).
        self.refusals: list[tuple[float, str, str]] = []
        #: Messages not published because they break the contract (counted, logged).
        self.unsendable = 0
        offline = contract.encode(HubStatus(**contract.envelope("hub"), state="offline"))
        bus_class = ProcessBus if config.mqtt_process else BusClient
        self.bus = bus_class("hub", config.broker,
                             subscriptions=contract.hub_subscriptions(self.room),
                             on_message=lambda topic, payload: self._inbox.put((topic, payload)),
                             on_connection=self._connection_changed,
                             on_refused=self._refused,
                             will=Will(contract.hub_status_topic(self.room), offline))
        #: The uplink to the district (its own client and account at the district broker).
        self.uplink: Uplink | None = None
        self.district_bus: BusClient | None = None
        if config.district is not None:
            self.uplink = Uplink(self.store, self.room, window=config.district.window,
                                 resend_s=config.district.resend_s)
            uplink = self.uplink
            self.district_bus = BusClient(
                self.room, config.district.broker, subscriptions=[uplink.ack_topic],
                on_message=lambda topic, payload: self._inbox.put(
                    lambda now: uplink.acknowledged(topic, payload)),
                on_connection=lambda up: self._inbox.put(lambda now: uplink.reset())
                if up else None,
                on_refused=self._refused)
        self._view = self._make_view(clock())
        self._view_at = clock()
        self._turned_at = time.monotonic()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        now = self.clock()
        if self.config.autostart and self.rotation.phase in (Phase.IDLE, Phase.ENDED):
            self._pending_events += self.rotation.start(now)
            self._persist_rotation()
        self._run_retention(now)
        self.bus.start()
        if self.district_bus is not None:
            self.district_bus.start()
        if self.statements is not None:
            self.statements.start()
        self._thread = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        while True:  # nobody waits for ever on an action the stopped hub will never take
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Call):
                item.future.cancel()
        offline = contract.encode(HubStatus(**contract.envelope("hub"), state="offline"))
        self.bus.stop(final=[(contract.hub_status_topic(self.room), offline, True)])
        if self.district_bus is not None:
            self.district_bus.stop()
        if self.statements is not None:
            self.statements.stop()
        self._worker.shutdown(wait=True, cancel_futures=True)
        if self._work is not None:
            for f in self._work.futures:
                f.cancel()
        self.store.db.close()

    def teacher(self, action: str, minutes: float = 0.0, *, student: str = "", group: str = "",
                badge: str = "", class_id: str = "", plan: str = "", mode: str = "",
                standards: tuple[str, ...] = (), since: float | None = None,
                source: Source = "console") -> Future[str]:
        """Queue a teacher action for the ingest thread.

        Lesson: ``start``, ``pause``, ``resume``, ``extend`` (``minutes``), ``skip``, ``end``.
        Students: ``move`` (``student`` to ``group``), ``absent``, ``present``.
        Badges: ``enroll_start``, ``enroll_stop``, ``enroll`` (``badge`` to ``student``),
        ``reassign`` (the same, taking it from its owner), ``revoke`` (``badge``),
        ``revoke_student`` (every badge of ``student``: a lost card).
        Lessons: ``start_lesson`` (``class_id``, its ``plan``; the room's by default).
        Groups: ``suggest_groups`` (``mode`` skill, mixed, interest or present, ``standards``,
        ``class_id``; see :meth:`request_groups`), ``approve_groups`` (the suggestion: the
        lesson's groups change at once), ``reject_groups``, ``adjust_groups`` (move
        ``student`` to the suggested group named ``group`` before approving).
        The teacher view: ``lock_teacher_view``; see also :meth:`unlock_teacher_view` and
        the keypad's ``teacher_pin`` action (:class:`TeacherAction` with ``pin``).
        ``source`` says who asks (a signed-in caller by default): from the ``display``,
        badge enrollment and revocation and ending the lesson need the teacher view
        unlocked (:data:`hub.actions.TEACHER_ONLY`).
        """
        return self.act(TeacherAction(action, minutes, student, group, badge,
                                      class_id=class_id, plan=plan, mode=mode,
                                      standards=tuple(standards), since=since,
                                      source=source))

    def unlock_teacher_view(self, until: float) -> Future[str]:
        """Let the display show the teacher view without a PIN until ``until`` (Unix seconds).

        The hook for the signed-in teacher console: a teacher signed in there may open the
        teacher view on the classroom screen. The display still locks it again when the
        screen is left alone or the teacher goes back to the class view.
        """
        return self.act(TeacherAction("unlock_teacher_view", until=until, source="console"))

    def lock_teacher_view(self) -> Future[str]:
        """Close the teacher view everywhere now (the console's sign-out, say)."""
        return self.act(TeacherAction("lock_teacher_view", source="console"))

    def act(self, action: TeacherAction) -> Future[str]:
        """Queue a teacher action (the display's controls, the console). The future says
        ``""`` once it is applied and the view shows it, else why it was refused."""
        call: _Call = _Call(action, Future())
        self._inbox.put(call)
        return call.future

    def suggest_groups(self, groups: list[tuple[str, list[str]]]) -> None:
        """Offer groups made elsewhere (name, member ids) to the teacher for the current
        class, as if the engine had suggested them (no reasons)."""
        def offer(now: float) -> None:
            current = self.rotation.groups
            members = [tuple(m) for _name, m in groups]
            self._offer = Suggestion(self.class_id, "given", tuple(
                SuggestedGroup(name, tuple(m), change) for (name, m), change in
                zip(groups, changes(current, members), strict=True)), {},
                summary=Text("%(count)d groups offered", count=len(groups)),
                moved=moved(current, members))
            self._say("", now, teacher=Text("New groups suggested: approve or keep the "
                                            "current ones"))
        self._inbox.put(offer)

    def request_groups(self, mode: str = "skill", standards: tuple[str, ...] = (), *,
                       class_id: str | None = None, since: float | None = None
                       ) -> Future[Suggestion]:
        """Ask the grouping engine for suggested groups from the hub's data (the console's
        groups page; the display sends the ``suggest_groups`` action).

        ``mode`` skill, mixed or interest, or ``present``: regroup the students here (marked
        absent, or with no check-in since ``since``, left out). The engine runs on a worker
        thread; the future holds the :class:`~hub.suggest.Suggestion` once the view offers it,
        or :class:`~hub.suggest.SuggestError` saying why there is none.
        """
        future: Future[Suggestion] = Future()
        request = GroupRequest(class_id or "", mode, tuple(standards), since=since)
        self._inbox.put(lambda now: self._begin_suggestion(request, future, now))
        return future

    def import_scores(self, path: Path, class_id: str | None = None) -> Future[ScoreImport]:
        """Import a gradebook's scores CSV for a class (default: the current lesson's): all
        of it, or on any problem nothing (:class:`hub.scores.ScoresError` names the file,
        row and column)."""
        def run(now: float) -> ScoreImport:
            result = import_scores(path, self.roster, class_id or self.class_id, now)
            self._say("", now, teacher=Text("Scores imported: %(scores)s", scores=result.text()))
            return result
        return self.call(run)

    # --- actions with an answer (the console) ---------------------------------------------------

    def call(self, fn: Callable[[float], T]) -> Future[T]:
        """Run ``fn(now)`` on the ingest thread, the one writer of the hub's database. The
        future holds what it returns or raises, once the view shows its effect."""
        call = _Call(fn, Future())
        self._inbox.put(call)
        return call.future

    def import_roster(self, path: Path) -> Future[ImportSummary]:
        """Import a OneRoster export (zip or folder): all of it, or on any problem nothing
        (:class:`hub.oneroster.OneRosterError` names the file, row and column)."""
        def run(now: float) -> ImportSummary:
            summary = import_oneroster(path, self.roster)
            self._choices_at = -CHOICES_REFRESH_S  # classes may have come or gone
            self._say(Text("Roster imported: %(count)d students", count=summary.students),
                      now)
            return summary
        return self.call(run)

    def import_badges(self, path: Path, *, reassign: bool = False) -> Future[int]:
        """Import a badge CSV (all rows or none; :class:`BadgeError` names row and column)."""
        def run(now: float) -> int:
            n = badge_ops.import_badges(path, self.roster, now, reassign=reassign)
            self._say(Text("%(count)d badges imported", count=n), now)
            return n
        return self.call(run)

    def erase_student(self, student_id: str) -> Future[Erased]:
        """A family's request: delete the student and everything held about them, from the
        database and from the lesson in memory (KeyError if there is no such student), and
        queue the withdrawal of the copies the district and the LRS have."""
        district, statements = self.outgoing

        def run(now: float) -> Erased:
            erased = erase_student(self.store, student_id, ROTATION_KEY, district=district,
                                   statements=statements)
            rot = self.rotation
            rot.groups = tuple(dataclasses.replace(g, members=tuple(
                m for m in g.members if m != student_id)) for g in rot.groups)
            rot.plan = dataclasses.replace(rot.plan, groups=rot.groups)
            rot.moved.pop(student_id, None)
            rot.absent.discard(student_id)
            rot.visits.pop(student_id, None)
            self.ingest.arrivals.pop(student_id, None)
            self._flags.pop(student_id, None)
            if self._offer is not None:
                self._offer = self._offer.without(student_id)
            self._persist_rotation()
            self._publish_rotation(now)
            self._say(Text("A student's data was erased"), now)
            return erased
        return self.call(run)

    def update_settings(self, *, retention_days: int | None = None,
                        questions: tuple[str, ...] | None = None,
                        history: bool | None = None, class_id: str | None = None,
                        reset: bool = False) -> Future[dict[str, Any]]:
        """Change what may change while the hub runs: the room's retention days, and a
        class's (default: the current lesson's) reflection questions and whether its
        students see their own history at the station. Kept in the hub's database over
        the config file's values until ``reset`` (``hub_state`` for the room,
        ``class_settings`` for the class); ValueError says what is wrong and changes
        nothing. Returns the settings in force."""
        def run(now: float) -> dict[str, Any]:
            klass = self.class_id if class_id is None else class_id
            room = {} if reset else dict(self.store.load_state(SETTINGS_KEY) or {})
            room.pop("questions", None)  # an earlier release kept them for the room
            if retention_days is not None:
                room["retention_days"] = retention_days
            room = self._checked_settings(room)
            if questions is not None:
                self._check_class_questions(klass, tuple(questions))
            with self.store.transaction():
                self.store.save_state(SETTINGS_KEY, room)
                if reset:
                    for key in ("questions", "history"):
                        self.book.set_setting(klass, key, None)
                if questions is not None:
                    self.book.set_setting(klass, "questions", list(questions))
                if history is not None:
                    self.book.set_setting(klass, "history", bool(history))
            self.config = self._with_settings(self._file_config, room)
            if klass == self.class_id:
                self._class_settings = self.book.settings(klass)
            self._flags_at = -FLAGS_REFRESH_S
            self._run_retention(now)
            self._publish_rotation(now)
            self._say(Text("Settings saved"), now)
            log.info("settings changed: room %s, class %s %s", room or "the config file's",
                     klass, self.book.settings(klass) or "the config file's")
            return self.settings(klass)
        return self.call(run)

    def settings(self, class_id: str | None = None) -> dict[str, Any]:
        """The settings in force for a class (default: the current lesson's)."""
        klass = self.class_id if class_id is None else class_id
        own = self._class_settings if klass == self.class_id else self.book.settings(klass)
        return {"retention_days": self.config.retention_days,
                "questions": list(own.get("questions", self.config.reflection.questions)),
                "history": bool(own.get("history", self.config.shows_history(klass))),
                "class_overrides": sorted(own)}

    def _check_class_questions(self, class_id: str, questions: tuple[str, ...]) -> None:
        check_questions(questions)
        plan, groups = self._class_plan(class_id)
        problem = lesson_problem(plan, groups, questions, self.config.plan.stations)
        if problem is not None:
            raise ValueError(problem)

    def _checked_settings(self, saved: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "retention_days" in saved:
            days = saved["retention_days"]
            if not isinstance(days, int) or isinstance(days, bool) or days < 0:
                raise ValueError(Text("retention days must be 0 (keep everything) or more, "
                                      "got %(days)r", days=days))
            out["retention_days"] = days
        if "questions" in saved:  # kept for the room by an earlier release
            qs = tuple(saved["questions"])
            check_questions(qs)
            problem = lesson_problem(self.config.plan, self.config.plan.groups, qs)
            if problem is not None:
                raise ValueError(problem)
            out["questions"] = list(qs)
        return out

    @staticmethod
    def _with_settings(config: HubConfig, settings: dict[str, Any]) -> HubConfig:
        reflection = config.reflection
        if "questions" in settings:
            reflection = dataclasses.replace(reflection, questions=tuple(settings["questions"]))
        return dataclasses.replace(config, reflection=reflection,
                                   retention_days=settings.get("retention_days",
                                                               config.retention_days))

    def _apply_saved_settings(self) -> None:
        self._file_config = self.config
        saved = self.store.load_state(SETTINGS_KEY)
        if not saved:
            return
        try:
            self.config = self._with_settings(self.config, self._checked_settings(saved))
        except (ValueError, TypeError) as err:
            log.warning("settings saved from the console not applied (%s): the config "
                        "file's are used", err)

    def _questions(self) -> tuple[str, ...]:
        """The current class's reflection questions (its own, else the room's)."""
        return tuple(self._class_settings.get("questions", self.config.reflection.questions))

    def _shows_history(self) -> bool:
        """Whether the current class's students see their own last reflections."""
        return bool(self._class_settings.get("history",
                                             self.config.shows_history(self.class_id)))

    # --- a class's setup: constraints, plans, the timetable -----------------------------------

    def change_constraints(self, class_id: str, edit: Callable[[dict[str, Any]], dict[str, Any]]
                           ) -> Future[dict[str, Any]]:
        """Change a class's grouping constraints: ``edit`` takes the stored ones and returns
        the new (the pure edits of :mod:`hub.classsetup`); they are checked as the engine
        will read them and stored, or ValueError says why not and nothing changes. The
        next suggestion keeps them. Returns what is stored."""
        def run(now: float) -> dict[str, Any]:
            self._known_class(class_id)
            plan, groups = self._class_plan(class_id)
            names = {s.id: s.display_name for s in (self.roster.students(class_id) if class_id
                                                     else self.roster.students())}
            data = classsetup.change_constraints(self.book, class_id, names, plan, groups,
                                                 edit)
            log.info("constraints of class %s changed: %d rule(s)", class_id,
                     len(classsetup.rules(data)))
            return data
        return self.call(run)

    def save_plan(self, class_id: str, plan: ClassPlan) -> Future[None]:
        """Add or change one of a class's plans (ValueError says what is wrong); a lesson
        running with it keeps its shape until it ends."""
        def run(now: float) -> None:
            self._known_class(class_id)
            classsetup.save_plan(self.book, self.config.plan, class_id, plan)
            self._choices_at = -CHOICES_REFRESH_S
            log.info("plan %s of class %s saved", plan.id, class_id)
        return self.call(run)

    def remove_plan(self, class_id: str, plan_id: str) -> Future[bool]:
        """Remove one of a class's own plans (False: it had none by that id)."""
        def run(now: float) -> bool:
            removed = self.book.remove_plan(class_id, plan_id)
            self._choices_at = -CHOICES_REFRESH_S
            if removed:
                log.info("plan %s of class %s removed", plan_id, class_id)
            return removed
        return self.call(run)

    def add_slot(self, day: str, start: str, end: str, class_id: str, plan_id: str = ""
                 ) -> Future[Slot]:
        """The class meets then (:func:`hub.classsetup.add_slot`; ValueError says why not)."""
        def run(now: float) -> Slot:
            self._known_class(class_id)
            slot = classsetup.add_slot(self.book, day, start, end, class_id, plan_id)
            self._choices_at = -CHOICES_REFRESH_S
            log.info("timetable: class %s meets %s", class_id, slot.describe())
            return slot
        return self.call(run)

    def remove_slot(self, day: str, start: str) -> Future[bool]:
        """Take a time off the timetable (False: nothing started then)."""
        def run(now: float) -> bool:
            removed = classsetup.remove_slot(self.book, day, start)
            self._choices_at = -CHOICES_REFRESH_S
            if removed:
                log.info("timetable: %s %s removed", day, start)
            return removed
        return self.call(run)

    def _known_class(self, class_id: str) -> None:
        if class_id != self.config.class_id and class_id not in self.roster.classes():
            raise ValueError(Text("no class %(class_id)r on this hub", class_id=class_id))

    # --- lessons per class ------------------------------------------------------------------

    def _class_groups(self, class_id: str, plan: RotationPlan, now: float
                      ) -> tuple[GroupDef, ...]:
        """The class's groups; made and kept the first time: the config's for its class (and
        again when the file's change while the teacher has not replaced them), else an even
        split of the class's students."""
        students = [s.id for s in (self.roster.students(class_id) if class_id
                                   else self.roster.students())]
        groups, source, new = class_groups(
            self.book.groups(class_id),
            self.config.plan.groups if class_id == self.config.class_id else (),
            students, plan)
        if new:
            with self.store.transaction():
                self.book.save_groups(class_id, groups, source, now)
        return groups

    def _class_plan(self, class_id: str) -> tuple[RotationPlan, tuple[GroupDef, ...]]:
        """The plan a class's lesson runs (the current one's for the current class, else the
        room's) and its groups now."""
        if class_id == self.class_id:
            return self.rotation.plan, self.rotation.groups
        stored = self.book.groups(class_id)
        groups = stored[0] if stored else ()
        return rotation_plan(self.config.plan, room_plan(), groups), groups

    def _lesson_rotation(self, class_id: str, plan: ClassPlan, now: float) -> Rotation:
        """A new (idle) rotation for the class's lesson with this plan."""
        shape = rotation_plan(self.config.plan, plan, ())
        groups = self._class_groups(class_id, shape, now)
        return Rotation(rotation_plan(self.config.plan, plan, groups),
                        lessons=self.book.lesson_count(class_id))

    def _start_lesson(self, class_id: str, plan_id: str, now: float) -> None:
        """Start the class's lesson with this plan (ValueError says why not)."""
        if self.rotation.phase in (Phase.RUNNING, Phase.PAUSED):
            raise ValueError(Text("a lesson is on: end it first"))
        self._known_class(class_id)
        plan = self.book.plan(class_id, plan_id or ROOM_PLAN)
        if plan is None:
            raise ValueError(Text("class %(class_id)s has no plan %(plan)r",
                                  class_id=class_id, plan=plan_id))
        rotation = self._lesson_rotation(class_id, plan, now)
        settings = self.book.settings(class_id)
        questions = tuple(settings.get("questions", self.config.reflection.questions))
        problem = lesson_problem(rotation.plan, rotation.groups, questions,
                                 self.config.plan.stations)
        if problem is not None:
            if len(rotation.groups) > len(rotation.plan.stations):
                problem = Text("%(problem)s; choose another plan, or make %(groups)d groups "
                               "first (the class's constraints: groups, then suggest and "
                               "approve)", problem=problem, groups=len(rotation.plan.stations))
            raise ValueError(Text("%(class_title)s: %(problem)s",
                                  class_title=self._class_title(class_id), problem=problem))
        if self._offer is not None and self._offer.class_id != class_id:
            self._offer = None  # another class's suggestion: ask again in its lesson
        self.rotation, self.ingest.rotation = rotation, rotation
        self.class_id, self.plan_id, self._class_settings = class_id, plan.id, settings
        self.plan_name = plan.name
        if self.ingest.district is not None:
            self.ingest.district = dataclasses.replace(self.ingest.district,
                                                       class_id=class_id)
        self._flags_at = -FLAGS_REFRESH_S
        self._choices_at = -CHOICES_REFRESH_S
        self._pending_events += rotation.start(now)
        log.info("lesson started: class %s, plan %s, %d groups", class_id, plan.id,
                 len(rotation.groups))

    def _class_title(self, class_id: str) -> str:
        return self.roster.classes().get(class_id, "") or class_id or f"Room {self.room}"

    def _lesson_choices(self, now: float) -> tuple[LessonChoice, ...]:
        """The classes (and their plans) a lesson may be started for, the timetable's first."""
        if now - self._choices_at < CHOICES_REFRESH_S:
            return self._choices
        classes = dict(self.roster.classes())
        if self.config.class_id not in classes:
            classes = {self.config.class_id: "", **classes}
        proposed = self.book.proposed(now)
        choices = []
        for cid, title in classes.items():
            plans = tuple((p.id, p.name, describe_plan(p, self.config.plan))
                          for p in self.book.plans(cid))
            choices.append(LessonChoice(cid, title or cid or f"Room {self.room}", plans,
                                        proposed is not None and proposed.class_id == cid,
                                        proposed.plan_id if proposed is not None
                                        and proposed.class_id == cid else ""))
        choices.sort(key=lambda c: not c.proposed)
        self._choices, self._choices_at = tuple(choices), now
        return self._choices

    # --- suggested groups -------------------------------------------------------------------

    def _begin_suggestion(self, request: GroupRequest, future: Future[Suggestion] | None,
                          now: float) -> None:
        """Gather the class's data here (the ingest thread: quick reads), then run the
        engine on the worker thread; the answer comes back through the inbox."""
        if self._work is not None:
            if future is not None and request == self._work.request:
                self._work.futures.append(future)  # the same question: one answer for both
                return
            self._refuse_suggestion(future, Text("suggested groups are being made already: "
                                                 "wait for them"))
            return
        class_id = request.class_id or self.class_id
        request = dataclasses.replace(request, class_id=class_id)
        plan, groups = self._class_plan(class_id)
        current = groups
        absent: set[str] = set()
        if class_id == self.class_id:
            members = self.rotation.members()
            current = tuple(dataclasses.replace(g, members=members.get(g.id, ()))
                            for g in groups)
            absent = set(self.rotation.absent)
        if request.mode == PRESENT and request.since is not None:
            here = {sid for sid, _station, _at in self.store.latest_checkins(request.since)}
            absent |= {m for g in current for m in g.members if m not in here}
        try:
            inp = gather(self.store, self.roster, self.book, request, plan, current, now,
                         reflection_lessons=self.config.reflection.lessons,
                         lookback_days=self.config.reflection.lookback_days,
                         absent=sorted(absent))
        except (SuggestError, ValueError, sqlite3.Error) as err:
            self._refuse_suggestion(future, text_of(err))
            return
        self._work = _Work(request, now, [future] if future is not None else [])
        done = self._worker.submit(run, inp)
        done.add_done_callback(lambda f: self._inbox.put(
            lambda when: self._suggestion_done(f, when)))
        log.info("suggesting %s groups for class %s (%d students)", request.mode, class_id,
                 len(inp.cls.students))

    def _refuse_suggestion(self, future: Future[Suggestion] | None, why: str) -> None:
        log.warning("no suggested groups: %s", why)
        self._refusal = why
        self._say("", self.clock(), teacher=Text("No suggestion: %(why)s", why=why))
        if future is not None and future.set_running_or_notify_cancel():
            future.set_exception(SuggestError(why))

    def _suggestion_done(self, done: Future[Suggestion], now: float) -> None:
        work, self._work = self._work, None
        futures = work.futures if work is not None else []
        try:
            suggestion = done.result()
        except Exception as err:  # SuggestError, or a bug in the engine: the teacher hears
            if not isinstance(err, SuggestError):
                log.exception("the grouping engine failed")
            why = text_of(err) if isinstance(err, SuggestError) \
                else Text("the engine failed (%(error)s)", error=str(err))
            self._say("", now, teacher=Text("No suggestion: %(why)s", why=why))
            for f in futures:
                self._after_view.append(lambda f=f: f.set_running_or_notify_cancel()
                                        and f.set_exception(SuggestError(why)))
            return
        self._offer = suggestion
        log.info("suggested %s groups for class %s in %.0f ms: %s", suggestion.mode,
                 suggestion.class_id, 1000 * suggestion.seconds, suggestion.summary)
        self._say("", now, teacher=Text("Suggested groups ready: review them, then approve"))
        for f in futures:
            self._after_view.append(lambda f=f: f.set_running_or_notify_cancel()
                                    and f.set_result(suggestion))

    def _approve(self, now: float) -> None:
        """Replace the class's groups with the suggestion (ValueError says why not): the
        lesson's at once when it is this class's, with a notice and the retained state to
        the stations; the class's stored groups in any case, in one transaction."""
        offer = self._offer
        assert offer is not None
        groups = tuple(g for g in self._suggested_defs(offer) if g.members)
        groups = tuple(dataclasses.replace(g, id=f"g{k + 1}") for k, g in enumerate(groups))
        active = offer.class_id == self.class_id
        plan, _groups = self._class_plan(offer.class_id)
        questions = (self._questions() if active else tuple(
            self.book.settings(offer.class_id).get("questions",
                                                   self.config.reflection.questions)))
        problem = lesson_problem(plan, groups, questions, self.config.plan.stations)
        if problem is not None:
            raise ValueError(Text("these groups cannot run: %(problem)s", problem=problem))
        rot = self.rotation
        before = (rot.groups, rot.plan, dict(rot.moved), rot.schedule)
        if active:
            rot.set_groups(groups)
        try:
            with self.store.transaction():
                self.book.save_groups(offer.class_id, groups, f"approved {offer.mode}", now)
                if active:
                    if self._lesson_seq:
                        self.book.set_lesson_groups(self._lesson_seq,
                                                    [g.members for g in groups])
                    self.store.save_state(ROTATION_KEY, rot.to_dict())
        except sqlite3.Error:
            if active:
                rot.groups, rot.plan, rot.moved, rot.schedule = before
            raise
        self._offer = None
        if active and rot.phase in (Phase.RUNNING, Phase.PAUSED):
            # Everyone's place may change: the stations say "time to move" and where to.
            self._pending_events.append(RotationEvent("move", rot.block, rot.remaining(now)))
            self._say(Text("New groups: check where you go"), now,
                      teacher=Text("New groups approved: the stations show where everyone "
                                   "goes"))
        else:
            self._say("", now, teacher=Text(
                "New groups approved for %(class_title)s: they start with its next lesson",
                class_title=self._class_title(offer.class_id)))
        log.info("groups approved for class %s: %s", offer.class_id,
                 ", ".join(f"{g.name} ({len(g.members)})" for g in groups))

    def _suggested_defs(self, offer: Suggestion) -> tuple[GroupDef, ...]:
        """The suggestion's groups; one that keeps a current group's name keeps its public
        name too (the engine names its groups after the current ones)."""
        public = {g.name: g.public_name for g in self._class_plan(offer.class_id)[1]}
        return tuple(GroupDef(f"s{k}", g.name, g.members, public.get(g.name, ""))
                     for k, g in enumerate(offer.groups))

    # --- the view -------------------------------------------------------------------------------

    @property
    def view(self) -> HubView:
        with self._view_lock:
            return self._view

    def add_view_listener(self, listener: Callable[[HubView], None]) -> None:
        """Call ``listener(view)`` on the ingest thread each time a new view is made (a few
        times a second): it must only hand the view on, never block."""
        self._view_listeners.append(listener)

    def remove_view_listener(self, listener: Callable[[HubView], None]) -> None:
        if listener in self._view_listeners:
            self._view_listeners.remove(listener)

    # --- ingest thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step(timeout=0.2)
            self._turned_at = time.monotonic()

    @property
    def alive(self) -> bool:
        """The ingest thread is running and went round its loop recently."""
        return (self._thread is not None and self._thread.is_alive()
                and time.monotonic() - self._turned_at < ALIVE_S)

    def step(self, timeout: float) -> int:
        """Handle what has arrived (waiting up to ``timeout`` for the first); returns count."""
        batch: list[tuple[str, bytes]] = []
        actions: list[_Call | Callable[[float], None]] = []
        try:
            item = self._inbox.get(timeout=timeout)
            while True:
                if isinstance(item, tuple):
                    batch.append(item)
                else:
                    actions.append(item)
                if len(batch) >= BATCH:
                    break
                item = self._inbox.get_nowait()
        except queue.Empty:
            pass
        now = self.clock()
        replies: list[Outgoing] = []
        if batch:
            try:
                replies = self.ingest.handle_batch(batch, now)
            except sqlite3.Error as err:
                # One transaction: nothing of the batch was kept, and nothing is answered,
                # so every station sends its part again.
                log.error("a batch of %d messages was not stored (%s): the stations will "
                          "send it again", len(batch), err)
                self._say(SAVE_FAILED, now, teacher=Text(
                    "Check-ins could not be saved: %(error)s", error=str(err)))
        if replies:
            self.bus.publish_many([(r.topic, r.payload, r.retain) for r in replies])
        changed = False
        answered: list[_Call] = []
        for action in actions:
            if not isinstance(action, _Call):
                action(now)
                continue
            try:
                if isinstance(action.fn, TeacherAction):
                    self._refusal = ""
                    changed |= self._apply(action.fn, now)
                    action.outcome = (True, self._refusal)
                else:
                    action.outcome = (True, action.fn(now))
            except Exception as err:  # the caller hears of it; the ingest thread goes on
                action.outcome = (False, err)
            answered.append(action)
        events = self._pending_events + self.rotation.tick(now)
        self._pending_events = []
        if events or changed:
            if events:
                log.info("rotation: %s; now %s, block %d",
                         ", ".join(e.event for e in events), self.rotation.phase,
                         self.rotation.block + 1)
            self._persist_rotation()
            self._publish_rotation(now)
            for event in events:
                self._publish_notice(event, now)
        elif now - self._last_rotation_publish >= ROTATION_REFRESH_S:
            self._publish_rotation(now)
        if now - self._retention_at >= RETENTION_EVERY_S:
            self._run_retention(now)
        self._send_to_district()
        # The display reads a few times a second: under a flood of check-ins (big batches),
        # rebuilding the view after every batch would cost more than storing them.
        if (actions or events or changed or len(batch) < BATCH // 10
                or now - self._view_at >= VIEW_EVERY_S):
            view = self._make_view(now)
            with self._view_lock:
                self._view, self._view_at = view, now
            for listener in list(self._view_listeners):
                try:
                    listener(view)
                except Exception:  # a listener's bug must not stop the ingest thread
                    log.exception("view listener failed")
        for call in answered:  # the view shows their effect now
            call.answer()
        after, self._after_view = self._after_view, []
        for answer in after:
            answer()
        return len(batch)

    def _apply(self, a: TeacherAction, now: float) -> bool:
        """Apply one teacher action; True if the rotation's state changed."""
        rot = self.rotation
        # The display is whoever stands at it: what needs the teacher needs the teacher view
        # unlocked there (a PIN, or the console), and only the console unlocks without a PIN.
        if a.source != "console" and (a.action == "unlock_teacher_view" or (
                a.action in TEACHER_ONLY and now >= self.access.unlocked_until)):
            log.warning("teacher action %s from the display refused: it needs the teacher "
                        "view unlocked", a.action)
            self._refusal = Text("only the teacher can do that: open the teacher view first")
            self._say(NEEDS_TEACHER, now)
            return False
        try:
            if a.action in ("start", "pause", "resume", "skip", "end"):
                self._pending_events += getattr(rot, a.action)(now)
            elif a.action == "extend":
                self._pending_events += rot.extend(now, a.minutes * 60.0)
                self._say(Text("%(minutes)+g minutes", minutes=a.minutes), now)
            elif a.action == "move":
                rot.move_student(a.student, a.group)
                name = self._name(a.student)
                self._say(Text("%(name)s moved to %(group)s", name=name,
                               group=self._public_names().get(a.group, "")), now,
                          teacher=Text("%(name)s moved to %(group)s", name=name,
                                       group=self._group_name(a.group)))
            elif a.action in ("absent", "present"):
                rot.mark_absent(a.student, a.action == "absent")
                self._say(Text(N_("%(name)s marked absent") if a.action == "absent"
                               else N_("%(name)s marked present"), name=self._name(a.student)),
                          now)
            elif a.action == "enroll_start":
                self.enrollment.start()
                self._say(Text("Enrolling: tap the new badge at any station"), now)
                return False
            elif a.action == "enroll_stop":
                self.enrollment.stop()
                return False
            elif a.action in ("enroll", "reassign"):
                badge_ops.enroll(self.roster, a.badge, a.student, now,
                                 reassign=a.action == "reassign")
                self.enrollment.take(a.badge)
                self._say(Text("Badge enrolled"), now,
                          teacher=Text("Badge …%(end)s is now %(name)s's", end=a.badge[-4:],
                                       name=self._name(a.student)))
                return False
            elif a.action == "revoke":
                badge_ops.revoke(self.roster, a.badge, now)
                self._say(Text("Badge revoked"), now,
                          teacher=Text("Badge …%(end)s revoked", end=a.badge[-4:]))
                return False
            elif a.action == "revoke_student":
                held = badge_ops.revoke_student(self.roster, a.student, now)
                self._say(Text("Badge revoked"), now, teacher=Text(
                    "%(count)d badge(s) of %(name)s revoked: enroll a new one", count=held,
                    name=self._name(a.student)))
                return False
            elif a.action == "start_lesson":
                self._start_lesson(a.class_id or self.class_id, a.plan, now)
                self._say(Text("%(class_title)s: lesson started",
                               class_title=self._class_title(self.class_id)), now)
            elif a.action == "suggest_groups":
                since = a.since if a.mode == PRESENT else None
                if a.mode == PRESENT and since is None and rot.phase in (Phase.RUNNING,
                                                                         Phase.PAUSED):
                    since = self._lesson_started_at()
                self._begin_suggestion(GroupRequest(a.class_id, a.mode or "skill",
                                                    a.standards, since=since), None, now)
                return False
            elif a.action == "approve_groups" and self._offer is not None:
                self._approve(now)
            elif a.action == "reject_groups":
                self._offer = None
                return False
            elif a.action == "adjust_groups" and self._offer is not None:
                offer = self._offer
                current = self._class_plan(offer.class_id)[1]
                self._offer = offer.adjust(a.student, a.group, current)
                return False
            elif a.action in ("teacher_pin", "unlock_teacher_view", "lock_teacher_view"):
                self._access(a, now)
                return False
            elif a.action in ("approve_groups", "adjust_groups"):
                self._refusal = Text("no groups are waiting for approval")
                return False
            else:
                log.warning("unknown teacher action %r ignored", a.action)
                self._refusal = Text("unknown action %(action)r", action=a.action)
                return False
        except (BadgeError, ValueError, sqlite3.Error) as err:
            log.warning("teacher action %s refused: %s", a.action, err)
            # The reason may name a group, a class or a badge: the teacher's words, for the
            # teacher view and the console's answer; the class reads a fixed line.
            self._refusal = text_of(err)
            self._say(REFUSED, now, teacher=Text("Not done: %(reason)s", reason=self._refusal))
            return False
        log.info("teacher action %s: now %s, block %d", a.action, rot.phase, rot.block + 1)
        return True

    def _access(self, a: TeacherAction, now: float) -> None:
        """The teacher view's lock: the keypad's PIN, the console's unlock, a lock."""
        if a.action == "unlock_teacher_view":
            if a.until > now:
                self.access.unlock(a.until)
                log.info("teacher view unlocked from the console for %.0f s", a.until - now)
            return
        if a.action == "lock_teacher_view":
            if self.access.unlocked_until:
                log.info("teacher view locked")
            self.access.lock()
            return
        refused = self.access.may_try(now)
        if refused is not None:
            log.warning("teacher PIN not checked: %s", "no PIN is set for this hub"
                        if refused is PinOutcome.NO_PIN else "the keypad is paused")
            return
        self.access.checking = True
        stored, pin = self.config.teacher_pin_hash, a.pin
        assert stored is not None

        def check() -> None:  # scrypt takes a quarter second on a Pi: not on this thread
            try:
                right = verify_pin(pin, stored)
            except Exception:  # never leave the keypad waiting for an answer
                log.exception("teacher PIN check failed")
                right = False
            self._inbox.put(lambda when: self._pin_checked(right, when))
        threading.Thread(target=check, name="hub-pin-check", daemon=True).start()

    def _pin_checked(self, right: bool, now: float) -> None:
        outcome = self.access.checked(right, now)
        if outcome is PinOutcome.RIGHT:
            log.info("teacher view unlocked by PIN for %.0f s", self.config.teacher_timeout_s)
        elif self.access.paused_until > now:
            log.warning("wrong teacher PIN (%d in a row): keypad paused for %.0f s",
                        self.access.failures, self.access.paused_until - now)
        else:
            log.warning("wrong teacher PIN (%d in a row)", self.access.failures)

    def _say(self, message: str, now: float, *, teacher: str = "") -> None:
        """A banner: ``message`` for everyone (public names only), ``teacher`` for the
        teacher view when it says more."""
        self._message, self._message_at, self._teacher_message = message, now, teacher

    def _name(self, student_id: str) -> str:
        s = self.roster.student(student_id)
        return s.display_name if s else student_id

    def _group_name(self, group_id: str) -> str:
        """The teacher's name for a group: for the teacher view and logs only."""
        return next((g.name for g in self.rotation.groups if g.id == group_id), group_id)

    def _public_names(self) -> dict[str, str]:
        return public_group_names(self.rotation.groups)

    def _run_retention(self, now: float) -> None:
        self._retention_at = now
        apply_retention(self.store, self.config.retention_days, now)

    def _send_to_district(self) -> None:
        """Publish what the district outbox has due (records stored just now included)."""
        if self.uplink is None or self.district_bus is None or not self.district_bus.connected:
            return
        for topic, payload in self.uplink.due():
            if not self.district_bus.publish(topic, payload):
                self.uplink.reset()  # the connection dropped: all of it again after reconnect
                return

    def _connection_changed(self, connected: bool) -> None:
        if connected:
            def announce(now: float) -> None:
                self._publish(contract.hub_status_topic(self.room),
                              HubStatus(**contract.envelope("hub", now), state="online"),
                              retain=True)
                self._publish_rotation(now)
                held, self._held_notice = self._held_notice, None
                if held is not None and now - held.ts <= NOTICE_HOLD_S:
                    self._send_notice(held, now)
            self._inbox.put(announce)

    def _refused(self, topic: str, reason: str) -> None:
        """The broker refused one of our publishes (paho's thread): warn the teacher view."""
        def note(now: float) -> None:
            self.refusals.append((now, topic, reason))
            del self.refusals[:-20]
        self._inbox.put(note)

    def _unsendable(self, topic: str, err: ContractError) -> None:
        """A message the contract (so a station, or the broker) would refuse: never sent.
        Logged as an error, counted, and shown on the teacher view (ingest thread)."""
        self.unsendable += 1
        log.error("not publishing to %s: %s", topic, err)
        self._warn_unsendable(topic, err)

    def _warn_unsendable(self, topic: str, err: ContractError) -> None:
        self.refusals.append((self.clock(), topic, f"{NOT_SENT}breaks the message contract "
                                                   f"({err.reason})"))
        del self.refusals[:-20]

    def _publish(self, topic: str, message: contract.Message, *, retain: bool = False) -> bool:
        """Publish a message the contract allows; False if not sent (not connected, or it
        breaks the contract: then logged, counted and shown)."""
        try:
            payload = contract.encode_checked(message)
        except ContractError as err:
            self._unsendable(topic, err)
            return False
        return self.bus.publish(topic, payload, retain=retain)

    def _persist_rotation(self) -> None:
        """Save the lesson: its class and plan, its row in the lessons history (begun when it
        starts, ended when it ends) and the rotation's state, in one transaction."""
        now = self.clock()
        try:
            with self.store.transaction():
                self._track_lesson(now)
                self.store.save_state(LESSON_KEY, {"class": self.class_id,
                                                   "plan": self.plan_id,
                                                   "seq": self._lesson_seq,
                                                   "number": self._lesson_number,
                                                   "started": self._lesson_started})
                self.store.save_state(ROTATION_KEY, self.rotation.to_dict())
        except sqlite3.Error as err:  # kept in memory; saved with the next change
            log.error("the lesson's state was not saved: %s", err)

    def _track_lesson(self, now: float) -> None:
        rot = self.rotation
        running = rot.phase in (Phase.RUNNING, Phase.PAUSED)
        if self._lesson_seq and (not running or rot.lessons != self._lesson_number):
            self.book.end_lesson(self._lesson_seq, now)
            self._lesson_seq, self._lesson_started = 0, 0.0
        if running and not self._lesson_seq:
            members = rot.members()
            self._lesson_seq = self.book.begin_lesson(
                self.class_id, self.plan_id, [members.get(g.id, ()) for g in rot.groups], now)
            self._lesson_number, self._lesson_started = rot.lessons, now

    def _lesson_started_at(self) -> float:
        """When the lesson running now began (its first block), else today's midnight."""
        if self._lesson_started:
            return self._lesson_started
        return dt.datetime.fromtimestamp(self.clock()).replace(
            hour=0, minute=0, second=0, microsecond=0).timestamp()

    def rotation_message(self, now: float) -> RotationState:
        """The retained rotation state: group ids and public names, never the teacher's."""
        snap = self.rotation.snapshot(now)
        return rotation_state(self.config.plan, snap, self._public_names(), self._questions(),
                              now)

    def _publish_rotation(self, now: float) -> None:
        if self._publish(contract.rotation_topic(self.room), self.rotation_message(now),
                         retain=True):
            self._last_rotation_publish = now

    def _publish_notice(self, event: RotationEvent, now: float) -> None:
        notice = Notice(**contract.envelope("hub", now), event=event.event,  # type: ignore[arg-type]
                        block=event.block, remaining_s=max(0.0, event.remaining_s))
        self.notices_sent.append(notice)
        del self.notices_sent[:-50]
        self._send_notice(notice, now)

    def _send_notice(self, notice: Notice, now: float) -> None:
        if self._publish(contract.notice_topic(self.room), notice):
            self.notices_published += 1
            online = sum(state == "online" for state in self.ingest.station_states.values())
            self.notices_due += online
            self.notices_unheard += not online
            self._say(Text("Sent to the stations: %(notice)s",
                           notice=NOTICE_TEXT.get(notice.event, notice.event)), now)
        elif not self.bus.connected:
            self._held_notice = notice
            log.info("notice %s held: not connected to the broker yet", notice.event)

    def _refresh_flags(self, now: float) -> None:
        stored = self.ingest.stats.stored
        # A scan of the lookback period: after new check-ins, but not more than every few
        # seconds (a flood would otherwise rescan after every batch).
        since = now - self._flags_at
        if (stored == self._flags_stored or since < FLAGS_MIN_S) and since < FLAGS_REFRESH_S:
            return
        cfg = self.config.reflection
        records = self.store.checkins_between(now - cfg.lookback_days * 86400.0, now + 60.0)
        self._flags = {sid: tuple(f.text for f in flags)
                       for sid, flags in reflection_flags(records, cfg).items()}
        self._flags_at, self._flags_stored = now, stored

    def _make_view(self, now: float) -> HubView:
        plan = self.config.plan
        self._refresh_flags(now)
        self.enrollment.expire(now)
        students = self.roster.students()
        names = {s.id: s.display_name for s in students}
        candidates: tuple[tuple[str, str, bool], ...] = ()
        if self.enrollment.active:
            without = {s.id for s in self.roster.students_without_badge()}
            candidates = tuple(sorted(((s.id, s.display_name, s.id not in without)
                                       for s in students), key=lambda c: (c[2], c[1])))
        klass = self.roster.classes().get(self.class_id, "")
        offer = self._offer
        suggested = offer.pairs if offer is not None else None
        suggested_public = tuple(public_group_names(
            self._suggested_defs(offer)).values()) if offer is not None else ()
        work = self._work

        return HubView(
            room=self.room,
            rotation=self.rotation.snapshot(now),
            station_names={s.id: s.name for s in plan.stations},
            group_names={g.id: g.name for g in self.rotation.groups},
            arrivals=tuple(sorted(self.ingest.arrivals.values(), key=lambda a: a.at)),
            station_states=dict(self.ingest.station_states),
            connected=self.bus.connected,
            stored=self.ingest.stats.stored,
            at=now,
            stations=tuple(StationInfo(s.id, s.name, s.kind, s.colour, s.icon, s.capacity)
                           for s in plan.stations),
            student_names=names,
            flags=dict(self._flags),
            enrollment=EnrollmentView(self.enrollment.active, tuple(self.enrollment.offers),
                                      candidates),
            class_title=klass,
            suggested_groups=suggested,
            message=self._message,
            message_at=self._message_at,
            teacher_message=self._teacher_message,
            public_group_names=self._public_names(),
            suggested_public=suggested_public,
            access=self.access.view(),
            warnings=self._warnings(now),
            class_id=self.class_id,
            plan_id=self.plan_id,
            plan_name=self.plan_name if self.plan_id != ROOM_PLAN else "",
            lesson_started_at=self._lesson_started,
            lesson_choices=self._lesson_choices(now),
            suggestion=offer,
            groups_work=(f"Making {work.request.mode} groups" if work is not None
                         and work.request.mode != PRESENT else
                         "Regrouping the students here" if work is not None else ""),
            groups_work_at=work.started_at if work is not None else 0.0,
        )

    def _warnings(self, now: float) -> tuple[str, ...]:
        by_topic: dict[str, tuple[int, str]] = {}
        for _at, topic, reason in self.refusals:
            count, _ = by_topic.get(topic, (0, ""))
            by_topic[topic] = (count + 1, reason)
        names = {s.id: s.name for s in self.config.plan.stations}
        warnings: tuple[str, ...] = tuple(
            Text(N_("Not sent %(count)d × %(message)s: %(reason)s")
                 if reason.startswith(NOT_SENT)
                 else N_("Broker refused %(count)d × %(message)s: %(reason)s"), count=count,
                 message=topic.rsplit("/", 1)[-1], reason=reason.removeprefix(NOT_SENT))
            for topic, (count, reason) in by_topic.items()) + tuple(
            Text("%(station)s keeps %(count)d check-in(s) the hub refused: see `stations "
                 "outbox quarantine` there", station=names.get(station, station), count=n)
            for station, n in sorted(self.ingest.quarantined.items()))
        if self.uplink is not None and self.uplink.refused:
            warnings += (Text("District refused %(count)d record(s): see the hub's log",
                              count=self.uplink.refused),)
        ends = self._cert_ends
        if ends is not None and ends.timestamp() - now <= tls.RENEW_BEFORE.total_seconds():
            template = (N_("The room's certificate ended %(day)s: IT renews it with `stations "
                           "broker-config` and installs it again") if ends.timestamp() <= now
                        else N_("The room's certificate ends %(day)s: IT renews it with "
                                "`stations broker-config` and installs it again"))
            warnings += (Text(template, day=f"{ends:%Y-%m-%d}"),)
        return warnings


