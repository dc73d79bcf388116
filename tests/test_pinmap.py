"""The pin map loader: the shipped map is valid, and every kind of wiring mistake is caught."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.pinmap import DEFAULT_PATH, PI_HEADER, PICO_HEADER, load_pinmap, micropython_pins
from stations.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = DEFAULT_PATH.read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pinmap.toml"
    path.write_text(text)
    return path


def mutate(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SHIPPED, old
    return write(tmp_path, SHIPPED.replace(old, new, 1))


def test_shipped_map_loads_with_the_reader_on_spi0() -> None:
    pins = load_pinmap()
    kiosk = pins.kiosk
    assert (kiosk.spi.bus, kiosk.spi.device) == (0, 0)
    assert [s.gpio for s in kiosk.spi.signals] == [11, 10, 9, 8]
    assert kiosk.gpio("reader_rst") == 25 and kiosk.gpio("reader_irq") == 24
    assert kiosk.pin_name("led_red") == "GPIO17"
    assert pins.puck.pin_name("spi.sck") == "GP18"
    assert str(kiosk.signals["reader_rst"].to) == "U2:RST"
    assert kiosk.schematic == ROOT / "hardware" / "schematics" / "kiosk.kicad_sch"


def test_no_gpio_used_twice_on_any_board() -> None:
    for board in load_pinmap().boards.values():
        gpios = [s.gpio for s in board.all_signals()]
        assert len(gpios) == len(set(gpios)), board.key
        assert not set(gpios) & set(board.reserved)


def test_header_tables_are_complete() -> None:
    assert sorted(PI_HEADER) == list(range(1, 41))
    assert sorted(PICO_HEADER) == list(range(1, 41))
    assert {f"GPIO{n}" for n in range(28)} <= set(PI_HEADER.values())


def test_unknown_signal_name_says_what_exists() -> None:
    with pytest.raises(KeyError, match="led_red"):
        load_pinmap().kiosk.gpio("led_purple")


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ("led_red = { gpio = 17,", "led_red = { gpio = 10,", "kiosk.signals.led_red.gpio",
     "GPIO10 is SPI0 MOSI (the reader) and must not be reused"),
    ("led_green = { gpio = 27,", "led_green = { gpio = 17,", "kiosk.signals.led_green.gpio",
     "GPIO17 is already used by led_red"),
    ("button_1 = { gpio = 5,", "button_1 = { gpio = 7,", "kiosk.signals.button_1.gpio",
     "GPIO7 is reserved (SPI0 CE1"),
    ("led_blue = { gpio = 22,", "led_blue = { gpio = 28,", "kiosk.signals.led_blue.gpio",
     "GPIO28 is not on the raspberry-pi-40 header"),
    ("sck = { gpio = 11,", "sck = { gpio = 12,", "kiosk.spi.sck.gpio",
     "GPIO12 cannot carry SPI0 SCK"),
    ('reader_vcc = { rail = "3V3"', 'reader_vcc = { rail = "5V"', "kiosk.power.reader_vcc.rail",
     "MFRC522 reader: it takes 3.3 V only"),
    ('to = "U2:RST"', 'to = "reset pin"', "kiosk.signals.reader_rst.to", "must look like REF:PIN"),
    ('role = "output" }', 'role = "out" }', "kiosk.signals.reader_rst.role", "must be one of"),
    ("gpio = 25, to", "gpio = 25, colour = 1, to", "kiosk.signals.reader_rst.colour",
     "unknown key"),
    ("version = 1", "version = 2", "version", "this code reads version 1"),
    ("gpio = 18, to = \"U2:SCK\"", "gpio = \"18\", to = \"U2:SCK\"", "puck.spi.sck.gpio",
     "must be a int"),
    ("button_2 = { gpio = 11,", "button_2 = { gpio = 19,", "puck.signals.button_2.gpio",
     "GP19 is SPI0 MOSI (the reader)"),
])
def test_wiring_mistakes_name_file_key_and_problem(tmp_path: Path, old: str, new: str, key: str,
                                                   problem: str) -> None:
    path = mutate(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_pinmap(path)
    assert info.value.path == path
    assert info.value.key == key
    assert problem in info.value.problem


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_pinmap(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_pinmap(write(tmp_path, "version = = 1"))
    with pytest.raises(ConfigError, match="puck: table is required"):
        load_pinmap(write(tmp_path, SHIPPED.split("\n[puck]\n")[0]))


def test_firmware_pins_are_generated_from_the_map() -> None:
    shipped = (ROOT / "firmware" / "stationpuck" / "pins.py").read_text()
    assert shipped == micropython_pins(load_pinmap().puck), (
        "firmware/stationpuck/pins.py is stale: run "
        "python -m kiosk.pinmap --micropython puck > firmware/stationpuck/pins.py")
    values = dict(re.findall(r"^([A-Z_0-9]+) = (\d+)$", shipped, re.M))
    assert values["SPI_SCK"] == "18" and values["READER_RST"] == "20"
