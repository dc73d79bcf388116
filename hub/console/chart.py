"""A student's reflections over time as a small SVG drawn on the server. Pure.

Confidence and goal progress (each answered 1-4 at a check-in) against the check-in's date:
confidence a solid line with round marks, goal progress a dashed line with square marks, so
the two differ in shape as well as colour. The page gives the same answers as a table
beside it, for a screen reader and for exact values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from hub.store import CheckInRecord

W, H = 480, 250
LEFT, RIGHT, TOP, BOTTOM = 62, 24, 44, 40
#: Okabe-Ito blue and vermillion: apart for every kind of colour vision.
#: The least room between two dates on the time axis.
LABEL_GAP = 90
SERIES = (("confidence", "#0072B2", "", "circle"), ("goal", "#D55E00", "6 4", "square"))


@dataclass(frozen=True, slots=True)
class Point:
    at: float
    value: int


def series(records: Sequence[CheckInRecord], question: str) -> list[Point]:
    return [Point(r.tapped_at, int(r.answers[question])) for r in records
            if isinstance(r.answers.get(question), int) and 1 <= r.answers[question] <= 4]


def _day(at: float, tz: dt.tzinfo | None) -> str:
    return dt.datetime.fromtimestamp(at, tz).strftime("%d %b")


def reflection_chart(records: Sequence[CheckInRecord], *, title: str, description: str,
                     levels: Sequence[str], names: dict[str, str],
                     tz: dt.tzinfo | None = None) -> str:
    """The SVG (one ``<svg>`` element) for ``records``, oldest first.

    ``levels`` labels the values 1-4 on the y axis; ``names`` names the series in the key.
    """
    plotted = {q: series(records, q) for q, *_ in SERIES}
    times = [p.at for pts in plotted.values() for p in pts]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
           f'aria-labelledby="chart-title chart-desc" class="chart">',
           f'<title id="chart-title">{escape(title)}</title>',
           f'<desc id="chart-desc">{escape(description)}</desc>']
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (4 - value) / 3

    for value, label in zip(range(1, 5), levels, strict=False):
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(value):.1f}" '
                   f'y2="{y(value):.1f}" stroke="#d5d8e0" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y(value) + 6:.1f}" text-anchor="end" '
                   f'font-size="16" fill="#191e2d">{escape(label)}</text>')
    if not times:
        out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{TOP + plot_h / 2:.0f}" '
                   'text-anchor="middle" font-size="16" fill="#5f6473">—</text></svg>')
        return "".join(out)
    t0, t1 = min(times), max(times)
    span = max(t1 - t0, 1.0)

    def x(at: float) -> float:
        return LEFT + (plot_w * (at - t0) / span if t1 > t0 else plot_w / 2)

    days = sorted({_day(t, tz): t for t in times}.items(), key=lambda kv: kv[1])
    # Dates along the bottom far enough apart to read, the first and the last among them.
    shown: list[tuple[str, float]] = []
    for label, at in days:
        if shown and x(at) - x(shown[-1][1]) < LABEL_GAP:
            if (label, at) == days[-1] and len(shown) > 1:
                shown[-1] = (label, at)
            continue
        shown.append((label, at))
    for k, (label, at) in enumerate(shown):
        anchor = ("start" if k == 0 and len(shown) > 1 else
                  "end" if k == len(shown) - 1 and len(shown) > 1 else "middle")
        out.append(f'<text x="{x(at):.1f}" y="{H - 14}" text-anchor="{anchor}" '
                   f'font-size="16" fill="#191e2d">{escape(label)}</text>')
    for question, colour, dash, mark in SERIES:
        pts = plotted[question]
        if not pts:
            continue
        path = " ".join(f"{x(p.at):.1f},{y(p.value):.1f}" for p in pts)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   f'stroke-width="3"{dashed}/>')
        for p in pts:
            if mark == "circle":
                out.append(f'<circle cx="{x(p.at):.1f}" cy="{y(p.value):.1f}" r="5" '
                           f'fill="{colour}"/>')
            else:
                out.append(f'<rect x="{x(p.at) - 5:.1f}" y="{y(p.value) - 5:.1f}" width="10" '
                           f'height="10" fill="{colour}"/>')
    key_x = LEFT
    for question, colour, dash, _mark in SERIES:
        if not plotted[question]:
            continue
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{key_x}" x2="{key_x + 24}" y1="16" y2="16" '
                   f'stroke="{colour}" stroke-width="3"{dashed}/>')
        out.append(f'<text x="{key_x + 30}" y="21" font-size="16" fill="#191e2d">'
                   f'{escape(names.get(question, question))}</text>')
        key_x += 190
    out.append("</svg>")
    return "".join(out)

