"""Serve the console over HTTPS from a thread of the hub's process, with its own event loop.

uvicorn (plain: asyncio and h11, nothing compiled) with the hub's certificate from
``stations broker-config``, so a laptop or phone that trusts the room CA trusts the console.
It listens only on ``[console] bind`` (the hub's address on the room's network), writes no
access log (paths would be logged; the console logs its own events instead), and trusts no
``X-Forwarded-For``: the login throttle counts the real peer address.

    server = ConsoleServer(service, config.console).start()
    ...
    server.stop()
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from typing import Any

from hub.config import ConsoleConfig

log = logging.getLogger(__name__)

START_TIMEOUT_S = 15.0


class ConsoleServer:
    def __init__(self, service: Any, config: ConsoleConfig) -> None:
        import uvicorn

        from hub.console.app import Console

        self.config = config
        self.console = Console(service, config)
        self._uvicorn = uvicorn.Server(uvicorn.Config(
            self.console, host=config.bind, port=config.port, loop="asyncio", http="h11",
            ws="none", lifespan="on", log_config=None, access_log=False, proxy_headers=False,
            server_header=False, ssl_certfile=str(config.certfile),
            ssl_keyfile=str(config.keyfile), ssl_version=ssl.PROTOCOL_TLS_SERVER,
            timeout_graceful_shutdown=2, limit_concurrency=200))
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.config.bind}]" if ":" in self.config.bind else self.config.bind
        return f"https://{host}:{self.port}"

    @property
    def port(self) -> int:
        """The port listened on (the real one when the config asks for port 0)."""
        for server in getattr(self._uvicorn, "servers", []):
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self.config.port

    def start(self) -> ConsoleServer:
        """Start serving; returns once the console listens. A console that cannot start
        (the port in use, an unreadable key) is logged and the hub runs on without it."""
        for key, path in (("certfile", self.config.certfile), ("keyfile", self.config.keyfile)):
            if path is None or not path.is_file():
                log.error("the teacher console did not start: [console] %s %s: no such file "
                          "(the hub's server certificate and key from `stations "
                          "broker-config`); the hub runs on without it", key, path)
                return self
        self._thread = threading.Thread(target=self._run, name="hub-console", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._uvicorn.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if self._uvicorn.started:
            log.info("teacher console at %s", self.url)
        else:
            log.error("the teacher console did not start on %s:%d%s; the hub runs on "
                      "without it", self.config.bind, self.config.port,
                      f" ({self.error})" if self.error else "")
        return self

    @property
    def running(self) -> bool:
        return bool(self._uvicorn.started and self._thread and self._thread.is_alive())

    def _run(self) -> None:
        try:
            asyncio.run(self._uvicorn.serve())
        except BaseException as err:  # uvicorn exits (SystemExit) when it cannot bind
            self.error = err
            if not isinstance(err, SystemExit):
                log.exception("the teacher console stopped")

    def stop(self) -> None:
        self._uvicorn.should_exit = True
        self.console.closing = True
        self.console.view_changed()  # the event streams notice at once
        if self._thread is not None:
            self._thread.join(timeout=10)
