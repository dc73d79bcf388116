"""The kiosk window: a pygame loop around :class:`~kiosk.runtime.KioskRuntime`.

Fullscreen on a device (SDL's KMS/DRM driver, no desktop), windowed on a laptop; screens are
laid out on an 800x480 canvas and scaled to the display, and touches are scaled back.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kiosk.i18n import translator
from kiosk.readers.simulated import SimulatedReader
from kiosk.runtime import KioskRuntime
from kiosk.screens.base import HEIGHT, WIDTH

log = logging.getLogger(__name__)

ACTIVE_FPS = 30
#: At idle the screen changes once a second (the countdown): no need to spin faster.
IDLE_FPS = 5


def headless_environment() -> None:
    """Use SDL's dummy video and audio drivers (tests, CI, `stations demo --headless`)."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"


class KioskWindow:
    def __init__(self, runtime: KioskRuntime, *, screenshots: Path | None = None) -> None:
        self.runtime = runtime
        self.screenshots = screenshots
        self._typed = ""

    def run(self, seconds: float | None = None) -> None:
        import pygame

        from stations.ui.painter import Painter

        rt = self.runtime
        pygame.init()
        pygame.display.set_caption(f"Station {rt.station}")
        fullscreen = rt.config.fullscreen
        display = pygame.display.set_mode((0, 0) if fullscreen else (WIDTH, HEIGHT),
                                          pygame.FULLSCREEN if fullscreen else 0)
        pygame.mouse.set_visible(not fullscreen)
        canvas = pygame.Surface((WIDTH, HEIGHT))
        painter = Painter(canvas, translator(rt.config.language))
        rt.start()
        started = rt.clock()
        shown: tuple[object, ...] = ()
        try:
            while True:
                if seconds is not None and rt.clock() - started >= seconds:
                    rt.request_stop()
                if self._events(pygame, display):
                    break
                rt.step()
                if rt.finished():
                    break
                now = rt.clock()
                ctx = rt.ctx
                remaining = ctx.remaining(now)
                visit = ctx.visit
                frame = (rt.machine.screen_id, ctx.online, ctx.reader_ok,
                         None if remaining is None else int(remaining), id(visit),
                         visit and visit.reply, visit and visit.display_name, ctx.rotation)
                if frame != shown:  # draw only when something visible changed
                    shown = frame
                    rt.machine.current.draw(ctx, painter, now)
                    if display.get_size() == canvas.get_size():
                        display.blit(canvas, (0, 0))
                    else:
                        pygame.transform.smoothscale(canvas, display.get_size(), display)
                    pygame.display.flip()
                    self._save_screenshot(pygame, canvas)
                busy = rt.busy or rt.autopilot is not None
                rt.wait(1.0 / (ACTIVE_FPS if busy else IDLE_FPS))
        finally:
            rt.close()
            pygame.quit()

    def _events(self, pygame, display) -> bool:  # type: ignore[no-untyped-def]
        """Turn pygame input into runtime input; True when the window should close."""
        rt = self.runtime
        sx, sy = WIDTH / display.get_width(), HEIGHT / display.get_height()
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return True
            if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                rt.press(int(event.pos[0] * sx), int(event.pos[1] * sy))
            elif event.type == pygame.FINGERDOWN:
                rt.press(int(event.x * WIDTH), int(event.y * HEIGHT))
            elif event.type == pygame.KEYDOWN:
                if event.key == pygame.K_ESCAPE and not rt.config.fullscreen:
                    return True
                self._typed_key(event.unicode)
        return False

    def _typed_key(self, char: str) -> None:
        """On a laptop, type a badge number and press Enter to tap the simulated reader."""
        reader = self.runtime.reader
        if not isinstance(reader, SimulatedReader):
            return
        if char in ("\r", "\n"):
            typed, self._typed = self._typed, ""
            try:
                reader.tap(typed)
            except ValueError as err:
                log.warning("typed badge ignored: %s", err)
        elif char and char.isalnum():
            self._typed = (self._typed + char)[-32:]

    def _save_screenshot(self, pygame, canvas) -> None:  # type: ignore[no-untyped-def]
        # Overwritten on every draw, so each screen's file shows the last time it was seen.
        if self.screenshots is None:
            return
        self.screenshots.mkdir(parents=True, exist_ok=True)
        name = f"kiosk-{self.runtime.station}-{self.runtime.machine.screen_id.value}.png"
        pygame.image.save(canvas, str(self.screenshots / name))
