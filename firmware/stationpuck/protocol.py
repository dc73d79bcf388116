# ruff: noqa: UP031  (MicroPython: % formatting is the cheap path)
"""The puck's line protocol (see firmware/PROTOCOL.md): one checksummed ASCII frame per line.

    !1 <seq> <kind> [<arg> ...]*<CRC16>\n

``1`` is the protocol version, ``seq`` counts frames per direction (0-65535, wrapping), CRC16
is CRC-16/CCITT-FALSE over every byte from ``!`` up to the ``*``, as four upper-case hex digits.
"""

VERSION = 1
MAX_LINE = 96
_ARG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.-"


class FrameError(ValueError):
    """A line that is not a valid frame; ``reason`` is a short stable code."""

    def __init__(self, reason, detail=""):
        super().__init__(reason if not detail else reason + ": " + detail)
        self.reason = reason


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF); crc16(b"123456789") == 0x29B1."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _valid_token(token):
    if not token:
        return False
    return all(ch in _ARG_CHARS for ch in token)


def encode(seq, kind, args=()):
    """One frame as bytes, newline included."""
    parts = ["!%d" % VERSION, str(seq & 0xFFFF), kind]
    for arg in args:
        arg = str(arg)
        if not _valid_token(arg):
            raise FrameError("bad-arg", repr(arg))
        parts.append(arg)
    body = " ".join(parts).encode()
    return body + (f"*{crc16(body):04X}\n").encode()


def decode(line):
    """(seq, kind, args) from one line (bytes, with or without the newline), or FrameError."""
    line = bytes(line).rstrip(b"\r\n")
    if len(line) > MAX_LINE:
        raise FrameError("too-long", "%d bytes" % len(line))
    if not line.startswith(b"!"):
        raise FrameError("no-start", "does not start with '!'")
    star = line.rfind(b"*")
    if star < 0 or len(line) - star != 5:
        raise FrameError("no-checksum", "missing '*' and 4 hex digits")
    body = line[:star]
    try:
        text = body.decode()
        want = int(line[star + 1:].decode(), 16)
    except (UnicodeError, ValueError):
        raise FrameError("bad-checksum", "not hex") from None
    if crc16(body) != want:
        raise FrameError("bad-checksum", f"{crc16(body):04X} != {want:04X}")
    parts = text[1:].split(" ")
    if len(parts) < 3:
        raise FrameError("malformed", "needs version, seq and kind")
    if parts[0] != str(VERSION):
        raise FrameError("bad-version", "version %s, expected %d" % (parts[0], VERSION))
    try:
        seq = int(parts[1])
    except ValueError:
        raise FrameError("malformed", "seq is not a number") from None
    if not 0 <= seq <= 0xFFFF or str(seq) != parts[1]:
        raise FrameError("malformed", "seq out of range")
    for token in parts[2:]:
        if not _valid_token(token):
            raise FrameError("malformed", f"bad token {token!r}")
    return seq, parts[2], parts[3:]


class LineBuffer:
    """Collects bytes into lines; drops (and reports) lines longer than MAX_LINE."""

    def __init__(self):
        self._buf = bytearray()
        self._overflow = False

    def feed(self, data):
        """Returns the complete lines in ``data``; an over-long line comes back as None."""
        lines = []
        for byte in data:
            if byte == 10:
                lines.append(None if self._overflow else bytes(self._buf))
                self._buf = bytearray()
                self._overflow = False
            elif not self._overflow:
                self._buf.append(byte)
                if len(self._buf) > MAX_LINE + 2:
                    self._overflow = True
                    self._buf = bytearray()
        return lines
