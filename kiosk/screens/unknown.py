"""A badge the hub doesn't know: say so kindly and send the student to the teacher."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import WIDTH, Button, Context, Event, Press, ScreenId, hit
from kiosk.screens.chrome import draw_chrome

if TYPE_CHECKING:
    from stations.ui.painter import Painter

TIMEOUT_S = 8.0
OK = Button("ok", WIDTH // 2 - 110, 360, 220, 100, "OK", "check")


class UnknownScreen:
    id = ScreenId.UNKNOWN

    def enter(self, ctx: Context, now: float) -> None:
        pass

    def buttons(self, ctx: Context) -> list[Button]:
        return [OK]

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and hit(self.buttons(ctx), event):
            return ScreenId.IDLE
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return ScreenId.IDLE if now - ctx.entered_at >= TIMEOUT_S else None

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        ui.icon("question", WIDTH // 2, 150, 120, "accent")
        ui.text(ui._("We don't know this badge yet."), WIDTH // 2, 250, 44, "text")
        ui.icon("teacher", WIDTH // 2 - 170, 310, 50, "accent")
        ui.text(ui._("Please ask your teacher."), WIDTH // 2 + 25, 310, 40, "text")
        ui.button(OK, ui._("OK"))
