"""Station lights, buzzer and buttons on gpiozero's mock pins.

Nothing here is timed: a signal ends when the test fires its timer, and blinks and beeps
(gpiozero's own background threads) are checked by the states they go through, waited for
rather than timed, so a slow CPU (arm64 under emulation) passes as a fast one does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from kiosk.feedback import Feedback, Signal, Status
from tests.conftest import wait_until

RED, GREEN, BLUE, BUZZER, OK = 17, 27, 22, 13, 5


@dataclass
class Pending:
    seconds: float
    fn: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """``after`` for Feedback: remembers each timer; the test fires it."""

    def __init__(self) -> None:
        self.started: list[Pending] = []

    def __call__(self, seconds: float, fn: Callable[[], None]) -> Pending:
        self.started.append(Pending(seconds, fn))
        return self.started[-1]

    @property
    def pending(self) -> list[Pending]:
        return [t for t in self.started if not t.cancelled]

    def fire(self, timer: Pending | None = None) -> None:
        """The time is up: for ``timer`` (even a cancelled one), else the last one started."""
        (timer or self.started[-1]).fn()


@pytest.fixture
def factory():
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


@pytest.fixture
def timers() -> Timers:
    return Timers()


@pytest.fixture
def feedback(factory, timers):
    fb = Feedback(red=RED, green=GREEN, blue=BLUE, buzzer=BUZZER, buttons={"ok": OK},
                  idle="glow", signal_s=0.3, pin_factory=factory, after=timers)
    yield fb
    fb.close()


def rgb(factory) -> tuple[float, float, float]:
    return tuple(round(factory.pin(p).state, 2) for p in (RED, GREEN, BLUE))


def states(pin) -> list[float]:
    return [round(s.state, 2) for s in pin.states]


def beeps_when_done(pin, count: int) -> list[float]:
    """The buzzer's states once ``count`` beeps have come and gone."""
    wait_until(lambda: states(pin).count(1.0) >= count and pin.state == 0.0)
    return states(pin)


def test_idle_glow_then_accepted_is_green_with_one_short_beep(factory, feedback,
                                                               timers) -> None:
    assert rgb(factory) == (0.25, 0.25, 0.25)
    buzzer = factory.pin(BUZZER)
    buzzer.clear_states()
    feedback.show(Signal.ACCEPTED)
    assert rgb(factory) == (0.0, 1.0, 0.0)
    assert beeps_when_done(buzzer, 1) == [0.0, 1.0, 0.0]  # one beep
    assert [t.seconds for t in timers.pending] == [0.3]  # green for signal_s
    timers.fire()
    assert rgb(factory) == (0.25, 0.25, 0.25)  # back to the base status


@pytest.mark.parametrize("signal, beeps", [(Signal.UNKNOWN, 2), (Signal.ERROR, 1)])
def test_unknown_and_error_are_red_told_apart_by_their_beeps(factory, feedback,
                                                             signal: Signal,
                                                             beeps: int) -> None:
    buzzer = factory.pin(BUZZER)
    buzzer.clear_states()
    feedback.show(signal)
    assert rgb(factory) == (1.0, 0.0, 0.0)
    assert beeps_when_done(buzzer, beeps) == [0.0] + [1.0, 0.0] * beeps


def test_show_does_not_wait_for_the_signal_to_end(factory, feedback, timers) -> None:
    feedback.show(Signal.ERROR)
    # show() returned and the signal is still on: it did not wait for its end.
    assert len(timers.pending) == 1 and rgb(factory) == (1.0, 0.0, 0.0)
    timers.fire()
    assert rgb(factory) == (0.25, 0.25, 0.25)


def test_a_new_signal_replaces_the_one_showing(factory, feedback, timers) -> None:
    feedback.show(Signal.ERROR)
    first = timers.started[0]
    feedback.show(Signal.ACCEPTED)
    assert first.cancelled and len(timers.pending) == 1
    timers.fire(first)  # its thread was already running when it was cancelled
    assert rgb(factory) == (0.0, 1.0, 0.0)  # the newer signal is left alone
    timers.fire()
    assert rgb(factory) == (0.25, 0.25, 0.25)


def test_fault_blinks_red_until_cleared(factory, feedback) -> None:
    red = factory.pin(RED)
    red.clear_states()
    feedback.set_status(Status.FAULT)
    assert wait_until(lambda: len(states(red)) >= 5)
    seen = states(red)
    assert seen[:5] == [0.25, 1.0, 0.0, 1.0, 0.0]  # on, off, on, off: blinking
    assert factory.pin(GREEN).state == 0
    feedback.set_status(Status.IDLE)
    assert rgb(factory) == (0.25, 0.25, 0.25)


def test_offline_is_blue_and_a_signal_returns_to_it(factory, feedback, timers) -> None:
    feedback.set_status(Status.OFFLINE)
    assert rgb(factory) == (0.0, 0.0, 1.0)
    feedback.show(Signal.ACCEPTED)
    assert rgb(factory) == (0.0, 1.0, 0.0)
    feedback.set_status(Status.IDLE)  # the base changes under a signal: shown after it
    assert rgb(factory) == (0.0, 1.0, 0.0)
    feedback.set_status(Status.OFFLINE)
    timers.fire()
    assert rgb(factory) == (0.0, 0.0, 1.0)


def test_button_press_reaches_the_callback_by_name(factory, feedback) -> None:
    pressed = []
    feedback.on_button(pressed.append)
    pin = factory.pin(OK)
    pin.drive_low()  # pulled up: pressing connects it to ground
    pin.drive_high()
    assert pressed == ["ok"]


def test_common_anode_inverts_the_pins(factory) -> None:
    fb = Feedback(red=RED, green=GREEN, blue=BLUE, common_anode=True, idle="off",
                  pin_factory=factory)
    try:
        assert rgb(factory) == (1.0, 1.0, 1.0)
        fb.show(Signal.ACCEPTED)
        assert rgb(factory) == (1.0, 0.0, 1.0)
    finally:
        fb.close()


def test_breathing_idle_changes_the_light(factory) -> None:
    fb = Feedback(red=RED, green=GREEN, blue=BLUE, pin_factory=factory)
    try:
        red = factory.pin(RED)
        assert wait_until(lambda: len(set(states(red))) > 3)
        assert max(states(red)) <= 0.25
    finally:
        fb.close()
