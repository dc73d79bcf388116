"""The teacher console on the room as deployed, for the console's tests, its benchmark and its
pictures: a real Mosquitto with the room's generated config, the hub service with its
console over HTTPS (the room's server certificate), stations that publish over TLS with their
own credentials, and Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker import contract as c
from hub.config import load_hub_config
from hub.console.accounts import Account, hash_password, write_accounts
from hub.service import HubService
from stations.deployment import DeployedRoom

PASSWORD = "correct horse battery staple"
#: Cheap hashes for the tests (the parameters travel in the hash; the product's are 2**17).
TEST_LOG2_N = 12
CHROMIUM = os.environ.get("STATIONS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
#: axe-core, installed by scripts/setup.sh with npm outside the repository.
AXE_DIR = Path(os.environ.get("STATIONS_AXE_DIR") or
               Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stations-axe")
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


def write_teachers(path: Path, names: tuple[str, ...] = ("ana", "ben")) -> Path:
    write_accounts(path, {n: Account(n, hash_password(PASSWORD, log2_n=TEST_LOG2_N))
                          for n in names})
    return path


@dataclass
class ConsoleRoom:
    deployed: DeployedRoom
    service: HubService
    server: Any = None
    listeners: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    @property
    def ca(self) -> Path:
        return self.deployed.out / "broker" / "ca.crt"

    @property
    def cert(self) -> Path:
        return self.deployed.out / "broker" / "server.crt"

    def badge_of(self, student: str) -> str:
        return self.service.store.db.execute(
            "SELECT badge FROM badges WHERE student_id=? AND revoked=0",
            (student,)).fetchone()[0]

    def check_in(self, station: str, student: str, at: float, *, confidence: int = 3,
                 goal: int | None = None) -> c.CheckIn:
        """Publish a student's check-in from a station, over TLS with its credentials."""
        menu = next(s.activities for s in self.service.config.plan.stations if s.id == station)
        answers = {"confidence": confidence} | ({"goal": goal} if goal else {})
        message = c.CheckIn(**c.envelope(station, at), badge=self.badge_of(student),
                            answers=answers, activity=menu[0].id, tapped_at=at)
        self.listeners[station].publish("checkin", message)
        return message


@contextmanager
def console_room(folder: Path, *, serve: bool = True, listen: bool = True,
                 teachers: tuple[str, ...] = ("ana", "ben", "cleo"),
                 process: bool = False, tables: Mapping[str, Any] | None = None
                 ) -> Iterator[ConsoleRoom]:
    """The demo room, its hub (not autostarting) with the console, and listening stations.

    ``process``: the hub's MQTT client in a process of its own, as deployed (a caller's
    ``__main__`` must be import-safe)."""
    from tests.broker_helpers import StationListener

    deployed = DeployedRoom(folder).start()
    service = server = None
    listeners: dict[str, Any] = {}
    try:
        hub_toml = deployed.hub_config(replace={"autostart = true": "autostart = false"},
                                       settings={"process": process}, console={},
                                       tables=tables)
        write_teachers(folder / "teachers.toml", teachers)
        config = load_hub_config(hub_toml)
        service = HubService(config)
        service.start()
        assert service.bus.wait_connected(10)
        if listen:
            listeners = {s: StationListener(deployed, s) for s in deployed.stations}
        if serve:
            from hub.console.server import ConsoleServer

            server = ConsoleServer(service, config.console).start()
            assert server.running, server.error
        yield ConsoleRoom(deployed, service, server, listeners)
    finally:
        if server is not None:
            server.stop()
        if service is not None:
            service.stop()
        for listener in listeners.values():
            listener.close()
        deployed.stop()


def spki_hash(cert: Path) -> str:
    """Chromium's pin for a certificate: base64 SHA-256 of its public key (SPKI)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = x509.load_pem_x509_certificate(cert.read_bytes()).public_key()
    der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def browser_missing() -> str | None:
    """Why Chromium with Playwright cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (scripts/setup.sh test installs it)"
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        return (f"{CHROMIUM} is missing: apt-get install chromium (scripts/setup.sh does it "
                "with CI=true or STATIONS_SYSTEM_TOOLS=1)")
    return None


@contextmanager
def chromium(cert: Path) -> Iterator[Any]:
    """Debian's Chromium, trusting exactly the room's server key (as a laptop that installed
    the room CA would trust the console); nothing is downloaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={spki_hash(cert)}"])
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Any, base: str, name: str = "ana", password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def csrf_of(html: str) -> str:
    match = re.search(r'data-csrf="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)

