"""What runs on the device: units, Mosquitto from the hub's card, sd_notify, releases, first boot,
the Imager repository file, and (opt-in) the install script in a debootstrap root."""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from broker.credentials import load_credentials
from provisioning import imager, layout
from provisioning.provision import provision_file
from stations.sdnotify import Notifier
from tests.broker_helpers import MOSQUITTO, Broker, connect, free_port
from tests.test_provision import REPO, make_inventory

FILES = REPO / "provisioning" / "files"
RELEASE_TOOL = FILES / "sbin" / "stations-release"


# --- systemd units ---------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs Debian's systemd")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    root = tmp_path / "root"
    system = root / "etc/systemd/system"
    (system / "mosquitto.service.d").mkdir(parents=True)
    for unit in ("stations-kiosk.service", "stations-hub.service"):
        shutil.copy(FILES / "systemd" / unit, system)
    shutil.copy(FILES / "systemd/mosquitto-stations.conf", system / "mosquitto.service.d/x.conf")
    # The host's units (sysinit.target, Debian's mosquitto.service) and the binaries the
    # units run, where the device has them.
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree("/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for binary in ("/usr/bin/setterm", "/bin/mkdir", "/bin/kill", "/bin/chown", MOSQUITTO):
        target = root / binary.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.exists(binary):
            shutil.copy(binary, target)
        else:  # every device has it (procps, util-linux); this machine need not
            target.write_text("#!/bin/sh\n")
            target.chmod(0o755)
    stations = root / str(layout.CURRENT).lstrip("/") / "bin" / "stations"
    stations.parent.mkdir(parents=True)
    stations.write_text("#!/bin/sh\n")
    stations.chmod(0o755)
    units = ["stations-kiosk.service", "stations-hub.service"]
    if (root / "usr/lib/systemd/system/mosquitto.service").exists():
        units.append("mosquitto.service")
    # --man=no: Debian's mosquitto.service names its man pages, and whether `man` and those
    # pages are installed says nothing about the units (minimal images have neither).
    run = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", *units],
                         capture_output=True, text=True, timeout=60)
    # Unknown keys are only warnings: any output at all is a failure.
    assert run.returncode == 0 and run.stderr == "", run.stderr
    # ...and the check can fail: a misspelt key is reported.
    bad = (FILES / "systemd/stations-kiosk.service").read_text().replace("WatchdogSec=",
                                                                         "WatchdogSecs=")
    (system / "stations-kiosk.service").write_text(bad)
    run = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}",
                          "stations-kiosk.service"], capture_output=True, text=True)
    assert "Unknown key 'WatchdogSecs'" in run.stderr


def test_units_restart_on_failure_with_a_watchdog_and_kmsdrm() -> None:
    for unit, config in (("stations-kiosk.service", layout.KIOSK_CONFIG),
                         ("stations-hub.service", layout.HUB_CONFIG)):
        text = (FILES / "systemd" / unit).read_text()
        for line in ("Type=notify", "Restart=on-failure", "WatchdogSec=30", "User=stations",
                     "Environment=SDL_VIDEODRIVER=kmsdrm",
                     f"ExecStart={layout.CURRENT}/bin/stations"):
            assert line in text, (unit, line)
        assert f"--config {config}" in text
        assert f"ReadWritePaths={layout.DATA}" in text
    groups = (FILES / "systemd/stations-kiosk.service").read_text()
    assert all(g in groups for g in ("video", "input", "gpio", "spi"))


# --- Mosquitto from the hub's card --------------------------------------------------------

@pytest.mark.broker
@pytest.mark.usefixtures("need_mosquitto")
def test_the_hubs_card_starts_mosquitto_and_a_station_connects_with_its_card(
        tmp_path: Path) -> None:
    tls_port, local_port = free_port(), free_port()
    user = "root" if os.geteuid() == 0 else "mosquitto"
    inventory = make_inventory(tmp_path / "inv", {
        'ip = "10.20.14.2"': 'ip = "127.0.0.1"',
        "# [rooms.broker]": f"[rooms.broker]\ntls_port = {tls_port}\nlocal_port = {local_port}"
                            f'\ndata_dir = "{tmp_path / "data"}"',
        "# max_queued_messages = 10000": "max_queued_messages = 10000"})
    out = tmp_path / "out"
    provision_file(inventory, out)
    # Lay the hub's write_files down as cloud-init would, under a root folder here.
    root = tmp_path / "hub-root"
    hub = yaml.safe_load((out / "lincoln-214/hub/bootfs/user-data").read_text())
    for spec in hub["write_files"]:
        target = root / spec["path"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        content = spec["content"].replace(str(layout.MOSQUITTO_DIR),
                                          str(root / str(layout.MOSQUITTO_DIR).lstrip("/")))
        if spec["path"].endswith("mosquitto.conf"):
            content = content.replace("user mosquitto", f"user {user}")
        target.write_text(content)
        target.chmod(int(spec["permissions"], 8))
    (tmp_path / "data").mkdir()
    conf = root / str(layout.MOSQUITTO_DIR).lstrip("/") / "mosquitto.conf"
    broker = Broker(conf, (tls_port, local_port), log_path=tmp_path / "mosquitto.log").start()
    try:
        # A station, with exactly the credentials and CA its own card carries.
        station = yaml.safe_load((out / "lincoln-214/teacher-table/bootfs/user-data")
                                 .read_text())
        files = {f["path"]: f["content"] for f in station["write_files"]}
        creds_dir = tmp_path / "station-etc"
        creds_dir.mkdir()
        (creds_dir / "mqtt.toml").write_text(files[str(layout.CREDENTIALS)])
        (creds_dir / "ca.crt").write_text(files[str(layout.CA_FILE)])
        creds = load_credentials(creds_dir / "mqtt.toml")
        session = connect(creds, tls_port, host="127.0.0.1")
        session.close()
        hub_creds_dir = tmp_path / "hub-etc"
        hub_creds_dir.mkdir()
        (hub_creds_dir / "mqtt.toml").write_text(
            (root / "etc/stations/mqtt.toml").read_text())
        (hub_creds_dir / "ca.crt").write_text((root / "etc/stations/ca.crt").read_text())
        hub_session = connect(load_credentials(hub_creds_dir / "mqtt.toml"), local_port)
        hub_session.close()
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do
            connect(creds, tls_port, host="127.0.0.1", password="not-the-password")
    finally:
        broker.stop()


# --- sd_notify ------------------------------------------------------------------------------

def test_notifier_speaks_the_sd_notify_protocol_to_a_real_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(2)
    now = [100.0]
    try:
        notifier = Notifier.from_environment({"NOTIFY_SOCKET": path,
                                              "WATCHDOG_USEC": "30000000",
                                              "WATCHDOG_PID": str(os.getpid())})
        notifier._clock = lambda: now[0]
        assert notifier.ready("hub: broker connected")
        assert server.recv(256) == b"READY=1\nSTATUS=hub: broker connected"
        assert notifier.ping()
        assert server.recv(256) == b"WATCHDOG=1"
        now[0] += 7.0  # under a quarter of 30 s: rate-limited
        assert not notifier.ping()
        now[0] += 1.0
        assert notifier.ping()
        assert server.recv(256) == b"WATCHDOG=1"
        assert notifier.stopping()
        assert server.recv(256) == b"STOPPING=1"
        notifier.close()
    finally:
        server.close()


def test_notifier_outside_systemd_does_nothing() -> None:
    notifier = Notifier.from_environment({})
    assert not notifier.enabled and not notifier.ready() and not notifier.ping()
    other = Notifier.from_environment({"NOTIFY_SOCKET": "/nonexistent/socket",
                                       "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"})
    assert other.interval == 0  # the watchdog was meant for another process
    assert not other.ready()  # the socket is gone: no exception


# --- releases: versioned venvs switched atomically, with rollback ---------------------------

def make_wheel(folder: Path, version: str, *, healthy: bool = True) -> Path:
    """A tiny classroom-stations wheel whose `stations` command passes or fails --selftest."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"classroom_stations-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    code = ("import sys\n"
            f"VERSION = {version!r}\n"
            "def main():\n"
            "    if '--selftest' in sys.argv:\n"
            f"        sys.exit({0 if healthy else 1})\n"
            "    print(VERSION)\n")
    files = {
        "fakestations.py": code,
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: classroom-stations\n"
                                      f"Version: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                   "Tag: py3-none-any\n",
        f"{dist}.dist-info/entry_points.txt": "[console_scripts]\nstations = fakestations:main\n",
    }
    files[f"{dist}.dist-info/RECORD"] = "".join(f"{n},,\n" for n in files) + \
        f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as whl:
        for name, text in files.items():
            whl.writestr(name, text)
    write_manifest(folder)
    return folder


def write_manifest(folder: Path) -> None:
    """requirements.txt as build-wheelhouse writes it: every wheel pinned with its SHA-256."""
    lines = []
    for wheel in sorted(folder.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name.replace('_', '-')}=={version} --hash=sha256:{digest}\n")
    (folder / "requirements.txt").write_text("".join(lines))


def release(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RELEASE_TOOL), "--home", str(home), *args],
                          capture_output=True, text=True, timeout=300)


def current_version(home: Path) -> str:
    return subprocess.run([str(home / "current" / "bin" / "stations")], capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.mark.slow
def test_update_switches_atomically_and_rolls_back_a_broken_release(tmp_path: Path) -> None:
    home = tmp_path / "var-lib-stations"
    common = ["--python", sys.executable]
    check = f"{home}/current/bin/stations --selftest"
    run = release(home, "install", "--wheelhouse", str(make_wheel(tmp_path / "w1", "1.0")),
                  "--activate", *common)
    assert run.returncode == 0, run.stderr
    assert current_version(home) == "1.0"
    # A good update becomes current; the old release stays as previous.
    run = release(home, "update", "--wheelhouse", str(make_wheel(tmp_path / "w2", "1.1")),
                  "--check", check, "--settle", "0", *common)
    assert run.returncode == 0, run.stderr
    assert current_version(home) == "1.1"
    assert os.readlink(home / "previous") == "releases/1.0"
    # A broken update is rolled back to the release that ran before it.
    run = release(home, "update", "--wheelhouse",
                  str(make_wheel(tmp_path / "w3", "1.2", healthy=False)),
                  "--check", check, "--settle", "0", *common)
    assert run.returncode == 1 and "rolling back to 1.1" in run.stderr
    assert current_version(home) == "1.1"
    assert os.readlink(home / "previous") == "releases/1.0"
    # Manual rollback, and the listing.
    assert release(home, "rollback").returncode == 0
    assert current_version(home) == "1.0"
    listing = release(home, "list").stdout.split("\n")
    assert "1.0 (current)" in listing and "1.1 (previous)" in listing
    # The venvs work from their final place (the install relocated them).
    assert (home / "releases/1.1/bin/stations").read_text().startswith(
        f"#!{home}/releases/1.1/bin/python")
    assert not list((home / "releases").glob(".*partial"))
    assert not (home / ".current.new").exists()


def test_a_wheelhouse_without_the_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    run = release(tmp_path / "home", "install", "--wheelhouse", str(tmp_path / "empty"))
    assert run.returncode == 1
    assert "expected exactly one classroom-stations wheel, found 0" in run.stderr
    assert release(tmp_path / "home", "rollback").returncode == 1


# --- first boot -----------------------------------------------------------------------------

def firstboot_plan(tmp_path: Path, role: str) -> str:
    """The first-boot script's plan for ``role`` (STATIONS_DRY_RUN: prints, changes nothing)."""
    script = (FILES / "sbin/stations-firstboot").read_text()
    device = tmp_path / "device.toml"
    device.write_text(f'room = "r"\ndevice = "d"\nrole = "{role}"\n')
    script = script.replace("DEVICE_FILE=/etc/stations/device.toml", f"DEVICE_FILE={device}")
    script = script.replace("BOOT=/boot/firmware", f"BOOT={tmp_path / 'boot'}")
    path = tmp_path / "firstboot"
    path.write_text(script)
    run = subprocess.run(["bash", str(path)], capture_output=True, text=True,
                         env={**os.environ, "STATIONS_DRY_RUN": "1"}, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_first_boot_sets_up_the_hub(tmp_path: Path) -> None:
    plan = firstboot_plan(tmp_path, "hub")
    assert "+ systemctl enable mosquitto.service stations-hub.service" in plan
    assert "+ systemctl mask getty@tty1.service" in plan
    assert "overlayroot" not in plan and "stations-kiosk.service\n" not in plan.replace(
        "disable stations-kiosk.service", "")


def test_first_boot_refuses_a_card_without_a_role(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="role must be hub or station"):
        firstboot_plan(tmp_path, "toaster")


def test_the_scripts_agree_with_the_layout() -> None:
    firstboot = (FILES / "sbin/stations-firstboot").read_text()
    install = (FILES / "install.sh").read_text()
    release_tool = RELEASE_TOOL.read_text()
    assert f"DEVICE_FILE={layout.DEVICE_FILE}" in firstboot
    assert f"HOME_DIR={layout.HOME}" in firstboot and f"HOME_DIR={layout.HOME}" in install
    assert f"DATA_LABEL={layout.DATA_LABEL}" in firstboot
    assert f'"{layout.HOME}"' in release_tool
    assert str(layout.FIRSTBOOT) in install and str(layout.RELEASE_TOOL) in install
    for group in ("video", "input", "gpio", "spi"):
        assert group in install
    for script in (FILES / "install.sh", FILES / "sbin/stations-firstboot",
                   REPO / "provisioning/pi-gen/build.sh",
                   REPO / "provisioning/pi-gen/stage-stations/prerun.sh",
                   REPO / "provisioning/pi-gen/stage-stations/00-stations/01-run.sh",
                   REPO / "scripts/wheelhouse.sh", REPO / "scripts/arm64-check.sh"):
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0, script
        assert os.access(script, os.X_OK), script
    assert subprocess.run(["bash", "-n", str(REPO / "scripts/arm64-chroot.sh")]).returncode == 0
    assert 'packages.txt"' in install


def package_list(path: Path) -> set[str]:
    return {line.split("#")[0].strip() for line in path.read_text().splitlines()} - {""}


def _have_pip() -> bool:
    run = subprocess.run(["python3", "-m", "pip", "--version"], capture_output=True)
    return run.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _have_pip(), reason="build.sh builds the project's wheel with "
                                            "python3 -m pip: install python3-pip")
def test_the_image_stage_installs_the_devices_packages_and_the_build_tools(
        tmp_path: Path) -> None:
    run = subprocess.run(["bash", str(REPO / "provisioning/pi-gen/build.sh"), "--prepare-only",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    stage = tmp_path / "stage-stations/00-stations"
    device = package_list(FILES / "packages.txt")
    tools = package_list(FILES / "build-packages.txt")
    assert {"libdrm2", "libgbm1", "libegl1", "libegl-mesa0", "libgles2"} <= device
    assert {"build-essential", "python3-dev", "swig"} <= tools
    assert package_list(stage / "00-packages") == device | tools
    assert not device & tools, "a build tool the image removes again would leave devices"
    files = stage / "files"
    for name in ("install.sh", "build-wheelhouse", "packages.txt", "build-packages.txt"):
        assert (files / name).exists(), name
    assert len(list(files.glob("classroom_stations-*.whl"))) == 1


# --- Raspberry Pi Imager repository file ----------------------------------------------------

def test_imager_json_matches_the_image_and_imagers_schema(tmp_path: Path) -> None:
    raw = os.urandom(64 * 1024) + bytes(1 << 20)
    image = tmp_path / "classroom-stations-0.1.0-arm64.img.xz"
    image.write_bytes(lzma.compress(raw, preset=0))
    out = imager.write_repository([image], url_base="https://it.example.org/stations/",
                                  out=tmp_path / "os_list.json", release_date="2026-09-01")
    data = json.loads(out.read_text())
    schema = json.loads((REPO / "provisioning/schemas/rpi-imager/os-list-schema.json")
                        .read_text())
    jsonschema.validate(data, schema)
    entry = data["os_list"][0]
    import hashlib
    assert entry["extract_size"] == len(raw)
    assert entry["extract_sha256"] == hashlib.sha256(raw).hexdigest()
    assert entry["image_download_size"] == image.stat().st_size
    assert entry["image_download_sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert entry["url"] == "https://it.example.org/stations/" + image.name
    assert entry["release_date"] == "2026-09-01"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"os_list": [{**entry, "release_date": 20260901}]}, schema)


# --- the install script in a Debian root (opt-in: minutes and a network) --------------------

@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("STATIONS_DEBOOTSTRAP") != "1",
                    reason="set STATIONS_DEBOOTSTRAP=1 (root, debootstrap, network; ~5 min)")
def test_install_script_in_a_debootstrap_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    suite = os.environ.get("STATIONS_DEBOOTSTRAP_SUITE", "bookworm")
    subprocess.run(["debootstrap", "--variant=minbase",
                    "--include=python3,python3-venv,systemd,passwd", suite, str(root)],
                   check=True, timeout=900)
    wheelhouse = make_wheel(root / "tmp/wheelhouse", "1.0")
    shutil.copytree(FILES, root / "tmp/provisioning")
    for group in ("gpio", "spi", "i2c"):  # Raspberry Pi OS has these; Debian does not
        subprocess.run(["chroot", str(root), "groupadd", "--system", group], check=False)
    run = subprocess.run(["chroot", str(root), "/tmp/provisioning/install.sh", "--no-apt",
                          "--wheelhouse", f"/{wheelhouse.relative_to(root)}"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    groups = subprocess.run(["chroot", str(root), "id", "-nG", "stations"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert {"video", "input", "gpio", "spi"} <= set(groups)
    # The kiosk unit's command starts in the root, as the unit runs it.
    unit = (root / "etc/systemd/system/stations-kiosk.service").read_text()
    command = unit.split("ExecStart=", 1)[1].split("\n", 1)[0].split()[0]
    started = subprocess.run(["chroot", "--userspec=stations:stations", str(root), command],
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 0 and started.stdout.strip() == "1.0", started.stderr
