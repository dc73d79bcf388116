"""A device's MQTT credentials file (``devices/<id>/mqtt.toml``), written and read.

``stations broker-config`` writes one per device with mode 0600; provisioning copies the folder
(``mqtt.toml`` and ``ca.crt``) onto the device. Relative paths in it are relative to the file.
The ``[broker]`` table uses the same keys as ``broker.client.read_broker`` (host, port,
username, password, ca_file; no ca_file means plain TCP, which only the hub's loopback
listener accepts) plus room, device, role, tls and client_id.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stations.errors import ConfigError
from stations.tomlconfig import Section, load_toml

FILENAME = "mqtt.toml"


@dataclass(frozen=True)
class DeviceCredentials:
    room: str
    device: str
    role: str  # "station" or "hub"
    host: str
    port: int
    tls: bool
    username: str
    password: str = field(repr=False)
    client_id: str
    ca_file: Path | None = None

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context that trusts only the room CA and checks the hub's host name."""
        if not self.tls:
            return None
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                             cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def service_broker_table(creds: DeviceCredentials, ca_file: Path | str | None = None
                         ) -> dict[str, Any]:
    """The ``[broker]`` table of a hub or kiosk config that connects with ``creds``.

    ``ca_file`` is where the room CA will be on the device (default: next to the credentials).
    """
    table: dict[str, Any] = {"host": creds.host, "port": creds.port,
                             "username": creds.username, "password": creds.password,
                             "client_id": creds.client_id}
    if creds.tls:
        table["ca_file"] = str(ca_file if ca_file is not None else creds.ca_file)
    return table


def _quote(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(value)


def render_credentials(creds: DeviceCredentials) -> str:
    lines = [
        f"# MQTT credentials for {creds.role} {creds.device!r} in room {creds.room!r}.",
        "# Written by `stations broker-config`. Secret: keep mode 0600; do not copy elsewhere.",
        "[broker]",
        f"room = {_quote(creds.room)}",
        f"device = {_quote(creds.device)}",
        f"role = {_quote(creds.role)}",
        f"host = {_quote(creds.host)}",
        f"port = {creds.port}",
        f"tls = {'true' if creds.tls else 'false'}",
    ]
    if creds.tls and creds.ca_file is not None:
        lines.append(f"ca_file = {_quote(str(creds.ca_file))}")
    lines += [
        f"username = {_quote(creds.username)}",
        f"password = {_quote(creds.password)}",
        f"client_id = {_quote(creds.client_id)}",
    ]
    return "\n".join(lines) + "\n"


def load_credentials(path: Path | str) -> DeviceCredentials:
    """Read a device's credentials file, checking every key (an unknown one is an error)."""
    path = Path(path)
    root = Section(path, load_toml(path))
    mqtt = root.table("broker")
    tls = mqtt.get("tls", bool, True)
    ca_file: Path | None = None
    if tls and mqtt.has("ca_file"):
        ca_file = Path(mqtt.get("ca_file", str))
        if not ca_file.is_absolute():
            ca_file = path.parent / ca_file
        if not ca_file.is_file():
            raise mqtt.error("ca_file", f"{ca_file} does not exist")
    elif tls:
        raise mqtt.error("ca_file", "is required when tls = true (the room CA certificate)")
    port = mqtt.get("port", int, 8883 if tls else 1883)
    if not 1 <= port <= 65535:
        raise mqtt.error("port", f"must be a TCP port (1-65535), got {port}")
    role = mqtt.get("role", str, "station")
    if role not in ("station", "hub"):
        raise mqtt.error("role", f"{role!r}: must be station or hub")
    password = mqtt.get("password", str, required=True)
    if not password:
        raise ConfigError(path, "broker.password", "is empty")
    username = mqtt.get("username", str, required=True)
    mqtt.known("ca_file")  # a plain-TCP file may keep one for later
    creds = DeviceCredentials(
        room=mqtt.get("room", str, required=True),
        device=mqtt.get("device", str, required=True),
        role=role,
        host=mqtt.get("host", str, required=True),
        port=port,
        tls=tls,
        username=username,
        password=password,
        client_id=mqtt.get("client_id", str, username),
        ca_file=ca_file,
    )
    root.check_unknown()
    return creds
