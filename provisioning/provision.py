"""``stations provision``: every card of every room in an inventory, and the sheet to match.

Output (``--out DIR``)::

    DIR/sheet.html, sheet.txt     which card goes into which Pi (no secrets on it)
    DIR/known_hosts               every device's SSH host key, for IT's ~/.ssh/known_hosts
    DIR/<room>/<device>/bootfs/   user-data, meta-data, network-config: copy onto the card
    DIR/<room>/<device>/files/    the same device files as plain files, rooted at /
                                  (for review, or `sudo cp -a files/. /` on a running device)
    DIR/.state/<room>/            the room CA key, broker state and SSH host keys (0700):
                                  keep it, back it up, never copy it to a device

Running it again is safe and quiet: secrets, certificates and host keys are kept, files whose
content does not change are not rewritten, and devices no longer listed are removed (and their
MQTT passwords revoked, as ``stations broker-config`` does).
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from broker.config_gen import LOCAL_PASSWD, generate
from broker.credentials import DeviceCredentials, load_credentials
from broker.devices import load_devices
from provisioning import cloudinit, deviceconfig, layout, sheet, sshkeys
from provisioning.cloudinit import FileSpec
from provisioning.inventory import (
    Inventory,
    InventoryError,
    Room,
    Site,
    Station,
    load_inventory,
)
from stations import tomlwriter
from stations.errors import ConfigError
from stations.files import write_if_changed

log = logging.getLogger(__name__)

BOOT_FILES = ("user-data", "meta-data", "network-config")


@dataclass(frozen=True)
class Card:
    """One device's card, for the sheet and the summary (never holds a secret)."""

    room: str
    device: str
    role: str  # "hub" or "station"
    hostname: str
    name: str
    label: str
    folder: Path
    instance_id: str
    ssh_fingerprint: str


@dataclass
class Result:
    out: Path
    cards: list[Card] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def project_version() -> str:
    try:
        return metadata.version("classroom-stations")
    except metadata.PackageNotFoundError:
        return "source"


def write_file(path: Path, data: str | bytes, mode: int, result: Result) -> None:
    """Atomic, mode set before the first byte, and only when the content changed."""
    if not write_if_changed(path, data, mode):
        return
    result.written.append(path)


def _devices_toml(room: Room) -> str:
    data = {
        "room": {"id": room.id},
        "hub": {"hostname": room.hub_fqdn, "ip": room.hub_ip},
        "broker": {**room.broker, "install_dir": str(layout.MOSQUITTO_DIR)},
        "stations": [{"id": s.id} for s in room.stations],
    }
    return tomlwriter.dumps(data, f"Device list of room {room.id} for `stations broker-config`."
                                  "\nWritten by `stations provision`; edit the inventory "
                                  "instead.")


def _broker_state(inventory: Inventory, room: Room, state: Path,
                  result: Result) -> dict[str, DeviceCredentials]:
    devices_file = state / "devices.toml"
    write_file(devices_file, _devices_toml(room), 0o600, result)
    try:
        devices = load_devices(devices_file)
    except ConfigError as err:
        # Only [rooms.broker] reaches the device list unchecked: point at it.
        key = (err.key or "").removeprefix("broker.")
        raise InventoryError(inventory.path, _room_line(inventory, room, ("broker", key)),
                             f"rooms.broker.{key}" if key else "rooms.broker",
                             err.problem) from None
    generated = generate(devices, state, install_dir=Path(layout.MOSQUITTO_DIR))
    result.written += generated.written
    users = {devices.hub.username: "hub", **{s: s for s in devices.stations}}
    return {device: load_credentials(state / "devices" / device / "mqtt.toml")
            for device in users.values()}


def _room_line(inventory: Inventory, room: Room, where: tuple[str, ...]) -> int | None:
    from provisioning.inventory import LineIndex

    index = LineIndex(inventory.path.read_text(encoding="utf-8"))
    position = [r.id for r in inventory.rooms].index(room.id)
    return index.find(("rooms", position, *where))


def _station_files(inventory: Inventory, room: Room, station: Station, state: Path,
                   creds: DeviceCredentials, version: str) -> list[FileSpec]:
    site = inventory.site
    fqdn = f"{station.hostname}.{site.domain}" if site.domain else station.hostname
    device_dir = state / "devices" / station.id
    return [
        FileSpec(str(layout.DEVICE_FILE), deviceconfig.device_identity(
            site, room, device=station.id, role="station", hostname=station.hostname,
            version=version)),
        FileSpec(str(layout.KIOSK_CONFIG), deviceconfig.kiosk_config(site, room, station, creds),
                 "0640", f"root:{layout.SERVICE_USER}"),
        FileSpec(str(layout.CREDENTIALS), (device_dir / "mqtt.toml").read_text(), "0600"),
        FileSpec(str(layout.CA_FILE), (device_dir / "ca.crt").read_text()),
        FileSpec("/etc/hosts", deviceconfig.hosts_file(station.hostname, fqdn, room,
                                                       is_hub=False)),
    ]


def _hub_files(inventory: Inventory, room: Room, state: Path, creds: DeviceCredentials,
               version: str) -> list[FileSpec]:
    site = inventory.site
    device_dir = state / "devices" / "hub"
    broker = state / "broker"
    mosq = "mosquitto:mosquitto"
    files = [
        FileSpec(str(layout.DEVICE_FILE), deviceconfig.device_identity(
            site, room, device="hub", role="hub", hostname=room.hub_hostname, version=version)),
        FileSpec(str(layout.HUB_CONFIG), deviceconfig.hub_config(site, room, creds), "0640",
                 f"root:{layout.SERVICE_USER}"),
        FileSpec(str(layout.ROSTER), room.roster_text, "0640", f"root:{layout.SERVICE_USER}"),
        FileSpec(str(layout.TEACHERS), deviceconfig.teachers_file(room), "0640",
                 f"root:{layout.SERVICE_USER}"),
        FileSpec(str(layout.CONSOLE_CERT), (broker / "server.crt").read_text()),
        FileSpec(str(layout.CONSOLE_KEY), (broker / "server.key").read_text(), "0640",
                 f"root:{layout.SERVICE_USER}"),
        FileSpec(str(layout.CREDENTIALS), (device_dir / "mqtt.toml").read_text(), "0600"),
        FileSpec(str(layout.CA_FILE), (device_dir / "ca.crt").read_text()),
        FileSpec("/etc/hosts", deviceconfig.hosts_file(room.hub_hostname, room.hub_fqdn, room,
                                                       is_hub=True)),
    ]
    for name, mode, owner in (("mosquitto.conf", "0644", "root:root"),
                              ("passwd", "0600", mosq), (LOCAL_PASSWD, "0600", mosq),
                              ("acl", "0644", "root:root"),
                              ("ca.crt", "0644", "root:root"), ("server.crt", "0644", "root:root"),
                              ("server.key", "0600", mosq)):
        if name == LOCAL_PASSWD and not (broker / name).exists():
            continue  # no loopback listener in this room
        files.append(FileSpec(str(layout.MOSQUITTO_DIR / name), (broker / name).read_text(),
                              mode, owner))
    return files


RUNCMD = (
    ("systemctl", "enable", "--now", "ssh"),
    (str(layout.FIRSTBOOT),),
)


def _card(result: Result, site: Site, room: Room, *, device: str, role: str, hostname: str,
          fqdn: str, name: str, label: str, files: list[FileSpec], station: Station | None,
          network: str, host_key: sshkeys.HostKey, site_name: str, folder: Path) -> Card:
    user_data = cloudinit.user_data(
        site, hostname=hostname, fqdn=fqdn, files=files, station=station,
        ssh_host_key=(host_key.private_openssh, host_key.public_line), runcmd=RUNCMD,
        comment=f"{role} {device} of room {room.id} ({site_name}).\n"
                "Written by `stations provision`: regenerate rather than edit.\n"
                "Holds this device's secrets: keep the card safe.")
    meta = cloudinit.meta_data(room=room.id, device=device, hostname=hostname,
                               user_data_text=user_data, network_text=network)
    boot = folder / "bootfs"
    for filename, text in (("user-data", user_data), ("meta-data", meta),
                           ("network-config", network)):
        write_file(boot / filename, text, 0o600, result)
    mirror = folder / "files"
    wanted = set()
    for spec in files:
        target = mirror / spec.path.lstrip("/")
        wanted.add(target)
        write_file(target, spec.content, int(spec.permissions, 8), result)
    for stale in [p for p in mirror.rglob("*") if p.is_file() and p not in wanted]:
        stale.unlink()
    instance = meta.split("instance-id:", 1)[1].split()[0]
    return Card(room=room.id, device=device, role=role, hostname=hostname, name=name,
                label=label, folder=folder, instance_id=instance,
                ssh_fingerprint=host_key.fingerprint)


def provision(inventory: Inventory, out: Path | str) -> Result:
    """Write every card of ``inventory`` under ``out``; see the module docstring."""
    started = time.perf_counter()
    out = Path(out).resolve()
    result = Result(out)
    version = project_version()
    site = inventory.site
    known_hosts: list[str] = []
    for room in inventory.rooms:
        state = out / ".state" / room.id
        state.mkdir(parents=True, exist_ok=True)
        (out / ".state").chmod(0o700)
        creds = _broker_state(inventory, room, state, result)
        room_dir = out / room.id
        devices = [("hub", None)] + [(s.id, s) for s in room.stations]
        for device, station in devices:
            key = sshkeys.load_or_create(state / "ssh" / f"{device}_ed25519", result)
            if station is None:
                hostname, fqdn = room.hub_hostname, room.hub_fqdn
                files = _hub_files(inventory, room, state, creds["hub"], version)
                network = cloudinit.network_config(site.wifi, room=room)
                name, label, role = f"Hub of {room.name}", room.hub_label, "hub"
            else:
                hostname = station.hostname
                fqdn = f"{hostname}.{site.domain}" if site.domain else hostname
                files = _station_files(inventory, room, station, state, creds[station.id],
                                       version)
                network = cloudinit.network_config(site.wifi)
                name, label, role = station.name, station.label, "station"
            card = _card(result, site, room, device=device, role=role, hostname=hostname,
                         fqdn=fqdn, name=name, label=label, files=files, station=station,
                         network=network, host_key=key, site_name=site.name,
                         folder=room_dir / device)
            result.cards.append(card)
            names = ",".join(dict.fromkeys([fqdn, hostname] + (
                [room.hub_ip] if station is None else [])))
            known_hosts.append(f"{names} {key.public_line.rsplit(' ', 1)[0]}")
        listed = {d for d, _ in devices}
        if room_dir.exists():
            for stale in sorted(p for p in room_dir.iterdir()
                                if p.is_dir() and p.name not in listed):
                shutil.rmtree(stale)
                result.removed.append(f"{room.id}/{stale.name}")
    write_file(out / "known_hosts", "\n".join(known_hosts) + "\n", 0o644, result)
    write_file(out / "sheet.html", sheet.render_html(inventory, result.cards), 0o644, result)
    write_file(out / "sheet.txt", sheet.render_text(inventory, result.cards), 0o644, result)
    result.seconds = time.perf_counter() - started
    return result


def provision_file(path: Path | str, out: Path | str) -> Result:
    return provision(load_inventory(path), out)
