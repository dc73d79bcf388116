"""Every kiosk screen and the hub display render under SDL's dummy driver, checked by pixels."""

from __future__ import annotations

import itertools

import pygame
import pytest

from broker import contract as c
from hub.display import HEIGHT as HUB_H
from hub.display import WIDTH as HUB_W
from hub.display import draw_hub
from hub.ingest import Arrival
from hub.rotation import Phase, RotationSnapshot
from hub.service import HubView
from kiosk.i18n import translator
from kiosk.machine import KioskMachine
from kiosk.screens.base import HEIGHT, WIDTH, Context, ScreenId, Visit
from stations.ui.painter import PALETTE, Painter


@pytest.fixture(scope="module", autouse=True)
def _pygame():
    pygame.init()
    yield
    pygame.quit()


def rotation_state() -> c.RotationState:
    menu = (c.Activity("read", "Read", "book"), c.Activity("write", "Write", "pencil"),
            c.Activity("quiz", "Quiz", "star"))
    return c.RotationState(**c.envelope("hub"), state="running", block=1, blocks=4,
                           remaining_s=125, stations=(c.StationPlan("s1", "Quiet corner",
                                                                    "independent", "Foxes", menu),))


def render(screen: ScreenId, *, online: bool = True, language: str = "en",
           visit: Visit | None = None) -> pygame.Surface:
    counter = itertools.count()
    ctx = Context(station="s1", station_name="Station 1", fallback_activities=(),
                  online=online, rotation=rotation_state(), rotation_at=0.0)
    machine = KioskMachine(ctx, lambda: f"{next(counter):032x}", 0.0)
    surface = pygame.Surface((WIDTH, HEIGHT))
    ctx.visit = visit or Visit("04AB12CD", 0.0, display_name="Ana R.")
    machine.screens[screen].enter(ctx, 0.0)
    machine.screens[screen].draw(ctx, Painter(surface, translator(language)), 0.0)
    return surface


def count(surface: pygame.Surface, role: str, rect: tuple[int, int, int, int]) -> int:
    colour = pygame.Color(*PALETTE[role])
    x0, y0, w, h = rect
    return sum(1 for x in range(x0, x0 + w, 2) for y in range(y0, y0 + h, 2)
               if surface.get_at((x, y)) == colour)


@pytest.mark.parametrize("screen", list(ScreenId))
def test_every_screen_draws_its_frame_and_content(screen: ScreenId) -> None:
    surface = render(screen)
    assert surface.get_at((400, 20)) == pygame.Color(*PALETTE["bar"])  # the top strip
    assert surface.get_at((400, 470))[:3] != (0, 0, 0)  # painted to the bottom edge
    body = (0, 60, WIDTH, HEIGHT - 60)
    assert count(surface, "accent", body) + count(surface, "good", body) > 200  # icons
    assert count(surface, "text", body) > 150  # words


@pytest.mark.parametrize("screen", [ScreenId.REFLECTION, ScreenId.CHOICE])
def test_answer_buttons_are_big_and_drawn_where_they_are_pressed(screen: ScreenId) -> None:
    counter = itertools.count()
    ctx = Context(station="s1", station_name="S", fallback_activities=(),
                  rotation=rotation_state())
    machine = KioskMachine(ctx, lambda: f"{next(counter):032x}", 0.0)
    buttons = machine.screens[screen].buttons(ctx)
    assert len(buttons) == 3
    surface = render(screen)
    for b in buttons:
        assert b.w >= 120 and b.h >= 120  # far above the 48 px minimum: young children
        assert surface.get_at((b.x + 10, b.y + b.h // 2)) == pygame.Color(*PALETTE["button"])
        assert surface.get_at((b.x + 1, b.y + b.h // 2)) == pygame.Color(*PALETTE["button_edge"])


def test_offline_indicator_shows_only_when_offline() -> None:
    corner = (WIDTH - 150, 0, 150, 56)
    assert count(render(ScreenId.IDLE, online=False), "warn", corner) > 20
    assert count(render(ScreenId.IDLE, online=True), "warn", corner) == 0


def test_countdown_is_drawn_from_the_rotation() -> None:
    surface = render(ScreenId.IDLE)
    assert count(surface, "bar_text", (WIDTH - 270, 0, 120, 56)) > 30


def test_spanish_text_differs_from_english() -> None:
    title = (0, 320, WIDTH, 80)
    en, es = render(ScreenId.IDLE), render(ScreenId.IDLE, language="es")
    diff = sum(1 for x in range(0, WIDTH, 2) for y in range(320, 400, 2)
               if en.get_at((x, y)) != es.get_at((x, y)))
    assert diff > 100 and count(es, "text", title) > 100


def test_go_screen_shows_where_to_go_once_the_hub_answers() -> None:
    visit = Visit("04AB12CD", 0.0)
    waiting = render(ScreenId.GO, visit=visit)
    visit.reply = c.Reply(**c.envelope("hub"), in_reply_to="0" * 32, request="checkin",
                          status="accepted", display_name="Ana R.", go_to="s2",
                          go_to_name="Computers")
    answered = render(ScreenId.GO, visit=visit)
    line = (200, 190, 560, 140)
    assert count(waiting, "muted", line) > count(answered, "muted", line) // 4  # "Sending…"
    assert count(answered, "text", line) > count(waiting, "text", line) + 100


def hub_view(arrivals: tuple[Arrival, ...]) -> HubView:
    return HubView(room="room-1",
                   rotation=RotationSnapshot(Phase.RUNNING, 0, 4, 300.0,
                                             {"s1": "g1", "s2": "g2", "s3": "", "s4": ""}),
                   station_names={"s1": "Teacher", "s2": "Computers", "s3": "Team",
                                  "s4": "Quiet"},
                   group_names={"g1": "Foxes", "g2": "Owls"}, arrivals=arrivals,
                   station_states={"s1": "online", "s2": "offline"}, connected=True,
                   stored=len(arrivals), at=0.0)


def test_hub_display_shows_block_groups_and_arrivals() -> None:
    pygame.init()
    empty, full = (pygame.Surface((HUB_W, HUB_H)) for _ in range(2))
    draw_hub(hub_view(()), Painter(empty))
    arrivals = tuple(Arrival(f"stu-{i}", f"Kid{i} X.", "s1", float(i)) for i in range(5))
    draw_hub(hub_view(arrivals), Painter(full))
    assert full.get_at((10, 10)) == pygame.Color(*PALETTE["bar"])
    assert count(full, "bar_text", (0, 0, HUB_W, 84)) > 200  # room, block, countdown
    card = (16, 100 + 80, 230, 200)  # the first station's list of names
    assert count(full, "text", card) > count(empty, "text", card) + 100
    assert count(full, "accent", (16, 130, 230, 40)) > 20  # its group's name
    assert count(full, "good", (200, 100, 50, 40)) > 5  # s1 online mark
    assert count(full, "warn", (460, 100, 50, 40)) > 5  # s2 offline mark
