"""The hub display's painter: the shared painter plus the stations' Okabe-Ito colours.

Station colours are drawn as swatches behind a white or black icon (whichever contrasts), so
a colour is never the only cue: each station also has its icon and its name.
"""

from __future__ import annotations

import pygame

from stations.ui.painter import OKABE_ITO as _NAMED
from stations.ui.painter import PALETTE, Painter

#: The shared Okabe-Ito names, and grey for a station without a colour.
OKABE_ITO: dict[str, tuple[int, int, int]] = {**_NAMED, "": PALETTE["muted"]}
_LIGHT = {"orange", "sky", "yellow", "purple"}


class HubPainter(Painter):
    def swatch(self, colour: str, cx: int, cy: int, r: int, icon: str) -> None:
        """A disc in the station's colour with its icon on top."""
        pygame.draw.circle(self.surface, OKABE_ITO.get(colour, OKABE_ITO[""]), (cx, cy), r)
        role = "text" if colour in _LIGHT else "bar_text"
        self.icon(icon, cx, cy, int(r * 1.2), role)

    def stripe(self, colour: str, x: int, y: int, w: int, h: int, radius: int = 0) -> None:
        pygame.draw.rect(self.surface, OKABE_ITO.get(colour, OKABE_ITO[""]), (x, y, w, h),
                         border_radius=radius)

    def outline(self, x: int, y: int, w: int, h: int, role: str, width: int,
                radius: int = 0) -> None:
        pygame.draw.rect(self.surface, PALETTE[role], (x, y, w, h), width=width,
                         border_radius=radius)

    def shade(self, alpha: int = 150) -> None:
        veil = pygame.Surface(self.surface.get_size(), pygame.SRCALPHA)
        veil.fill((20, 25, 40, alpha))
        self.surface.blit(veil, (0, 0))
