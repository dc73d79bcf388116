"""The choice board: the student picks the next activity from the teacher's menu."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import WIDTH, Button, Context, Event, Press, ScreenId, hit, row_of_buttons
from kiosk.screens.chrome import draw_chrome
from kiosk.screens.reflection import IDLE_TIMEOUT_S

if TYPE_CHECKING:
    from stations.ui.painter import Painter

PER_ROW = 4


class ChoiceScreen:
    id = ScreenId.CHOICE

    def enter(self, ctx: Context, now: float) -> None:
        pass

    def buttons(self, ctx: Context) -> list[Button]:
        items = [(a.id, a.label, a.icon) for a in ctx.activities()]
        if len(items) <= PER_ROW:
            return row_of_buttons(items, top=160, height=270)
        return (row_of_buttons(items[:PER_ROW], top=150, height=150)
                + row_of_buttons(items[PER_ROW:2 * PER_ROW], top=316, height=150))

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and ctx.visit is not None:
            button = hit(self.buttons(ctx), event)
            if button is not None:
                ctx.visit.activity = button.id
                return ScreenId.GO
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return ScreenId.IDLE if now - ctx.entered_at >= IDLE_TIMEOUT_S else None

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        ui.text(ui._("What will you do now?"), WIDTH // 2, 108, 48, "text")
        for button in self.buttons(ctx):
            # Activity labels are the teacher's own words, shown as written.
            ui.button(button, button.label)
