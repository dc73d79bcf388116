"""An emulated NXP MFRC522 and ISO/IEC 14443-3 type A cards, for tests, the demo and benchmarks.

The chip is modelled at the SPI-frame level after the MFRC522 datasheet (rev. 3.9): the 64
registers with their reset values, the 64-byte FIFO and its water level, the Set1/Set2
semantics of the interrupt request registers, the commands Idle, Mem, GenerateRandomID,
CalcCRC, Transmit, Receive, Transceive and SoftReset, the timer (prescaler, reload, TAuto,
TAutoRestart, TStartNow/TStopNow), bit-oriented frames (TxLastBits, RxAlign, RxLastBits), bit
collisions (CollErr, CollPos, ValuesAfterColl), CRC_A on transmit and receive, the IRQ pin
(open drain or push-pull, IRqInv), the NRSTPD reset pin and the oscillator start-up time.

Events on the air happen at the times the real part would take: 106 kbit/s bit times
(128/fc), the PCD-to-PICC frame delay of 1172/fc, and the timer period
``(2 * TPrescaler + 1) * (TReload + 1) / 13.56 MHz``. They are applied lazily on every SPI
access and by a timer thread, so the IRQ pin changes on time even when nobody reads.

Three ways to reach it:

* :class:`MFRC522MockSPIDevice`, a :class:`gpiozero.pins.mock.MockSPIDevice` that answers on
  a :class:`~gpiozero.pins.mock.MockFactory`'s bit-banged SPI bus, bit by bit;
* :meth:`EmulatedMFRC522.transfer`, one chip-select frame of bytes, what ``spidev`` does;
* :func:`legacy_shim_modules`, stand-ins for the ``spidev`` and ``RPi.GPIO`` modules that a
  test (never the product) puts in ``sys.modules`` to run the ``mfrc522`` package.

Cards: :meth:`EmulatedMFRC522.place` and :meth:`EmulatedMFRC522.remove`. Faults:
:meth:`EmulatedMFRC522.hang` (stuck until a hard reset), :meth:`EmulatedMFRC522.disconnect`.

One interpretation the datasheet leaves open: CollPos counts bit positions from bit 0 of the
first received FIFO byte, so it includes the RxAlign offset (which is how the NXP application
note and the common Arduino driver use it for the first anticollision round).
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

FC_HZ = 13_560_000
BIT_S = 128 / FC_HZ  # one bit at 106 kbit/s
FDT_S = 1172 / FC_HZ  # PCD-to-PICC frame delay time for the activation commands
STARTUP_S = 0.001 + 37.74e-6  # crystal start-up (typical) plus the datasheet's 37.74 us

# Registers (datasheet section 9.2).
COMMAND, COMIEN, DIVIEN, COMIRQ, DIVIRQ, ERROR, STATUS1, STATUS2 = range(0x01, 0x09)
FIFODATA, FIFOLEVEL, WATERLEVEL, CONTROL, BITFRAMING, COLL = range(0x09, 0x0F)
MODE, TXMODE, RXMODE, TXCONTROL = 0x11, 0x12, 0x13, 0x14
CRCRESULT_H, CRCRESULT_L = 0x21, 0x22
TMODE, TPRESCALER, TRELOAD_H, TRELOAD_L, TCOUNTER_H, TCOUNTER_L = range(0x2A, 0x30)
VERSION = 0x37

RESET_VALUES = {
    0x01: 0x20, 0x02: 0x80, 0x04: 0x14, 0x07: 0x21, 0x0B: 0x08, 0x0C: 0x10, 0x0E: 0xA0,
    0x11: 0x3F, 0x14: 0x80, 0x16: 0x10, 0x17: 0x84, 0x18: 0x84, 0x19: 0x4D, 0x1C: 0x62,
    0x1F: 0xEB, 0x21: 0xFF, 0x22: 0xFF, 0x24: 0x26, 0x26: 0x48, 0x27: 0x88, 0x28: 0x20,
    0x29: 0x20, 0x36: 0x40,
}

CMD_IDLE, CMD_MEM, CMD_RANDOM, CMD_CALCCRC = 0x0, 0x1, 0x2, 0x3
CMD_TRANSMIT, CMD_NOCHANGE, CMD_RECEIVE = 0x4, 0x7, 0x8
CMD_TRANSCEIVE, CMD_AUTHENT, CMD_SOFTRESET = 0xC, 0xE, 0xF

# ComIrqReg bits
TX_IRQ, RX_IRQ, IDLE_IRQ, HIALERT_IRQ, LOALERT_IRQ, ERR_IRQ, TIMER_IRQ = (
    0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01)
CRC_IRQ = 0x04  # DivIrqReg
# ErrorReg bits
BUFFER_OVFL, COLL_ERR, CRC_ERR, PARITY_ERR, PROTOCOL_ERR = 0x10, 0x08, 0x04, 0x02, 0x01

REQA, WUPA, HLTA = 0x26, 0x52, 0x50
SEL = (0x93, 0x95, 0x97)
CASCADE_TAG = 0x88


def crc_a(data: Iterable[int], preset: int = 0x6363) -> int:
    """ISO/IEC 14443-3 CRC_A (the MFRC522's CalcCRC with preset 6363h); LSB is sent first."""
    crc = preset
    for byte in data:
        byte ^= crc & 0xFF
        byte = (byte ^ (byte << 4)) & 0xFF
        crc = ((crc >> 8) ^ (byte << 8) ^ (byte << 3) ^ (byte >> 4)) & 0xFFFF
    return crc


def bcc(data: Iterable[int]) -> int:
    out = 0
    for byte in data:
        out ^= byte
    return out


def _bits(data: Iterable[int], nbits: int | None = None) -> list[int]:
    """Bytes to bits, LSB first within each byte (the order they go on the air)."""
    out = [(byte >> i) & 1 for byte in data for i in range(8)]
    return out if nbits is None else out[:nbits]


def _bytes(bits: list[int]) -> list[int]:
    out = []
    for i in range(0, len(bits), 8):
        out.append(sum(bit << n for n, bit in enumerate(bits[i:i + 8])))
    return out


def cascade_levels(uid: bytes) -> list[list[int]]:
    """The UID CLn fields (four bytes plus BCC each) a card answers with, level by level."""
    if len(uid) == 4:
        parts = [list(uid)]
    elif len(uid) == 7:
        parts = [[CASCADE_TAG, *uid[:3]], list(uid[3:])]
    elif len(uid) == 10:
        parts = [[CASCADE_TAG, *uid[:3]], [CASCADE_TAG, *uid[3:6]], list(uid[6:])]
    else:
        raise ValueError(f"a type A UID has 4, 7 or 10 bytes, not {len(uid)}")
    return [[*p, bcc(p)] for p in parts]


@dataclass
class Card:
    """An ISO/IEC 14443-3 type A card: the state machine of clause 6 (IDLE, READY, ACTIVE, HALT).

    ``garbage`` makes a damaged card: it answers REQA/WUPA but its anticollision answers are
    noise with parity errors, so it can never be selected.
    """

    uid: bytes
    sak: int | None = None
    atqa: int | None = None
    garbage: bool = False
    state: str = "off"
    level: int = 0
    halted: bool = False  # came from HALT: READY* / ACTIVE*
    _rng: random.Random = field(default_factory=lambda: random.Random(1234), repr=False)

    def __post_init__(self) -> None:
        self.levels = cascade_levels(self.uid)
        if self.sak is None:
            self.sak = {4: 0x08, 7: 0x00, 10: 0x20}[len(self.uid)]
        if self.atqa is None:
            self.atqa = {4: 0x0004, 7: 0x0044, 10: 0x0084}[len(self.uid)]

    def power(self, on: bool) -> None:
        self.state = "idle" if on else "off"
        self.halted = False

    def _fallback(self) -> None:
        # Any unexpected frame sends a card back to IDLE, or to HALT if it was woken from there.
        self.state = "halt" if self.halted else "idle"

    def receive(self, bits: list[int]) -> tuple[list[int], bool] | None:
        """Handle one PCD frame; return (answer bits, parity error) or None for silence."""
        if self.state == "off":
            return None
        if len(bits) == 7:
            cmd = _bytes(bits)[0]
            if (cmd == REQA and self.state == "idle") or (
                    cmd == WUPA and self.state in ("idle", "halt")):
                self.halted = self.state == "halt"
                self.state, self.level = "ready", 0
                return _bits([self.atqa & 0xFF, self.atqa >> 8]), False
            if self.state in ("ready", "active"):
                self._fallback()
            return None
        if len(bits) < 16:
            self._fallback()
            return None
        head = _bytes(bits[:16])
        if head == [HLTA, 0x00] and len(bits) == 32:
            if self.state == "active" and crc_a(_bytes(bits)) == 0:
                self.state, self.halted = "halt", True
            elif self.state != "halt":
                self._fallback()
            return None
        if self.state != "ready" or head[0] != SEL[self.level]:
            if self.state in ("ready", "active"):
                self._fallback()
            return None
        nvb = head[1]
        known = ((nvb >> 4) - 2) * 8 + (nvb & 0x0F)
        cln = self.levels[self.level]
        if nvb == 0x70 and len(bits) == 72:
            frame = _bytes(bits)
            if crc_a(frame) != 0 or frame[2:7] != cln or self.garbage:
                return None  # not for this card: stays READY
            last = self.level == len(self.levels) - 1
            sak = self.sak if last else 0x04
            if last:
                self.state = "active"
            else:
                self.level += 1
            crc = crc_a([sak])
            return _bits([sak, crc & 0xFF, crc >> 8]), False
        if not 0 <= known < 40 or len(bits) != 16 + known:
            self._fallback()
            return None
        mine = _bits(cln)
        if bits[16:] != mine[:known]:
            return None  # another card's UID: stay silent, stay READY
        if self.garbage:
            noise = [self._rng.getrandbits(8) for _ in range(5)]
            return _bits(noise)[known:], True
        return mine[known:], False


class EmulatedMFRC522:
    """The chip. Thread-safe; every public method may be called from any thread."""

    def __init__(self, *, version: int = 0x92, clock: Callable[[], float] = time.monotonic,
                 irq_pin=None, reset_pin=None) -> None:
        self.version = version
        self.clock = clock
        self._lock = threading.RLock()
        self._events: list[tuple[float, int, str, Callable[[float], None]]] = []
        self._seq = itertools.count()
        self._wakeup: threading.Timer | None = None
        self.cards: list[Card] = []
        self.irq_pin = irq_pin
        self.reset_pin = reset_pin
        self.powered = True
        self.hung = False
        self.connected = True
        #: Counters a benchmark or test can read.
        self.frames = 0
        self.register_accesses = 0
        self.air_frames = 0
        self._frame_mode: str | None = None
        self._frame_addr = 0
        self._power_on_reset(self.clock())

    # ---- cards and faults -------------------------------------------------------------
    def place(self, uid: bytes | str, **kwargs) -> Card:
        """Put a card in the field (hex string or bytes UID of 4, 7 or 10 bytes)."""
        uid = bytes.fromhex(uid) if isinstance(uid, str) else bytes(uid)
        card = Card(uid, **kwargs)
        with self._lock:
            card.power(self._field_on())
            self.cards.append(card)
        return card

    def remove(self, uid: bytes | str | None = None) -> None:
        """Take a card (or, with no argument, every card) out of the field."""
        with self._lock:
            if uid is None:
                self.cards.clear()
                return
            uid = bytes.fromhex(uid) if isinstance(uid, str) else bytes(uid)
            self.cards = [c for c in self.cards if c.uid != uid]

    def hang(self) -> None:
        """Stop answering on SPI (latch-up, brown-out) until the next hard reset on NRSTPD."""
        with self._lock:
            self.hung = True

    def disconnect(self) -> None:
        """A loose wire: MISO reads 00h and writes are lost until :meth:`reconnect`."""
        with self._lock:
            self.connected = False

    def reconnect(self) -> None:
        with self._lock:
            self.connected = True

    def close(self) -> None:
        with self._lock:
            if self._wakeup is not None:
                self._wakeup.cancel()
            self._events.clear()

    # ---- SPI ----------------------------------------------------------------------------
    def transfer(self, frame: Iterable[int]) -> list[int]:
        """One chip-select frame, full duplex: MISO byte n answers the address in MOSI byte n-1."""
        out = [0]
        self.spi_select()
        for byte in frame:
            out.append(self.spi_byte(byte))
        return out[:-1]

    def spi_select(self) -> None:
        with self._lock:
            self.frames += 1
            self._frame_mode = None

    def spi_byte(self, mosi: int) -> int:
        """Clock one byte in; return the byte the chip will shift out next."""
        with self._lock:
            if not self._answering():
                return 0
            self._advance(self.clock())
            if self._frame_mode is None:
                self._frame_addr = (mosi >> 1) & 0x3F
                self._frame_mode = "read" if mosi & 0x80 else "write"
                if self._frame_mode == "read":
                    return self._read(self._frame_addr)
                return 0
            if self._frame_mode == "read":
                if mosi & 0x80:
                    return self._read((mosi >> 1) & 0x3F)
                return 0  # the closing 00h of a read frame
            self._write(self._frame_addr, mosi)
            return 0

    def _answering(self) -> bool:
        return (self.connected and self.powered and not self.hung
                and self.clock() >= self._ready_at)

    # ---- reset and power ------------------------------------------------------------------
    def _power_on_reset(self, now: float, *, hard: bool = True) -> None:
        self.regs = bytearray(64)
        for addr, value in RESET_VALUES.items():
            self.regs[addr] = value
        self.regs[VERSION] = self.version
        self.fifo = bytearray()
        self.command = CMD_IDLE
        self._events.clear()
        self._timer_running = False
        self._timer_start = now
        self._timer_value = 0
        self._crc_data: list[int] = []
        self._rx_last_bits = 0
        if hard:
            # After NRSTPD rises the SPI interface answers only once the oscillator runs.
            self._ready_at = now + STARTUP_S
            self._internal_buffer = bytearray(25)
        for card in self.cards:
            card.power(False)
        self._update_irq()

    def set_reset_line(self, high: bool) -> None:
        """NRSTPD: low is hard power-down, a rising edge resets and restarts the oscillator."""
        with self._lock:
            if not high:
                self.powered = False
                for card in self.cards:
                    card.power(False)
            elif not self.powered:
                self.powered = True
                self.hung = False
                self._power_on_reset(self.clock())

    # ---- registers ------------------------------------------------------------------------
    def _read(self, addr: int) -> int:
        self.register_accesses += 1
        if addr == FIFODATA:
            value = self.fifo.pop(0) if self.fifo else 0
            self._fifo_changed()
            return value
        if addr == FIFOLEVEL:
            return len(self.fifo)
        if addr == COMMAND:
            return self.regs[COMMAND] & 0x30 | self.command
        if addr == STATUS1:
            return self._status1()
        if addr == CONTROL:
            return 0x10 | self._rx_last_bits
        if addr in (TCOUNTER_H, TCOUNTER_L):
            value = self._timer_now(self.clock())
            return value >> 8 if addr == TCOUNTER_H else value & 0xFF
        return self.regs[addr]

    def _write(self, addr: int, value: int) -> None:
        self.register_accesses += 1
        now = self.clock()
        if addr == FIFODATA:
            if len(self.fifo) >= 64:
                self.regs[ERROR] |= BUFFER_OVFL
                self._set_irq(ERR_IRQ)
            else:
                self.fifo.append(value)
                if self.command == CMD_CALCCRC:
                    self._crc_feed()
            self._fifo_changed()
        elif addr == FIFOLEVEL:
            if value & 0x80:
                self.fifo.clear()
                self.regs[ERROR] &= ~BUFFER_OVFL & 0xFF
                self._fifo_changed()
        elif addr in (COMIRQ, DIVIRQ):
            mask = value & 0x7F
            if value & 0x80:
                self.regs[addr] |= mask
            else:
                self.regs[addr] &= ~mask & 0xFF
        elif addr == COMMAND:
            self.regs[COMMAND] = value & 0x30
            self._start_command(value & 0x0F, now)
        elif addr == CONTROL:
            if value & 0x80:
                self._timer_stop(now)
            if value & 0x40:
                self._timer_start_now(now)
        elif addr == BITFRAMING:
            self.regs[BITFRAMING] = value
            if value & 0x80 and self.command == CMD_TRANSCEIVE:
                self._transmit(now)
        elif addr == TXCONTROL:
            was_on = self._field_on()
            self.regs[TXCONTROL] = value
            if self._field_on() != was_on:
                for card in self.cards:
                    card.power(self._field_on())
        elif addr in (ERROR, STATUS1, VERSION, CRCRESULT_H, CRCRESULT_L,
                      TCOUNTER_H, TCOUNTER_L):
            pass  # read-only
        elif addr == STATUS2:
            self.regs[STATUS2] = (self.regs[STATUS2] & 0x07) | (value & 0xC8)
        else:
            self.regs[addr] = value
        self._update_irq()

    def _field_on(self) -> bool:
        return bool(self.regs[TXCONTROL] & 0x03) and self.powered

    def _status1(self) -> int:
        value = 0
        if self.regs[DIVIRQ] & CRC_IRQ or self.command != CMD_CALCCRC:
            value |= 0x20  # CRCReady
        if self.regs[CRCRESULT_H] == 0 and self.regs[CRCRESULT_L] == 0:
            value |= 0x40  # CRCOk: the CRC result is zero
        if self._irq_active():
            value |= 0x10
        if self._timer_running:
            value |= 0x08
        level, water = len(self.fifo), self.regs[WATERLEVEL] & 0x3F
        if 64 - level <= water:
            value |= 0x02
        if level <= water:
            value |= 0x01
        return value

    def _fifo_changed(self) -> None:
        level, water = len(self.fifo), self.regs[WATERLEVEL] & 0x3F
        if 64 - level <= water:
            self.regs[COMIRQ] |= HIALERT_IRQ
        if level <= water:
            self.regs[COMIRQ] |= LOALERT_IRQ

    def _set_irq(self, bits: int, div: bool = False) -> None:
        self.regs[DIVIRQ if div else COMIRQ] |= bits
        self._update_irq()

    def _irq_active(self) -> bool:
        return bool(self.regs[COMIEN] & self.regs[COMIRQ] & 0x7F
                    or self.regs[DIVIEN] & self.regs[DIVIRQ] & 0x14)

    def _update_irq(self) -> None:
        if self.irq_pin is None:
            return
        # IRqInv (ComIEnReg bit 7, set at reset) makes the line active low. In open-drain mode
        # (DivIEnReg bit 7 clear) the high level comes from the pull-up on the Pi's side.
        if self.irq_pin.function != "input":
            return
        if self._irq_active() != bool(self.regs[COMIEN] & 0x80):
            self.irq_pin.drive_high()
        else:
            self.irq_pin.drive_low()

    # ---- commands ---------------------------------------------------------------------------
    def _start_command(self, cmd: int, now: float) -> None:
        if cmd == CMD_NOCHANGE:
            return
        self._cancel("air")
        self.command = cmd
        if cmd == CMD_IDLE:
            return
        if cmd == CMD_SOFTRESET:
            self._power_on_reset(now, hard=False)
            self.regs[COMMAND] |= 0x10  # PowerDown reads 1 until the oscillator runs
            self._schedule(now + STARTUP_S, "reset", self._softreset_done)
            return
        if cmd == CMD_CALCCRC:
            preset = (0x0000, 0x6363, 0xA671, 0xFFFF)[self.regs[MODE] & 0x03]
            self._crc_preset = preset
            self._crc_data = []
            self.regs[DIVIRQ] &= ~CRC_IRQ & 0xFF
            self._crc_feed()
        elif cmd == CMD_MEM:
            if self.fifo:
                self._internal_buffer = bytearray(self.fifo[:25].ljust(25, b"\0"))
                del self.fifo[:25]
            else:
                self.fifo.extend(self._internal_buffer)
            self._finish_command()
        elif cmd == CMD_RANDOM:
            self._internal_buffer[:10] = random.randbytes(10)
            self._finish_command()
        elif cmd == CMD_TRANSMIT:
            self._transmit(now)
        elif cmd in (CMD_RECEIVE, CMD_TRANSCEIVE, CMD_AUTHENT):
            # Receive waits for a card that never speaks first; MFAuthent needs Crypto1, which
            # the emulated cards lack: both end only by the timer or the host.
            pass
        else:
            self._finish_command()  # unknown command: back to Idle with IdleIRq

    def _softreset_done(self, now: float) -> None:
        self.regs[COMMAND] &= ~0x10 & 0xFF
        self.command = CMD_IDLE

    def _finish_command(self) -> None:
        self.command = CMD_IDLE
        self._set_irq(IDLE_IRQ)

    def _crc_feed(self) -> None:
        self._crc_data.extend(self.fifo)
        self.fifo.clear()
        self._fifo_changed()
        crc = crc_a(self._crc_data, self._crc_preset)
        self.regs[CRCRESULT_H], self.regs[CRCRESULT_L] = crc >> 8, crc & 0xFF
        self._set_irq(CRC_IRQ, div=True)

    # ---- the air interface ----------------------------------------------------------------
    def _transmit(self, now: float) -> None:
        data = list(self.fifo)
        self.fifo.clear()
        self._fifo_changed()
        last_bits = self.regs[BITFRAMING] & 0x07
        nbits = len(data) * 8 - ((8 - last_bits) % 8 if data else 0)
        bits = _bits(data, nbits)
        if self.regs[TXMODE] & 0x80 and nbits % 8 == 0:
            crc = crc_a(data)
            bits += _bits([crc & 0xFF, crc >> 8])
        self.regs[ERROR] &= BUFFER_OVFL  # rx errors clear when the receiver starts
        self.air_frames += 1
        tx_end = now + (len(bits) + len(bits) // 8 + 2) * BIT_S
        self._schedule(tx_end, "air", lambda t, bits=bits: self._tx_done(t, bits))

    def _tx_done(self, now: float, bits: list[int]) -> None:
        self._set_irq(TX_IRQ)
        if self.command == CMD_TRANSMIT:
            self._finish_command()
            return
        if self.regs[TMODE] & 0x80:
            self._timer_start_now(now)
        answers = [a for a in (c.receive(bits) for c in self.cards if self._field_on())
                   if a is not None]
        if not answers:
            return
        longest = max(len(a[0]) for a in answers)
        rx_start = now + FDT_S
        rx_end = rx_start + (longest + longest // 8 + 2) * BIT_S
        if self.regs[TMODE] & 0x80 and not self.regs[RXMODE] & 0x08:
            # TAuto: the timer stops after the fifth received bit, unless it ran out first.
            self._schedule(rx_start + 5 * BIT_S, "air", self._rx_started)
        self._schedule(rx_end, "air", lambda t, answers=answers: self._rx_done(t, answers))

    def _rx_started(self, now: float) -> None:
        self._timer_stop(now)

    def _rx_done(self, now: float, answers: list[tuple[list[int], bool]]) -> None:
        longest = max(len(a[0]) for a in answers)
        bits, coll_at = [], None
        for i in range(longest):
            sent = {a[0][i] for a in answers if i < len(a[0])}
            if len(sent) > 1 and coll_at is None:
                coll_at = i
            bits.append(1 if 1 in sent else 0)
        error = 0
        if any(a[1] for a in answers):
            error |= PARITY_ERR
        align = (self.regs[BITFRAMING] >> 4) & 0x07
        coll = self.regs[COLL] & 0x80 | 0x20
        if coll_at is not None:
            error |= COLL_ERR
            if not self.regs[COLL] & 0x80:
                bits = bits[:coll_at + 1] + [0] * (len(bits) - coll_at - 1)
            pos = align + coll_at + 1
            coll = coll & 0x80 | (pos & 0x1F) if pos <= 32 else coll
        self.regs[COLL] = coll
        stream = [0] * align + bits
        data = _bytes(stream)
        if self.regs[RXMODE] & 0x80 and len(stream) % 8 == 0:
            if len(data) < 3 or crc_a(data) != 0:
                error |= CRC_ERR
            else:
                data = data[:-2]
        self._rx_last_bits = len(stream) % 8
        for byte in data:
            if len(self.fifo) >= 64:
                error |= BUFFER_OVFL
                break
            self.fifo.append(byte)
        self._fifo_changed()
        self.regs[ERROR] |= error
        self._set_irq(RX_IRQ | (ERR_IRQ if error else 0))
        if self.command == CMD_RECEIVE:
            self._finish_command()

    # ---- timer --------------------------------------------------------------------------------
    def _timer_tick_s(self) -> float:
        prescaler = ((self.regs[TMODE] & 0x0F) << 8) | self.regs[TPRESCALER]
        return (2 * prescaler + 1) / FC_HZ

    def _reload(self) -> int:
        return (self.regs[TRELOAD_H] << 8) | self.regs[TRELOAD_L]

    def _timer_start_now(self, now: float) -> None:
        self._timer_stop(now)
        self._timer_running = True
        self._timer_start = now
        self._timer_value = self._reload()
        expiry = now + (self._timer_value + 1) * self._timer_tick_s()
        self._schedule(expiry, "timer", self._timer_expired)

    def _timer_now(self, now: float) -> int:
        if not self._timer_running:
            return self._timer_value
        elapsed = int((now - self._timer_start) / self._timer_tick_s())
        return max(self._timer_value - elapsed, 0)

    def _timer_stop(self, now: float) -> None:
        if self._timer_running:
            self._timer_value = self._timer_now(now)
            self._timer_running = False
        self._cancel("timer")

    def _timer_expired(self, now: float) -> None:
        if not self._timer_running:
            return
        self._timer_running = False
        self._timer_value = 0
        self._set_irq(TIMER_IRQ)
        if self.regs[TMODE] & 0x10:  # TAutoRestart
            self._timer_start_now(now)

    # ---- event queue --------------------------------------------------------------------------
    def _schedule(self, when: float, kind: str, action: Callable[[float], None]) -> None:
        heapq.heappush(self._events, (when, next(self._seq), kind, action))
        self._arm()

    def _cancel(self, kind: str) -> None:
        self._events = [e for e in self._events if e[2] != kind]
        heapq.heapify(self._events)

    def _advance(self, now: float) -> None:
        while self._events and self._events[0][0] <= now:
            when, _, _, action = heapq.heappop(self._events)
            action(when)
        self._update_irq()

    def _arm(self) -> None:
        # A wake-up at the next event so that the IRQ line changes on time without SPI traffic.
        if self.irq_pin is None or not self._events:
            return
        if self._wakeup is not None:
            self._wakeup.cancel()
        delay = max(self._events[0][0] - self.clock(), 0.0)
        self._wakeup = threading.Timer(delay, self._wake)
        self._wakeup.daemon = True
        self._wakeup.start()

    def _wake(self) -> None:
        with self._lock:
            self._advance(self.clock())
            self._arm()


# ---- gpiozero mock factory wiring -----------------------------------------------------------
def _mock_classes():
    from gpiozero.pins.mock import MockPin, MockSPIDevice

    class ResetPin(MockPin):
        """NRSTPD: an output the driver sets; the chip sees every change."""

        chip: EmulatedMFRC522 | None = None

        def _change_state(self, value):
            changed = super()._change_state(value)
            if changed and self.chip is not None:
                self.chip.set_reset_line(bool(value))
            return changed

    class MFRC522MockSPIDevice(MockSPIDevice):
        """The chip on a MockFactory's software SPI bus (SPI mode 0, MSB first)."""

        def __init__(self, chip: EmulatedMFRC522, *, clock_pin=11, mosi_pin=10, miso_pin=9,
                     select_pin=8, pin_factory=None):
            super().__init__(clock_pin, mosi_pin, miso_pin, select_pin,
                             pin_factory=pin_factory)
            self.chip = chip

        def on_start(self):
            super().on_start()
            # The mock clock pin records every edge; keep long runs from growing without end.
            if len(self.clock_pin.states) > 4096:
                self.clock_pin.clear_states()
            self.chip.spi_select()
            self.tx_word(0)

        def on_bit(self):
            if self.rx_bit % 8 == 0:
                byte = self.rx_word()
                self.rx_buf = []
                self.tx_word(self.chip.spi_byte(byte))

    return ResetPin, MFRC522MockSPIDevice


def attach_to_mock_factory(chip: EmulatedMFRC522, factory, *, select_pin: int = 8,
                           reset_pin: int | None = 25, irq_pin: int | None = 24):
    """Wire ``chip`` to a :class:`gpiozero.pins.mock.MockFactory` before the driver opens it.

    SPI0 (GPIO11 SCLK, GPIO10 MOSI, GPIO9 MISO, ``select_pin`` CE), NRSTPD on ``reset_pin``,
    IRQ on ``irq_pin``. Returns the mock SPI device (close it when done).
    """
    reset_cls, spi_cls = _mock_classes()
    if reset_pin is not None:
        pin = factory.pin(reset_pin, pin_class=reset_cls)
        pin.chip = chip
        chip.reset_pin = pin
        # A pin the driver has not configured floats; the module's 10k pull-up keeps it high.
        chip.set_reset_line(True)
    if irq_pin is not None:
        chip.irq_pin = factory.pin(irq_pin)
        chip._update_irq()
    return spi_cls(chip, select_pin=select_pin, pin_factory=factory)


# ---- spidev and RPi.GPIO stand-ins for the mfrc522 package (tests and benchmarks only) -------
from kiosk.readers.mfrc522_legacy import BOARD_TO_BCM  # noqa: E402


def legacy_shim_modules(chip: EmulatedMFRC522, *, reset_bcm: int = 25, bus: int = 0,
                        device: int = 0) -> dict[str, types.ModuleType]:
    """Modules named ``spidev``, ``RPi`` and ``RPi.GPIO`` that reach ``chip``.

    They do what the kernel's spidev and the GPIO character device would: ``xfer2`` is one
    chip-select frame; an output on BCM ``reset_bcm`` drives NRSTPD. ``GPIO.outputs`` records
    every pin driven (BCM numbering) so a test can see which pin the package touched.
    A test puts them in ``sys.modules`` (``monkeypatch.setitem``); the product never does.
    """
    spidev = types.ModuleType("spidev")

    class SpiDev:
        def __init__(self) -> None:
            self.max_speed_hz = 500_000
            self.mode = 0
            self._open = False
            self.transfers = 0

        def open(self, b: int, d: int) -> None:
            if (b, d) != (bus, device):
                raise FileNotFoundError(2, f"No such file or directory: /dev/spidev{b}.{d}")
            self._open = True

        def xfer2(self, data: list[int]) -> list[int]:
            if not self._open:
                raise OSError(9, "Bad file descriptor")
            spidev.transfers += 1
            return chip.transfer(data)

        xfer = xfer2

        def close(self) -> None:
            self._open = False

    spidev.SpiDev = SpiDev
    spidev.transfers = 0

    gpio = types.ModuleType("RPi.GPIO")
    gpio.BOARD, gpio.BCM, gpio.OUT, gpio.IN = 10, 11, 0, 1
    gpio.HIGH, gpio.LOW = 1, 0
    gpio.mode = None
    gpio.outputs = {}

    def _bcm(pin: int) -> int:
        if gpio.mode is None:
            raise RuntimeError("Please set pin numbering mode using GPIO.setmode(GPIO.BOARD) "
                               "or GPIO.setmode(GPIO.BCM)")
        if gpio.mode == gpio.BOARD:
            if pin not in BOARD_TO_BCM:
                raise ValueError("The channel sent is invalid on a Raspberry Pi")
            return BOARD_TO_BCM[pin]
        return pin

    def setmode(mode: int) -> None:
        gpio.mode = mode

    def getmode():
        return gpio.mode

    def setup(pin: int, direction: int, **_kwargs) -> None:
        gpio.outputs.setdefault(_bcm(pin), None)

    def output(pin: int, value: int) -> None:
        bcm = _bcm(pin)
        gpio.outputs[bcm] = bool(value)
        if bcm == reset_bcm:
            chip.set_reset_line(bool(value))

    def cleanup(*_args) -> None:
        gpio.outputs.clear()
        gpio.mode = None

    def setwarnings(_flag: bool) -> None:
        pass

    gpio.setmode, gpio.getmode, gpio.setup = setmode, getmode, setup
    gpio.output, gpio.cleanup, gpio.setwarnings = output, cleanup, setwarnings
    rpi = types.ModuleType("RPi")
    rpi.GPIO = gpio
    return {"spidev": spidev, "RPi": rpi, "RPi.GPIO": gpio}
