"""Draw the kiosk and puck wiring as KiCad schematics (``kiosk.kicad_sch``, ``puck.kicad_sch``).

The parts and nets below are the wiring as designed; they are written down here
independently of ``hardware/pinmap.toml`` so that ``tests/test_schematics.py`` really checks the
two against each other. Each connected pin gets a short wire and a net label (KiCad joins
labels of the same name), each unused pin a no-connect flag. The output is KiCad 7 format
(KiCad 7, 8 and 9 open it) and is deterministic: same input, same bytes.

    python hardware/schematics/generate.py          # rewrite both .kicad_sch files
    hardware/schematics/render.sh                   # then redraw the SVG/PNG pictures
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
GRID = 2.54
_NS = uuid.UUID("6f1d1c1e-8a52-4f43-9d0c-51a710b5c0de")


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_NS, "/".join(map(str, parts))))


@dataclass
class PinDef:
    number: str
    name: str
    side: str  # "L" or "R": which side of the body the pin sticks out of
    row: int  # 0 = top row
    kind: str = "passive"


@dataclass
class SymbolDef:
    lib_id: str
    ref_prefix: str
    pins: list[PinDef]
    half_width: float = 7.62
    show_pin_numbers: bool = True
    description: str = ""

    @property
    def rows(self) -> int:
        return max(p.row for p in self.pins) + 1

    def top(self) -> float:
        return (self.rows - 1) * GRID / 2

    def pin_xy(self, pin: PinDef) -> tuple[float, float]:
        """Connection point of a pin in library coordinates (y up)."""
        x = -(self.half_width + GRID) if pin.side == "L" else self.half_width + GRID
        return x, round(self.top() - pin.row * GRID, 2)


@dataclass
class Part:
    ref: str
    symbol: SymbolDef
    value: str
    at: tuple[float, float]
    nets: dict[str, str] = field(default_factory=dict)  # pin number or name -> net name
    footprint: str = ""

    def pin(self, key: str) -> PinDef:
        for p in self.symbol.pins:
            if key in (p.number, p.name):
                return p
        raise KeyError(f"{self.ref} has no pin {key}")


def _header_symbol(lib_id: str, names: dict[int, str], layout: str, half_width: float,
                   description: str) -> SymbolDef:
    pins = []
    for number, name in names.items():
        kind = "bidirectional" if name.startswith("GP") else "passive"
        if layout == "dual-row":  # 2x20 pin header: odd pins left, even right
            side, row = ("L", (number - 1) // 2) if number % 2 else ("R", (number - 2) // 2)
        else:  # Pico: 1-20 down the left, 40-21 down the right
            side, row = ("L", number - 1) if number <= 20 else ("R", 40 - number)
        pins.append(PinDef(str(number), name, side, row, kind))
    return SymbolDef(lib_id, "J", pins, half_width, True, description)


PI_NAMES = {
    1: "3V3", 2: "5V", 3: "GPIO2", 4: "5V", 5: "GPIO3", 6: "GND", 7: "GPIO4", 8: "GPIO14",
    9: "GND", 10: "GPIO15", 11: "GPIO17", 12: "GPIO18", 13: "GPIO27", 14: "GND", 15: "GPIO22",
    16: "GPIO23", 17: "3V3", 18: "GPIO24", 19: "GPIO10", 20: "GND", 21: "GPIO9", 22: "GPIO25",
    23: "GPIO11", 24: "GPIO8", 25: "GND", 26: "GPIO7", 27: "GPIO0", 28: "GPIO1", 29: "GPIO5",
    30: "GND", 31: "GPIO6", 32: "GPIO12", 33: "GPIO13", 34: "GND", 35: "GPIO19", 36: "GPIO16",
    37: "GPIO26", 38: "GPIO20", 39: "GND", 40: "GPIO21",
}
PICO_NAMES = {
    1: "GP0", 2: "GP1", 3: "GND", 4: "GP2", 5: "GP3", 6: "GP4", 7: "GP5", 8: "GND", 9: "GP6",
    10: "GP7", 11: "GP8", 12: "GP9", 13: "GND", 14: "GP10", 15: "GP11", 16: "GP12", 17: "GP13",
    18: "GND", 19: "GP14", 20: "GP15",
}
PICO_NAMES.update({21: "GP16", 22: "GP17", 23: "GND", 24: "GP18", 25: "GP19", 26: "GP20",
                   27: "GP21", 28: "GND", 29: "GP22", 30: "RUN", 31: "GP26", 32: "GP27",
                   33: "AGND", 34: "GP28", 35: "ADC_VREF", 36: "3V3", 37: "3V3_EN", 38: "GND",
                   39: "VSYS", 40: "VBUS"})

PI_HEADER = _header_symbol("stations:RPi_GPIO_40", PI_NAMES, "dual-row", 10.16,
                           "Raspberry Pi 40-pin GPIO header (Pi 4, Pi 5, Zero 2 W)")
PICO = _header_symbol("stations:RPi_Pico", dict(sorted(PICO_NAMES.items())), "pico", 10.16,
                      "Raspberry Pi Pico / Pico W (top view)")
MFRC522 = SymbolDef("stations:MFRC522_Module", "U", [
    PinDef("1", "SDA", "L", 0), PinDef("2", "SCK", "L", 1), PinDef("3", "MOSI", "L", 2),
    PinDef("4", "MISO", "L", 3), PinDef("5", "IRQ", "L", 4), PinDef("6", "GND", "L", 5),
    PinDef("7", "RST", "L", 6), PinDef("8", "3.3V", "L", 7),
], 7.62, True, "MFRC522 13.56 MHz reader module (RC522 board, 3.3 V only)")
RDM6300 = SymbolDef("stations:RDM6300", "U", [
    PinDef("1", "TX", "L", 0), PinDef("2", "RX", "L", 1), PinDef("4", "GND", "L", 2),
    PinDef("5", "VCC", "L", 3),
], 7.62, True, "RDM6300 125 kHz EM4100 reader module (5 V, TX is 5 V TTL)")
RGB_LED = SymbolDef("stations:LED_RGB_CC", "D", [
    PinDef("1", "R", "L", 0), PinDef("3", "G", "L", 1), PinDef("4", "B", "L", 2),
    PinDef("2", "K", "R", 1),
], 5.08, True, "RGB LED, common cathode")
RESISTOR = SymbolDef("stations:R", "R", [PinDef("1", "1", "L", 0), PinDef("2", "2", "R", 0)],
                     2.54, False, "Resistor")
SWITCH = SymbolDef("stations:SW_Push", "SW", [PinDef("1", "1", "L", 0),
                                              PinDef("2", "2", "R", 0)], 2.54, False,
                   "Momentary push button, normally open")
PIEZO = SymbolDef("stations:Buzzer", "BZ", [PinDef("1", "+", "L", 0), PinDef("2", "-", "R", 0)],
                  2.54, True, "Piezo transducer (passive buzzer)")


def kiosk_parts() -> list[Part]:
    header = Part("J1", PI_HEADER, "Raspberry Pi GPIO", (50.8, 88.9), {
        "1": "+3V3", "17": "+3V3", "2": "+5V", "4": "+5V",
        "6": "GND", "9": "GND", "14": "GND", "20": "GND", "25": "GND", "30": "GND", "34": "GND",
        "39": "GND",
        "23": "SPI0_SCK", "19": "SPI0_MOSI", "21": "SPI0_MISO", "24": "SPI0_CE0",
        "22": "READER_RST", "18": "READER_IRQ",
        "11": "LED_R", "13": "LED_G", "15": "LED_B", "12": "BUZZER",
        "29": "BUTTON_1", "31": "BUTTON_2", "33": "BUTTON_3", "10": "RDM6300_RX_3V3",
    })
    return [header, *_peripherals(with_rdm6300=True)]


def puck_parts() -> list[Part]:
    pico = Part("U1", PICO, "Raspberry Pi Pico", (50.8, 88.9), {
        "36": "+3V3", "3": "GND", "8": "GND", "13": "GND", "18": "GND", "23": "GND", "28": "GND",
        "38": "GND",
        "24": "SPI0_SCK", "25": "SPI0_MOSI", "21": "SPI0_MISO", "22": "SPI0_CE0",
        "26": "READER_RST", "27": "READER_IRQ",
        "17": "LED_R", "19": "LED_G", "20": "LED_B", "29": "BUZZER",
        "14": "BUTTON_1", "15": "BUTTON_2", "16": "BUTTON_3",
    })
    return [pico, *_peripherals(with_rdm6300=False)]


def _peripherals(with_rdm6300: bool) -> list[Part]:
    x = 124.46
    parts = [
        Part("U2", MFRC522, "MFRC522 module", (x, 45.72), {
            "SDA": "SPI0_CE0", "SCK": "SPI0_SCK", "MOSI": "SPI0_MOSI", "MISO": "SPI0_MISO",
            "IRQ": "READER_IRQ", "GND": "GND", "RST": "READER_RST", "3.3V": "+3V3"}),
        Part("R1", RESISTOR, "150", (x - 10.16, 76.2), {"1": "LED_R", "2": "LED_R_A"}),
        Part("R2", RESISTOR, "100", (x - 10.16, 86.36), {"1": "LED_G", "2": "LED_G_A"}),
        Part("R3", RESISTOR, "100", (x - 10.16, 96.52), {"1": "LED_B", "2": "LED_B_A"}),
        Part("D1", RGB_LED, "RGB LED (CC)", (x + 35.56, 86.36), {
            "R": "LED_R_A", "G": "LED_G_A", "B": "LED_B_A", "K": "GND"}),
        Part("R4", RESISTOR, "100", (x - 10.16, 111.76), {"1": "BUZZER", "2": "BUZZER_P"}),
        Part("BZ1", PIEZO, "Piezo", (x + 35.56, 111.76), {"+": "BUZZER_P", "-": "GND"}),
        Part("SW1", SWITCH, "Button 1", (x - 10.16, 124.46), {"1": "BUTTON_1", "2": "GND"}),
        Part("SW2", SWITCH, "Button 2", (x - 10.16, 134.62), {"1": "BUTTON_2", "2": "GND"}),
        Part("SW3", SWITCH, "Button 3", (x - 10.16, 144.78), {"1": "BUTTON_3", "2": "GND"}),
    ]
    if with_rdm6300:
        parts += [
            Part("U3", RDM6300, "RDM6300 (optional)", (x + 86.36, 45.72), {
                "TX": "RDM6300_TX_5V", "GND": "GND", "VCC": "+5V"}),
            Part("R5", RESISTOR, "2k2", (x + 86.36, 76.2), {
                "1": "RDM6300_TX_5V", "2": "RDM6300_RX_3V3"}),
            Part("R6", RESISTOR, "3k3", (x + 86.36, 88.9), {"1": "RDM6300_RX_3V3", "2": "GND"}),
        ]
    return parts


def _font(size: float = 1.27) -> str:
    return f"(effects (font (size {size} {size})))"


def _lib_symbol(sym: SymbolDef) -> str:
    name = sym.lib_id.split(":", 1)[1]
    top = sym.top() + GRID
    bottom = sym.top() - sym.rows * GRID
    hide = "" if sym.show_pin_numbers else "(pin_numbers hide) "
    out = [
        f'    (symbol "{sym.lib_id}" {hide}(pin_names (offset 1.016)) (in_bom yes) (on_board yes)',
        f'      (property "Reference" "{sym.ref_prefix}" (at 0 {top + 1.27:.2f} 0) {_font()})',
        f'      (property "Value" "{name}" (at 0 {bottom - 1.27:.2f} 0) {_font()})',
        '      (property "Footprint" "" (at 0 0 0) (effects (font (size 1.27 1.27)) hide))',
        '      (property "Datasheet" "" (at 0 0 0) (effects (font (size 1.27 1.27)) hide))',
        f'      (property "Description" "{sym.description}" (at 0 0 0) '
        "(effects (font (size 1.27 1.27)) hide))",
        f'      (symbol "{name}_0_1"',
        f"        (rectangle (start {-sym.half_width} {top:.2f}) (end {sym.half_width} "
        f"{bottom:.2f}) (stroke (width 0.254) (type default)) (fill (type background)))",
        "      )",
        f'      (symbol "{name}_1_1"',
    ]
    for pin in sym.pins:
        x, y = sym.pin_xy(pin)
        angle = 0 if pin.side == "L" else 180
        out.append(f"        (pin {pin.kind} line (at {x} {y} {angle}) (length {GRID}) "
                   f'(name "{pin.name}" {_font()}) (number "{pin.number}" {_font()}))')
    out += ["      )", "    )"]
    return "\n".join(out)


def render(title: str, project: str, parts: list[Part], notes: list[str]) -> str:
    root = _uuid(project, "root")
    body: list[str] = []
    used_symbols: dict[str, SymbolDef] = {}
    for part in parts:
        sym = part.symbol
        used_symbols[sym.lib_id] = sym
        px, py = part.at
        ref_y = py - (sym.top() + GRID + 1.27)
        val_y = py + (sym.rows * GRID - sym.top() + 1.27)
        pins = "\n".join(f'    (pin "{p.number}" (uuid {_uuid(project, part.ref, p.number)}))'
                         for p in sym.pins)
        body.append(
            f'  (symbol (lib_id "{sym.lib_id}") (at {px} {py} 0) (unit 1)\n'
            "    (in_bom yes) (on_board yes) (dnp no)\n"
            f"    (uuid {_uuid(project, part.ref)})\n"
            f'    (property "Reference" "{part.ref}" (at {px} {ref_y:.2f} 0) {_font()})\n'
            f'    (property "Value" "{part.value}" (at {px} {val_y:.2f} 0) {_font()})\n'
            f'    (property "Footprint" "{part.footprint}" (at {px} {py} 0) '
            "(effects (font (size 1.27 1.27)) hide))\n"
            f'    (property "Datasheet" "" (at {px} {py} 0) '
            "(effects (font (size 1.27 1.27)) hide))\n"
            f"{pins}\n"
            f'    (instances (project "{project}" (path "/{root}" (reference "{part.ref}") '
            "(unit 1))))\n"
            "  )")
        wanted = {part.pin(key).number: net for key, net in part.nets.items()}
        for pin in sym.pins:
            lx, ly = sym.pin_xy(pin)
            x, y = round(px + lx, 2), round(py - ly, 2)
            net = wanted.get(pin.number)
            if net is None:
                nc = _uuid(project, part.ref, pin.number, "nc")
                body.append(f"  (no_connect (at {x} {y}) (uuid {nc}))")
                continue
            step = -GRID * 2 if pin.side == "L" else GRID * 2
            end = round(x + step, 2)
            body.append(f"  (wire (pts (xy {x} {y}) (xy {end} {y})) (stroke (width 0) "
                        f"(type default)) (uuid {_uuid(project, part.ref, pin.number, 'w')}))")
            angle, justify = (180, "right bottom") if pin.side == "L" else (0, "left bottom")
            body.append(f'  (label "{net}" (at {end} {y} {angle}) (fields_autoplaced) '
                        f"(effects (font (size 1.27 1.27)) (justify {justify})) "
                        f"(uuid {_uuid(project, part.ref, pin.number, 'l')}))")
    for i, note in enumerate(notes):
        body.append(f'  (text "{note}" (at 25.4 {162.56 + i * 5.08} 0) '
                    "(effects (font (size 1.5 1.5)) "
                    f"(justify left bottom)) (uuid {_uuid(project, 'note', i)}))")
    libs = "\n".join(_lib_symbol(s) for s in used_symbols.values())
    return (
        "(kicad_sch (version 20230121) (generator eeschema)\n"
        f"  (uuid {root})\n"
        '  (paper "A4")\n'
        f'  (title_block (title "{title}") (rev "1") (company "Classroom stations") '
        '(comment 1 "Made by generate.py; checked against '
        'hardware/pinmap.toml"))\n'
        f"  (lib_symbols\n{libs}\n  )\n"
        + "\n".join(body)
        + "\n  (sheet_instances (path \"/\" (page \"1\")))\n)\n"
    )


def main() -> None:
    (HERE / "kiosk.kicad_sch").write_text(render(
        "Station kiosk: Raspberry Pi wiring", "kiosk", kiosk_parts(), [
            "MFRC522: 3.3 V ONLY (J1 pin 1 or 17). Never connect it to 5 V.",
            "RDM6300 is optional; R5/R6 divide its 5 V TX to 3.0 V for GPIO15 (UART0 RXD).",
            "Buttons pull to GND; the Pi's internal pull-ups are enabled in software.",
        ]))
    (HERE / "puck.kicad_sch").write_text(render(
        "Station puck: Raspberry Pi Pico wiring", "puck", puck_parts(), [
            "MFRC522: 3.3 V ONLY, from the Pico's 3V3(OUT) (pin 36). Never from VBUS/VSYS.",
            "Powered and connected over the Pico's USB port (USB CDC serial to the station Pi).",
            "Buttons pull to GND; internal pull-ups are enabled in the firmware.",
        ]))


if __name__ == "__main__":
    main()
