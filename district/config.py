"""The district's configuration file (``district.toml``), read once into a frozen dataclass.

See ``district/example-district.toml`` for every key. Every problem is a ConfigError naming
the file, the key and what is wrong.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from broker.client import BrokerSettings
from stations.tomlconfig import Section, load_toml

_SCHOOL = re.compile(r"^[^\s@]{1,128}$")
_ZONE = re.compile(r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$|^UTC$")


@dataclass(frozen=True)
class Room:
    id: str
    #: The school's id (OneRoster org ``sourcedId``), for per-school reports.
    school: str


@dataclass(frozen=True)
class IngestSettings:
    workers: int = 2
    #: The shared subscription's group: every worker of the group shares one stream.
    group: str = "ingest"
    #: Rows per PostgreSQL transaction, at most; a batch also closes after ``batch_ms``.
    batch: int = 500
    batch_ms: int = 100
    #: Sender id on the acks the ingest publishes.
    sender: str = "ingest"


@dataclass(frozen=True)
class PostgresSettings:
    #: A libpq connection string or URI; PG* environment variables and ~/.pgpass apply too.
    dsn: str
    password: str | None = None
    #: Monthly partitions created ahead of the current month.
    months_ahead: int = 2
    #: Months of check-ins kept (whole partitions dropped past it); 0 keeps everything.
    keep_months: int = 24


@dataclass(frozen=True)
class ReportSettings:
    #: Days are counted in this time zone (IANA name).
    timezone: str = "UTC"
    #: Aggregate rows covering fewer students than this are left out of the CSVs.
    min_students: int = 5


@dataclass(frozen=True)
class DistrictBrokerSettings:
    """For ``stations district broker-config``: the Mosquitto standing in for the cluster."""

    hostname: str = "localhost"
    ip: str = "127.0.0.1"
    #: The rooms' TLS listener (client id = username, so no room can take another's session).
    rooms_port: int = 8883
    #: The ingest workers' TLS listener (their own accounts, several client ids each).
    ingest_port: int = 8884
    bind: str = ""
    data_dir: str = "/var/lib/mosquitto/"
    user: str = "mosquitto"
    log_dest: str = "stderr"
    #: Per session: an ingest session must hold what arrives while its worker restarts.
    max_queued_messages: int = 200000
    #: Unacknowledged QoS 1 messages to one client: ingest batches need more than 20.
    max_inflight_messages: int = 2000
    autosave_interval: int = 10


@dataclass(frozen=True)
class DistrictConfig:
    path: Path
    district: str
    broker: BrokerSettings
    ingest: IngestSettings
    postgres: PostgresSettings
    report: ReportSettings
    rooms: tuple[Room, ...]
    broker_config: DistrictBrokerSettings


def _secret(section: Section, base: Path, name: str) -> str | None:
    """``name`` itself, or the first line of the file ``name_file`` names."""
    file_key = f"{name}_file"
    if section.has(name) and section.has(file_key):
        raise section.error(file_key, f"give {name} or {file_key}, not both")
    if section.has(file_key):
        path = _path(section, base, file_key)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise section.error(file_key, f"{path} cannot be read ({err.strerror})") from err
        if not value or "\n" in value:
            raise section.error(file_key, f"{path} must hold the secret on one line")
        return value
    return section.get(name, str, "") or None


def _path(section: Section, base: Path, name: str) -> Path:
    path = Path(section.get(name, str)).expanduser()
    return path if path.is_absolute() else base / path


def _port(section: Section, name: str, default: int) -> int:
    value = section.get(name, int, default)
    if not 0 < value < 65536:
        raise section.error(name, f"{value} is not a TCP port (1-65535)")
    return value


def read_district_broker(section: Section, base: Path, *, secrets: bool = True
                         ) -> BrokerSettings:
    """``[broker]``: the district broker as the ingest's account sees it. ``secrets=False``
    lets the password be missing (``broker-config`` is about to make it)."""
    ca_file = None
    if section.has("ca_file"):
        ca = _path(section, base, "ca_file")
        if not ca.is_file() and secrets:
            raise section.error("ca_file", f"{ca} does not exist (the district broker's CA "
                                           "certificate, PEM)")
        ca_file = str(ca)
    username = section.get("username", str, "ingest")
    if not secrets and section.has("password_file") \
            and not _path(section, base, "password_file").exists():
        password = None
    else:
        password = _secret(section, base, "password")
    if password is None and secrets:
        raise section.error("password", "is required (or password_file): the ingest's "
                                        "account at the district broker")
    return BrokerSettings(host=section.get("host", str, "127.0.0.1"),
                          port=_port(section, "port", 8884), username=username,
                          password=password, ca_file=ca_file,
                          keepalive_s=section.positive("keepalive_seconds", int, 30))


def _ingest(section: Section) -> IngestSettings:
    workers = section.positive("workers", int, 2)
    if workers > 64:
        raise section.error("workers", f"{workers} is far more than a broker needs; use 1-64")
    batch = section.positive("batch", int, 500)
    if batch > 5000:
        raise section.error("batch", f"{batch} rows per transaction is too many; use 1-5000")
    return IngestSettings(workers=workers, group=section.ident("group", "ingest"), batch=batch,
                          batch_ms=section.positive("batch_ms", int, 100),
                          sender=section.ident("sender", "ingest"))


def _postgres(section: Section, base: Path) -> PostgresSettings:
    dsn = section.get("dsn", str, required=True)
    months_ahead = section.get("months_ahead", int, 2)
    if not 1 <= months_ahead <= 24:
        raise section.error("months_ahead", f"must be 1-24, got {months_ahead}")
    keep = section.get("keep_months", int, 24)
    if keep < 0:
        raise section.error("keep_months", f"must be 0 (keep everything) or more, got {keep}")
    return PostgresSettings(dsn=dsn, password=_secret(section, base, "password"),
                            months_ahead=months_ahead, keep_months=keep)


def _report(section: Section) -> ReportSettings:
    zone = section.get("timezone", str, "UTC")
    if not _ZONE.match(zone):
        raise section.error("timezone", f"{zone!r} is not an IANA time zone name, "
                                        "for example 'America/Chicago'")
    minimum = section.get("min_students", int, 5)
    if minimum < 1:
        raise section.error("min_students", f"must be 1 or more, got {minimum}")
    return ReportSettings(timezone=zone, min_students=minimum)


def _rooms(root: Section) -> tuple[Room, ...]:
    rooms: list[Room] = []
    seen: set[str] = set()
    for entry in root.tables("rooms"):
        room = entry.ident("id")
        if room in seen:
            raise entry.error("id", f"room {room!r} is listed twice")
        seen.add(room)
        school = entry.get("school", str, required=True)
        if not _SCHOOL.match(school):
            raise entry.error("school", f"{school!r} must be 1-128 characters without spaces "
                                        "or '@' (the school's OneRoster sourcedId)")
        rooms.append(Room(room, school))
    return tuple(rooms)


def _broker_config(section: Section) -> DistrictBrokerSettings:
    d = DistrictBrokerSettings()
    ip = section.get("ip", str, d.ip)
    for key, value in (("ip", ip), ("bind", section.get("bind", str, d.bind))):
        if value:
            try:
                ipaddress.ip_address(value)
            except ValueError as err:
                raise section.error(key, f"{value!r} is not an IP address") from err
    data_dir = section.get("data_dir", str, d.data_dir)
    if not data_dir.startswith("/"):
        raise section.error("data_dir", "must be an absolute path")
    settings = DistrictBrokerSettings(
        hostname=section.get("hostname", str, d.hostname), ip=ip,
        rooms_port=_port(section, "rooms_port", d.rooms_port),
        ingest_port=_port(section, "ingest_port", d.ingest_port),
        bind=section.get("bind", str, d.bind), data_dir=data_dir.rstrip("/") + "/",
        user=section.get("user", str, d.user), log_dest=section.get("log_dest", str, d.log_dest),
        max_queued_messages=section.positive("max_queued_messages", int,
                                             d.max_queued_messages),
        max_inflight_messages=section.positive("max_inflight_messages", int,
                                               d.max_inflight_messages),
        autosave_interval=section.positive("autosave_interval", int, d.autosave_interval))
    if settings.rooms_port == settings.ingest_port:
        raise section.error("ingest_port", f"must differ from rooms_port ({settings.rooms_port})")
    return settings


def load_district_config(path: Path | str, *, secrets: bool = True) -> DistrictConfig:
    """Read and check ``district.toml``; ``secrets=False`` for ``broker-config``, which makes
    the ingest's password."""
    path = Path(path)
    root = Section(path, load_toml(path))
    base = path.parent
    config = DistrictConfig(
        path=path,
        district=root.ident("district"),
        broker=read_district_broker(root.table("broker"), base, secrets=secrets),
        ingest=_ingest(root.table("ingest", required=False)),
        postgres=_postgres(root.table("postgres"), base),
        report=_report(root.table("report", required=False)),
        rooms=_rooms(root),
        broker_config=_broker_config(root.table("broker_config", required=False)),
    )
    root.check_unknown()
    return config
