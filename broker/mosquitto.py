"""Start and stop a real Mosquitto on a loopback port: for `stations demo` and for tests.

Production rooms run Mosquitto as a system service with the generated configuration
(``stations broker-config``); this module is for a broker owned by one process.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from stations.errors import BrokerError

log = logging.getLogger(__name__)

_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


def find_mosquitto() -> str:
    """Path of the mosquitto binary, or BrokerError saying how to install it."""
    found = os.environ.get("STATIONS_MOSQUITTO") or shutil.which("mosquitto")
    if found:
        return found
    for candidate in _CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BrokerError("mosquitto not found: install it with 'sudo apt-get install mosquitto' "
                      "or set STATIONS_MOSQUITTO to its path")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class Mosquitto:
    """A Mosquitto child process listening on ``host:port`` (loopback, anonymous allowed).

    ``persistence=True`` keeps sessions and queued QoS 1 messages across :meth:`restart`,
    as the room broker does.
    """

    def __init__(self, port: int | None = None, *, host: str = "127.0.0.1",
                 workdir: Path | None = None, persistence: bool = True,
                 extra_config: str = "") -> None:
        self.host = host
        self.port = port or free_port(host)
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="stations-mosquitto-"))
        self.persistence = persistence
        self.extra_config = extra_config
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        return self.workdir / "mosquitto.conf"

    def _write_config(self) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            "max_queued_messages 10000",
            # Small QoS 1 messages: without it Nagle and delayed ACKs add ~40 ms per hop.
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Started as root (CI, containers) Mosquitto drops to the 'mosquitto' user, which
            # cannot write the persistence file in our private work folder.
            lines.append("user root")
        self.config_path.write_text("\n".join(lines) + "\n" + self.extra_config)

    def start(self, timeout: float = 10.0) -> Mosquitto:
        if self.running:
            return self
        self._write_config()
        binary = find_mosquitto()
        log_file = (self.workdir / "mosquitto.log").open("ab")
        self._proc = subprocess.Popen([binary, "-c", str(self.config_path)],
                                      stdout=log_file, stderr=log_file,
                                      stdin=subprocess.DEVNULL)
        log_file.close()
        if not wait_for_port(self.host, self.port, timeout):
            self.stop()
            tail = (self.workdir / "mosquitto.log").read_text(errors="replace")[-500:]
            raise BrokerError(f"mosquitto did not start on {self.host}:{self.port}: {tail}")
        log.info("mosquitto started on %s:%d (pid %d)", self.host, self.port, self._proc.pid)
        return self

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        """Stop gracefully (SIGTERM lets it save its persistence file)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        log.info("mosquitto on port %d stopped", self.port)
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
