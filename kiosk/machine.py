"""The kiosk's state machine: screens, transitions and the effects the shell must carry out.

Pure: the shell passes events and ``now`` (monotonic seconds) in and gets effects out. It
never touches MQTT, SQLite, pygame or GPIO itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.screens.base import (
    Context,
    Event,
    HubReply,
    Press,
    Say,
    Screen,
    ScreenId,
    Tap,
    Visit,
    hear_button,
)
from kiosk.screens.choice import ChoiceScreen
from kiosk.screens.go import GoScreen
from kiosk.screens.history import HistoryScreen
from kiosk.screens.idle import IdleScreen
from kiosk.screens.reflection import ReflectionScreen
from kiosk.screens.unknown import UnknownScreen
from kiosk.screens.welcome import WelcomeScreen

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendHello:
    """Ask the hub who this badge is (not kept if offline: the check-in carries the badge)."""

    visit: Visit


@dataclass(frozen=True, slots=True)
class SubmitCheckIn:
    """Write the check-in to the outbox, then send it."""

    visit: Visit


@dataclass(frozen=True, slots=True)
class Signal:
    """Light and sound: ``tap``, ``accepted``, ``unknown`` or ``error``."""

    kind: str


@dataclass(frozen=True, slots=True)
class Speak:
    """Say these lines in ``language``. ``interrupt`` stops what is being said first (a new
    screen, the "hear it" button); otherwise they follow it (the rest of the same screen,
    once the hub's answer fills it in)."""

    lines: tuple[Say, ...]
    language: str
    interrupt: bool = True


Effect = SendHello | SubmitCheckIn | Signal | Speak


def all_screens() -> dict[ScreenId, Screen]:
    screens: list[Screen] = [IdleScreen(), WelcomeScreen(), HistoryScreen(), ReflectionScreen(),
                             ChoiceScreen(), GoScreen(), UnknownScreen()]
    return {s.id: s for s in screens}


class KioskMachine:
    def __init__(self, ctx: Context, new_id: Callable[[], str], now: float) -> None:
        self.ctx = ctx
        self.new_id = new_id
        self.screens = all_screens()
        self.current: Screen = self.screens[ScreenId.IDLE]
        #: What the screen on show has said so far (to say only what its update adds).
        self._said: tuple[ScreenId, tuple[Say, ...]] = (ScreenId.IDLE, ())
        self._go(ScreenId.IDLE, now)

    @property
    def screen_id(self) -> ScreenId:
        return self.current.id

    def _go(self, target: ScreenId, now: float) -> list[Effect]:
        effects: list[Effect] = []
        if target is ScreenId.GO and self.ctx.visit is not None:
            self.ctx.visit.checkin_id = self.new_id()
            effects.append(SubmitCheckIn(self.ctx.visit))
        if target is ScreenId.UNKNOWN:
            effects.append(Signal("unknown"))
        self.current = self.screens[target]
        self.ctx.entered_at = now
        self.current.enter(self.ctx, now)
        log.debug("screen %s", target.value)
        return effects

    def dispatch(self, event: Event, now: float) -> list[Effect]:
        if isinstance(event, Tap):
            effects = self._tap(event.badge, now)
        elif isinstance(event, HubReply):
            effects = self._reply(event, now)
        elif isinstance(event, Press) and hear_button(self.ctx.layout).contains(event.x,
                                                                               event.y):
            return [self._speak(self.current.speech(self.ctx), interrupt=True)]
        else:
            target = self.current.handle(self.ctx, event, now)
            effects = self._go(target, now) if target is not None else []
        return effects + self._speech()

    def update(self, now: float) -> list[Effect]:
        target = self.current.update(self.ctx, now)
        effects = self._go(target, now) if target is not None else []
        return effects + self._speech()

    def _speak(self, lines: tuple[Say, ...], *, interrupt: bool) -> Speak:
        return Speak(lines, self.ctx.speaking(), interrupt)

    def _speech(self) -> list[Effect]:
        """Speak what the screen says when it appears, and what it adds later (the hub's
        answer, the next question); nothing when nothing changed."""
        screen = self.current.id
        lines = self.current.speech(self.ctx)
        said_on, said = self._said
        if said_on is screen and lines == said:
            return []
        self._said = (screen, lines)
        if said_on is not screen and not getattr(self.current, "speaks_on_enter", True):
            return []
        common = 0
        if said_on is screen:
            while common < min(len(lines), len(said)) and lines[common] == said[common]:
                common += 1
        if said_on is screen and common == len(lines):
            return []
        return [self._speak(lines[common:], interrupt=common == 0)]

    def _tap(self, badge: str, now: float) -> list[Effect]:
        visit = self.ctx.visit
        if visit is not None and visit.badge == badge and self.screen_id is not ScreenId.IDLE:
            return []  # the same student tapping again mid-visit carries on
        visit = Visit(badge=badge, started=now, hello_id=self.new_id())
        self.ctx.visit = visit
        effects = self._go(ScreenId.WELCOME, now)
        return [Signal("tap"), SendHello(visit), *effects]

    def _reply(self, event: HubReply, now: float) -> list[Effect]:
        reply, visit = event.reply, self.ctx.visit
        if visit is None:
            return []
        if reply.in_reply_to == visit.hello_id:
            visit.known = reply.status == "accepted"
            visit.display_name = reply.display_name
            visit.avatar = reply.avatar
            visit.language = reply.language
            visit.history = reply.history
            if reply.status == "unknown_badge" and self.screen_id is not ScreenId.GO:
                return self._go(ScreenId.UNKNOWN, now)
            return []
        if reply.in_reply_to == visit.checkin_id:
            visit.reply = reply
            if reply.status == "unknown_badge":
                return self._go(ScreenId.UNKNOWN, now)
            if reply.status == "rejected":  # kept at the station; the teacher can see why
                return [Signal("error")]
            return [Signal("accepted")] if reply.status == "accepted" else []
        return []

    def press(self, x: int, y: int, now: float) -> list[Effect]:
        return self.dispatch(Press(x, y), now)
