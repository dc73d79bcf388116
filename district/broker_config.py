"""The district broker's configuration for Mosquitto, and one account per room.

``stations district broker-config --config district.toml --out DIR`` writes::

    DIR/broker/            the broker (install as one folder, like a room's)
        mosquitto.conf     two TLS listeners: rooms (client id = username) and ingest
        passwd.rooms       one $7$ line per room (0600)
        acl.rooms          each room writes only its own district/checkin, reads its own ack
        passwd.ingest      the ingest account (0600)
        acl.ingest         the ingest reads every room's records, writes every room's acks
        ca.crt server.crt server.key
    DIR/ca/ca.key          the district CA's key (0600): keep it off the broker
    DIR/rooms/<room>/      for each room's hub: district.toml (its [district] table, 0600)
                           and district-ca.crt
    DIR/ingest/password    the ingest account's password (0600), for [broker] password_file
    DIR/emqx/acl.conf      the same rules for EMQX's file authorizer (district/README.md)

Mosquitto stands in for the district's cluster in tests and benchmarks and serves a small
district well; a district that needs a cluster runs EMQX or VerneMQ with the same accounts and
rules. Running it again keeps the CA, the server certificate and every account's secret;
rooms no longer listed lose their account.
"""

from __future__ import annotations

import logging
import shutil
import tomllib
from pathlib import Path

from broker import passwords, tls
from broker.config_gen import PUBLIC, SECRET, Result
from broker.contract import MAX_PAYLOAD_BYTES, NAMESPACE, district_topic
from district.config import DistrictConfig
from stations import tomlwriter
from stations.errors import ConfigError
from stations.files import write_if_changed

log = logging.getLogger(__name__)

ROOM_FILE = "district.toml"
CA_FILE = "district-ca.crt"


def _write(path: Path, data: bytes | str, mode: int, result: Result) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if write_if_changed(path, data, mode):
        result.written.append(path)


def room_rules(room: str) -> list[tuple[str, str]]:
    """A room's account: its own records out, its own acks in; nothing else."""
    return [("write", district_topic(room, "district/checkin")),
            ("read", district_topic(room, "district/ack"))]


def ingest_rules() -> list[tuple[str, str]]:
    # The shared subscription is checked against the filter without its $share/<group>/ part.
    return [("read", f"{NAMESPACE}/+/district/checkin"),
            ("write", f"{NAMESPACE}/+/district/ack")]


def render_acl(blocks: list[tuple[str, list[tuple[str, str]]]]) -> str:
    lines = ["# Written by `stations district broker-config`. Regenerate rather than edit."]
    for user, rules in blocks:
        lines += ["", f"user {user}", *(f"topic {access} {topic}" for access, topic in rules)]
    return "\n".join(lines) + "\n"


def render_emqx_acl(ingest_user: str) -> str:
    """EMQX 5 file authorizer rules: one placeholder rule covers every room account."""
    checkin = f"{NAMESPACE}/${{username}}/district/checkin"
    ack = f"{NAMESPACE}/${{username}}/district/ack"
    return "\n".join([
        "%% EMQX 5 authorization (file source), written by `stations district broker-config`.",
        "%% Room accounts are named after their room: each writes only its own records and",
        "%% reads only its own acks. The ingest account reads every room's records through",
        "%% the shared subscription and writes every room's acks.",
        f'{{allow, {{username, {{re, "^{ingest_user}$"}}}}, subscribe, '
        f'["$share/+/{NAMESPACE}/+/district/checkin"]}}.',
        f'{{allow, {{username, {{re, "^{ingest_user}$"}}}}, publish, '
        f'["{NAMESPACE}/+/district/ack"]}}.',
        f'{{allow, all, publish, ["{checkin}"]}}.',
        f'{{allow, all, subscribe, ["{ack}"]}}.',
        "{deny, all}.",
    ]) + "\n"


def render_conf(config: DistrictConfig, install: Path) -> str:
    b = config.broker_config
    bind = f" {b.bind}" if b.bind else ""

    def listener(port: int, who: str, extra: list[str]) -> list[str]:
        return ["", f"listener {port}{bind}", "protocol mqtt", "allow_anonymous false",
                f"password_file {install / f'passwd.{who}'}",
                f"acl_file {install / f'acl.{who}'}",
                f"certfile {install / 'server.crt'}", f"keyfile {install / 'server.key'}",
                "tls_version tlsv1.2", *extra]

    lines = [
        f"# Mosquitto 2 for district {config.district}, written by "
        "`stations district broker-config`.",
        "# Stands in for the district's cluster (EMQX or VerneMQ: district/README.md).",
        "per_listener_settings true",
        f"user {b.user}",
        "persistence true",
        f"persistence_location {b.data_dir}",
        f"autosave_interval {b.autosave_interval}",
        "persistent_client_expiration 30d",
        f"message_size_limit {MAX_PAYLOAD_BYTES}",
        f"max_packet_size {MAX_PAYLOAD_BYTES + 1024}",
        "# An ingest session holds what arrives while its worker restarts; the rooms' outboxes",
        "# hold everything else, so this bounds memory, not what is kept.",
        f"max_queued_messages {b.max_queued_messages}",
        f"max_inflight_messages {b.max_inflight_messages}",
        "queue_qos0_messages false",
        "set_tcp_nodelay true",
        f"log_dest {b.log_dest}",
        "log_type error", "log_type warning", "log_type notice", "log_type information",
        "connection_messages true",
        "log_timestamp true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "",
        "# Rooms: one account per room; the client id is the username, so no room can take",
        "# over another's session (and the acks queued in it).",
        *listener(b.rooms_port, "rooms", ["use_username_as_clientid true"])[1:],
        "",
        "# Ingest workers: several client ids (ingest-1, ingest-2, ...) share one account.",
        *listener(b.ingest_port, "ingest", [])[1:],
    ]
    return "\n".join(lines) + "\n"


def _existing_room_password(path: Path, encoded: str | None) -> str | None:
    if encoded is None or not path.exists():
        return None
    try:
        value = tomllib.loads(path.read_text())["district"]["password"]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) and passwords.verify_password(value, encoded) \
        else None


def _existing_secret(path: Path, encoded: str | None) -> str | None:
    if encoded is None or not path.exists():
        return None
    value = path.read_text().strip()
    return value if value and passwords.verify_password(value, encoded) else None


def _ca(out: Path, name: str) -> tls.Issued:
    key_path, cert_path = out / "ca" / "ca.key", out / "ca" / "ca.crt"
    if key_path.exists() and cert_path.exists():
        return tls.Issued(tls.load_key(key_path), tls.load_cert(cert_path))
    if key_path.exists() or cert_path.exists():
        raise ConfigError(out / "ca", None, "has only half of the district CA (ca.key and "
                                            "ca.crt belong together); restore or delete both")
    ca = tls.new_ca(f"{name} district")
    (out / "ca").mkdir(parents=True, exist_ok=True)
    (out / "ca").chmod(0o700)
    write_if_changed(key_path, tls.key_pem(ca.key), SECRET)
    write_if_changed(cert_path, tls.cert_pem(ca.cert), PUBLIC)
    return ca


def generate(config: DistrictConfig, out: Path | str, *,
             install_dir: Path | str | None = None) -> Result:
    out = Path(out).resolve()
    result = Result(out)
    broker_dir = out / "broker"
    broker_dir.mkdir(parents=True, exist_ok=True)
    install = Path(install_dir) if install_dir else broker_dir
    b = config.broker_config
    ca = _ca(out, config.district)
    ca_pem = tls.cert_pem(ca.cert)
    _write(broker_dir / "ca.crt", ca_pem, PUBLIC, result)
    key_path, cert_path = broker_dir / "server.key", broker_dir / "server.crt"
    fits = False
    if key_path.exists() and cert_path.exists():
        cert = tls.load_cert(cert_path)
        fits = (tls.server_cert_fits(cert, ca.cert, b.hostname, b.ip)
                and tls.load_key(key_path).public_key() == cert.public_key())
    if not fits:
        issued = tls.issue_server_cert(ca, b.hostname, b.ip)
        _write(key_path, tls.key_pem(issued.key), SECRET, result)
        _write(cert_path, tls.cert_pem(issued.cert), PUBLIC, result)

    # Rooms.
    old_rooms = passwords.parse_password_file(broker_dir / "passwd.rooms")
    rooms: dict[str, str] = {}
    for room in config.rooms:
        folder = out / "rooms" / room.id
        password = _existing_room_password(folder / ROOM_FILE, old_rooms.get(room.id))
        if password is None:
            password = passwords.new_secret()
            rooms[room.id] = passwords.hash_password(password)
            result.new_secrets.append(room.id)
        else:
            rooms[room.id] = old_rooms[room.id]
        table = {"district": {"host": b.hostname, "port": b.rooms_port, "username": room.id,
                              "password": password, "client_id": room.id,
                              "ca_file": CA_FILE}}
        _write(folder / ROOM_FILE, tomlwriter.dumps(
            table, f"Room {room.id}'s account at district {config.district}'s broker: paste "
                   "into the hub's hub.toml. Secret: keep mode 0600."), SECRET, result)
        _write(folder / CA_FILE, ca_pem, PUBLIC, result)
    for gone in sorted(set(old_rooms) - set(rooms)):
        result.revoked.append(gone)
        shutil.rmtree(out / "rooms" / gone, ignore_errors=True)
        log.info("room %s is not in %s any more: its account is revoked", gone,
                 config.path.name)
    _write(broker_dir / "passwd.rooms", passwords.format_password_file(rooms), SECRET, result)
    _write(broker_dir / "acl.rooms",
           render_acl([(room, room_rules(room)) for room in sorted(rooms)]), PUBLIC, result)

    # The ingest account.
    user = config.broker.username or "ingest"
    old_ingest = passwords.parse_password_file(broker_dir / "passwd.ingest")
    secret_path = out / "ingest" / "password"
    password = (config.broker.password
                or _existing_secret(secret_path, old_ingest.get(user)))
    if password is None:
        password = passwords.new_secret()
        result.new_secrets.append(user)
    encoded = old_ingest.get(user)
    if encoded is None or not passwords.verify_password(password, encoded):
        encoded = passwords.hash_password(password)
    _write(secret_path, password + "\n", SECRET, result)
    _write(broker_dir / "passwd.ingest", passwords.format_password_file({user: encoded}),
           SECRET, result)
    _write(broker_dir / "acl.ingest", render_acl([(user, ingest_rules())]), PUBLIC, result)
    _write(broker_dir / "mosquitto.conf", render_conf(config, install), PUBLIC, result)
    _write(out / "emqx" / "acl.conf", render_emqx_acl(user), PUBLIC, result)
    return result
