"""A badge was tapped: greet the student (by name once the hub answers) and move on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import WIDTH, Button, Context, Event, Press, ScreenId, hit
from kiosk.screens.chrome import draw_chrome

if TYPE_CHECKING:
    from stations.ui.painter import Painter

#: Move on by itself after this long, named or not: a tap must never wait on the network.
AUTO_NEXT_S = 2.5
NEXT = Button("next", WIDTH // 2 - 120, 330, 240, 110, "Next", "arrow_right")


class WelcomeScreen:
    id = ScreenId.WELCOME

    def enter(self, ctx: Context, now: float) -> None:
        pass

    def buttons(self, ctx: Context) -> list[Button]:
        return [NEXT]

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and hit(self.buttons(ctx), event):
            return ScreenId.REFLECTION
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return ScreenId.REFLECTION if now - ctx.entered_at >= AUTO_NEXT_S else None

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        visit = ctx.visit
        name = visit.display_name if visit else ""
        ui.icon("wave", WIDTH // 2, 160, 130, "accent")
        greeting = ui._("Hi, {name}!").format(name=name) if name else ui._("Hi!")
        ui.text(greeting, WIDTH // 2, 275, 64, "text")
        ui.button(NEXT, ui._("Next"))
