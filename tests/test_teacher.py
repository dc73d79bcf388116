"""The teacher view needs the teacher: a PIN on the keypad (or the console), back-off after
wrong PINs, and the view closes after its time and at once when the screen is left alone.

The hub service runs for real (its ingest thread's work is driven with ``step``; the PIN is
checked by scrypt on its own thread), the display is drawn and read (tests/hub_screen.py).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from hub.actions import TeacherAction
from hub.controls import KEY_MIN, Controls
from hub.pin import check_pin, hash_pin, parse_pin_hash, verify_pin
from hub.screenshots import scene
from hub.service import HubService
from hub.teacher import FREE_TRIES, PAUSE_MAX_S, PAUSE_S, TeacherAccess
from stations.cli import main
from tests.conftest import wait_until
from tests.hub_screen import screen_text

PIN = "1234"  # what hub.screenshots.scene sets, as the demo does
W, H = 1280, 720
#: What only the teacher view draws.
TEACHER_ONLY = ("TEACHER VIEW", "Reflection flags", "low confidence")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubService]:
    pygame.init()
    service = scene(tmp_path)
    service.lock_teacher_view()  # the scene's teacher had it open: start locked
    service.step(0)
    try:
        yield service
    finally:
        service.store.db.close()
        pygame.quit()


def press(c: Controls, hub: HubService, ident: str, now: float) -> None:
    """Touch the button ``ident`` at its centre and hand the actions to the service."""
    b = next(b for b in c.buttons(hub.view, W, H) if b.id == ident)
    for action in c.press(b.x + b.w // 2, b.y + b.h // 2, hub.view, W, H, now):
        hub.act(action)


def type_pin(c: Controls, hub: HubService, pin: str, now: float) -> None:
    """Open the keypad if needed, type ``pin`` on it, press OK, wait for the answer."""
    if c.dialog != "pin":
        press(c, hub, "view", now)
    assert c.dialog == "pin"
    for digit in pin:
        press(c, hub, f"digit:{digit}", now)
    before = hub.view.access.attempts
    press(c, hub, "pin_ok", now)
    if c.pin_sent_at >= 0:  # sent: the answer comes from the service's PIN thread
        assert wait_until(lambda: hub.view.access.attempts > before, timeout=10,
                          step=lambda: hub.step(0.05))
    c.update(hub.view, now)


def shown(c: Controls, hub: HubService, now: float) -> str:
    return screen_text(hub.view, c, now)


def test_a_pin_is_stored_as_a_salted_scrypt_hash_never_as_itself() -> None:
    stored = hash_pin("482913")
    assert "482913" not in stored and stored.startswith("$scrypt$ln=15,r=8,p=1$")
    assert stored != hash_pin("482913")  # salted
    assert verify_pin("482913", stored) and not verify_pin("482914", stored)
    for plain in ("482913", "scrypt:482913", "$scrypt$ln=15,r=8,p=1$AAAA$BBBB"):
        with pytest.raises(ValueError):
            parse_pin_hash(plain)
    for bad in ("12", "12a4", "1234567890123", "１２３４"):
        with pytest.raises(ValueError):
            check_pin(bad)


def test_a_wrong_pin_shows_nothing_and_the_right_one_opens_the_teacher_view(hub, caplog) -> None:
    now = hub.view.at
    c = Controls()
    # locked: even controls that believe they are in the teacher view draw the class view
    assert not any(t in shown(Controls(teacher=True), hub, now) for t in TEACHER_ONLY)
    caplog.set_level(logging.INFO, logger="hub.service")
    type_pin(c, hub, "9999", now)
    screen = shown(c, hub, now)
    assert "Wrong PIN" in screen and not any(t in screen for t in TEACHER_ONLY)
    assert not c.teacher and not hub.view.access.unlocked(now)
    type_pin(c, hub, PIN, now)
    assert c.teacher and c.dialog == ""
    screen = shown(c, hub, now)
    assert all(t in screen for t in TEACHER_ONLY)
    # the PIN is never logged or shown
    assert "9999" not in caplog.text and PIN not in caplog.text
    assert "wrong teacher PIN" in caplog.text and "unlocked by PIN" in caplog.text
    assert PIN not in repr(TeacherAction("teacher_pin", pin=PIN))


def test_repeated_wrong_pins_pause_the_keypad(hub) -> None:
    now = hub.view.at
    c = Controls(idle_s=1e9)
    for _ in range(FREE_TRIES):
        type_pin(c, hub, "0000", now)
    access = hub.view.access
    assert access.failures == FREE_TRIES and access.paused_until == now + PAUSE_S
    keys = [b for b in c.buttons(hub.view, W, H) if b.id.startswith(("digit:", "pin_"))]
    assert keys and all(b.style == "off" for b in keys)
    assert "try again in 30 s" in shown(c, hub, now)
    # while paused even the right PIN is not checked: the keys do nothing
    type_pin(c, hub, PIN, now + 10)
    assert hub.view.access.attempts == FREE_TRIES and not c.teacher
    # the service refuses it too, whoever sends it
    hub.act(TeacherAction("teacher_pin", pin=PIN))
    hub.step(0.3)
    assert hub.view.access.attempts == FREE_TRIES
    hub.clock = lambda: now + PAUSE_S + 1
    hub.step(0)
    type_pin(c, hub, PIN, now + PAUSE_S + 1)
    assert c.teacher and hub.view.access.failures == 0


def test_the_pause_doubles_with_every_further_wrong_pin_up_to_five_minutes() -> None:
    access = TeacherAccess(pin_set=True, timeout_s=120)
    pauses = []
    for k in range(8):
        access.checked(False, 1000.0 * k)
        pauses.append(max(0.0, access.paused_until - 1000.0 * k))
    assert pauses == [0, 0, PAUSE_S, 2 * PAUSE_S, 4 * PAUSE_S, 8 * PAUSE_S, PAUSE_MAX_S,
                      PAUSE_MAX_S]


def test_the_teacher_view_falls_back_to_the_class_view_after_the_configured_time(hub) -> None:
    now = hub.view.at
    c = Controls(idle_s=1e9)
    type_pin(c, hub, PIN, now)
    assert c.teacher
    later = now + hub.config.teacher_timeout_s + 1
    c.key("down", hub.view, W, H, later)  # the teacher is still there, busy
    c.update(hub.view, later)
    assert not c.teacher
    assert not any(t in shown(c, hub, later) for t in TEACHER_ONLY)
    press(c, hub, "view", later)
    assert c.dialog == "pin"  # the PIN again


def test_the_teacher_view_closes_at_once_when_the_screen_is_left_alone(hub) -> None:
    now = hub.view.at
    c = Controls(idle_s=hub.config.teacher_idle_s)
    type_pin(c, hub, PIN, now)
    assert c.teacher
    quiet = now + hub.config.teacher_idle_s - 1
    assert c.update(hub.view, quiet) == [] and c.teacher  # not yet
    alone = now + hub.config.teacher_idle_s
    actions = c.update(hub.view, alone)
    assert actions == [TeacherAction("lock_teacher_view")] and not c.teacher
    for action in actions:
        hub.act(action)
    hub.step(0)
    assert not hub.view.access.unlocked(alone)  # locked, not just hidden
    # a keypad left half-typed is cleared too
    press(c, hub, "view", alone)
    press(c, hub, "digit:1", alone)
    c.update(hub.view, alone + hub.config.teacher_idle_s)
    assert c.dialog == "" and c.pin_entry == ""


def test_going_back_to_the_class_view_locks_it(hub) -> None:
    now = hub.view.at
    c = Controls(idle_s=1e9)
    type_pin(c, hub, PIN, now)
    press(c, hub, "view", now + 1)  # "Class view"
    hub.step(0)
    assert not c.teacher and not hub.view.access.unlocked(now + 1)
    press(c, hub, "view", now + 2)
    assert c.dialog == "pin"


def test_the_console_hook_unlocks_the_teacher_view_without_a_pin(hub) -> None:
    now = hub.view.at
    c = Controls(idle_s=30)
    hub.unlock_teacher_view(now + 600)  # what the signed-in teacher console calls
    hub.step(0)
    c.update(hub.view, now)
    press(c, hub, "view", now + 5)
    assert c.teacher and c.dialog == ""
    assert "Reflection flags" in shown(c, hub, now + 5)
    hub.lock_teacher_view()  # the console signs out
    hub.step(0)
    c.update(hub.view, now + 6)
    assert not c.teacher


def test_an_unlock_nobody_uses_ends_when_the_screen_is_left_alone(hub) -> None:
    now = hub.view.at
    c = Controls(idle_s=30)
    hub.unlock_teacher_view(now + 600)
    hub.step(0)
    assert c.update(hub.view, now) == []
    assert c.update(hub.view, now + 30) == [TeacherAction("lock_teacher_view")]


@pytest.mark.parametrize("size", [(1024, 600), (1280, 720), (1920, 1080)])
def test_the_keypad_keys_are_large_enough_to_touch(hub, size) -> None:
    w, h = size
    keys = Controls(dialog="pin").buttons(hub.view, w, h)
    assert len(keys) == 13  # 0-9, Delete, OK, Cancel
    for b in keys:
        assert b.w >= KEY_MIN and b.h >= KEY_MIN, b
        assert b.x >= 0 and b.x + b.w <= w and b.y >= 0 and b.y + b.h <= h, b
    for a in keys:
        for b in keys:
            assert a is b or not (a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h
                                  and b.y < a.y + a.h), (a, b)


def test_the_pin_can_be_typed_on_a_keyboard(hub) -> None:
    now = hub.view.at
    c = Controls()
    c.key("t", hub.view, W, H, now)
    assert c.dialog == "pin"
    for name in ("1", "[2]", "3", "9", "backspace", "4"):
        c.key(name, hub.view, W, H, now)
    (action,) = c.key("return", hub.view, W, H, now)
    assert (action.action, action.pin) == ("teacher_pin", "1234")


def test_without_a_pin_only_the_console_unlocks(tmp_path: Path) -> None:
    from hub.config import load_hub_config
    from hub.screenshots import ROOM

    (tmp_path / "roster.toml").write_text((ROOM / "roster.toml").read_text())
    (tmp_path / "hub.toml").write_text((ROOM / "hub.toml").read_text())
    hub = HubService(load_hub_config(tmp_path / "hub.toml"))
    try:
        assert hub.config.teacher_pin_hash is None
        c = Controls()
        c.key("t", hub.view, W, H, hub.view.at)
        assert "stations teacher pin" in c.pin_hint(hub.view, hub.view.at)
        assert all(b.style == "off" for b in c.buttons(hub.view, W, H) if b.id != "close")
    finally:
        hub.store.db.close()


def test_stations_teacher_pin_prints_a_hash_never_the_pin(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("482913\n"))
    assert main(["teacher", "pin", "--stdin"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith('teacher_pin_hash = "$scrypt$') and "482913" not in out
    assert verify_pin("482913", out.split('"')[1])
    # asked twice at a terminal; two different answers change nothing
    answers = iter(["482913", "482914"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["teacher", "pin"]) == 2
    captured = capsys.readouterr()
    assert "differ" in captured.err and captured.out == ""
    monkeypatch.setattr("sys.stdin", io.StringIO("12ab\n"))
    assert main(["teacher", "pin", "--stdin"]) == 2
    assert "digits only" in capsys.readouterr().err


# --- badges and the lesson's end need the teacher -----------------------------------------------

#: What a student at the shared screen must not reach.
BADGE_AND_END = ("Enroll badge", "Lost badge", "End")


def test_the_class_view_offers_no_badge_or_end_controls(hub) -> None:
    now = hub.view.at
    student = next(iter(hub.view.student_names))
    c = Controls(idle_s=1e9)
    for controls in (c, Controls(dialog="student", student=student)):
        ids = {b.id for b in controls.buttons(hub.view, W, H)}
        assert not ids & {"end", "enroll", "revoke"}, ids
        lines = shown(controls, hub, now).splitlines()
        assert not [t for t in BADGE_AND_END if t in lines]
    assert c.key("b", hub.view, W, H, now) == [] and c.dialog == ""  # no shortcut either
    assert c.key("e", hub.view, W, H, now) == [] and c.dialog == ""
    type_pin(c, hub, PIN, now)  # the teacher view has them
    assert {"end", "enroll"} <= {b.id for b in c.buttons(hub.view, W, H)}
    c.dialog, c.student = "student", student
    assert "revoke" in {b.id for b in c.buttons(hub.view, W, H)}
    # and an enrollment left open closes with the teacher view
    c.dialog = "enroll"
    hub.lock_teacher_view()
    hub.step(0)
    c.update(hub.view, now + 1)
    assert not c.teacher and c.dialog == ""


def test_the_service_refuses_badges_and_end_from_a_locked_display(hub) -> None:
    now = hub.view.at
    view = hub.view
    ana = next(iter(view.student_names))
    spare = view.enrollment.offers[0].badge
    held = [b.badge for b in hub.roster.badges_of(ana)]
    assert held and hub.rotation.phase.value == "running"
    forged = [TeacherAction("enroll", badge=spare, student=ana),
              TeacherAction("reassign", badge=spare, student=ana),
              TeacherAction("revoke", badge=held[0]),
              TeacherAction("revoke_student", student=ana),
              TeacherAction("end"),
              TeacherAction("enroll_start"),
              TeacherAction("unlock_teacher_view", until=now + 600)]
    answers = [hub.act(a) for a in forged]
    hub.step(0)
    assert all("teacher" in f.result(5) for f in answers), [f.result(5) for f in answers]
    assert hub.roster.student_for_badge(spare) is None
    assert [b.badge for b in hub.roster.badges_of(ana)] == held
    assert hub.rotation.phase.value == "running"
    assert not hub.view.access.unlocked(now)
    assert "Only the teacher" in hub.view.message and spare[-4:] not in hub.view.message
    # with the teacher view unlocked by the PIN, the display may
    c = Controls(idle_s=1e9)
    type_pin(c, hub, PIN, now)
    done = hub.act(TeacherAction("enroll", badge=spare, student=ana))
    hub.step(0)
    assert done.result(5) == "" and hub.roster.student_for_badge(spare).id == ana
    # and a signed-in console's actions never needed it
    hub.lock_teacher_view()
    hub.step(0)
    ended = hub.teacher("revoke", badge=spare)
    hub.step(0)
    assert ended.result(5) == "" and hub.roster.student_for_badge(spare) is None
