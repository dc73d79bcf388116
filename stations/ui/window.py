"""Opening the hub's or a kiosk's window: fullscreen on a device, a placed window on a desktop.

``WindowGeometry`` is the X11-style ``WIDTHxHEIGHT+X+Y`` the ``--window`` option takes; the
demo gives every process its own, so a room fits side by side on one screen.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from stations.errors import DisplayError
from stations.ui.kmsdrm import check_display

_GEOMETRY = re.compile(r"^(\d+)x(\d+)(?:\+(\d+)\+(\d+))?$")


@dataclass(frozen=True, slots=True)
class WindowGeometry:
    w: int
    h: int
    #: None: wherever the desktop puts it.
    x: int | None = None
    y: int | None = None

    @classmethod
    def parse(cls, text: str) -> WindowGeometry:
        m = _GEOMETRY.match(text.strip().lower())
        if m is None:
            raise ValueError(f"{text!r} is not WIDTHxHEIGHT or WIDTHxHEIGHT+X+Y "
                             "(e.g. 800x480+0+0)")
        w, h = int(m[1]), int(m[2])
        if w < 160 or h < 100:
            raise ValueError(f"{text!r}: a window needs at least 160x100 pixels")
        return cls(w, h, None if m[3] is None else int(m[3]),
                   None if m[4] is None else int(m[4]))

    @property
    def size(self) -> tuple[int, int]:
        return self.w, self.h

    @property
    def right(self) -> int:
        return (self.x or 0) + self.w

    @property
    def bottom(self) -> int:
        return (self.y or 0) + self.h

    def overlaps(self, other: WindowGeometry) -> bool:
        return not (self.right <= (other.x or 0) or other.right <= (self.x or 0)
                    or self.bottom <= (other.y or 0) or other.bottom <= (self.y or 0))

    def __str__(self) -> str:
        place = "" if self.x is None or self.y is None else f"+{self.x}+{self.y}"
        return f"{self.w}x{self.h}{place}"


def headless_environment() -> None:
    """Use SDL's dummy video and audio drivers (tests, CI, `stations demo --headless`)."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"


def start_display(pygame: Any) -> None:
    """Start pygame's display, or raise :class:`~stations.errors.DisplayError` saying why not.

    :func:`~stations.ui.kmsdrm.check_display` names what KMS/DRM lacks; a refusal it did not
    foresee (SDL's own "kmsdrm not available", a desktop that went away) is reported the same
    way, not as a traceback."""
    check_display()
    try:
        pygame.display.init()
    except pygame.error as err:
        raise DisplayError(os.environ.get("SDL_VIDEODRIVER") or "default", [str(err)]) from err


def open_window(pygame: Any, title: str, *, fullscreen: bool,
                geometry: WindowGeometry | None, default: tuple[int, int],
                resizable: bool = False) -> Any:
    """The display surface: the screen's own size when fullscreen, else a window of
    ``geometry`` (placed where it says) or ``default``. Call after :func:`start_display`.

    Under SDL's KMS/DRM driver (a device), a screen that cannot be opened raises
    :class:`~stations.errors.DisplayError` naming what is missing, instead of SDL's
    "kmsdrm not available" and a dark screen."""
    check_display()
    if fullscreen:
        surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
    else:
        if geometry is not None and geometry.x is not None and geometry.y is not None:
            # Read by pygame when the window is created (SDL 2 has no other way before it).
            os.environ["SDL_VIDEO_WINDOW_POS"] = f"{geometry.x},{geometry.y}"
        size = geometry.size if geometry is not None else default
        surface = pygame.display.set_mode(size, pygame.RESIZABLE if resizable else 0)
    pygame.display.set_caption(title)
    return surface
