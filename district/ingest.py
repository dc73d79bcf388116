"""``stations district ingest``: prepare the database, then run and watch N worker processes.

Each worker (:class:`district.worker.IngestWorker`) runs in a process of its own, so N
workers use N cores for MQTT parsing and decoding. A worker that dies is started again within
a second (its MQTT session, and the records queued in it, wait for it); a worker whose parent
vanished exits at once. Every hour the supervisor makes next months' partitions and applies
retention.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import psycopg

from district import schema
from district.config import DistrictConfig, load_district_config

log = logging.getLogger(__name__)

MAINTAIN_EVERY_S = 3600.0


def _worker_main(config_path: str, index: int, conn: Connection, level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from district.worker import IngestWorker

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides

    def watch_parent() -> None:
        try:
            conn.recv()  # "stop", or EOF when the supervisor is gone
        except (EOFError, OSError):
            os._exit(1)  # orphaned: leave without confirming anything more
        stop.set()

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    IngestWorker(load_district_config(config_path), index, stop=stop).run()


def connect_prepared(config: DistrictConfig, stop: threading.Event) -> psycopg.Connection | None:
    """Connect (waiting for PostgreSQL while it is down) and prepare the schema."""
    pg = config.postgres
    said = ""
    while not stop.is_set():
        try:
            conn = psycopg.connect(pg.dsn, password=pg.password, connect_timeout=5,
                                   application_name="stations-ingest")
            schema.prepare(conn, months_ahead=pg.months_ahead, keep_months=pg.keep_months,
                           rooms=[(r.id, r.school) for r in config.rooms])
            return conn
        except psycopg.OperationalError as err:
            text = str(err).strip().splitlines()[0] if str(err) else repr(err)
            if text != said:
                log.warning("PostgreSQL not reachable (%s); waiting for it", text)
                said = text
            stop.wait(2.0)
    return None


class Supervisor:
    def __init__(self, config: DistrictConfig, *, workers: int | None = None) -> None:
        self.config = config
        self.count = workers or config.ingest.workers
        self._context = multiprocessing.get_context("spawn")
        self._procs: dict[int, tuple[multiprocessing.process.BaseProcess, Connection]] = {}
        self.restarts = 0

    def _start(self, index: int) -> None:
        parent, child = self._context.Pipe()
        proc = self._context.Process(
            target=_worker_main, name=f"{self.config.ingest.group}-{index}",
            args=(str(self.config.path), index, child, logging.getLogger().level))
        proc.start()
        child.close()
        self._procs[index] = (proc, parent)
        log.info("worker %s-%d started (pid %d)", self.config.ingest.group, index, proc.pid)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p, _ in self._procs.values() if p.pid is not None and p.is_alive()]

    def run(self, stop: threading.Event) -> int:
        conn = connect_prepared(self.config, stop)
        if conn is None:
            return 0
        conn.close()
        maintained = time.monotonic()
        for index in range(1, self.count + 1):
            self._start(index)
        try:
            while not stop.wait(0.5):
                for index, (proc, pipe) in list(self._procs.items()):
                    if not proc.is_alive():
                        log.error("worker %d exited (code %s); starting it again", index,
                                  proc.exitcode)
                        pipe.close()
                        self.restarts += 1
                        self._start(index)
                if time.monotonic() - maintained >= MAINTAIN_EVERY_S:
                    maintained = time.monotonic()
                    self._maintain()
        finally:
            self._stop_all()
        return 0

    def _maintain(self) -> None:
        pg = self.config.postgres
        try:
            with psycopg.connect(pg.dsn, password=pg.password, connect_timeout=5) as conn:
                schema.prepare(conn, months_ahead=pg.months_ahead, keep_months=pg.keep_months,
                               rooms=[(r.id, r.school) for r in self.config.rooms])
        except psycopg.Error as err:
            log.warning("hourly maintenance (partitions, retention) failed: %s; next hour", err)

    def _stop_all(self) -> None:
        for _proc, pipe in self._procs.values():
            with contextlib.suppress(OSError):
                pipe.send("stop")
        for proc, pipe in self._procs.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()
            pipe.close()
        self._procs.clear()


def run_ingest(config_path: Path | str, *, workers: int | None = None,
               stop: threading.Event | None = None) -> int:
    config = load_district_config(config_path)
    stop = stop or threading.Event()
    return Supervisor(config, workers=workers).run(stop)
