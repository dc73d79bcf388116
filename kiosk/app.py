"""The kiosk window: a pygame loop around :class:`~kiosk.runtime.KioskRuntime`.

Fullscreen on a device (SDL's KMS/DRM driver, no desktop, no cursor), windowed on a laptop.
Screens lay themselves out for the display's real size. Touch arrives as finger events and,
under KMS/DRM, also as mouse events synthesised from them: those are ignored, so one touch
is one press.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from kiosk.i18n import translator
from kiosk.readers.simulated import SimulatedReader
from kiosk.runtime import KioskRuntime
from kiosk.screens.base import HEIGHT, WIDTH, Layout
from kiosk.screens.chrome import MOVE_CYCLE_S
from stations.sdnotify import Notifier
from stations.ui.window import (
    WindowGeometry,
    headless_environment,
    open_window,
    start_display,
)

__all__ = ["KioskWindow", "headless_environment"]

log = logging.getLogger(__name__)

ACTIVE_FPS = 30
#: At idle only the countdown and the badge's slow pulse change: a few frames a second.
IDLE_FPS = 5


class KioskWindow:
    def __init__(self, runtime: KioskRuntime, *, screenshots: Path | None = None,
                 geometry: WindowGeometry | None = None,
                 on_frame: Callable[[float], None] | None = None,
                 notifier: Notifier | None = None) -> None:
        self.runtime = runtime
        #: systemd's watchdog: READY after the first frame, a ping every loop turn.
        self.notifier = notifier or Notifier(None)
        self.screenshots = screenshots
        #: A window's size and place on a desktop; given, it wins over fullscreen.
        self.geometry = geometry
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
        start_display(pygame)
        pygame.init()
        fullscreen = rt.config.fullscreen and self.geometry is None
        display = open_window(pygame, f"{rt.config.name} · station {rt.station}",
                              fullscreen=fullscreen, geometry=self.geometry,
                              default=(WIDTH, HEIGHT))
        pygame.mouse.set_visible(not fullscreen)
        rt.ctx.layout = Layout(*display.get_size())
        rt.feedback.append(Sound())
        speaker = self._speaker()
        rt.voice = speaker
        painter = Painter(display)
        rt.start()
        started = rt.clock()
        shown: tuple[object, ...] = ()
        ready = False
        try:
            while True:
                if seconds is not None and rt.clock() - started >= seconds:
                    rt.request_stop()
                self._events(pygame)
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
            if speaker is not None:
                speaker.close()
            pygame.quit()

    def _speaker(self):  # type: ignore[no-untyped-def]
        """The station's voice, or None (turned off, or no engine or sound: said once)."""
        from kiosk.speaker import MixerPlayer, Speaker
        from kiosk.voice import ClipCache, VoiceError, open_voices

        settings = self.runtime.config.voice
        if not settings.enabled:
            return None
        try:
            cache = ClipCache(settings.cache, open_voices(settings))
            return Speaker(cache, MixerPlayer(settings.volume), self._gettext)
        except VoiceError as err:
            log.warning("no spoken prompts: %s", err)
            return None

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
                int(now / MOVE_CYCLE_S) if ctx.moving(now) else -1,
                int(now * IDLE_FPS) if animated else 0)

    def _events(self, pygame) -> None:  # type: ignore[no-untyped-def]
        """Turn pygame input into runtime input; closing the window (or Esc on a laptop)
        stops the station as a signal does."""
        rt = self.runtime
        L = rt.ctx.layout
        for event in pygame.event.get():
            if event.type == pygame.QUIT:  # the visit ends and the outbox drains first
                rt.request_stop()
            if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                if getattr(event, "touch", False):
                    continue  # synthesised from a finger: FINGERDOWN already pressed
                rt.press(*event.pos)
            elif event.type == pygame.FINGERDOWN:
                rt.press(int(event.x * L.w), int(event.y * L.h))
            elif event.type == pygame.KEYDOWN:
                if event.key == pygame.K_ESCAPE and not rt.config.fullscreen:
                    rt.request_stop()
                self._key(event.unicode)

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
