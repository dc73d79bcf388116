"""The generated cloud-init files pass cloud-init's own schema and netplan's own parser."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from provisioning.cloudinit import wpa_psk
from provisioning.provision import provision_file
from tests.test_provision import EXAMPLE, STATIONS, make_inventory

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "provisioning" / "schemas" / "cloud-init-25.2" / "schema-cloud-config-v1.json"
DEVICES = ("hub", *STATIONS)
STATIC_HUB = {'network = "dhcp"': 'network = "static"',
              "# prefix = 24": "prefix = 24",
              '# gateway = "10.20.14.1"': 'gateway = "10.20.14.1"',
              '# dns = ["10.20.0.53"]': 'dns = ["10.20.0.53"]'}


def _validator() -> jsonschema.protocols.Validator:
    """cloud-init's validator: Draft 4 plus its ``deprecated`` and ``changed`` keywords, which
    are errors here (cloud-init warns; we never want to emit a deprecated form)."""
    def flagged(kind: str):  # type: ignore[no-untyped-def]
        def check(validator, value, instance, schema):  # type: ignore[no-untyped-def]
            if value:
                yield jsonschema.ValidationError(
                    f"{kind} in cloud-init {schema.get(kind + '_version', '?')}: "
                    f"{schema.get(kind + '_description', '')}")
        return check

    cls = jsonschema.validators.extend(jsonschema.Draft4Validator, {
        "deprecated": flagged("deprecated"), "changed": flagged("changed")})
    return cls(json.loads(SCHEMA.read_text()), format_checker=jsonschema.FormatChecker())


def _errors(data: object) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _validator().iter_errors(data)]


@pytest.fixture(scope="module")
def rooms(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The example room, and a variant with a static hub on a WPA-Enterprise network."""
    base = tmp_path_factory.mktemp("cloudinit")
    out_a = base / "a"
    provision_file(EXAMPLE, out_a)
    inventory = make_inventory(base / "inv", {
        **STATIC_HUB,
        'security = "wpa-psk"': 'security = "wpa-eap"\nidentity = "stations@lincoln"',
        'interface = "wlan0"': 'interface = "eth0"',
        "# hidden = true": "hidden = true"})
    out_b = base / "b"
    provision_file(inventory, out_b)
    return [out_a, out_b]


def _boot_files(rooms: list[Path], name: str) -> list[Path]:
    return [out / "lincoln-214" / d / "bootfs" / name for out in rooms for d in DEVICES]


def test_every_user_data_is_valid_cloud_config_for_cloud_init_25_2(rooms: list[Path]) -> None:
    for path in _boot_files(rooms, "user-data"):
        assert _errors(yaml.safe_load(path.read_text())) == [], path


def test_the_schema_check_can_fail() -> None:
    assert _errors({"hostname": "a", "ssh_pwauth": [1]})
    assert _errors({"apt_update": True})  # deprecated key
    assert _errors({"ssh_pwauth": "no"})  # deprecated form of a key
    assert any("rpi.interfaces.spi" in e for e in _errors({"rpi": {"interfaces": {"spi": 1}}}))
    assert _errors({"runcmd": [["ls"]], "made_up_key": True})


def test_meta_data_has_an_instance_id_and_host_name(rooms: list[Path]) -> None:
    ids = set()
    for path in _boot_files(rooms, "meta-data"):
        meta = yaml.safe_load(path.read_text())
        assert set(meta) == {"instance-id", "local-hostname"}
        ids.add(meta["instance-id"])
    assert len(ids) == 2 * len(DEVICES)


@pytest.mark.skipif(shutil.which("cloud-init") is None,
                    reason="Debian package cloud-init is not installed")
def test_debians_cloud_init_schema_command_accepts_every_user_data(rooms: list[Path]) -> None:
    for path in _boot_files(rooms, "user-data"):
        run = subprocess.run(["cloud-init", "schema", "--config-file", str(path)],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, f"{path}: {run.stdout}{run.stderr}"


@pytest.mark.skipif(shutil.which("cloud-init") is None,
                    reason="Debian package cloud-init is not installed")
def test_debians_cloud_init_schema_command_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "user-data"
    bad.write_text("#cloud-config\nssh_pwauth: [1]\n")
    run = subprocess.run(["cloud-init", "schema", "--config-file", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0


def _netplan(root: Path, text: str) -> subprocess.CompletedProcess[str]:
    (root / "etc" / "netplan").mkdir(parents=True)
    target = root / "etc" / "netplan" / "50-cloud-init.yaml"
    target.write_text(text)
    target.chmod(0o600)
    return subprocess.run(["netplan", "generate", "--root-dir", str(root)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("netplan") is None,
                    reason="Debian package netplan.io is not installed")
def test_every_network_config_passes_netplan(rooms: list[Path], tmp_path: Path) -> None:
    for i, path in enumerate(_boot_files(rooms, "network-config")):
        run = _netplan(tmp_path / str(i), path.read_text())
        assert run.returncode == 0, f"{path}: {run.stderr}"
        connections = list((tmp_path / str(i)).rglob("*.nmconnection"))
        assert any("Lincoln-Classroom" in c.name for c in connections), connections


@pytest.mark.skipif(shutil.which("netplan") is None,
                    reason="Debian package netplan.io is not installed")
def test_netplan_rejects_a_broken_network_config(tmp_path: Path) -> None:
    run = _netplan(tmp_path, "network:\n  version: 2\n  wifis:\n    wlan0:\n      dhcp4: maybe\n")
    assert run.returncode != 0


def test_network_config_shapes(rooms: list[Path]) -> None:
    station = yaml.safe_load((rooms[0] / "lincoln-214/computers/bootfs/network-config")
                             .read_text())["network"]
    ap = station["wifis"]["wlan0"]["access-points"]["Lincoln-Classroom"]
    assert ap == {"password": wpa_psk("correct-horse-battery", "Lincoln-Classroom")}
    assert station["wifis"]["wlan0"]["regulatory-domain"] == "US"
    hub = yaml.safe_load((rooms[1] / "lincoln-214/hub/bootfs/network-config")
                         .read_text())["network"]
    assert hub["ethernets"]["eth0"]["addresses"] == ["10.20.14.2/24"]
    assert hub["ethernets"]["eth0"]["routes"] == [{"to": "default", "via": "10.20.14.1"}]
    eap = hub["wifis"]["wlan0"]["access-points"]["Lincoln-Classroom"]
    assert eap["hidden"] is True and eap["auth"]["key-management"] == "eap"
    assert eap["auth"]["identity"] == "stations@lincoln"


def test_wpa_psk_matches_the_ieee_802_11i_test_vector() -> None:
    # IEEE 802.11i-2004, Annex H.4.1: passphrase "password", SSID "IEEE".
    assert wpa_psk("password", "IEEE") == (
        "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e")
