"""The badge reader interface every reader implements, and the tap filter they share.

A reader runs its own background thread (or none, for the simulated one) and calls
``on_tap`` with a :class:`BadgeTap` for every card that passes the :class:`TapFilter`.
The kiosk loop never blocks on a reader.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# The badge id format is part of the wire contract; readers re-export its normaliser.
from broker.contract import normalise_badge
from stations.errors import ReaderError

__all__ = ["BadgeReader", "BadgeTap", "ReaderThread", "TapCallback", "TapFilter",
           "normalise_badge"]


@dataclass(frozen=True, slots=True)
class BadgeTap:
    """One accepted tap: the normalised badge id, when (``time.monotonic()``), and which reader."""

    badge: str
    at: float
    reader: str = ""


TapCallback = Callable[[BadgeTap], None]


@runtime_checkable
class BadgeReader(Protocol):
    """What the kiosk needs from any badge reader."""

    #: Short name for logs and the status message, e.g. ``"mfrc522"``.
    name: str

    def start(self, on_tap: TapCallback) -> None:
        """Begin reading; ``on_tap`` may be called from another thread."""

    def close(self) -> None:
        """Stop reading and release the hardware. Safe to call twice."""

    @property
    def healthy(self) -> bool:
        """False while the reader is known to be faulty (shown on screen as a reader fault)."""


@dataclass
class TapFilter:
    """Turns raw card sightings into taps.

    A card held on the reader is seen again and again: that is one tap. The same card seen
    again within ``repeat_s`` seconds after it was last seen is not a new tap either, so a
    student who taps twice in a hurry checks in once. Pure: the caller passes ``now``.
    """

    repeat_s: float = 3.0
    _last_seen: dict[str, float] = field(default_factory=dict)

    def seen(self, badge: str, now: float) -> bool:
        """Record a sighting; True if it is a new tap."""
        last = self._last_seen.get(badge)
        self._last_seen[badge] = now
        # Forget old cards so the dict stays small on a station that runs for months.
        if len(self._last_seen) > 256:
            cutoff = now - self.repeat_s
            self._last_seen = {b: t for b, t in self._last_seen.items() if t >= cutoff}
        return last is None or now - last > self.repeat_s


class ReaderThread:
    """The one background thread a hardware reader runs: started once, ended by :meth:`end`.

    The reader's loop runs ``while not thread.stop.is_set()`` and sleeps with
    ``thread.stop.wait(...)`` so that closing it never waits out a poll interval.
    """

    def __init__(self, name: str, join_s: float = 2.0) -> None:
        self.name = name
        self.join_s = join_s
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None

    def ensure_idle(self) -> None:
        """Raise before touching hardware if the reader was started already."""
        if self._thread is not None:
            raise ReaderError(self.name, "already started")

    def start(self, target: Callable[[], None]) -> None:
        self.ensure_idle()
        self.stop.clear()
        self._thread = threading.Thread(target=target, name=self.name, daemon=True)
        self._thread.start()

    def end(self) -> None:
        """Ask the loop to stop and wait for it (at most ``join_s``). Safe to call twice."""
        self.stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self.join_s)
