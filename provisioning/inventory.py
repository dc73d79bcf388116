"""The school's inventory file: site settings, rooms with their hubs, and stations.

``stations provision INVENTORY --out DIR`` reads it (see ``provisioning/example-room.toml`` for
every key). Everything is checked up front; a problem raises :class:`InventoryError`, whose
message names the file, the line, the key and what is wrong, and nothing is written.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker import contract
from broker.contract import ID_RE
from broker.devices import read_broker_settings
from hub.config import COLOURS, KIND_ICONS, STATION_KINDS
from hub.console.accounts import account_problem
from hub.pin import parse_pin_hash
from hub.rotation import ActivityDef, GroupDef, StationDef
from hub.wire import rotation_size_problem
from kiosk.readers.factory import reader_options
from stations.errors import ConfigError
from stations.tomlconfig import Section, load_toml

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?(\.UTF-8)?(@[a-z]+)?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SSH_KEY = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|"
                      r"sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+[A-Za-z0-9+/=]+(\s.*)?$")
READER_KINDS = ("simulated", "mfrc522", "mfrc522-legacy", "rdm6300", "keyboard", "puck")
#: Readers that need the SPI bus or the UART switched on at first boot.
SPI_READERS = ("mfrc522", "mfrc522-legacy")
UART_READERS = ("rdm6300",)
WIFI_SECURITY = ("wpa-psk", "wpa-eap", "open")
EAP_METHODS = ("peap", "ttls")
#: The account the services run as; the IT admin account must not take this name.
SERVICE_USER = "stations"


class InventoryError(ConfigError):
    """A bad inventory: the message starts with ``file:line:`` so editors can jump to it."""

    def __init__(self, path: Path | str, line: int | None, key: str | None,
                 problem: str) -> None:
        super().__init__(path, key, problem)
        self.line = line
        where = f"{self.path}:{line}" if line else str(self.path)
        self.args = (f"{where}: {key}: {problem}" if key else f"{where}: {problem}",)


class LineIndex:
    """Where each table header and key sits in the TOML text, for error messages.

    tomllib gives no positions, so this scans the lines the way TOML nests them: ``[[a]]``
    opens the next element of ``a``, ``[a.b]`` and ``[[a.b]]`` live in the latest ``a``.
    Keys in inline tables or multi-line values fall back to their table's header line.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        counts: dict[tuple[Any, ...], int] = {}
        current: tuple[Any, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                names = [n.strip().strip('"') for n in header.group(2).split(".")]
                path: tuple[Any, ...] = ()
                for name in names[:-1]:
                    path += (name,)
                    if path in counts:  # an array of tables: its latest element
                        path += (counts[path] - 1,)
                path += (names[-1],)
                if header.group(1) == "[[":
                    counts[path] = counts.get(path, 0) + 1
                    path += (counts[path] - 1,)
                current = path
                self.lines.setdefault(current, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.lines.setdefault((*current, key.group(1)), number)

    def find(self, path: tuple[Any, ...]) -> int | None:
        """The line of ``path`` or of its nearest enclosing table."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


class _LinedSection(Section):
    """A Section whose errors (an unknown key found at the end, too) name the line."""

    def __init__(self, path: Path, data: Mapping[str, Any], where: tuple[Any, ...],
                 index: LineIndex, registry: list[Section] | None) -> None:
        super().__init__(path, data, "".join(
            (f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p))
            for i, p in enumerate(where)) + ("." if where else ""), registry=registry)
        self.where = where
        self.index = index

    def error(self, name: str | None, problem: str) -> InventoryError:
        line = self.index.find(self.where + ((name,) if name else ()))
        return InventoryError(self.path, line, self.key(name) if name else
                              self.prefix.rstrip(".") or None, problem)


class Table:
    """A :class:`Section` that also knows its position, so every error names a line.

    Tables made from one root share its registry: :meth:`check_unknown` on the root refuses
    any key no loader asked for, naming its line and the nearest known key.
    """

    def __init__(self, path: Path, data: Mapping[str, Any], where: tuple[Any, ...],
                 index: LineIndex, registry: list[Section] | None = None) -> None:
        self.section = _LinedSection(path, data, where, index, registry)
        self.path = path
        self.data = data
        self.where = where
        self.index = index

    @property
    def line(self) -> int | None:
        return self.index.find(self.where)

    def error(self, key: str | None, problem: str) -> InventoryError:
        return self.section.error(key, problem)

    def has(self, key: str) -> bool:
        return self.section.has(key)

    def known(self, *keys: str) -> None:
        self.section.known(*keys)

    def check_unknown(self) -> None:
        self.section.check_unknown()

    def _child(self, data: Mapping[str, Any], where: tuple[Any, ...]) -> Table:
        return Table(self.path, data, where, self.index, self.section._registry)

    def _wrap(self, key: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as err:
            raise self.error(key, err.problem) from None

    def get(self, key: str, kind: type, default: Any = None, *, required: bool = False) -> Any:
        return self._wrap(key, self.section.get, key, kind, default, required=required)

    def optional(self, key: str, kind: type) -> Any:
        return self.get(key, kind) if self.has(key) else None

    def short_text(self, key: str, default: str | None = None, *,
                   required: bool = False) -> str:
        return self._wrap(key, self.section.short_text, key, default, required=required)

    def table(self, key: str, *, required: bool = True) -> Table:
        self.known(key)
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(None, f"[{self.section.key(key)}] table is required but missing")
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a table, got {type(value).__name__}")
        return self._child(value, (*self.where, key))

    def tables(self, key: str, *, required: bool = True) -> list[Table]:
        self.known(key)
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(None, f"add at least one [[{self.section.key(key)}]]")
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(key, f"must be an array of tables ([[{self.section.key(key)}]])")
        return [self._child(v, (*self.where, key, i)) for i, v in enumerate(value)]

    def ident(self, key: str, default: str | None = None) -> str:
        value = self.get(key, str, default, required=default is None)
        if not ID_RE.match(value):
            raise self.error(key, f"{value!r} must be 1-32 lower-case letters, digits or '-', "
                                  "starting with a letter or digit")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        self.known(key)
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, "must be a list of non-empty strings")
        return tuple(value)

    def file_text(self, key: str, base: Path) -> str:
        name = self.get(key, str, required=True)
        file = Path(name).expanduser()
        file = file if file.is_absolute() else base / file
        try:
            return file.read_text(encoding="utf-8")
        except OSError as err:
            raise self.error(key, f"cannot read {file}: {err.strerror}") from None


@dataclass(frozen=True)
class Wifi:
    ssid: str
    country: str
    security: str = "wpa-psk"
    password: str = field(default="", repr=False)
    identity: str = ""
    eap_method: str = "peap"
    hidden: bool = False


@dataclass(frozen=True)
class Site:
    name: str
    timezone: str
    locale: str
    keyboard: str
    domain: str
    ntp: tuple[str, ...]
    admin_user: str
    ssh_keys: tuple[str, ...]
    wifi: Wifi


@dataclass(frozen=True)
class Activity:
    id: str
    label: str
    icon: str


@dataclass(frozen=True)
class Station:
    id: str
    room: str
    hostname: str
    name: str
    kind: str
    reader: str
    reader_options: Mapping[str, Any]
    activities: tuple[Activity, ...]
    label: str
    line: int | None


@dataclass(frozen=True)
class HubNetwork:
    interface: str  # "wlan0" or "eth0"
    mode: str  # "dhcp" (address reserved on the DHCP server) or "static"
    prefix: int = 24
    gateway: str = ""
    dns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    language: str
    hub_hostname: str
    hub_fqdn: str
    hub_ip: str
    hub_network: HubNetwork
    hub_display: bool
    hub_fullscreen: bool
    hub_label: str
    #: The teacher's PIN for the hub display, hashed (``stations teacher pin``).
    hub_pin_hash: str | None
    #: The console's teacher accounts: (name, password hash from ``stations teacher hash``).
    teachers: tuple[tuple[str, str], ...]
    roster_text: str = field(repr=False)
    block_minutes: float
    autostart: bool
    groups: tuple[Group, ...]
    broker: Mapping[str, Any]
    stations: tuple[Station, ...] = ()
    #: Piper voices IT installed in the image, by language (``es = "es_MX-claude-high"``);
    #: the stations speak every other language with espeak-ng.
    piper_voices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Inventory:
    path: Path
    site: Site
    rooms: tuple[Room, ...]

    def room(self, room_id: str) -> Room:
        return next(r for r in self.rooms if r.id == room_id)


def _hostname(table: Table, key: str, default: str | None = None) -> str:
    value = table.get(key, str, default, required=default is None).lower()
    if not _HOST_LABEL.match(value):
        raise table.error(key, f"{value!r} is not a valid host name (1-63 letters, digits "
                               "or '-', no dots: the domain comes from [site] domain)")
    return value


def _wifi(table: Table, base: Path) -> Wifi:
    ssid = table.get("ssid", str, required=True)
    if not 1 <= len(ssid.encode("utf-8")) <= 32:
        raise table.error("ssid", "must be 1-32 bytes long")
    country = table.get("country", str, required=True).upper()
    if not _COUNTRY.match(country):
        raise table.error("country", f"{country!r} must be a two-letter country code such as "
                                     "'US' or 'GB' (it sets the Wi-Fi channels allowed)")
    security = table.get("security", str, "wpa-psk")
    if security not in WIFI_SECURITY:
        raise table.error("security", f"{security!r}: use {', '.join(WIFI_SECURITY)}")
    password = ""
    table.known("password", "password_file", "identity", "eap_method")
    if security != "open":
        if table.has("password") and table.has("password_file"):
            raise table.error("password", "give password or password_file, not both")
        if table.has("password_file"):
            password = table.file_text("password_file", base).strip()
        elif table.has("password"):
            password = table.get("password", str)
        if not password:
            raise table.error(None, f"Wi-Fi {ssid!r} has no password: add password = \"...\" "
                                    "or password_file = \"FILE\" (or security = \"open\" for "
                                    "a network without one)")
        if security == "wpa-psk" and not (8 <= len(password) <= 63 and password.isascii()
                                           and password.isprintable()):
            raise table.error("password", "a WPA passphrase is 8-63 printable ASCII "
                                          "characters")
    identity = ""
    method = "peap"
    if security == "wpa-eap":
        identity = table.get("identity", str, required=True)
        method = table.get("eap_method", str, "peap")
        if method not in EAP_METHODS:
            raise table.error("eap_method", f"{method!r}: use {', '.join(EAP_METHODS)}")
    return Wifi(ssid=ssid, country=country, security=security, password=password,
                identity=identity, eap_method=method, hidden=table.get("hidden", bool, False))


def _site(root: Table, base: Path) -> Site:
    site = root.table("site")
    timezone = site.get("timezone", str, required=True)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise site.error("timezone", f"{timezone!r} is not a time zone name such as "
                                     "'America/Chicago' or 'Europe/London'") from None
    locale = site.get("locale", str, "en_US.UTF-8")
    if not _LOCALE.match(locale):
        raise site.error("locale", f"{locale!r} must look like 'en_US.UTF-8'")
    domain = site.get("domain", str, "").lower().strip(".")
    if domain and not all(_HOST_LABEL.match(label) for label in domain.split(".")):
        raise site.error("domain", f"{domain!r} is not a DNS domain")
    admin = root.table("admin")
    user = admin.get("user", str, required=True)
    if not _USER.match(user) or user in ("root", SERVICE_USER, "mosquitto"):
        raise admin.error("user", f"{user!r} must be a lower-case Linux user name other than "
                                  f"root, {SERVICE_USER} or mosquitto")
    keys = list(admin.strings("ssh_keys"))
    if admin.has("ssh_keys_file"):
        keys += [k.strip() for k in admin.file_text("ssh_keys_file", base).splitlines()
                 if k.strip() and not k.lstrip().startswith("#")]
    if not keys:
        raise admin.error(None, "no SSH keys: add ssh_keys = [\"ssh-ed25519 AAAA... you@school\"] "
                                "or ssh_keys_file (devices have no password login)")
    for key in keys:
        if not _SSH_KEY.match(key):
            raise admin.error("ssh_keys", f"{key[:40]!r}... is not an OpenSSH public key line")
    return Site(
        name=site.get("name", str, required=True),
        timezone=timezone,
        locale=locale,
        keyboard=site.get("keyboard", str, "us"),
        domain=domain,
        ntp=site.strings("ntp"),
        admin_user=user,
        ssh_keys=tuple(keys),
        wifi=_wifi(root.table("wifi"), base),
    )


def _piper_voices(entry: Table) -> tuple[tuple[str, str], ...]:
    voices = entry.table("piper_voices", required=False)
    out = []
    for language in voices.data:
        name = voices.get(language, str, required=True)
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise voices.error(language, f"{name!r} is not a voice name like es_MX-claude-high")
        out.append((language, name))
    return tuple(sorted(out))


def _activities(table: Table) -> tuple[Activity, ...]:
    """A station's menu, as the message contract carries it."""
    value = table.data.get("activities", []) if table.has("activities") else []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise table.error("activities", "must be a list of { id, label, icon } tables")
    if len(value) > contract.MAX_ACTIVITIES:
        raise table.error("activities", f"{len(value)} activities; the message contract "
                                        f"carries at most {contract.MAX_ACTIVITIES} a station")
    out = []
    for i, item in enumerate(value):
        entry = table._child(item, (*table.where, "activities", i))
        out.append(Activity(entry.ident("id"), entry.short_text("label", required=True),
                            entry.ident("icon", "star")))
    return tuple(out)


def _hub_network(hub: Table) -> HubNetwork:
    interface = hub.get("interface", str, "wlan0")
    if interface not in ("wlan0", "eth0"):
        raise hub.error("interface", f"{interface!r}: use wlan0 (Wi-Fi) or eth0 (cable)")
    mode = hub.get("network", str, "dhcp")
    if mode not in ("dhcp", "static"):
        raise hub.error("network", f"{mode!r}: use dhcp (reserve the address on the DHCP "
                                   "server) or static")
    if mode == "dhcp":
        hub.known("prefix", "gateway", "dns")  # a static address's, unused with dhcp
        return HubNetwork(interface, mode)
    prefix = hub.get("prefix", int, 24)
    if not 8 <= prefix <= 30:
        raise hub.error("prefix", f"must be 8-30, got {prefix}")
    gateway = hub.get("gateway", str, required=True)
    dns = hub.strings("dns")
    for key, values in (("gateway", (gateway,)), ("dns", dns)):
        for value in values:
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                raise hub.error(key, f"{value!r} is not an IPv4 address") from None
    if not dns:
        raise hub.error("dns", "a static address needs at least one DNS server")
    return HubNetwork(interface, mode, prefix, gateway, dns)


def _room(entry: Table, base: Path, site: Site) -> Room:
    room_id = entry.ident("id")
    hub = entry.table("hub")
    hostname = _hostname(hub, "hostname")
    ip = hub.get("ip", str, required=True)
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        raise hub.error("ip", f"{ip!r} is not an IPv4 address") from None
    network = _hub_network(hub)
    if network.mode == "static":
        iface = ipaddress.IPv4Interface(f"{ip}/{network.prefix}")
        if ipaddress.IPv4Address(network.gateway) not in iface.network:
            raise hub.error("gateway", f"{network.gateway} is not in {iface.network}")
    groups = []
    for g in entry.tables("groups"):
        members = g.strings("members")
        groups.append(Group(g.ident("id"), g.short_text("name", required=True), members))
    broker_table = entry.table("broker", required=False)
    broker = broker_table.data
    for forbidden in ("install_dir", "user"):
        if forbidden in broker:
            raise broker_table.error(forbidden, "is fixed by the device image; remove it")
    # The device list's own reader checks every key now, before anything is written.
    read_broker_settings(broker_table.section)
    pin_hash = hub.optional("teacher_pin_hash", str)
    if pin_hash is not None:
        try:
            parse_pin_hash(pin_hash)
        except ValueError as err:
            raise hub.error("teacher_pin_hash", str(err)) from None
    teachers: dict[str, str] = {}
    for t in entry.tables("teachers", required=False):
        name, stored = t.get("name", str, required=True), t.get("password_hash", str,
                                                                required=True)
        problem = account_problem(name, stored)
        if problem is not None:
            raise t.error(*problem)
        if name in teachers:
            raise t.error("name", f"teacher {name!r} is listed twice in this room")
        teachers[name] = stored
    block = entry.get("block_minutes", float, 12.0)
    if block <= 0:
        raise entry.error("block_minutes", f"must be greater than 0, got {block}")
    return Room(
        id=room_id,
        name=entry.get("name", str, room_id),
        language=entry.get("language", str, "en"),
        hub_hostname=hostname,
        hub_fqdn=f"{hostname}.{site.domain}" if site.domain else hostname,
        hub_ip=ip,
        hub_network=network,
        hub_display=hub.get("display", bool, True),
        hub_fullscreen=hub.get("fullscreen", bool, True),
        hub_label=hub.get("label", str, ""),
        hub_pin_hash=pin_hash,
        teachers=tuple(teachers.items()),
        roster_text=entry.file_text("roster", base),
        block_minutes=block,
        autostart=entry.get("autostart", bool, False),
        groups=tuple(groups),
        piper_voices=_piper_voices(entry),
        broker=dict(broker),
    )


def _station(entry: Table, rooms: Mapping[str, Room]) -> Station:
    station_id = entry.ident("id")
    if not entry.has("room"):
        raise entry.error(None, f"station {station_id!r} has no room: add room = "
                                f"\"{next(iter(rooms), 'ROOM-ID')}\"")
    room = entry.get("room", str)
    if room not in rooms:
        raise entry.error("room", f"{room!r} is not a room in this file (rooms: "
                                  f"{', '.join(rooms) or 'none'})")
    kind = entry.get("kind", str, required=True)
    if kind not in STATION_KINDS:
        raise entry.error("kind", f"{kind!r}: use one of {', '.join(STATION_KINDS)}")
    reader = entry.table("reader", required=False)
    reader_kind = reader.get("kind", str, "mfrc522")
    if reader_kind not in READER_KINDS:
        raise reader.error("kind", f"{reader_kind!r}: use one of {', '.join(READER_KINDS)}")
    reader.known(*reader_options(reader_kind))  # the kiosk reads them; known here already
    activities = _activities(entry)
    if not activities:
        raise entry.error("activities", "a station needs at least one activity")
    return Station(
        id=station_id,
        room=room,
        hostname=_hostname(entry, "hostname", f"{room}-{station_id}"[:63].strip("-")),
        name=entry.short_text("name", station_id),
        kind=kind,
        reader=reader_kind,
        reader_options={k: v for k, v in reader.data.items() if k != "kind"},
        activities=activities,
        label=entry.get("label", str, ""),
        line=entry.line,
    )


def load_inventory(path: Path | str) -> Inventory:
    """Read and check an inventory file; InventoryError names file, line, key and problem."""
    path = Path(path)
    data = load_toml(path)
    index = LineIndex(path.read_text(encoding="utf-8"))
    root = Table(path, data, (), index)
    base = path.parent
    site = _site(root, base)
    rooms: dict[str, Room] = {}
    for entry in root.tables("rooms"):
        room = _room(entry, base, site)
        if room.id in rooms:
            raise entry.error("id", f"room {room.id!r} is listed twice")
        rooms[room.id] = room
    stations: dict[str, list[Station]] = {r: [] for r in rooms}
    hostnames: dict[str, str] = {}

    def claim(hostname: str, owner: str, table: Table, key: str) -> None:
        if hostname in hostnames:
            raise table.error(key, f"host name {hostname!r} is already used by "
                                   f"{hostnames[hostname]}; every device needs its own")
        hostnames[hostname] = owner

    for room_entry, room in zip(root.tables("rooms"), rooms.values(), strict=True):
        claim(room.hub_hostname, f"the hub of room {room.id}", room_entry.table("hub"),
              "hostname")
    for entry in root.tables("stations"):
        station = _station(entry, rooms)
        if any(s.id == station.id for s in stations[station.room]):
            raise entry.error("id", f"station {station.id!r} is listed twice in room "
                                    f"{station.room!r}")
        claim(station.hostname, f"station {station.id} of room {station.room}", entry,
              "hostname" if entry.has("hostname") else "id")
        stations[station.room].append(station)
    out = []
    for room in rooms.values():
        if not stations[room.id]:
            raise InventoryError(path, index.find(("rooms",)), "rooms",
                                 f"room {room.id!r} has no stations")
        if len(room.groups) > len(stations[room.id]):
            raise InventoryError(path, index.find(("rooms",)), "rooms",
                                 f"room {room.id!r} has {len(room.groups)} groups but only "
                                 f"{len(stations[room.id])} stations")
        _check_rotation_size(path, index, room, stations[room.id])
        out.append(_replace_stations(room, tuple(stations[room.id])))
    root.check_unknown()
    return Inventory(path=path, site=site, rooms=tuple(out))


def _check_rotation_size(path: Path, index: LineIndex, room: Room,
                         stations: list[Station]) -> None:
    """The room's hub must be able to send its rotation state: measure the largest one."""
    if len(stations) > contract.MAX_STATIONS:
        raise InventoryError(path, index.find(("rooms",)), "stations",
                             f"room {room.id!r} has {len(stations)} stations; the message "
                             f"contract carries at most {contract.MAX_STATIONS} a room")
    defs = [StationDef(s.id, s.name, s.kind, tuple(ActivityDef(a.id, a.label, a.icon)
                                                  for a in s.activities),
                       colour=max(COLOURS, key=len), icon=KIND_ICONS[s.kind])
            for s in stations]
    groups = [GroupDef(g.id, g.name, g.members) for g in room.groups]
    problem = rotation_size_problem(defs, groups, len(defs), ("confidence",))
    if problem is not None:
        raise InventoryError(path, index.find(("stations",)), "stations",
                             f"room {room.id!r}: {problem}")


def _replace_stations(room: Room, stations: tuple[Station, ...]) -> Room:
    from dataclasses import replace
    return replace(room, stations=stations)
