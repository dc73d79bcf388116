"""The pin map (``hardware/pinmap.toml``): which GPIO drives what, on the kiosk and on the puck.

Loaded once at start into frozen dataclasses and checked: a GPIO is used at most once per
board, the reader's SPI0 pins are never reused for anything else, reserved pins stay free, and
every pin exists on that board's header. Every error names the file, the key and the problem.

``python -m kiosk.pinmap --micropython puck`` prints ``firmware/stationpuck/pins.py``, so the
firmware (which has no TOML parser) reads the same map.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from stations.errors import ConfigError
from stations.tomlconfig import Section, load_toml

#: The map shipped in the repository.
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "hardware" / "pinmap.toml"

SCHEMA_VERSION = 1

#: Raspberry Pi 40-pin header, physical pin → name (Pi 4, Pi 5 and Zero 2 W share it).
PI_HEADER: Mapping[int, str] = MappingProxyType({
    1: "3V3", 2: "5V", 3: "GPIO2", 4: "5V", 5: "GPIO3", 6: "GND", 7: "GPIO4", 8: "GPIO14",
    9: "GND", 10: "GPIO15", 11: "GPIO17", 12: "GPIO18", 13: "GPIO27", 14: "GND", 15: "GPIO22",
    16: "GPIO23", 17: "3V3", 18: "GPIO24", 19: "GPIO10", 20: "GND", 21: "GPIO9", 22: "GPIO25",
    23: "GPIO11", 24: "GPIO8", 25: "GND", 26: "GPIO7", 27: "GPIO0", 28: "GPIO1", 29: "GPIO5",
    30: "GND", 31: "GPIO6", 32: "GPIO12", 33: "GPIO13", 34: "GND", 35: "GPIO19", 36: "GPIO16",
    37: "GPIO26", 38: "GPIO20", 39: "GND", 40: "GPIO21",
})

#: Raspberry Pi Pico / Pico W castellated header, physical pin → name.
PICO_HEADER: Mapping[int, str] = MappingProxyType({
    1: "GP0", 2: "GP1", 3: "GND", 4: "GP2", 5: "GP3", 6: "GP4", 7: "GP5", 8: "GND", 9: "GP6",
    10: "GP7", 11: "GP8", 12: "GP9", 13: "GND", 14: "GP10", 15: "GP11", 16: "GP12", 17: "GP13",
    18: "GND", 19: "GP14", 20: "GP15", 21: "GP16", 22: "GP17", 23: "GND", 24: "GP18",
    25: "GP19", 26: "GP20", 27: "GP21", 28: "GND", 29: "GP22", 30: "RUN", 31: "GP26",
    32: "GP27", 33: "AGND", 34: "GP28", 35: "ADC_VREF", 36: "3V3", 37: "3V3_EN", 38: "GND",
    39: "VSYS", 40: "VBUS",
})


@dataclass(frozen=True, slots=True)
class HeaderKind:
    """A board's header: pin names, how a GPIO is spelled, which pins may be SPI0."""

    key: str
    pins: Mapping[int, str]
    gpio_prefix: str
    #: Power rail name → the name its header pins carry.
    rails: Mapping[str, str]
    #: SPI0 function → GPIOs that can carry it (the chip select on the Pico is any GPIO).
    spi0: Mapping[str, frozenset[int] | None]

    def gpio_name(self, gpio: int) -> str:
        return f"{self.gpio_prefix}{gpio}"

    def header_pin(self, gpio: int) -> int | None:
        name = self.gpio_name(gpio)
        return next((pin for pin, label in self.pins.items() if label == name), None)

    def rail_pins(self, rail: str) -> tuple[int, ...]:
        label = self.rails[rail]
        return tuple(pin for pin, name in self.pins.items() if name == label)


HEADERS: Mapping[str, HeaderKind] = MappingProxyType({
    "raspberry-pi-40": HeaderKind(
        "raspberry-pi-40", PI_HEADER, "GPIO",
        MappingProxyType({"3V3": "3V3", "5V": "5V", "GND": "GND"}),
        MappingProxyType({"sck": frozenset({11}), "mosi": frozenset({10}),
                          "miso": frozenset({9}), "cs": frozenset({8, 7})})),
    "pico-40": HeaderKind(
        "pico-40", PICO_HEADER, "GP", MappingProxyType({"3V3": "3V3", "5V": "VBUS", "GND": "GND"}),
        MappingProxyType({"sck": frozenset({2, 6, 18}), "mosi": frozenset({3, 7, 19}),
                          "miso": frozenset({0, 4, 16}), "cs": None})),
})

ROLES = ("output", "input", "pwm", "uart-rx")
PULLS = ("up", "down", "none")
_PART_PIN = re.compile(r"^[A-Z]+[0-9]+:[A-Za-z0-9.+\-_]+$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class PartPin:
    """A pin of a part in the schematic, e.g. ``U2:SCK``."""

    ref: str
    pin: str

    def __str__(self) -> str:
        return f"{self.ref}:{self.pin}"


@dataclass(frozen=True, slots=True)
class Signal:
    """One GPIO and what it is wired to."""

    name: str
    gpio: int
    to: PartPin
    role: str = "output"
    pull: str = "none"


@dataclass(frozen=True, slots=True)
class PowerLink:
    """A part's supply pin and the rail that feeds it."""

    name: str
    rail: str
    to: PartPin


@dataclass(frozen=True, slots=True)
class SpiBus:
    """The reader's SPI bus: bus number, chip select index and its four signals."""

    bus: int
    device: int
    baudrate: int
    sck: Signal
    mosi: Signal
    miso: Signal
    cs: Signal

    @property
    def signals(self) -> tuple[Signal, ...]:
        return (self.sck, self.mosi, self.miso, self.cs)


@dataclass(frozen=True, slots=True)
class Board:
    """One board's pins, validated."""

    key: str
    title: str
    header: HeaderKind
    connector: str
    schematic: Path
    spi: SpiBus
    signals: Mapping[str, Signal]
    power: Mapping[str, PowerLink]
    reserved: Mapping[int, str]

    def gpio(self, name: str) -> int:
        """The GPIO number of a signal (``"led_red"``) or SPI line (``"spi.sck"``)."""
        if name.startswith("spi."):
            return getattr(self.spi, name[4:]).gpio
        try:
            return self.signals[name].gpio
        except KeyError:
            raise KeyError(f"{self.key} has no signal {name!r}; it has "
                           f"{', '.join(sorted(self.signals))}") from None

    def pin_name(self, name: str) -> str:
        """The pin as gpiozero (``"GPIO17"``) or MicroPython (``"GP13"``) spells it."""
        return self.header.gpio_name(self.gpio(name))

    def all_signals(self) -> tuple[Signal, ...]:
        return (*self.spi.signals, *self.signals.values())


@dataclass(frozen=True, slots=True)
class PinMap:
    path: Path
    version: int
    boards: Mapping[str, Board]

    @property
    def kiosk(self) -> Board:
        return self.boards["kiosk"]

    @property
    def puck(self) -> Board:
        return self.boards["puck"]


def load_pinmap(path: Path | str = DEFAULT_PATH) -> PinMap:
    """Read and check a pin map; ConfigError naming file, key and problem if anything is off."""
    path = Path(path)
    root = Section(path, load_toml(path))
    version = root.get("version", int, required=True)
    if version != SCHEMA_VERSION:
        raise root.error("version", f"is {version}, this code reads version {SCHEMA_VERSION}")
    boards = {key: _board(root.table(key), key, path) for key in ("kiosk", "puck")}
    root.check_unknown()
    return PinMap(path, version, MappingProxyType(boards))


def _part_pin(section: Section, name: str) -> PartPin:
    text = section.get(name, str, required=True)
    if not _PART_PIN.match(text):
        raise section.error(name, f"must look like REF:PIN (e.g. U2:SCK), got {text!r}")
    ref, pin = text.split(":", 1)
    return PartPin(ref, pin)


def _signal(section: Section, name: str, header: HeaderKind) -> Signal:
    gpio = section.get("gpio", int, required=True)
    if header.header_pin(gpio) is None:
        raise section.error("gpio", f"{header.gpio_name(gpio)} is not on the {header.key} header")
    role = section.get("role", str, "output")
    if role not in ROLES:
        raise section.error("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
    pull = section.get("pull", str, "none")
    if pull not in PULLS:
        raise section.error("pull", f"must be one of {', '.join(PULLS)}, got {pull!r}")
    return Signal(name, gpio, _part_pin(section, "to"), role, pull)


def _board(section: Section, key: str, path: Path) -> Board:
    header_key = section.get("header", str, required=True)
    header = HEADERS.get(header_key)
    if header is None:
        raise section.error("header", f"unknown header {header_key!r} (known: "
                                      f"{', '.join(HEADERS)})")
    schematic = (path.parent / section.get("schematic", str, required=True)).resolve()

    reserved: dict[int, str] = {}
    for entry in section.tables("reserved", required=False):
        gpio = entry.get("gpio", int, required=True)
        reserved[gpio] = entry.get("why", str, required=True)

    spi_section = section.table("spi")
    bus = spi_section.get("bus", int, required=True)
    if bus != 0:
        raise spi_section.error("bus", f"the reader is wired to SPI0, got bus {bus}")
    lines = {}
    for line, allowed in header.spi0.items():
        sig = _signal(spi_section.table(line), f"spi.{line}", header)
        if allowed is not None and sig.gpio not in allowed:
            raise spi_section.error(f"{line}.gpio", f"{header.gpio_name(sig.gpio)} cannot carry "
                                    f"SPI0 {line.upper()} (allowed: "
                                    f"{', '.join(header.gpio_name(g) for g in sorted(allowed))})")
        lines[line] = sig
    spi = SpiBus(bus, spi_section.get("device", int, 0), spi_section.positive(
        "baudrate", int, 1_000_000), **lines)

    owner: dict[int, str] = {}

    def claim(sig: Signal, where: Section, key_name: str) -> None:
        label = header.gpio_name(sig.gpio)
        if sig.gpio in reserved:
            raise where.error(key_name, f"{label} is reserved ({reserved[sig.gpio]})")
        if sig.gpio in owner:
            first = owner[sig.gpio]
            problem = (f"{label} is SPI0 {first[4:].upper()} (the reader) and must not be reused"
                       if first.startswith("spi.") else f"{label} is already used by {first}")
            raise where.error(key_name, problem)
        owner[sig.gpio] = sig.name

    for sig in spi.signals:
        claim(sig, spi_section, f"{sig.name[4:]}.gpio")
    signals_section = section.table("signals")
    signals: dict[str, Signal] = {}
    for name in signals_section.data:
        if not _NAME.match(name):
            raise signals_section.error(name, "signal names are lower_case_with_underscores")
        sig = _signal(signals_section.table(name), name, header)
        claim(sig, signals_section, f"{name}.gpio")
        signals[name] = sig

    power_section = section.table("power", required=False)
    power: dict[str, PowerLink] = {}
    for name in power_section.data:
        entry = power_section.table(name)
        rail = entry.get("rail", str, required=True)
        if rail not in header.rails:
            raise entry.error("rail", f"must be one of {', '.join(header.rails)}, got {rail!r}")
        power[name] = PowerLink(name, rail, _part_pin(entry, "to"))
    reader_ref = spi.cs.to.ref
    for link in power.values():
        if link.to.ref == reader_ref and link.rail == "5V":
            raise power_section.error(f"{link.name}.rail", f"{link.to} is the MFRC522 reader: "
                                      "it takes 3.3 V only")

    return Board(
        key=key,
        title=section.get("title", str, key),
        header=header,
        connector=section.get("connector", str, required=True),
        schematic=schematic,
        spi=spi,
        signals=MappingProxyType(signals),
        power=MappingProxyType(power),
        reserved=MappingProxyType(reserved),
    )


def micropython_pins(board: Board) -> str:
    """The pin map of one board as a MicroPython module (the firmware has no TOML parser)."""
    out = [
        f'"""Pins of the {board.title}.',
        "",
        f"Generated from hardware/pinmap.toml [{board.key}] by",
        f"``python -m kiosk.pinmap --micropython {board.key}``; do not edit by hand.",
        '"""',
        "",
        f"SPI_BUS = {board.spi.bus}",
        f"SPI_BAUDRATE = {board.spi.baudrate}",
    ]
    for sig in board.spi.signals:
        out.append(f"SPI_{sig.name[4:].upper()} = {sig.gpio}")
    for sig in board.signals.values():
        out.append(f"{sig.name.upper()} = {sig.gpio}")
    buttons = [s.gpio for n, s in sorted(board.signals.items()) if n.startswith("button_")]
    out.append(f"BUTTONS = ({', '.join(map(str, buttons))}{',' if len(buttons) == 1 else ''})")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.pinmap",
                                     description="Check the pin map, or print a board's pins.")
    parser.add_argument("--file", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--micropython", metavar="BOARD",
                        help="print BOARD's pins as a MicroPython module")
    args = parser.parse_args(argv)
    try:
        pinmap = load_pinmap(args.file)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.micropython:
        if args.micropython not in pinmap.boards:
            print(f"error: no board {args.micropython!r}", file=sys.stderr)
            return 2
        sys.stdout.write(micropython_pins(pinmap.boards[args.micropython]))
        return 0
    for board in pinmap.boards.values():
        used = ", ".join(f"{s.name}={board.header.gpio_name(s.gpio)}"
                         for s in board.all_signals())
        print(f"{board.key}: {used}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
