"""Each device's own files under /etc/stations: identity, service config, hosts.

The service configs use exactly the keys of ``stations/room/kiosk.toml`` and ``hub.toml`` (the
tests load them with the services' own loaders); their ``[broker]`` table comes from the
device's credentials written by ``stations broker-config``.
"""

from __future__ import annotations

from typing import Any

from broker.credentials import DeviceCredentials, service_broker_table
from provisioning import layout
from provisioning.inventory import Room, Site, Station
from stations import tomlwriter

HEADER = "Written by `stations provision` from {source}. Regenerate rather than edit."


def _broker_table(creds: DeviceCredentials) -> dict[str, Any]:
    return service_broker_table(creds, layout.CA_FILE)


def device_identity(site: Site, room: Room, *, device: str, role: str, hostname: str,
                    version: str) -> str:
    data = {
        "room": room.id,
        "device": device,
        "role": role,
        "hostname": hostname,
        "site": site.name,
        "hub_hostname": room.hub_fqdn,
        "hub_ip": room.hub_ip,
        "provisioned_with": version,
    }
    return tomlwriter.dumps(data, f"Who this device is.\n{HEADER.format(source=site.name)}")


def kiosk_config(site: Site, room: Room, station: Station, creds: DeviceCredentials) -> str:
    data: dict[str, Any] = {
        "room": room.id,
        "station": station.id,
        "name": station.name,
        "broker": _broker_table(creds),
        "outbox": {"path": str(layout.OUTBOX)},
        "reader": {"kind": station.reader, **station.reader_options},
        "screen": {"language": room.language, "fullscreen": True},
        "activities": [{"id": a.id, "label": a.label, "icon": a.icon}
                       for a in station.activities],
        "voice": {"cache": str(layout.VOICE_CACHE),
                  "piper": {lang: str(layout.PIPER_VOICES / f"{name}.onnx")
                            for lang, name in room.piper_voices}},
    }
    return tomlwriter.dumps(data, f"Station {station.id} in room {room.id}: "
                                  f"`stations kiosk --config {layout.KIOSK_CONFIG}`.\n"
                                  + HEADER.format(source=site.name)
                                  + "\nHolds the station's MQTT password: mode 0640 "
                                    "root:stations.")


def hub_config(site: Site, room: Room, creds: DeviceCredentials) -> str:
    data: dict[str, Any] = {
        "room": room.id,
        "roster": str(layout.ROSTER),
        "broker": _broker_table(creds),
        "store": {"database": str(layout.HUB_DATABASE)},
        "display": {"enabled": room.hub_display, "fullscreen": room.hub_fullscreen,
                    **({"teacher_pin_hash": room.hub_pin_hash} if room.hub_pin_hash else {})},
        "console": {"enabled": True, "bind": room.hub_ip, "port": 8443,
                    "certfile": str(layout.CONSOLE_CERT), "keyfile": str(layout.CONSOLE_KEY),
                    "accounts": str(layout.TEACHERS)},
        "rotation": {"block_minutes": room.block_minutes, "autostart": room.autostart},
        "stations": [{"id": s.id, "name": s.name, "kind": s.kind,
                      "activities": [{"id": a.id, "label": a.label, "icon": a.icon}
                                     for a in s.activities]}
                     for s in room.stations],
        "groups": [{"id": g.id, "name": g.name, "members": list(g.members)}
                   for g in room.groups],
    }
    return tomlwriter.dumps(data, f"The hub of room {room.id}: "
                                  f"`stations hub --config {layout.HUB_CONFIG}`.\n"
                                  + HEADER.format(source=site.name)
                                  + "\nHolds the hub's MQTT password: mode 0640 root:stations.")


def teachers_file(room: Room) -> str:
    """The console's accounts file for the hub (hashes only, from the inventory)."""
    from hub.console.accounts import Account, render_accounts

    return render_accounts({name: Account(name, stored) for name, stored in room.teachers})


def hosts_file(hostname: str, fqdn: str, room: Room, *, is_hub: bool) -> str:
    """/etc/hosts: the hub's name resolves without DNS, so TLS can check it by name."""
    names = f"{fqdn} {hostname}" if fqdn != hostname else hostname
    lines = [
        "# Written by `stations provision`.",
        "127.0.0.1\tlocalhost",
        "::1\t\tlocalhost ip6-localhost ip6-loopback",
        "ff02::1\t\tip6-allnodes",
        "ff02::2\t\tip6-allrouters",
        "",
    ]
    if is_hub:
        lines.append(f"{room.hub_ip}\t{names}")
    else:
        lines.append(f"127.0.1.1\t{names}")
        hub = (f"{room.hub_fqdn} {room.hub_hostname}" if room.hub_fqdn != room.hub_hostname
               else room.hub_hostname)
        lines.append(f"{room.hub_ip}\t{hub}")
    return "\n".join(lines) + "\n"
