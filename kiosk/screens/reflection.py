"""The class's reflection questions, one at a time, each answered with one of four pictures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.questions import QUESTIONS
from kiosk.screens.base import (
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

if TYPE_CHECKING:
    from stations.ui.painter import Painter

#: Walk away in the middle and the station forgets the visit.
IDLE_TIMEOUT_S = 30.0


class ReflectionScreen:
    id = ScreenId.REFLECTION

    def enter(self, ctx: Context, now: float) -> None:
        if ctx.visit is not None:
            ctx.visit.question = 0

    def _question(self, ctx: Context):  # type: ignore[no-untyped-def]
        ids = ctx.questions()
        index = ctx.visit.question if ctx.visit is not None else 0
        return QUESTIONS[ids[min(index, len(ids) - 1)]]

    def buttons(self, ctx: Context) -> list[Button]:
        q = self._question(ctx)
        L = ctx.layout
        return grid_of_buttons(L, [(str(v), label, icon) for v, label, icon in q.answers],
                               top=L.bar_h + L.px(100), max_side=170)

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and ctx.visit is not None:
            button = hit(self.buttons(ctx), event)
            if button is not None:
                visit = ctx.visit
                visit.answers[self._question(ctx).id] = int(button.id)
                visit.question += 1
                ctx.entered_at = now  # each question gets its own time
                if visit.question >= len(ctx.questions()):
                    return ScreenId.CHOICE
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return ScreenId.IDLE if now - ctx.entered_at >= IDLE_TIMEOUT_S else None

    def speech(self, ctx: Context) -> tuple[Say, ...]:
        """The question, then each answer in order, so a child who cannot read hears them."""
        q = self._question(ctx)
        return (Say(q.prompt), *(Say(label) for _v, label, _icon in q.answers))

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        L = ctx.layout
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        draw_heading(ctx, ui, ui._(self._question(ctx).prompt), L.bar_h + L.px(52), L.px(46))
        buttons = self.buttons(ctx)
        ui.buttons(buttons, [ui._(b.label) for b in buttons])
