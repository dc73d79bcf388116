"""A badge the hub doesn't know: say so kindly and send the student to the teacher."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import (
    N_,
    Button,
    Context,
    Event,
    Press,
    Say,
    ScreenId,
    hit,
    single_button,
)
from kiosk.screens.chrome import draw_chrome

if TYPE_CHECKING:
    from stations.ui.painter import Painter

TIMEOUT_S = 8.0
UNKNOWN = N_("We don't know this badge yet.")
ASK = N_("Please ask your teacher.")


class UnknownScreen:
    id = ScreenId.UNKNOWN

    def enter(self, ctx: Context, now: float) -> None:
        pass

    def buttons(self, ctx: Context) -> list[Button]:
        return [single_button(ctx.layout, "ok", N_("OK"), "check")]

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and hit(self.buttons(ctx), event):
            return ScreenId.IDLE
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return ScreenId.IDLE if now - ctx.entered_at >= TIMEOUT_S else None

    def speech(self, ctx: Context) -> tuple[Say, ...]:
        return (Say(UNKNOWN), Say(ASK), Say(N_("OK")))

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        L = ctx.layout
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        top = L.bar_h
        ui.icon("question", L.w // 2, top + L.px(85), L.px(110), "accent")
        ui.text(ui._(UNKNOWN), L.w // 2, top + L.px(180), L.px(44),
                "text")
        ui.icon("teacher", L.w // 2 - L.px(190), top + L.px(240), L.px(50), "accent")
        ui.text(ui._(ASK), L.w // 2 + L.px(25), top + L.px(240),
                L.px(40), "text")
        buttons = self.buttons(ctx)
        ui.buttons(buttons, [ui._(b.label) for b in buttons])
