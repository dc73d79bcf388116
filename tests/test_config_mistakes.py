"""Every config file refuses what it cannot use, through the command IT runs, and leaves
nothing behind: a misspelt key (named, with the nearest known key), and a name, label or
menu the message contract cannot carry (named, with the limit).

Each case runs the real command on a broken copy of a shipped example and checks the
message and that no database, outbox or generated file appeared.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from broker.contract import MAX_ACTIVITIES, MAX_PAYLOAD_BYTES, SHORT_TEXT_MAX
from stations.cli import main
from stations.errors import ConfigError
from tests.conftest import REPO, ROOM

LONG = "L" * (SHORT_TEXT_MAX + 1)


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --- the hub ----------------------------------------------------------------------------------

def hub_folder(tmp_path: Path, change: Callable[[str], str],
               roster: Callable[[str], str] = lambda t: t) -> Path:
    (tmp_path / "roster.toml").write_text(roster((ROOM / "roster.toml").read_text()))
    (tmp_path / "hub.toml").write_text(change((ROOM / "hub.toml").read_text()))
    return tmp_path


def big_menus(text: str) -> str:
    """Four more stations, every station with a full menu of the longest labels: each name
    and label is within the contract, the rotation state is not."""
    menu = "activities = [\n" + "".join(
        f'  {{ id = "a{k}-{"x" * 28}", label = "{chr(65 + k) * SHORT_TEXT_MAX}", '
        f'icon = "star" }},\n' for k in range(MAX_ACTIVITIES)) + "]\n"
    head, _, _ = text.partition("[[stations]]")
    stations = "".join(f'[[stations]]\nid = "s{n}"\nname = "Station {n}"\n'
                       f'kind = "{"teacher-led" if n == 1 else "independent"}"\n{menu}\n'
                       for n in range(1, 9))
    groups = text[text.index("[[groups]]"):]
    return head + stations + groups


HUB_MISTAKES = {
    "misspelt key": (lambda t: edit(t, "days = 180", "dayz = 180"), lambda r: r,
                     "retention.dayz", "unknown key; did you mean `days`?"),
    "misspelt table": (lambda t: edit(t, "[retention]", "[retension]"), lambda r: r,
                       "retension", "unknown key; did you mean `retention`?"),
    "plain PIN": (lambda t: edit(t, "teacher_idle_seconds = 30",
                                 'teacher_idle_seconds = 30\nteacher_pin_hash = "1234"'),
                  lambda r: r, "display.teacher_pin_hash", "never put the PIN itself here"),
    "long station name": (lambda t: edit(t, 'name = "Computers"', f'name = "{LONG}"'),
                           lambda r: r, "stations[1].name",
                           f"is {SHORT_TEXT_MAX + 1} characters; the message contract carries "
                           f"at most {SHORT_TEXT_MAX}"),
    "long activity label": (lambda t: edit(t, 'label = "Quiz"', f'label = "{LONG}"'),
                            lambda r: r, "stations[1].activities[2].label",
                            f"at most {SHORT_TEXT_MAX}"),
    "long group name": (lambda t: edit(t, 'name = "Owls"', f'name = "{LONG}"'), lambda r: r,
                        "groups[1].name", f"at most {SHORT_TEXT_MAX}"),
    "long public group name": (lambda t: edit(t, 'name = "Owls"',
                                              f'name = "Owls"\npublic_name = "{LONG}"'),
                               lambda r: r, "groups[1].public_name",
                               f"is {SHORT_TEXT_MAX + 1} characters; the message contract "
                               f"carries at most {SHORT_TEXT_MAX}"),
    "empty public group name": (lambda t: edit(t, 'name = "Owls"',
                                               'name = "Owls"\npublic_name = " "'),
                                lambda r: r, "groups[1].public_name", "is empty"),
    "level as public group name": (lambda t: edit(t, 'name = "Owls"',
                                                  'name = "Owls"\npublic_name = "Booster"'),
                                   lambda r: r, "groups[1].public_name",
                                   "'Booster' sounds like a level"),
    "public group name twice": (lambda t: edit(t, 'name = "Owls"',
                                               'name = "Owls"\npublic_name = "Foxes"'),
                                lambda r: r, "groups", "two groups show as 'Foxes'"),
    "too many activities": (lambda t: edit(t, '  { id = "draw", label = "Draw", icon = "star", '
                                              'labels = { es = "Dibujar" } },',
                                           "".join(f'  {{ id = "x{k}", label = "X" }},\n'
                                                   for k in range(7))),
                            lambda r: r, "stations[3].activities",
                            f"9 activities; the message contract carries at most "
                            f"{MAX_ACTIVITIES}"),
    "bad translation language": (lambda t: edit(t, 'labels = { es = "Leer" }',
                                                'labels = { spanish = "Leer" }'),
                                 lambda r: r, "stations[3].activities[0].labels.spanish",
                                 "is not a language tag"),
    "xapi without an endpoint": (lambda t: t + '\n[xapi]\nhomepage = "https://school.example"\n',
                                 lambda r: r, "xapi.endpoint", "one of the two"),
    "bad activity icon": (lambda t: edit(t, 'icon = "book"', 'icon = "Book"'), lambda r: r,
                          "stations[3].activities[0].icon", "lower-case"),
    "rotation state too big": (big_menus, lambda r: r, "stations",
                               f"the message contract carries at most {MAX_PAYLOAD_BYTES}"),
    "misspelt roster key": (lambda t: t, lambda r: edit(r, 'given_name = "Ana"',
                                                        'given_name = "Ana"\nprefered_name = "A"'),
                            "students[0].prefered_name",
                            "unknown key; did you mean `preferred_name`?"),
    "long display name": (lambda t: t, lambda r: edit(r, 'given_name = "Ana"',
                                                      f'given_name = "{LONG}"'),
                          "students[0].given_name", f"carries at most {SHORT_TEXT_MAX}"),
}


@pytest.mark.parametrize("mistake", sorted(HUB_MISTAKES))
def test_the_hub_refuses_a_broken_config_and_creates_nothing(tmp_path: Path,
                                                             mistake: str) -> None:
    change, roster, key, problem = HUB_MISTAKES[mistake]
    folder = hub_folder(tmp_path, change, roster)
    before = files(folder)
    proc = subprocess.run([sys.executable, "-m", "stations", "hub", "--config",
                           str(folder / "hub.toml"), "--no-display", "--seconds", "5"],
                          cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "SDL_VIDEODRIVER": "dummy"})
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    file = "roster.toml" if key.startswith("students") else "hub.toml"
    assert line.startswith(f"stations: {folder / file}: {key}: "), line
    assert problem in line, line
    assert files(folder) == before  # no hub.db, no WAL, nothing


def test_the_rotation_state_size_is_measured_as_the_hub_would_send_it(tmp_path: Path) -> None:
    from hub.config import load_hub_config

    folder = hub_folder(tmp_path, big_menus)
    with pytest.raises(ConfigError) as err:
        load_hub_config(folder / "hub.toml")
    size = int(err.value.problem.split(" is ")[1].split(" bytes")[0])
    assert MAX_PAYLOAD_BYTES < size < 2 * MAX_PAYLOAD_BYTES
    # six of those stations fit: then the config loads
    text = (folder / "hub.toml").read_text()
    keep = text.split("[[stations]]")
    fitting = "[[stations]]".join(keep[:7]) + text[text.index("[[groups]]"):]
    (folder / "hub.toml").write_text(fitting)
    assert len(load_hub_config(folder / "hub.toml").plan.stations) == 6


# --- the station ------------------------------------------------------------------------------

KIOSK_MISTAKES = {
    "misspelt table": (lambda t: edit(t, "[reader]", "[reeder]"), "reeder",
                       "unknown key; did you mean `reader`?"),
    "misspelt reader option": (lambda t: edit(t, 'kind = "simulated"',
                                              'kind = "simulated"\nrepeat = 2.0'),
                               "reader.repeat", "unknown key; did you mean `repeat_s`?"),
    "option of another reader": (lambda t: edit(t, 'kind = "simulated"',
                                                'kind = "rdm6300"\nirq_pin = 24'),
                                 "reader.irq_pin", "unknown key"),
    "long label": (lambda t: edit(t, 'label = "Read"', f'label = "{LONG}"'),
                   "activities[0].label", f"at most {SHORT_TEXT_MAX}"),
}


@pytest.mark.parametrize("mistake", sorted(KIOSK_MISTAKES))
def test_the_kiosk_refuses_a_broken_config_and_creates_no_outbox(tmp_path: Path, capsys,
                                                                 mistake: str) -> None:
    change, key, problem = KIOSK_MISTAKES[mistake]
    path = tmp_path / "kiosk.toml"
    path.write_text(change((ROOM / "kiosk.toml").read_text()))
    assert main(["kiosk", "--config", str(path), "--headless", "--seconds", "1"]) == 2
    assert f"{path}: {key}: " in capsys.readouterr().err
    with pytest.raises(ConfigError, match=problem.replace("`", ".").replace("?", ".")):
        from kiosk.config import load_kiosk_config
        load_kiosk_config(path)
    assert files(tmp_path) == {"kiosk.toml"}  # no outbox


# --- the room's broker and devices --------------------------------------------------------------

def test_broker_config_refuses_a_misspelt_key_and_writes_nothing(tmp_path: Path,
                                                                 capsys) -> None:
    devices = tmp_path / "devices.toml"
    devices.write_text(edit((REPO / "broker" / "example-devices.toml").read_text(),
                            "max_queued_messages", "max_queued_mesages"))
    out = tmp_path / "out"
    assert main(["broker-config", str(devices), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "broker.max_queued_mesages: unknown key; did you mean `max_queued_messages`?" in err
    assert not out.exists()


def test_a_credentials_file_with_a_misspelt_key_is_refused(tmp_path: Path) -> None:
    from broker.credentials import load_credentials

    path = tmp_path / "mqtt.toml"
    path.write_text('[broker]\nroom = "r"\ndevice = "s1"\nhost = "hub"\ntls = false\n'
                    'username = "s1"\npassword = "x"\nclient_ud = "s1"\n')
    with pytest.raises(ConfigError) as err:
        load_credentials(path)
    assert err.value.key == "broker.client_ud"
    assert err.value.problem == "unknown key; did you mean `client_id`?"


INVENTORY_MISTAKES = {
    "misspelt key": (("label = \"214-1\"", "lable = \"214-1\""), "stations[0].lable",
                     "unknown key; did you mean `label`?"),
    "misspelt broker key": (("# [rooms.broker]\n# max_queued_messages = 10000",
                             "[rooms.broker]\nmax_queued_mesages = 10000"),
                            "rooms[0].broker.max_queued_mesages",
                            "did you mean `max_queued_messages`?"),
    "misspelt reader option": (('reader = { kind = "rdm6300" }',
                                'reader = { kind = "rdm6300", baud = 9600 }'),
                               "stations[2].reader.baud", "did you mean `baudrate`?"),
    "long station name": (('name = "Computers"', f'name = "{LONG}"'), "stations[1].name",
                          f"at most {SHORT_TEXT_MAX}"),
    "plain PIN": (('label = "HUB 214"', 'label = "HUB 214"\nteacher_pin_hash = "1234"'),
                  "rooms[0].hub.teacher_pin_hash", "never put the PIN itself here"),
}


@pytest.mark.parametrize("mistake", sorted(INVENTORY_MISTAKES))
def test_provisioning_refuses_a_broken_inventory_and_writes_nothing(tmp_path: Path, capsys,
                                                                    mistake: str) -> None:
    (old, new), key, problem = INVENTORY_MISTAKES[mistake]
    source = REPO / "provisioning"
    inventory = tmp_path / "room.toml"
    inventory.write_text(edit((source / "example-room.toml").read_text(), old, new))
    (tmp_path / "example-roster.toml").write_text((source / "example-roster.toml").read_text())
    out = tmp_path / "cards"
    assert main(["provision", str(inventory), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(inventory.read_text().splitlines(), start=1)
                if new.splitlines()[-1] in text)
    assert f"{inventory}:{line}: {key}: " in err and problem in err, err
    assert not out.exists()


def test_provisioning_measures_each_rooms_rotation_state(tmp_path: Path, capsys) -> None:
    source = REPO / "provisioning"
    text = (source / "example-room.toml").read_text()
    menu = "activities = [\n" + "".join(
        f'  {{ id = "a{k}-{"x" * 28}", label = "{chr(65 + k) * SHORT_TEXT_MAX}" }},\n'
        for k in range(MAX_ACTIVITIES)) + "]\n"
    extra = "".join(f'\n[[stations]]\nid = "extra-{n}"\nroom = "lincoln-214"\n'
                    f'name = "Extra {n}"\nkind = "independent"\n{menu}' for n in range(8))
    inventory = tmp_path / "room.toml"
    inventory.write_text(text + extra)
    (tmp_path / "example-roster.toml").write_text((source / "example-roster.toml").read_text())
    out = tmp_path / "cards"
    assert main(["provision", str(inventory), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "stations: room 'lincoln-214': the rotation state this config makes is" in err
    assert f"at most {MAX_PAYLOAD_BYTES}" in err
    assert not out.exists()


def test_the_pin_map_refuses_a_misspelt_key_and_generates_no_firmware_pins(
        tmp_path: Path) -> None:
    path = tmp_path / "pinmap.toml"
    shipped = (REPO / "hardware" / "pinmap.toml").read_text()
    path.write_text(edit(shipped, "gpio = 25, to", "gpio = 25, pul = \"up\", to"))
    proc = subprocess.run([sys.executable, "-m", "kiosk.pinmap", "--file", str(path),
                           "--micropython", "puck"], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""  # no pins.py for the firmware
    assert "kiosk.signals.reader_rst.pul: unknown key; did you mean `pull`?" in proc.stderr
