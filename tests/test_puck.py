"""The puck end to end: firmware on one side of a pseudo-terminal, the kiosk's PuckReader on the
other through real pyserial. The pty stands in for the Pico's USB CDC port; a symlink to it
stands in for /dev/serial/by-id/..., which udev recreates when the cable comes back."""

from __future__ import annotations

from tests import puck_paths  # noqa: F401  (puts firmware/ on sys.path)

# isort: split

import logging
import os
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

import pytest
from stationpuck.app import Puck
from stationpuck.board import build
from stationpuck.link import StreamLink

from kiosk.readers import puck_protocol as proto
from kiosk.readers.base import BadgeReader, BadgeTap
from kiosk.readers.puck import PuckReader
from tests.fake_pico import Card, FakeClock, pico_with_reader


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


class _LockedWriter:
    def __init__(self, fd: int, lock: threading.Lock) -> None:
        self.fd, self.lock = fd, lock

    def write(self, data: bytes) -> None:
        with self.lock:
            os.write(self.fd, data)


class PtyPuck:
    """A Pico running the firmware, plugged into a pseudo-terminal."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "ttyPUCK"
        self.clock = FakeClock(real=True)
        self.machine, self.chip = pico_with_reader(self.clock)
        self.parts = build(self.machine, self.clock)
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # a CDC ACM port does no echo or line editing
        tmp = self.path.with_suffix(".new")
        tmp.symlink_to(os.ttyname(self.slave))
        tmp.replace(self.path)
        self.infile = os.fdopen(os.dup(self.master), "rb", buffering=0)
        link = StreamLink(self.infile, _LockedWriter(self.master, self.lock))
        # Unplugging powers the Pico off: every plug is a fresh boot of the firmware.
        self.puck = Puck(*self.parts, link, self.clock, heartbeat_ms=200)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self.puck.step()
            except OSError:
                return
            time.sleep(0.005)

    def unplug(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.path.unlink()
        self.infile.close()
        os.close(self.master)
        os.close(self.slave)

    def inject(self, data: bytes) -> None:
        """Bytes on the wire from the puck's side, as line noise or a buggy firmware would send."""
        with self.lock:
            os.write(self.master, data)


@pytest.fixture
def puck(tmp_path: Path):
    device = PtyPuck(tmp_path)
    yield device
    if device.path.exists():
        device.unplug()


@pytest.fixture
def reader(puck: PtyPuck):
    taps: list[BadgeTap] = []
    buttons: list[int] = []
    r = PuckReader(str(puck.path), reopen_s=0.05, heartbeat_timeout_s=1.0,
                   on_button=buttons.append)
    r.taps, r.buttons = taps, buttons  # type: ignore[attr-defined]
    r.start(taps.append)
    yield r
    r.close()


def test_is_a_badge_reader() -> None:
    assert isinstance(PuckReader("/dev/null"), BadgeReader)


def test_card_tap_reaches_the_kiosk_once_while_held(puck: PtyPuck, reader: PuckReader) -> None:
    wait_for(lambda: reader.healthy)
    assert reader.status.firmware == "stationpuck 1.0.0"
    puck.chip.place(Card(bytes.fromhex("04A1B2C3D4E5F6")))
    wait_for(lambda: reader.taps)
    time.sleep(0.4)  # card still held: more polls, no more taps
    assert [(t.badge, t.reader) for t in reader.taps] == [("04A1B2C3D4E5F6", "puck")]


def test_buttons_reach_the_kiosk(puck: PtyPuck, reader: PuckReader) -> None:
    wait_for(lambda: reader.healthy)
    puck.machine.press(12)
    wait_for(lambda: reader.buttons)
    puck.machine.release(12)
    assert reader.buttons == [3]


def test_light_and_beep_commands_drive_the_puck(puck: PtyPuck, reader: PuckReader) -> None:
    wait_for(lambda: reader.healthy)
    assert reader.light((0, 255, 0), 2000)
    wait_for(lambda: puck.puck.led.rgb == (0, 255, 0))
    assert reader.beep(1200, 300)
    wait_for(lambda: puck.machine.pwm(22).freq() == 1200)
    with pytest.raises(ValueError, match="pattern"):
        reader.light((1, 2, 3), 0, "disco")


def test_garbled_frames_are_logged_and_dropped(puck: PtyPuck, reader: PuckReader,
                                               caplog) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.readers.puck")
    wait_for(lambda: reader.healthy)
    good = proto.encode(900, "card", "CAFEF00D")
    puck.inject(good.replace(b"CAFEF00D", b"CAFEF00E"))  # a flipped bit: checksum fails
    puck.inject(b"!1 901 card " + b"A" * 200 + b"*0000\n")  # runaway line
    puck.inject(proto.encode(902, "card", "not-hex"))  # checksummed but nonsense
    puck.inject(b"Traceback (most recent call last):\n")  # firmware crash text
    wait_for(lambda: reader.rejected_frames == 3)
    # the crash text comes after the third rejected frame: wait for its line as well
    wait_for(lambda: any("says: Traceback" in r.getMessage() for r in caplog.records))
    assert reader.taps == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("rejected frame (bad-checksum" in m for m in messages)
    assert any("rejected frame (too-long" in m for m in messages)
    assert any("says: Traceback" in m for m in messages)
    puck.inject(good)  # and the reader still works
    wait_for(lambda: reader.taps)
    assert reader.taps[0].badge == "CAFEF00D"
    assert reader.healthy


def test_pulled_cable_is_survived(puck: PtyPuck, reader: PuckReader, caplog) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.readers.puck")
    wait_for(lambda: reader.healthy)
    puck.unplug()
    wait_for(lambda: not reader.healthy)
    assert not reader.light((255, 0, 0))  # nothing to send to: dropped, not raised
    time.sleep(0.3)  # several reopen attempts against a missing device
    puck.plug()
    wait_for(lambda: reader.healthy and reader.connects == 2)
    puck.chip.place(Card(bytes.fromhex("DEADBEEF")))
    wait_for(lambda: reader.taps)
    messages = [r.getMessage() for r in caplog.records]
    assert any("disconnected" in m for m in messages)
    assert sum("cannot open" in m for m in messages) == 1, "one log line per outage"


def test_silent_puck_is_unhealthy(puck: PtyPuck, reader: PuckReader) -> None:
    wait_for(lambda: reader.healthy)
    puck.stop.set()  # firmware hangs: port still there, no heartbeats
    puck.thread.join()
    wait_for(lambda: not reader.healthy, timeout=3)


def test_reader_fault_reported_by_the_puck_makes_it_unhealthy(puck: PtyPuck,
                                                              reader: PuckReader) -> None:
    wait_for(lambda: reader.healthy)
    puck.chip.dead = True
    wait_for(lambda: not reader.healthy)
    assert not reader.status.reader_ok
    puck.chip.dead = False
    wait_for(lambda: reader.healthy, timeout=6)
