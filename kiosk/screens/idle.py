"""The attract screen: a badge that gently pulses, and where to tap it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kiosk.screens.base import N_, Button, Context, Event, Say, ScreenId
from kiosk.screens.chrome import draw_chrome, draw_move_board, moves

if TYPE_CHECKING:
    from stations.ui.painter import Painter

#: One breath of the badge picture, in seconds: calm, and an honest "I'm alive" sign.
PULSE_S = 2.0


class IdleScreen:
    id = ScreenId.IDLE
    animated = True
    #: Said only when the "hear it" button asks: after every visit would be a lot of noise.
    speaks_on_enter = False

    def enter(self, ctx: Context, now: float) -> None:
        ctx.visit = None  # forget the student

    def buttons(self, ctx: Context) -> list[Button]:
        return []

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return None

    def speech(self, ctx: Context) -> tuple[Say, ...]:
        return (Say(N_("Tap your badge")),)

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        L = ctx.layout
        ui.fill("background")
        if ctx.moving(now) and moves(ctx):
            draw_chrome(ctx, ui, now, notice=False)
            draw_move_board(ctx, ui, L.bar_h, int(L.h * 0.7))
            ui.text(ui._("Tap your badge"), L.w // 2, int(L.h * 0.8), L.px(48), "text")
            ui.icon("arrow_down", L.w // 2, L.h - L.px(30), L.px(40), "accent")
            return
        draw_chrome(ctx, ui, now)
        pulse = 1.0 + 0.06 * math.sin(2 * math.pi * now / PULSE_S)
        mid = L.bar_h + (L.h - L.bar_h) * 0.42
        ui.icon("badge", L.w // 2, int(mid), int(L.px(190) * pulse), "accent")
        ui.text(ui._(N_("Tap your badge")), L.w // 2, int(L.h * 0.78), L.px(60), "text")
        ui.icon("arrow_down", L.w // 2, L.h - L.px(30), L.px(44), "accent")
