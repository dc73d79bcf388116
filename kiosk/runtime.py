"""The kiosk's runtime: reader, MQTT, outbox and the state machine, without any pygame.

The window (:mod:`kiosk.app`) calls :meth:`KioskRuntime.step` once a frame and draws what
the machine shows; tests drive a runtime directly against a real broker. Everything that
decides anything lives in :mod:`kiosk.machine` and the screens; this class only turns the
outside world into events, and effects back into the outside world.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from broker import contract
from broker.client import BusClient, Will
from broker.contract import (
    CheckIn,
    ContractError,
    Hello,
    Notice,
    Reply,
    RotationState,
)
from kiosk.autopilot import SimulatedStudents
from kiosk.config import KioskConfig
from kiosk.machine import Effect, KioskMachine, SendHello, Signal, Speak, SubmitCheckIn
from kiosk.outbox import Outbox
from kiosk.readers.base import BadgeReader, BadgeTap
from kiosk.readers.simulated import SimulatedReader
from kiosk.screens.base import Context, HubReply, Press, ScreenId, Tap
from kiosk.screens.chrome import notice_speech

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 20.0
STATUS_EVERY_S = 30.0


class Voice(Protocol):
    """Spoken prompts (``kiosk.speaker.Speaker``): both calls return at once."""

    def say(self, speak: Speak) -> None: ...

    def prepare(self, texts: list[str], language: str) -> None: ...


class Feedback(Protocol):
    """Lights (``kiosk.feedback``) and sound (``kiosk.sound``).

    ``kind`` is ``tap``, ``accepted``, ``unknown``, ``error`` or ``notice``.
    """

    def signal(self, kind: str) -> None: ...

    def station_state(self, online: bool, reader_ok: bool) -> None: ...


@dataclass
class KioskStats:
    taps: int = 0
    checkins: int = 0
    replies: int = 0
    rejected: int = 0
    #: Check-ins the hub rejected for good, moved to the outbox's quarantine.
    quarantined: int = 0
    notices: int = 0
    latencies_ms: list[float] = field(default_factory=list)


class KioskRuntime:
    def __init__(self, config: KioskConfig, reader: BadgeReader, *,
                 feedback: Sequence[Feedback] = (),
                 autopilot: SimulatedStudents | None = None,
                 clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.config = config
        self.reader = reader
        self.feedback = list(feedback)
        self.autopilot = autopilot
        self.clock = clock
        self.room, self.station = config.room, config.station
        self.stats = KioskStats()
        self.outbox = Outbox(config.outbox)
        self.events: queue.Queue[tuple[str, object]] = queue.Queue()
        self._early: tuple[str, object] | None = None
        self._sent_at: dict[str, float] = {}
        self.stopping = False
        self._stop_at: float | None = None
        self.ctx = Context(station=self.station, station_name=config.name,
                           fallback_activities=config.activities, language=config.language)
        #: Spoken prompts, when the station has a voice (the window sets it up).
        self.voice: Voice | None = None
        self.machine = KioskMachine(self.ctx, contract.new_id, clock())
        will = contract.encode(contract.StationStatus(**contract.envelope(self.station),
                                                      state="offline"))
        self.bus = BusClient(self.station, config.broker,
                             subscriptions=contract.station_subscriptions(self.room, self.station),
                             on_message=lambda t, p: self.events.put(("msg", (t, p))),
                             on_connection=lambda up: self.events.put(("conn", up)),
                             will=Will(contract.station_topic(self.room, self.station, "status"),
                                       will))
        self._last_status: tuple[int, bool, int] = (-1, True, 0)
        self._last_status_at = 0.0
        self._shown_state: tuple[bool, bool] | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.reader.start(lambda tap: self.events.put(("tap", tap)))
        self.bus.start()

    def close(self) -> None:
        self.reader.close()
        self.bus.stop(final=[self._status_message("offline")])
        self.outbox.close()

    def request_stop(self) -> None:
        """Finish gracefully: no new simulated taps, let the visit end and the outbox drain."""
        if not self.stopping:
            self.stopping = True
            self._stop_at = self.clock()
            self.bus.wind_down()
            if self.autopilot is not None:
                self.autopilot.active = False

    def finished(self) -> bool:
        """After :meth:`request_stop`: True once it is safe to exit."""
        if not self.stopping:
            return False
        if self.autopilot is None:  # a real station stops at once; its outbox is on disk
            return True
        drained = self.machine.screen_id is ScreenId.IDLE and self.outbox.pending_count() == 0
        return drained or self.clock() - (self._stop_at or 0.0) > DRAIN_TIMEOUT_S

    # --- one turn of the loop -------------------------------------------------------------------

    def step(self) -> None:
        now = self.clock()
        self._drain(now)
        self._apply(self.machine.update(now), now)
        if self.autopilot is not None and isinstance(self.reader, SimulatedReader):
            press = self.autopilot.step(self.machine, self.reader, now)
            if press is not None:
                self._apply(self.machine.dispatch(press, now), now)
        self.flush_outbox()
        self._maybe_status(now)

    def press(self, x: int, y: int) -> None:
        now = self.clock()
        self._apply(self.machine.dispatch(Press(x, y), now), now)

    @property
    def busy(self) -> bool:
        """True while a visit is on screen or events wait: the window should draw smoothly."""
        return (self.machine.screen_id is not ScreenId.IDLE or self._early is not None
                or not self.events.empty())

    # --- inputs ---------------------------------------------------------------------------------

    def wait(self, timeout: float) -> None:
        """Sleep until something arrives (a tap, a reply) or ``timeout`` passes.

        The window sleeps here between frames instead of a fixed tick, so a hub reply is
        shown the moment it arrives rather than on the next frame.
        """
        if self._early is None:
            with contextlib.suppress(queue.Empty):
                self._early = self.events.get(timeout=timeout)

    def _drain(self, now: float) -> None:
        while True:
            if self._early is not None:
                (kind, payload), self._early = self._early, None
                self._handle_event(kind, payload, now)
                continue
            try:
                kind, payload = self.events.get_nowait()
            except queue.Empty:
                return
            self._handle_event(kind, payload, now)

    def _handle_event(self, kind: str, payload: object, now: float) -> None:
        if kind == "tap":
            assert isinstance(payload, BadgeTap)
            self.stats.taps += 1
            self._apply(self.machine.dispatch(Tap(payload.badge), now), now)
        elif kind == "conn":
            self.ctx.online = bool(payload)
            if payload:  # whatever was sent and not answered goes again now
                self.outbox.reset_sent()
                self._last_status = (-1, True, 0)
        elif kind == "msg":
            topic, body = payload  # type: ignore[misc]
            self._message(topic, body, now)
        elif kind == "button":
            buttons = self.machine.current.buttons(self.ctx)
            suffix = str(payload).rsplit("_", 1)[-1]
            index = int(suffix) - 1 if suffix.isdigit() else -1
            if 0 <= index < len(buttons):
                self._apply(self.machine.dispatch(Press(*buttons[index].center), now), now)

    def _message(self, topic: str, payload: bytes, now: float) -> None:
        try:
            _route, message = contract.decode(topic, payload, room=self.room)
        except ContractError as err:
            self.stats.rejected += 1
            log.warning("rejected message: %s", err)
            return
        if isinstance(message, Reply):
            if message.request == "checkin":
                self._answered(message, now)
            self._apply(self.machine.dispatch(HubReply(message), now), now)
        elif isinstance(message, RotationState):
            changed = self.ctx.rotation is None or \
                self.ctx.rotation.stations != message.stations
            self.ctx.rotation, self.ctx.rotation_at = message, now
            if changed:
                self._prepare_words(message)
        elif isinstance(message, Notice):
            self.ctx.notice, self.ctx.notice_at = message, now
            self.stats.notices += 1
            self._signal("notice")
            if self.voice is not None:
                self.voice.say(Speak(notice_speech(message.event, message.remaining_s),
                                     self.ctx.speaking(), interrupt=False))

    def _prepare_words(self, rotation: RotationState) -> None:
        """The plan's names and menus, rendered for the voice before a student needs them,
        in the station's language and every language the plan has words in."""
        if self.voice is None:
            return
        by_language: dict[str, set[str]] = {}
        words = [(p.name, p.names) for p in rotation.stations] + \
            [(a.label, a.labels) for p in rotation.stations for a in p.activities]
        for default, translations in words:
            by_language.setdefault(self.config.language, set()).add(default)
            for language, text in translations.items():
                by_language.setdefault(language, set()).add(text)
        for language, texts in sorted(by_language.items()):
            self.voice.prepare(sorted(texts), language)

    def _answered(self, reply: Reply, now: float) -> None:
        """The hub answered a check-in: it leaves the outbox, for quarantine if rejected."""
        checkin_id = reply.in_reply_to
        if reply.status == "rejected":
            if not self.outbox.quarantine(checkin_id, reply.reason or "rejected"):
                return
            self.stats.quarantined += 1
            log.warning("check-in %s rejected by the hub (%s): kept in quarantine, not sent "
                        "again", checkin_id, reply.reason)
        elif self.outbox.acknowledge(checkin_id):
            log.info("check-in %s acknowledged by the hub", checkin_id)
        else:
            return
        self.stats.replies += 1
        sent = self._sent_at.pop(checkin_id, None)
        if sent is not None:
            self.stats.latencies_ms.append((now - sent) * 1000.0)

    # --- effects --------------------------------------------------------------------------------

    def _apply(self, effects: list[Effect], now: float) -> None:
        for effect in effects:
            if isinstance(effect, SendHello):
                hello = Hello(v=contract.SCHEMA_VERSION, id=effect.visit.hello_id,
                              sender=self.station, ts=time.time(), badge=effect.visit.badge)
                self.bus.publish(contract.station_topic(self.room, self.station, "hello"),
                                 contract.encode(hello))
            elif isinstance(effect, SubmitCheckIn):
                self._submit(effect, now)
            elif isinstance(effect, Signal):
                self._signal(effect.kind)
            elif isinstance(effect, Speak) and self.voice is not None and effect.lines:
                self.voice.say(effect)

    def _signal(self, kind: str) -> None:
        for sink in self.feedback:
            try:
                sink.signal(kind)
            except Exception:  # a broken LED must never stop a check-in
                log.exception("feedback %s failed on %s", type(sink).__name__, kind)

    def physical_button(self, name: str) -> None:
        """A gpiozero button (``button_1``…): presses the screen's n-th button. Any thread."""
        self.events.put(("button", name))

    def _submit(self, effect: SubmitCheckIn, now: float) -> None:
        visit = effect.visit
        wall = time.time()
        message = CheckIn(v=contract.SCHEMA_VERSION, id=visit.checkin_id, sender=self.station,
                          ts=wall, badge=visit.badge, answers=dict(visit.answers),
                          activity=visit.activity, tapped_at=wall - (now - visit.started))
        topic = contract.station_topic(self.room, self.station, "checkin")
        # On disk first: from here on the check-in survives a crash or a power cut.
        self.outbox.add(message.id, topic, contract.encode(message))
        self.stats.checkins += 1
        self._sent_at[message.id] = now
        log.info("check-in %s saved to the outbox", message.id)
        self.flush_outbox()

    def flush_outbox(self) -> None:
        if not self.bus.connected or self.outbox.pending_count() == 0:
            return
        for pending in self.outbox.due():
            if not self.bus.publish(pending.topic, pending.payload):
                return
            self.outbox.mark_sent(pending.id)

    def _status_message(self, state: str) -> tuple[str, bytes, bool]:
        status = contract.StationStatus(**contract.envelope(self.station), state=state,
                                        pending=self.outbox.pending_count(),
                                        reader="ok" if self.reader.healthy else "fault",
                                        quarantined=self.outbox.quarantined_count())
        return (contract.station_topic(self.room, self.station, "status"),
                contract.encode(status), True)

    def _maybe_status(self, now: float) -> None:
        reader_ok = self.reader.healthy
        if (self.ctx.online, reader_ok) != self._shown_state:
            self._shown_state = (self.ctx.online, reader_ok)
            for sink in self.feedback:
                sink.station_state(self.ctx.online, reader_ok)
        self.ctx.reader_ok = reader_ok
        if not self.bus.connected:
            return
        key = (self.outbox.pending_count(), self.ctx.reader_ok,
               self.outbox.quarantined_count())
        if key != self._last_status or now - self._last_status_at >= STATUS_EVERY_S:
            topic, payload, retain = self._status_message("online")
            if self.bus.publish(topic, payload, retain=retain):
                self._last_status, self._last_status_at = key, now

    def write_stats(self, path: Path) -> None:
        path.write_text(json.dumps({"station": self.station, **self.stats.__dict__}))
