"""`stations provision`: the example room's cards, and the device configs the services read."""

from __future__ import annotations

import argparse
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from broker.credentials import load_credentials
from hub.config import load_hub_config
from kiosk.config import load_kiosk_config
from provisioning import cli, layout
from provisioning.provision import provision_file
from stations.errors import StationsError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "provisioning" / "example-room.toml"
ROSTER = REPO / "provisioning" / "example-roster.toml"
STATIONS = ("teacher-table", "computers", "team-table", "quiet-corner")


def make_inventory(folder: Path, replace: dict[str, str] | None = None, *,
                   append: str = "") -> Path:
    """The example inventory copied into ``folder``, with text replacements."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROSTER, folder / ROSTER.name)
    text = EXAMPLE.read_text()
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = folder / "inventory.toml"
    path.write_text(text + append)
    return path


def user_data(out: Path, room: str, device: str) -> dict:
    text = (out / room / device / "bootfs" / "user-data").read_text()
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def written_files(out: Path, room: str, device: str) -> dict[str, dict]:
    return {f["path"]: f for f in user_data(out, room, device)["write_files"]}


def test_the_example_room_gives_a_hub_and_four_station_cards(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = provision_file(EXAMPLE, out)
    assert [(c.device, c.role) for c in result.cards] == [("hub", "hub")] + [
        (s, "station") for s in STATIONS]
    for card in result.cards:
        boot = out / "lincoln-214" / card.device / "bootfs"
        assert sorted(p.name for p in boot.iterdir()) == ["meta-data", "network-config",
                                                          "user-data"]
        for name in ("user-data", "network-config", "meta-data"):
            assert (boot / name).stat().st_mode & 0o777 == 0o600
        meta = yaml.safe_load((boot / "meta-data").read_text())
        assert meta["instance-id"] == card.instance_id
        assert meta["local-hostname"] == card.hostname
    assert (out / ".state").stat().st_mode & 0o777 == 0o700


def test_each_station_config_loads_with_the_kiosks_own_loader(tmp_path: Path) -> None:
    out = tmp_path / "out"
    provision_file(EXAMPLE, out)
    for station in STATIONS:
        files = written_files(out, "lincoln-214", station)
        assert files[str(layout.KIOSK_CONFIG)]["owner"] == "root:stations"
        assert files[str(layout.KIOSK_CONFIG)]["permissions"] == "0640"
        mirror = out / "lincoln-214" / station / "files"
        config = load_kiosk_config(mirror / "etc/stations/kiosk.toml")
        creds = load_credentials(mirror / "etc/stations/mqtt.toml")
        assert config.station == station and config.room == "lincoln-214"
        assert config.broker.host == "hub-214.lincoln.school.lan" == creds.host
        assert config.broker.port == 8883 and creds.tls
        assert config.broker.username == creds.username == station
        assert config.broker.password == creds.password
        assert config.broker.ca_file == str(layout.CA_FILE)
        assert config.outbox == Path(layout.OUTBOX)
        assert config.fullscreen is True
        # The content of user-data's write_files is exactly the mirror copy.
        assert files[str(layout.KIOSK_CONFIG)]["content"] == (
            mirror / "etc/stations/kiosk.toml").read_text()
        hosts = files["/etc/hosts"]["content"]
        assert "10.20.14.2\thub-214.lincoln.school.lan hub-214" in hosts


def test_the_hub_config_loads_and_names_every_station(tmp_path: Path) -> None:
    out = tmp_path / "out"
    provision_file(EXAMPLE, out)
    mirror = out / "lincoln-214" / "hub" / "files"
    config = load_hub_config(mirror / "etc/stations/hub.toml")
    assert [s.id for s in config.plan.stations] == list(STATIONS)
    assert config.broker.host == "127.0.0.1" and config.broker.username == "hub"
    assert config.broker.ca_file is None  # the loopback listener
    assert config.database == Path(layout.HUB_DATABASE)
    assert config.roster == Path(layout.ROSTER)
    assert (mirror / "etc/stations/roster.toml").read_text() == ROSTER.read_text()
    files = written_files(out, "lincoln-214", "hub")
    mosquitto = {p for p in files if p.startswith(str(layout.MOSQUITTO_DIR))}
    assert {Path(p).name for p in mosquitto} == {"mosquitto.conf", "passwd", "passwd.local",
                                                 "acl", "ca.crt", "server.crt", "server.key"}
    assert files[f"{layout.MOSQUITTO_DIR}/server.key"]["permissions"] == "0600"
    conf = files[f"{layout.MOSQUITTO_DIR}/mosquitto.conf"]["content"]
    assert f"password_file {layout.MOSQUITTO_DIR}/passwd" in conf


def test_the_inventorys_teachers_reach_the_hubs_console(tmp_path: Path) -> None:
    """Teacher accounts (hashes only) and the console's certificate copy on the hub's card;
    the hub's config turns the console on, on the hub's room address."""
    from hub.console.accounts import hash_password, read_accounts, verify_password

    stored = hash_password("a long classroom password", log2_n=12)
    teachers = f'[[rooms.teachers]]\nname = "ms-garcia"\npassword_hash = "{stored}"\n\n'
    inventory = make_inventory(tmp_path / "inv", {"[[rooms.groups]]": teachers
                                                  + "[[rooms.groups]]"})
    out = tmp_path / "out"
    provision_file(inventory, out)
    etc = out / "lincoln-214/hub/files/etc/stations"
    config = load_hub_config(etc / "hub.toml")
    assert config.console.enabled and config.console.bind == "10.20.14.2"
    assert config.console.keyfile == Path(layout.CONSOLE_KEY)
    accounts = read_accounts(etc / "teachers.toml")
    assert verify_password("a long classroom password", accounts["ms-garcia"].password_hash)
    files = written_files(out, "lincoln-214", "hub")
    assert files[str(layout.CONSOLE_KEY)]["permissions"] == "0640"
    assert files[str(layout.CONSOLE_KEY)]["owner"] == f"root:{layout.SERVICE_USER}"
    assert files[str(layout.CONSOLE_KEY)]["content"] == \
        files[f"{layout.MOSQUITTO_DIR}/server.key"]["content"]
    assert "a long classroom password" not in (out / "sheet.txt").read_text()
    plain = make_inventory(tmp_path / "bad", {"[[rooms.groups]]": teachers.replace(
        stored, "a long classroom password") + "[[rooms.groups]]"})
    with pytest.raises(StationsError, match="password_hash"):
        provision_file(plain, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


def test_the_teacher_pin_hash_in_the_inventory_reaches_the_hubs_config(tmp_path: Path) -> None:
    from hub.pin import hash_pin, verify_pin

    stored = hash_pin("482913")
    inventory = make_inventory(tmp_path / "inv", {
        'label = "HUB 214"': f'label = "HUB 214"\nteacher_pin_hash = "{stored}"'})
    out = tmp_path / "out"
    provision_file(inventory, out)
    config = load_hub_config(out / "lincoln-214/hub/files/etc/stations/hub.toml")
    assert config.teacher_pin_hash == stored and verify_pin("482913", stored)
    assert "482913" not in (out / "sheet.txt").read_text()


def test_user_data_sets_the_device_up_with_ssh_keys_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    provision_file(EXAMPLE, out)
    data = user_data(out, "lincoln-214", "teacher-table")
    assert data["hostname"] == "st214-teacher"
    assert data["timezone"] == "America/Chicago" and data["locale"] == "en_US.UTF-8"
    assert data["ssh_pwauth"] is False and data["disable_root"] is True
    assert data["user"]["lock_passwd"] is True and "passwd" not in data["user"]
    assert data["user"]["ssh_authorized_keys"][0].startswith("ssh-ed25519 ")
    assert data["rpi"] == {"interfaces": {"spi": True}}  # the MFRC522 reader
    assert user_data(out, "lincoln-214", "team-table")["rpi"] == {
        "interfaces": {"serial": {"console": False, "hardware": True}}}  # RDM6300 on the UART
    assert "rpi" not in user_data(out, "lincoln-214", "computers")  # USB keyboard reader
    assert data["runcmd"][-1] == [str(layout.FIRSTBOOT)]
    assert data["growpart"] == {"mode": "off"}
    assert user_data(out, "lincoln-214", "hub")["growpart"]["devices"] == ["/"]
    known = (out / "known_hosts").read_text()
    assert data["ssh_keys"]["ed25519_public"].split()[1] in known


def test_no_secret_reaches_the_sheet(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = provision_file(EXAMPLE, out)
    sheet = (out / "sheet.html").read_text() + (out / "sheet.txt").read_text()
    secrets = ["correct-horse-battery"]
    for device in ("hub", *STATIONS):
        secrets.append(tomllib.loads((out / ".state/lincoln-214/devices" / device /
                                      "mqtt.toml").read_text())["broker"]["password"])
    for secret in secrets:
        assert secret not in sheet
    # and the Wi-Fi passphrase is not on the cards either: only the derived key.
    for device in ("hub", *STATIONS):
        assert "correct-horse-battery" not in (
            out / "lincoln-214" / device / "bootfs" / "network-config").read_text()
    for card in result.cards:
        assert card.hostname in sheet and card.ssh_fingerprint in sheet


def test_running_again_changes_nothing_and_keeps_every_secret(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = provision_file(EXAMPLE, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = provision_file(EXAMPLE, out)
    assert second.written == []
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [c.instance_id for c in first.cards] == [c.instance_id for c in second.cards]


def test_a_changed_station_gets_a_new_instance_id_and_a_removed_one_is_revoked(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    spare = ('\n[[stations]]\nid = "spare"\nroom = "lincoln-214"\nkind = "online"\n'
             'activities = [{ id = "read", label = "Read" }]\n')
    inventory = make_inventory(tmp_path / "inv", append=spare)
    first = {c.device: c.instance_id for c in provision_file(inventory, out).cards}
    assert first["spare"] and (out / "lincoln-214" / "spare" / "bootfs").is_dir()
    make_inventory(tmp_path / "inv", {'name = "Computers"': 'name = "Laptops"'}, append=spare)
    second = {c.device: c.instance_id for c in provision_file(inventory, out).cards}
    assert second["computers"] != first["computers"]
    assert second["teacher-table"] == first["teacher-table"]
    # Drop the spare: its folder goes and the hub's password file no longer has it.
    make_inventory(tmp_path / "inv", {'name = "Computers"': 'name = "Laptops"'})
    result = provision_file(inventory, out)
    assert result.removed == ["lincoln-214/spare"]
    assert not (out / "lincoln-214" / "spare").exists()
    passwd = written_files(out, "lincoln-214", "hub")[f"{layout.MOSQUITTO_DIR}/passwd"]
    assert "spare:" not in passwd["content"] and "teacher-table:" in passwd["content"]
    assert result.cards[0].instance_id != second["hub"]


def test_the_command_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["provision", str(EXAMPLE), "--out", str(tmp_path / "out")])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "5 cards for 1 room(s) (lincoln-214)" in text
    assert "lincoln-214/teacher-table/bootfs" in text
    assert "correct-horse-battery" not in text
