"""What every screen carries: the top strip (station, time left, connection), the hub's
notices (time nearly up, time to move) as a banner with an icon, and, while the class is
moving, where each group goes now."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.screens.base import N_, Context, Say, hear_button
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
#: While the class moves and the screen is in use, the strip shows each group's place in
#: turn, this long each.
MOVE_CYCLE_S = 2.0


#: The hub's name for a group that shows no name of its own ("Group 3"), in the screen's
#: language.
GROUP_N = N_("Group {n}")
_GROUP_N = re.compile(r"Group (\d+)")


def group_name(name: str, _: Callable[[str], str]) -> str:
    """A public group name as the screen shows it: "Group N" translated, any other as sent."""
    numbered = _GROUP_N.fullmatch(name)
    return _(GROUP_N).format(n=numbered[1]) if numbered else name


def moves(ctx: Context, _: Callable[[str], str] = str) -> list[Move]:
    """Where each group goes in this block, as the hub's rotation state says (public group
    names: the hub sends no other), in the stations' order ("Group N" in the screen's language)."""
    if ctx.rotation is None:
        return []
    return [Move(group_name(plan.group, _), plan.name, plan.colour, plan.icon)
            for plan in ctx.rotation.stations if plan.group]


def notice_speech(notice_event: str, remaining_s: float) -> tuple[Say, ...]:
    """What a notice from the hub says aloud (the banner's words)."""
    if notice_event not in NOTICE_TEXT:
        return ()
    minutes = max(1, round(remaining_s / 60))
    return (Say(NOTICE_TEXT[notice_event][0], (("minutes", str(minutes)),)),)


def draw_chrome(ctx: Context, ui: Painter, now: float, *, notice: bool = True) -> None:
    """The top strip, and the "hear it" button every screen has under it."""
    _draw_strip(ctx, ui, now, notice=notice)
    ui.icon_button(hear_button(ctx.layout))


def _draw_strip(ctx: Context, ui: Painter, now: float, *, notice: bool = True) -> None:
    """The top strip. A notice from the hub turns it orange and takes the station's name's
    place for a while, so it never covers what the screen below is asking."""
    L = ctx.layout
    bar = L.bar_h
    active = ctx.active_notice(now) if notice else None
    shown = active if active is not None and active.event in NOTICE_TEXT else None
    # While the class moves, a screen in use names the groups' places one after another.
    board = moves(ctx, ui._) if notice and ctx.moving(now) else []
    fg, alert = ("notice_text", "notice_text") if shown or board else ("bar_text", "warn")
    ui.panel(0, 0, L.w, bar, "notice" if shown or board else "bar")
    x = L.px(12)
    remaining = ctx.remaining(now)
    right = L.w - L.px(12)
    if not ctx.online:
        right = ui.text(ui._("Offline"), right, bar // 2, L.px(24), alert,
                        anchor="midright").left - L.px(6)
        ui.icon("offline", right - L.px(15), bar // 2, L.px(30), alert)
        right -= L.px(40)
    elif not ctx.reader_ok:
        right = ui.text(ui._("Reader"), right, bar // 2, L.px(24), alert,
                        anchor="midright").left - L.px(6)
        ui.icon("fault", right - L.px(15), bar // 2, L.px(30), alert)
        right -= L.px(40)
    if remaining is not None:
        text = ui._(TIME_LEFT).format(time=format_countdown(remaining))
        right = ui.text(text, right, bar // 2, L.px(28), fg, anchor="midright",
                        max_w=right - L.w // 2).left - L.px(8)
        ui.icon("hourglass", right - L.px(12), bar // 2, L.px(28), fg)
        right -= L.px(30)
    if board:
        ui.icon("arrow_right", x + L.px(18), bar // 2, L.px(32), "notice_text")
        left = ui.text(ui._(MOVE_TEXT), x + L.px(44), bar // 2, L.px(30), "notice_text",
                       anchor="midleft", max_w=(right - x) // 2 - L.px(50)).right + L.px(16)
        move = board[int(now / MOVE_CYCLE_S) % len(board)]
        draw_moves(ui, [move], left, 0, right - left, bar, text_size=L.px(30))
        return
    if shown is not None:
        text, icon = NOTICE_TEXT[shown.event]
        minutes = max(1, round(shown.remaining_s / 60))
        ui.icon(icon, x + L.px(18), bar // 2, L.px(32), "notice_text")
        ui.text(ui._(text).format(minutes=minutes), x + L.px(44), bar // 2, L.px(32),
                "notice_text", anchor="midleft", max_w=right - x - L.px(56))
        return
    plan = ctx.plan()
    if plan is not None and plan.colour:
        ui.swatch(plan.colour, x + L.px(18), bar // 2, L.px(18), plan.icon)
    else:
        ui.icon("pin", x + L.px(18), bar // 2, L.px(30), "bar_text")
    ui.text(ctx.name_of_station(), x + L.px(44), bar // 2, L.px(28), "bar_text",
            anchor="midleft", max_w=right - x - L.px(56))


def draw_heading(ctx: Context, ui: Painter, text: str, y: int, size: int) -> None:
    """A screen's question or title, centred and clear of the "hear it" button (set smaller
    where it would reach it, as on a portrait screen)."""
    L = ctx.layout
    clear = L.w - hear_button(L).x + L.px(8)  # the button and a gap, on both sides
    ui.text(text, L.w // 2, y, size, "text", max_w=L.w - 2 * clear)


def draw_banner(ctx: Context, ui: Painter, text: str, icon: str) -> int:
    """A notice under the top strip, left of the "hear it" button; returns its bottom edge."""
    L = ctx.layout
    h = L.px(50)
    w = hear_button(L).x - L.px(8)
    ui.panel(0, L.bar_h, w, h, "notice")
    ui.icon(icon, L.px(40), L.bar_h + h // 2, L.px(34), "notice_text")
    ui.text(text, L.px(70), L.bar_h + h // 2, L.px(34), "notice_text", anchor="midleft",
            max_w=w - L.px(90))
    return L.bar_h + h


def draw_move_board(ctx: Context, ui: Painter, top: int, bottom: int) -> None:
    """"Time to move!" and where each group goes now, the way the hub's "Next" strip shows
    it: so nobody has to ask, or tap, to know where to go. The "hear it" button stays clear
    beside the banner: a child who cannot read the board hears it."""
    L = ctx.layout
    hear = hear_button(L)
    banner_bottom = draw_banner(ctx, ui, ui._(MOVE_TEXT), "arrow_right")
    top = max(top, banner_bottom, hear.y + hear.h) + L.px(12)
    ui.panel(L.px(16), top, L.w - L.px(32), bottom - top, "panel", radius=L.px(18))
    draw_moves(ui, moves(ctx, ui._), L.px(32), top + L.px(8), L.w - L.px(64),
               bottom - top - L.px(16), text_size=L.px(40), columns=1 if L.portrait else 2)
