"""Reading what the hub display draws: the real painter, keeping every string it draws."""

from __future__ import annotations

import pygame

from hub.controls import Controls
from hub.display import draw_hub
from hub.view import HubView
from stations.ui.painter import Painter


class ReadingPainter(Painter):
    """The real painter, keeping every string it draws so a test can read the screen."""

    def __init__(self, surface: pygame.Surface) -> None:
        super().__init__(surface)
        self.texts: list[str] = []

    def text(self, text: str, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.texts.append(text)
        return super().text(text, *args, **kwargs)


def screen_text(view: HubView, controls: Controls, now: float,
                size: tuple[int, int] = (1280, 720)) -> str:
    """Every string the display draws for this view and these controls, one a line."""
    painter = ReadingPainter(pygame.Surface(size))
    draw_hub(view, painter, controls, now)
    return "\n".join(painter.texts)
