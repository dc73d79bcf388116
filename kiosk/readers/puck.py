"""The station puck (a Pico on USB serial) as a badge reader, plus its light and beeper.

A background thread owns the serial port: it reads frames (``firmware/PROTOCOL.md``), turns
``card`` events into :class:`~kiosk.readers.base.BadgeTap` through the shared
:class:`~kiosk.readers.base.TapFilter`, passes ``button`` events to ``on_button``, and watches
the heartbeat. A garbled frame is logged and dropped; a pulled cable is logged once and the
port is reopened every ``reopen_s`` until the puck is back. ``light()`` and ``beep()`` send
commands from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.readers import puck_protocol as proto
from kiosk.readers.base import BadgeTap, ReaderThread, TapCallback, TapFilter, normalise_badge
from stations.errors import ReaderError

#: USB vendor id of Raspberry Pi (MicroPython on a Pico enumerates with it).
PICO_USB_VID = 0x2E8A

ButtonCallback = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class PuckStatus:
    """What the kiosk knows about its puck, for the status line and logs."""

    connected: bool
    firmware: str
    reader_ok: bool
    last_heartbeat: float | None
    rejected_frames: int
    garbled_reads: int


def find_puck_port() -> str:
    """The serial device of the first Pico on USB, or ReaderError."""
    from serial.tools import list_ports

    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        if port.vid == PICO_USB_VID:
            return port.device
    raise ReaderError("puck", "no Raspberry Pi Pico found on USB (is the cable plugged in?)")


class PuckReader:
    name = "puck"

    def __init__(self, port: str, *, baudrate: int = 115200, repeat_s: float = 3.0,
                 heartbeat_timeout_s: float = 3.5, reopen_s: float = 1.0,
                 on_button: ButtonCallback | None = None, clock: Callable[[], float] =
                 time.monotonic, logger: logging.Logger | None = None) -> None:
        self.port = port
        self.baudrate = baudrate
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.reopen_s = reopen_s
        self.on_button = on_button
        self._clock = clock
        self._log = logger or logging.getLogger(__name__)
        self._filter = TapFilter(repeat_s)
        self._on_tap: TapCallback | None = None
        self._worker = ReaderThread("puck-reader", join_s=5)
        self._write_lock = threading.Lock()
        self._serial = None
        self._seq = 0
        self._rx_seq: int | None = None
        self._firmware = ""
        self._reader_ok = False
        self._last_heartbeat: float | None = None
        self._garbled_reads = 0
        self.rejected_frames = 0
        self.connects = 0

    # -- BadgeReader -----------------------------------------------------------------------
    def start(self, on_tap: TapCallback) -> None:
        self._worker.ensure_idle()
        self._on_tap = on_tap
        self._worker.start(self._run)

    def close(self) -> None:
        self._worker.end()
        self._close_port()
        self._on_tap = None

    @property
    def healthy(self) -> bool:
        beat = self._last_heartbeat
        return (self._serial is not None and self._reader_ok and beat is not None
                and self._clock() - beat <= self.heartbeat_timeout_s)

    @property
    def status(self) -> PuckStatus:
        return PuckStatus(self._serial is not None, self._firmware, self._reader_ok,
                          self._last_heartbeat, self.rejected_frames, self._garbled_reads)

    # -- commands --------------------------------------------------------------------------
    def light(self, rgb: tuple[int, int, int], duration_ms: int = 0,
              pattern: str = "solid") -> bool:
        """Show a colour (0 ms: until the next light command). False if the puck is away."""
        return self._send(lambda seq: proto.light_command(seq, rgb, duration_ms, pattern))

    def beep(self, freq_hz: int, duration_ms: int) -> bool:
        return self._send(lambda seq: proto.beep_command(seq, freq_hz, duration_ms))

    def _send(self, make: Callable[[int], bytes]) -> bool:
        with self._write_lock:
            frame = make(self._seq)  # ValueError for a bad argument, before anything is sent
            port = self._serial
            if port is None:
                self._log.debug("puck %s: not connected, dropped %r", self.port, frame)
                return False
            try:
                port.write(frame)
            except Exception as err:  # serial.SerialException, OSError: cable gone mid-write
                self._log.warning("puck %s: could not send command: %s", self.port, err)
                return False
            self._seq = (self._seq + 1) & 0xFFFF
            return True

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        import serial

        outage_logged = False
        while not self._worker.stop.is_set():
            try:
                port = serial.Serial(self.port, self.baudrate, timeout=0.1, write_timeout=1,
                                     exclusive=True)
            except (serial.SerialException, OSError) as err:
                if not outage_logged:
                    self._log.warning("puck %s: cannot open (%s); retrying every %.1f s",
                                      self.port, err, self.reopen_s)
                    outage_logged = True
                self._worker.stop.wait(self.reopen_s)
                continue
            outage_logged = False
            with self._write_lock:
                self._serial = port
            self.connects += 1
            self._rx_seq = None
            self._log.info("puck %s: connected", self.port)
            self._send(lambda seq: proto.encode(seq, "hello"))
            try:
                self._read_loop(port)
            except (serial.SerialException, OSError) as err:
                self._log.warning("puck %s: disconnected (%s); reopening", self.port, err)
            finally:
                self._close_port()

    def _read_loop(self, port) -> None:
        buf = bytearray()
        overflow = False
        while not self._worker.stop.is_set():
            data = port.read(max(1, port.in_waiting))
            for byte in data:
                if byte == 0x0A:
                    if overflow:
                        self._reject(b"", proto.PuckFrameError("too-long", "line over limit"))
                    else:
                        self._handle_line(bytes(buf))
                    buf.clear()
                    overflow = False
                elif not overflow:
                    buf.append(byte)
                    if len(buf) > proto.MAX_LINE + 2:
                        overflow = True
                        buf.clear()

    def _close_port(self) -> None:
        with self._write_lock:
            port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except Exception as err:  # closing a vanished device can fail; nothing to do
                self._log.debug("puck %s: close failed: %s", self.port, err)
        self._reader_ok = False

    # -- frames ----------------------------------------------------------------------------
    def _reject(self, line: bytes, err: proto.PuckFrameError) -> None:
        self.rejected_frames += 1
        self._log.warning("puck %s: rejected frame (%s): %r", self.port, err, line[:120])

    def _handle_line(self, line: bytes) -> None:
        line = line.rstrip(b"\r")
        if not line.strip():
            return
        if not line.startswith(b"!") and b"*" not in line:
            # MicroPython's own output (boot banner, a traceback): worth seeing in the log.
            self._log.info("puck %s says: %s", self.port, line.decode("utf-8", "replace"))
            return
        try:
            frame = proto.check_event(proto.decode(line))
        except proto.PuckFrameError as err:
            self._reject(line, err)
            return
        self._track_seq(frame)
        handler = getattr(self, f"_on_{frame.kind}")
        handler(frame)

    def _track_seq(self, frame: proto.Frame) -> None:
        last, self._rx_seq = self._rx_seq, frame.seq
        if frame.kind == "hello" or last is None:
            return
        lost = (frame.seq - last - 1) & 0xFFFF
        if lost:
            self._log.warning("puck %s: %d frame(s) lost before #%d", self.port, lost, frame.seq)

    def _on_hello(self, frame: proto.Frame) -> None:
        firmware = f"{frame.args[0]} {frame.args[1]}"
        if firmware != self._firmware:
            self._log.info("puck %s: firmware %s", self.port, firmware)
        self._firmware = firmware

    def _on_card(self, frame: proto.Frame) -> None:
        try:
            badge = normalise_badge(frame.args[0])
        except ValueError as err:
            self._reject(frame.args[0].encode(), proto.PuckFrameError("bad-args", str(err)))
            return
        now = self._clock()
        if not self._filter.seen(badge, now):
            return
        callback = self._on_tap
        if callback is not None:
            callback(BadgeTap(badge, now, self.name))

    def _on_button(self, frame: proto.Frame) -> None:
        if self.on_button is not None:
            self.on_button(int(frame.args[0]))

    def _on_heartbeat(self, frame: proto.Frame) -> None:
        self._last_heartbeat = self._clock()
        ok = frame.args[1] == "ok"
        if ok != self._reader_ok:
            log = self._log.info if ok else self._log.warning
            log("puck %s: card reader %s", self.port, "ok" if ok else "not answering")
        self._reader_ok = ok
        self._garbled_reads = int(frame.args[2])

    def _on_ack(self, frame: proto.Frame) -> None:
        pass

    def _on_nak(self, frame: proto.Frame) -> None:
        self._log.warning("puck %s: refused command #%s (%s)", self.port, *frame.args)
