"""The wheelhouse devices install from: one RPi.GPIO, one owner per file, never a compiler."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_provision_device import make_wheel, release, write_manifest

FILES = REPO / "provisioning" / "files"
BUILDER = FILES / "build-wheelhouse"


def builder(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BUILDER), *args], capture_output=True,
                          text=True, timeout=timeout)


def wheel(folder: Path, dist: str, version: str, files: dict[str, str]) -> Path:
    """A minimal wheel of ``dist`` that installs ``files``."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{dist}-{version}.dist-info"
    files = {**files,
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n"
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        for name, text in files.items():
            whl.writestr(name, text)
    return path


def gpio_wheels(folder: Path) -> None:
    """What RPi.GPIO and rpi-lgpio install: both write RPi/GPIO/__init__.py."""
    wheel(folder, "RPi.GPIO", "0.7.1", {"RPi/__init__.py": "", "RPi/GPIO/__init__.py": "#c\n",
                                         "RPi/_GPIO.py": ""})
    wheel(folder, "rpi_lgpio", "0.6", {"RPi/GPIO/__init__.py": "# lgpio\n"})


def test_two_distributions_writing_one_file_are_refused_in_a_wheelhouse(tmp_path: Path) -> None:
    gpio_wheels(tmp_path / "both")
    run = builder("check", str(tmp_path / "both"))
    assert run.returncode == 1
    assert "RPi/GPIO/__init__.py: rpi-gpio, rpi-lgpio" in run.stderr
    wheel(tmp_path / "one", "rpi_lgpio", "0.6", {"RPi/GPIO/__init__.py": ""})
    wheel(tmp_path / "one", "mfrc522", "0.0.7", {"mfrc522/__init__.py": ""})
    run = builder("check", str(tmp_path / "one"))
    assert run.returncode == 0, run.stderr


def test_both_gpio_packages_installed_are_found(tmp_path: Path) -> None:
    # pip itself installs both without a word (and pip check sees nothing): the last one wins.
    gpio_wheels(tmp_path / "wheels")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                    "--no-deps", "--target", str(site),
                    *map(str, sorted((tmp_path / "wheels").glob("*.whl")))],
                   check=True, capture_output=True, timeout=120)
    assert (site / "RPi/GPIO/__init__.py").read_text() in ("# lgpio\n", "#c\n")
    run = builder("check", str(site))
    assert run.returncode == 1
    assert "RPi/GPIO/__init__.py: rpi-gpio, rpi-lgpio" in run.stderr


@pytest.mark.slow
def test_the_device_extra_installs_with_one_gpio_module_and_one_owner_per_file(
        tmp_path: Path) -> None:
    """The real device extra, resolved by pip, built for this machine, installed as a device
    installs it (stations-release, no network, no resolver), then checked file by file."""
    house = tmp_path / "wheelhouse"
    run = builder("build", "--out", str(house), f"{REPO}[device]", timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((house / "wheelhouse.json").read_text())
    names = {w.split("-")[0].lower() for w in summary["wheels"]}
    assert {"mfrc522", "rpi_lgpio", "lgpio", "spidev", "classroom_stations"} <= names
    assert "rpi.gpio" not in names and not list(house.glob("RPi*"))
    assert summary["left_out"] == ["RPi.GPIO (provided by rpi-lgpio)"]
    assert summary["built_from_checkout"] == ["classroom-stations 0.1.0"]
    home = tmp_path / "home"
    run = release(home, "install", "--wheelhouse", str(house), "--activate",
                  "--python", sys.executable)
    assert run.returncode == 0, run.stderr[-3000:]
    python = home / "current" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    run = builder("check", site)
    assert run.returncode == 0, run.stderr
    owners = subprocess.run([str(python), "-c", (
        "import importlib.metadata as m\n"
        "print(sorted(d.metadata['Name'] for d in m.distributions()\n"
        "             if any(str(f) == 'RPi/GPIO/__init__.py' for f in d.files or ())))")],
        capture_output=True, text=True, check=True).stdout.strip()
    assert owners == "['rpi-lgpio']"


def test_a_wheelhouse_that_needs_a_compiler_is_refused(tmp_path: Path) -> None:
    house = make_wheel(tmp_path / "wh", "1.0")
    (house / "spidev-3.8.tar.gz").write_bytes(b"source")
    wheel(house, "lgpio", "0.2.2.0", {"lgpio.py": ""}).rename(
        house / "lgpio-0.2.2.0-cp39-cp39-win_amd64.whl")
    write_manifest(house)
    with (house / "requirements.txt").open("a") as manifest:
        manifest.write("spidev==3.8 --hash=sha256:" + "0" * 64 + "\n")
    home = tmp_path / "home"
    run = release(home, "install", "--wheelhouse", str(house), "--python", sys.executable)
    assert run.returncode == 1
    assert "has no wheel for this device (Python " in run.stderr
    assert "for 2 package(s)" in run.stderr
    assert "spidev 3.8: only spidev-3.8.tar.gz, which would need a compiler" in run.stderr
    assert ("lgpio 0.2.2.0: lgpio-0.2.2.0-cp39-cp39-win_amd64.whl is for another Python or CPU"
            in run.stderr)
    assert "Devices never compile packages" in run.stderr
    assert not list((home / "releases").iterdir())  # nothing left behind


def test_a_wheelhouse_without_its_manifest_is_refused(tmp_path: Path) -> None:
    house = make_wheel(tmp_path / "wh", "1.0")
    (house / "requirements.txt").unlink()
    run = release(tmp_path / "home", "install", "--wheelhouse", str(house),
                  "--python", sys.executable)
    assert run.returncode == 1
    assert "no requirements.txt; make the wheelhouse with build-wheelhouse" in run.stderr


def test_a_changed_wheel_is_refused(tmp_path: Path) -> None:
    house = make_wheel(tmp_path / "wh", "1.0")
    with zipfile.ZipFile(next(house.glob("*.whl")), "a") as whl:
        whl.writestr("extra.py", "print('not what was built')\n")
    run = release(tmp_path / "home", "install", "--wheelhouse", str(house),
                  "--python", sys.executable)
    assert run.returncode == 1
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in run.stderr
