"""Shared fixtures: a real Mosquitto per test, SDL's dummy driver, config files in tmp_path."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before anything imports pygame: no window, no sound card, no banner.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPO = Path(__file__).resolve().parent.parent
ROOM = REPO / "stations" / "room"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[object]:
    from broker.mosquitto import Mosquitto, find_mosquitto

    try:
        find_mosquitto()
    except Exception as err:  # pragma: no cover - CI installs it
        pytest.skip(str(err))
    broker = Mosquitto(workdir=tmp_path / "broker")
    (tmp_path / "broker").mkdir()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
               step: Callable[[], None] | None = None, interval: float = 0.01) -> bool:
    """Poll ``predicate`` (running ``step`` between polls) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step is not None:
            step()
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def room(tmp_path: Path) -> Callable[..., Path]:
    """Copy the demo room's config into tmp_path with a broker port; returns the folder."""
    def make(port: int = 1883, **hub_overrides: str) -> Path:
        shutil.copy(ROOM / "roster.toml", tmp_path / "roster.toml")
        text = (ROOM / "hub.toml").read_text().replace("port = 1883", f"port = {port}")
        for old, new in hub_overrides.items():
            text = text.replace(old, new)
        (tmp_path / "hub.toml").write_text(text)
        for sid in ("s1", "s2", "s3", "s4"):
            kiosk = ((ROOM / "kiosk.toml").read_text()
                     .replace('station = "s1"', f'station = "{sid}"')
                     .replace("port = 1883", f"port = {port}")
                     .replace("outbox-s1.db", f"outbox-{sid}.db"))
            (tmp_path / f"kiosk-{sid}.toml").write_text(kiosk)
        return tmp_path
    return make
