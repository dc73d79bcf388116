"""What every screen carries: the top strip (station, time left, connection), the hub's
notices (time nearly up, time to move) as a banner with an icon, and, while the class is
moving, where each group goes now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import N_, Context
from stations.ui.widgets import Move, draw_moves, format_countdown

if TYPE_CHECKING:
    from stations.ui.painter import Painter

MOVE_TEXT = N_("Time to move!")
NOTICE_TEXT = {
    "warning": (N_("{minutes} min left"), "hourglass"),
    "move": (MOVE_TEXT, "arrow_right"),
    "paused": (N_("Paused"), "pause"),
    "resumed": (N_("Back to work"), "check"),
    "ended": (N_("All done!"), "star"),
}
#: The countdown says what it is: time left in the block, not the time of day.
TIME_LEFT = N_("{time} left")


def moves(ctx: Context) -> list[Move]:
    """Where each group goes in this block, as the hub's rotation state says (public group
    names: the hub sends no other), in the stations' order."""
    if ctx.rotation is None:
        return []
    return [Move(plan.group, plan.name, plan.colour, plan.icon)
            for plan in ctx.rotation.stations if plan.group]


def draw_chrome(ctx: Context, ui: Painter, now: float, *, notice: bool = True) -> None:
    L = ctx.layout
    bar = L.bar_h
    ui.panel(0, 0, L.w, bar, "bar")
    plan = ctx.plan()
    x = L.px(12)
    if plan is not None and plan.colour:
        ui.swatch(plan.colour, x + L.px(18), bar // 2, L.px(18), plan.icon)
    else:
        ui.icon("pin", x + L.px(18), bar // 2, L.px(30), "bar_text")
    ui.text(ctx.name_of_station(), x + L.px(44), bar // 2, L.px(28), "bar_text",
            anchor="midleft", max_w=L.w // 2 - L.px(60))
    remaining = ctx.remaining(now)
    right = L.w - L.px(12)
    if not ctx.online:
        right = ui.text(ui._("Offline"), right, bar // 2, L.px(24), "warn",
                        anchor="midright").left - L.px(6)
        ui.icon("offline", right - L.px(15), bar // 2, L.px(30), "warn")
        right -= L.px(40)
    elif not ctx.reader_ok:
        right = ui.text(ui._("Reader"), right, bar // 2, L.px(24), "warn",
                        anchor="midright").left - L.px(6)
        ui.icon("fault", right - L.px(15), bar // 2, L.px(30), "warn")
        right -= L.px(40)
    if remaining is not None:
        text = ui._(TIME_LEFT).format(time=format_countdown(remaining))
        right = ui.text(text, right, bar // 2, L.px(28), "bar_text", anchor="midright",
                        max_w=right - L.w // 2).left - L.px(8)
        ui.icon("hourglass", right - L.px(12), bar // 2, L.px(28), "bar_text")
    active = ctx.active_notice(now)
    if notice and active is not None and active.event in NOTICE_TEXT:
        text, icon = NOTICE_TEXT[active.event]
        minutes = max(1, round(active.remaining_s / 60))
        draw_banner(ctx, ui, ui._(text).format(minutes=minutes), icon)


def draw_banner(ctx: Context, ui: Painter, text: str, icon: str) -> int:
    """A notice under the top strip; returns its bottom edge."""
    L = ctx.layout
    h = L.px(50)
    ui.panel(0, L.bar_h, L.w, h, "notice")
    ui.icon(icon, L.px(40), L.bar_h + h // 2, L.px(34), "notice_text")
    ui.text(text, L.px(70), L.bar_h + h // 2, L.px(34), "notice_text", anchor="midleft",
            max_w=L.w - L.px(90))
    return L.bar_h + h


def draw_move_board(ctx: Context, ui: Painter, top: int, bottom: int) -> None:
    """"Time to move!" and where each group goes now, the way the hub's "Next" strip shows
    it: so nobody has to ask, or tap, to know where to go."""
    L = ctx.layout
    banner_bottom = draw_banner(ctx, ui, ui._(MOVE_TEXT), "arrow_right")
    top = max(top, banner_bottom) + L.px(12)
    ui.panel(L.px(16), top, L.w - L.px(32), bottom - top, "panel", radius=L.px(18))
    draw_moves(ui, moves(ctx), L.px(32), top + L.px(8), L.w - L.px(64),
               bottom - top - L.px(16), text_size=L.px(40), columns=1 if L.portrait else 2)
