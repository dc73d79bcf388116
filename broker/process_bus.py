"""The shared MQTT client, run in a child process of its own (the hub uses it).

paho does its parsing and framing in Python, so in one process it competes for the GIL
with whatever handles the messages. The hub moves the client into a child process: received
messages cross a pipe to the parent in batches, replies come back in batches. On a Pi 4 or 5
the two run on different cores.

Same interface as :class:`broker.client.BusClient`. The child exits at once (without a clean
MQTT disconnect, so the broker publishes its last will) when the parent goes away; the parent
restarts a child that died.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection

from broker.client import (
    BrokerSettings,
    BusClient,
    ConnectionHandler,
    MessageHandler,
    RefusalHandler,
    Will,
)
from stations.lifecycle import ignore_stop_signals

log = logging.getLogger(__name__)

#: Received messages are sent to the parent in batches of at most this many.
BATCH = 1000
RESTART_S = 1.0


def _child(conn: Connection, client_id: str, settings: BrokerSettings,
           subscriptions: list[str], will: Will | None, level: int) -> None:
    """The child: one BusClient, relaying both ways until the parent says stop or vanishes."""
    # Its life is the parent's: a terminal's Ctrl-C or systemd's stop reaches both at once,
    # and the parent, still flushing replies, stops the child when it is done.
    ignore_stop_signals()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    inbox: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()
    bus = BusClient(client_id, settings, subscriptions=subscriptions,
                    on_message=lambda t, p: inbox.put(("msg", (t, p))),
                    on_connection=lambda up: inbox.put(("conn", up)),
                    on_refused=lambda t, r: inbox.put(("refused", (t, r))), will=will)
    send_lock = threading.Lock()

    def relay() -> None:  # child → parent, received messages in batches, in order
        while True:
            batch: list[object] = []
            other: tuple[str, object] | None = None
            kind, item = inbox.get()
            while True:
                if kind != "msg":
                    other = (kind, item)
                    break
                batch.append(item)
                if len(batch) >= BATCH:
                    break
                try:
                    kind, item = inbox.get_nowait()
                except queue.Empty:
                    break
            with send_lock:
                if batch:
                    conn.send(("msgs", batch))
                if other is not None:
                    conn.send(other)

    bus.start()
    threading.Thread(target=relay, name="bus-relay", daemon=True).start()
    while True:  # parent → child
        try:
            kind, item = conn.recv()
        except (EOFError, OSError):
            os._exit(1)  # the parent is gone: no clean disconnect, so the will goes out
        if kind == "pub":
            for topic, payload, retain in item:
                bus.publish(topic, payload, retain=retain)
        elif kind == "stop":
            bus.stop(final=item)
            with send_lock:
                conn.send(("stopped", None))
            return


class ProcessBus:
    """A :class:`BusClient` in a child process, driven from this one."""

    def __init__(self, client_id: str, settings: BrokerSettings, *,
                 subscriptions: Sequence[str] = (),
                 on_message: MessageHandler | None = None,
                 on_connection: ConnectionHandler | None = None,
                 on_refused: RefusalHandler | None = None,
                 will: Will | None = None) -> None:
        client_id = settings.client_id or client_id
        self.client_id = client_id
        self.settings = settings
        self._args = (client_id, settings, list(subscriptions), will)
        self._on_message = on_message
        self._on_connection = on_connection
        self._on_refused = on_refused
        #: Publishes the broker refused since start (counted in the child, reported here).
        self.refused = 0
        self._connected = threading.Event()
        self._stopping = False
        self._stopped = threading.Event()
        self._conn: Connection | None = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._send_lock = threading.Lock()
        self.last_error = ""

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")  # no threads or sockets inherited
        parent, child = context.Pipe()
        self._proc = context.Process(target=_child, name=f"{self.client_id}-mqtt",
                                     args=(child, *self._args, logging.getLogger().level),
                                     daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        threading.Thread(target=self._receive, args=(parent,), name="bus-receive",
                         daemon=True).start()

    def _receive(self, conn: Connection) -> None:
        while True:
            try:
                kind, item = conn.recv()
            except (EOFError, OSError, TypeError):  # TypeError: closed under our feet
                break
            if kind == "msgs" and self._on_message is not None:
                for topic, payload in item:
                    self._on_message(topic, payload)
            elif kind == "conn":
                (self._connected.set if item else self._connected.clear)()
                if self._on_connection is not None:
                    self._on_connection(bool(item))
            elif kind == "refused":
                self.refused += 1
                if self._on_refused is not None:
                    self._on_refused(*item)
            elif kind == "stopped":
                self._stopped.set()
                return
        self._connected.clear()
        if not self._stopping:  # the child died: say so and start another
            log.error("the MQTT process exited unexpectedly (code %s); restarting it",
                      self._proc.exitcode if self._proc else None)
            if self._on_connection is not None:
                self._on_connection(False)
            time.sleep(RESTART_S)
            self.start()

    def _send(self, message: tuple[str, object]) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            with self._send_lock:
                conn.send(message)
            return True
        except (OSError, ValueError):
            return False

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        return self.publish_many([(topic, payload, retain)])

    def publish_many(self, messages: Sequence[tuple[str, bytes, bool]]) -> bool:
        """Queue QoS 1 publishes in one hop to the child; False if not connected."""
        if not self.connected:
            return False
        return self._send(("pub", list(messages)))

    def stop(self, final: Sequence[tuple[str, bytes, bool]] = ()) -> None:
        self._stopping = True
        if self._send(("stop", list(final))):
            self._stopped.wait(5)
        if self._proc is not None:
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()
        if self._conn is not None:
            self._conn.close()
        self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)
