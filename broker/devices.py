"""The room's device list: the TOML file that ``stations broker-config`` turns into a broker.

See ``broker/example-devices.toml`` for every key. Loading checks everything up front (an
unknown key too, with the nearest known one) and raises
:class:`~stations.errors.ConfigError` naming the file, key and problem.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from stations.tomlconfig import Section, load_toml

_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
#: Only these station topics may ever cross a bridge; replies carry display names.
BRIDGEABLE = ("checkin", "status")


@dataclass(frozen=True)
class Hub:
    hostname: str
    ip: str
    username: str = "hub"


@dataclass(frozen=True)
class BrokerSettings:
    tls_port: int = 8883
    #: Address the TLS listener binds to; empty means every interface.
    bind: str = ""
    #: Plain listener on 127.0.0.1 for the hub's own service; 0 turns it off.
    local_port: int = 1883
    #: Where the files of ``<out>/broker`` live on the hub; None means where they are written.
    install_dir: str | None = None
    data_dir: str = "/var/lib/mosquitto/"
    user: str = "mosquitto"
    log_dest: str = "stderr"
    #: Per-client queue: must hold every check-in that arrives while the hub service is down.
    max_queued_messages: int = 10000
    max_inflight_messages: int = 20
    #: Forget sessions of devices that have not connected for this long (e.g. a retired station).
    session_expiry: str = "14d"


@dataclass(frozen=True)
class Bridge:
    host: str
    port: int
    ca_file: Path
    username: str
    password_file: Path | None = None
    topic_prefix: str = ""
    forward: tuple[str, ...] = ("checkin",)
    protocol: str = "mqttv311"
    #: Reconnect backoff bounds (seconds, decorrelated jitter between them).
    retry_min_s: int = 5
    retry_max_s: int = 120


@dataclass(frozen=True)
class RoomDevices:
    path: Path
    room: str
    hub: Hub
    stations: tuple[str, ...]
    broker: BrokerSettings
    bridge: Bridge | None = None


def _hostname(section: Section, name: str) -> str:
    value = section.get(name, str, required=True)
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOSTNAME_LABEL.match(label) for label in labels):
        raise section.error(name, f"{value!r} is not a valid host name")
    return value.rstrip(".").lower()


def _port(section: Section, name: str, default: int, *, allow_zero: bool = False) -> int:
    value = section.get(name, int, default)
    if not (0 if allow_zero else 1) <= value <= 65535:
        raise section.error(name, f"must be a TCP port (1-65535), got {value}")
    return value


def _ip(section: Section, name: str) -> str:
    value = section.get(name, str, required=True)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as err:
        raise section.error(name, f"{value!r} is not an IP address") from err


def read_broker_settings(section: Section) -> BrokerSettings:
    """The ``[broker]`` table of a device list (or of an inventory's room)."""
    defaults = BrokerSettings()
    bind = section.get("bind", str, "")
    if bind:
        try:
            ipaddress.ip_address(bind)
        except ValueError as err:
            raise section.error("bind", f"{bind!r} is not an IP address") from err
    install_dir = None
    if section.has("install_dir"):
        install_dir = section.get("install_dir", str)
        if not install_dir.startswith("/"):
            raise section.error("install_dir", "must be an absolute path on the hub")
    data_dir = section.get("data_dir", str, defaults.data_dir)
    if not data_dir.startswith("/"):
        raise section.error("data_dir", "must be an absolute path on the hub")
    log_dest = section.get("log_dest", str, defaults.log_dest)
    if log_dest.split(" ", 1)[0] not in ("stderr", "stdout", "syslog", "file", "none"):
        raise section.error("log_dest", f"{log_dest!r}: use stderr, syslog, none or "
                                        "'file /path/to/log'")
    expiry = section.get("session_expiry", str, defaults.session_expiry)
    if not re.fullmatch(r"[1-9][0-9]*[hdwmy]", expiry):
        raise section.error("session_expiry", f"{expiry!r}: use a number and h, d, w, m or y, "
                                              "for example '14d'")
    settings = BrokerSettings(
        tls_port=_port(section, "tls_port", defaults.tls_port),
        bind=bind,
        local_port=_port(section, "local_port", defaults.local_port, allow_zero=True),
        install_dir=install_dir,
        data_dir=data_dir.rstrip("/") + "/",
        user=section.get("user", str, defaults.user),
        log_dest=log_dest,
        max_queued_messages=section.positive("max_queued_messages", int,
                                             defaults.max_queued_messages),
        max_inflight_messages=section.positive("max_inflight_messages", int,
                                               defaults.max_inflight_messages),
        session_expiry=expiry,
    )
    # Every listener ties the client id to the username, always: without it a station's
    # secret could connect as client "hub" (or another station) and take over that session
    # with the check-ins queued for it. Accepted as true for device lists that still say so.
    if not section.get("username_as_client_id", bool, True):
        raise section.error("username_as_client_id", "cannot be false: the client id is always "
                                                     "the username, so no device can log in as "
                                                     "the hub (or another station) and take "
                                                     "over its session; remove the line")
    if settings.local_port == settings.tls_port:
        raise section.error("local_port", f"must differ from tls_port ({settings.tls_port})")
    return settings


def _bridge(section: Section, base: Path, room: str) -> Bridge:
    def relative(name: str, required: bool) -> Path | None:
        if not section.has(name) and not required:
            return None
        path = Path(section.get(name, str, required=True)).expanduser()
        return path if path.is_absolute() else (base / path)

    forward = section.data["forward"] if section.has("forward") else ["checkin"]
    if not isinstance(forward, list) or not all(isinstance(f, str) for f in forward) \
            or not forward:
        raise section.error("forward", "must be a non-empty list of topic names, "
                                       "for example [\"checkin\"]")
    for leaf in forward:
        if leaf == "reply" or leaf == "hello":
            raise section.error("forward", f"{leaf!r} is never bridged: replies carry students' "
                                           "names and hellos are only useful in the room")
        if leaf not in BRIDGEABLE:
            raise section.error("forward", f"unknown topic {leaf!r}; choose from "
                                           f"{', '.join(BRIDGEABLE)}")
    prefix = section.get("topic_prefix", str, "")
    if prefix and (not prefix.endswith("/") or any(c in prefix for c in "+# ")
                   or prefix.startswith("/")):
        raise section.error("topic_prefix", f"{prefix!r} must end with '/' and contain no "
                                            "wildcards or spaces, for example 'lincoln-hs/'")
    protocol = section.get("protocol", str, "mqttv311")
    if protocol not in ("mqttv311", "mqttv50"):
        raise section.error("protocol", f"{protocol!r}: use mqttv311 or mqttv50")
    ca_file = relative("ca_file", True)
    assert ca_file is not None
    if not ca_file.is_file():
        raise section.error("ca_file", f"{ca_file} does not exist (the upstream broker's CA "
                                       "certificate, PEM)")
    password_file = relative("password_file", False)
    if password_file is not None and not password_file.is_file():
        raise section.error("password_file", f"{password_file} does not exist")
    retry_min_s = section.positive("retry_min_s", int, 5)
    retry_max_s = section.positive("retry_max_s", int, 120)
    if retry_max_s < retry_min_s:
        raise section.error("retry_max_s", f"must be at least retry_min_s ({retry_min_s})")
    return Bridge(
        retry_min_s=retry_min_s,
        retry_max_s=retry_max_s,
        host=_hostname(section, "host") if not _is_ip(section.data.get("host"))
        else _ip(section, "host"),
        port=_port(section, "port", 8883),
        ca_file=ca_file,
        username=section.get("username", str, room),
        password_file=password_file,
        topic_prefix=prefix,
        forward=tuple(dict.fromkeys(forward)),
        protocol=protocol,
    )


def _is_ip(value: object) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def load_devices(path: Path | str) -> RoomDevices:
    """Read and check a room's device list."""
    path = Path(path)
    root = Section(path, load_toml(path))
    room_section = root.table("room")
    room = room_section.ident("id")
    hub_section = root.table("hub")
    hub = Hub(hostname=_hostname(hub_section, "hostname"), ip=_ip(hub_section, "ip"),
              username=hub_section.get("username", str, "hub"))
    if not hub.username or ":" in hub.username or " " in hub.username:
        raise hub_section.error("username", "must be non-empty, without ':' or spaces")
    stations: list[str] = []
    for entry in root.tables("stations"):
        station = entry.ident("id")
        if station in stations:
            raise entry.error("id", f"station {station!r} is listed twice")
        if station == hub.username:
            raise entry.error("id", f"{station!r} is the hub's username; rename the station")
        stations.append(station)
    broker = read_broker_settings(root.table("broker", required=False))
    bridge = _bridge(root.table("bridge"), path.parent, room) if root.has("bridge") else None
    root.check_unknown()
    return RoomDevices(path=path, room=room, hub=hub, stations=tuple(stations), broker=broker,
                       bridge=bridge)
