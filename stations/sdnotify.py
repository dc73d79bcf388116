"""systemd's notify protocol (sd_notify(3)) for the hub and kiosk loops, standard library only.

The units run the services with ``Type=notify`` and ``WatchdogSec=``: the service says
``READY=1`` once it is up, then ``WATCHDOG=1`` from its main loop at least every half of
``WatchdogSec`` (systemd restarts it when the pings stop). Outside systemd
(``NOTIFY_SOCKET`` unset: a laptop, the demo, the tests) every call does nothing.

Wiring (one line each, in the loop that proves the service is alive)::

    notifier = Notifier.from_environment()   # in main / the shell, passed in
    notifier.ready("hub: broker connected")  # once
    notifier.ping()                           # every frame / loop turn; rate-limited here
    notifier.stopping()                       # on SIGTERM
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping


class Notifier:
    """Sends sd_notify datagrams to ``socket_path``; pings are rate-limited to 1/4 of the
    watchdog interval so a 60 fps loop costs one datagram every few seconds."""

    def __init__(self, socket_path: str | None, watchdog_usec: int = 0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.socket_path = socket_path
        self.interval = watchdog_usec / 4e6 if watchdog_usec > 0 else 0.0
        self._clock = clock
        self._last_ping: float | None = None
        self._sock: socket.socket | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        path = env.get("NOTIFY_SOCKET") or None
        usec = 0
        # WATCHDOG_PID names the process the watchdog is for; ignore it meant for another.
        if env.get("WATCHDOG_USEC") and env.get("WATCHDOG_PID", str(os.getpid())) == str(
                os.getpid()):
            try:
                usec = int(env["WATCHDOG_USEC"])
            except ValueError:
                usec = 0
        return cls(path, usec)

    @property
    def enabled(self) -> bool:
        return self.socket_path is not None

    def notify(self, state: str) -> bool:
        """Send one state string; False (never an exception) when it could not be sent."""
        if self.socket_path is None:
            return False
        address = self.socket_path
        if address.startswith("@"):  # abstract namespace socket
            address = "\0" + address[1:]
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(state.encode("utf-8"), address)
        except OSError:
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, status: str) -> bool:
        return self.notify(f"STATUS={status}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def ping(self) -> bool:
        """WATCHDOG=1, at most once per quarter of the watchdog interval."""
        if self.socket_path is None or self.interval <= 0:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.interval:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
