"""A virtual X screen (Xvfb) for tests that open real windows: where they are, and a picture.

    with VirtualScreen((1366, 768)) as screen:
        env = screen.environment()          # DISPLAY for the programs under test
        ...
        screen.windows()                    # [Window(title, x, y, w, h), ...]
        screen.save(path)                   # a PNG of the whole screen

Xvfb picks a free display number itself (``-displayfd``), so tests running side by side do
not collide. Window geometry and the picture come from the X server through python-xlib.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Window:
    title: str
    x: int
    y: int
    w: int
    h: int

    def overlaps(self, other: Window) -> bool:
        return not (self.x + self.w <= other.x or other.x + other.w <= self.x
                    or self.y + self.h <= other.y or other.y + other.h <= self.y)


def have_xvfb() -> bool:
    return shutil.which("Xvfb") is not None


class VirtualScreen:
    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        self.display = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._x: Any = None

    def start(self, timeout: float = 15.0) -> VirtualScreen:
        read, write = os.pipe()
        w, h = self.size
        self._proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{w}x{h}x24", "-nolisten",
             "tcp", "-noreset"], pass_fds=(write,), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(write)
        number = b""
        deadline = time.monotonic() + timeout
        with os.fdopen(read, "rb") as pipe:
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            self.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number.strip().decode()}"
        from Xlib import display as xdisplay

        self._x = xdisplay.Display(self.display)
        return self

    def environment(self) -> dict[str, str]:
        """The environment for programs that open windows on this screen."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY")}
        env.update(DISPLAY=self.display, SDL_VIDEODRIVER="x11", SDL_AUDIODRIVER="dummy")
        return env

    def windows(self) -> list[Window]:
        """The mapped top-level windows that have a title, with their place on the screen."""
        from Xlib import X

        x = self._x
        root = x.screen().root
        name_atom = x.intern_atom("_NET_WM_NAME")
        utf8 = x.intern_atom("UTF8_STRING")
        found = []
        for child in root.query_tree().children:
            try:
                if child.get_attributes().map_state != X.IsViewable:
                    continue
                prop = child.get_full_property(name_atom, utf8)
                title = (prop.value.decode("utf-8") if prop is not None
                         else (child.get_wm_name() or ""))
                if not title:
                    continue
                geometry = child.get_geometry()
                origin = root.translate_coords(child, 0, 0)
            except Exception:  # a window that closed meanwhile
                continue
            found.append(Window(title, origin.x, origin.y, geometry.width, geometry.height))
        return found

    def save(self, path: Path) -> Path:
        """A PNG of the whole screen as it is now."""
        import numpy as np
        import pygame
        from Xlib import X

        w, h = self.size
        raw = self._x.screen().root.get_image(0, 0, w, h, X.ZPixmap, 0xFFFFFFFF)
        # 24-bit depth comes as 32-bit pixels, blue first, the fourth byte unused.
        pixels = np.frombuffer(bytes(raw.data), np.uint8).reshape(h, w, 4)[:, :, 2::-1]
        image = pygame.image.frombuffer(np.ascontiguousarray(pixels).tobytes(), (w, h), "RGB")
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(image, str(path))
        return path

    def stop(self) -> None:
        if self._x is not None:
            self._x.close()
            self._x = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> VirtualScreen:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
