"""The hardware edge of the station puck, faked: a Pico's ``machine`` module and an MFRC522.

- :class:`FakeClock` has MicroPython's ``ticks_ms``/``ticks_add``/``ticks_diff``/``sleep_ms``
  (ticks wrap at 2**30 as on the RP2040), on emulated time or on wall time plus emulated time.
- :class:`FakeMachine` hands out ``Pin``, ``PWM`` and ``SPI`` objects sharing per-GPIO state;
  tests drive inputs (``press``/``release``) and read outputs (``level``, ``pwm``).
- :class:`MFRC522Chip` answers on the SPI bus like the chip: register file, FIFO, soft and hard
  reset, the CRC coprocessor, the receive timer (TMode/TPrescaler/TReload) and Transceive with
  ISO 14443-A frame timing; every SPI byte costs 8 bit-times at the bus baud rate.
  :class:`Card` follows the ISO 14443-3 state machine (IDLE, READY, ACTIVE, HALT) with
  cascade levels for 4-, 7- and 10-byte UIDs. ``chip.noise = n`` garbles the next n answers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

TICKS_PERIOD = 1 << 30
FC = 13_560_000  # carrier frequency, Hz
BIT_US = 128 / FC * 1e6  # 106 kbit/s: 9.44 us per bit


class FakeClock:
    def __init__(self, start_ms: int = 0, real: bool = False) -> None:
        self.real = real
        self._offset_us = start_ms * 1000
        self._t0 = time.monotonic_ns()
        self._lock = threading.Lock()

    def now_us(self) -> int:
        base = (time.monotonic_ns() - self._t0) // 1000 if self.real else 0
        return base + self._offset_us

    def advance_us(self, us: float) -> None:
        with self._lock:
            self._offset_us += int(us)

    def ticks_ms(self) -> int:
        return (self.now_us() // 1000) % TICKS_PERIOD

    def ticks_add(self, ticks: int, delta: int) -> int:
        return (ticks + delta) % TICKS_PERIOD

    def ticks_diff(self, a: int, b: int) -> int:
        half = TICKS_PERIOD // 2
        return ((a - b + half) % TICKS_PERIOD) - half

    def sleep_ms(self, ms: int) -> None:
        if self.real:
            time.sleep(ms / 1000)
        else:
            self.advance_us(ms * 1000)


@dataclass
class PinState:
    gpio: int
    mode: int = -1
    pull: int = -1
    out: int = 0
    driven: int | None = None  # level forced from outside (a button, a chip's output)
    listeners: list = field(default_factory=list)

    def level(self) -> int:
        if self.mode == Pin.OUT:
            return self.out
        if self.driven is not None:
            return self.driven
        return 1 if self.pull == Pin.PULL_UP else 0


class Pin:
    IN, OUT, OPEN_DRAIN = 0, 1, 2
    PULL_UP, PULL_DOWN = 1, 2

    def __init__(self, machine: FakeMachine, gpio: int, mode: int = -1, pull: int = -1,
                 value: int | None = None) -> None:
        self._state = machine.pin_state(gpio)
        self.init(mode, pull, value)

    def init(self, mode: int = -1, pull: int = -1, value: int | None = None) -> None:
        if mode != -1:
            self._state.mode = mode
        if pull != -1:
            self._state.pull = pull
        if value is not None:
            self.value(value)

    def value(self, v: int | None = None) -> int | None:
        if v is None:
            return self._state.level()
        old = self._state.level()
        self._state.out = 1 if v else 0
        new = self._state.level()
        for listener in list(self._state.listeners):
            listener(old, new)
        return None

    __call__ = value


class PWM:
    def __init__(self, machine: FakeMachine, pin: Pin) -> None:
        self.gpio = pin._state.gpio
        self._freq = 0
        self._duty = 0
        self.history: list[tuple[int, int]] = []
        machine.pwms[self.gpio] = self

    def freq(self, f: int | None = None) -> int | None:
        if f is None:
            return self._freq
        self._freq = f
        return None

    def duty_u16(self, d: int | None = None) -> int | None:
        if d is None:
            return self._duty
        if not 0 <= d <= 65535:
            raise ValueError("duty out of range")
        self._duty = d
        self.history.append((self._freq, d))
        return None


class SPI:
    def __init__(self, machine: FakeMachine, bus: int, baudrate: int = 1_000_000,
                 polarity: int = 0, phase: int = 0, sck=None, mosi=None, miso=None) -> None:
        if (polarity, phase) != (0, 0):
            raise ValueError("the MFRC522 needs SPI mode 0")
        self.machine = machine
        self.bus = bus
        self.baudrate = baudrate
        self.pins = (sck, mosi, miso)

    def _exchange(self, out: bytes) -> bytes:
        back = bytearray(len(out))
        for device in self.machine.devices.get(self.bus, []):
            if device.selected():
                for i, byte in enumerate(out):
                    self.machine.clock.advance_us(8 / self.baudrate * 1e6)
                    back[i] = device.exchange(byte)
                return bytes(back)
        for _ in out:
            self.machine.clock.advance_us(8 / self.baudrate * 1e6)
        return bytes(back)  # nobody selected: MISO floats low

    def write(self, buf: bytes) -> None:
        self._exchange(bytes(buf))

    def read(self, n: int, write: int = 0) -> bytes:
        return self._exchange(bytes([write]) * n)

    def write_readinto(self, out: bytes, into: bytearray) -> None:
        into[:] = self._exchange(bytes(out))


class FakeMachine:
    """Stands in for the ``machine`` module: ``machine.Pin(17)`` etc."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.pins: dict[int, PinState] = {}
        self.pwms: dict[int, PWM] = {}
        self.devices: dict[int, list] = {}

    def pin_state(self, gpio: int) -> PinState:
        return self.pins.setdefault(gpio, PinState(gpio))

    def Pin(self, gpio: int, *args, **kwargs) -> Pin:
        return Pin(self, gpio, *args, **kwargs)

    def PWM(self, pin: Pin) -> PWM:
        return PWM(self, pin)

    def SPI(self, bus: int, **kwargs) -> SPI:
        return SPI(self, bus, **kwargs)

    def attach(self, bus: int, device) -> None:
        self.devices.setdefault(bus, []).append(device)

    # Test-side handles.
    def press(self, gpio: int) -> None:
        self.pin_state(gpio).driven = 0

    def release(self, gpio: int) -> None:
        self.pin_state(gpio).driven = None

    def level(self, gpio: int) -> int:
        return self.pin_state(gpio).level()

    def pwm(self, gpio: int) -> PWM:
        return self.pwms[gpio]


def crc_a(data: bytes) -> bytes:
    """ISO/IEC 14443-3 CRC_A, low byte first."""
    crc = 0x6363
    for byte in data:
        byte ^= crc & 0xFF
        byte = (byte ^ (byte << 4)) & 0xFF
        crc = ((crc >> 8) ^ (byte << 8) ^ (byte << 3) ^ (byte >> 4)) & 0xFFFF
    return bytes((crc & 0xFF, crc >> 8))


class Card:
    """An ISO 14443-A card (MIFARE Classic 1K by default)."""

    IDLE, READY, ACTIVE, HALT = "IDLE", "READY", "ACTIVE", "HALT"

    def __init__(self, uid: bytes, sak: int = 0x08) -> None:
        if len(uid) not in (4, 7, 10):
            raise ValueError("UIDs are 4, 7 or 10 bytes")
        self.uid = bytes(uid)
        self.sak = sak
        self.atqa = {4: b"\x04\x00", 7: b"\x44\x00", 10: b"\x84\x00"}[len(uid)]
        self.state = self.IDLE
        self.level = 0

    def _level_bytes(self, level: int) -> bytes:
        levels = {4: 1, 7: 2, 10: 3}[len(self.uid)]
        if level == levels - 1:
            return self.uid[-4:] if levels > 1 else self.uid
        start = 0 if level == 0 else 3
        return b"\x88" + self.uid[start:start + 3]

    def _fail(self) -> None:
        self.state = self.HALT if self.state == self.HALT else self.IDLE

    def respond(self, frame: bytes, tx_last_bits: int) -> bytes | None:
        if tx_last_bits == 7 and len(frame) == 1:
            wakes = (self.IDLE,) if frame[0] == 0x26 else (self.IDLE, self.HALT)
            if frame[0] in (0x26, 0x52) and self.state in wakes:
                self.state, self.level = self.READY, 0
                return self.atqa
            self._fail()
            return None
        if tx_last_bits:
            self._fail()
            return None
        sel = (0x93, 0x95, 0x97)
        if self.state == self.READY and len(frame) == 2 and frame == bytes((sel[self.level], 0x20)):
            part = self._level_bytes(self.level)
            return part + bytes((part[0] ^ part[1] ^ part[2] ^ part[3],))
        if self.state == self.READY and len(frame) == 9 and frame[0] == sel[self.level] \
                and frame[1] == 0x70:
            part = self._level_bytes(self.level)
            if frame[7:] != crc_a(frame[:7]) or frame[2:6] != part or frame[6] != (
                    part[0] ^ part[1] ^ part[2] ^ part[3]):
                self._fail()
                return None
            if part[0] == 0x88:
                self.level += 1
                sak = 0x04
            else:
                self.state = self.ACTIVE
                sak = self.sak
            return bytes((sak,)) + crc_a(bytes((sak,)))
        if self.state == self.ACTIVE and len(frame) == 4 and frame[:2] == b"\x50\x00" \
                and frame[2:] == crc_a(frame[:2]):
            self.state = self.HALT
            return None
        self._fail()
        return None


# Register addresses and reset values (MFRC522 datasheet, section 9).
COMMAND, COM_IRQ, DIV_IRQ, ERROR, FIFO_DATA, FIFO_LEVEL, CONTROL, BIT_FRAMING = (
    0x01, 0x04, 0x05, 0x06, 0x09, 0x0A, 0x0C, 0x0D)
MODE, TX_CONTROL, CRC_H, CRC_L, T_MODE, T_PRESCALER, T_RELOAD_H, T_RELOAD_L, VERSION = (
    0x11, 0x14, 0x21, 0x22, 0x2A, 0x2B, 0x2C, 0x2D, 0x37)
RESET_VALUES = {0x01: 0x20, 0x02: 0x80, 0x04: 0x14, 0x07: 0x21, 0x0B: 0x08, 0x0C: 0x10,
                0x0E: 0x80, 0x11: 0x3F, 0x14: 0x80, 0x16: 0x10, 0x17: 0x84, 0x18: 0x84,
                0x19: 0x4D, 0x1D: 0x62, 0x21: 0xFF, 0x22: 0xFF, 0x24: 0x26, 0x26: 0x48,
                0x27: 0x88, 0x28: 0x20}
SOFT_RESET_US = 38  # datasheet 8.8.1: internal reset phase
OSC_START_US = 5000  # crystal start-up after RST goes high (budget; datasheet 8.8.2)
FDT_US = (9 * 128 + 84) / FC * 1e6  # frame delay time PCD->PICC for REQA/anticollision


class MFRC522Chip:
    def __init__(self, machine: FakeMachine, cs: int, rst: int, version: int = 0x92) -> None:
        self.machine = machine
        self.clock = machine.clock
        self.version = version
        self._cs = machine.pin_state(cs)
        self._rst = machine.pin_state(rst)
        self._rst.listeners.append(self._rst_edge)
        self._cs.listeners.append(self._cs_edge)
        self._addr: int | None = None
        self._read = False
        self.card: Card | None = None
        self.noise = 0
        self.dead = False  # True: the module is unplugged, MISO floats
        self.transceives = 0
        self._reset_registers()
        self._ready_at = 0
        self._in_frame = False

    # -- test handles ----------------------------------------------------------------------
    def place(self, card: Card) -> None:
        card.state, card.level = Card.IDLE, 0
        self.card = card

    def remove(self) -> None:
        self.card = None

    # -- reset -----------------------------------------------------------------------------
    def _reset_registers(self) -> None:
        self.regs = bytearray(64)
        for reg, value in RESET_VALUES.items():
            self.regs[reg] = value
        self.regs[VERSION] = self.version
        self.fifo = bytearray()
        self._events: list[tuple[int, str, object]] = []

    def _rst_edge(self, old: int, new: int) -> None:
        if old and not new:
            self._reset_registers()  # hard power-down
        elif new and not old:
            self._reset_registers()
            self._ready_at = self.clock.now_us() + OSC_START_US

    def _powered(self) -> bool:
        return bool(self._rst.level()) and self.clock.now_us() >= self._ready_at and not self.dead

    # -- time ------------------------------------------------------------------------------
    def _run_events(self) -> None:
        now = self.clock.now_us()
        due = [e for e in self._events if e[0] <= now]
        self._events = [e for e in self._events if e[0] > now]
        for _, kind, payload in sorted(due, key=lambda e: e[0]):
            if kind == "reset-done":
                self._reset_registers()
            elif kind == "rx":
                self.fifo = bytearray(payload)  # type: ignore[arg-type]
                self.regs[COM_IRQ] |= 0x30  # RxIRq | IdleIRq
                self.regs[COMMAND] &= 0xF0
            elif kind == "timer":
                self.regs[COM_IRQ] |= 0x01

    # -- SPI -------------------------------------------------------------------------------
    def _cs_edge(self, old: int, new: int) -> None:
        self._in_frame = False  # every CS edge ends (or starts) an SPI frame

    def selected(self) -> bool:
        return self._cs.level() == 0

    def exchange(self, byte: int) -> int:
        if not self._powered():
            self._in_frame = False
            return 0x00
        self._run_events()
        if not self._in_frame or self._addr is None:
            self._in_frame = True
            self._read = bool(byte & 0x80)
            self._addr = (byte >> 1) & 0x3F
            return 0x00
        if self._read:
            value = self._read_reg(self._addr)
            self._addr = (byte >> 1) & 0x3F
            return value
        self._write_reg(self._addr, byte)
        return 0x00

    def _read_reg(self, reg: int) -> int:
        if reg == FIFO_DATA:
            return self.fifo.pop(0) if self.fifo else 0x00
        if reg == FIFO_LEVEL:
            return len(self.fifo)
        if reg == COMMAND and any(e[1] == "reset-done" for e in self._events):
            return 0x30  # PowerDown still set during the reset phase
        return self.regs[reg]

    def _write_reg(self, reg: int, value: int) -> None:
        if reg == FIFO_DATA:
            if len(self.fifo) < 64:
                self.fifo.append(value)
            else:
                self.regs[ERROR] |= 0x10  # BufferOvfl
        elif reg == FIFO_LEVEL:
            if value & 0x80:
                self.fifo.clear()
                self.regs[ERROR] &= ~0x10 & 0xFF
        elif reg in (COM_IRQ, DIV_IRQ):
            bits = value & 0x7F
            if value & 0x80:
                self.regs[reg] |= bits
            else:
                self.regs[reg] &= ~bits & 0xFF
        elif reg == COMMAND:
            self.regs[COMMAND] = (self.regs[COMMAND] & 0xF0) | (value & 0x3F)
            self._command(value & 0x0F)
        elif reg == BIT_FRAMING:
            self.regs[BIT_FRAMING] = value
            if value & 0x80 and self.regs[COMMAND] & 0x0F == 0x0C:
                self._transmit()
        elif reg == VERSION:
            pass  # read-only
        else:
            self.regs[reg] = value

    def _command(self, command: int) -> None:
        if command == 0x0F:  # SoftReset
            self._events = [(self.clock.now_us() + SOFT_RESET_US, "reset-done", None)]
        elif command == 0x00:  # Idle: cancels a running command
            self._events = [e for e in self._events if e[1] == "reset-done"]
        elif command == 0x03:  # CalcCRC
            preset = {0: 0x0000, 1: 0x6363, 2: 0xA671, 3: 0xFFFF}[self.regs[MODE] & 0x03]
            # Only the ISO 14443 preset is emulated; any other gives a CRC no card accepts.
            result = crc_a(bytes(self.fifo)) if preset == 0x6363 else b"\x00\x00"
            self.fifo.clear()
            self.regs[CRC_L], self.regs[CRC_H] = result[0], result[1]
            self.regs[DIV_IRQ] |= 0x04

    def _timer_us(self) -> float | None:
        if not self.regs[T_MODE] & 0x80:  # TAuto off: the timer never starts by itself
            return None
        prescaler = ((self.regs[T_MODE] & 0x0F) << 8) | self.regs[T_PRESCALER]
        reload = (self.regs[T_RELOAD_H] << 8) | self.regs[T_RELOAD_L]
        return (reload + 1) * (2 * prescaler + 1) / FC * 1e6

    def _transmit(self) -> None:
        self.transceives += 1
        frame = bytes(self.fifo)
        self.fifo.clear()
        self.regs[ERROR] = 0
        last_bits = self.regs[BIT_FRAMING] & 0x07
        tx_bits = len(frame) * 8 - ((8 - last_bits) if last_bits else 0)
        now = self.clock.now_us()
        tx_end = now + tx_bits * BIT_US
        answer = None
        if self.card is not None and self.regs[TX_CONTROL] & 0x03 == 0x03:
            answer = self.card.respond(frame, last_bits)
        if answer is not None:
            if self.noise and len(answer) >= 3:
                self.noise -= 1
                answer = bytes((answer[0] ^ 0x01,)) + answer[1:]
            done = tx_end + FDT_US + len(answer) * 8 * BIT_US
            self._events.append((int(done) + 1, "rx", answer))
            return
        timer = self._timer_us()
        if timer is not None:
            self._events.append((int(tx_end + timer) + 1, "timer", None))


def pico_with_reader(clock: FakeClock, cs: int = 17, rst: int = 20) -> tuple[FakeMachine,
                                                                           MFRC522Chip]:
    machine = FakeMachine(clock)
    chip = MFRC522Chip(machine, cs=cs, rst=rst)
    machine.attach(0, chip)
    return machine, chip
