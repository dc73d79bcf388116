"""Waiting for a badge: one big picture of a badge and where to tap it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import HEIGHT, WIDTH, Button, Context, Event, ScreenId
from kiosk.screens.chrome import draw_chrome

if TYPE_CHECKING:
    from stations.ui.painter import Painter


class IdleScreen:
    id = ScreenId.IDLE

    def enter(self, ctx: Context, now: float) -> None:
        ctx.visit = None

    def buttons(self, ctx: Context) -> list[Button]:
        return []

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return None

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        ui.icon("badge", WIDTH // 2, 215, 190, "accent")
        ui.text(ui._("Tap your badge"), WIDTH // 2, 360, 60, "text")
        ui.icon("arrow_down", WIDTH // 2, HEIGHT - 50, 56, "accent")
