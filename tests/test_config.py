"""Broken configuration is refused with the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_hub_config
from hub.roster import read_roster_file
from kiosk.config import load_kiosk_config
from stations.errors import ConfigError

ROOM = Path(__file__).resolve().parent.parent / "stations" / "room"


def test_shipped_examples_load() -> None:
    hub = load_hub_config(ROOM / "hub.toml")
    assert hub.room == "demo-room" and len(hub.plan.stations) == 4
    kiosk = load_kiosk_config(ROOM / "kiosk.toml")
    assert kiosk.station == "s1" and kiosk.reader_kind == "simulated"
    assert len(read_roster_file(ROOM / "roster.toml")) == 16


@pytest.mark.parametrize(("edit", "key", "problem"), [
    (("room = \"demo-room\"", "room = \"Demo Room\""), "room", "lower-case"),
    (("port = 1883", "port = \"x\""), "broker.port", "must be a int"),
    (("port = 1883", "port = 70000"), "broker.port", "not a TCP port"),
    (("block_minutes = 12", "block_minutes = 0"), "rotation.block_minutes", "greater than 0"),
    (("kind = \"online\"", "kind = \"outside\""), "stations[1].kind", "not one of"),
    (("roster = \"roster.toml\"\n", ""), "roster", "required"),
])
def test_bad_hub_config_names_key(tmp_path: Path, edit: tuple[str, str], key: str,
                                  problem: str) -> None:
    path = tmp_path / "hub.toml"
    path.write_text((ROOM / "hub.toml").read_text().replace(*edit, 1))
    with pytest.raises(ConfigError) as err:
        load_hub_config(path)
    assert err.value.key == key
    assert problem in str(err.value) and str(path) in str(err.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_kiosk_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("room = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_kiosk_config(bad)


def test_bad_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    path.write_text('[[students]]\nid="a"\ngiven_name="A"\nfamily_name="B"\nbadges=["01020304"]\n'
                    '[[students]]\nid="b"\ngiven_name="C"\nfamily_name="D"\nbadges=["01020304"]\n')
    with pytest.raises(ConfigError) as err:
        read_roster_file(path)
    assert err.value.key == "students[1].badges" and "already a's" in str(err.value)
    path.write_text('[[students]]\nid="a"\ngiven_name="A"\nfamily_name="B"\nbadges=["xyz"]\n')
    with pytest.raises(ConfigError, match="hex"):
        read_roster_file(path)


def test_a_section_knows_every_key_its_loader_asks_for() -> None:
    from stations.tomlconfig import Section

    path = Path("x.toml")
    data = {"a": 1, "t": {"x": 1, "y": 2}, "arr": [{"k": 1}, {"kk": 2}], "later": True}
    root = Section(path, data)
    root.get("a", int)
    root.table("t").get("x", int)
    root.table("t").get("y", int)  # a second look at the same table counts too
    for entry in root.tables("arr"):
        entry.get("k", int, 0)
    root.known("later")  # a key this case does not read
    with pytest.raises(ConfigError) as err:
        root.check_unknown()
    assert (err.value.key, err.value.problem) == ("arr[1].kk",
                                                  "unknown key; did you mean `k`?")
    root.tables("arr")[1].get("kk", int)  # a key a loader reads is known, nothing to declare
    root.check_unknown()
    # a misspelt required key is named as such
    with pytest.raises(ConfigError, match=r"required but missing \(is `kk` a misspelling"):
        Section(path, {"kk": 1}).get("k", int)
