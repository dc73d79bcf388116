"""Build the badge reader a station's config asks for.

::

    [reader]
    kind = "mfrc522"      # simulated | mfrc522 | mfrc522-legacy | rdm6300 | keyboard | puck
    irq_pin = 24          # options of that kind; a misspelt key is an error, not ignored

Hardware packages are imported only when their reader is built, so this module imports
anywhere.
"""

from __future__ import annotations

from kiosk.readers.base import BadgeReader
from stations.tomlconfig import Section, unknown_key_problem

KINDS = ("simulated", "mfrc522", "mfrc522-legacy", "rdm6300", "keyboard", "puck")
SIMULATED_OPTIONS = frozenset({"repeat_s"})
PUCK_OPTIONS = frozenset({"port", "baudrate", "repeat_s", "heartbeat_timeout_s", "reopen_s"})


def reader_options(kind: str) -> frozenset[str]:
    """Every key a ``[reader]`` table of ``kind`` may hold (``kind`` itself included); no
    hardware package is imported."""
    if kind == "mfrc522":
        from kiosk.readers.mfrc522_spi import MFRC522Reader as reader
    elif kind == "mfrc522-legacy":
        from kiosk.readers.mfrc522_legacy import LegacyMFRC522Reader as reader
    elif kind == "rdm6300":
        from kiosk.readers.rdm6300 import RDM6300Reader as reader
    elif kind == "keyboard":
        from kiosk.readers.keyboard import KeyboardReader as reader
    else:
        return frozenset({"kind"}) | (PUCK_OPTIONS if kind == "puck" else SIMULATED_OPTIONS)
    return frozenset({"kind"}) | reader.OPTIONS


def create_reader(kind: str, options: Section, *, pin_factory=None) -> BadgeReader:
    """A reader of ``kind`` configured from ``options``; ConfigError naming the bad key."""
    if kind == "simulated":
        from kiosk.readers.simulated import SimulatedReader

        _only(options, SIMULATED_OPTIONS)
        return SimulatedReader(options.positive("repeat_s", float, 3.0))
    if kind == "mfrc522":
        from kiosk.readers.mfrc522_spi import MFRC522Reader

        _only(options, MFRC522Reader.OPTIONS)
        return MFRC522Reader.from_options(options, pin_factory=pin_factory)
    if kind == "mfrc522-legacy":
        from kiosk.readers.mfrc522_legacy import LegacyMFRC522Reader

        _only(options, LegacyMFRC522Reader.OPTIONS)
        return LegacyMFRC522Reader.from_options(options)
    if kind == "rdm6300":
        from kiosk.readers.rdm6300 import RDM6300Reader

        _only(options, RDM6300Reader.OPTIONS)
        return RDM6300Reader.from_options(options)
    if kind == "keyboard":
        from kiosk.readers.keyboard import KeyboardReader

        _only(options, KeyboardReader.OPTIONS)
        return KeyboardReader.from_options(options)
    if kind == "puck":
        # The Pico station puck over USB serial: kiosk/readers/puck.py validates its own keys.
        from kiosk.readers.puck import PuckReader, find_puck_port

        _only(options, PUCK_OPTIONS)
        # "auto" finds the first Pico on USB by its vendor id.
        port = options.get("port", str, "auto")
        return PuckReader(find_puck_port() if port == "auto" else port,
                          baudrate=options.positive("baudrate", int, 115200),
                          repeat_s=options.positive("repeat_s", float, 3.0),
                          heartbeat_timeout_s=options.positive("heartbeat_timeout_s", float, 3.5),
                          reopen_s=options.positive("reopen_s", float, 1.0))
    raise options.error("kind", f"unknown reader kind {kind!r}; choose one of "
                                f"{', '.join(KINDS)}")


def _only(options: Section, allowed: frozenset[str]) -> None:
    for key in options.data:
        if key != "kind" and key not in allowed:
            raise options.error(key, f"is not an option of this reader: "
                                     f"{unknown_key_problem(key, allowed)}")


def optional_pin(options: Section, name: str, default: int | None) -> int | str | None:
    """A GPIO number, a gpiozero pin name (``"GPIO24"``, ``"BOARD18"``), or false for none."""
    if name not in options.data:
        return default
    value = options.data[name]
    if value is False:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise options.error(name, f"must be a GPIO number, a pin name or false, got {value!r}")
    if isinstance(value, int) and not 0 <= value <= 27:
        raise options.error(name, f"GPIO{value} is not on the 40-pin header (0-27)")
    return value
