"""Our MFRC522 driver, run through gpiozero's mock SPI bus against the emulated chip."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from kiosk.readers import emulated_mfrc522 as emu
from kiosk.readers.emulated_mfrc522 import EmulatedMFRC522, attach_to_mock_factory
from kiosk.readers.mfrc522_spi import MFRC522Reader
from stations.errors import ReaderError


@pytest.fixture
def factory():
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    saved = Device.pin_factory
    factory = MockFactory()
    # gpiozero's software SPI bus builds its pins on Device.pin_factory, whatever the
    # interface was given (SPISoftwareBus); the mock bus needs it set.
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = saved


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture(params=["irq", "polling"])
def rig(request, factory):
    """(chip, reader) wired on SPI0 CE0, RST GPIO25, IRQ GPIO24 or no IRQ line."""
    irq = 24 if request.param == "irq" else None
    chip = EmulatedMFRC522()
    spi_dev = attach_to_mock_factory(chip, factory, irq_pin=irq)
    clock = Clock()
    reader = MFRC522Reader(pin_factory=factory, irq_pin=irq, poll_interval_s=0.02,
                           clock=clock)
    reader.clock_offset = clock
    reader.open()
    assert reader._recover()
    yield chip, reader
    reader.close()
    chip.close()
    spi_dev.close()


def uids(reader) -> list[str]:
    return sorted(u.hex().upper() for u in reader.chip.scan())


def test_init_configures_timer_antenna_and_irq(rig) -> None:
    chip, reader = rig
    assert reader.version == 0x92
    assert chip.regs[emu.TMODE] == 0x80  # TAuto
    assert chip.regs[emu.TXCONTROL] & 0x03 == 0x03  # antenna on
    assert chip.regs[emu.COMIEN] == 0x80 | emu.RX_IRQ | emu.TIMER_IRQ
    assert reader.healthy


@pytest.mark.parametrize("uid", ["04A1B2C3", "04112233445566", "0411223344556677889A"])
def test_reads_4_7_and_10_byte_uids(rig, uid) -> None:
    chip, reader = rig
    chip.place(uid)
    assert uids(reader) == [uid]


def test_no_card_no_uid(rig) -> None:
    assert uids(rig[1]) == []


@pytest.mark.parametrize(("a", "b"), [
    ("11223344", "11223345"),  # collide in the last UID bit of level 1
    ("80FFFFFF", "00FFFFFF"),  # collide in the last bit of the first byte
    ("04112233445566", "04112233445567"),  # identical level 1, collide at level 2
    ("04112233445566", "A1B2C3D4"),  # a 7-byte and a 4-byte card together
])
def test_two_cards_at_once_are_both_resolved(rig, a, b) -> None:
    chip, reader = rig
    chip.place(a)
    chip.place(b)
    assert uids(reader) == sorted([a, b])
    # Both were halted; the next scan wakes them with WUPA and finds them again.
    assert uids(reader) == sorted([a, b])


def test_three_cards(rig) -> None:
    chip, reader = rig
    for uid in ("01020304", "01020305", "81020304"):
        chip.place(uid)
    assert uids(reader) == ["01020304", "01020305", "81020304"]


def test_held_card_is_one_tap_and_again_after_the_repeat_window(rig) -> None:
    chip, reader = rig
    taps = []
    chip.place("04A1B2C3")
    for _ in range(5):
        reader.poll_once(taps.append)
    assert [t.badge for t in taps] == ["04A1B2C3"]
    chip.remove("04A1B2C3")
    reader.poll_once(taps.append)
    chip.place("04A1B2C3")
    reader.poll_once(taps.append)
    assert len(taps) == 1  # back within 3 s: not a second check-in
    reader.clock_offset.offset += 3.5
    reader.poll_once(taps.append)
    assert len(taps) == 2


def test_garbage_card_gives_no_tap_and_keeps_the_reader_healthy(rig, caplog) -> None:
    chip, reader = rig
    chip.place("04A1B2C3", garbage=True)
    taps = []
    with caplog.at_level(logging.WARNING):
        reader.poll_once(taps.append)
    assert taps == []
    assert reader.garbled == 1
    assert reader.healthy
    assert "unreadable card" in caplog.text


def test_garbage_card_does_not_hide_a_good_one_for_ever(rig) -> None:
    chip, reader = rig
    chip.place("04A1B2C3")
    assert uids(reader) == ["04A1B2C3"]


class VirtualClock:
    """Time that passes only when the code under test sleeps: what a scan costs in transfers
    and sleeps is then the same on a fast PC and under emulation."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_idle_poll_without_irq_is_a_handful_of_transfers_and_sleeps(factory) -> None:
    clock = VirtualClock()
    chip = EmulatedMFRC522(clock=clock)
    spi_dev = attach_to_mock_factory(chip, factory, irq_pin=None)
    reader = MFRC522Reader(pin_factory=factory, irq_pin=None, clock=clock)
    reader.open().sleep = clock.sleep
    try:
        assert reader._recover()
        reader.chip.scan()  # the first exchange also sets the CRC mode registers
        clock.sleeps.clear()
        before, started = reader.chip.transfers, clock()
        for _ in range(5):
            assert reader.chip.scan() == []
        per_scan = (reader.chip.transfers - before) / 5
        # WUPA set-up and read-back, and a status read after each sleep.
        assert per_scan <= 14
        # Each exchange ends on the chip's 10 ms timer: the driver slept until then, in a few
        # growing steps rather than spinning on the status register.
        assert clock() - started >= 5 * 0.010
        assert sum(clock.sleeps) >= 5 * 0.010
        assert len(clock.sleeps) <= 5 * 6
    finally:
        reader.close()
        chip.close()
        spi_dev.close()


def test_idle_poll_with_irq_waits_on_the_line_without_sleeping(factory) -> None:
    chip = EmulatedMFRC522()
    spi_dev = attach_to_mock_factory(chip, factory, irq_pin=24)
    reader = MFRC522Reader(pin_factory=factory, irq_pin=24)
    reader.open()
    try:
        assert reader._recover()
        sleeps: list[float] = []
        reader.chip.sleep = sleeps.append  # any sleep at all would be a bug here
        reader.chip.scan()
        before = reader.chip.transfers
        for _ in range(5):
            assert reader.chip.scan() == []
        # WUPA set-up and read-back, and one status read when the IRQ line says it is done.
        assert (reader.chip.transfers - before) / 5 <= 9
        assert sleeps == []
    finally:
        reader.close()
        chip.close()
        spi_dev.close()


def test_reader_thread_reports_taps_and_closes(rig) -> None:
    chip, reader = rig
    got = threading.Event()
    taps = []
    reader.start(lambda tap: (taps.append(tap), got.set()))
    chip.place("04112233445566")
    assert got.wait(2)
    assert taps[0].badge == "04112233445566" and taps[0].reader == "mfrc522"
    reader.close()
    reader.close()
    assert not reader.healthy


def wait_for(predicate, timeout=3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_hung_chip_is_a_fault_then_a_hard_reset_brings_it_back(rig, factory, caplog) -> None:
    chip, reader = rig
    reader.health_interval_s = 0.05
    reader.start(lambda tap: None)
    assert wait_for(lambda: reader.healthy)
    factory.pin(25).clear_states()
    with caplog.at_level(logging.INFO):
        chip.hang()
        assert wait_for(lambda: not reader.healthy)
        assert wait_for(lambda: reader.healthy)
    # NRSTPD went low and back high: the hard reset that cleared the latch-up.
    states = [s.state for s in factory.pin(25).states]
    assert False in states and states[-1] is True
    assert "reader fault" in caplog.text


def test_disconnected_chip_stays_faulty_until_it_answers(rig) -> None:
    chip, reader = rig
    reader.health_interval_s = 0.05
    reader.start(lambda tap: None)
    chip.disconnect()
    assert wait_for(lambda: not reader.healthy)
    time.sleep(0.3)
    assert not reader.healthy
    chip.reconnect()
    assert wait_for(lambda: reader.healthy, timeout=5)


def test_open_fails_clearly_when_a_pin_is_taken(factory) -> None:
    from gpiozero import LED

    chip = EmulatedMFRC522()
    dev = attach_to_mock_factory(chip, factory)
    led = LED(25, pin_factory=factory)
    try:
        with pytest.raises(ReaderError, match="reset 25"):
            MFRC522Reader(pin_factory=factory).open()
    finally:
        led.close()
        dev.close()
        chip.close()
