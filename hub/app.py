"""Run the hub: the service, and the display window if configured."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from hub.config import HubConfig
from hub.controls import Controls
from hub.display import draw_hub
from hub.service import HubService
from stations.sdnotify import Notifier
from stations.ui.window import WindowGeometry, open_window, start_display

log = logging.getLogger(__name__)


def run_hub(config: HubConfig, *, stop: threading.Event, seconds: float | None = None,
            screenshot: Path | None = None, stats: Path | None = None,
            notifier: Notifier | None = None,
            window: WindowGeometry | None = None,
            last_picture: threading.Event | None = None,
            on_close: Callable[[], None] | None = None) -> HubService:
    """Run until ``stop`` is set (or ``seconds`` pass).

    With ``screenshot``, the display is saved there as check-ins arrive (at most once a
    second); once ``last_picture`` is set, it is saved one last time and then left alone, so
    the picture shows the room while its stations are still connected. Closing the window
    calls ``on_close`` (default: stop).
    """
    notifier = notifier or Notifier(None)
    service = HubService(config)
    service.start()
    console = None
    if config.console.enabled:
        from hub.console.server import ConsoleServer  # the web stack only where it is used

        console = ConsoleServer(service, config.console).start()
    notifier.ready(f"hub for room {service.room} running")
    started = time.monotonic()
    #: The stations online in the picture last saved (the demo checks it showed them live).
    pictured: list[str] = []
    try:
        if config.display:
            _display_loop(service, stop, started, seconds, screenshot, notifier, window,
                          last_picture or threading.Event(), on_close or stop.set, pictured)
        else:
            while not stop.wait(0.5):
                _watchdog(service, notifier)
                if seconds is not None and time.monotonic() - started >= seconds:
                    break
    finally:
        notifier.stopping()
        if console is not None:
            console.stop()
        service.stop()
        if stats is not None:
            s = service.ingest.stats
            up = service.uplink
            district = ({"sent": up.sent, "resent": up.resent, "confirmed": up.confirmed,
                         "refused": up.refused} if up is not None else None)
            stats.write_text(json.dumps({"stored": s.stored, "duplicates": s.duplicates,
                                         "unknown_badges": s.unknown_badges, "hellos": s.hellos,
                                         "rejected": dict(s.rejected),
                                         "refused": dict(s.refused),
                                         "notices_sent": service.notices_published,
                                         "notices_unheard": service.notices_unheard,
                                         "notices_due": service.notices_due,
                                         "broker_refused": service.bus.refused,
                                         "unsendable": service.unsendable + s.unsendable,
                                         "pictured_online": pictured,
                                         "district": district}))
    return service


def _watchdog(service: HubService, notifier: Notifier) -> None:
    """Ping systemd only while the ingest thread is really turning: a hung hub restarts."""
    if service.alive:
        notifier.ping()


def _display_loop(service: HubService, stop: threading.Event, started: float,
                  seconds: float | None, screenshot: Path | None,
                  notifier: Notifier, window: WindowGeometry | None,
                  last_picture: threading.Event, on_close: Callable[[], None],
                  pictured: list[str]) -> None:
    import pygame

    from stations.ui.painter import Painter

    start_display(pygame)  # no sound on the hub
    pygame.font.init()
    fullscreen = service.config.fullscreen
    display = open_window(pygame, f"Classroom hub · room {service.room}",
                          fullscreen=fullscreen, geometry=window,
                          default=service.config.window, resizable=True)
    # A window may be made smaller than the display was designed for (the demo's room on one
    # screen), never smaller than it opened.
    min_w, min_h = (min(v, m) for v, m in zip(display.get_size(), (1024, 600), strict=True))
    painter = Painter(display)
    controls = Controls(idle_s=service.config.teacher_idle_s)
    clock = pygame.time.Clock()
    saved: tuple[int, float] | None = None  # (check-ins shown, when)
    try:
        while not stop.is_set():
            if seconds is not None and time.monotonic() - started >= seconds:
                break
            w, h = display.get_size()
            now = time.time()
            for event in pygame.event.get():
                view = service.view
                if event.type == pygame.QUIT:
                    on_close()
                elif event.type == pygame.VIDEORESIZE and not fullscreen:
                    display = pygame.display.set_mode((max(min_w, event.w),
                                                       max(min_h, event.h)), pygame.RESIZABLE)
                    painter.surface = display
                elif event.type == pygame.KEYDOWN:
                    name = "+" if event.unicode == "+" else pygame.key.name(event.key)
                    _send(service, controls.key(name, view, w, h, now))
                elif (event.type == pygame.MOUSEBUTTONDOWN and event.button == 1
                      and not getattr(event, "touch", False)):
                    # SDL also turns each touch into a mouse event marked ``touch``: the
                    # FINGERDOWN below handles it, once
                    _send(service, controls.press(*event.pos, view, w, h, now))
                elif event.type == pygame.FINGERDOWN:
                    # fingers come in 0..1 of the window
                    _send(service, controls.press(int(event.x * w), int(event.y * h), view,
                                                  w, h, now))
            _watchdog(service, notifier)
            _send(service, controls.update(service.view, now))
            draw_hub(service.view, painter, controls, now)
            pygame.display.flip()
            # Saved as check-ins arrive (at most once a second), so the picture shows the
            # room in use rather than the stations going offline at the end.
            view, mono = service.view, time.monotonic()
            if screenshot is not None and (saved is None or last_picture.is_set()
                                           or (view.stored != saved[0]
                                               and mono - saved[1] >= 1.0)):
                _save(pygame, display, screenshot)
                saved = (view.stored, mono)
                pictured[:] = sorted(sid for sid, state in view.station_states.items()
                                     if state == "online")
                if last_picture.is_set():
                    screenshot = None
            clock.tick(8)
    finally:
        pygame.quit()


def _save(pygame, surface, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Write the PNG whole or not at all: someone may be reading it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.stem}.part.png")  # pygame picks the format by suffix
    pygame.image.save(surface, str(part))
    os.replace(part, path)


def _send(service: HubService, actions: list) -> None:  # type: ignore[type-arg]
    for action in actions:
        service.act(action)
