"""Turn an MQTT connection failure into words an IT person can act on.

Call :func:`explain` with whatever the connection attempt produced: the exception that paho's
``connect()`` raised (``ssl.SSLCertVerificationError``, ``ConnectionRefusedError``, ...) or the
CONNACK reason code that ``on_connect`` received (a paho ``ReasonCode`` or a plain MQTT 3.1.1
return code). Pure: no sockets; the caller logs or shows the result.
"""

from __future__ import annotations

import datetime as dt
import errno
import socket
import ssl
from dataclasses import dataclass

# OpenSSL X509_V_ERR_* codes (x509_vfy.h) as found in SSLCertVerificationError.verify_code.
_NOT_YET_VALID = {9}  # X509_V_ERR_CERT_NOT_YET_VALID
_EXPIRED = {10}  # X509_V_ERR_CERT_HAS_EXPIRED
_WRONG_HOST = {62, 63, 64}  # HOSTNAME, EMAIL, IP_ADDRESS_MISMATCH
_UNKNOWN_CA = {2, 18, 19, 20, 21, 24}  # issuer unknown, self-signed, invalid CA

# MQTT 5 CONNACK reason codes (and the 3.1.1 return codes that mean the same).
_BAD_CREDENTIALS = {134, 4}
_NOT_AUTHORIZED = {135, 5}
_CLIENT_ID = {133, 2}
_UNAVAILABLE = {136, 137, 3}
_BANNED = {138}
_RATE = {151, 159}
_THIS_MACHINE = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Diagnosis:
    """``code`` is stable (for counting and tests); ``message`` is for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _reason_value(reason: object) -> int | None:
    if isinstance(reason, bool):
        return None
    if isinstance(reason, int):
        return reason
    value = getattr(reason, "value", None)
    return value if isinstance(value, int) else None


def explain(failure: BaseException | object, *, host: str, port: int,
            username: str | None = None, tls: bool | None = None,
            now: dt.datetime | None = None) -> Diagnosis:
    """Say what went wrong connecting to ``host:port`` and what to do about it.

    ``tls`` says whether the attempt used TLS (it tells a reset apart), ``now`` is the
    device's clock (default: the system clock).
    """
    where = f"{host}:{port}"
    if isinstance(failure, ssl.SSLCertVerificationError):
        return _certificate(failure, where, host, now)
    if isinstance(failure, ssl.SSLError):
        return _tls(failure, where)
    if isinstance(failure, BaseException):
        return _network(failure, where, host, tls)
    code = _reason_value(failure)
    if code is None:
        return Diagnosis("unknown", f"Connecting to the hub at {where} failed: {failure}.")
    return _connack(code, failure, where, username)


def closed_before_connack(*, host: str, port: int, tls: bool) -> Diagnosis:
    """The broker closed the connection without answering the CONNECT."""
    if not tls:
        return Diagnosis(
            "closed_plain",
            f"The hub at {host}:{port} closed the connection without answering. This port "
            "probably expects TLS: set tls = true and ca_file in the device's mqtt.toml (the "
            "room's TLS port is 8883 unless the device list says otherwise).")
    return Diagnosis(
        "closed",
        f"The hub at {host}:{port} closed the connection without answering. Look at the "
        "broker's log on the hub (journalctl -u mosquitto) for this device's connection.")


def _certificate(err: ssl.SSLCertVerificationError, where: str, host: str,
                 now: dt.datetime | None) -> Diagnosis:
    clock = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    code = err.verify_code
    detail = err.verify_message or str(err)
    if code in _NOT_YET_VALID:
        return Diagnosis(
            "cert_not_yet_valid",
            f"The hub's certificate at {where} is not valid yet by this device's clock "
            f"({clock}). The clock is almost certainly wrong: check the date with "
            "'timedatectl', make sure the device can reach a time server (NTP, UDP port 123) "
            "or set the date by hand, then try again.")
    if code in _EXPIRED:
        return Diagnosis(
            "cert_expired",
            f"The hub's certificate at {where} has expired by this device's clock ({clock}). "
            "If that date is wrong, fix the clock (timedatectl, NTP). If it is right, run "
            "'stations broker-config' again to renew the certificate and install the new "
            "broker folder on the hub.")
    if code in _WRONG_HOST:
        return Diagnosis(
            "wrong_host",
            f"The certificate presented at {where} is not for {host!r} ({detail}). Either the "
            "device's mqtt.toml names the wrong host, the name or address leads to another "
            "machine, or the hub's name or IP changed since its certificate was made: put the "
            "hub's current host name and IP in the device list and run 'stations "
            "broker-config' again.")
    if code in _UNKNOWN_CA:
        return Diagnosis(
            "unknown_ca",
            f"The certificate presented at {where} was not issued by this room's CA "
            f"({detail}). The device has another room's or an old ca.crt, or something else "
            "answers at that address: copy ca.crt from the room's devices/<id>/ folder onto "
            "the device, and check that the address is the hub's.")
    return Diagnosis("tls_verify", f"The hub's certificate at {where} was refused: {detail}.")


def _tls(err: ssl.SSLError, where: str) -> Diagnosis:
    reason = (err.reason or "").upper()
    text = str(err).upper()
    if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                  "HTTP_REQUEST") or "WRONG_VERSION_NUMBER" in text:
        return Diagnosis(
            "not_tls",
            f"{where} does not speak TLS: it is probably the plain (loopback) listener or "
            "another service. Use the hub's TLS port (8883 unless the device list says "
            "otherwise).")
    if "PROTOCOL_VERSION" in reason or "UNSUPPORTED_PROTOCOL" in reason:
        return Diagnosis(
            "tls_version",
            f"{where} and this device share no TLS version: the hub requires TLS 1.2 or newer; "
            "update the device's operating system.")
    if isinstance(err, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return Diagnosis(
            "tls_closed",
            f"{where} closed the connection during the TLS handshake: check that the port is "
            "the hub's TLS listener and look at the broker's log on the hub.")
    return Diagnosis("tls_error", f"The TLS handshake with {where} failed: {err}.")


def _network(err: BaseException, where: str, host: str, tls: bool | None) -> Diagnosis:
    if isinstance(err, socket.gaierror):
        return Diagnosis(
            "dns",
            f"The host name {host!r} cannot be resolved on this network. Check the spelling "
            "in the device's mqtt.toml and the school's DNS; the hub's IP address works too "
            "(it is in the certificate).")
    if isinstance(err, ConnectionRefusedError):
        listener = {True: ", the TLS listener", False: ", the plain (loopback) listener",
                    None: ""}[tls]
        if host in _THIS_MACHINE:
            return Diagnosis(
                "refused",
                f"Nothing accepts connections at {where}{listener}: the room's broker is not "
                "running on this machine, or listens on another port. Start Mosquitto with "
                "the room's generated config ('systemctl start mosquitto' on a provisioned "
                "hub; elsewhere 'mosquitto -c DIR/broker/mosquitto.conf', DIR from 'stations "
                "broker-config'), or run 'stations demo', which starts a whole room with its "
                "broker.")
        return Diagnosis(
            "refused",
            f"Nothing accepts connections at {where}{listener}: the broker is not running "
            "on the hub ('systemctl status mosquitto') or the port is wrong.")
    if isinstance(err, TimeoutError | socket.timeout):
        return Diagnosis(
            "timeout",
            f"No answer from {where}: the hub is off, the device is on another network (a "
            "guest Wi-Fi that isolates devices) or a firewall drops the port.")
    if isinstance(err, OSError) and err.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH,
                                                   errno.EADDRNOTAVAIL):
        return Diagnosis(
            "unreachable",
            f"{where} cannot be reached from here: check the device's Wi-Fi connection and "
            "that it is on the classroom network.")
    if isinstance(err, ConnectionResetError | BrokenPipeError):
        if tls:
            # Mosquitto drops a TLS ClientHello on a plain listener as a protocol error.
            return Diagnosis(
                "not_tls",
                f"{where} dropped the connection during the TLS handshake: it is probably a "
                "plain (loopback) listener, not the hub's TLS port (8883 unless the device "
                "list says otherwise).")
        return Diagnosis(
            "reset",
            f"{where} dropped the connection: if this is the hub's TLS port, set tls = true "
            "and ca_file in the device's mqtt.toml; otherwise see the broker's log on the hub.")
    return Diagnosis("network", f"Connecting to {where} failed: {err}.")


def _connack(code: int, reason: object, where: str, username: str | None) -> Diagnosis:
    who = f"user {username!r}" if username else "this device"
    if code in _BAD_CREDENTIALS or code in _NOT_AUTHORIZED:
        return Diagnosis(
            "bad_credentials",
            f"The hub at {where} refused {who}: wrong username or password, or the device "
            "was removed from the room. Copy the device's current mqtt.toml from the latest "
            "'stations broker-config' run (its secret may have been rotated) and make sure "
            "the hub's broker was reloaded after that run.")
    if code in _CLIENT_ID:
        return Diagnosis("client_id", f"The hub at {where} refused the client id of {who}.")
    if code in _UNAVAILABLE:
        return Diagnosis("unavailable", f"The broker at {where} is running but not accepting "
                                        "clients right now; it retries on its own.")
    if code in _BANNED:
        return Diagnosis("banned", f"The broker at {where} has banned {who}.")
    if code in _RATE:
        return Diagnosis("rate_limited", f"The broker at {where} is limiting {who}'s "
                                         "connection rate; it retries on its own.")
    return Diagnosis("refused_other", f"The broker at {where} refused the connection: "
                                      f"{reason} (code {code}).")
