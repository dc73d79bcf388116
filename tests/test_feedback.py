"""Station lights, buzzer and buttons on gpiozero's mock pins."""

from __future__ import annotations

import time

import pytest

from kiosk.feedback import Feedback, Signal, Status

RED, GREEN, BLUE, BUZZER, OK = 17, 27, 22, 13, 5


@pytest.fixture
def factory():
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


@pytest.fixture
def feedback(factory):
    fb = Feedback(red=RED, green=GREEN, blue=BLUE, buzzer=BUZZER, buttons={"ok": OK},
                  idle="glow", signal_s=0.3, pin_factory=factory)
    yield fb
    fb.close()


def rgb(factory) -> tuple[float, float, float]:
    return tuple(round(factory.pin(p).state, 2) for p in (RED, GREEN, BLUE))


def test_idle_glow_then_accepted_is_green_with_one_short_beep(factory, feedback) -> None:
    assert rgb(factory) == (0.25, 0.25, 0.25)
    buzzer = factory.pin(BUZZER)
    buzzer.clear_states()
    feedback.show(Signal.ACCEPTED)
    assert rgb(factory) == (0.0, 1.0, 0.0)
    time.sleep(0.2)
    buzzer.assert_states_and_times([(0.0, 0.0), (0.0, 1.0), (0.1, 0.0)])
    time.sleep(0.2)
    assert rgb(factory) == (0.25, 0.25, 0.25)  # back to the base status


def test_unknown_is_red_with_two_beeps(factory, feedback) -> None:
    buzzer = factory.pin(BUZZER)
    buzzer.clear_states()
    feedback.show(Signal.UNKNOWN)
    assert rgb(factory) == (1.0, 0.0, 0.0)
    time.sleep(0.5)
    buzzer.assert_states_and_times([(0.0, 0.0), (0.0, 1.0), (0.1, 0.0), (0.1, 1.0),
                                    (0.1, 0.0)])
    assert len(buzzer.states) == 5


def test_show_does_not_block(feedback) -> None:
    started = time.monotonic()
    feedback.show(Signal.ERROR)
    assert time.monotonic() - started < 0.05


def test_fault_blinks_red_until_cleared(factory, feedback) -> None:
    red = factory.pin(RED)
    red.clear_states()
    feedback.set_status(Status.FAULT)
    time.sleep(1.2)
    red.assert_states_and_times([(0.0, 0.25), (0.0, 1.0), (0.5, 0.0), (0.5, 1.0)])
    assert factory.pin(GREEN).state == 0
    feedback.set_status(Status.IDLE)
    assert rgb(factory) == (0.25, 0.25, 0.25)


def test_offline_is_blue_and_a_signal_returns_to_it(factory, feedback) -> None:
    feedback.set_status(Status.OFFLINE)
    assert rgb(factory) == (0.0, 0.0, 1.0)
    feedback.show(Signal.ACCEPTED)
    assert rgb(factory) == (0.0, 1.0, 0.0)
    time.sleep(0.45)
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
        time.sleep(0.3)
        levels = {round(s.state, 3) for s in factory.pin(RED).states}
        assert len(levels) > 3 and max(levels) <= 0.25
    finally:
        fb.close()
