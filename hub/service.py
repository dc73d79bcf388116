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
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from broker import contract
from broker.client import BusClient, Will
from broker.contract import ContractError, HubStatus, Notice, RotationState
from broker.process_bus import ProcessBus
from hub import badges as badge_ops
from hub.actions import TeacherAction
from hub.badges import BadgeError, Enrollment
from hub.config import HubConfig, check_questions
from hub.export import Erased, apply_retention, erase_student
from hub.flags import reflection_flags
from hub.ingest import Arrival, Ingest, Outgoing
from hub.lrs import StatementFeed, StatementSender, open_sink
from hub.oneroster import ImportSummary, import_oneroster
from hub.pin import verify_pin
from hub.privacy import public_group_names
from hub.roster import Roster, read_roster
from hub.rotation import GroupDef, Phase, Rotation, RotationEvent, RotationSnapshot
from hub.store import ROTATION_KEY, SETTINGS_KEY, HubStore, open_db
from hub.teacher import PinOutcome, TeacherAccess
from hub.uplink import DistrictFeed, Uplink
from hub.view import EnrollmentView, HubView, StationInfo
from hub.wire import rotation_size_problem, rotation_state
from hub.xapi import Names

__all__ = ["ROTATION_KEY", "Arrival", "HubService", "HubView", "RotationSnapshot",
           "TeacherAction"]

log = logging.getLogger(__name__)
T = TypeVar("T")

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
#: What the display says when a notice goes out to the stations.
NOTICE_TEXT = {"warning": "time nearly up", "move": "time to move", "paused": "paused",
               "resumed": "back to work", "ended": "lesson over"}


def statement_names(config: HubConfig) -> Names:
    """The plan's names for its stations and activities, for the statements' definitions."""
    plan = config.plan
    return Names(config.room, {s.id: s.name for s in plan.stations},
                 {(s.id, a.id): a.label for s in plan.stations for a in s.activities})


Suggestion = tuple[tuple[str, tuple[str, ...]], ...]


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


def adjust_suggestion(suggested: Suggestion, student: str, group: str) -> Suggestion:
    """The suggestion with ``student`` moved into the suggested group named ``group``."""
    names = [name for name, _ in suggested]
    if group not in names:
        raise ValueError(f"no suggested group {group!r}")
    if not any(student in members for _, members in suggested):
        raise ValueError("that student is not in the suggested groups")
    return tuple((name, tuple(m for m in members if m != student)
                  + ((student,) if name == group else ()))
                 for name, members in suggested)


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
        self.rotation = Rotation(config.plan)
        self._pending_events: list[RotationEvent] = []
        saved = self.store.load_state(ROTATION_KEY)
        if saved is not None:
            try:
                self._pending_events = self.rotation.restore(saved, clock())
                log.info("rotation restored: %s, block %d of %d, %.0f s left",
                         self.rotation.phase, self.rotation.block + 1,
                         config.plan.block_count, self.rotation.remaining(clock()))
            except ValueError as err:
                log.warning("saved rotation not resumed: %s; starting idle", err)
                self.rotation = Rotation(config.plan)
        self._apply_saved_settings()
        self.enrollment = Enrollment()
        district_feed = None
        if config.district is not None:
            district_feed = DistrictFeed(self.room, config.class_id,
                                         {s.id: s.kind for s in config.plan.stations})
        #: xAPI statements to the school's LRS (or a file), from a queue in the database.
        self.statements: StatementSender | None = None
        statement_feed = None
        if config.xapi.enabled:
            statement_feed = StatementFeed(config.xapi, statement_names(config))
            self.statements = StatementSender(
                config.database, open_sink(config.xapi, config.path.parent),
                batch=config.xapi.batch, max_backoff_s=config.xapi.max_backoff_s)
        self.ingest = Ingest(self.room, self.store, self.roster, self.rotation, self.enrollment,
                             on_unsendable=self._warn_unsendable, district=district_feed,
                             shows_history=lambda _student: config.shows_history(
                                 config.class_id), statements=statement_feed)
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
        self._suggested: Suggestion | None = None
        self._message, self._message_at, self._teacher_message = "", 0.0, ""
        self.access = TeacherAccess(config.teacher_pin_hash is not None,
                                    config.teacher_timeout_s)
        self._view_lock = threading.Lock()
        self._view_listeners: list[Callable[[HubView], None]] = []
        self.notices_sent: list[Notice] = []
        #: Notices handed to the broker since start.
        self.notices_published = 0
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
        self.store.db.close()

    def teacher(self, action: str, minutes: float = 0.0, *, student: str = "", group: str = "",
                badge: str = "") -> Future[str]:
        """Queue a teacher action for the ingest thread.

        Lesson: ``start``, ``pause``, ``resume``, ``extend`` (``minutes``), ``skip``, ``end``.
        Students: ``move`` (``student`` to ``group``), ``absent``, ``present``.
        Badges: ``enroll_start``, ``enroll_stop``, ``enroll`` (``badge`` to ``student``),
        ``reassign`` (the same, taking it from its owner), ``revoke`` (``badge``),
        ``revoke_student`` (every badge of ``student``: a lost card).
        Groups: ``approve_groups`` (the grouping engine's suggestion, see
        :meth:`suggest_groups`), ``reject_groups``, ``adjust_groups`` (move ``student`` to
        the suggested group named ``group`` before approving).
        The teacher view: ``lock_teacher_view``; see also :meth:`unlock_teacher_view` and
        the keypad's ``teacher_pin`` action (:class:`TeacherAction` with ``pin``).
        """
        return self.act(TeacherAction(action, minutes, student, group, badge))

    def unlock_teacher_view(self, until: float) -> Future[str]:
        """Let the display show the teacher view without a PIN until ``until`` (Unix seconds).

        The hook for the signed-in teacher console: a teacher signed in there may open the
        teacher view on the classroom screen. The display still locks it again when the
        screen is left alone or the teacher goes back to the class view.
        """
        return self.act(TeacherAction("unlock_teacher_view", until=until))

    def lock_teacher_view(self) -> Future[str]:
        """Close the teacher view everywhere now (the console's sign-out, say)."""
        return self.act(TeacherAction("lock_teacher_view"))

    def act(self, action: TeacherAction) -> Future[str]:
        """Queue a teacher action (the display's controls, the console). The future says
        ``""`` once it is applied and the view shows it, else why it was refused."""
        call: _Call = _Call(action, Future())
        self._inbox.put(call)
        return call.future

    def suggest_groups(self, groups: list[tuple[str, list[str]]]) -> None:
        """The grouping engine's hook: offer new groups (name, member ids) for approval.

        The display shows an "Approve groups" control; approving replaces the rotation's
        groups from the next lesson on (``Rotation.set_groups``).
        """
        frozen = tuple((name, tuple(members)) for name, members in groups)

        def offer(now: float) -> None:
            self._suggested = frozen
            self._say("New groups suggested: approve or keep the current ones", now)
        self._inbox.put(offer)

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
            self._say(f"Roster imported: {summary.students} students", now)
            return summary
        return self.call(run)

    def import_badges(self, path: Path, *, reassign: bool = False) -> Future[int]:
        """Import a badge CSV (all rows or none; :class:`BadgeError` names row and column)."""
        def run(now: float) -> int:
            n = badge_ops.import_badges(path, self.roster, now, reassign=reassign)
            self._say(f"{n} badges imported", now)
            return n
        return self.call(run)

    def erase_student(self, student_id: str) -> Future[Erased]:
        """A family's request: delete the student and everything held about them, from the
        database and from the lesson in memory (KeyError if there is no such student)."""
        def run(now: float) -> Erased:
            erased = erase_student(self.store, student_id, ROTATION_KEY)
            rot = self.rotation
            rot.groups = tuple(dataclasses.replace(g, members=tuple(
                m for m in g.members if m != student_id)) for g in rot.groups)
            rot.moved.pop(student_id, None)
            rot.absent.discard(student_id)
            rot.visits.pop(student_id, None)
            self.ingest.arrivals.pop(student_id, None)
            self._flags.pop(student_id, None)
            if self._suggested is not None:
                self._suggested = tuple((name, tuple(m for m in members if m != student_id))
                                        for name, members in self._suggested)
            self._persist_rotation()
            self._publish_rotation(now)
            self._say("A student's data was erased", now)
            return erased
        return self.call(run)

    def update_settings(self, *, retention_days: int | None = None,
                        questions: tuple[str, ...] | None = None,
                        reset: bool = False) -> Future[dict[str, Any]]:
        """Change what may change while the hub runs: retention days and the reflection
        questions. Kept in the hub's database (``hub_state``) over the config file's values
        until ``reset``; ValueError says what is wrong and changes nothing."""
        def run(now: float) -> dict[str, Any]:
            saved = {} if reset else dict(self.store.load_state(SETTINGS_KEY) or {})
            if retention_days is not None:
                saved["retention_days"] = retention_days
            if questions is not None:
                saved["questions"] = list(questions)
            settings = self._checked_settings(saved)
            with self.store.transaction():
                self.store.save_state(SETTINGS_KEY, settings)
            self.config = self._with_settings(self._file_config, settings)
            self._flags_at = -FLAGS_REFRESH_S
            self._run_retention(now)
            self._publish_rotation(now)
            self._say("Settings saved", now)
            log.info("settings changed from the console: %s", settings or "the config file's")
            return settings
        return self.call(run)

    def _checked_settings(self, saved: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "retention_days" in saved:
            days = saved["retention_days"]
            if not isinstance(days, int) or isinstance(days, bool) or days < 0:
                raise ValueError(f"retention days must be 0 (keep everything) or more, "
                                 f"got {days!r}")
            out["retention_days"] = days
        if "questions" in saved:
            qs = tuple(saved["questions"])
            check_questions(qs)
            problem = rotation_size_problem(self.config.plan.stations, self.rotation.groups,
                                            self.config.plan.block_count, qs)
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
                self._say(f"Check-ins could not be saved: {err}", now)
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
        return len(batch)

    def _apply(self, a: TeacherAction, now: float) -> bool:
        """Apply one teacher action; True if the rotation's state changed."""
        rot = self.rotation
        try:
            if a.action in ("start", "pause", "resume", "skip", "end"):
                self._pending_events += getattr(rot, a.action)(now)
            elif a.action == "extend":
                self._pending_events += rot.extend(now, a.minutes * 60.0)
                self._say(f"{a.minutes:+g} minutes", now)
            elif a.action == "move":
                rot.move_student(a.student, a.group)
                moved = f"{self._name(a.student)} moved to "
                self._say(moved + self._public_names().get(a.group, ""), now,
                          teacher=moved + self._group_name(a.group))
            elif a.action in ("absent", "present"):
                rot.mark_absent(a.student, a.action == "absent")
                self._say(f"{self._name(a.student)} marked {a.action}", now)
            elif a.action == "enroll_start":
                self.enrollment.start()
                self._say("Enrolling: tap the new badge at any station", now)
                return False
            elif a.action == "enroll_stop":
                self.enrollment.stop()
                return False
            elif a.action in ("enroll", "reassign"):
                badge_ops.enroll(self.roster, a.badge, a.student, now,
                                 reassign=a.action == "reassign")
                self.enrollment.take(a.badge)
                self._say(f"Badge …{a.badge[-4:]} is now {self._name(a.student)}'s", now)
                return False
            elif a.action == "revoke":
                badge_ops.revoke(self.roster, a.badge, now)
                self._say(f"Badge …{a.badge[-4:]} revoked", now)
                return False
            elif a.action == "revoke_student":
                held = badge_ops.revoke_student(self.roster, a.student, now)
                self._say(f"{held} badge(s) of {self._name(a.student)} revoked: "
                          "enroll a new one", now)
                return False
            elif a.action == "approve_groups" and self._suggested is not None:
                groups = tuple(GroupDef(f"g{k + 1}", name, members)
                               for k, (name, members) in enumerate(self._suggested))
                rot.set_groups(groups)
                self._suggested = None
                self._say("New groups approved: they start with the next lesson", now)
            elif a.action == "reject_groups":
                self._suggested = None
                return False
            elif a.action == "adjust_groups" and self._suggested is not None:
                self._suggested = adjust_suggestion(self._suggested, a.student, a.group)
                return False
            elif a.action in ("teacher_pin", "unlock_teacher_view", "lock_teacher_view"):
                self._access(a, now)
                return False
            elif a.action in ("approve_groups", "adjust_groups"):
                self._refusal = "no groups are waiting for approval"
                return False
            else:
                log.warning("unknown teacher action %r ignored", a.action)
                self._refusal = f"unknown action {a.action!r}"
                return False
        except (BadgeError, ValueError, sqlite3.Error) as err:
            log.warning("teacher action %s refused: %s", a.action, err)
            self._say(str(err), now)
            self._refusal = str(err)
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
        return public_group_names((g.id, g.name) for g in self.rotation.groups)

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
        try:
            with self.store.transaction():
                self.store.save_state(ROTATION_KEY, self.rotation.to_dict())
        except sqlite3.Error as err:  # kept in memory; saved with the next change
            log.error("the lesson's state was not saved: %s", err)

    def rotation_message(self, now: float) -> RotationState:
        """The retained rotation state: group ids and public names, never the teacher's."""
        snap = self.rotation.snapshot(now)
        return rotation_state(self.config.plan, snap, self._public_names(),
                              self.config.reflection.questions, now)

    def _publish_rotation(self, now: float) -> None:
        if self._publish(contract.rotation_topic(self.room), self.rotation_message(now),
                         retain=True):
            self._last_rotation_publish = now

    def _publish_notice(self, event: RotationEvent, now: float) -> None:
        notice = Notice(**contract.envelope("hub", now), event=event.event,  # type: ignore[arg-type]
                        block=event.block, remaining_s=max(0.0, event.remaining_s))
        self.notices_sent.append(notice)
        del self.notices_sent[:-50]
        if self._publish(contract.notice_topic(self.room), notice):
            self.notices_published += 1
            self._say(f"Sent to the stations: {NOTICE_TEXT.get(event.event, event.event)}", now)
        else:
            log.warning("notice %s not sent: not connected to the broker", event.event)

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
        klass = self.roster.classes().get(self.config.class_id, "")
        suggested_public = tuple(public_group_names(
            (f"s{k}", name) for k, (name, _m) in enumerate(self._suggested or ())).values())
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
            suggested_groups=self._suggested,
            message=self._message,
            message_at=self._message_at,
            teacher_message=self._teacher_message,
            public_group_names=self._public_names(),
            suggested_public=suggested_public,
            access=self.access.view(),
            warnings=self._warnings(),
        )

    def _warnings(self) -> tuple[str, ...]:
        by_topic: dict[str, tuple[int, str]] = {}
        for _at, topic, reason in self.refusals:
            count, _ = by_topic.get(topic, (0, ""))
            by_topic[topic] = (count + 1, reason)
        names = {s.id: s.name for s in self.config.plan.stations}
        warnings = tuple(f"{'Not sent' if reason.startswith(NOT_SENT) else 'Broker refused'} "
                     f"{count} × {topic.rsplit('/', 1)[-1]}: {reason.removeprefix(NOT_SENT)}"
                     for topic, (count, reason) in by_topic.items()) + tuple(
            f"{names.get(station, station)} keeps {n} check-in(s) the hub refused: "
            "see `stations outbox quarantine` there"
            for station, n in sorted(self.ingest.quarantined.items()))
        if self.uplink is not None and self.uplink.refused:
            warnings += (f"District refused {self.uplink.refused} record(s): "
                         "see the hub's log",)
        return warnings

