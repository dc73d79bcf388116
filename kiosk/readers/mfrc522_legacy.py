"""The ``mfrc522`` PyPI package (0.0.7) as a selectable backend, for stations already on it.

Prefer ``kind = "mfrc522"`` (:mod:`kiosk.readers.mfrc522_spi`). This backend exists so that a
school whose badges were enrolled with the package's ``SimpleMFRC522.read_id()`` numbers can
keep them. Its limits, all verified in the package source and against the emulated chip:

* Each poll with no card spins on up to 2000 ``CommIrqReg`` reads: the wait loop in
  ``MFRC522_ToCard`` never ends on the chip's TimerIRq (its test is ``~(...)`` on ints, which
  is true only for RxIRq or IdleIRq). We sleep ``poll_interval_s`` between polls, which the
  package's own ``read()``/``read_id()`` never do, but a single poll is still a busy loop.
* Only cascade level 1: a 7- or 10-byte UID comes back as ``88`` plus three bytes. With
  ``id_format = "hex"`` those cards are refused (two NTAGs from one maker would look alike);
  with ``"legacy-decimal"`` the package's number is passed on, as stations enrolled it.
* REQA only, never HLTA: a card held on the reader is seen on every other poll (the READY
  card falls back to IDLE on the next REQA). The tap filter makes that one tap.
* With ``GPIO.setmode(GPIO.BCM)`` already called (gpiozero or another library may do it),
  the package's default reset pin 15 means BCM GPIO15, UART RX, not GPIO25. We always pass
  the reset pin explicitly in the numbering mode in force.
* The ``RPi.GPIO`` package does not run on the Pi 5. Devices import ``RPi.GPIO`` from
  ``rpi-lgpio`` (a drop-in over lgpio) on every board; the device wheelhouse leaves the
  ``RPi.GPIO`` package out. Better still, use ``kind = "mfrc522"``.
* No health probe, no IRQ, no collision handling (two cards: the anticollision answer has a
  bad BCC and the poll fails). We add a version-register probe and a reset.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kiosk.readers.base import BadgeTap, ReaderThread, TapCallback, TapFilter, normalise_badge
from stations.errors import ReaderError

log = logging.getLogger(__name__)

ID_FORMATS = ("hex", "legacy-decimal")

#: 40-pin header: physical (BOARD) pin to BCM GPIO number.
BOARD_TO_BCM = {3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23,
                18: 24, 19: 10, 21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 29: 5, 31: 6, 32: 12,
                33: 13, 35: 19, 36: 16, 37: 26, 38: 20, 40: 21}


class LegacyMFRC522Reader:
    """A :class:`~kiosk.readers.base.BadgeReader` over ``mfrc522.MFRC522`` (0.0.7)."""

    name = "mfrc522-legacy"
    OPTIONS = frozenset({"spi_bus", "spi_device", "spi_speed_hz", "reset_pin_bcm",
                         "poll_interval_s", "health_interval_s", "repeat_s", "id_format"})

    def __init__(self, *, spi_bus: int = 0, spi_device: int = 0, spi_speed_hz: int = 1_000_000,
                 reset_pin_bcm: int = 25, poll_interval_s: float = 0.1,
                 health_interval_s: float = 2.0, repeat_s: float = 3.0,
                 id_format: str = "hex", clock: Callable[[], float] = time.monotonic) -> None:
        if id_format not in ID_FORMATS:
            raise ValueError(f"id_format must be one of {ID_FORMATS}, not {id_format!r}")
        self.spi_bus, self.spi_device, self.spi_speed_hz = spi_bus, spi_device, spi_speed_hz
        self.reset_pin_bcm = reset_pin_bcm
        self.poll_interval_s = poll_interval_s
        self.health_interval_s = health_interval_s
        self.id_format = id_format
        self.clock = clock
        self._filter = TapFilter(repeat_s)
        self._worker = ReaderThread("mfrc522-legacy", join_s=5)
        self.device = None
        self._gpio = None
        self._reset_pin = reset_pin_bcm
        self._healthy = False
        self._warned_cascade = False
        self.polls = 0

    @classmethod
    def from_options(cls, options) -> LegacyMFRC522Reader:
        id_format = options.get("id_format", str, "hex")
        if id_format not in ID_FORMATS:
            raise options.error("id_format", f"must be one of {', '.join(ID_FORMATS)}, "
                                             f"got {id_format!r}")
        from kiosk.readers.mfrc522_spi import _bounded

        return cls(spi_bus=options.get("spi_bus", int, 0),
                   spi_device=options.get("spi_device", int, 0),
                   spi_speed_hz=options.positive("spi_speed_hz", int, 1_000_000),
                   reset_pin_bcm=options.get("reset_pin_bcm", int, 25),
                   poll_interval_s=_bounded(options, "poll_interval_s", 0.1, 0.02, 1.0),
                   health_interval_s=options.positive("health_interval_s", float, 2.0),
                   repeat_s=options.positive("repeat_s", float, 3.0),
                   id_format=id_format)

    @property
    def healthy(self) -> bool:
        return self._healthy

    def open(self):
        """Import the package and construct its ``MFRC522``; ReaderError if that fails."""
        try:
            import RPi.GPIO as GPIO
            from mfrc522 import MFRC522
        except (ImportError, RuntimeError) as err:
            raise ReaderError(self.name, f"the mfrc522 package cannot load ({err}); devices "
                                         f"need rpi-lgpio (the device wheelhouse), or use "
                                         f"kind = \"mfrc522\"") from err
        self._gpio = GPIO
        # The package picks pin 15 for BCM mode (UART RX); always name GPIO25 ourselves.
        mode = GPIO.getmode()
        if mode == GPIO.BCM:
            self._reset_pin = self.reset_pin_bcm
        else:
            board = {bcm: board for board, bcm in BOARD_TO_BCM.items()}
            if self.reset_pin_bcm not in board:
                raise ReaderError(self.name, f"GPIO{self.reset_pin_bcm} is not on the header")
            self._reset_pin = board[self.reset_pin_bcm]
        try:
            self.device = MFRC522(bus=self.spi_bus, device=self.spi_device,
                                  spd=self.spi_speed_hz, pin_mode=mode or GPIO.BOARD,
                                  pin_rst=self._reset_pin)
        except (OSError, RuntimeError, ValueError) as err:
            raise ReaderError(self.name, f"cannot open /dev/spidev{self.spi_bus}."
                                         f"{self.spi_device}: {err}") from err
        # The package adds a StreamHandler to its logger on every construction.
        pkg_log = logging.getLogger("mfrc522Logger")
        for handler in list(pkg_log.handlers):
            pkg_log.removeHandler(handler)
        self._version = self.device.Read_MFRC522(self.device.VersionReg)
        self._healthy = self._version not in (0x00, 0xFF)
        return self.device

    def start(self, on_tap: TapCallback) -> None:
        self._worker.ensure_idle()
        if self.device is None:
            self.open()
        self._worker.start(lambda: self._run(on_tap))

    def close(self) -> None:
        self._worker.end()
        if self.device is not None:
            # Close_MFRC522 calls GPIO.cleanup(), which would release every other pin too.
            self.device.spi.close()
            self._gpio.cleanup(self._reset_pin)
            self.device = None
        self._healthy = False

    def _run(self, on_tap: TapCallback) -> None:
        next_probe = 0.0
        while not self._worker.stop.is_set():
            now = self.clock()
            if now >= next_probe:
                next_probe = now + self.health_interval_s
                self._probe()
            if self._healthy:
                self.poll_once(on_tap)
            self._worker.stop.wait(self.poll_interval_s if self._healthy else 1.0)

    def _probe(self) -> None:
        dev = self.device
        version = dev.Read_MFRC522(dev.VersionReg)
        if version not in (0x00, 0xFF):
            self._healthy = True
            return
        if self._healthy:
            log.error("mfrc522-legacy: reader fault: version register reads %02Xh; "
                      "resetting the chip", version)
        self._healthy = False
        self._gpio.output(self._reset_pin, 0)
        time.sleep(0.001)
        self._gpio.output(self._reset_pin, 1)
        time.sleep(0.05)
        if dev.Read_MFRC522(dev.VersionReg) not in (0x00, 0xFF):
            dev.MFRC522_Init()
            self._healthy = True
            log.info("mfrc522-legacy: chip answers again after reset")

    def poll_once(self, on_tap: TapCallback) -> list[BadgeTap]:
        """One REQA + level-1 anticollision through the package; the taps passed on."""
        dev = self.device
        self.polls += 1
        status, _ = dev.MFRC522_Request(dev.PICC_REQIDL)
        if status != dev.MI_OK:
            return []
        status, uid = dev.MFRC522_Anticoll()
        if status != dev.MI_OK or len(uid) != 5:
            log.debug("mfrc522-legacy: anticollision failed (status %s)", status)
            return []
        if self.id_format == "legacy-decimal":
            badge = str(int.from_bytes(bytes(uid[:5]), "big"))  # SimpleMFRC522.uid_to_num
        elif uid[0] == 0x88:
            if not self._warned_cascade:
                log.error("mfrc522-legacy: card with a 7- or 10-byte UID (cascade tag 88h) "
                          "cannot be read by the mfrc522 package; use kind = \"mfrc522\"")
                self._warned_cascade = True
            return []
        else:
            badge = bytes(uid[:4]).hex()
        badge = normalise_badge(badge)
        now = self.clock()
        if not self._filter.seen(badge, now):
            return []
        tap = BadgeTap(badge, now, self.name)
        try:
            on_tap(tap)
        except Exception:
            log.exception("mfrc522-legacy: tap handler failed")
        return [tap]
