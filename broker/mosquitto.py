"""Start and stop a real Mosquitto on loopback ports: for `stations demo`, tests and benchmarks.

Production rooms run Mosquitto as a system service with the generated configuration
(``stations broker-config``). :class:`MosquittoProcess` runs exactly such a configuration file
as a child of one process; :class:`Mosquitto` writes an anonymous loopback-only configuration
of its own, for tests that are about the message contract or the client and say so.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from stations.errors import BrokerError
from stations.lifecycle import child_options

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


def run_as_user() -> str | None:
    """The ``user`` line a broker started by this process needs, or None for the default.

    Started as root (CI, containers) Mosquitto drops to the 'mosquitto' user, which cannot
    write its persistence file or read 0600 files in a private work folder.
    """
    return "root" if hasattr(os, "geteuid") and os.geteuid() == 0 else None


class MosquittoProcess:
    """A Mosquitto child process running the configuration file ``config``.

    ``ports`` are the listeners it must open before :meth:`start` returns (loopback).
    """

    def __init__(self, config: Path, ports: Sequence[int], *, log_path: Path | None = None,
                 host: str = "127.0.0.1") -> None:
        self.config_path = Path(config)
        self.ports = tuple(ports)
        self.host = host
        self.log_path = log_path or self.config_path.with_name("mosquitto.log")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return self.ports[0]

    def start(self, timeout: float = 10.0) -> MosquittoProcess:
        if self.running:
            return self
        binary = find_mosquitto()
        with self.log_path.open("ab") as log_file:
            # Stopped by its owner, after the services that still need it (a terminal's
            # Ctrl-C does not reach it); ended if the owner dies.
            self._proc = subprocess.Popen([binary, "-c", str(self.config_path)],
                                          stdout=log_file, stderr=log_file,
                                          stdin=subprocess.DEVNULL, **child_options())
        for port in self.ports:
            if not wait_for_port(self.host, port, timeout):
                self.stop()
                raise BrokerError(f"mosquitto did not start on {self.host}:{port}: "
                                  f"{self.log_text()[-800:]}")
        log.info("mosquitto started on %s (pid %d)", ", ".join(map(str, self.ports)),
                 self._proc.pid)
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

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
        log.info("mosquitto on %s stopped", ", ".join(map(str, self.ports)))
        self._proc = None

    def kill(self) -> None:
        """SIGKILL: the broker crashes and keeps only what its last autosave wrote."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        log.info("mosquitto on %s killed", ", ".join(map(str, self.ports)))
        self._proc = None

    def reload(self, timeout: float = 5.0) -> None:
        """SIGHUP: Mosquitto rereads its password and ACL files; returns once it has."""
        if self._proc is None:
            raise BrokerError("mosquitto is not running")
        marker = self.log_text().count("Reloading config")
        self._proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while self.log_text().count("Reloading config") <= marker:
            if time.monotonic() > deadline:
                raise BrokerError("mosquitto did not reload its configuration")
            time.sleep(0.02)
        time.sleep(0.1)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> MosquittoProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class Mosquitto(MosquittoProcess):
    """An anonymous broker on ``host:port`` for contract and client tests (no TLS, no ACL).

    Rooms never run this: ``stations.deployment.DeployedRoom`` runs the generated config.
    ``persistence=True`` keeps sessions and queued QoS 1 messages across :meth:`restart`.
    """

    def __init__(self, port: int | None = None, *, host: str = "127.0.0.1",
                 workdir: Path | None = None, persistence: bool = True,
                 extra_config: str = "") -> None:
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="stations-mosquitto-"))
        super().__init__(self.workdir / "mosquitto.conf", (port or free_port(host),),
                         log_path=self.workdir / "mosquitto.log", host=host)
        self.persistence = persistence
        self.extra_config = extra_config

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
        user = run_as_user()
        if user:
            lines.append(f"user {user}")
        self.config_path.write_text("\n".join(lines) + "\n" + self.extra_config)

    def start(self, timeout: float = 10.0) -> Mosquitto:
        if not self.running:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._write_config()
        super().start(timeout)
        return self

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Mosquitto:
        return self.start()
