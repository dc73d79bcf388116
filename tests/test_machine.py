"""The kiosk's state machine, pure: events and ``now`` in, screens and effects out."""

from __future__ import annotations

import itertools

from broker import contract as c
from kiosk.machine import KioskMachine, SendHello, Signal, Speak, SubmitCheckIn
from kiosk.screens.base import Context, HubReply, Press, Say, ScreenId, Tap, hear_button
from kiosk.screens.go import GO_TO
from kiosk.screens.reflection import IDLE_TIMEOUT_S

ACTIVITIES = (c.Activity("read", "Read", "book"), c.Activity("write", "Write", "pencil"))


def machine() -> KioskMachine:
    counter = itertools.count()
    ctx = Context(station="s1", station_name="Station 1", fallback_activities=ACTIVITIES)
    return KioskMachine(ctx, lambda: f"{next(counter):032x}", now=0.0)


def reply(to: str, request: str, status: str = "accepted", **fields: object) -> HubReply:
    return HubReply(c.Reply(**c.envelope("hub"), in_reply_to=to, request=request,
                            status=status, **fields))


def press(m: KioskMachine, button_id: str, now: float) -> list:
    button = next(b for b in m.current.buttons(m.ctx) if b.id == button_id)
    return m.dispatch(Press(*button.center), now)


def test_a_whole_visit() -> None:
    m = machine()
    effects = m.dispatch(Tap("04AB12CD"), 1.0)
    assert m.screen_id is ScreenId.WELCOME
    hello = next(e for e in effects if isinstance(e, SendHello))
    assert Signal("tap") in effects
    m.dispatch(reply(hello.visit.hello_id, "hello", display_name="Ana R."), 1.1)
    assert m.ctx.visit.display_name == "Ana R."
    press(m, "next", 1.5)
    assert m.screen_id is ScreenId.REFLECTION
    press(m, "3", 2.0)
    assert m.ctx.visit.answers == {"confidence": 3}
    assert m.screen_id is ScreenId.CHOICE
    effects = press(m, "write", 3.0)
    assert m.screen_id is ScreenId.GO
    (submit,) = [e for e in effects if isinstance(e, SubmitCheckIn)]
    assert submit.visit.activity == "write" and submit.visit.checkin_id
    effects = m.dispatch(reply(submit.visit.checkin_id, "checkin", go_to="s2",
                               go_to_name="Computers"), 3.2)
    assert effects[0] == Signal("accepted")
    assert effects[1] == Speak((Say(GO_TO, (("station", "Computers"),)), Say("Done")), "en",
                               interrupt=False)  # "Saved!" was said already
    m.update(3.3)
    m.update(3.3 + 5.1)
    assert m.screen_id is ScreenId.IDLE and m.ctx.visit is None


def test_welcome_moves_on_without_the_network() -> None:
    m = machine()
    m.dispatch(Tap("04AB12CD"), 0.0)
    m.update(1.0)
    assert m.screen_id is ScreenId.WELCOME
    m.update(3.0)
    assert m.screen_id is ScreenId.REFLECTION


def test_unknown_badge_goes_to_the_teacher_screen() -> None:
    m = machine()
    effects = m.dispatch(Tap("DEADBEEF"), 0.0)
    hello = next(e for e in effects if isinstance(e, SendHello))
    effects = m.dispatch(reply(hello.visit.hello_id, "hello", "unknown_badge"), 0.1)
    assert m.screen_id is ScreenId.UNKNOWN and Signal("unknown") in effects
    press(m, "ok", 1.0)
    assert m.screen_id is ScreenId.IDLE


def test_a_rejected_check_in_signals_an_error_and_stays_on_the_go_screen() -> None:
    m = machine()
    m.dispatch(Tap("04AB12CD"), 0.0)
    press(m, "next", 0.5)
    press(m, "2", 1.0)
    (submit,) = [e for e in press(m, "read", 1.5) if isinstance(e, SubmitCheckIn)]
    effects = m.dispatch(reply(submit.visit.checkin_id, "checkin", "rejected",
                               reason="activity_not_on_menu"), 1.6)
    assert effects[0] == Signal("error")  # red light, the low buzz: not the happy chime
    assert [line.msgid for line in effects[1].lines] == ["Thank you!",
                                                         "Please tell your teacher.", "Done"]
    assert m.screen_id is ScreenId.GO and m.ctx.visit.reply.status == "rejected"
    m.update(1.7)
    m.update(1.7 + 5.1)
    assert m.screen_id is ScreenId.IDLE


def test_walking_away_forgets_the_visit_and_submits_nothing() -> None:
    m = machine()
    m.dispatch(Tap("04AB12CD"), 0.0)
    m.update(3.0)
    assert m.screen_id is ScreenId.REFLECTION
    effects = m.update(3.0 + IDLE_TIMEOUT_S + 0.1)
    assert m.screen_id is ScreenId.IDLE
    assert not any(isinstance(e, SubmitCheckIn) for e in effects)


def test_a_new_badge_starts_a_new_visit_but_the_same_badge_carries_on() -> None:
    m = machine()
    m.dispatch(Tap("04AB12CD"), 0.0)
    first = m.ctx.visit
    assert m.dispatch(Tap("04AB12CD"), 0.5) == []
    assert m.ctx.visit is first
    m.dispatch(Tap("0A0B0C0D"), 1.0)
    assert m.ctx.visit is not first and m.ctx.visit.badge == "0A0B0C0D"


def test_presses_outside_buttons_and_stale_replies_change_nothing() -> None:
    m = machine()
    m.dispatch(Tap("04AB12CD"), 0.0)
    m.update(3.0)
    assert m.dispatch(Press(5, 470), 3.1) == []
    assert m.screen_id is ScreenId.REFLECTION
    assert m.dispatch(reply("f" * 32, "checkin"), 3.2) == []
    assert m.screen_id is ScreenId.REFLECTION


def test_choice_board_uses_the_teachers_menu_when_known() -> None:
    m = machine()
    assert [b.id for b in m.screens[ScreenId.CHOICE].buttons(m.ctx)] == ["read", "write"]
    menu = tuple(c.Activity(f"a{i}", f"A{i}") for i in range(6))
    m.ctx.rotation = c.RotationState(**c.envelope("hub"), state="running", block=0, blocks=4,
                                     remaining_s=60, stations=(
                                         c.StationPlan("s1", "Reading", "independent", "Foxes",
                                                       menu),))
    buttons = m.screens[ScreenId.CHOICE].buttons(m.ctx)
    assert [b.id for b in buttons] == [a.id for a in menu]
    assert all(b.w >= 48 and b.h >= 48 for b in buttons)
    assert m.ctx.name_of_station() == "Reading"


# --- the student's own history, and what the screens say --------------------------------------

HISTORY = (c.PastReflection({"confidence": 1, "goal": 2}), c.PastReflection({"confidence": 3}))


def test_the_history_shows_after_the_welcome_and_goes_with_the_visit() -> None:
    m = machine()
    hello = next(e for e in m.dispatch(Tap("04AB12CD"), 0.0) if isinstance(e, SendHello))
    m.dispatch(reply(hello.visit.hello_id, "hello", display_name="Ana R.", history=HISTORY),
               0.1)
    assert m.ctx.visit.history == HISTORY
    press(m, "next", 0.5)
    assert m.screen_id is ScreenId.HISTORY
    m.dispatch(Press(5, 300), 0.7)  # one tap anywhere skips it
    assert m.screen_id is ScreenId.REFLECTION
    m.update(0.7 + IDLE_TIMEOUT_S)  # walks away
    assert m.screen_id is ScreenId.IDLE and m.ctx.visit is None
    # the next student, without history, goes straight to the question
    hello = next(e for e in m.dispatch(Tap("0A0B0C0D"), 50.0) if isinstance(e, SendHello))
    m.dispatch(reply(hello.visit.hello_id, "hello", display_name="Ben K."), 50.1)
    press(m, "next", 50.5)
    assert m.screen_id is ScreenId.REFLECTION and m.ctx.visit.history == ()


def test_history_moves_on_by_itself() -> None:
    m = machine()
    hello = next(e for e in m.dispatch(Tap("04AB12CD"), 0.0) if isinstance(e, SendHello))
    m.dispatch(reply(hello.visit.hello_id, "hello", history=HISTORY), 0.1)
    m.update(3.0)
    assert m.screen_id is ScreenId.HISTORY
    m.update(3.0 + 6.0)
    assert m.screen_id is ScreenId.REFLECTION


def spoken(effects: list) -> list[Speak]:
    return [e for e in effects if isinstance(e, Speak)]


def test_each_screen_speaks_when_it_appears_in_the_students_language() -> None:
    m = machine()
    (hi,) = spoken(m.dispatch(Tap("04AB12CD"), 0.0))
    assert [line.msgid for line in hi.lines] == ["Hi!", "Next"] and hi.interrupt
    hello = m.ctx.visit.hello_id
    (named,) = spoken(m.dispatch(reply(hello, "hello", display_name="Ana R.", language="es"),
                                 0.1))
    # the name, first name only and never kept on disk, replaces the plain greeting
    assert named.lines[0] == Say("Hi, {name}!", (("name", "Ana"),), private=True)
    assert named.language == "es" and named.interrupt
    assert spoken(m.update(0.2)) == []  # nothing new: nothing said again
    (question,) = spoken(press(m, "next", 0.5))
    assert [line.msgid for line in question.lines] == [
        "How sure do you feel?", "Not yet", "A little", "Mostly", "I've got it!"]
    (choice,) = spoken(press(m, "2", 1.0))
    assert [line.text for line in choice.lines[1:]] == ["Read", "Write"]


def test_the_hear_it_button_says_the_screen_again_and_changes_nothing() -> None:
    m = machine()
    m.dispatch(Tap("04AB12CD"), 0.0)
    press(m, "next", 0.5)
    before = (m.screen_id, dict(m.ctx.visit.answers))
    button = hear_button(m.ctx.layout)
    assert min(button.w, button.h) >= 64
    (again,) = spoken(m.dispatch(Press(*button.center), 1.0))
    assert again.interrupt and again.lines[0].msgid == "How sure do you feel?"
    assert (m.screen_id, m.ctx.visit.answers) == before
    # idle says nothing when it appears, but the button still works there
    m.update(1.0 + IDLE_TIMEOUT_S)
    assert m.screen_id is ScreenId.IDLE
    (tap,) = spoken(m.dispatch(Press(*button.center), 40.0))
    assert tap.lines[0].msgid == "Tap your badge"


def test_the_menu_and_the_place_in_the_students_language_with_fallback() -> None:
    menu = (c.Activity("read", "Read", "book", {"es": "Leer"}), c.Activity("quiz", "Quiz"))
    m = machine()
    m.ctx.rotation = c.RotationState(
        **c.envelope("hub"), state="running", block=0, blocks=2, remaining_s=60.0,
        stations=(c.StationPlan("s1", "Quiet corner", "independent", activities=menu),
                  c.StationPlan("s2", "Blue table", "collaborative",
                                names={"es": "Mesa azul"})))
    hello = next(e for e in m.dispatch(Tap("04AB12CD"), 0.0) if isinstance(e, SendHello))
    m.dispatch(reply(hello.visit.hello_id, "hello", language="es"), 0.1)
    press(m, "next", 0.5)
    (choice,) = spoken(press(m, "1", 1.0))
    assert [b.label for b in m.current.buttons(m.ctx)] == ["Leer", "Quiz"]
    assert [line.text for line in choice.lines[1:]] == ["Leer", "Quiz"]
    effects = press(m, "read", 2.0)
    submit = next(e for e in effects if isinstance(e, SubmitCheckIn))
    (go,) = spoken(m.dispatch(reply(submit.visit.checkin_id, "checkin", go_to="s2",
                                    go_to_name="Blue table"), 2.1))
    assert go.lines[0] == Say(GO_TO, (("station", "Mesa azul"),))


def test_the_hear_it_button_never_covers_a_screens_own_button() -> None:
    from kiosk.screens.base import Layout
    from kiosk.screenshots import scenes

    for size in ((800, 480), (1280, 720), (480, 800), (1920, 1080)):
        layout = Layout(*size)
        hear = hear_button(layout)
        assert min(hear.w, hear.h) >= layout.px(64)
        for name, m in scenes(layout):
            for b in m.current.buttons(m.ctx):
                apart = (b.x >= hear.x + hear.w or hear.x >= b.x + b.w or
                         b.y >= hear.y + hear.h or hear.y >= b.y + b.h)
                assert apart, f"{name} at {size}: {b.id} under the hear-it button"
