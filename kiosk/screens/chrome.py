"""What every screen carries: the top strip (station, countdown, connection) and the hub's
notices (time nearly up, time to move) as a banner with an icon."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import N_, Context

if TYPE_CHECKING:
    from stations.ui.painter import Painter

NOTICE_TEXT = {
    "warning": (N_("{minutes} min left"), "clock"),
    "move": (N_("Time to move!"), "arrow_right"),
    "paused": (N_("Paused"), "pause"),
    "resumed": (N_("Back to work"), "check"),
    "ended": (N_("All done!"), "star"),
}


def format_countdown(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


def draw_chrome(ctx: Context, ui: Painter, now: float) -> None:
    L = ctx.layout
    bar = L.bar_h
    ui.panel(0, 0, L.w, bar, "bar")
    plan = ctx.plan()
    x = L.px(12)
    if plan is not None and plan.colour:
        ui.disc(x + L.px(18), bar // 2, L.px(18), plan.colour)
        ui.icon(plan.icon, x + L.px(18), bar // 2, L.px(22), "bar")
    else:
        ui.icon("pin", x + L.px(18), bar // 2, L.px(30), "bar_text")
    ui.text(ctx.name_of_station(), x + L.px(44), bar // 2, L.px(28), "bar_text",
            anchor="midleft", max_w=L.w // 2)
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
        right = ui.text(format_countdown(remaining), right, bar // 2, L.px(32), "bar_text",
                        anchor="midright").left - L.px(8)
        ui.icon("clock", right - L.px(14), bar // 2, L.px(28), "bar_text")
    notice = ctx.active_notice(now)
    if notice is not None and notice.event in NOTICE_TEXT:
        text, icon = NOTICE_TEXT[notice.event]
        minutes = max(1, round(notice.remaining_s / 60))
        h = L.px(50)
        ui.panel(0, bar, L.w, h, "notice")
        ui.icon(icon, L.px(40), bar + h // 2, L.px(34), "notice_text")
        ui.text(ui._(text).format(minutes=minutes), L.px(70), bar + h // 2, L.px(34),
                "notice_text", anchor="midleft")
