"""The emulated MFRC522 behaves as the datasheet says, so driver tests against it mean something."""

from __future__ import annotations

import time

import pytest

from kiosk.readers import emulated_mfrc522 as emu
from kiosk.readers.emulated_mfrc522 import EmulatedMFRC522, cascade_levels, crc_a


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def chip(clock: ManualClock) -> EmulatedMFRC522:
    chip = EmulatedMFRC522(clock=clock)
    clock.now += emu.STARTUP_S
    return chip


def rd(chip: EmulatedMFRC522, reg: int) -> int:
    return chip.transfer([0x80 | reg << 1, 0])[1]


def wr(chip: EmulatedMFRC522, reg: int, *values: int) -> None:
    chip.transfer([reg << 1, *values])


def transceive(chip, clock, data, last_bits=0, align=0, wait=0.005):
    wr(chip, emu.COMIRQ, 0x7F)
    wr(chip, emu.FIFOLEVEL, 0x80)
    wr(chip, emu.FIFODATA, *data)
    wr(chip, emu.COMMAND, emu.CMD_TRANSCEIVE)
    wr(chip, emu.BITFRAMING, 0x80 | align << 4 | last_bits)
    clock.now += wait
    irq = rd(chip, emu.COMIRQ)
    n = rd(chip, emu.FIFOLEVEL)
    data = chip.transfer([0x80 | emu.FIFODATA << 1] * n + [0])[1:]
    wr(chip, emu.COMMAND, emu.CMD_IDLE)
    return irq, bytes(data)


def test_reset_values_and_version(chip: EmulatedMFRC522) -> None:
    assert rd(chip, emu.VERSION) == 0x92
    assert rd(chip, emu.COMMAND) == 0x20
    assert rd(chip, emu.COMIRQ) == 0x14
    assert rd(chip, emu.STATUS1) == 0x21
    assert rd(chip, emu.COLL) == 0xA0


def test_spi_is_silent_during_oscillator_startup(clock: ManualClock) -> None:
    chip = EmulatedMFRC522(clock=clock)
    assert rd(chip, emu.VERSION) == 0x00
    clock.now += emu.STARTUP_S
    assert rd(chip, emu.VERSION) == 0x92


def test_read_frame_returns_each_address_one_byte_later(chip: EmulatedMFRC522) -> None:
    out = chip.transfer([0x80 | emu.VERSION << 1, 0x80 | emu.COMMAND << 1, 0])
    assert out == [0, 0x92, 0x20]


def test_fifo_write_level_read_flush_and_overflow(chip: EmulatedMFRC522) -> None:
    wr(chip, emu.FIFODATA, 1, 2, 3)
    assert rd(chip, emu.FIFOLEVEL) == 3
    assert rd(chip, emu.FIFODATA) == 1
    assert rd(chip, emu.FIFOLEVEL) == 2
    wr(chip, emu.FIFOLEVEL, 0x80)
    assert rd(chip, emu.FIFOLEVEL) == 0
    wr(chip, emu.FIFODATA, *range(65))
    assert rd(chip, emu.FIFOLEVEL) == 64
    assert rd(chip, emu.ERROR) & emu.BUFFER_OVFL
    wr(chip, emu.FIFOLEVEL, 0x80)
    assert not rd(chip, emu.ERROR) & emu.BUFFER_OVFL


def test_irq_register_set_and_clear_by_bit7(chip: EmulatedMFRC522) -> None:
    wr(chip, emu.COMIRQ, 0x7F)
    assert rd(chip, emu.COMIRQ) == 0x00  # LoAlertIRq stores an event; it is not a level
    wr(chip, emu.COMIRQ, 0x80 | emu.TIMER_IRQ)
    assert rd(chip, emu.COMIRQ) & emu.TIMER_IRQ
    wr(chip, emu.COMIRQ, emu.TIMER_IRQ)
    assert not rd(chip, emu.COMIRQ) & emu.TIMER_IRQ


@pytest.mark.parametrize(("data", "crc"), [([0x00, 0x00], 0x1EA0), ([0x12, 0x34], 0xCF26)])
def test_calccrc_gives_iso14443_crc_a(chip: EmulatedMFRC522, data, crc) -> None:
    # Example values of ISO/IEC 14443-3 annex B.
    assert crc_a(data) == crc
    wr(chip, emu.MODE, 0x3D)
    wr(chip, emu.FIFODATA, *data)
    wr(chip, emu.COMMAND, emu.CMD_CALCCRC)
    assert rd(chip, emu.DIVIRQ) & emu.CRC_IRQ
    assert rd(chip, emu.CRCRESULT_H) << 8 | rd(chip, emu.CRCRESULT_L) == crc


def test_timer_runs_for_the_datasheet_period(chip: EmulatedMFRC522, clock) -> None:
    wr(chip, emu.TMODE, 0x80)
    wr(chip, emu.TPRESCALER, 169)  # 25 us a tick
    wr(chip, emu.TRELOAD_H, 0)
    wr(chip, emu.TRELOAD_L, 199)  # (2*169+1)*(199+1)/13.56 MHz = 5.0 ms
    wr(chip, emu.COMIRQ, 0x7F)
    wr(chip, emu.CONTROL, 0x40)  # TStartNow
    assert rd(chip, emu.STATUS1) & 0x08  # TRunning
    clock.now += 0.0049
    assert not rd(chip, emu.COMIRQ) & emu.TIMER_IRQ
    assert 0 < rd(chip, emu.TCOUNTER_L) < 10
    clock.now += 0.0002
    assert rd(chip, emu.COMIRQ) & emu.TIMER_IRQ
    assert not rd(chip, emu.STATUS1) & 0x08


def test_softreset_reads_powerdown_until_the_oscillator_runs(chip, clock) -> None:
    wr(chip, emu.TMODE, 0x8D)
    wr(chip, emu.COMMAND, emu.CMD_SOFTRESET)
    assert rd(chip, emu.COMMAND) & 0x10
    assert rd(chip, emu.TMODE) == 0x00
    clock.now += emu.STARTUP_S
    assert rd(chip, emu.COMMAND) == 0x20


def test_cascade_levels_carry_tags_and_bcc() -> None:
    assert cascade_levels(bytes.fromhex("01020304")) == [[1, 2, 3, 4, 4]]
    seven = cascade_levels(bytes.fromhex("04112233445566"))
    assert seven == [[0x88, 0x04, 0x11, 0x22, 0x88 ^ 0x04 ^ 0x11 ^ 0x22],
                     [0x33, 0x44, 0x55, 0x66, 0x33 ^ 0x44 ^ 0x55 ^ 0x66]]
    ten = cascade_levels(bytes(range(10)))
    assert [level[0] for level in ten] == [0x88, 0x88, 6]
    with pytest.raises(ValueError):
        cascade_levels(b"\x01\x02\x03")


def _antenna(chip) -> None:
    wr(chip, emu.TMODE, 0x80)
    wr(chip, emu.TPRESCALER, 169)
    wr(chip, emu.TRELOAD_L, 200)
    wr(chip, emu.TXCONTROL, 0x83)


def test_reqa_atqa_then_card_falls_back_to_idle(chip, clock) -> None:
    _antenna(chip)
    chip.place("04A1B2C3")
    irq, data = transceive(chip, clock, [emu.REQA], last_bits=7)
    assert irq & emu.RX_IRQ and data == bytes([0x04, 0x00])
    # READY card: a second REQA is not expected, it goes back to IDLE silently.
    irq, data = transceive(chip, clock, [emu.REQA], last_bits=7, wait=0.02)
    assert irq & emu.TIMER_IRQ and not irq & emu.RX_IRQ and data == b""
    irq, data = transceive(chip, clock, [emu.REQA], last_bits=7)
    assert data == bytes([0x04, 0x00])


def test_no_card_ends_with_timer_irq_not_rx(chip, clock) -> None:
    _antenna(chip)
    irq, _ = transceive(chip, clock, [emu.WUPA], last_bits=7, wait=0.004)
    assert not irq & (emu.TIMER_IRQ | emu.RX_IRQ)  # 5 ms timer still running
    clock.now += 0.002
    assert rd(chip, emu.COMIRQ) & emu.TIMER_IRQ


def test_antenna_off_means_no_answer(chip, clock) -> None:
    chip.place("04A1B2C3")
    wr(chip, emu.TMODE, 0x80)
    wr(chip, emu.TPRESCALER, 169)
    wr(chip, emu.TRELOAD_L, 200)
    irq, data = transceive(chip, clock, [emu.REQA], last_bits=7, wait=0.01)
    assert data == b"" and irq & emu.TIMER_IRQ


def test_two_cards_collide_at_the_first_differing_bit(chip, clock) -> None:
    _antenna(chip)
    wr(chip, emu.COLL, 0x00)
    chip.place("11223344")
    chip.place("11223345")  # differs in bit 0 of byte 3: CLn bit 25
    transceive(chip, clock, [emu.WUPA], last_bits=7)
    irq, data = transceive(chip, clock, [0x93, 0x20])
    assert irq & emu.ERR_IRQ
    assert rd(chip, emu.ERROR) & emu.COLL_ERR
    assert rd(chip, emu.COLL) & 0x3F == 25
    assert data[:3] == bytes.fromhex("112233")


def test_select_hlta_and_wupa_wake_from_halt(chip, clock) -> None:
    _antenna(chip)
    chip.place("04A1B2C3")
    transceive(chip, clock, [emu.REQA], last_bits=7)
    _, cl = transceive(chip, clock, [0x93, 0x20])
    assert cl == bytes.fromhex("04A1B2C3") + bytes([0x04 ^ 0xA1 ^ 0xB2 ^ 0xC3])
    wr(chip, emu.TXMODE, 0x80)
    wr(chip, emu.RXMODE, 0x80)
    _, sak = transceive(chip, clock, [0x93, 0x70, *cl])
    assert sak == b"\x08"
    transceive(chip, clock, [emu.HLTA, 0x00], wait=0.02)
    wr(chip, emu.TXMODE, 0)
    wr(chip, emu.RXMODE, 0)
    assert transceive(chip, clock, [emu.REQA], last_bits=7, wait=0.02)[1] == b""
    assert transceive(chip, clock, [emu.WUPA], last_bits=7)[1] == b"\x04\x00"


def test_hang_until_hard_reset(chip, clock) -> None:
    chip.hang()
    assert rd(chip, emu.VERSION) == 0
    chip.set_reset_line(False)
    chip.set_reset_line(True)
    clock.now += emu.STARTUP_S
    assert rd(chip, emu.VERSION) == 0x92


def test_irq_pin_follows_the_timer_in_real_time() -> None:
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    chip = EmulatedMFRC522()
    try:
        chip.irq_pin = factory.pin(24)
        chip.irq_pin.pull = "up"
        time.sleep(emu.STARTUP_S)
        wr(chip, emu.COMIEN, 0x80 | emu.TIMER_IRQ)  # active low
        wr(chip, emu.COMIRQ, 0x7F)
        assert chip.irq_pin.state
        wr(chip, emu.TMODE, 0x80)
        wr(chip, emu.TPRESCALER, 169)
        wr(chip, emu.TRELOAD_L, 199)  # 5 ms
        started = time.monotonic()
        wr(chip, emu.CONTROL, 0x40)
        deadline = started + 1
        while chip.irq_pin.state and time.monotonic() < deadline:
            time.sleep(0.001)
        assert not chip.irq_pin.state  # pulled low without any SPI traffic
        assert time.monotonic() - started >= 0.005
        wr(chip, emu.COMIRQ, emu.TIMER_IRQ)
        assert chip.irq_pin.state
    finally:
        chip.close()
