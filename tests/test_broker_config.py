"""`stations broker-config` against a real Mosquitto started with the generated configuration."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import stat
import time
from pathlib import Path

import pytest

from broker import cli, tls, tls_errors
from broker.config_gen import generate
from broker.contract import MAX_PAYLOAD_BYTES, rotation_topic, station_topic
from broker.credentials import load_credentials
from broker.devices import load_devices
from broker.passwords import parse_password_file
from stations.errors import ConfigError
from tests.broker_helpers import (
    ConnectRefused,
    connect,
    room_broker,
    write_devices,
)

ROOM = "room-t"
needs_broker = pytest.mark.usefixtures("need_mosquitto")  # a failure in CI, never a skip


def topic(station: str, leaf: str) -> str:
    return station_topic(ROOM, station, leaf)


# --- the generated files -------------------------------------------------------------------------

def test_secrets_are_0600_and_configuration_matches_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate(load_devices(write_devices(tmp_path / "devices.toml")), out)
    secret_files = [out / "broker" / "passwd", out / "broker" / "server.key", out / "ca" / "ca.key",
                    *(out / "devices").glob("*/mqtt.toml")]
    assert len(secret_files) == 6  # passwd, server key, CA key, hub + 2 stations
    for path in secret_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    conf = (out / "broker" / "mosquitto.conf").read_text()
    assert f"message_size_limit {MAX_PAYLOAD_BYTES}\n" in conf
    assert conf.count("allow_anonymous false") == 2  # both listeners
    assert "allow_anonymous true" not in conf
    assert "per_listener_settings true" in conf
    # The CA key never goes into the folder that is installed on the hub.
    assert not list((out / "broker").rglob("ca.key"))


def test_server_certificate_names_the_hub_by_host_name_and_ip(tmp_path: Path) -> None:
    out = tmp_path / "out"
    devices = load_devices(write_devices(tmp_path / "d.toml", hostname="hub-7.school.lan",
                                         ip="10.1.2.3"))
    generate(devices, out)
    cert = tls.load_cert(out / "broker" / "server.crt")
    ca = tls.load_cert(out / "broker" / "ca.crt")
    assert tls.server_cert_fits(cert, ca, "hub-7.school.lan", "10.1.2.3")
    assert not tls.server_cert_fits(cert, ca, "hub-8.school.lan", "10.1.2.3")


def test_server_certificate_is_valid_no_longer_than_apple_devices_accept(tmp_path: Path) -> None:
    """The console serves this certificate; iPads, iPhones and Macs refuse a TLS server
    certificate valid for more than 825 days, whatever CA issued it."""
    out = tmp_path / "out"
    generate(load_devices(write_devices(tmp_path / "d.toml")), out)
    cert = tls.load_cert(out / "broker" / "server.crt")
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=825)
    assert tls.certificate_end(out / "broker" / "server.crt") == cert.not_valid_after_utc
    assert tls.certificate_end(out / "broker" / "missing.crt") is None


def test_a_certificate_near_its_end_is_issued_again(tmp_path: Path) -> None:
    devices = load_devices(write_devices(tmp_path / "d.toml"))
    out = tmp_path / "out"
    generate(devices, out)
    ca = tls.Issued(tls.load_key(out / "ca" / "ca.key"), tls.load_cert(out / "broker" / "ca.crt"))
    hub = devices.hub
    ending = tls.issue_server_cert(ca, hub.hostname, hub.ip, days=tls.RENEW_BEFORE.days - 1)
    (out / "broker" / "server.crt").write_bytes(tls.cert_pem(ending.cert))
    (out / "broker" / "server.key").write_bytes(tls.key_pem(ending.key))
    assert generate(devices, out).new_server_cert
    renewed = tls.load_cert(out / "broker" / "server.crt")
    assert renewed.not_valid_after_utc - ending.cert.not_valid_after_utc > dt.timedelta(days=700)


def test_rotating_one_station_leaves_the_others_untouched(tmp_path: Path) -> None:
    devices = load_devices(write_devices(tmp_path / "d.toml", stations=("a", "b", "c")))
    out = tmp_path / "out"
    generate(devices, out)
    before = {p: p.read_bytes() for p in (out).rglob("*") if p.is_file()}
    old_hashes = parse_password_file(out / "broker" / "passwd")
    result = generate(devices, out, rotate=["b"])
    assert result.new_secrets == ["b"]
    new_hashes = parse_password_file(out / "broker" / "passwd")
    assert new_hashes["b"] != old_hashes["b"]
    assert {u: h for u, h in new_hashes.items() if u != "b"} == \
        {u: h for u, h in old_hashes.items() if u != "b"}
    changed = {p.relative_to(out).as_posix() for p, data in before.items()
               if p.read_bytes() != data}
    assert changed == {"broker/passwd", "devices/b/mqtt.toml"}


def test_running_again_changes_nothing(tmp_path: Path) -> None:
    devices = load_devices(write_devices(tmp_path / "d.toml"))
    generate(devices, tmp_path / "out")
    again = generate(devices, tmp_path / "out")
    assert again.written == [] and again.new_secrets == [] and not again.new_server_cert


def test_a_new_hub_address_reissues_the_certificate_but_keeps_every_secret(tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate(load_devices(write_devices(tmp_path / "d.toml", ip="10.0.0.2")), out)
    passwd = (out / "broker" / "passwd").read_bytes()
    result = generate(load_devices(write_devices(tmp_path / "d.toml", ip="10.0.0.9")), out)
    assert result.new_server_cert and not result.new_ca and result.new_secrets == []
    assert (out / "broker" / "passwd").read_bytes() == passwd


def test_secrets_are_never_logged_or_printed(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    devices_file = write_devices(tmp_path / "d.toml")
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    with caplog.at_level(logging.DEBUG):
        args = parser.parse_args(["broker-config", str(devices_file), "--out",
                                  str(tmp_path / "out")])
        assert args.func(args) == 0
        args = parser.parse_args(["broker-config", str(devices_file), "--out",
                                  str(tmp_path / "out"), "--rotate-station", "a"])
        assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "new secrets for: a" in printed
    secrets = [load_credentials(tmp_path / "out" / "devices" / d / "mqtt.toml").password
               for d in ("hub", "a", "b")]
    key = (tmp_path / "out" / "broker" / "server.key").read_text().splitlines()[1]
    for secret in [*secrets, key]:
        assert secret not in caplog.text
        assert secret not in printed


@pytest.mark.parametrize(("toml", "key", "problem"), [
    ('[room]\nid = "Room 1"\n[hub]\nhostname = "h"\nip = "10.0.0.1"\n[[stations]]\nid = "a"\n',
     "room.id", "lower-case"),
    ('[room]\nid = "r"\n[hub]\nhostname = "h"\nip = "10.0.0.300"\n[[stations]]\nid = "a"\n',
     "hub.ip", "not an IP address"),
    ('[room]\nid = "r"\n[hub]\nhostname = "h"\nip = "10.0.0.1"\n[[stations]]\nid = "a"\n'
     '[[stations]]\nid = "a"\n', "stations[1].id", "listed twice"),
    ('[room]\nid = "r"\n[hub]\nhostname = "h"\nip = "10.0.0.1"\n[[stations]]\nid = "hub"\n',
     "stations[0].id", "hub's username"),
    ('[room]\nid = "r"\n[hub]\nhostname = "bad_host!"\nip = "10.0.0.1"\n[[stations]]\nid = "a"\n',
     "hub.hostname", "not a valid host name"),
    ('[room]\nid = "r"\n[hub]\nhostname = "h"\nip = "10.0.0.1"\n[broker]\ntls_port = 1883\n'
     '[[stations]]\nid = "a"\n', "broker.local_port", "must differ"),
])
def test_a_broken_device_list_names_file_key_and_problem(tmp_path: Path, toml: str, key: str,
                                                         problem: str) -> None:
    path = tmp_path / "devices.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_devices(path)
    assert err.value.key == key and problem in err.value.problem
    assert str(path) in str(err.value)


def test_rotating_an_unknown_station_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    devices = load_devices(write_devices(tmp_path / "d.toml"))
    with pytest.raises(ConfigError, match="cannot rotate zz"):
        generate(devices, tmp_path / "out", rotate=["zz"])
    assert not (tmp_path / "out" / "broker" / "passwd").exists()


def test_the_example_device_list_is_valid(tmp_path: Path) -> None:
    example = Path(__file__).parent.parent / "broker" / "example-devices.toml"
    devices = load_devices(example)
    assert devices.stations and devices.broker.install_dir == "/etc/mosquitto/stations"
    generate(devices, tmp_path / "out")
    assert "password_file /etc/mosquitto/stations/passwd" in \
        (tmp_path / "out" / "broker" / "mosquitto.conf").read_text()


# --- the real broker -------------------------------------------------------------------------

@needs_broker
def test_the_generated_config_starts_mosquitto_and_every_device_connects(tmp_path: Path) -> None:
    with room_broker(tmp_path, stations=("a", "b")) as room:
        for device in ("a", "b"):
            connect(room.creds(device), room.tls_port).close()
        hub = room.creds("hub")
        assert not hub.tls and hub.port == room.local_port  # the loopback listener
        connect(hub, room.local_port).close()
        # The hub's account works over TLS too (its file says plain loopback: no ca_file).
        assert hub.ca_file is None
        connect(dataclasses.replace(hub, tls=True, ca_file=room.creds("a").ca_file),
                room.tls_port).close()


@needs_broker
def test_a_station_cannot_speak_for_another_station(tmp_path: Path) -> None:
    with room_broker(tmp_path, stations=("a", "b")) as room:
        hub = connect(room.creds("hub"), room.local_port)
        a = connect(room.creds("a"), room.tls_port)
        try:
            for leaf in ("checkin", "hello", "status"):
                hub.subscribe(f"stations/v1/{ROOM}/station/+/{leaf}")
            for leaf in ("checkin", "hello", "status"):
                ack = a.publish(topic("b", leaf), b'{"forged": true}')
                assert ack.is_failure, leaf  # type: ignore[attr-defined]
            # Own topics go through: the hub's subscription works and comes after the forgeries.
            for leaf in ("checkin", "hello", "status"):
                assert not a.publish(topic("a", leaf), b"{}").is_failure  # type: ignore[attr-defined]
            got = hub.received(timeout=1.0)
            assert sorted(m.topic for m in got) == sorted(topic("a", leaf) for leaf in
                                                          ("checkin", "hello", "status"))
        finally:
            a.close()
            hub.close()


@needs_broker
def test_a_station_cannot_read_another_stations_replies(tmp_path: Path) -> None:
    with room_broker(tmp_path, stations=("a", "b")) as room:
        hub = connect(room.creds("hub"), room.local_port)
        a = connect(room.creds("a"), room.tls_port)
        b = connect(room.creds("b"), room.tls_port)
        try:
            # Mosquitto grants both subscriptions and filters each message by the ACL.
            a.subscribe(topic("b", "reply"))
            a.subscribe("#")
            b.subscribe(topic("b", "reply"))
            hub.publish(topic("b", "reply"), b'{"display_name": "Ana P."}')
            hub.publish(topic("a", "reply"), b'{"display_name": "Ben K."}')
            assert [m.topic for m in b.received(timeout=0.5)] == [topic("b", "reply")]
            assert [m.payload for m in a.received(timeout=0.5)] == [b'{"display_name": "Ben K."}']
        finally:
            for session in (a, b, hub):
                session.close()


@needs_broker
def test_a_station_cannot_publish_rotation_state(tmp_path: Path) -> None:
    with room_broker(tmp_path, stations=("a", "b")) as room:
        hub = connect(room.creds("hub"), room.local_port)
        a = connect(room.creds("a"), room.tls_port)
        b = connect(room.creds("b"), room.tls_port)
        try:
            b.subscribe(rotation_topic(ROOM))
            ack = a.publish(rotation_topic(ROOM), b'{"state": "ended"}', retain=True)
            assert ack.is_failure  # type: ignore[attr-defined]
            hub.publish(rotation_topic(ROOM), b'{"state": "running"}', retain=True)
            assert [m.payload for m in b.received(timeout=0.5)] == [b'{"state": "running"}']
        finally:
            for session in (a, b, hub):
                session.close()


@needs_broker
def test_anonymous_and_wrong_password_connections_are_refused(tmp_path: Path) -> None:
    with room_broker(tmp_path) as room:
        a = room.creds("a")
        for port, use_tls in ((room.tls_port, True), (room.local_port, False)):
            with pytest.raises(ConnectRefused) as anonymous:
                connect(a, port, username=None, tls=use_tls)
            with pytest.raises(ConnectRefused) as wrong:
                connect(a, port, password=a.password[:-1] + "x", tls=use_tls)
            for refused in (anonymous, wrong):
                diagnosis = tls_errors.explain(refused.value.reason, host="127.0.0.1", port=port,
                                               username="a")
                assert diagnosis.code == "bad_credentials"
        with pytest.raises(ConnectRefused):  # the hub's password is not a station's
            connect(a, room.tls_port, password=room.creds("hub").password)


@needs_broker
def test_plain_tcp_to_the_tls_listener_fails(tmp_path: Path) -> None:
    with room_broker(tmp_path) as room:
        with pytest.raises(TimeoutError, match="closed before CONNACK"):
            connect(room.creds("a"), room.tls_port, tls=False)
        diagnosis = tls_errors.closed_before_connack(host="127.0.0.1", port=room.tls_port,
                                                     tls=False)
        assert "tls = true" in diagnosis.message


@needs_broker
def test_a_rotated_or_removed_station_is_refused_after_reload(tmp_path: Path) -> None:
    with room_broker(tmp_path, stations=("a", "b", "c")) as room:
        old_a, b = room.creds("a"), room.creds("b")
        room.regenerate(rotate=["a"])
        room.broker.reload()
        with pytest.raises(ConnectRefused):
            connect(old_a, room.tls_port)
        connect(room.creds("a"), room.tls_port).close()
        connect(b, room.tls_port).close()  # untouched

        write_devices(room.devices_file, stations=("a", "b"), tls_port=room.tls_port,
                      local_port=room.local_port)
        c = dataclasses.replace(room.creds("c"), ca_file=b.ca_file)  # c's folder goes away
        room.regenerate()
        room.broker.reload()
        assert not (room.out / "devices" / "c").exists()
        with pytest.raises(ConnectRefused):
            connect(c, room.tls_port)
        connect(b, room.tls_port).close()


@needs_broker
def test_one_station_cannot_kick_another_off_by_reusing_its_client_id(tmp_path: Path) -> None:
    with room_broker(tmp_path, stations=("a", "b")) as room:
        a = connect(room.creds("a"), room.tls_port)
        try:
            b_creds = room.creds("b")
            impostor = connect(dataclasses.replace(b_creds, client_id="a"), room.tls_port)
            impostor.close()
            time.sleep(0.2)
            assert a.client.is_connected()
            assert not a.publish(topic("a", "checkin"), b"{}").is_failure  # type: ignore[attr-defined]
        finally:
            a.close()


@needs_broker
def test_payloads_over_the_contract_limit_are_not_forwarded(tmp_path: Path) -> None:
    with room_broker(tmp_path) as room:
        hub = connect(room.creds("hub"), room.local_port)
        a = connect(room.creds("a"), room.tls_port)
        try:
            hub.subscribe(topic("a", "checkin"))
            # QoS 0: at QoS 1 Mosquitto 2.0.11 answers PUBACK 0x95 (packet too large), which
            # paho 2.2 cannot decode ("malformed packet"), so it reconnects and resends forever.
            # Stations must never send an oversized payload; the broker's limit is the backstop.
            a.publish(topic("a", "checkin"), b"x" * (MAX_PAYLOAD_BYTES + 1), qos=0)
            assert not a.publish(topic("a", "checkin"), b"y" * MAX_PAYLOAD_BYTES).is_failure  # type: ignore[attr-defined]
            assert [len(m.payload) for m in hub.received(timeout=0.5)] == [MAX_PAYLOAD_BYTES]
        finally:
            a.close()
            hub.close()
