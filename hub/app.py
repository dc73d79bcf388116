"""Run the hub: the service, and the display window if configured."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from hub.config import HubConfig
from hub.display import HEIGHT, WIDTH, draw_hub
from hub.service import HubService

log = logging.getLogger(__name__)

KEYS = {"space": "toggle", "n": "skip", "+": "extend", "=": "extend", "s": "start", "e": "end"}


def run_hub(config: HubConfig, *, stop: threading.Event, seconds: float | None = None,
            screenshot: Path | None = None, stats: Path | None = None) -> HubService:
    service = HubService(config)
    service.start()
    started = time.monotonic()
    try:
        if config.display:
            _display_loop(service, stop, started, seconds, screenshot)
        else:
            while not stop.wait(0.5):
                if seconds is not None and time.monotonic() - started >= seconds:
                    break
    finally:
        service.stop()
        if stats is not None:
            s = service.ingest.stats
            stats.write_text(json.dumps({"stored": s.stored, "duplicates": s.duplicates,
                                         "unknown_badges": s.unknown_badges, "hellos": s.hellos,
                                         "rejected": dict(s.rejected)}))
    return service


def _display_loop(service: HubService, stop: threading.Event, started: float,
                  seconds: float | None, screenshot: Path | None) -> None:
    import pygame

    from stations.ui.painter import Painter

    pygame.init()
    pygame.display.set_caption(f"Classroom hub · room {service.room}")
    flags = pygame.FULLSCREEN if service.config.fullscreen else 0
    display = pygame.display.set_mode((0, 0) if flags else (WIDTH, HEIGHT), flags)
    canvas = pygame.Surface((WIDTH, HEIGHT))
    painter = Painter(canvas)
    clock = pygame.time.Clock()
    saved: tuple[int, float] | None = None  # (check-ins shown, when)
    try:
        while not stop.is_set():
            if seconds is not None and time.monotonic() - started >= seconds:
                break
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    stop.set()
                elif event.type == pygame.KEYDOWN:
                    _key(service, pygame.key.name(event.key))
            draw_hub(service.view, painter)
            if display.get_size() == canvas.get_size():
                display.blit(canvas, (0, 0))
            else:
                pygame.transform.smoothscale(canvas, display.get_size(), display)
            pygame.display.flip()
            # Saved as check-ins arrive (at most once a second), so the picture shows the
            # room in use rather than the stations going offline at the end.
            view, now = service.view, time.monotonic()
            if screenshot is not None and (saved is None or (view.stored != saved[0]
                                                             and now - saved[1] >= 1.0)):
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                pygame.image.save(canvas, str(screenshot))
                saved = (view.stored, now)
            clock.tick(4)
    finally:
        pygame.quit()


def _key(service: HubService, name: str) -> None:
    action = KEYS.get(name)
    if action == "toggle":
        paused = service.view.rotation.phase.value == "paused"
        service.teacher("resume" if paused else "pause")
    elif action == "extend":
        service.teacher("extend", minutes=5)
    elif action is not None:
        service.teacher(action)
