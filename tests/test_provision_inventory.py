"""Bad inventories are refused with the file, the line and the problem, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.inventory import InventoryError, LineIndex, load_inventory
from provisioning.provision import provision_file
from tests.test_provision import make_inventory


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    lines = path.read_text().splitlines()
    hits = [n for n, line in enumerate(lines, 1) if needle in line]
    return hits[occurrence - 1]


def refused(path: Path, tmp_path: Path) -> InventoryError:
    out = tmp_path / "out"
    with pytest.raises(InventoryError) as info:
        provision_file(path, out)
    assert not out.exists(), "a refused inventory must write nothing"
    return info.value


def test_duplicate_host_names_name_the_second_line(tmp_path: Path) -> None:
    path = make_inventory(tmp_path, {'hostname = "st214-computers"':
                                     'hostname = "st214-teacher"'})
    err = refused(path, tmp_path)
    assert err.line == line_of(path, 'hostname = "st214-teacher"', 2)
    assert str(err).startswith(f"{path}:{err.line}: stations[1].hostname: ")
    assert "'st214-teacher' is already used by station teacher-table" in str(err)


def test_a_station_with_the_hubs_host_name_is_refused(tmp_path: Path) -> None:
    path = make_inventory(tmp_path, {'hostname = "st214-quiet"': 'hostname = "HUB-214"'})
    err = refused(path, tmp_path)
    assert err.line == line_of(path, 'hostname = "HUB-214"')
    assert "already used by the hub of room lincoln-214" in str(err)


def test_a_station_without_a_room_names_its_table(tmp_path: Path) -> None:
    path = make_inventory(tmp_path, append='\n[[stations]]\nid = "orphan"\nkind = "online"\n'
                                           'activities = [{ id = "read", label = "Read" }]\n')
    err = refused(path, tmp_path)
    assert err.line == line_of(path, "[[stations]]", 5)
    assert "station 'orphan' has no room" in str(err)
    assert 'add room = "lincoln-214"' in str(err)


def test_a_station_in_an_unknown_room_is_refused(tmp_path: Path) -> None:
    path = make_inventory(tmp_path, {'room = "lincoln-214"\nhostname = "st214-team"':
                                     'room = "lincoln-215"\nhostname = "st214-team"'})
    err = refused(path, tmp_path)
    assert err.line == line_of(path, 'room = "lincoln-215"')
    assert "'lincoln-215' is not a room in this file (rooms: lincoln-214)" in str(err)


def test_a_missing_wifi_password_names_the_wifi_table(tmp_path: Path) -> None:
    path = make_inventory(tmp_path, {'password = "correct-horse-battery"': ""})
    err = refused(path, tmp_path)
    assert err.line == line_of(path, "[wifi]")
    assert "Wi-Fi 'Lincoln-Classroom' has no password" in str(err)


def test_an_unreadable_wifi_password_file_is_refused(tmp_path: Path) -> None:
    path = make_inventory(tmp_path, {'password = "correct-horse-battery"':
                                     'password_file = "nope.txt"'})
    err = refused(path, tmp_path)
    assert err.line == line_of(path, 'password_file = "nope.txt"')
    assert "cannot read" in str(err) and "nope.txt" in str(err)


def test_a_password_file_works_and_an_open_network_needs_saying_so(tmp_path: Path) -> None:
    (tmp_path / "wifi.txt").write_text("from-a-file-123\n")
    path = make_inventory(tmp_path, {'password = "correct-horse-battery"':
                                     'password_file = "wifi.txt"'})
    assert load_inventory(path).site.wifi.password == "from-a-file-123"
    path = make_inventory(tmp_path, {'security = "wpa-psk"': 'security = "open"',
                                     'password = "correct-horse-battery"': ""})
    assert load_inventory(path).site.wifi.password == ""


@pytest.mark.parametrize(("old", "new", "needle", "message"), [
    ('timezone = "America/Chicago"', 'timezone = "Mars/Olympus"', "Mars/Olympus",
     "is not a time zone name"),
    ('password = "correct-horse-battery"', 'password = "short"', 'password = "short"',
     "8-63 printable ASCII"),
    ('country = "US"', 'country = "USA"', 'country = "USA"', "two-letter country code"),
    ('kind = "online"', 'kind = "lab"', 'kind = "lab"', "use one of teacher-led"),
    ('id = "computers"', 'id = "Computers!"', 'id = "Computers!"', "lower-case letters"),
    ('ip = "10.20.14.2"', 'ip = "10.20.14"', 'ip = "10.20.14"', "is not an IPv4 address"),
    ('user = "schoolit"', 'user = "stations"', 'user = "stations"', "other than root"),
    ('reader = { kind = "keyboard" }', 'reader = { kind = "laser" }',
     'reader = { kind = "laser" }', "'laser': use one of simulated"),
    ('network = "dhcp"', 'network = "static"', 'network = "static"',
     "hub.gateway: is required but missing"),
])
def test_bad_values_name_their_line(tmp_path: Path, old: str, new: str, needle: str,
                                    message: str) -> None:
    path = make_inventory(tmp_path, {old: new})
    err = refused(path, tmp_path)
    assert message in str(err)
    # The static-network case reports the [rooms.hub] table, the others their own line.
    expected = line_of(path, "[rooms.hub]") if "gateway" in message else line_of(path, needle)
    assert err.line == expected, str(err)


def test_a_missing_ssh_key_is_refused(tmp_path: Path) -> None:
    text = make_inventory(tmp_path).read_text()
    start = text.index("ssh_keys = [")
    end = text.index("]\n", start) + 2
    path = tmp_path / "inventory.toml"
    path.write_text(text[:start] + text[end:])
    err = refused(path, tmp_path)
    assert err.line == line_of(path, "[admin]")
    assert "no SSH keys" in str(err)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = make_inventory(tmp_path, {"[site]": "[site"})
    with pytest.raises(Exception, match="not valid TOML") as info:
        provision_file(path, tmp_path / "out")
    assert str(path) in str(info.value)


def test_line_index_follows_toml_nesting() -> None:
    index = LineIndex('[[rooms]]\nid = "a"\n[rooms.hub]\nip = "x"\n[[rooms.groups]]\n'
                      'id = "g"\n[[rooms]]\nid = "b"\n[[rooms.groups]]\nid = "h"\n')
    assert index.find(("rooms", 0, "hub", "ip")) == 4
    assert index.find(("rooms", 1, "id")) == 8
    assert index.find(("rooms", 1, "groups", 0, "id")) == 10
    assert index.find(("rooms", 0, "groups", 0, "name")) == 5  # falls back to the header
