"""Pieces both displays draw the same way: a touch target, the block's countdown, and the
strip that says where each group goes next.

Pure: no pygame here (the :class:`~stations.ui.painter.Painter` draws them), so the kiosk's
screens and the hub's controls can lay them out and test them without a display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stations.ui.painter import Painter


@dataclass(frozen=True, slots=True)
class Button:
    """A rectangle that does something when touched: a kiosk answer or a hub control."""

    id: str
    x: int
    y: int
    w: int
    h: int
    label: str
    icon: str
    #: "normal", "primary", "warn" or "off" (drawn greyed, does nothing)
    style: str = "normal"
    #: The keyboard key that presses it (the hub's controls bar).
    key: str = ""

    def contains(self, px: int, py: int) -> bool:
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2


def format_countdown(seconds: float) -> str:
    """Minutes and seconds still to go, rounded up: a block never shows 0:00 early."""
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(frozen=True, slots=True)
class Move:
    """One group's next place: "Foxes → Computers", with the station's colour and icon."""

    group: str
    station: str
    colour: str
    icon: str


def draw_moves(ui: Painter, moves: list[Move], x: int, y: int, w: int, h: int, *,
               text_size: int, columns: int = 0) -> None:
    """Each group and where it goes, in a grid of ``columns`` (default: one row) inside
    (x, y, w, h), one text size for all: the station's swatch (its colour and icon, never
    the colour alone) and "Group: Station"."""
    if not moves:
        return
    cols = columns or len(moves)
    rows = -(-len(moves) // cols)
    slot_w, slot_h = w // cols, h // rows
    r = max(8, min(slot_h * 2 // 5, text_size * 2 // 3))
    text_x = 2 * r + r // 2
    labels = [f"{m.group}: {m.station}" if m.group else m.station for m in moves]
    size = ui.common_size(labels, text_size, slot_w - text_x - 8)
    for k, (move, label) in enumerate(zip(moves, labels, strict=True)):
        left = x + (k % cols) * slot_w
        mid = y + (k // cols) * slot_h + slot_h // 2
        ui.swatch(move.colour, left + r, mid, r, move.icon)
        ui.text(label, left + text_x, mid, size, "text", anchor="midleft",
                max_w=slot_w - text_x - 8)
