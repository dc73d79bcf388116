"""Connection failures explained in words an IT person can act on, from real failures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import ssl
from pathlib import Path

import pytest

from broker import tls
from broker.tls_errors import closed_before_connack, explain
from tests.broker_helpers import ConnectRefused, connect, free_port, room_broker

pytestmark = pytest.mark.usefixtures("need_mosquitto")  # a failure in CI, never a skip
NOW = dt.datetime.now(dt.UTC)


def swap_server_cert(**issue: object):
    """Replace the generated server certificate with one issued with other dates."""
    def prepare(out: Path) -> None:
        ca = tls.Issued(tls.load_key(out / "ca" / "ca.key"), tls.load_cert(out / "ca" / "ca.crt"))
        issued = tls.issue_server_cert(ca, "hub.room-t.test", "127.0.0.1", **issue)  # type: ignore[arg-type]
        (out / "broker" / "server.key").write_bytes(tls.key_pem(issued.key))
        (out / "broker" / "server.crt").write_bytes(tls.cert_pem(issued.cert))
    return prepare


def failure(room, **kwargs: object) -> BaseException:
    with pytest.raises((ssl.SSLError, OSError, ConnectRefused)) as err:
        connect(room.creds("a"), kwargs.pop("port", room.tls_port), **kwargs)  # type: ignore[arg-type]
    return err.value


def test_a_clock_behind_the_certificate_is_named_as_a_clock_problem(tmp_path: Path) -> None:
    later = NOW + dt.timedelta(days=3)
    with room_broker(tmp_path, prepare=swap_server_cert(not_before=later)) as room:
        err = failure(room)
        assert isinstance(err, ssl.SSLCertVerificationError)
        diagnosis = explain(err, host="127.0.0.1", port=room.tls_port, now=NOW)
    assert diagnosis.code == "cert_not_yet_valid"
    assert "clock" in diagnosis.message and NOW.strftime("%Y-%m-%d") in diagnosis.message


def test_an_expired_certificate_says_renew_or_fix_the_clock(tmp_path: Path) -> None:
    long_ago = NOW - dt.timedelta(days=30)
    with room_broker(tmp_path, prepare=swap_server_cert(now=long_ago, days=1)) as room:
        diagnosis = explain(failure(room), host="127.0.0.1", port=room.tls_port)
    assert diagnosis.code == "cert_expired"
    assert "broker-config" in diagnosis.message


def test_a_certificate_for_another_host_name_or_address(tmp_path: Path) -> None:
    with room_broker(tmp_path) as room:
        by_name = explain(failure(room, host="localhost"), host="localhost", port=room.tls_port)
        # The broker listens on every loopback address; the certificate names only 127.0.0.1.
        by_ip = explain(failure(room, host="127.0.0.2"), host="127.0.0.2", port=room.tls_port)
    assert by_name.code == by_ip.code == "wrong_host"
    assert "'localhost'" in by_name.message and "127.0.0.2" in by_ip.message


def test_another_rooms_ca_is_named_as_the_wrong_ca(tmp_path: Path) -> None:
    other = tls.new_ca("room-other")
    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes(tls.cert_pem(other.cert))
    with room_broker(tmp_path / "room") as room:
        creds = dataclasses.replace(room.creds("a"), ca_file=other_ca)
        with pytest.raises(ssl.SSLCertVerificationError) as err:
            connect(creds, room.tls_port)
        diagnosis = explain(err.value, host="127.0.0.1", port=room.tls_port)
    assert diagnosis.code == "unknown_ca" and "ca.crt" in diagnosis.message


def test_tls_to_the_plain_listener_and_nothing_listening(tmp_path: Path) -> None:
    with room_broker(tmp_path) as room:
        err = failure(room, port=room.local_port, tls=True)
        assert explain(err, host="127.0.0.1", port=room.local_port, tls=True).code == "not_tls"
    port = free_port()
    with pytest.raises(ConnectionRefusedError) as refused:
        socket.create_connection(("127.0.0.1", port), timeout=1)
    assert explain(refused.value, host="127.0.0.1", port=port).code == "refused"


def test_a_wrong_password_names_the_account_and_the_fix(tmp_path: Path) -> None:
    with room_broker(tmp_path) as room:
        err = failure(room, password="wrong")
    assert isinstance(err, ConnectRefused)
    diagnosis = explain(err.reason, host="127.0.0.1", port=1, username="a")
    assert diagnosis.code == "bad_credentials" and "'a'" in diagnosis.message
    assert "mqtt.toml" in diagnosis.message


@pytest.mark.parametrize(("failure_", "code"), [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "dns"),
    (TimeoutError("timed out"), "timeout"),
    (OSError(113, "No route to host"), "unreachable"),
    (4, "bad_credentials"),  # MQTT 3.1.1 CONNACK return codes
    (5, "bad_credentials"),
    (3, "unavailable"),
])
def test_other_failures_have_their_own_advice(failure_: object, code: str) -> None:
    assert explain(failure_, host="hub.example", port=8883).code == code


def test_closed_before_connack_suggests_tls_for_a_plain_client() -> None:
    assert closed_before_connack(host="h", port=8883, tls=False).code == "closed_plain"
    assert closed_before_connack(host="h", port=8883, tls=True).code == "closed"
