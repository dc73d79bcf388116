"""The student's own last reflections, as the faces and goal pictures they chose, before
today's question: "last time you said *a little*; today?". Only for the student at the
station, from the hub's reply to their own tap; forgotten with the visit.

No dates, no numbers, no words to read: one row per question, oldest on the left, and a
question mark for today. One tap anywhere (or the Next button) moves on; so does time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.questions import QUESTIONS
from kiosk.screens.base import N_, Button, Context, Event, Press, Say, ScreenId, single_button
from kiosk.screens.chrome import draw_chrome, draw_heading

if TYPE_CHECKING:
    from stations.ui.painter import Painter

#: Long enough to look, short enough not to hold up the line.
SHOW_S = 6.0
HEADING = N_("Your last check-ins")


def rows(ctx: Context) -> list[tuple[str, list[str]]]:
    """(question id, the icon of each past answer, oldest first) for the questions this
    station knows, in the class's order, then any others the history holds."""
    visit = ctx.visit
    if visit is None:
        return []
    seen = [q for q in ctx.questions()]
    for past in visit.history:
        seen.extend(q for q in past.answers if q in QUESTIONS and q not in seen)
    out = []
    for qid in seen:
        icons = {value: icon for value, _label, icon in QUESTIONS[qid].answers}
        row = [icons[past.answers[qid]] for past in visit.history
               if past.answers.get(qid) in icons]
        if row:
            out.append((qid, row))
    return out[:3]


class HistoryScreen:
    id = ScreenId.HISTORY

    def enter(self, ctx: Context, now: float) -> None:
        pass

    def buttons(self, ctx: Context) -> list[Button]:
        return [single_button(ctx.layout, "next", N_("Next"), "arrow_right")]

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None:
        # One tap anywhere skips it: it is a look back, not a question.
        return ScreenId.REFLECTION if isinstance(event, Press) else None

    def update(self, ctx: Context, now: float) -> ScreenId | None:
        if not rows(ctx):
            return ScreenId.REFLECTION
        return ScreenId.REFLECTION if now - ctx.entered_at >= SHOW_S else None

    def speech(self, ctx: Context) -> tuple[Say, ...]:
        # Only the heading aloud: the answers are the student's own, and a room can hear.
        return (Say(HEADING), Say(N_("Next")))

    def draw(self, ctx: Context, ui: Painter, now: float) -> None:
        L = ctx.layout
        ui.fill("background")
        draw_chrome(ctx, ui, now)
        draw_heading(ctx, ui, ui._(HEADING), L.bar_h + L.px(48), L.px(44))
        table = rows(ctx)
        next_button = self.buttons(ctx)[0]
        top, bottom = L.bar_h + L.px(92), next_button.y - L.px(12)
        row_h = min(L.px(96), (bottom - top) // max(1, len(table)))
        cell = min(row_h, L.px(96))
        for r, (_qid, icons) in enumerate(table):
            cy = top + r * row_h + row_h // 2
            columns = len(icons) + 1
            left = (L.w - columns * cell - L.px(40)) // 2 + cell // 2
            for k, icon in enumerate(icons):
                cx = left + k * cell
                newest = k == len(icons) - 1
                if newest:  # the last time stands out: "last time you said…"
                    ui.disc(cx, cy, int(cell * 0.46), "panel")
                ui.icon(icon, cx, cy, int(cell * (0.8 if newest else 0.62)),
                        "accent" if newest else "muted")
            today_x = left + len(icons) * cell + L.px(40)
            ui.icon("arrow_right", today_x - cell // 2 - L.px(6), cy, int(cell * 0.4), "muted")
            ui.icon("question", today_x, cy, int(cell * 0.7), "accent")
        ui.button(next_button, ui._(next_button.label))
