"""The kiosk's codec for the puck protocol, and its agreement with the firmware's."""

from __future__ import annotations

from tests import puck_paths  # noqa: F401  (puts firmware/ on sys.path)

# isort: split

import pytest
from stationpuck import protocol as firmware_proto

from kiosk.readers import puck_protocol as proto


def test_check_value() -> None:
    assert proto.crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize(("kind", "args"), [
    ("card", ("04A1B2C3",)), ("button", ("3",)), ("heartbeat", ("12", "ok", "0")),
    ("hello", ("stationpuck", "1.0.0")), ("nak", ("-", "bad-checksum")), ("ack", ("65535",)),
])
def test_both_sides_encode_the_same_bytes(kind: str, args: tuple[str, ...]) -> None:
    ours = proto.encode(41, kind, *args)
    assert ours == firmware_proto.encode(41, kind, args)
    assert proto.check_event(proto.decode(ours)) == proto.Frame(41, kind, args)


def test_commands_decode_on_the_firmware_side() -> None:
    assert firmware_proto.decode(proto.light_command(3, (255, 128, 0), 1500, "blink")) == (
        3, "light", ["FF8000", "1500", "blink"])
    assert firmware_proto.decode(proto.beep_command(65535 + 2, 440, 120)) == (
        1, "beep", ["440", "120"])


@pytest.mark.parametrize(("line", "reason"), [
    (b"!1 1 card 04A1B2C3*FFFF", "bad-checksum"),
    (b"!1 1 card 04A1B2C3*ZZZZ", "bad-checksum"),
    (b"hello", "no-start"),
    (b"!1 1 card", "no-checksum"),
    (b"!" + b"1" * 120, "too-long"),
])
def test_rejections_have_reasons(line: bytes, reason: str) -> None:
    with pytest.raises(proto.PuckFrameError) as info:
        proto.decode(line)
    assert info.value.reason == reason


@pytest.mark.parametrize(("kind", "args", "reason"), [
    ("teleport", (), "unknown-kind"),
    ("card", (), "bad-args"),
    ("button", ("0",), "bad-args"),
    ("heartbeat", ("x", "ok", "0"), "bad-args"),
])
def test_events_are_checked(kind: str, args: tuple[str, ...], reason: str) -> None:
    with pytest.raises(proto.PuckFrameError) as info:
        proto.check_event(proto.decode(proto.encode(1, kind, *args)))
    assert info.value.reason == reason


def test_bad_versions_and_sequence_numbers() -> None:
    for body in (b"!2 1 card AB12", b"!1 070000 card AB12", b"!1 -1 card AB12"):
        line = body + b"*%04X" % proto.crc16(body)
        with pytest.raises(proto.PuckFrameError):
            proto.decode(line)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: proto.light_command(1, (256, 0, 0)), "colour"),
    (lambda: proto.light_command(1, (0, 0, 0), 70_000), "duration"),
    (lambda: proto.beep_command(1, 50, 10), "frequency"),
    (lambda: proto.beep_command(1, 440, 0), "duration"),
    (lambda: proto.encode(1, "card", "two words"), "tokens"),
])
def test_commands_validate_arguments(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
