"""125 kHz EM4100 readers on a UART, such as the RDM6300, through pyserial.

The reader sends, at 9600 baud 8N1, for as long as a card is in the field::

    02h, ten ASCII hex digits (version byte + 32-bit card number), two ASCII hex digits of
    checksum (XOR of the five data bytes), 03h

:class:`FrameParser` is the pure part: bytes in, card ids out, resynchronising on the next
02h after any garbage and refusing frames whose checksum is wrong (one log line each).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kiosk.readers.base import BadgeTap, ReaderThread, TapCallback, TapFilter, normalise_badge
from stations.errors import ReaderError

log = logging.getLogger(__name__)

STX, ETX = 0x02, 0x03
FRAME_LEN = 14  # STX + 10 data + 2 checksum + ETX
HEX_DIGITS = frozenset(b"0123456789ABCDEFabcdef")
ID_FORMATS = ("hex", "decimal")


class FrameParser:
    """Turns the UART byte stream into 10-hex-digit card ids. Pure: no I/O, no clock."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False
        self.bad_checksums = 0
        self.garbage_bytes = 0

    def feed(self, data: bytes) -> list[str]:
        ids = []
        for byte in data:
            if byte == STX:
                if self._in_frame and self._buf:
                    self._garbage(f"frame cut short after {len(self._buf)} bytes")
                self._buf.clear()
                self._in_frame = True
            elif not self._in_frame:
                self.garbage_bytes += 1
            elif byte == ETX:
                card = self._frame(bytes(self._buf))
                self._buf.clear()
                self._in_frame = False
                if card is not None:
                    ids.append(card)
            else:
                self._buf.append(byte)
                if len(self._buf) > FRAME_LEN - 2:
                    self._garbage("no ETX where the frame should end")
                    self._buf.clear()
                    self._in_frame = False
        return ids

    def _garbage(self, why: str) -> None:
        self.garbage_bytes += len(self._buf)
        log.warning("rdm6300: garbled frame dropped: %s", why)

    def _frame(self, body: bytes) -> str | None:
        if len(body) != FRAME_LEN - 2 or not set(body) <= HEX_DIGITS:
            self._garbage(f"{len(body)} bytes between STX and ETX, expected 12 hex digits")
            return None
        data = bytes.fromhex(body[:10].decode())
        check = int(body[10:], 16)
        actual = data[0] ^ data[1] ^ data[2] ^ data[3] ^ data[4]
        if actual != check:
            self.bad_checksums += 1
            log.warning("rdm6300: frame with bad checksum dropped: %s sent %02X, XOR is %02X",
                        body[:10].decode(), check, actual)
            return None
        return body[:10].decode().upper()


class RDM6300Reader:
    """A :class:`~kiosk.readers.base.BadgeReader` for a UART 125 kHz reader.

    ``port`` is a device (``/dev/serial0``, ``/dev/ttyUSB0``) or any pyserial URL.
    ``id_format``: ``"hex"`` gives the ten hex digits; ``"decimal"`` the 32-bit card number
    as ten decimal digits, as printed on most EM4100 key fobs.
    """

    name = "rdm6300"
    OPTIONS = frozenset({"port", "baudrate", "repeat_s", "id_format"})

    def __init__(self, port: str = "/dev/serial0", *, baudrate: int = 9600,
                 repeat_s: float = 3.0, id_format: str = "hex",
                 clock: Callable[[], float] = time.monotonic) -> None:
        if id_format not in ID_FORMATS:
            raise ValueError(f"id_format must be one of {ID_FORMATS}, not {id_format!r}")
        self.port = port
        self.baudrate = baudrate
        self.id_format = id_format
        self.clock = clock
        self.parser = FrameParser()
        self._filter = TapFilter(repeat_s)
        self._serial = None
        self._worker = ReaderThread("rdm6300", join_s=2)
        self._healthy = False

    @classmethod
    def from_options(cls, options) -> RDM6300Reader:
        id_format = options.get("id_format", str, "hex")
        if id_format not in ID_FORMATS:
            raise options.error("id_format", f"must be one of {', '.join(ID_FORMATS)}, "
                                             f"got {id_format!r}")
        return cls(options.get("port", str, "/dev/serial0"),
                   baudrate=options.positive("baudrate", int, 9600),
                   repeat_s=options.positive("repeat_s", float, 3.0), id_format=id_format)

    @property
    def healthy(self) -> bool:
        return self._healthy

    def _open(self):
        import serial

        try:
            # The timeout bounds each read so that close() is seen within 0.2 s.
            return serial.serial_for_url(self.port, baudrate=self.baudrate, bytesize=8,
                                         parity="N", stopbits=1, timeout=0.2)
        except (serial.SerialException, ValueError) as err:
            raise ReaderError(self.name, f"cannot open {self.port}: {err}") from err

    def start(self, on_tap: TapCallback) -> None:
        self._worker.ensure_idle()
        self._serial = self._open()
        self._healthy = True
        self._worker.start(lambda: self._run(on_tap))

    def close(self) -> None:
        self._worker.end()
        if self._serial is not None:
            self._serial.close()
            self._serial = None
        self._healthy = False

    def _run(self, on_tap: TapCallback) -> None:
        import serial

        while not self._worker.stop.is_set():
            if self._serial is None:
                try:
                    self._serial = self._open()
                    self._healthy = True
                    log.info("rdm6300: %s open again", self.port)
                except ReaderError:
                    self._worker.stop.wait(2.0)
                    continue
            try:
                data = self._serial.read(max(1, self._serial.in_waiting or 1))
            except (serial.SerialException, OSError) as err:
                if self._worker.stop.is_set():
                    return
                log.error("rdm6300: reader fault on %s: %s; reopening", self.port, err)
                self._healthy = False
                self._serial.close()
                self._serial = None
                self.parser = FrameParser()
                continue
            if data:
                self.feed(data, on_tap)

    def feed(self, data: bytes, on_tap: TapCallback) -> list[BadgeTap]:
        """Parse bytes and pass new taps on; the read thread calls it, tests may too."""
        taps = []
        for card in self.parser.feed(data):
            badge = normalise_badge(card if self.id_format == "hex"
                                    else f"{int(card[2:], 16):010d}")
            now = self.clock()
            if self._filter.seen(badge, now):
                tap = BadgeTap(badge, now, self.name)
                taps.append(tap)
                try:
                    on_tap(tap)
                except Exception:
                    log.exception("rdm6300: tap handler failed")
        return taps


def encode_frame(card: str) -> bytes:
    """The frame a reader sends for a ten-hex-digit card id (for tests and the demo)."""
    data = bytes.fromhex(card)
    if len(data) != 5:
        raise ValueError("an EM4100 id is ten hex digits")
    check = data[0] ^ data[1] ^ data[2] ^ data[3] ^ data[4]
    return bytes([STX]) + card.upper().encode() + f"{check:02X}".encode() + bytes([ETX])
