"""The hub display on the classroom screen: the block, the countdown, each station with its
group, and who has checked in where.

It is seen by the whole class, so it shows names (first name, last initial) and places only:
never a reflection answer, a confidence or a level. Drawing only; state comes in a HubView.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.chrome import format_countdown

if TYPE_CHECKING:
    from hub.service import HubView
    from stations.ui.painter import Painter

WIDTH, HEIGHT = 1024, 600
KIND_ICONS = {"teacher-led": "teacher", "online": "laptop", "collaborative": "people",
              "independent": "pencil"}
PHASE_WORDS = {"idle": "Not started", "running": "", "paused": "Paused", "ended": "Lesson over"}
MAX_NAMES = 8


def draw_hub(view: HubView, ui: Painter) -> None:
    rot = view.rotation
    ui.fill("background")
    ui.panel(0, 0, WIDTH, 84, "bar")
    ui.text(f"Room {view.room}", 24, 42, 34, "bar_text", anchor="midleft")
    if rot.phase.value in ("running", "paused"):
        ui.text(f"Block {rot.block + 1} of {rot.blocks}", 300, 42, 34, "bar_text",
                anchor="midleft")
        ui.icon("clock", WIDTH // 2 + 120, 42, 44, "bar_text")
        ui.text(format_countdown(rot.remaining_s), WIDTH // 2 + 150, 42, 60, "bar_text",
                anchor="midleft")
    word = PHASE_WORDS[rot.phase.value]
    if word:
        ui.text(word, WIDTH - 24, 42, 34, "warn" if rot.phase.value == "paused" else "bar_text",
                anchor="midright")
    if not view.connected:
        ui.icon("offline", WIDTH - 250, 42, 36, "warn")

    by_station: dict[str, list[str]] = {sid: [] for sid in view.station_names}
    for arrival in reversed(view.arrivals):  # newest first
        by_station.setdefault(arrival.station, []).append(arrival.display_name)

    ids = list(view.station_names)
    cols = min(4, max(1, len(ids)))
    rows = (len(ids) + cols - 1) // cols or 1
    gap = 16
    card_w = (WIDTH - gap * (cols + 1)) // cols
    card_h = (HEIGHT - 84 - 44 - gap * (rows + 1)) // rows
    for k, sid in enumerate(ids):
        x = gap + (k % cols) * (card_w + gap)
        y = 84 + gap + (k // cols) * (card_h + gap)
        ui.panel(x, y, card_w, card_h, "panel", radius=16)
        ui.text(view.station_names[sid], x + 16, y + 28, 32, "text", anchor="midleft",
                max_w=card_w - 60)
        online = view.station_states.get(sid) == "online"
        ui.icon("check" if online else "offline", x + card_w - 26, y + 28, 26,
                "good" if online else "warn")
        group = view.group_names.get(rot.assignments.get(sid, ""), "")
        ui.text(group or "—", x + 16, y + 66, 30, "accent", anchor="midleft")
        names = by_station.get(sid, [])
        for n, name in enumerate(names[:MAX_NAMES]):
            ui.text(name, x + 24, y + 104 + n * 28, 26, "text", anchor="midleft",
                    max_w=card_w - 40)
        if len(names) > MAX_NAMES:
            ui.text(f"+{len(names) - MAX_NAMES}", x + 24, y + 104 + MAX_NAMES * 28, 26, "muted",
                    anchor="midleft")
    ui.text(f"{view.stored} check-ins   ·   Space: pause/resume   N: next block   "
            f"+: 5 more minutes   S: start", WIDTH // 2, HEIGHT - 22, 24, "muted")
