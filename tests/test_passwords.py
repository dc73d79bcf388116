"""Mosquitto `$7$` password hashes, checked against the real `mosquitto_passwd`."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from broker.passwords import (
    format_password_file,
    hash_password,
    new_secret,
    parse_password_file,
    verify_password,
)
from stations.errors import ConfigError

TOOL = "/usr/bin/mosquitto_passwd"


@pytest.mark.skipif(not os.access(TOOL, os.X_OK), reason="mosquitto_passwd is not installed")
def test_mosquitto_passwd_lines_verify_and_match_our_hash_byte_for_byte(tmp_path: Path) -> None:
    passwd = tmp_path / "pw"
    subprocess.run([TOOL, "-c", "-b", str(passwd), "ana", "s3cret:with spaces"], check=True)
    encoded = parse_password_file(passwd)["ana"]
    assert encoded.startswith("$7$101$")
    assert verify_password("s3cret:with spaces", encoded)
    assert not verify_password("s3cret:with space", encoded)
    salt = base64.b64decode(encoded.split("$")[3])
    assert hash_password("s3cret:with spaces", salt=salt) == encoded


def test_hashes_are_salted_and_verify() -> None:
    secret = new_secret()
    first, second = hash_password(secret), hash_password(secret)
    assert first != second
    assert verify_password(secret, first) and verify_password(secret, second)
    assert not verify_password(secret + "x", first)


@pytest.mark.parametrize("encoded", ["", "$6$abc$def", "$7$x$AAAA$AAAA", "$7$101$!!$AAAA",
                                     "$7$0$AAAA$AAAA", "plain-text"])
def test_malformed_hashes_never_verify(encoded: str) -> None:
    assert not verify_password("anything", encoded)


def test_password_file_round_trip_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    entries = {"b": hash_password("x"), "a": hash_password("y")}
    path.write_text(format_password_file(entries))
    assert path.read_text().splitlines()[0].startswith("a:")
    assert parse_password_file(path) == entries
    path.write_text("a:$7$1$AA$AA\nnot a line\n")
    with pytest.raises(ConfigError, match="line 2"):
        parse_password_file(path)
    with pytest.raises(ValueError):
        format_password_file({"bad:name": hash_password("x")})
