"""The KiCad schematics agree with hardware/pinmap.toml.

The .kicad_sch files are parsed with kiutils; nets are built from the parsed wires, labels and
symbol pins (a pin, wire end or label at the same point is one connection, as in KiCad). With
kicad-cli installed, KiCad's own netlist export must give the same nets and ERC must find no
error.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest
from kiutils.schematic import Schematic

from kiosk.pinmap import Board, PartPin, load_pinmap

PINMAP = load_pinmap()
BOARDS = list(PINMAP.boards.values())


def _key(x: float, y: float) -> tuple[int, int]:
    return round(x * 100), round(y * 100)


class Netlist:
    """Nets of one schematic sheet as sets of (reference, pin number)."""

    def __init__(self, path: Path) -> None:
        self.sch = Schematic.from_file(str(path))
        self.parent: dict[object, object] = {}
        self.pin_names: dict[tuple[str, str], str] = {}
        libs = {lib.libId: lib for lib in self.sch.libSymbols}
        for sym in self.sch.schematicSymbols:
            ref = next(p.value for p in sym.properties if p.key == "Reference")
            lib = libs[sym.libId]
            is_power = bool(getattr(lib, "isPower", False))
            value = next(p.value for p in sym.properties if p.key == "Value")
            for unit in lib.units:
                for pin in unit.pins:
                    at = self.pin_position(sym, pin.position.X, pin.position.Y)
                    node = ("pin", ref, pin.number)
                    self.pin_names[(ref, pin.number)] = pin.name
                    self.union(node, at)
                    if is_power:
                        self.union(at, ("label", value))
        for item in self.sch.graphicalItems:
            if getattr(item, "type", None) == "wire":
                first = _key(item.points[0].X, item.points[0].Y)
                for point in item.points[1:]:
                    self.union(first, _key(point.X, point.Y))
        for label in [*self.sch.labels, *self.sch.globalLabels]:
            self.union(_key(label.position.X, label.position.Y), ("label", label.text))
        self.no_connects = {_key(nc.position.X, nc.position.Y) for nc in self.sch.noConnects}

    @staticmethod
    def pin_position(sym, px: float, py: float) -> tuple[int, int]:
        # Library coordinates are y-up; the sheet is y-down. Mirror, then rotate (CCW on screen).
        if sym.mirror == "y":
            px = -px
        elif sym.mirror == "x":
            py = -py
        angle = math.radians(sym.position.angle or 0)
        x = px * math.cos(angle) - py * math.sin(angle)
        y = px * math.sin(angle) + py * math.cos(angle)
        return _key(sym.position.X + x, sym.position.Y - y)

    def find(self, node: object) -> object:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: object, b: object) -> None:
        self.parent[self.find(a)] = self.find(b)

    def nets(self) -> list[frozenset[tuple[str, str]]]:
        groups: dict[object, set[tuple[str, str]]] = defaultdict(set)
        for node in list(self.parent):
            if isinstance(node, tuple) and node[0] == "pin":
                groups[self.find(node)].add((node[1], node[2]))
        return [frozenset(g) for g in groups.values()]

    def pin_number(self, part: PartPin) -> str:
        matches = [num for (ref, num), name in self.pin_names.items()
                   if ref == part.ref and part.pin in (num, name)]
        assert matches, f"{part} is not in the schematic"
        assert len(matches) == 1, f"{part} names more than one pin"
        return matches[0]

    def net_of(self, ref: str, number: str) -> frozenset[tuple[str, str]]:
        root = self.find(("pin", ref, number))
        return frozenset((n[1], n[2]) for n in self.parent
                         if isinstance(n, tuple) and n[0] == "pin" and self.find(n) == root)


@pytest.fixture(scope="module", params=BOARDS, ids=lambda b: b.key)
def board_and_nets(request) -> tuple[Board, Netlist]:
    board = request.param
    return board, Netlist(board.schematic)


def test_header_symbol_matches_the_board(board_and_nets) -> None:
    board, nets = board_and_nets
    for number, name in board.header.pins.items():
        assert nets.pin_names.get((board.connector, str(number))) == name, (
            f"{board.schematic.name}: {board.connector} pin {number} should be {name}")


def test_every_pinmap_connection_is_wired(board_and_nets) -> None:
    board, nets = board_and_nets
    for signal in board.all_signals():
        header_pin = str(board.header.header_pin(signal.gpio))
        net = nets.net_of(board.connector, header_pin)
        target = (signal.to.ref, nets.pin_number(signal.to))
        assert target in net, (f"{board.schematic.name}: {signal.name} "
                               f"({board.header.gpio_name(signal.gpio)}) is not wired to "
                               f"{signal.to}")


def test_no_gpio_used_twice_or_wired_outside_the_map(board_and_nets) -> None:
    board, nets = board_and_nets
    mapped = {str(board.header.header_pin(s.gpio)) for s in board.all_signals()}
    for number, name in board.header.pins.items():
        if not name.startswith(board.header.gpio_prefix):
            continue
        net = nets.net_of(board.connector, str(number))
        others = {pin for ref, pin in net if ref == board.connector} - {str(number)}
        assert not others, f"{name} is shorted to {board.connector} pins {sorted(others)}"
        wired = len(net) > 1
        assert wired == (str(number) in mapped), (
            f"{name} is " + ("wired in the schematic but not in the pin map" if wired
                             else "in the pin map but not wired"))


def test_power_rails(board_and_nets) -> None:
    board, nets = board_and_nets
    rails = {rail: {str(p) for p in board.header.rail_pins(rail)} for rail in board.header.rails}
    for link in board.power.values():
        net = nets.net_of(link.to.ref, nets.pin_number(link.to))
        header = {pin for ref, pin in net if ref == board.connector}
        assert header & rails[link.rail], f"{link.to} is not on {link.rail}"
        for rail, pins in rails.items():
            if rail != link.rail:
                assert not header & pins, f"{link.to} ({link.rail}) is shorted to {rail}"


def test_reader_is_on_3v3_only(board_and_nets) -> None:
    board, nets = board_and_nets
    reader = board.spi.cs.to.ref
    five_volt = {str(p) for p in board.header.rail_pins("5V")}
    for (ref, number) in list(nets.pin_names):
        if ref != reader:
            continue
        net = nets.net_of(ref, number)
        assert not {p for r, p in net if r == board.connector} & five_volt, (
            f"{reader} pin {number} reaches 5 V")


def test_unused_pins_are_marked_no_connect(board_and_nets) -> None:
    _board, nets = board_and_nets
    for (ref, number), name in nets.pin_names.items():
        if len(nets.net_of(ref, number)) == 1:
            root_points = [n for n in nets.parent if not (isinstance(n, tuple) and n[0] in (
                "pin", "label")) and nets.find(n) == nets.find(("pin", ref, number))]
            assert set(root_points) & nets.no_connects, f"{ref} pin {number} ({name}) dangles"


KICAD_CLI = shutil.which("kicad-cli")


@pytest.mark.skipif(KICAD_CLI is None, reason="kicad-cli (KiCad 7+) not installed")
def test_kicad_agrees(board_and_nets, tmp_path: Path) -> None:
    board, nets = board_and_nets
    out = tmp_path / "net.xml"
    subprocess.run([KICAD_CLI, "sch", "export", "netlist", "--format", "kicadxml", "-o", str(out),
                    str(board.schematic)], check=True, capture_output=True, timeout=60)
    theirs = {frozenset((node.get("ref"), node.get("pin")) for node in net.iter("node"))
              for net in ET.parse(out).getroot().iter("net")}
    assert {n for n in theirs if len(n) > 1} == {n for n in nets.nets() if len(n) > 1}
    report = tmp_path / "erc.json"
    subprocess.run([KICAD_CLI, "sch", "erc", "--format", "json", "--severity-error", "-o",
                    str(report), str(board.schematic)], check=False, capture_output=True,
                   timeout=60)
    import json
    errors = [v for sheet in json.loads(report.read_text())["sheets"]
              for v in sheet["violations"] if v["severity"] == "error"]
    assert errors == []
