"""create_reader builds each kind from its config table and names the key when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.readers.base import BadgeReader
from kiosk.readers.factory import KINDS, create_reader
from stations.errors import ConfigError
from stations.tomlconfig import Section

PATH = Path("/etc/stations/station.toml")


def section(**data) -> Section:
    return Section(PATH, data, "reader.")


@pytest.mark.parametrize(("kind", "options", "cls"), [
    ("simulated", {}, "SimulatedReader"),
    ("mfrc522", {"irq_pin": False, "poll_interval_s": 0.05}, "MFRC522Reader"),
    ("mfrc522-legacy", {"id_format": "legacy-decimal"}, "LegacyMFRC522Reader"),
    ("rdm6300", {"port": "/dev/ttyAMA0"}, "RDM6300Reader"),
    ("keyboard", {"device": "/dev/input/by-id/usb-x-event-kbd"}, "KeyboardReader"),
])
def test_each_kind_builds_its_reader_without_touching_hardware(kind, options, cls) -> None:
    reader = create_reader(kind, section(kind=kind, **options))
    assert type(reader).__name__ == cls
    assert isinstance(reader, BadgeReader)
    assert reader.name == kind
    assert not reader.healthy or kind == "simulated"


def test_mfrc522_options_reach_the_driver() -> None:
    reader = create_reader("mfrc522", section(reset_pin=17, irq_pin="GPIO23", spi_device=1,
                                              timeout_ms=20))
    assert (reader.reset_pin, reader.irq_pin, reader.spi_device) == (17, "GPIO23", 1)
    assert reader.timeout_ms == 20.0
    default = create_reader("mfrc522", section())
    assert (default.reset_pin, default.irq_pin, default.spi_port) == (25, 24, 0)


@pytest.mark.parametrize(("kind", "options", "key", "words"), [
    ("nfc-magic", {}, "reader.kind", "unknown reader kind"),
    ("mfrc522", {"irq_pn": 24}, "reader.irq_pn", "not an option"),
    ("mfrc522", {"irq_pin": 40}, "reader.irq_pin", "not on the 40-pin header"),
    ("mfrc522", {"irq_pin": True}, "reader.irq_pin", "GPIO number"),
    ("mfrc522", {"poll_interval_s": 0.001}, "reader.poll_interval_s", "between"),
    ("mfrc522", {"spi_port": "0"}, "reader.spi_port", "must be a int"),
    ("mfrc522-legacy", {"id_format": "octal"}, "reader.id_format", "legacy-decimal"),
    ("rdm6300", {"baudrate": 0}, "reader.baudrate", "greater than 0"),
    ("rdm6300", {"id_format": "dec"}, "reader.id_format", "hex, decimal"),
    ("keyboard", {}, "reader.device", "name_contains"),
    ("simulated", {"repeat_s": -1.0}, "reader.repeat_s", "greater than 0"),
])
def test_config_errors_name_file_and_key(kind, options, key, words) -> None:
    with pytest.raises(ConfigError) as err:
        create_reader(kind, section(**options))
    assert err.value.key == key
    assert words in err.value.problem
    assert str(PATH) in str(err.value)


def test_kinds_list_names_puck() -> None:
    assert "puck" in KINDS


def test_puck_kind_is_built_by_the_puck_module() -> None:
    reader = create_reader("puck", section(port="/dev/ttyACM0", baudrate=57600))
    assert reader.name == "puck"
    assert reader.port == "/dev/ttyACM0" and reader.baudrate == 57600
    with pytest.raises(ConfigError, match="baud"):
        create_reader("puck", section(port="/dev/ttyACM0", baud=9600))
