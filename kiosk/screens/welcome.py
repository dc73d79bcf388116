"""A badge was tapped: greet the student (by name once the hub answers) and move on."""

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
    first_name,
    hit,
    single_button,
)
from kiosk.screens.chrome import draw_chrome

if TYPE_CHECKING:
    from stations.ui.painter import Painter

#: Move on by itself after this long, named or not: a tap must never wait on the network.
AUTO_NEXT_S = 2.5


class WelcomeScreen:
    id = ScreenId.WELCOME

    def enter(self, ctx: Context, now: float) -> None:
        pass

    def buttons(self, ctx: Context) -> list[Button]:
        return [single_button(ctx.layout, "next", N_("Next"), "arrow_right")]

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        if isinstance(event, Press) and hit(self.buttons(ctx), event):
            return self._next(ctx)
        return None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        return self._next(ctx) if now - ctx.entered_at >= AUTO_NEXT_S else None

    def _next(self, ctx: Context) -> ScreenId:
        """The student's own history first, when the hub sent some."""
        return ScreenId.HISTORY if ctx.visit is not None and ctx.visit.history \
            else ScreenId.REFLECTION

    def speech(self, ctx: Context) -> tuple[Say, ...]:
        name = first_name(ctx.visit.display_name) if ctx.visit is not None else ""
        hello = Say(N_("Hi, {name}!"), (("name", name),), private=True) if name \
            else Say(N_("Hi!"))
        return (hello, Say(N_("Next")))

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        L = ctx.layout
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        visit = ctx.visit
        name = visit.display_name if visit else ""
        top = L.bar_h + L.px(20)
        centre_y = top + L.px(80)
        if name and visit is not None and visit.avatar:
            ui.disc(L.w // 2, centre_y, L.px(70), visit.avatar)
            ui.text(name[:1], L.w // 2, centre_y, L.px(90), "on_colour")
        else:
            ui.icon("wave", L.w // 2, centre_y, L.px(130), "accent")
        greeting = ui._(N_("Hi, {name}!")).format(name=name) if name else ui._(N_("Hi!"))
        ui.text(greeting, L.w // 2, centre_y + L.px(120), L.px(64), "text")
        buttons = self.buttons(ctx)
        ui.buttons(buttons, [ui._(b.label) for b in buttons])
