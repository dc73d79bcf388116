"""The USB serial link to the station Pi, non-blocking.

On the Pico it is the USB CDC port behind ``sys.stdin``/``sys.stdout``; in tests any pair of
binary streams with a file descriptor (a pseudo-terminal) works, through the same code.
"""

import select


class StreamLink:
    def __init__(self, instream, outstream):
        self._in = instream
        self._out = outstream
        self._poll = select.poll()
        self._poll.register(instream, select.POLLIN)

    def read(self, limit=64):
        """Whatever bytes are waiting (up to ``limit``), without blocking."""
        data = bytearray()
        while len(data) < limit:
            ready = self._poll.poll(0)
            if not ready:
                break
            if ready[0][1] & (select.POLLHUP | select.POLLERR) and not ready[0][1] & select.POLLIN:
                raise OSError("link closed")
            chunk = self._in.read(1)
            if not chunk:
                raise OSError("link closed")
            data.extend(chunk)
        return bytes(data)

    def write(self, data):
        self._out.write(data)
        flush = getattr(self._out, "flush", None)
        if flush is not None:
            flush()


def usb_link():
    """The Pico's USB CDC serial port (MicroPython only)."""
    import sys
    return StreamLink(sys.stdin.buffer, sys.stdout.buffer)
