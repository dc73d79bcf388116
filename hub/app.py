"""Run the hub: the service, and the display window if configured."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from hub.config import HubConfig
from hub.controls import Controls
from hub.display import draw_hub
from hub.service import HubService
from stations.sdnotify import Notifier

log = logging.getLogger(__name__)


def run_hub(config: HubConfig, *, stop: threading.Event, seconds: float | None = None,
            screenshot: Path | None = None, stats: Path | None = None,
            notifier: Notifier | None = None) -> HubService:
    notifier = notifier or Notifier(None)
    service = HubService(config)
    service.start()
    notifier.ready(f"hub for room {service.room} running")
    started = time.monotonic()
    try:
        if config.display:
            _display_loop(service, stop, started, seconds, screenshot, notifier)
        else:
            while not stop.wait(0.5):
                _watchdog(service, notifier)
                if seconds is not None and time.monotonic() - started >= seconds:
                    break
    finally:
        notifier.stopping()
        service.stop()
        if stats is not None:
            s = service.ingest.stats
            stats.write_text(json.dumps({"stored": s.stored, "duplicates": s.duplicates,
                                         "unknown_badges": s.unknown_badges, "hellos": s.hellos,
                                         "rejected": dict(s.rejected),
                                         "refused": dict(s.refused),
                                         "notices_sent": service.notices_published,
                                         "broker_refused": service.bus.refused,
                                         "unsendable": service.unsendable + s.unsendable}))
    return service


def _watchdog(service: HubService, notifier: Notifier) -> None:
    """Ping systemd only while the ingest thread is really turning: a hung hub restarts."""
    if service.alive:
        notifier.ping()


def _display_loop(service: HubService, stop: threading.Event, started: float,
                  seconds: float | None, screenshot: Path | None,
                  notifier: Notifier) -> None:
    import pygame

    from hub.painter import HubPainter

    pygame.init()
    pygame.display.set_caption(f"Classroom hub · room {service.room}")
    flags = pygame.FULLSCREEN if service.config.fullscreen else pygame.RESIZABLE
    display = pygame.display.set_mode((0, 0) if service.config.fullscreen
                                      else service.config.window, flags)
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
                    stop.set()
                elif event.type == pygame.VIDEORESIZE and not service.config.fullscreen:
                    display = pygame.display.set_mode((max(1024, event.w), max(600, event.h)),
                                                      flags)
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
            draw_hub(service.view, HubPainter(display), controls, now)
            pygame.display.flip()
            # Saved as check-ins arrive (at most once a second), so the picture shows the
            # room in use rather than the stations going offline at the end.
            view, mono = service.view, time.monotonic()
            if screenshot is not None and (saved is None or (view.stored != saved[0]
                                                             and mono - saved[1] >= 1.0)):
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                pygame.image.save(display, str(screenshot))
                saved = (view.stored, mono)
            clock.tick(8)
    finally:
        pygame.quit()


def _send(service: HubService, actions: list) -> None:  # type: ignore[type-arg]
    for action in actions:
        service.act(action)
