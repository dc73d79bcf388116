"""A throwaway PostgreSQL cluster on a free loopback port, for tests, benchmarks and demos.

Debian's ``postgresql`` package provides the server (``/usr/lib/postgresql/<version>/bin``);
this makes a cluster of its own with ``initdb`` in a fresh folder and runs it with
``pg_ctl``, never touching the package's own cluster. PostgreSQL refuses to run as root, so
when we are root the cluster belongs to the ``postgres`` user the package creates. Durability
is PostgreSQL's default (``fsync``, ``synchronous_commit`` on): a commit is on disk.

Districts run their own PostgreSQL; nothing here is for production.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from broker.mosquitto import free_port, wait_for_port
from stations.errors import StationsError

log = logging.getLogger(__name__)

#: The role the tests connect as (a superuser of the throwaway cluster, trust on loopback).
ROLE = "stations"


class PostgresError(StationsError, RuntimeError):
    """PostgreSQL is missing or would not start."""


def find_bindir() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: $STATIONS_PG_BIN, Debian's newest, or PATH."""
    env = os.environ.get("STATIONS_PG_BIN")
    if env:
        return Path(env)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name)
                      if Path(p).parent.parent.name.isdigit() else 0)
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresError("PostgreSQL is not installed: run scripts/setup.sh (it installs "
                        "Debian's postgresql package) or set STATIONS_PG_BIN to its bin folder")


class LocalPostgres:
    """``initdb`` + ``pg_ctl`` in a private folder: start, stop, crash (SIGKILL) and restart."""

    def __init__(self, folder: Path | str | None = None, *, port: int | None = None) -> None:
        self.bindir = find_bindir()
        self._own = folder is None
        self.folder = Path(folder or tempfile.mkdtemp(prefix="stations-pg-"))
        self.data = self.folder / "data"
        self.log_path = self.folder / "postgres.log"
        self.port = port or free_port()
        self._user = self._run_as()

    @staticmethod
    def _run_as() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError as err:
            raise PostgresError("running as root, and there is no 'postgres' user to run "
                                "PostgreSQL as (Debian's postgresql package creates it)") from err

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=postgres user={ROLE}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self._user is not None:
            kwargs.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], check=check,
                              capture_output=True, text=True, cwd=self.folder,
                              **kwargs)  # type: ignore[call-overload]

    def _initdb(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            os.chown(self.folder, self._user.pw_uid, self._user.pw_gid)
        self.folder.chmod(0o700)
        try:
            self._run("initdb", "-D", str(self.data), "-U", ROLE, "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8")
        except subprocess.CalledProcessError as err:
            raise PostgresError(f"initdb failed: {err.stderr.strip()[-800:]}") from err
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# stations.pgcluster: loopback only, on our own port and socket dir\n"
                       "listen_addresses = '127.0.0.1'\n"
                       f"port = {self.port}\n"
                       f"unix_socket_directories = '{self.folder}'\n"
                       "max_connections = 50\n"
                       "shared_buffers = 64MB\n"
                       "log_min_messages = warning\n")

    def start(self, timeout: float = 30.0) -> LocalPostgres:
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        # After a crash, orphaned backends may hold the shared memory for a moment.
        for _attempt in range(5):
            result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w",
                               "-t", str(int(timeout)), "start", check=False)
            if result.returncode == 0:
                break
            time.sleep(0.5)
        if result.returncode != 0 or not wait_for_port("127.0.0.1", self.port, timeout):
            raise PostgresError(f"PostgreSQL did not start on port {self.port}: "
                                f"{result.stderr.strip()} {self.log_text()[-800:]}")
        log.info("PostgreSQL started on 127.0.0.1:%d (%s)", self.port, self.data)
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    @property
    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        """``fast`` (clean) or ``immediate`` (no checkpoint: crash recovery at next start)."""
        if self.data.exists() and self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)
            log.info("PostgreSQL on port %d stopped (%s)", self.port, mode)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a power cut would; its backends follow."""
        pid = self.pid
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        log.info("PostgreSQL on port %d killed", self.port)

    def close(self) -> None:
        self.stop()
        if self._own:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
