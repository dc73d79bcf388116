"""Turn a room's device list into a complete Mosquitto 2 configuration and device credentials.

Output folder layout (``--out DIR``)::

    DIR/broker/            everything the hub's Mosquitto needs (install it as one folder)
        mosquitto.conf     listeners, limits, persistence
        passwd             $7$ hashes, one line per device (0600)
        passwd.local       the hub's line alone, for the loopback listener (0600)
        acl                per-device topic rules
        ca.crt             the room CA certificate
        server.crt         the hub's certificate (host name and IP in subjectAltName)
        server.key         its private key (0600)
        conf.d/bridge.conf optional uplink to the district broker (holds a password: 0600)
        bridge-ca.crt      the district broker's CA, when bridging
    DIR/ca/ca.key          the room CA's private key (0600): keep it off the hub
    DIR/devices/<id>/      one folder per device: mqtt.toml (0600) and ca.crt
    DIR/bridge/            for the district administrator: upstream password line and ACL

Running it again is safe: it keeps the CA, the server certificate (while its names and dates
still fit) and every device's secret; only new devices, ``rotate`` devices and devices whose
credentials file went missing get new secrets, and devices no longer listed are revoked.
Files whose content does not change are not rewritten. No secret is ever logged.

On the hub (Debian's ``mosquitto`` package): copy ``DIR/broker`` to ``broker.install_dir``
(e.g. ``/etc/mosquitto/stations``), ``chown -R mosquitto: `` it so the 0600 files stay
readable once Mosquitto drops root, and point the service at it with a systemd
drop-in (``ExecStart=`` then ``ExecStart=/usr/sbin/mosquitto -c
/etc/mosquitto/stations/mosquitto.conf``); the generated file is complete and must not be
combined with Debian's default ``mosquitto.conf``. After a later run, ``systemctl reload
mosquitto`` (SIGHUP) applies new passwords and ACLs; a new server certificate needs a restart.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from broker import acl, bridge, passwords, tls
from broker.contract import MAX_PAYLOAD_BYTES
from broker.credentials import FILENAME, DeviceCredentials, load_credentials, render_credentials
from broker.devices import RoomDevices
from stations.errors import ConfigError
from stations.files import write_if_changed

log = logging.getLogger(__name__)

SECRET = 0o600
PUBLIC = 0o644
PRIVATE_DIR = 0o700
#: The loopback listener's password file: the hub's entry alone.
LOCAL_PASSWD = "passwd.local"


@dataclass
class Result:
    """What one run did, for the CLI's summary (never holds a secret)."""

    out: Path
    written: list[Path] = field(default_factory=list)
    new_secrets: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    new_ca: bool = False
    new_server_cert: bool = False
    server_fingerprint: str = ""


def _write(path: Path, data: bytes | str, mode: int, result: Result) -> None:
    """Write atomically with ``mode`` from the first byte, and only if the content changed."""
    if not write_if_changed(path, data, mode):
        return
    result.written.append(path)
    log.info("wrote %s (mode %o)", path, mode)


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)
    return path


def render_mosquitto_conf(devices: RoomDevices, install_dir: Path) -> str:
    b = devices.broker
    auth = [
        "allow_anonymous false",
        f"password_file {install_dir / 'passwd'}",
        f"acl_file {install_dir / 'acl'}",
    ]
    lines = [
        f"# Mosquitto 2 configuration for room {devices.room}, written by "
        "`stations broker-config`.",
        f"# Source: {devices.path.name}. Regenerate rather than edit: changes are overwritten.",
        "",
        "# Each listener has its own authentication and ACL settings below.",
        "per_listener_settings true",
        f"user {b.user}",
        "",
        "# Sessions and queued QoS 1 messages survive a broker restart.",
        "persistence true",
        f"persistence_location {b.data_dir}",
        "autosave_interval 10",
        f"persistent_client_expiration {b.session_expiry}",
        "",
        "# Limits. The payload limit is the contract's (broker/contract.py MAX_PAYLOAD_BYTES);",
        "# max_queued_messages must hold every check-in that arrives while the hub is down.",
        f"message_size_limit {MAX_PAYLOAD_BYTES}",
        # A publish packet is the payload plus topic and properties; anything far larger is junk.
        f"max_packet_size {MAX_PAYLOAD_BYTES + 1024}",
        f"max_queued_messages {b.max_queued_messages}",
        f"max_inflight_messages {b.max_inflight_messages}",
        "queue_qos0_messages false",
        "retain_available true",
        "set_tcp_nodelay true",
        "",
        f"log_dest {b.log_dest}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
        "log_timestamp true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "",
        "# The room's Wi-Fi: TLS only, every device with its own username and password.",
        f"listener {b.tls_port}" + (f" {b.bind}" if b.bind else ""),
        "protocol mqtt",
        *auth,
        f"certfile {install_dir / 'server.crt'}",
        f"keyfile {install_dir / 'server.key'}",
        "tls_version tlsv1.2",
        # The client id is the username: no device takes over another's (or the hub's) session.
        "use_username_as_clientid true",
    ]
    if b.local_port:
        lines += [
            "",
            "# Loopback only, for the hub service on this machine: only the hub's password is",
            "# accepted here, and the client id is its username, so no station secret can log in",
            "# as the hub and take over its queued session.",
            f"listener {b.local_port} 127.0.0.1",
            "protocol mqtt",
            "allow_anonymous false",
            f"password_file {install_dir / LOCAL_PASSWD}",
            f"acl_file {install_dir / 'acl'}",
            "use_username_as_clientid true",
        ]
    if devices.bridge is not None:
        lines += ["", "# The uplink to the district broker.",
                  f"include_dir {install_dir / 'conf.d'}"]
    return "\n".join(lines) + "\n"


def _load_ca(out: Path, devices: RoomDevices, result: Result) -> tls.Issued:
    key_path, cert_path = out / "ca" / "ca.key", out / "ca" / "ca.crt"
    if key_path.exists() and cert_path.exists():
        try:
            ca = tls.Issued(tls.load_key(key_path), tls.load_cert(cert_path))
        except (ValueError, OSError) as err:
            raise ConfigError(key_path, None, f"the room CA cannot be read ({err}); restore it "
                                              "from backup or delete DIR/ca to start over "
                                              "(every device must then be re-provisioned)") from err
        if not tls.ca_usable(ca.cert):
            log.warning("room CA %s expires %s: delete %s to make a new one and re-provision "
                        "every device", cert_path, ca.cert.not_valid_after_utc.date(),
                        out / "ca")
        return ca
    if key_path.exists() or cert_path.exists():
        raise ConfigError(out / "ca", None, "has only half of the room CA (ca.key and ca.crt "
                                            "belong together); restore the other or delete both")
    ca = tls.new_ca(devices.room)
    _private_dir(out / "ca")
    _write(key_path, tls.key_pem(ca.key), SECRET, result)
    _write(cert_path, tls.cert_pem(ca.cert), PUBLIC, result)
    result.new_ca = True
    log.info("new room CA for %s (SHA-256 %s)", devices.room, tls.fingerprint(ca.cert))
    return ca


def _server_cert(broker_dir: Path, ca: tls.Issued, devices: RoomDevices,
                 result: Result) -> None:
    key_path, cert_path = broker_dir / "server.key", broker_dir / "server.crt"
    hub = devices.hub
    if key_path.exists() and cert_path.exists():
        try:
            cert = tls.load_cert(cert_path)
            key = tls.load_key(key_path)
            keep = (tls.server_cert_fits(cert, ca.cert, hub.hostname, hub.ip)
                    and key.public_key() == cert.public_key())
        except (ValueError, OSError):
            keep = False
        if keep:
            result.server_fingerprint = tls.fingerprint(cert)
            return
    issued = tls.issue_server_cert(ca, hub.hostname, hub.ip)
    _write(key_path, tls.key_pem(issued.key), SECRET, result)
    _write(cert_path, tls.cert_pem(issued.cert), PUBLIC, result)
    result.new_server_cert = True
    result.server_fingerprint = tls.fingerprint(issued.cert)
    log.info("new server certificate for %s / %s (SHA-256 %s)", hub.hostname, hub.ip,
             result.server_fingerprint)


def _credentials(devices: RoomDevices, device: str, role: str, password: str,
                 username: str) -> DeviceCredentials:
    b = devices.broker
    if role == "hub" and b.local_port:
        return DeviceCredentials(room=devices.room, device=device, role=role, host="127.0.0.1",
                                 port=b.local_port, tls=False, username=username,
                                 password=password,
                                 # The loopback listener, too, replaces the client id with
                                 # the username (use_username_as_clientid).
                                 client_id=username, ca_file=Path("ca.crt"))
    return DeviceCredentials(room=devices.room, device=device, role=role,
                             host=devices.hub.hostname, port=b.tls_port, tls=True,
                             username=username, password=password,
                             # The TLS listener replaces the client id with the username anyway
                             # (use_username_as_clientid); say so rather than surprise.
                             client_id=username, ca_file=Path("ca.crt"))


def _existing_password(path: Path, encoded: str | None, username: str) -> str | None:
    """The device's current password, if its credentials file exists and matches the hash."""
    if encoded is None or not path.exists():
        return None
    try:
        creds = load_credentials(path)
    except ConfigError as err:
        log.warning("%s is unusable (%s); issuing a new secret", path, err.problem)
        return None
    if creds.username != username or not passwords.verify_password(creds.password, encoded):
        log.warning("%s does not match the password file; issuing a new secret", path)
        return None
    return creds.password


def generate(devices: RoomDevices, out: Path | str, *, rotate: Iterable[str] = (),
             rotate_bridge: bool = False, install_dir: Path | str | None = None) -> Result:
    """Write (or update) the room's broker configuration and device credentials under ``out``.

    ``rotate`` names devices (station ids or the hub's username) that get a new secret;
    ``rotate_bridge`` renews a generated uplink password. ``install_dir`` is where the files of
    ``out/broker`` will live on the hub (default: where they are written).
    """
    out = Path(out).resolve()
    result = Result(out)
    hub_user = devices.hub.username
    users = {hub_user: ("hub", "hub"), **{s: (s, "station") for s in devices.stations}}
    rotate = set(rotate)
    unknown = rotate - set(users)
    if unknown:
        raise ConfigError(devices.path, "stations", f"cannot rotate {', '.join(sorted(unknown))}: "
                          f"not in the device list (devices: {', '.join(users)})")
    broker_dir = out / "broker"
    broker_dir.mkdir(parents=True, exist_ok=True)
    target = Path(install_dir or devices.broker.install_dir or broker_dir)

    ca = _load_ca(out, devices, result)
    ca_pem = tls.cert_pem(ca.cert)
    _write(broker_dir / "ca.crt", ca_pem, PUBLIC, result)
    _server_cert(broker_dir, ca, devices, result)

    passwd_path = broker_dir / "passwd"
    existing = passwords.parse_password_file(passwd_path)
    entries: dict[str, str] = {}
    devices_dir = out / "devices"
    for username, (device, role) in users.items():
        device_dir = _private_dir(devices_dir / device)
        cred_path = device_dir / FILENAME
        password = None if username in rotate else _existing_password(
            cred_path, existing.get(username), username)
        if password is None:
            password = passwords.new_secret()
            entries[username] = passwords.hash_password(password)
            result.new_secrets.append(device)
            log.info("%s %s: new secret issued%s", role, device,
                     " (rotated)" if username in rotate else "")
        else:
            entries[username] = existing[username]
        creds = _credentials(devices, device, role, password, username)
        _write(cred_path, render_credentials(creds), SECRET, result)
        _write(device_dir / "ca.crt", ca_pem, PUBLIC, result)

    for username in sorted(set(existing) - set(entries)):
        result.revoked.append(username)
        log.info("%s: not in the device list any more; password revoked", username)
    if devices_dir.exists():
        for stale in sorted(p for p in devices_dir.iterdir()
                            if p.is_dir() and p.name not in {d for d, _ in users.values()}):
            shutil.rmtree(stale)
            log.info("removed the credentials of %s (revoked device)", stale.name)
            if stale.name not in result.revoked:
                result.revoked.append(stale.name)

    _write(passwd_path, passwords.format_password_file(entries), SECRET, result)
    local_path = broker_dir / LOCAL_PASSWD
    if devices.broker.local_port:
        _write(local_path, passwords.format_password_file({hub_user: entries[hub_user]}),
               SECRET, result)
    elif local_path.exists():
        local_path.unlink()
    _write(broker_dir / "acl", acl.render_acl(devices.room, hub_user, devices.stations),
           PUBLIC, result)
    _write(broker_dir / "mosquitto.conf", render_mosquitto_conf(devices, target), PUBLIC, result)
    _bridge(devices, out, broker_dir, target, rotate_bridge, result)
    return result


def _bridge(devices: RoomDevices, out: Path, broker_dir: Path, target: Path,
            rotate: bool, result: Result) -> None:
    conf_path = broker_dir / "conf.d" / "bridge.conf"
    spec = devices.bridge
    if spec is None:
        if conf_path.exists():
            conf_path.unlink()
            log.info("bridge removed from the device list; deleted %s", conf_path)
        return
    admin_dir = _private_dir(out / "bridge")
    if spec.password_file is not None:
        password = spec.password_file.read_text(encoding="utf-8").strip()
        if not password or "\n" in password:
            raise ConfigError(spec.password_file, None, "must hold the uplink password on one line")
        secret_path = None
    else:
        # No password from the district: make one and hand its hash to the district admin.
        secret_path = admin_dir / "uplink-password"
        password = ""
        if not rotate and secret_path.exists():
            password = secret_path.read_text(encoding="utf-8").strip()
        if not password:
            password = passwords.new_secret()
            _write(secret_path, password + "\n", SECRET, result)
            log.info("bridge %s: new uplink secret issued", spec.username)
    ca_path = broker_dir / "bridge-ca.crt"
    _write(ca_path, spec.ca_file.read_bytes(), PUBLIC, result)
    _private_dir(broker_dir / "conf.d")
    _write(conf_path, bridge.render_bridge(devices.room, spec, ca_path=target / "bridge-ca.crt",
                                           password=password), SECRET, result)
    passwd_line, acl_rules = bridge.upstream_account(devices.room, spec, password)
    existing_line = admin_dir / "upstream-passwd"
    try:
        old = existing_line.read_text(encoding="utf-8").strip().partition(":")
        if old[0] == spec.username and passwords.verify_password(password, old[2]):
            passwd_line = existing_line.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    _write(existing_line, passwd_line, PUBLIC, result)
    _write(admin_dir / "upstream-acl", acl_rules, PUBLIC, result)
