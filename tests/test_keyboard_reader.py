"""Keyboard-wedge readers through evdev.

/dev/uinput is not available here, so the device edge is a fake: an ``evdev.eventio.EventIO``
on a pipe into which the test writes real ``struct input_event`` records; evdev's own C
reader decodes them, as it would from /dev/input/eventN.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
import threading
import time

import pytest

evdev = pytest.importorskip("evdev")
from evdev import ecodes  # noqa: E402
from evdev.eventio import EventIO  # noqa: E402

from kiosk.readers.keyboard import KeyboardReader  # noqa: E402
from stations.errors import ReaderError  # noqa: E402


class FakeInputDevice(EventIO):
    """The kernel end of /dev/input/eventN: events in, EVIOCGRAB recorded."""

    def __init__(self, *, busy: bool = False) -> None:
        self.fd, self._w = os.pipe()
        os.set_blocking(self.fd, False)
        self.path = "/dev/input/by-id/usb-Reader-event-kbd"
        self.name = "HID 0c27:3bfa"
        self.grabbed = False
        self.busy = busy
        self.unplugged = False

    def grab(self) -> None:
        if self.busy:
            raise OSError(errno.EBUSY, "Device or resource busy")
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    def read(self):
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        return super().read()

    def close(self) -> None:
        for fd in (self.fd, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def key(self, code: int, value: int, at: float | None = None) -> None:
        at = time.time() if at is None else at
        sec, usec = int(at), int((at % 1) * 1e6)
        record = struct.pack("llHHi", sec, usec, ecodes.EV_KEY, code, value)
        record += struct.pack("llHHi", sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)
        os.write(self._w, record)

    def type(self, text: str, at: float | None = None, gap: float = 0.002) -> None:
        at = time.time() if at is None else at
        for i, char in enumerate(text):
            code = ecodes.KEY_ENTER if char == "\n" else getattr(ecodes, f"KEY_{char}")
            self.key(code, 1, at + i * gap)
            self.key(code, 0, at + i * gap + 0.001)

    def unplug(self) -> None:
        self.unplugged = True
        os.write(self._w, b"\0" * 24)


def start(device):
    reader = KeyboardReader(open_device=lambda: device)
    taps = []
    cond = threading.Condition()

    def on_tap(tap):
        with cond:
            taps.append(tap)
            cond.notify_all()

    reader.start(on_tap)
    return reader, taps, cond


def wait_taps(taps, cond, n, timeout=2.0) -> bool:
    with cond:
        return cond.wait_for(lambda: len(taps) >= n, timeout)


def test_typed_badge_and_enter_is_a_tap_and_the_device_is_grabbed() -> None:
    device = FakeInputDevice()
    reader, taps, cond = start(device)
    try:
        assert device.grabbed and reader.healthy
        device.type("0012345678\n")
        assert wait_taps(taps, cond, 1)
        assert taps[0].badge == "0012345678" and taps[0].reader == "keyboard"
        device.type("0012345678\n")  # the same card again at once: not a second check-in
        device.type("04AB\n")
        assert wait_taps(taps, cond, 2)
        assert [t.badge for t in taps] == ["0012345678", "04AB"]
    finally:
        reader.close()
    assert not device.grabbed


def test_keypad_digits_count_and_a_slow_half_badge_is_dropped() -> None:
    device = FakeInputDevice()
    reader, taps, cond = start(device)
    try:
        now = time.time()
        device.type("99", at=now)
        device.type("12\n", at=now + 1.0)  # a person, not a reader: the 99 is dropped
        for code in (ecodes.KEY_KP4, ecodes.KEY_KP2, ecodes.KEY_KP4, ecodes.KEY_KP2,
                     ecodes.KEY_KPENTER):
            device.key(code, 1, now + 1.1)
        assert wait_taps(taps, cond, 1)
        time.sleep(0.1)
        assert [t.badge for t in taps] == ["4242"]  # "12" is too short to be a badge
    finally:
        reader.close()


def test_unplugged_reader_is_a_fault_and_comes_back() -> None:
    first, second = FakeInputDevice(), FakeInputDevice()
    devices = [first, FileNotFoundError(errno.ENOENT, "No such file or directory"), second]

    def open_device():
        device = devices.pop(0)
        if isinstance(device, Exception):
            raise device  # unplugged: the by-id link is gone until it is plugged back in
        return device

    reader = KeyboardReader(open_device=open_device)
    taps = []
    reader.start(taps.append)
    try:
        first.unplug()
        deadline = time.monotonic() + 2
        while reader.healthy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not reader.healthy
        deadline = time.monotonic() + 4
        while not reader.healthy and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reader.healthy and second.grabbed
        second.type("ABCDEF01\n")
        deadline = time.monotonic() + 2
        while not taps and time.monotonic() < deadline:
            time.sleep(0.01)
        assert taps[0].badge == "ABCDEF01"
    finally:
        reader.close()


def test_device_grabbed_by_another_program_is_a_reader_error() -> None:
    reader = KeyboardReader(open_device=lambda: FakeInputDevice(busy=True))
    with pytest.raises(ReaderError, match="another program"):
        reader.start(lambda tap: None)
