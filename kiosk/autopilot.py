"""Simulated students for the demo and tests: they tap badges and press the real buttons.

It drives the kiosk only through its inputs (the simulated reader and presses at button
centres), so the demo exercises exactly the path a finger does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from kiosk.machine import KioskMachine
from kiosk.readers.simulated import SimulatedReader
from kiosk.screens.base import Press, ScreenId


@dataclass
class SimulatedStudents:
    badges: list[str]
    seed: int = 0
    #: Mean seconds between one student leaving and the next tapping in.
    gap_s: float = 1.0
    #: Seconds a simulated student looks at a screen before pressing.
    think_s: float = 0.4
    active: bool = True
    #: Badges by group id: students mostly go where the rotation sends their group.
    groups: dict[str, list[str]] = field(default_factory=dict)
    #: How often a simulated student wanders to the wrong station anyway.
    wander: float = 0.1
    _rng: random.Random = field(init=False)
    _next_at: float = field(default=0.0, init=False)
    _seen_screen: tuple[ScreenId, float] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def step(self, machine: KioskMachine, reader: SimulatedReader, now: float) -> Press | None:
        """Act if it is time; returns a press for the app to deliver, or None."""
        screen = machine.screen_id
        if self._seen_screen is None or self._seen_screen[0] is not screen:
            self._seen_screen = (screen, now)
        if now - self._seen_screen[1] < self.think_s:
            return None
        if screen is ScreenId.IDLE:
            if self.active and now >= self._next_at and self.badges:
                reader.tap(self._rng.choice(self._candidates(machine)))
                self._next_at = now + self._rng.expovariate(1.0 / self.gap_s)
            return None
        if screen in (ScreenId.WELCOME, ScreenId.REFLECTION, ScreenId.CHOICE, ScreenId.UNKNOWN):
            buttons = machine.current.buttons(machine.ctx)
            if buttons:
                x, y = self._rng.choice(buttons).center
                return Press(x, y)
        if screen is ScreenId.GO:
            visit = machine.ctx.visit
            if visit is not None and visit.reply is not None:
                x, y = machine.current.buttons(machine.ctx)[0].center
                return Press(x, y)
        return None

    def _candidates(self, machine: KioskMachine) -> list[str]:
        plan = machine.ctx.plan()
        here = self.groups.get(plan.group_id, []) if plan is not None else []
        if here and self._rng.random() >= self.wander:
            return here
        return self.badges
