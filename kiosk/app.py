"""The kiosk window: a pygame loop around :class:`~kiosk.runtime.KioskRuntime`.

Fullscreen on a device (SDL's KMS/DRM driver, no desktop, no cursor), windowed on a laptop.
Screens lay themselves out for the display's real size. Touch arrives as finger events and,
under KMS/DRM, also as mouse events synthesised from them: those are ignored, so one touch
is one press.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from kiosk.i18n import translator
from kiosk.readers.simulated import SimulatedReader
from kiosk.runtime import KioskRuntime
from kiosk.screens.base import HEIGHT, WIDTH, Layout
from stations.sdnotify import Notifier

log = logging.getLogger(__name__)

ACTIVE_FPS = 30
#: At idle only the countdown and the badge's slow pulse change: a few frames a second.
IDLE_FPS = 5


def headless_environment() -> None:
    """Use SDL's dummy video and audio drivers (tests, CI, `stations demo --headless`)."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"


class KioskWindow:
    def __init__(self, runtime: KioskRuntime, *, screenshots: Path | None = None,
                 size: tuple[int, int] | None = None,
                 on_frame: Callable[[float], None] | None = None,
                 notifier: Notifier | None = None) -> None:
        self.runtime = runtime
        #: systemd's watchdog: READY after the first frame, a ping every loop turn.
        self.notifier = notifier or Notifier(None)
        self.screenshots = screenshots
        self.size = size
        #: Called with the monotonic time after every frame is on screen (benchmarks).
        self.on_frame = on_frame
        self._typed = ""
        self._translators: dict[str, Callable[[str], str]] = {}

    def _gettext(self, language: str) -> Callable[[str], str]:
        if language not in self._translators:
            self._translators[language] = translator(language)
        return self._translators[language]

    def run(self, seconds: float | None = None) -> None:
        import pygame

        from kiosk.sound import Sound
        from stations.ui.painter import Painter

        rt = self.runtime
        pygame.init()
        pygame.display.set_caption(f"Station {rt.station}")
        fullscreen = rt.config.fullscreen
        size = self.size or ((0, 0) if fullscreen else (WIDTH, HEIGHT))
        display = pygame.display.set_mode(size, pygame.FULLSCREEN if fullscreen else 0)
        pygame.mouse.set_visible(not fullscreen)
        rt.ctx.layout = Layout(*display.get_size())
        rt.feedback.append(Sound())
        painter = Painter(display)
        rt.start()
        started = rt.clock()
        shown: tuple[object, ...] = ()
        ready = False
        try:
            while True:
                if seconds is not None and rt.clock() - started >= seconds:
                    rt.request_stop()
                if self._events(pygame):
                    break
                rt.step()
                if rt.finished():
                    break
                now = rt.clock()
                frame = self._frame_key(now)
                if frame != shown:  # draw only when something visible changed
                    shown = frame
                    visit = rt.ctx.visit
                    painter._ = self._gettext((visit and visit.language) or rt.config.language)
                    rt.machine.current.draw(rt.ctx, painter, now)
                    pygame.display.flip()
                    if self.on_frame is not None:
                        self.on_frame(rt.clock())
                    if not ready:
                        ready = self.notifier.ready(f"station {rt.station} showing")
                    self._save_screenshot(pygame, display)
                self.notifier.ping()
                busy = rt.busy or rt.autopilot is not None
                rt.wait(1.0 / (ACTIVE_FPS if busy else IDLE_FPS))
        finally:
            self.notifier.stopping()
            rt.close()
            pygame.quit()

    def _frame_key(self, now: float) -> tuple[object, ...]:
        """Everything visible; the frame is redrawn only when this changes."""
        rt, ctx = self.runtime, self.runtime.ctx
        remaining = ctx.remaining(now)
        visit = ctx.visit
        animated = getattr(rt.machine.current, "animated", False)
        return (rt.machine.screen_id, ctx.online, ctx.reader_ok,
                None if remaining is None else int(remaining), id(visit),
                visit and visit.reply, visit and visit.display_name,
                visit and visit.question, ctx.rotation, ctx.active_notice(now),
                int(now * IDLE_FPS) if animated else 0)

    def _events(self, pygame) -> bool:  # type: ignore[no-untyped-def]
        """Turn pygame input into runtime input; True when the window should close."""
        rt = self.runtime
        L = rt.ctx.layout
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return True
            if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                if getattr(event, "touch", False):
                    continue  # synthesised from a finger: FINGERDOWN already pressed
                rt.press(*event.pos)
            elif event.type == pygame.FINGERDOWN:
                rt.press(int(event.x * L.w), int(event.y * L.h))
            elif event.type == pygame.KEYDOWN:
                if event.key == pygame.K_ESCAPE and not rt.config.fullscreen:
                    return True
                self._key(event.unicode)
        return False

    def _key(self, char: str) -> None:
        """Keys: on a laptop with the simulated reader, type a badge number and Enter;
        otherwise 1-9 press the screen's buttons in order (keyboard access)."""
        reader = self.runtime.reader
        if not isinstance(reader, SimulatedReader):
            if char.isdigit() and char != "0":
                self.runtime.physical_button(f"key_{char}")
            return
        if char in ("\r", "\n"):
            typed, self._typed = self._typed, ""
            try:
                reader.tap(typed)
            except ValueError as err:
                log.warning("typed badge ignored: %s", err)
        elif char and char.isalnum():
            self._typed = (self._typed + char)[-32:]

    def _save_screenshot(self, pygame, surface) -> None:  # type: ignore[no-untyped-def]
        # Overwritten on every draw, so each screen's file shows the last time it was seen.
        if self.screenshots is None:
            return
        self.screenshots.mkdir(parents=True, exist_ok=True)
        name = f"kiosk-{self.runtime.station}-{self.runtime.machine.screen_id.value}.png"
        pygame.image.save(surface, str(self.screenshots / name))
