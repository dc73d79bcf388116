"""The check-in is saved: say so, and where to go once the hub has answered."""

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
    from broker.contract import Reply
    from stations.ui.painter import Painter

#: Back to idle this long after the hub's answer, or after MAX_S without one.
AFTER_REPLY_S = 5.0
MAX_S = 8.0
SAVED = N_("Saved!")
STAY = N_("Stay here")
GO_TO = N_("Go to {station}")
ASK = N_("Ask your teacher")
LATER = N_("It will be sent soon")
THANKS = N_("Thank you!")
TELL_TEACHER = N_("Please tell your teacher.")


def _place_name(ctx: Context, reply: Reply) -> str:
    """Where to go, in the student's language when the hub's plan has that station."""
    return ctx.name_of_station(reply.go_to) if ctx.plan(reply.go_to) else reply.go_to_name


class GoScreen:
    id = ScreenId.GO

    def enter(self, ctx: Context, now: float) -> None:
        self._replied_at: float | None = None

    def buttons(self, ctx: Context) -> list[Button]:
        return [single_button(ctx.layout, "done", N_("Done"), "check")]

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

    def speech(self, ctx: Context) -> tuple[Say, ...]:
        reply = ctx.visit.reply if ctx.visit is not None else None
        if reply is not None and reply.status == "rejected":
            return (Say(THANKS), Say(TELL_TEACHER), Say(N_("Done")))
        lines = [Say(SAVED)]
        if reply is not None and reply.status == "accepted":
            if reply.go_to == ctx.station:
                lines.append(Say(STAY))
            elif reply.go_to:
                lines.append(Say(GO_TO, (("station", _place_name(ctx, reply)),)))
            else:
                lines.append(Say(ASK))
        elif reply is None and not ctx.online:
            lines.append(Say(LATER))
        else:
            return tuple(lines)  # "Sending…" lasts a blink: the answer follows
        return (*lines, Say(N_("Done")))

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        L = ctx.layout
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        visit = ctx.visit
        reply = visit.reply if visit else None
        left, icon_x = L.px(190), L.px(110)
        row1, row2 = L.bar_h + L.px(80), L.bar_h + L.px(215)
        rejected = reply is not None and reply.status == "rejected"
        if not rejected:
            ui.icon("check", icon_x, row1, L.px(100), "good")
            ui.text(ui._(SAVED), left, row1, L.px(64), "text", anchor="midleft")
        if rejected:
            _draw_rejected(ctx, ui, left, icon_x, row1, row2)
        elif reply is not None and reply.status == "accepted":
            if reply.display_name:
                ui.text(reply.display_name, left, row1 + L.px(60), L.px(40), "muted",
                        anchor="midleft")
            target = ctx.plan(reply.go_to) if reply.go_to else None
            if reply.go_to == ctx.station:
                ui.icon("pin", icon_x, row2, L.px(80), "accent")
                ui.text(ui._(STAY), left, row2, L.px(56), "text", anchor="midleft")
            elif reply.go_to:
                if target is not None and target.colour:  # "go to the blue table"
                    ui.disc(icon_x, row2, L.px(48), target.colour)
                    ui.icon(target.icon, icon_x, row2, L.px(56), "on_colour")
                else:
                    ui.icon("arrow_right", icon_x, row2, L.px(80), "accent")
                ui.text(ui._(GO_TO).format(station=_place_name(ctx, reply)), left, row2,
                        L.px(52), "text", anchor="midleft", max_w=L.w - left - L.px(10))
            else:
                ui.icon("teacher", icon_x, row2, L.px(80), "accent")
                ui.text(ui._(ASK), left, row2, L.px(52), "text",
                        anchor="midleft")
        elif not ctx.online:
            ui.icon("offline", icon_x, row2, L.px(80), "warn")
            ui.text(ui._(LATER), left, row2, L.px(44), "text",
                    anchor="midleft")
        else:
            ui.icon("hourglass", icon_x, row2, L.px(80), "muted")
            ui.text(ui._("Sending…"), left, row2, L.px(44), "muted", anchor="midleft")
        buttons = self.buttons(ctx)
        ui.buttons(buttons, [ui._(b.label) for b in buttons])


def _draw_rejected(ctx: Context, ui: Painter, left: int, icon_x: int, row1: int,
                   row2: int) -> None:
    """The hub will never take this check-in (the station's menu is out of date, say). It is
    kept at the station; nothing the student did wrong, so thanks, and a grown-up to tell."""
    L = ctx.layout
    ui.icon("wave", icon_x, row1, L.px(100), "accent")
    ui.text(ui._(THANKS), left, row1, L.px(64), "text", anchor="midleft")
    ui.icon("teacher", icon_x, row2, L.px(80), "accent")
    ui.text(ui._(TELL_TEACHER), left, row2, L.px(48), "text", anchor="midleft",
            max_w=L.w - left - L.px(10))
