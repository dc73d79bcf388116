"""A command that fails leaves nothing behind: no database, outbox, folder or generated file
that was not there before (and a database that was there is unchanged).

Each case runs the real ``stations`` command line in a folder holding a copy of the demo
room's config, and compares the folder's files before and after.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from stations.cli import main
from stations.configsearch import ENV
from stations.files import undo_on_failure
from stations.ui.kmsdrm import kmsdrm_problems
from tests.conftest import REPO, ROOM

SAMPLES = ROOM / "samples"


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (and every folder) with a digest of its content."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def room_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("hub.toml", "roster.toml", "kiosk.toml"):
        shutil.copy(ROOM / name, tmp_path / name)
    (tmp_path / "broken.toml").write_text("room = \n")
    (tmp_path / "cut-short.img.xz").write_bytes(b"\xfd7zXZ\x00\x00")
    (tmp_path / "not-an-export.zip").write_bytes(b"PK?")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV, raising=False)
    return tmp_path


def _fails_cleanly(folder: Path, argv: list[str], code: int = 2) -> str:
    before = _tree(folder)
    assert main(argv) == code, argv
    assert _tree(folder) == before, f"{argv} left files behind"
    return argv[0]


NO_DATABASE = [  # the hub has never run here: only a roster import may make its database
    ["roster", "import", "missing-export.zip"],
    ["roster", "import", "not-an-export.zip"],
    ["roster", "import", str(SAMPLES / "oneroster-1.2"), "--config", "broken.toml"],
    ["badges", "import", str(SAMPLES / "badges.csv")],
    ["badges", "assign", "0411A133", "stu-01"],
    ["badges", "revoke", "0411A133"],
    ["badges", "list"],
    ["export", "--out", "exports"],
    ["retention"],
    ["student", "export", "stu-01", "--out", "stu-01.json"],
    ["student", "erase", "stu-01", "--yes"],
    ["broker-config", "broken.toml", "--out", "broker-out"],
    ["broker-config", "missing.toml", "--out", "broker-out"],
    ["provision", "broken.toml", "--out", "cards"],
    ["group", "missing.csv"],
    ["screenshots", "--size", "12", "--out", "shots"],
    ["screenshots", "--lang", "xx", "--out", "shots"],
    ["hub-screenshots", "--config", "broken.toml", "--out", "hub-shots"],
    ["xapi", "export", "--out", "statements/all.jsonl"],
    ["teacher", "add", "Anna Smith", "--stdin"],
    ["teacher", "add", "anna", "--stdin"],  # the password on stdin is too short
    ["imager-json", "missing.img.xz", "--url-base", "https://it.example/", "--out",
     "imager/os-list.json"],
    ["imager-json", "cut-short.img.xz", "--url-base", "https://it.example/", "--out",
     "imager/os-list.json"],
    ["voice", "build", "--lang", "xx"],
]


@pytest.mark.parametrize("argv", NO_DATABASE, ids=lambda a: " ".join(a[:2]))
def test_failing_command_leaves_nothing(room_folder: Path, argv: list[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("too short\n"))
    if argv[:2] == ["screenshots", "--size"]:
        with pytest.raises(SystemExit):  # argparse refuses it before anything runs
            main(argv)
        assert not (room_folder / "shots").exists()
        return
    _fails_cleanly(room_folder, argv)


def test_a_failed_import_takes_its_new_database_away(room_folder: Path) -> None:
    """The export is read only after the database is opened: the rollback must remove it."""
    bad = room_folder / "bad-export"
    shutil.copytree(SAMPLES / "oneroster-1.2", bad)
    (bad / "orgs.csv").unlink()
    _fails_cleanly(room_folder, ["roster", "import", str(bad)])
    assert not list(room_folder.glob("hub.db*"))


def test_failures_on_an_existing_database_change_nothing(room_folder: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    assert main(["roster", "import", str(SAMPLES / "oneroster-1.1")]) == 0
    assert main(["badges", "import", str(SAMPLES / "badges.csv")]) == 0
    capsys.readouterr()
    for argv, code in [
        (["badges", "import", "missing.csv"], 2),
        (["badges", "assign", "0499FFFF", "stu-99"], 2),
        (["export", "--class", "no-such-class", "--out", "exports"], 2),
        (["retention", "--days", "-1"], 2),
        (["student", "export", "stu-99", "--out", "stu-99.json"], 1),
        (["student", "erase", "stu-99", "--yes"], 1),
        (["xapi", "export", "--out", "statements/all.jsonl"], 2),  # no [xapi] homepage
        (["xapi", "export", "--homepage", "school.example", "--out", "statements/all.jsonl"],
         2),
    ]:
        _fails_cleanly(room_folder, argv, code)
    err = capsys.readouterr().err
    assert "missing.csv: no such badge file" in err
    assert "--class no-such-class: no such class" in err
    assert "no [xapi] homepage" in err
    # A day without check-ins exports nothing, and makes no folder for it.
    assert main(["export", "--out", "exports"]) == 0
    assert not (room_folder / "exports").exists()
    # And one that works writes where it says.
    assert main(["student", "export", "stu-01", "--out", "stu-01.json"]) == 0
    assert '"stu-01"' in (room_folder / "stu-01.json").read_text()


def test_the_hub_with_a_broken_roster_leaves_no_database(room_folder: Path) -> None:
    (room_folder / "roster.toml").write_text("[[students]]\nid = 3\n")
    proc = subprocess.run([sys.executable, "-m", "stations", "hub", "--headless",
                           "--no-display", "--seconds", "1"], cwd=room_folder,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "roster.toml" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(room_folder.glob("hub.db*"))


@pytest.mark.skipif(not kmsdrm_problems(), reason="this machine can open a KMS/DRM screen")
@pytest.mark.parametrize("argv", [["kiosk"], ["hub"]], ids=lambda a: a[0])
def test_a_service_whose_screen_cannot_open_leaves_no_store(room_folder: Path, argv: list[str],
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """A kiosk's outbox-s1.db, a hub's hub.db: made only once the screen is known to open."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm")  # as the devices' units run them
    _fails_cleanly(room_folder, argv)


@pytest.mark.voice
def test_a_voice_build_that_fails_half_way_removes_its_clips(room_folder: Path,
                                                             espeak: object) -> None:
    """espeak-ng lacks the voice the config names for Spanish: no half-built cache is left
    (and one that was there keeps its clips)."""
    kiosk = room_folder / "kiosk.toml"
    kiosk.write_text(kiosk.read_text() + '\n[voice.espeak]\nes = "xx"\n')  # no such voice
    _fails_cleanly(room_folder, ["voice", "build", "--lang", "es"])
    assert main(["voice", "build", "--lang", "en"]) == 0
    _fails_cleanly(room_folder, ["voice", "build", "--lang", "en", "es"])
    assert not (room_folder / "voice" / "catalog" / "es").exists()
    assert list((room_folder / "voice" / "catalog" / "en").glob("*.wav"))


def test_broker_config_that_fails_half_way_removes_what_it_wrote(room_folder: Path) -> None:
    """The uplink password file is read after the CA, certificates and passwords are
    written: a first run that fails there must not leave half a room."""
    from tests.broker_helpers import write_devices

    (room_folder / "uplink-password").write_text("")
    devices = write_devices(room_folder / "devices.toml", data_dir=room_folder / "data",
                            extra='\n[bridge]\nhost = "district.test"\nca_file = "ca.pem"\n'
                                  'password_file = "uplink-password"\n')
    (room_folder / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    _fails_cleanly(room_folder, ["broker-config", str(devices), "--out", "out/room"])


@pytest.mark.parametrize("make", [lambda p: p.mkdir(), lambda p: p.write_text("kept")])
def test_undo_keeps_what_was_there(tmp_path: Path, make: Callable[[Path], object]) -> None:
    kept, new = tmp_path / "kept", tmp_path / "new" / "deeper" / "file.txt"
    make(kept)
    with pytest.raises(RuntimeError), undo_on_failure(kept, new):
        new.parent.mkdir(parents=True)
        new.write_text("half")
        raise RuntimeError("failed half-way")
    assert kept.exists() and not (tmp_path / "new").exists()


def test_the_repository_room_stays_clean() -> None:
    """The demo room's files are templates: running a hub on them must not dirty git."""
    ignored = subprocess.run(["git", "check-ignore", "stations/room/hub.db",
                              "stations/room/hub.db-wal"], cwd=REPO, capture_output=True,
                             text=True)
    assert ignored.stdout.split() == ["stations/room/hub.db", "stations/room/hub.db-wal"]
