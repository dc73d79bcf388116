"""IT's commands end in a sentence saying what to do, never a traceback: an image that is not
there, a PIN asked for where there is no terminal, a voice build that finds its config the way
the other kiosk commands do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stations.cli import main
from stations.configsearch import ENV
from tests.conftest import ROOM


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV, raising=False)
    return tmp_path


def test_imager_json_names_a_missing_image(folder: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["imager-json", "missing.img.xz", "--url-base", "https://it.example/", "--out",
            "os-list.json"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "missing.img.xz: no such image" in err and "build.sh" in err
    (folder / "stations.img").write_bytes(b"")
    assert main([*argv[:1], "stations.img", *argv[2:]]) == 2
    assert "stations.img: Imager needs an .img.xz image" in capsys.readouterr().err
    (folder / "half.img.xz").write_bytes(b"\xfd7zXZ\x00\x00")
    assert main([*argv[:1], "half.img.xz", *argv[2:]]) == 2
    assert "half.img.xz: not a whole xz-compressed image" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["half.img.xz", "stations.img"]


def _without_a_terminal(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``stations ARGV`` as a script or ``ssh host cmd`` runs it: no controlling terminal."""
    return subprocess.run([sys.executable, "-m", "stations", *argv], input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None,
                          capture_output=True, text=True, timeout=60, start_new_session=True,
                          env={**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1"})


@pytest.mark.parametrize("command", [["teacher", "pin"], ["teacher", "hash"]])
def test_no_terminal_to_ask_on_says_use_stdin(command: list[str]) -> None:
    run = _without_a_terminal(*command)
    assert run.returncode == 2, run.stderr
    assert "no terminal to ask for the" in run.stderr and "--stdin" in run.stderr
    assert "Traceback" not in run.stderr and "EOFError" not in run.stderr
    assert "may be echoed" not in run.stderr  # getpass never ran
    piped = _without_a_terminal("teacher", "pin", "--stdin", stdin="482913\n")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith('teacher_pin_hash = "$scrypt$')


def test_voice_build_finds_its_config_like_the_other_kiosk_commands(
        folder: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing here, nothing named: the search's message, not argparse's "--config required".
    assert main(["voice", "build", "--lang", "xx"]) == 2
    err = capsys.readouterr().err
    assert "no kiosk config found" in err and ENV in err
    # The variable names a station elsewhere: its config is read (and --lang checked).
    station = folder / "station"
    station.mkdir()
    shutil.copy(ROOM / "kiosk.toml", station / "kiosk.toml")
    monkeypatch.setenv(ENV, str(station / "kiosk.toml"))
    assert main(["voice", "build", "--lang", "xx"]) == 2
    assert "--lang xx: no catalog; the kiosk speaks en, es" in capsys.readouterr().err
    # ./kiosk.toml when nothing is named.
    monkeypatch.delenv(ENV)
    monkeypatch.chdir(station)
    assert main(["voice", "build", "--lang", "xx"]) == 2
    assert "--lang xx: no catalog" in capsys.readouterr().err
    assert sorted(p.name for p in station.iterdir()) == ["kiosk.toml"]
