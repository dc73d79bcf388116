"""USB badge readers that type the badge number like a keyboard, read through evdev.

The device is grabbed (``EVIOCGRAB``) so its digits reach only us, never pygame, a console
or another program. Pick the device by its stable path (``/dev/input/by-id/...-event-kbd``)
or by a part of its name; it may be unplugged and plugged back in while the kiosk runs.

:class:`KeyDecoder` is the pure part: key-down events in, badge strings out. A badge ends
with Enter; a pause longer than ``max_gap_s`` between keys throws away a half-typed number
(a reader types a whole badge in a few milliseconds, a person does not).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import time
from collections.abc import Callable

from kiosk.readers.base import BadgeTap, ReaderThread, TapCallback, TapFilter, normalise_badge
from stations.errors import ReaderError

log = logging.getLogger(__name__)

EV_KEY, KEY_DOWN = 0x01, 1


def _keymap() -> tuple[dict[int, str], frozenset[int]]:
    from evdev import ecodes

    keys = {getattr(ecodes, f"KEY_{c}"): c for c in "0123456789ABCDEF"}
    keys.update({getattr(ecodes, f"KEY_KP{d}"): d for d in "0123456789"})
    return keys, frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER})


class KeyDecoder:
    """Key-down codes and their times in, complete badge numbers out. Pure."""

    def __init__(self, keys: dict[int, str], enter: frozenset[int], *, max_gap_s: float = 0.1,
                 max_length: int = 32) -> None:
        self.keys, self.enter = keys, enter
        self.max_gap_s, self.max_length = max_gap_s, max_length
        self._typed: list[str] = []
        self._last = 0.0
        self.dropped = 0

    def key_down(self, code: int, at: float) -> str | None:
        if self._typed and at - self._last > self.max_gap_s:
            log.warning("keyboard: half-typed badge %r dropped after a %.2f s pause",
                        "".join(self._typed), at - self._last)
            self.dropped += 1
            self._typed.clear()
        self._last = at
        if code in self.enter:
            typed, self._typed = "".join(self._typed), []
            return typed or None
        char = self.keys.get(code)
        if char is None:
            if self._typed:
                log.warning("keyboard: unexpected key %d in a badge number; dropped", code)
                self.dropped += 1
                self._typed.clear()
            return None
        if len(self._typed) >= self.max_length:
            self._typed.clear()
            self.dropped += 1
        self._typed.append(char)
        return None


class KeyboardReader:
    """A :class:`~kiosk.readers.base.BadgeReader` for keyboard-wedge readers.

    ``open_device`` (for tests) returns an object shaped like ``evdev.InputDevice``
    (``fd``, ``read()``, ``grab()``, ``ungrab()``, ``close()``, ``name``, ``path``).
    """

    name = "keyboard"
    OPTIONS = frozenset({"device", "name_contains", "repeat_s", "max_gap_s"})

    def __init__(self, device: str | None = None, *, name_contains: str | None = None,
                 repeat_s: float = 3.0, max_gap_s: float = 0.1,
                 open_device: Callable[[], object] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if device is None and name_contains is None and open_device is None:
            raise ValueError("give the device path or a part of its name")
        self.device_path = device
        self.name_contains = name_contains
        self.max_gap_s = max_gap_s
        self.clock = clock
        self._open_device = open_device or self._open_evdev
        self._filter = TapFilter(repeat_s)
        self._dev = None
        self._decoder: KeyDecoder | None = None
        self._wake_r, self._wake_w = -1, -1
        self._worker = ReaderThread("keyboard", join_s=2)
        self._healthy = False

    @classmethod
    def from_options(cls, options) -> KeyboardReader:
        device = options.get("device", str, "") or None
        name_contains = options.get("name_contains", str, "") or None
        if device is None and name_contains is None:
            raise options.error("device", "give device (a /dev/input/by-id/ path) or "
                                          "name_contains for a keyboard reader")
        return cls(device, name_contains=name_contains,
                   repeat_s=options.positive("repeat_s", float, 3.0),
                   max_gap_s=options.positive("max_gap_s", float, 0.1))

    @property
    def healthy(self) -> bool:
        return self._healthy

    def _open_evdev(self):
        import evdev

        if self.device_path is not None:
            return evdev.InputDevice(self.device_path)
        for path in evdev.list_devices():
            dev = evdev.InputDevice(path)
            if self.name_contains.lower() in dev.name.lower():
                return dev
            dev.close()
        raise FileNotFoundError(errno.ENOENT, f"no input device named like "
                                              f"{self.name_contains!r}")

    def _connect(self) -> None:
        try:
            dev = self._open_device()
        except OSError as err:
            raise ReaderError(self.name, f"cannot open {self.device_path or self.name_contains}"
                                         f": {err.strerror or err}") from err
        try:
            dev.grab()
        except OSError as err:
            dev.close()
            raise ReaderError(self.name, f"cannot grab {dev.path} ({err.strerror or err}); "
                                         f"another program holds it") from err
        self._dev = dev
        self._healthy = True
        log.info("keyboard: reading %s (%s), grabbed", dev.path, dev.name)

    def start(self, on_tap: TapCallback) -> None:
        self._worker.ensure_idle()
        keys, enter = _keymap()
        self._decoder = KeyDecoder(keys, enter, max_gap_s=self.max_gap_s)
        self._connect()
        self._wake_r, self._wake_w = os.pipe()
        self._worker.start(lambda: self._run(on_tap))

    def close(self) -> None:
        self._worker.stop.set()
        if self._wake_w >= 0:
            os.write(self._wake_w, b"x")
        self._worker.end()
        self._drop_device()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def _drop_device(self) -> None:
        if self._dev is not None:
            with contextlib.suppress(OSError):  # already gone with the USB device
                self._dev.ungrab()
            self._dev.close()
            self._dev = None
        self._healthy = False

    def _run(self, on_tap: TapCallback) -> None:
        while not self._worker.stop.is_set():
            if self._dev is None:
                try:
                    self._connect()
                except ReaderError:
                    self._worker.stop.wait(2.0)
                    continue
            ready, _, _ = select.select([self._dev.fd, self._wake_r], [], [], 1.0)
            if self._wake_r in ready or not ready:
                continue
            try:
                events = list(self._dev.read())
            except BlockingIOError:
                continue
            except OSError as err:
                log.error("keyboard: reader fault: %s (%s); waiting for it to come back",
                          self._dev.path, err.strerror or err)
                self._drop_device()
                continue
            for event in events:
                if event.type == EV_KEY and event.value == KEY_DOWN:
                    self._key(event.code, event.timestamp(), on_tap)

    def _key(self, code: int, at: float, on_tap: TapCallback) -> None:
        assert self._decoder is not None
        typed = self._decoder.key_down(code, at)
        if typed is None:
            return
        try:
            badge = normalise_badge(typed)
        except ValueError as err:
            log.warning("keyboard: %s; ignored", err)
            return
        now = self.clock()
        if self._filter.seen(badge, now):
            try:
                on_tap(BadgeTap(badge, now, self.name))
            except Exception:
                log.exception("keyboard: tap handler failed")
