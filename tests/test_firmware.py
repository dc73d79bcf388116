"""Station puck firmware on CPython, against a fake Pico and an emulated MFRC522."""

from __future__ import annotations

from tests import puck_paths  # noqa: F401  (puts firmware/ on sys.path)

# isort: split

import pytest
from stationpuck import protocol
from stationpuck.app import FAULT_RGB, IDLE_RGB, TAP_RGB, Puck
from stationpuck.board import build
from stationpuck.button import Debouncer
from stationpuck.mfrc522 import MFRC522, CardError

from tests.fake_pico import TICKS_PERIOD, Card, FakeClock, crc_a, pico_with_reader


class MemoryLink:
    """The USB serial link as two byte buffers (the pty tests use the real StreamLink)."""

    def __init__(self) -> None:
        self.to_puck = bytearray()
        self.from_puck = bytearray()

    def read(self, limit: int = 64) -> bytes:
        data, self.to_puck[:] = bytes(self.to_puck[:limit]), self.to_puck[limit:]
        return data

    def write(self, data: bytes) -> None:
        self.from_puck.extend(data)

    def frames(self) -> list[tuple[str, list[str]]]:
        lines = bytes(self.from_puck).splitlines()
        self.from_puck.clear()
        return [protocol.decode(line)[1:] for line in lines]


@pytest.fixture
def rig():
    clock = FakeClock(start_ms=TICKS_PERIOD - 1500)  # ticks wrap 1.5 s into every test
    machine, chip = pico_with_reader(clock)
    reader, led, buzzer, buttons = build(machine, clock)
    link = MemoryLink()
    puck = Puck(reader, led, buzzer, buttons, link, clock)
    return clock, machine, chip, puck, link


def run_for(puck: Puck, clock: FakeClock, ms: int) -> None:
    end = clock.now_us() + ms * 1000
    while clock.now_us() < end:
        puck.step()
        clock.sleep_ms(5)


def kinds(frames) -> list[str]:
    return [k for k, _ in frames]


# -- protocol ------------------------------------------------------------------------------

def test_crc16_check_value_and_frame_round_trip() -> None:
    assert protocol.crc16(b"123456789") == 0x29B1
    frame = protocol.encode(7, "card", ["04A1B2C3"])
    assert frame.startswith(b"!1 7 card 04A1B2C3*") and frame.endswith(b"\n")
    assert protocol.decode(frame) == (7, "card", ["04A1B2C3"])


@pytest.mark.parametrize(("line", "reason"), [
    (b"!1 7 card 04A1B2C3*0000", "bad-checksum"),
    (b"!1 7 card 04A1B2C3", "no-checksum"),
    (b"1 7 card*1234", "no-start"),
    (b"!" + b"A" * 100 + b"*1234", "too-long"),
])
def test_bad_frames_are_rejected_with_a_reason(line: bytes, reason: str) -> None:
    with pytest.raises(protocol.FrameError) as info:
        protocol.decode(line)
    assert info.value.reason == reason


def test_other_protocol_version_is_rejected() -> None:
    body = b"!2 1 hello"
    line = body + b"*%04X" % protocol.crc16(body)
    with pytest.raises(protocol.FrameError) as info:
        protocol.decode(line)
    assert info.value.reason == "bad-version"


def test_line_buffer_drops_over_long_lines() -> None:
    lines = protocol.LineBuffer()
    assert lines.feed(b"ab") == []
    assert lines.feed(b"c\n" + b"x" * 200 + b"\nok\n") == [b"abc", None, b"ok"]


# -- MFRC522 driver ------------------------------------------------------------------------

def test_crc_a_reference_vector() -> None:
    assert crc_a(b"\x50\x00") == b"\x57\xcd"  # HLTA as printed in ISO/IEC 14443-3


@pytest.mark.parametrize("uid", ["DEADBEEF", "04A1B2C3D4E5F6", "0102030405060708090A"])
def test_driver_reads_every_uid_length(uid: str) -> None:
    clock = FakeClock()
    machine, chip = pico_with_reader(clock)
    reader, *_ = build(machine, clock)
    assert reader.init() == 0x92
    assert reader.read_uid() is None
    chip.place(Card(bytes.fromhex(uid)))
    assert reader.read_uid() == bytes.fromhex(uid)
    assert chip.card.state == Card.HALT
    assert reader.read_uid() == bytes.fromhex(uid), "WUPA wakes a halted card"


def test_driver_takes_25_ms_to_give_up_on_an_empty_field() -> None:
    clock = FakeClock()
    machine, _chip = pico_with_reader(clock)
    reader, *_ = build(machine, clock)
    reader.init()
    start = clock.now_us()
    assert reader.read_uid() is None
    assert 25_000 <= clock.now_us() - start < 27_000


def test_garbled_answer_is_a_card_error_and_the_next_read_works() -> None:
    clock = FakeClock()
    machine, chip = pico_with_reader(clock)
    reader, *_ = build(machine, clock)
    reader.init()
    chip.place(Card(bytes.fromhex("DEADBEEF")))
    chip.noise = 1
    with pytest.raises(CardError, match="BCC"):
        reader.read_uid()
    # ISO 14443-3: the card was left READY, so the next WUPA sends it back to IDLE unanswered.
    assert reader.read_uid() is None
    assert reader.read_uid() == bytes.fromhex("DEADBEEF")


def test_missing_chip_is_an_os_error_naming_the_wiring() -> None:
    clock = FakeClock()
    machine, chip = pico_with_reader(clock)
    chip.dead = True
    reader, *_ = build(machine, clock)
    with pytest.raises(OSError, match="version 0x00"):
        reader.init()


def test_driver_without_reset_pulse_waits_for_the_oscillator() -> None:
    clock = FakeClock()
    machine, _chip = pico_with_reader(clock)
    reader = MFRC522(machine.SPI(0), machine.Pin(17), None, sleep_ms=clock.sleep_ms)
    with pytest.raises(OSError):
        reader.init()  # RST never driven high: the chip stays powered down


# -- debouncing ----------------------------------------------------------------------------

def test_debouncer_ignores_bounce_and_counts_one_press() -> None:
    d = Debouncer(stable_ms=20)
    events = [d.update(level, t) for t, level in [
        (0, 1), (1, 0), (2, 1), (3, 0), (5, 1), (6, 0),  # contact bounce
        (10, 0), (25, 0), (26, 0), (40, 0), (41, 1), (42, 0), (43, 1), (70, 1), (80, 0)]]
    assert events.count(True) == 1
    assert events.index(True) == 8  # 20 ms after the last bounce at t=6


# -- the puck ------------------------------------------------------------------------------

def test_boot_announces_and_heartbeats(rig) -> None:
    clock, machine, _chip, puck, link = rig
    run_for(puck, clock, 2100)
    frames = link.frames()
    assert frames[0] == ("hello", ["stationpuck", "1.0.0"])
    beats = [args for kind, args in frames if kind == "heartbeat"]
    assert len(beats) == 3
    assert beats[-1][1:] == ["ok", "0"]
    assert machine.pwm(15).duty_u16() == IDLE_RGB[2] * 257


def test_held_card_is_one_event_and_a_new_presentation_another(rig) -> None:
    clock, _machine, chip, puck, link = rig
    run_for(puck, clock, 100)
    link.frames()
    card = Card(bytes.fromhex("04A1B2C3D4E5F6"))
    chip.place(card)
    run_for(puck, clock, 1000)
    assert [a for k, a in link.frames() if k == "card"] == [["04A1B2C3D4E5F6"]]
    assert puck.led.rgb == IDLE_RGB  # the white tap flash is over
    chip.remove()
    run_for(puck, clock, 500)
    chip.place(card)
    run_for(puck, clock, 100)
    assert [a for k, a in link.frames() if k == "card"] == [["04A1B2C3D4E5F6"]]


def test_tap_gives_local_feedback_at_once(rig) -> None:
    clock, machine, chip, puck, _link = rig
    run_for(puck, clock, 60)
    chip.place(Card(bytes.fromhex("DEADBEEF")))
    run_for(puck, clock, 60)
    assert puck.led.rgb == TAP_RGB
    assert (2000, 32768) in machine.pwm(22).history
    assert machine.pwm(22).duty_u16() == 0, "the tick is 40 ms long"


def test_buttons_are_debounced_and_numbered(rig) -> None:
    clock, machine, _chip, puck, link = rig
    run_for(puck, clock, 50)
    link.frames()
    for _ in range(3):  # bounce
        machine.press(11)
        puck.step()
        clock.sleep_ms(2)
        machine.release(11)
        puck.step()
        clock.sleep_ms(2)
    machine.press(11)
    run_for(puck, clock, 200)
    machine.release(11)
    run_for(puck, clock, 100)
    assert [a for k, a in link.frames() if k == "button"] == [["2"]]


def test_light_and_beep_commands(rig) -> None:
    clock, machine, _chip, puck, link = rig
    run_for(puck, clock, 20)
    link.frames()
    link.to_puck += protocol.encode(5, "light", ["00FF00", "300", "solid"])
    link.to_puck += protocol.encode(6, "beep", ["880", "100"])
    run_for(puck, clock, 20)
    assert [f for f in link.frames() if f[0] == "ack"] == [("ack", ["5"]), ("ack", ["6"])]
    assert puck.led.rgb == (0, 255, 0)
    assert machine.pwm(14).duty_u16() == 65535
    assert machine.pwm(22).freq() == 880
    run_for(puck, clock, 150)
    assert machine.pwm(22).duty_u16() == 0, "beep stops after 100 ms"
    run_for(puck, clock, 200)
    assert puck.led.rgb == IDLE_RGB, "light returns to idle after 300 ms"


def test_blink_pattern_alternates(rig) -> None:
    clock, _machine, _chip, puck, link = rig
    link.to_puck += protocol.encode(1, "light", ["FF0000", "0", "blink"])
    seen = set()
    for _ in range(120):
        puck.step()
        clock.sleep_ms(5)
        seen.add(puck.led.rgb)
    assert seen >= {(255, 0, 0), (0, 0, 0)}


@pytest.mark.parametrize(("frame", "reason"), [
    (protocol.encode(9, "light", ["GG0000", "0", "solid"]), "bad-colour"),
    (protocol.encode(9, "light", ["FF0000", "99999", "solid"]), "out-of-range"),
    (protocol.encode(9, "light", ["FF0000", "0", "disco"]), "bad-pattern"),
    (protocol.encode(9, "beep", ["20", "100"]), "out-of-range"),
    (protocol.encode(9, "beep", ["440"]), "wrong-arity"),
    (protocol.encode(9, "explode", []), "unknown-command"),
])
def test_bad_commands_are_refused_and_change_nothing(rig, frame: bytes, reason: str) -> None:
    clock, machine, _chip, puck, link = rig
    run_for(puck, clock, 20)
    link.frames()
    before = (puck.led.rgb, machine.pwm(22).duty_u16())
    link.to_puck += frame
    run_for(puck, clock, 20)
    assert ("nak", ["9", reason]) in link.frames()
    assert (puck.led.rgb, machine.pwm(22).duty_u16()) == before


def test_garbled_command_is_refused(rig) -> None:
    clock, _machine, _chip, puck, link = rig
    good = protocol.encode(3, "light", ["FF0000", "0", "solid"])
    link.to_puck += good.replace(b"FF0000", b"FF0001")
    run_for(puck, clock, 20)
    assert ("nak", ["-", "bad-checksum"]) in link.frames()
    assert puck.led.rgb == IDLE_RGB and puck.bad_frames == 1


def test_reader_fault_is_reported_and_recovers(rig) -> None:
    clock, _machine, chip, puck, link = rig
    run_for(puck, clock, 100)
    chip.dead = True  # module unplugged
    run_for(puck, clock, 1500)
    beats = [a for k, a in link.frames() if k == "heartbeat"]
    assert beats[-1][1] == "reader-fault"
    assert {puck.led.rgb for _ in range(1)} <= {FAULT_RGB, (0, 0, 0)}
    chip.dead = False
    run_for(puck, clock, 3000)
    assert [a for k, a in link.frames() if k == "heartbeat"][-1][1] == "ok"
    chip.place(Card(bytes.fromhex("CAFEF00D")))
    run_for(puck, clock, 100)
    assert ("card", ["CAFEF00D"]) in link.frames()


def test_garbled_reads_are_counted_not_reported_as_cards(rig) -> None:
    clock, _machine, chip, puck, link = rig
    chip.place(Card(bytes.fromhex("DEADBEEF")))
    chip.noise = 3
    run_for(puck, clock, 1100)
    frames = link.frames()
    assert [a for k, a in frames if k == "card"] == [["DEADBEEF"]]
    assert puck.garbled_reads == 3
    assert [a for k, a in frames if k == "heartbeat"][-1][2] == "3"
