"""The strip along the top of every screen: station name, block countdown, connection state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import WIDTH, Context

if TYPE_CHECKING:
    from stations.ui.painter import Painter

BAR_H = 56


def format_countdown(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


def draw_chrome(ctx: Context, ui: Painter, now: float) -> None:
    ui.panel(0, 0, WIDTH, BAR_H, "bar")
    ui.icon("pin", 30, BAR_H // 2, 30, "bar_text")
    ui.text(ctx.name_of_station(), 52, BAR_H // 2, 28, "bar_text", anchor="midleft")
    remaining = ctx.remaining(now)
    if remaining is not None:
        ui.icon("clock", WIDTH - 250, BAR_H // 2, 30, "bar_text")
        ui.text(format_countdown(remaining), WIDTH - 228, BAR_H // 2, 32, "bar_text",
                anchor="midleft")
    if not ctx.online:
        ui.icon("offline", WIDTH - 120, BAR_H // 2, 30, "warn")
        ui.text(ui._("Offline"), WIDTH - 98, BAR_H // 2, 24, "warn", anchor="midleft")
    elif not ctx.reader_ok:
        ui.icon("fault", WIDTH - 120, BAR_H // 2, 30, "warn")
        ui.text(ui._("Reader"), WIDTH - 98, BAR_H // 2, 24, "warn", anchor="midleft")
