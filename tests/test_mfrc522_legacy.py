"""The mfrc522 package (0.0.7) backend, running the package's own code against the emulated chip.

The package imports ``spidev`` and ``RPi.GPIO``; the test (never the product) puts stand-ins
for those two modules in ``sys.modules`` that reach the emulated MFRC522.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time

import pytest

from kiosk.readers.emulated_mfrc522 import EmulatedMFRC522, legacy_shim_modules
from kiosk.readers.mfrc522_legacy import LegacyMFRC522Reader

# Only look for it: importing it here would import the real RPi.GPIO.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("mfrc522") is None,
                                reason="the mfrc522 package (test dependency) is not installed")


@pytest.fixture
def chip():
    chip = EmulatedMFRC522()
    time.sleep(0.002)  # oscillator start-up
    yield chip
    chip.close()


@pytest.fixture
def shims(chip, monkeypatch):
    modules = legacy_shim_modules(chip)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    # Make the package bind to the stand-ins, not to whatever an earlier import found.
    for name in [n for n in sys.modules if n == "mfrc522" or n.startswith("mfrc522.")]:
        monkeypatch.delitem(sys.modules, name)
    return modules


@pytest.fixture
def reader(shims):
    reader = LegacyMFRC522Reader()
    reader.open()
    yield reader
    reader.close()


def test_reads_a_4_byte_uid_as_our_driver_does(chip, reader) -> None:
    taps = []
    chip.place("04A1B2C3")
    reader.poll_once(taps.append)
    assert [t.badge for t in taps] == ["04A1B2C3"]
    assert taps[0].reader == "mfrc522-legacy"


def test_idle_poll_spins_on_2000_register_reads(chip, reader, shims) -> None:
    spidev = shims["spidev"]
    before = spidev.transfers
    reader.poll_once(lambda tap: None)
    # The package's wait loop ignores the chip's TimerIRq and runs its 2000 reads down.
    assert spidev.transfers - before >= 2000
    from kiosk.readers import emulated_mfrc522 as emu

    time.sleep(0.02)
    assert chip.transfer([0x80 | emu.COMIRQ << 1, 0])[1] & emu.TIMER_IRQ


def test_seven_byte_uid_comes_back_truncated_and_is_refused(chip, reader, caplog) -> None:
    taps = []
    chip.place("04112233445566")
    with caplog.at_level(logging.ERROR):
        reader.poll_once(taps.append)
    assert taps == []
    assert "cascade tag 88h" in caplog.text


def test_legacy_decimal_matches_simplemfrc522_numbers(chip, shims) -> None:
    from mfrc522 import SimpleMFRC522

    chip.place("04A1B2C3")
    simple = SimpleMFRC522()
    expected = simple.read_id()  # the package's own blocking loop returns with a card there
    reader = LegacyMFRC522Reader(id_format="legacy-decimal")
    reader.open()
    try:
        taps = []
        for _ in range(2):  # a READY card sits out one REQA
            reader.poll_once(taps.append)
        assert [t.badge for t in taps] == [str(expected)]
        assert expected == int("04A1B2C3", 16) * 256 + (0x04 ^ 0xA1 ^ 0xB2 ^ 0xC3)
    finally:
        reader.close()


def test_held_card_is_seen_every_other_poll_and_is_one_tap(chip, reader) -> None:
    chip.place("04A1B2C3")
    seen = []
    for _ in range(4):
        status, _ = reader.device.MFRC522_Request(reader.device.PICC_REQIDL)
        seen.append(status == reader.device.MI_OK)
        if seen[-1]:
            reader.device.MFRC522_Anticoll()
    assert seen == [True, False, True, False]
    taps = []
    for _ in range(6):
        reader.poll_once(taps.append)
    assert len(taps) == 1


def test_two_cards_fail_the_poll(chip, reader) -> None:
    chip.place("11223344")
    chip.place("11223345")
    taps = []
    for _ in range(3):
        reader.poll_once(taps.append)
    assert taps == []


def test_package_default_reset_pin_under_bcm_is_gpio15(shims) -> None:
    gpio = shims["RPi.GPIO"]
    gpio.setmode(gpio.BCM)  # as another library on the station may already have done
    from mfrc522 import MFRC522

    MFRC522()
    assert 15 in gpio.outputs and 25 not in gpio.outputs  # UART RX, not the RST line


@pytest.mark.parametrize("mode", [None, "BCM", "BOARD"])
def test_our_backend_always_drives_gpio25(shims, mode) -> None:
    gpio = shims["RPi.GPIO"]
    if mode:
        gpio.setmode(getattr(gpio, mode))
    reader = LegacyMFRC522Reader()
    reader.open()
    try:
        assert gpio.outputs.get(25) is True
        assert 15 not in gpio.outputs
    finally:
        reader.close()


def test_hung_chip_is_a_fault_and_a_reset_through_rst_recovers(chip, reader) -> None:
    reader.health_interval_s = 0.05
    reader.poll_interval_s = 0.02
    got = threading.Event()
    chip.place("04A1B2C3")
    chip.hang()
    reader._probe()
    assert reader.healthy  # the GPIO25 reset pulse cleared the latch-up at once
    reader.start(lambda tap: got.set())
    assert got.wait(2)


def test_disconnected_chip_is_unhealthy(chip, reader) -> None:
    chip.disconnect()
    reader._probe()
    assert not reader.healthy
    chip.reconnect()
    reader._probe()
    assert reader.healthy
