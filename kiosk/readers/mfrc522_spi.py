"""The default MFRC522 driver: talks to the chip over gpiozero's SPI, no RPi.GPIO.

Two layers. :class:`MFRC522` is the chip protocol (registers, FIFO, the chip's timer, ISO/IEC
14443-3 request, anticollision and select over all cascade levels, halt) with no thread of its
own. :class:`MFRC522Reader` is the :class:`~kiosk.readers.base.BadgeReader`: one background
thread that polls at a bounded rate, sleeping between polls and while the chip works (on the
IRQ line when it is wired, otherwise with short sleeps between status reads), probes the
version register for health and resets the chip when it stops answering.

Works with any gpiozero pin factory: lgpio on the Pi 5 (hardware SPI through lgpio), the
default factories on older Pis (spidev), and MockFactory in tests.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kiosk.readers.base import BadgeTap, ReaderThread, TapCallback, TapFilter, normalise_badge
from stations.errors import ReaderError

log = logging.getLogger(__name__)

# Registers and bits (MFRC522 datasheet, section 9).
COMMAND, COMIEN, DIVIEN, COMIRQ, DIVIRQ, ERROR = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
FIFODATA, FIFOLEVEL, CONTROL, BITFRAMING, COLL = 0x09, 0x0A, 0x0C, 0x0D, 0x0E
MODE, TXMODE, RXMODE, TXCONTROL, TXASK = 0x11, 0x12, 0x13, 0x14, 0x15
TMODE, TPRESCALER, TRELOAD_H, TRELOAD_L, VERSION = 0x2A, 0x2B, 0x2C, 0x2D, 0x37
CMD_IDLE, CMD_TRANSCEIVE, CMD_SOFTRESET = 0x00, 0x0C, 0x0F
RX_IRQ, TIMER_IRQ = 0x20, 0x01
BUFFER_OVFL, COLL_ERR, CRC_ERR, PARITY_ERR, PROTOCOL_ERR = 0x10, 0x08, 0x04, 0x02, 0x01
REQA, WUPA, HLTA = 0x26, 0x52, 0x50
SEL = (0x93, 0x95, 0x97)
CASCADE_TAG = 0x88
FC_HZ = 13_560_000

#: VersionReg values of parts seen on reader modules: NXP v0.0/v1.0/v2.0, FM17522 clones,
#: and two common counterfeits. 00h and FFh mean nobody is answering on SPI.
KNOWN_VERSIONS = {0x88: "FM17522", 0x90: "MFRC522 v0.0", 0x91: "MFRC522 v1.0",
                  0x92: "MFRC522 v2.0", 0x12: "MFRC522 clone", 0xB2: "FM17522 clone"}


class ChipNotAnswering(ReaderError):
    """The chip did not finish a command in time or reads back as 00h/FFh."""


class GarbledCard(ReaderError):
    """A card answered, but with parity, protocol or BCC errors."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a card sent back: bytes in the FIFO, valid bits of the last one, collision place."""

    data: bytes
    last_bits: int = 0
    coll_pos: int | None = None  # CollPos as the chip reports it (1..32), None: no collision
    errors: int = 0


class MFRC522:
    """The chip protocol over a gpiozero SPI interface. Not thread-safe: one caller at a time.

    ``spi`` is anything with gpiozero's ``transfer(list[int]) -> list[int]``. ``reset`` is a
    gpiozero ``DigitalOutputDevice`` on NRSTPD or None; ``irq`` a ``DigitalInputDevice``
    (active low, pulled up) on IRQ or None, in which case the status register is polled with
    sleeps in between.
    """

    def __init__(self, spi, *, reset=None, irq=None, timeout_ms: float = 10.0,
                 poll_step_s: float = 0.0005, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spi = spi
        self.reset_line = reset
        self.irq = irq
        self.timeout_ms = timeout_ms
        self.poll_step_s = poll_step_s
        self.sleep = sleep
        self.clock = clock
        self.transfers = 0
        self._irq_event = threading.Event()
        self._crc_mode: bool | None = None
        self._atqa_collided = False
        if irq is not None:
            irq.when_activated = self._irq_event.set

    # ---- registers ------------------------------------------------------------------------
    def _xfer(self, frame: list[int]) -> list[int]:
        self.transfers += 1
        return self.spi.transfer(frame)

    def read(self, reg: int) -> int:
        return self._xfer([0x80 | (reg << 1), 0])[1]

    def read_many(self, reg: int, count: int) -> bytes:
        """``count`` reads of one register in a single chip-select frame (the FIFO drain)."""
        if count <= 0:
            return b""
        return bytes(self._xfer([0x80 | (reg << 1)] * count + [0])[1:])

    def write(self, reg: int, *values: int) -> None:
        self._xfer([reg << 1, *values])

    # ---- set-up ---------------------------------------------------------------------------
    def version(self) -> int:
        return self.read(VERSION)

    def hard_reset(self) -> None:
        """Pulse NRSTPD (or send SoftReset without a reset line) and wait for the oscillator."""
        if self.reset_line is not None:
            self.reset_line.off()
            self.sleep(0.001)  # datasheet minimum is 100 ns; this also drains the supply
            self.reset_line.on()
        else:
            self.write(COMMAND, CMD_SOFTRESET)
        # Start-up is crystal time plus 37.74 us; wait for the chip, at most 50 ms.
        deadline = self.clock() + 0.05
        while True:
            self.sleep(0.002)
            if self.read(VERSION) not in (0x00, 0xFF) and not self.read(COMMAND) & 0x10:
                return
            if self.clock() > deadline:
                raise ChipNotAnswering("mfrc522", "no answer on SPI after reset "
                                                  "(check wiring, 3.3 V and that SPI is on)")

    def init(self) -> int:
        """Reset and configure; returns the version byte or raises ChipNotAnswering."""
        self.hard_reset()
        version = self.version()
        if version in (0x00, 0xFF):
            raise ChipNotAnswering("mfrc522", f"version register reads {version:02X}h")
        # Timer: TAuto, started by the end of every transmission; one tick is
        # (2 * 169 + 1) / 13.56 MHz = 25 us, so the reload is the timeout in 25 us ticks.
        ticks = max(1, round(self.timeout_ms * 1e-3 * FC_HZ / 339) - 1)
        self.write(TMODE, 0x80)
        self.write(TPRESCALER, 169)
        self.write(TRELOAD_H, ticks >> 8)
        self.write(TRELOAD_L, ticks & 0xFF)
        self.write(TXASK, 0x40)  # 100 % ASK, as type A needs
        self.write(MODE, 0x3D)  # CRC preset 6363h (CRC_A)
        self.write(COLL, 0x00)  # ValuesAfterColl = 0: bits after a collision read as 0
        # IRQ: active low (IRqInv), open drain, on RxIRq and TimerIRq only.
        self.write(COMIEN, 0x80 | RX_IRQ | TIMER_IRQ)
        self.write(DIVIEN, 0x00)
        self.write(TXCONTROL, 0x83)  # antenna on
        self._crc_mode = None
        return version

    def antenna_off(self) -> None:
        self.write(TXCONTROL, 0x80)

    # ---- one exchange with the cards ----------------------------------------------------------
    def transceive(self, data: Sequence[int], *, tx_last_bits: int = 0, rx_align: int = 0,
                   crc: bool = False) -> Answer | None:
        """Send a frame; return the answer, or None when the chip's timer ran out first."""
        if crc != self._crc_mode:
            self.write(TXMODE, 0x80 if crc else 0x00)
            self.write(RXMODE, 0x80 if crc else 0x00)
            self._crc_mode = crc
        self.write(COMMAND, CMD_IDLE)
        self.write(COMIRQ, 0x7F)  # clear every request bit
        self.write(FIFOLEVEL, 0x80)
        self.write(FIFODATA, *data)
        framing = (rx_align << 4) | tx_last_bits
        self.write(BITFRAMING, framing)
        self._irq_event.clear()
        self.write(COMMAND, CMD_TRANSCEIVE)
        self.write(BITFRAMING, 0x80 | framing)  # StartSend
        irq = self._wait()
        if not irq & RX_IRQ:
            self.write(COMMAND, CMD_IDLE)
            return None  # TimerIRq: nobody answered within the timeout
        errors = self.read(ERROR)
        level = self.read(FIFOLEVEL) & 0x7F
        last_bits = self.read(CONTROL) & 0x07
        coll_pos = None
        if errors & COLL_ERR:
            coll = self.read(COLL)
            coll_pos = 0 if coll & 0x20 else (coll & 0x1F or 32)
        payload = self.read_many(FIFODATA, level)
        self.write(COMMAND, CMD_IDLE)
        return Answer(payload, last_bits, coll_pos, errors)

    def _wait(self) -> int:
        """Wait for RxIRq or TimerIRq without spinning; return ComIrqReg."""
        # The chip's timer ends every exchange; the host deadline only catches a dead chip.
        deadline = self.clock() + self.timeout_ms / 1000 + 0.05
        step = self.poll_step_s
        first = True
        while True:
            if self.irq is not None and not self.irq.is_active:
                self._irq_event.wait(max(deadline - self.clock(), 0))
            elif self.irq is None or not first:
                # No IRQ line (or it is stuck): read the status between growing sleeps.
                self.sleep(step)
                step = min(step * 2, 0.004)
            first = False
            irq = self.read(COMIRQ)
            if irq & (RX_IRQ | TIMER_IRQ) and irq != 0xFF:
                return irq
            if self.clock() > deadline:
                raise ChipNotAnswering("mfrc522", f"no RxIRq or TimerIRq within "
                                                  f"{self.timeout_ms:g} ms (ComIrqReg "
                                                  f"{irq:02X}h)")
            self._irq_event.clear()

    # ---- ISO/IEC 14443-3 type A ---------------------------------------------------------------
    def request(self, wake_up: bool = False) -> bool:
        """REQA (idle cards) or WUPA (idle and halted cards); True if any card answered.

        Two cards answering at once collide in the ATQA: they are there all the same.
        """
        answer = self.transceive([WUPA if wake_up else REQA], tx_last_bits=7)
        self._atqa_collided = bool(answer and answer.errors & COLL_ERR)
        if answer is None:
            return False
        if answer.errors & (PROTOCOL_ERR | PARITY_ERR) and not answer.errors & COLL_ERR:
            raise GarbledCard("mfrc522", f"ATQA with errors {answer.errors:02X}h")
        return True

    def halt(self) -> None:
        """HLTA: the selected card goes to HALT and answers only WUPA from now on."""
        answer = self.transceive([HLTA, 0x00], crc=True)
        if answer is not None:
            log.debug("card answered HLTA (%s)", answer.data.hex())

    def _select_level(self, level: int, base: str, exhausted: set[str],
                      nodes: list[tuple[str, str]]) -> tuple[bytes, int]:
        """Anticollision and select on one cascade level: (CLn bytes, SAK).

        ``base`` is the bit path of the levels above (bits as sent, "0"/"1"). At a collision
        the 1 branch is taken unless it is in ``exhausted`` (every card on it already read
        in this scan); each collision is added to ``nodes`` as (path before it, branch).
        """
        sel = SEL[level]
        cl = bytearray(5)
        known = 0  # UID bits of this level already fixed
        for _ in range(41):  # every collision fixes at least one more bit
            whole, bits = divmod(known, 8)
            nvb = ((2 + whole) << 4) | bits
            sent = list(cl[:whole + (1 if bits else 0)])
            answer = self.transceive([sel, nvb, *sent], tx_last_bits=bits, rx_align=bits)
            if answer is None:
                raise GarbledCard("mfrc522", "card left during anticollision")
            if answer.errors & (PARITY_ERR | PROTOCOL_ERR | BUFFER_OVFL):
                raise GarbledCard("mfrc522", f"anticollision answer with errors "
                                             f"{answer.errors:02X}h")
            for i, byte in enumerate(answer.data):
                if whole + i >= 5:
                    break
                if i == 0 and bits:
                    keep = (1 << bits) - 1
                    cl[whole] = (cl[whole] & keep) | (byte & ~keep & 0xFF)
                else:
                    cl[whole + i] = byte
            if answer.coll_pos is None:
                break
            # CollPos counts from bit 0 of the first FIFO byte, which is CLn byte `whole`.
            pos = whole * 8 + answer.coll_pos if answer.coll_pos else 0
            if not known < pos <= 40:
                raise GarbledCard("mfrc522", f"collision position {answer.coll_pos} "
                                             f"not past the {known} known bits")
            byte, bit = divmod(pos - 1, 8)
            cl[byte] &= (1 << bit) - 1
            cl[byte + 1:] = bytes(4 - byte)
            prefix = base + _bitpath(cl, pos - 1)
            branch = "0" if prefix + "1" in exhausted and prefix + "0" not in exhausted else "1"
            if branch == "1":
                cl[byte] |= 1 << bit
            nodes.append((prefix, branch))
            known = pos
        else:
            raise GarbledCard("mfrc522", "anticollision did not converge")
        if cl[0] ^ cl[1] ^ cl[2] ^ cl[3] != cl[4]:
            raise GarbledCard("mfrc522", f"BCC mismatch in {cl.hex()}")
        answer = self.transceive([sel, 0x70, *cl], crc=True)
        if answer is None:
            raise GarbledCard("mfrc522", "no SAK after SELECT")
        if answer.errors & (CRC_ERR | PARITY_ERR | PROTOCOL_ERR) or len(answer.data) != 1:
            raise GarbledCard("mfrc522", f"bad SAK frame {answer.data.hex()} "
                                         f"(errors {answer.errors:02X}h)")
        return bytes(cl), answer.data[0]

    def select(self, exhausted: set[str] | None = None) -> tuple[bytes, int, list]:
        """Resolve and select one READY card: full UID (4, 7 or 10 bytes), SAK, collisions.

        The collisions come back as (bit path, branch taken) pairs; ``exhausted`` holds the
        bit paths whose cards were all read already, which anticollision steers away from.
        """
        exhausted = set() if exhausted is None else exhausted
        uid = b""
        base = ""
        nodes: list[tuple[str, str]] = []
        for level in range(3):
            cl, sak = self._select_level(level, base, exhausted, nodes)
            base += _bitpath(cl, 40)
            if not sak & 0x04:
                return uid + cl[:4], sak, nodes
            if cl[0] != CASCADE_TAG:
                raise GarbledCard("mfrc522", f"cascade bit set without cascade tag {cl.hex()}")
            uid += cl[1:4]
        raise GarbledCard("mfrc522", "cascade bit still set after level 3")

    def scan(self, max_cards: int = 4) -> list[bytes]:
        """Every card in the field (at most ``max_cards``), each selected then halted.

        WUPA wakes the cards halted by the previous scan, so a card held on the reader is
        seen in every scan. One card: one WUPA, one anticollision and select, one HLTA.
        Several: the anticollision tree is walked across rounds, each round waking the cards
        again and steering away from branches already read, until every branch is.
        """
        uids: list[bytes] = []
        if not self.request(wake_up=True):
            return uids
        exhausted: set[str] = set()
        while len(uids) < max_cards:
            uid, _sak, nodes = self.select(exhausted)
            self.halt()
            if uid not in uids:
                uids.append(uid)
            if not nodes and not self._atqa_collided:
                break  # nobody collided: that was the only card
            if not nodes or _mark_read(nodes, exhausted):
                break  # every branch of the tree is read
            if not self.request(wake_up=True):
                break
        return uids


def _bitpath(cl: bytes | bytearray, count: int) -> str:
    return "".join(str(cl[i // 8] >> (i % 8) & 1) for i in range(count))


def _mark_read(nodes: list[tuple[str, str]], exhausted: set[str]) -> bool:
    """Mark the branch just read; True once both branches of the first collision are read."""
    prefix, branch = nodes[-1]
    exhausted.add(prefix + branch)
    for (prefix, _), (outer, outer_branch) in zip(reversed(nodes), reversed(nodes[:-1]),
                                                  strict=False):
        if prefix + "0" in exhausted and prefix + "1" in exhausted:
            exhausted.add(outer + outer_branch)
    root = nodes[0][0]
    return root + "0" in exhausted and root + "1" in exhausted


def cascade_levels(uid: bytes) -> list[bytes]:
    """The CLn fields (four bytes and BCC) of a 4-, 7- or 10-byte UID, level by level."""
    parts = {4: [uid], 7: [bytes([CASCADE_TAG]) + uid[:3], uid[3:]],
             10: [bytes([CASCADE_TAG]) + uid[:3], bytes([CASCADE_TAG]) + uid[3:6], uid[6:]]}
    return [p + bytes([p[0] ^ p[1] ^ p[2] ^ p[3]]) for p in parts[len(uid)]]


class MFRC522Reader:
    """A :class:`~kiosk.readers.base.BadgeReader` for an MFRC522 on the Pi's SPI bus."""

    name = "mfrc522"

    def __init__(self, *, pin_factory=None, spi_port: int = 0, spi_device: int = 0,
                 reset_pin: int | str | None = 25, irq_pin: int | str | None = 24,
                 spi_rate_hz: int = 1_000_000, poll_interval_s: float = 0.1,
                 timeout_ms: float = 10.0, health_interval_s: float = 2.0,
                 repeat_s: float = 3.0, max_cards: int = 4,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pin_factory = pin_factory
        self.spi_port, self.spi_device = spi_port, spi_device
        self.reset_pin, self.irq_pin = reset_pin, irq_pin
        self.spi_rate_hz = spi_rate_hz
        self.poll_interval_s = poll_interval_s
        self.timeout_ms = timeout_ms
        self.health_interval_s = health_interval_s
        self.max_cards = max_cards
        self.clock = clock
        self._filter = TapFilter(repeat_s)
        self._worker = ReaderThread("mfrc522-reader", join_s=2)
        self._devices: list = []
        self.chip: MFRC522 | None = None
        self.version: int | None = None
        self._healthy = False
        self.polls = 0
        self.garbled = 0

    @classmethod
    def from_options(cls, options, pin_factory=None) -> MFRC522Reader:
        from kiosk.readers.factory import optional_pin

        return cls(
            pin_factory=pin_factory,
            spi_port=options.get("spi_port", int, 0),
            spi_device=options.get("spi_device", int, 0),
            reset_pin=optional_pin(options, "reset_pin", 25),
            irq_pin=optional_pin(options, "irq_pin", 24),
            spi_rate_hz=options.positive("spi_rate_hz", int, 1_000_000),
            poll_interval_s=_bounded(options, "poll_interval_s", 0.1, 0.02, 1.0),
            timeout_ms=_bounded(options, "timeout_ms", 10.0, 1.0, 100.0),
            health_interval_s=options.positive("health_interval_s", float, 2.0),
            repeat_s=options.positive("repeat_s", float, 3.0),
            max_cards=options.positive("max_cards", int, 4),
        )

    OPTIONS = frozenset({"spi_port", "spi_device", "reset_pin", "irq_pin", "spi_rate_hz",
                         "poll_interval_s", "timeout_ms", "health_interval_s", "repeat_s",
                         "max_cards"})

    @property
    def healthy(self) -> bool:
        return self._healthy

    # ---- life cycle -----------------------------------------------------------------------
    def open(self) -> MFRC522:
        """Claim the SPI bus and pins; ReaderError if the platform cannot give them."""
        from gpiozero import Device, DigitalInputDevice, DigitalOutputDevice
        from gpiozero.exc import GPIOZeroError

        factory = self.pin_factory
        if factory is None:
            Device.ensure_pin_factory()
            factory = Device.pin_factory
        try:
            spi = factory.spi(port=self.spi_port, device=self.spi_device)
            self._devices.append(spi)
            # SPIFixedRate (an AttributeError): software SPI runs as fast as it can.
            with contextlib.suppress(AttributeError):
                spi.rate = self.spi_rate_hz
            reset = irq = None
            if self.reset_pin is not None:
                reset = DigitalOutputDevice(self.reset_pin, initial_value=True,
                                            pin_factory=factory)
                self._devices.append(reset)
            if self.irq_pin is not None:
                irq = DigitalInputDevice(self.irq_pin, pull_up=True, pin_factory=factory)
                self._devices.append(irq)
        except (GPIOZeroError, OSError, ImportError) as err:
            self._release()
            raise ReaderError(self.name, f"cannot open SPI{self.spi_port} CE{self.spi_device} "
                                         f"(reset {self.reset_pin}, IRQ {self.irq_pin}): {err}; "
                                         f"is SPI enabled (dtparam=spi=on)?") from err
        self.chip = MFRC522(spi, reset=reset, irq=irq, timeout_ms=self.timeout_ms,
                            clock=self.clock)
        return self.chip

    def start(self, on_tap: TapCallback) -> None:
        self._worker.ensure_idle()
        if self.chip is None:
            self.open()
        self._worker.start(lambda: self._run(on_tap))

    def close(self) -> None:
        self._worker.end()
        if self.chip is not None and self._healthy:
            try:
                self.chip.antenna_off()
            except Exception:  # closing must not fail on a dead bus
                log.debug("antenna off failed on close", exc_info=True)
        self._release()
        self.chip = None
        self._healthy = False

    def _release(self) -> None:
        for device in reversed(self._devices):
            device.close()
        self._devices.clear()

    # ---- the poll loop --------------------------------------------------------------------------
    def _run(self, on_tap: TapCallback) -> None:
        backoff = 0.5
        next_probe = 0.0
        while not self._worker.stop.is_set():
            if not self._healthy:
                if self._recover():
                    backoff = 0.5
                    next_probe = self.clock() + self.health_interval_s
                else:
                    self._worker.stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
            now = self.clock()
            if now >= next_probe:
                next_probe = now + self.health_interval_s
                if not self._probe():
                    continue
            self.poll_once(on_tap)
            self._worker.stop.wait(self.poll_interval_s)

    def poll_once(self, on_tap: TapCallback) -> list[BadgeTap]:
        """One scan of the field; returns the taps it passed on (tests call it directly)."""
        assert self.chip is not None
        self.polls += 1
        taps = []
        try:
            uids = self.chip.scan(self.max_cards)
        except GarbledCard as err:
            self.garbled += 1
            log.warning("mfrc522: unreadable card ignored: %s", err.problem)
            return taps
        except ChipNotAnswering as err:
            self._mark_faulty(err.problem)
            return taps
        except OSError as err:
            self._mark_faulty(f"SPI error {err}")
            return taps
        now = self.clock()
        for uid in uids:
            badge = normalise_badge(uid)
            if self._filter.seen(badge, now):
                tap = BadgeTap(badge, now, self.name)
                taps.append(tap)
                try:
                    on_tap(tap)
                except Exception:
                    log.exception("mfrc522: tap handler failed for a tap")
        return taps

    def _probe(self) -> bool:
        assert self.chip is not None
        try:
            version = self.chip.version()
        except OSError as err:
            self._mark_faulty(f"SPI error {err}")
            return False
        if version != self.version:
            self._mark_faulty(f"version register reads {version:02X}h, "
                              f"expected {self.version:02X}h")
            return False
        return True

    def _mark_faulty(self, problem: str) -> None:
        if self._healthy:
            log.error("mfrc522: reader fault: %s; resetting the chip", problem)
        self._healthy = False

    def _recover(self) -> bool:
        assert self.chip is not None
        try:
            version = self.chip.init()
        except (ChipNotAnswering, OSError) as err:
            log.warning("mfrc522: chip not answering: %s", getattr(err, "problem", err))
            return False
        if version not in KNOWN_VERSIONS:
            log.warning("mfrc522: unknown version %02Xh, trying it anyway", version)
        self.version = version
        self._healthy = True
        log.info("mfrc522: %s ready (version %02Xh, %s)",
                 KNOWN_VERSIONS.get(version, "unknown chip"), version,
                 "IRQ wired" if self.chip.irq is not None else "polling status")
        return True


def _bounded(options, name: str, default: float, low: float, high: float) -> float:
    value = options.get(name, float, default)
    if not low <= value <= high:
        raise options.error(name, f"must be between {low:g} and {high:g}, got {value:g}")
    return value
