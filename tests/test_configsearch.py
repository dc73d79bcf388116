"""Which config a command uses: --config, else STATIONS_CONFIG, else ./hub.toml, else
/etc/stations/hub.toml; a named file that is missing and nothing found are different errors,
and neither is confused with a missing export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stations.cli import main
from stations.configsearch import ENV, find_config
from stations.errors import ConfigNotFound
from tests.conftest import ROOM

SAMPLE = ROOM / "samples" / "oneroster-1.2"


def _hub_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("hub.toml", "roster.toml"):
        shutil.copy(ROOM / name, folder / name)
    return folder / "hub.toml"


def test_order_given_then_environment_then_here_then_system(tmp_path: Path) -> None:
    here, system, named, given = (_hub_folder(tmp_path / d) for d in
                                  ("here", "etc", "named", "given"))
    find = lambda given_path, env: find_config(  # noqa: E731
        given_path, "hub.toml", environ=env, cwd=here.parent, system_dir=system.parent)
    assert find(given, {ENV: str(named)}) == given
    assert find(None, {ENV: str(named)}) == named
    assert find(None, {}) == here
    here.unlink()
    assert find(None, {}) == system
    assert find(None, {ENV: ""}) == system  # an empty variable is not set


def test_nothing_found_lists_every_place_and_how_to_pass_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigNotFound) as err:
        find_config(None, "hub.toml", environ={}, cwd=tmp_path, system_dir=tmp_path / "etc")
    text = str(err.value)
    for part in ("--config (not given)", f"{ENV} (not set)", str(tmp_path / "hub.toml"),
                 str(tmp_path / "etc" / "hub.toml"), "--config PATH", f"{ENV}=PATH"):
        assert part in text


def test_named_but_missing_says_who_named_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigNotFound, match=r"nope\.toml: no such hub config \(given with "
                                             r"--config\)"):
        find_config(missing, "hub.toml", environ={ENV: str(tmp_path)})
    with pytest.raises(ConfigNotFound, match=rf"no such kiosk config \(named by {ENV}\)"):
        find_config(None, "kiosk.toml", environ={ENV: str(missing)}, cwd=tmp_path)


def test_commands_use_the_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    # Nothing here, nothing named: the message says where it looked and how to pass one.
    assert main(["roster", "import", str(SAMPLE)]) == 2
    err = capsys.readouterr().err
    assert "no hub config found" in err and "--config" in err and ENV in err
    assert "export" not in err.split("(the demo room")[0]  # not mistaken for the export
    assert list(tmp_path.iterdir()) == []
    # The variable names a room elsewhere: that hub's database gets the roster.
    elsewhere = _hub_folder(tmp_path / "room")
    monkeypatch.setenv(ENV, str(elsewhere))
    assert main(["roster", "import", str(SAMPLE)]) == 0
    assert (tmp_path / "room" / "hub.db").exists()
    # ./hub.toml when nothing is named.
    monkeypatch.delenv(ENV)
    monkeypatch.chdir(tmp_path / "room")
    capsys.readouterr()
    assert main(["badges", "list"]) == 0
    assert capsys.readouterr().out == ""  # the sample export brings students, not badges


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder, and no config named by the environment."""
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_missing_export_and_missing_config_are_told_apart(
        here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _hub_folder(here)
    assert main(["roster", "import", "export.zip"]) == 2
    assert "export.zip: no such OneRoster export" in capsys.readouterr().err
    assert main(["roster", "import", str(SAMPLE), "--config", "other.toml"]) == 2
    assert "other.toml: no such hub config (given with --config)" in capsys.readouterr().err
    assert main(["badges", "import", "badges.csv", "--config", str(config)]) == 2
    assert "no hub database yet" in capsys.readouterr().err


def test_the_wrong_kind_of_config_says_where_it_came_from(
        here: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    hub = _hub_folder(here)
    kiosk = here / "kiosk.toml"
    shutil.copy(ROOM / "kiosk.toml", kiosk)
    # The hub's file where a kiosk's is wanted, named by the variable: which file, what it
    # is, and who named it; not "station: is required", which sends IT hunting for a typo.
    monkeypatch.setenv(ENV, str(hub))
    assert main(["kiosk", "--headless", "--seconds", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{hub}: this is a hub config, not a kiosk config (it was named by {ENV}={hub})" \
        in err
    assert "is required" not in err
    monkeypatch.delenv(ENV)
    assert main(["badges", "list", "--config", str(kiosk)]) == 2
    assert "this is a kiosk config, not a hub config (it was given with --config)" in \
        capsys.readouterr().err
    # A real mistake in the right kind of file is told as it is.
    kiosk.write_text(kiosk.read_text().replace('station = "s1"', 'staton = "s1"'))
    assert main(["outbox", "quarantine", "--config", str(kiosk)]) == 2
    err = capsys.readouterr().err
    assert "station: is required" in err and "not a kiosk config" not in err
    assert sorted(p.name for p in here.iterdir()) == ["hub.toml", "kiosk.toml", "roster.toml"]
