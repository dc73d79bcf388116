"""The check-in is saved: say so, and where to go once the hub has answered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import WIDTH, Button, Context, Event, Press, ScreenId, hit
from kiosk.screens.chrome import draw_chrome

if TYPE_CHECKING:
    from stations.ui.painter import Painter

#: Back to idle this long after the hub's answer, or after MAX_S without one.
AFTER_REPLY_S = 5.0
MAX_S = 8.0
DONE = Button("done", WIDTH // 2 - 110, 370, 220, 96, "Done", "check")


class GoScreen:
    id = ScreenId.GO

    def enter(self, ctx: Context, now: float) -> None:
        self._replied_at: float | None = None

    def buttons(self, ctx: Context) -> list[Button]:
        return [DONE]

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and hit(self.buttons(ctx), event):
            return ScreenId.IDLE
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        visit = ctx.visit
        if visit is not None and visit.reply is not None and self._replied_at is None:
            self._replied_at = now
        if self._replied_at is not None and now - self._replied_at >= AFTER_REPLY_S:
            return ScreenId.IDLE
        return ScreenId.IDLE if now - ctx.entered_at >= MAX_S else None

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        visit = ctx.visit
        reply = visit.reply if visit else None
        ui.icon("check", 120, 150, 110, "good")
        ui.text(ui._("Saved!"), 200, 150, 64, "text", anchor="midleft")
        if reply is not None and reply.status == "accepted":
            if reply.display_name:
                ui.text(reply.display_name, 200, 215, 40, "muted", anchor="midleft")
            if reply.go_to == ctx.station:
                ui.icon("pin", 120, 295, 80, "accent")
                ui.text(ui._("Stay here"), 200, 295, 56, "text", anchor="midleft")
            elif reply.go_to:
                ui.icon("arrow_right", 120, 295, 80, "accent")
                ui.text(ui._("Go to {station}").format(station=reply.go_to_name), 200, 295,
                        52, "text", anchor="midleft")
            else:
                ui.icon("teacher", 120, 295, 80, "accent")
                ui.text(ui._("Ask your teacher"), 200, 295, 52, "text", anchor="midleft")
        elif not ctx.online:
            ui.icon("offline", 120, 295, 80, "warn")
            ui.text(ui._("It will be sent soon"), 200, 295, 44, "text", anchor="midleft")
        else:
            ui.icon("hourglass", 120, 295, 80, "muted")
            ui.text(ui._("Sending…"), 200, 295, 44, "muted", anchor="midleft")
        ui.button(DONE, ui._("Done"))
