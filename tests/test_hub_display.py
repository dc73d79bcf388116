"""The hub display renders under SDL's dummy driver, checked by pixels."""

from __future__ import annotations

import pygame
import pytest

from hub.display import HEIGHT as HUB_H
from hub.display import WIDTH as HUB_W
from hub.display import draw_hub
from hub.ingest import Arrival
from hub.rotation import Phase, RotationSnapshot
from hub.service import HubView
from stations.ui.painter import PALETTE, Painter


@pytest.fixture(scope="module", autouse=True)
def _pygame():
    pygame.init()
    yield
    pygame.quit()


def count(surface: pygame.Surface, role: str, rect: tuple[int, int, int, int]) -> int:
    colour = pygame.Color(*PALETTE[role])
    x0, y0, w, h = rect
    return sum(1 for x in range(x0, x0 + w, 2) for y in range(y0, y0 + h, 2)
               if surface.get_at((x, y)) == colour)


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
