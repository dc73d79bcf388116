"""A reader with no hardware: tests and the demo call :meth:`SimulatedReader.tap`."""

from __future__ import annotations

import threading
import time

from kiosk.readers.base import BadgeTap, TapCallback, TapFilter, normalise_badge


class SimulatedReader:
    """Drive it like a card: ``tap(uid)``; inspect it: ``taps`` lists what it passed on."""

    name = "simulated"

    def __init__(self, repeat_s: float = 3.0, clock=time.monotonic) -> None:
        self._filter = TapFilter(repeat_s)
        self._clock = clock
        self._on_tap: TapCallback | None = None
        self._lock = threading.Lock()
        self.taps: list[BadgeTap] = []
        self.healthy = True

    def start(self, on_tap: TapCallback) -> None:
        self._on_tap = on_tap

    def close(self) -> None:
        self._on_tap = None

    def tap(self, uid: str | bytes) -> BadgeTap | None:
        """Present a card once; returns the tap, or None if the filter swallowed it."""
        badge = normalise_badge(uid)
        now = self._clock()
        with self._lock:
            if not self._filter.seen(badge, now):
                return None
            tap = BadgeTap(badge, now, self.name)
            self.taps.append(tap)
            callback = self._on_tap
        if callback is not None:
            callback(tap)
        return tap
