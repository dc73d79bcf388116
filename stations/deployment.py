"""A room as IT deploys it, on one machine: for `stations demo`, the tests and the benchmarks.

The room's broker configuration comes from the project's own generator
(:func:`broker.config_gen.generate`, what ``stations broker-config`` runs): a TLS listener with
the room CA, per-device passwords, the ACL, and the hub's loopback listener. A real Mosquitto
runs that file. Only ports and paths differ from a classroom: listeners on free ports, files
under ``folder``. The hub's and each station's config files carry the ``[broker]`` table
made from their own credentials, as ``stations provision`` writes them: stations over TLS with
their own username and password, the hub on the loopback listener with its own.

    room = DeployedRoom(folder, stations=("s1", "s2")).start()
    hub_toml = room.hub_config()
    kiosk_toml = room.kiosk_config("s1")
    ...
    room.stop()
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from broker.config_gen import generate
from broker.credentials import DeviceCredentials, load_credentials, service_broker_table
from broker.devices import RoomDevices, load_devices
from broker.mosquitto import MosquittoProcess, free_port, run_as_user
from stations import tomlwriter

ROOM_DIR = Path(__file__).with_name("room")
DEMO_ROOM = "demo-room"
DEMO_STATIONS = ("s1", "s2", "s3", "s4")


def _apply(text: str, replace: Mapping[str, str] | None) -> str:
    for old, new in (replace or {}).items():
        if old not in text:
            raise ValueError(f"{old!r} is not in the template")
        text = text.replace(old, new)
    return text


class DeployedRoom:
    """One room's generated broker config, its running Mosquitto, and its service configs.

    ``devices_extra`` is appended to the generated device list (a ``[bridge]`` table, say).
    """

    def __init__(self, folder: Path | str, *, room: str = DEMO_ROOM,
                 stations: Iterable[str] = DEMO_STATIONS, hostname: str = "localhost",
                 ip: str = "127.0.0.1", devices_extra: str = "") -> None:
        self.folder = Path(folder).resolve()
        self.room = room
        self.stations = tuple(stations)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.devices_file = self.folder / "devices.toml"
        data: dict[str, Any] = {
            "room": {"id": room},
            "hub": {"hostname": hostname, "ip": ip},
            "broker": {
                "tls_port": free_port(), "local_port": free_port(),
                "data_dir": str(self.folder / "broker-data"),
                "user": run_as_user() or "mosquitto",
            },
            "stations": [{"id": s} for s in self.stations],
        }
        self.devices_file.write_text(
            tomlwriter.dumps(data, f"Room {room} on this machine (stations.deployment).")
            + devices_extra)
        (self.folder / "broker-data").mkdir(exist_ok=True)
        self.out = self.folder / "room-config"
        self.devices: RoomDevices = load_devices(self.devices_file)
        generate(self.devices, self.out)
        self.broker = MosquittoProcess(
            self.out / "broker" / "mosquitto.conf",
            (self.tls_port, self.local_port), log_path=self.folder / "mosquitto.log")

    # --- the broker ---------------------------------------------------------------------------

    @property
    def tls_port(self) -> int:
        return self.devices.broker.tls_port

    @property
    def local_port(self) -> int:
        return self.devices.broker.local_port

    def start(self) -> DeployedRoom:
        self.broker.start()
        return self

    def stop(self) -> None:
        self.broker.stop()

    def regenerate(self, **kwargs: Any) -> None:
        """Run the generator again (``rotate=...``); :meth:`MosquittoProcess.reload` applies it."""
        self.devices = load_devices(self.devices_file)
        generate(self.devices, self.out, **kwargs)

    def __enter__(self) -> DeployedRoom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- devices ------------------------------------------------------------------------------

    @property
    def hub_user(self) -> str:
        return self.devices.hub.username

    def creds(self, device: str) -> DeviceCredentials:
        """A device's credentials: a station id, or ``"hub"``."""
        return load_credentials(self.out / "devices" / device / "mqtt.toml")

    def broker_table(self, device: str) -> dict[str, Any]:
        """The ``[broker]`` table ``device``'s service config needs."""
        return service_broker_table(self.creds(device))

    def hub_config(self, *, template: Path = ROOM_DIR / "hub.toml", name: str = "hub.toml",
                   replace: Mapping[str, str] | None = None, roster: Path | None = None,
                   settings: Mapping[str, Any] | None = None,
                   console: Mapping[str, Any] | None = None,
                   tables: Mapping[str, Any] | None = None) -> Path:
        """Write the hub's config from ``template`` (text replacements first), as deployed.

        The roster the template names is copied beside it (``roster`` replaces it);
        ``settings`` go into the ``[broker]`` table as well (e.g. ``{"process": False}``).
        ``console`` turns the teacher console on, over HTTPS with the room's server
        certificate, on a free loopback port, its accounts in ``teachers.toml`` beside it
        (the values given go into ``[console]`` as well). ``tables`` are more top-level
        tables (``{"xapi": {...}}``).
        """
        data = tomllib.loads(_apply(template.read_text(), replace))
        data["room"] = self.room
        data["broker"] = {**self.broker_table("hub"),
                          "process": data.get("broker", {}).get("process", True),
                          **(settings or {})}
        if console is not None:
            data["console"] = {"enabled": True, "bind": "127.0.0.1", "port": free_port(),
                               "certfile": str(self.out / "broker" / "server.crt"),
                               "keyfile": str(self.out / "broker" / "server.key"),
                               "accounts": "teachers.toml", **console}
        data.update(tables or {})
        roster_src = roster or template.parent / data["roster"]
        (self.folder / Path(data["roster"]).name).write_text(roster_src.read_text())
        data["roster"] = Path(data["roster"]).name
        path = self.folder / name
        path.write_text(tomlwriter.dumps(data, f"The hub of room {self.room} "
                                               "(stations.deployment). Holds a password."))
        path.chmod(0o600)
        return path

    def kiosk_config(self, station: str, *, template: Path = ROOM_DIR / "kiosk.toml",
                     name: str | None = None, display_name: str | None = None,
                     replace: Mapping[str, str] | None = None) -> Path:
        """Write station ``station``'s config from ``template``, as deployed.

        As ``stations provision`` does, the station's own menu from the hub's config (the one
        :meth:`hub_config` wrote, else the demo room's) is what it shows until the hub's
        rotation state arrives: the hub refuses an activity its menu never offered.
        """
        if station not in self.stations:
            raise ValueError(f"station {station!r} is not in room {self.room}'s device list")
        data = tomllib.loads(_apply(template.read_text(), replace))
        data.update(room=self.room, station=station, name=display_name or station)
        hub_toml = self.folder / "hub.toml"
        plan = tomllib.loads((hub_toml if hub_toml.exists() else ROOM_DIR / "hub.toml")
                             .read_text()).get("stations", [])
        menu = next((s.get("activities") for s in plan if s.get("id") == station), None)
        if menu:
            data["activities"] = menu
        data["broker"] = self.broker_table(station)
        data.setdefault("outbox", {})["path"] = f"outbox-{station}.db"
        path = self.folder / (name or f"kiosk-{station}.toml")
        path.write_text(tomlwriter.dumps(data, f"Station {station} of room {self.room} "
                                               "(stations.deployment). Holds a password."))
        path.chmod(0o600)
        return path
