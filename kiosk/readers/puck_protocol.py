"""The station puck's serial line protocol, kiosk side (spec: ``firmware/PROTOCOL.md``).

Pure: bytes in, typed frames out, :class:`PuckFrameError` with a stable ``reason`` otherwise.
The firmware has its own MicroPython implementation (``firmware/stationpuck/protocol.py``);
the end-to-end tests run the two against each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = 1
MAX_LINE = 96
_TOKEN = re.compile(r"^[0-9A-Za-z_.\-]+$")
_COLOUR = re.compile(r"^[0-9A-Fa-f]{6}$")

#: Events the puck sends and how many arguments each carries.
EVENTS = {"hello": 2, "card": 1, "button": 1, "heartbeat": 3, "ack": 1, "nak": 2}
PATTERNS = ("solid", "blink")


class PuckFrameError(ValueError):
    """A line that is not a valid frame. ``reason`` is one of: too-long, no-start, no-checksum,
    bad-checksum, bad-version, malformed, unknown-kind, bad-args."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE; ``crc16(b"123456789") == 0x29B1``."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    kind: str
    args: tuple[str, ...]


def encode(seq: int, kind: str, *args: object) -> bytes:
    tokens = [f"!{VERSION}", str(seq & 0xFFFF), kind, *map(str, args)]
    for token in tokens[2:]:
        if not _TOKEN.match(token):
            raise ValueError(f"cannot send {token!r}: tokens are letters, digits, '_', '.', '-'")
    body = " ".join(tokens).encode("ascii")
    return body + f"*{crc16(body):04X}\n".encode("ascii")


def decode(line: bytes) -> Frame:
    """One line from the puck (newline optional) as a :class:`Frame`."""
    line = line.rstrip(b"\r\n")
    if len(line) > MAX_LINE:
        raise PuckFrameError("too-long", f"{len(line)} bytes (limit {MAX_LINE})")
    if not line.startswith(b"!"):
        raise PuckFrameError("no-start", "does not start with '!'")
    star = line.rfind(b"*")
    if star < 0 or len(line) - star != 5:
        raise PuckFrameError("no-checksum", "missing '*' and four hex digits")
    body, tail = line[:star], line[star + 1:]
    try:
        text = body.decode("ascii")
        want = int(tail.decode("ascii"), 16)
    except (UnicodeDecodeError, ValueError):
        raise PuckFrameError("bad-checksum", f"checksum {tail!r} is not hex") from None
    got = crc16(body)
    if got != want:
        raise PuckFrameError("bad-checksum", f"computed {got:04X}, frame says {want:04X}")
    parts = text[1:].split(" ")
    if len(parts) < 3:
        raise PuckFrameError("malformed", "needs version, sequence number and kind")
    if parts[0] != str(VERSION):
        raise PuckFrameError("bad-version", f"protocol version {parts[0]!r}, "
                                            f"this kiosk speaks {VERSION}")
    if not parts[1].isdigit() or int(parts[1]) > 0xFFFF or str(int(parts[1])) != parts[1]:
        raise PuckFrameError("malformed", f"sequence number {parts[1]!r}")
    if not all(_TOKEN.match(p) for p in parts[2:]):
        raise PuckFrameError("malformed", "empty or bad token")
    return Frame(int(parts[1]), parts[2], tuple(parts[3:]))


def check_event(frame: Frame) -> Frame:
    """The frame if it is an event the kiosk understands, with the right arguments."""
    want = EVENTS.get(frame.kind)
    if want is None:
        raise PuckFrameError("unknown-kind", f"unknown event {frame.kind!r}")
    if len(frame.args) != want:
        raise PuckFrameError("bad-args", f"{frame.kind} takes {want} arguments, got "
                                         f"{len(frame.args)}")
    if frame.kind == "button" and not (frame.args[0].isdigit() and 1 <= int(frame.args[0]) <= 9):
        raise PuckFrameError("bad-args", f"button number {frame.args[0]!r}")
    if frame.kind == "heartbeat" and not (frame.args[0].isdigit() and frame.args[2].isdigit()):
        raise PuckFrameError("bad-args", "heartbeat uptime and counter must be numbers")
    return frame


def light_command(seq: int, rgb: tuple[int, int, int], duration_ms: int = 0,
                  pattern: str = "solid") -> bytes:
    if any(not 0 <= c <= 255 for c in rgb) or len(rgb) != 3:
        raise ValueError(f"colour {rgb!r} must be three values 0-255")
    if not 0 <= duration_ms <= 60_000:
        raise ValueError(f"duration {duration_ms} ms must be 0-60000 (0: until changed)")
    if pattern not in PATTERNS:
        raise ValueError(f"pattern {pattern!r} must be one of {', '.join(PATTERNS)}")
    return encode(seq, "light", "{:02X}{:02X}{:02X}".format(*rgb), duration_ms, pattern)


def beep_command(seq: int, freq_hz: int, duration_ms: int) -> bytes:
    if not 100 <= freq_hz <= 8000:
        raise ValueError(f"frequency {freq_hz} Hz must be 100-8000")
    if not 1 <= duration_ms <= 5000:
        raise ValueError(f"duration {duration_ms} ms must be 1-5000")
    return encode(seq, "beep", freq_hz, duration_ms)
