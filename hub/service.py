"""The hub's I/O shell: wires the ingest core and the rotation engine to MQTT and SQLite.

One ingest thread owns the database and the rotation engine. paho's network thread only puts
received messages on a queue; teacher actions from the display go on the same queue, so no
state is shared between threads except the immutable :class:`HubView` the display reads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from broker import contract
from broker.client import BusClient, Will
from broker.contract import HubStatus, RotationState, StationPlan
from hub.config import HubConfig
from hub.ingest import Arrival, Ingest, Outgoing
from hub.roster import Roster, read_roster_file
from hub.rotation import Phase, Rotation, RotationSnapshot
from hub.store import HubStore, open_db

log = logging.getLogger(__name__)

ROTATION_KEY = "rotation"
#: Re-publish the retained rotation state this often even without a change, so a station
#: that missed one corrects its countdown.
ROTATION_REFRESH_S = 15.0
BATCH = 500


@dataclass(frozen=True)
class HubView:
    """Everything the display draws, made by the ingest thread, read by the display thread."""

    room: str
    rotation: RotationSnapshot
    station_names: dict[str, str]
    group_names: dict[str, str]
    arrivals: tuple[Arrival, ...]
    station_states: dict[str, str]
    connected: bool
    stored: int
    at: float


class HubService:
    def __init__(self, config: HubConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.room = config.room
        db = open_db(config.database)
        self.store = HubStore(db)
        self.roster = Roster(db)
        self.roster.load(read_roster_file(config.roster))
        self.rotation = Rotation(config.plan)
        saved = self.store.load_state(ROTATION_KEY)
        if saved is not None:
            self.rotation.restore(saved, clock())
            log.info("rotation restored: %s, block %d of %d, %.0f s left",
                     self.rotation.phase, self.rotation.block + 1, config.plan.block_count,
                     self.rotation.remaining(clock()))
        self.ingest = Ingest(self.room, self.store, self.roster, self.rotation)
        self._inbox: queue.Queue[tuple[str, bytes] | Callable[[float], None]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_rotation_publish = 0.0
        self._view_lock = threading.Lock()
        offline = contract.encode(HubStatus(**contract.envelope("hub"), state="offline"))
        self.bus = BusClient("hub", config.broker,
                             subscriptions=contract.hub_subscriptions(self.room),
                             on_message=lambda topic, payload: self._inbox.put((topic, payload)),
                             on_connection=self._connection_changed,
                             will=Will(contract.hub_status_topic(self.room), offline))
        self._view = self._make_view(clock())

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        now = self.clock()
        if self.config.autostart and self.rotation.phase in (Phase.IDLE, Phase.ENDED):
            self.rotation.start(now)
            self._persist_rotation()
        self.bus.start()
        self._thread = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        offline = contract.encode(HubStatus(**contract.envelope("hub"), state="offline"))
        self.bus.stop(final=[(contract.hub_status_topic(self.room), offline, True)])
        self.store.db.close()

    def teacher(self, action: str, minutes: float = 0.0) -> None:
        """Queue a teacher action (start, pause, resume, extend, skip, end) for ingest."""
        def apply(now: float) -> None:
            if action == "extend":
                self.rotation.extend(now, minutes * 60.0)
            elif action in ("start", "pause", "resume", "skip", "end"):
                getattr(self.rotation, action)(now)
            else:
                log.warning("unknown teacher action %r ignored", action)
                return
            log.info("teacher action %s: now %s, block %d", action, self.rotation.phase,
                     self.rotation.block + 1)
            self._persist_rotation()
            self._publish_rotation(now)
        self._inbox.put(apply)

    @property
    def view(self) -> HubView:
        with self._view_lock:
            return self._view

    # --- ingest thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step(timeout=0.2)

    def step(self, timeout: float) -> int:
        """Handle what has arrived (waiting up to ``timeout`` for the first); returns count."""
        batch: list[tuple[str, bytes]] = []
        actions: list[Callable[[float], None]] = []
        try:
            item = self._inbox.get(timeout=timeout)
            while True:
                (actions.append if callable(item) else batch.append)(item)  # type: ignore[arg-type]
                if len(batch) >= BATCH:
                    break
                item = self._inbox.get_nowait()
        except queue.Empty:
            pass
        now = self.clock()
        replies: list[Outgoing] = self.ingest.handle_batch(batch, now) if batch else []
        for reply in replies:
            self.bus.publish(reply.topic, reply.payload, retain=reply.retain)
        for action in actions:
            action(now)
        if self.rotation.tick(now):
            log.info("rotation moved on: %s, block %d", self.rotation.phase,
                     self.rotation.block + 1)
            self._persist_rotation()
            self._publish_rotation(now)
        elif now - self._last_rotation_publish >= ROTATION_REFRESH_S:
            self._publish_rotation(now)
        view = self._make_view(now)
        with self._view_lock:
            self._view = view
        return len(batch)

    def _connection_changed(self, connected: bool) -> None:
        if connected:
            def announce(now: float) -> None:
                online = contract.encode(HubStatus(**contract.envelope("hub", now),
                                                   state="online"))
                self.bus.publish(contract.hub_status_topic(self.room), online, retain=True)
                self._publish_rotation(now)
            self._inbox.put(announce)

    def _persist_rotation(self) -> None:
        with self.store.db:
            self.store.save_state(ROTATION_KEY, self.rotation.to_dict())

    def _publish_rotation(self, now: float) -> None:
        snap = self.rotation.snapshot(now)
        groups = {g.id: g.name for g in self.config.plan.groups}
        plans = tuple(
            StationPlan(id=s.id, name=s.name, kind=s.kind,  # type: ignore[arg-type]
                        group=groups.get(snap.assignments.get(s.id, ""), ""),
                        activities=tuple(contract.Activity(a.id, a.label, a.icon)
                                         for a in s.activities))
            for s in self.config.plan.stations)
        message = RotationState(**contract.envelope("hub", now), state=snap.phase.value,
                                block=snap.block, blocks=snap.blocks,
                                remaining_s=snap.remaining_s, stations=plans)
        if self.bus.publish(contract.rotation_topic(self.room), contract.encode(message),
                            retain=True):
            self._last_rotation_publish = now

    def _make_view(self, now: float) -> HubView:
        plan = self.config.plan
        return HubView(
            room=self.room,
            rotation=self.rotation.snapshot(now),
            station_names={s.id: s.name for s in plan.stations},
            group_names={g.id: g.name for g in plan.groups},
            arrivals=tuple(sorted(self.ingest.arrivals.values(), key=lambda a: a.at)),
            station_states=dict(self.ingest.station_states),
            connected=self.bus.connected,
            stored=self.ingest.stats.stored,
            at=now,
        )
