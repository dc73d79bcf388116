"""Every kiosk screen renders under SDL's dummy driver, checked by pixels, at every size."""

from __future__ import annotations

import itertools

import pygame
import pytest

from broker import contract as c
from kiosk.i18n import translator
from kiosk.machine import KioskMachine
from kiosk.screens.base import MIN_TARGET, Button, Context, Layout, ScreenId, Visit, hear_button
from stations.ui.painter import PALETTE, Painter

SIZES = [(800, 480), (1280, 720), (1920, 1080), (480, 800)]


@pytest.fixture(scope="module", autouse=True)
def _pygame():
    pygame.init()
    yield
    pygame.quit()


def rotation_state(questions: tuple[str, ...] = ("confidence",), *,
                   moving_s: float = 0.0) -> c.RotationState:
    menu = (c.Activity("read", "Read", "book"), c.Activity("write", "Write", "pencil"),
            c.Activity("quiz", "Quiz", "star"))
    return c.RotationState(**c.envelope("hub"), state="running", block=1, blocks=4,
                           remaining_s=125, questions=questions, moving_s=moving_s,
                           stations=(
                               c.StationPlan("s1", "Quiet corner", "independent", "Foxes", menu,
                                             colour="green", icon="book"),
                               c.StationPlan("s2", "Blue table", "collaborative", "Owls",
                                             colour="blue", icon="people")))


def setup(size: tuple[int, int] = (800, 480), *, online: bool = True,
          visit: Visit | None = None, questions: tuple[str, ...] = ("confidence",)
          ) -> tuple[KioskMachine, Context]:
    counter = itertools.count()
    ctx = Context(station="s1", station_name="Station 1", fallback_activities=(),
                  layout=Layout(*size), online=online, rotation=rotation_state(questions))
    machine = KioskMachine(ctx, lambda: f"{next(counter):032x}", 0.0)
    ctx.visit = visit or Visit("04AB12CD", 0.0, display_name="Ana R.", avatar="orange")
    return machine, ctx


def render(screen: ScreenId, size: tuple[int, int] = (800, 480), language: str = "en",
           **kw: object) -> pygame.Surface:
    machine, ctx = setup(size, **kw)  # type: ignore[arg-type]
    surface = pygame.Surface(size)
    machine.screens[screen].enter(ctx, 0.0)
    machine.screens[screen].draw(ctx, Painter(surface, translator(language)), 0.0)
    return surface


def count(surface: pygame.Surface, role: str, rect: tuple[int, int, int, int]) -> int:
    colour = pygame.Color(*PALETTE[role])
    x0, y0, w, h = rect
    step = max(2, surface.get_width() // 400)
    return sum(1 for x in range(x0, min(x0 + w, surface.get_width()), step)
               for y in range(y0, min(y0 + h, surface.get_height()), step)
               if surface.get_at((x, y)) == colour)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(ScreenId))
def test_every_screen_draws_its_frame_and_content(screen: ScreenId, size: tuple[int, int]
                                                  ) -> None:
    w, h = size
    surface = render(screen, size)
    assert surface.get_at((w // 2, 5)) == pygame.Color(*PALETTE["bar"])  # the top strip
    body = (0, h // 8, w, h - h // 8)
    assert count(surface, "accent", body) + count(surface, "good", body) > 100  # pictures
    assert count(surface, "text", body) > 80  # words


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(ScreenId))
def test_targets_are_large_inside_the_screen_and_off_the_bottom_edge(
        screen: ScreenId, size: tuple[int, int]) -> None:
    machine, ctx = setup(size)
    L = ctx.layout
    buttons = machine.screens[screen].buttons(ctx)
    surface = render(screen, size)
    for b in buttons:
        assert b.w >= L.px(MIN_TARGET) and b.h >= L.px(MIN_TARGET)
        assert b.x >= 0 and b.x + b.w <= L.w and b.y >= L.bar_h
        assert b.y + b.h <= L.bottom  # nothing pressable along the bottom edge
        assert b.label and b.icon  # every label has a picture
        # drawn where it is pressed: fill inside, blue edge on the rim
        assert surface.get_at((b.x + b.w // 2, b.y + 8 * L.px(1))) == pygame.Color(
            *PALETTE["button"])
        assert surface.get_at((b.x + 1, b.y + b.h // 2)) == pygame.Color(
            *PALETTE["button_edge"])
    for a, b in itertools.combinations(buttons, 2):  # and never overlapping
        assert a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y


class WithoutHearIt(Painter):
    """The real painter, leaving out the "hear it" button: what is left in its place is what
    the screen itself drew there."""

    def icon_button(self, button: Button) -> None:
        if button.id != "hear":
            super().icon_button(button)


def _moving(ctx: Context) -> None:
    ctx.rotation = rotation_state(moving_s=45.0)
    ctx.rotation_at = 0.0


def _noticed(ctx: Context) -> None:
    ctx.notice = c.Notice(**c.envelope("hub"), event="move", remaining_s=0)
    ctx.notice_at = 0.0


@pytest.mark.parametrize("state", [None, _moving, _noticed], ids=["quiet", "moving", "notice"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(ScreenId))
def test_nothing_is_drawn_where_the_hear_it_button_is(screen: ScreenId, size: tuple[int, int],
                                                      state) -> None:  # type: ignore[no-untyped-def]
    """Pre-readers hear where to go with it, most of all while the class moves: no board,
    banner or button of the screen's own lies over it (or hides under it)."""
    machine, ctx = setup(size)
    if state is not None:
        state(ctx)
    current = machine.screens[screen]
    current.enter(ctx, 0.0)
    shown, without = pygame.Surface(size), pygame.Surface(size)
    current.draw(ctx, Painter(shown), 1.0)
    current.draw(ctx, WithoutHearIt(without), 1.0)
    hear = hear_button(ctx.layout)
    background = pygame.Color(*PALETTE["background"])
    drawn = [(x, y) for x in range(hear.x, hear.x + hear.w) for y in range(hear.y, hear.y + hear.h)
             if without.get_at((x, y)) != background]
    assert drawn == [], f"{screen.value} draws {len(drawn)} pixels where 'hear it' is"
    assert count(shown, "button_edge", (hear.x, hear.y, hear.w, hear.h)) > hear.w  # it is there
    for b in current.buttons(ctx):  # and no button of the screen's own is pressed through it
        assert (b.x + b.w <= hear.x or hear.x + hear.w <= b.x or b.y + b.h <= hear.y
                or hear.y + hear.h <= b.y)


def test_offline_indicator_shows_only_when_offline() -> None:
    corner = (800 - 150, 0, 150, 56)
    assert count(render(ScreenId.IDLE, online=False), "warn", corner) > 20
    assert count(render(ScreenId.IDLE, online=True), "warn", corner) == 0


def test_station_colour_and_countdown_in_the_strip() -> None:
    surface = render(ScreenId.IDLE)
    assert count(surface, "green", (0, 0, 60, 56)) > 20  # this station's colour disc
    assert count(surface, "bar_text", (620, 0, 180, 56)) > 30  # 2:05


def test_spanish_text_differs_from_english() -> None:
    en, es = render(ScreenId.IDLE), render(ScreenId.IDLE, language="es")
    diff = sum(1 for x in range(0, 800, 2) for y in range(330, 420, 2)
               if en.get_at((x, y)) != es.get_at((x, y)))
    assert diff > 100


def test_welcome_shows_the_avatar_colour_once_named() -> None:
    named = render(ScreenId.WELCOME)
    anonymous = render(ScreenId.WELCOME, visit=Visit("04AB12CD", 0.0))
    assert count(named, "orange", (300, 60, 200, 180)) > 200
    assert count(anonymous, "orange", (300, 60, 200, 180)) == 0


def test_go_screen_names_the_place_with_its_colour() -> None:
    visit = Visit("04AB12CD", 0.0)
    waiting = render(ScreenId.GO, visit=visit)
    visit.reply = c.Reply(**c.envelope("hub"), in_reply_to="0" * 32, request="checkin",
                          status="accepted", display_name="Ana R.", go_to="s2",
                          go_to_name="Blue table")
    answered = render(ScreenId.GO, visit=visit)
    swatch = (50, 210, 120, 120)
    assert count(answered, "blue", swatch) > 100 and count(waiting, "blue", swatch) == 0
    line = (190, 230, 560, 80)
    assert count(answered, "text", line) > count(waiting, "text", line) + 100


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_rejected_check_in_is_not_called_saved(language: str) -> None:
    """No green tick and "Saved!", but thanks and the teacher, in the student's language."""
    visit = Visit("04AB12CD", 0.0)
    visit.reply = c.Reply(**c.envelope("hub"), in_reply_to="0" * 32, request="checkin",
                          status="accepted")
    saved = render(ScreenId.GO, visit=visit, language=language)
    visit.reply = c.Reply(**c.envelope("hub"), in_reply_to="0" * 32, request="checkin",
                          status="rejected", reason="activity_not_on_menu")
    rejected = render(ScreenId.GO, visit=visit, language=language)
    tick = (50, 80, 120, 120)
    assert count(saved, "good", tick) > 50 and count(rejected, "good", tick) == 0
    assert count(rejected, "accent", tick) > 50  # the hand instead
    assert count(rejected, "accent", (50, 210, 120, 120)) > 50  # the teacher
    lines = (190, 90, 600, 260)
    assert count(rejected, "text", lines) > 200
    tr = translator(language)
    assert tr("Please tell your teacher.") != "" and tr("Thank you!") != ""
    if language == "es":
        assert tr("Thank you!") == "¡Gracias!"


@pytest.mark.parametrize("screen", [ScreenId.IDLE, ScreenId.REFLECTION, ScreenId.CHOICE])
def test_a_notice_from_the_hub_is_a_banner_on_any_screen(screen: ScreenId) -> None:
    """The top strip turns orange with the notice: nothing the screen asks is covered."""
    machine, ctx = setup()
    machine.current = machine.screens[screen]
    quiet = pygame.Surface((800, 480))
    machine.current.draw(ctx, Painter(quiet), 1.0)
    ctx.notice = c.Notice(**c.envelope("hub"), event="warning", remaining_s=120)
    ctx.notice_at = 0.0
    surface = pygame.Surface((800, 480))
    machine.current.draw(ctx, Painter(surface), 1.0)
    assert count(surface, "notice", (0, 0, 800, 56)) > 1000
    below = [(x, y) for x in range(0, 800, 2) for y in range(56, 480, 2)
             if surface.get_at((x, y)) != quiet.get_at((x, y))]
    assert below == []  # the screen itself is untouched
    machine.current.draw(ctx, Painter(surface), 60.0)  # gone after a while
    assert count(surface, "notice", (0, 0, 800, 56)) == 0


def test_questions_come_from_the_hub_one_after_another() -> None:
    machine, ctx = setup(questions=("confidence", "goal", "mood", "no-such"))
    machine._go(ScreenId.REFLECTION, 0.0)
    for expected in ("confidence", "goal", "mood"):
        assert machine.screen_id is ScreenId.REFLECTION
        button = machine.current.buttons(ctx)[3]
        machine.press(*button.center, 1.0)
        assert ctx.visit.answers[expected] == 4
    assert machine.screen_id is ScreenId.CHOICE  # the unknown id was skipped
