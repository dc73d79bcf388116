"""Shared fixtures: the room as deployed on a real Mosquitto, SDL's dummy driver, config files.

``deployed_room`` and ``room`` are what every test of the system uses: the room's broker
configuration from the project's own generator (TLS, a password per device, the ACL, the hub's
loopback listener) on a real Mosquitto, and the hub's and stations' configs with their own
credentials. ``mosquitto`` is an anonymous broker for tests about the MQTT client or the
message contract alone; they say so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from stations.deployment import DeployedRoom

# Before anything imports pygame: no window, no sound card, no banner.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPO = Path(__file__).resolve().parent.parent
ROOM = REPO / "stations" / "room"


@pytest.fixture(scope="session")
def need_mosquitto() -> None:
    """Mosquitto (Debian's package): a test without it skips on a laptop and FAILS in CI.
    Session-scoped, so it is asked before any module's broker starts."""
    from broker.mosquitto import find_mosquitto

    try:
        found = find_mosquitto()
    except Exception as err:
        need("Mosquitto", False, str(err))
    need("Mosquitto", os.access(found, os.X_OK),
         f"{found} is not an executable: sudo apt-get install mosquitto")


@pytest.fixture
def mosquitto(tmp_path: Path, need_mosquitto: None) -> Iterator[object]:
    """An ANONYMOUS broker (no TLS, no ACL): only for tests of the client or the contract."""
    from broker.mosquitto import Mosquitto

    broker = Mosquitto(workdir=tmp_path / "broker")
    (tmp_path / "broker").mkdir()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def need(what: str, found: bool, how: str) -> None:
    """Skip a test whose real part is missing on a developer's machine; in CI (CI=true),
    where scripts/setup.sh installs it, a missing part is a failure, never a skip."""
    if found:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing in CI: scripts/setup.sh should have installed it "
                    f"({how})")
    pytest.skip(f"{what} is missing: {how}")


@pytest.fixture
def espeak() -> object:
    """The real espeak-ng (Debian's package)."""
    import shutil

    from kiosk.voice import Espeak

    need("espeak-ng", shutil.which("espeak-ng") is not None, "sudo apt-get install espeak-ng")
    return Espeak()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
               step: Callable[[], None] | None = None, interval: float = 0.01) -> bool:
    """Poll ``predicate`` (running ``step`` between polls) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step is not None:
            step()
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def deployed_room(tmp_path: Path, need_mosquitto: None) -> Iterator[DeployedRoom]:
    """The demo room as IT deploys it, its broker running: stations s1-s4 and the hub."""
    from stations.deployment import DeployedRoom

    deployed = DeployedRoom(tmp_path).start()
    try:
        yield deployed
    finally:
        deployed.stop()


@pytest.fixture
def room(deployed_room: DeployedRoom) -> Callable[..., Path]:
    """Write the demo room's hub.toml (with text replacements) and kiosk-s1..s4.toml, each
    with its own credentials for the deployed room's broker; returns the folder."""
    def make(**hub_overrides: str) -> Path:
        deployed_room.hub_config(replace=hub_overrides)
        for sid in deployed_room.stations:
            deployed_room.kiosk_config(sid)
        return deployed_room.folder
    return make


@pytest.fixture
def lesson(deployed_room: DeployedRoom,
           room: Callable[..., Path]) -> Iterator[Callable[..., tuple]]:
    """``lesson(**hub_text_replacements)``: the hub service on the deployed room (not
    autostarting, its clock the list ``now``) with every station listening through a
    :class:`tests.broker_helpers.StationListener`; returns (service, now, listeners)."""
    from hub.config import load_hub_config
    from hub.service import HubService
    from tests.broker_helpers import StationListener

    started: list[tuple] = []

    def start(**replacements: str) -> tuple:
        folder = room(**{"autostart = true": "autostart = false", **replacements})
        now = [1_760_000_000.0]
        service = HubService(load_hub_config(folder / "hub.toml"), clock=lambda: now[0])
        listeners = {s: StationListener(deployed_room, s) for s in deployed_room.stations}
        started.append((service, listeners))
        service.start()
        assert service.bus.wait_connected(10)
        return service, now, listeners

    try:
        yield start
    finally:
        for service, listeners in started:
            service.stop()
            for listener in listeners.values():
                listener.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One throwaway PostgreSQL cluster (Debian's package, ``initdb`` on a free port) for the
    session. Missing PostgreSQL skips on a laptop and FAILS in CI (``CI=true``)."""
    try:
        import psycopg  # noqa: F401

        from district.pgcluster import LocalPostgres, find_bindir

        find_bindir()
    except Exception as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and missing: {err}")
        pytest.skip(f"PostgreSQL is not available: {err}")
    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_dsn(postgres_server) -> Iterator[str]:
    """A fresh, empty database of its own for one test: its DSN."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_server.dsn.replace("dbname=postgres", f"dbname={name}")
    finally:
        with psycopg.connect(postgres_server.dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
