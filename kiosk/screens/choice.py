"""The choice board: the student picks the next activity from the teacher's menu."""

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
    grid_of_buttons,
    hit,
)
from kiosk.screens.chrome import draw_chrome, draw_heading
from kiosk.screens.reflection import IDLE_TIMEOUT_S

if TYPE_CHECKING:
    from stations.ui.painter import Painter


class ChoiceScreen:
    id = ScreenId.CHOICE

    def enter(self, ctx: Context, now: float) -> None:
        pass

    def buttons(self, ctx: Context) -> list[Button]:
        L = ctx.layout
        items = [(a.id, ctx.label(a), a.icon) for a in ctx.activities()]
        return grid_of_buttons(L, items, top=L.bar_h + L.px(96), max_side=200)

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and ctx.visit is not None:
            button = hit(self.buttons(ctx), event)
            if button is not None:
                ctx.visit.activity = button.id
                return ScreenId.GO
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return ScreenId.IDLE if now - ctx.entered_at >= IDLE_TIMEOUT_S else None

    def speech(self, ctx: Context) -> tuple[Say, ...]:
        return (Say(N_("What will you do now?")),
                *(Say(text=ctx.label(a)) for a in ctx.activities()))

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        L = ctx.layout
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        draw_heading(ctx, ui, ui._(N_("What will you do now?")), L.bar_h + L.px(50), L.px(48))
        buttons = self.buttons(ctx)
        # Activity labels are the teacher's own words (in the student's language when the
        # teacher gave one), shown as written.
        ui.buttons(buttons, [b.label for b in buttons])
