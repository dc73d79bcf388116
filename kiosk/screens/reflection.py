"""One reflection question, answered with one of three faces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import (
    N_,
    WIDTH,
    Button,
    Context,
    Event,
    Press,
    ScreenId,
    hit,
    row_of_buttons,
)
from kiosk.screens.chrome import draw_chrome

if TYPE_CHECKING:
    from stations.ui.painter import Painter

QUESTION_ID = "confidence"
#: Walk away in the middle and the station forgets the visit.
IDLE_TIMEOUT_S = 30.0
# (answer value, label, icon). Labels are msgids; the painter translates them.
CHOICES = [("1", N_("Not yet"), "face_unsure"), ("2", N_("Getting there"), "face_ok"),
           ("3", N_("I've got it!"), "face_happy")]


class ReflectionScreen:
    id = ScreenId.REFLECTION

    def enter(self, ctx: Context, now: float) -> None:
        pass

    def buttons(self, ctx: Context) -> list[Button]:
        return row_of_buttons(CHOICES, top=170, height=250)

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and ctx.visit is not None:
            button = hit(self.buttons(ctx), event)
            if button is not None:
                ctx.visit.answers[QUESTION_ID] = int(button.id)
                return ScreenId.CHOICE
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return ScreenId.IDLE if now - ctx.entered_at >= IDLE_TIMEOUT_S else None

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        ui.text(ui._("How do you feel about your work?"), WIDTH // 2, 112, 44, "text")
        for button in self.buttons(ctx):
            ui.button(button, ui._(button.label))
