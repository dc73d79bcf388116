"""The display check before pygame starts: SDL's KMS/DRM driver, what it needs, what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stations.errors import DisplayError
from stations.ui.kmsdrm import LIBRARIES, check_display, kmsdrm_problems, loads
from stations.ui.window import start_display
from tests.conftest import REPO

ALL = {lib for lib, _ in LIBRARIES}


def device(tmp_path: Path, *, card: bool = True, vendor: bool = True) -> dict:
    dri = tmp_path / "dri"
    dri.mkdir()
    if card:
        (dri / "card1").write_text("")
    vendors = tmp_path / "egl_vendor.d"
    vendors.mkdir()
    if vendor:
        (vendors / "50_mesa.json").write_text("{}")
    return {"dri": dri, "vendor_dirs": [vendors]}


def test_a_pi_with_everything_installed_has_no_problem(tmp_path: Path) -> None:
    pi = device(tmp_path)
    assert kmsdrm_problems(load=ALL.__contains__, **pi) == []
    check_display({"SDL_VIDEODRIVER": "kmsdrm"}, load=ALL.__contains__, **pi)


def test_no_display_device_is_named(tmp_path: Path) -> None:
    problems = kmsdrm_problems(load=ALL.__contains__, **device(tmp_path, card=False))
    assert len(problems) == 1 and "no display device" in problems[0]
    assert "vc4-kms-v3d" in problems[0]


def test_each_missing_library_is_named_with_its_package(tmp_path: Path) -> None:
    present = ALL - {"libEGL.so.1", "libgbm.so.1"}
    [problem] = kmsdrm_problems(load=present.__contains__, **device(tmp_path))
    assert "libEGL.so.1 (package libegl1)" in problem
    assert "libgbm.so.1 (package libgbm1)" in problem
    assert "apt-get install libgbm1 libegl1" in problem
    assert "libdrm" not in problem


def test_egl_without_mesa_is_named(tmp_path: Path) -> None:
    [problem] = kmsdrm_problems(load=ALL.__contains__, **device(tmp_path, vendor=False))
    assert "libegl-mesa0" in problem


def test_only_kmsdrm_is_checked(tmp_path: Path) -> None:
    nothing = device(tmp_path, card=False, vendor=False)
    for environ in ({}, {"SDL_VIDEODRIVER": "dummy"}, {"SDL_VIDEODRIVER": "x11"}):
        check_display(environ, load=lambda _: False, **nothing)
    with pytest.raises(DisplayError) as err:
        check_display({"SDL_VIDEODRIVER": "KMSDRM"}, load=lambda _: False, **nothing)
    assert err.value.driver == "kmsdrm" and len(err.value.problems) == 2
    assert str(err.value).startswith("cannot open the screen with SDL's kmsdrm driver: ")


def test_the_real_loader() -> None:
    assert loads("libc.so.6")
    assert not loads("libstations-no-such-library.so.1")


def _start_on_a_device(folder: Path, command: str) -> subprocess.CompletedProcess[str]:
    """``stations COMMAND`` as its systemd unit runs it: SDL told to use KMS/DRM."""
    env = {**os.environ, "SDL_VIDEODRIVER": "kmsdrm"}
    env.pop("STATIONS_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "stations", command, "--config",
                           str(folder / f"{command}.toml")], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=60)


def _says_what_is_missing(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 2, run.stderr
    assert "cannot open the screen with SDL's kmsdrm driver" in run.stderr
    assert "Traceback" not in run.stderr and "pygame.error" not in run.stderr
    for problem in kmsdrm_problems():
        assert problem in run.stderr


@pytest.mark.skipif(not kmsdrm_problems(), reason="this machine can open a KMS/DRM screen")
def test_the_kiosk_says_what_is_missing_at_start(tmp_path: Path) -> None:
    # Its outbox would go beside the config, not into the checkout: and it must not be made.
    (tmp_path / "kiosk.toml").write_text((REPO / "stations/room/kiosk.toml").read_text())
    _says_what_is_missing(_start_on_a_device(tmp_path, "kiosk"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk.toml"]


@pytest.mark.skipif(not kmsdrm_problems(), reason="this machine can open a KMS/DRM screen")
def test_the_hub_says_what_is_missing_at_start(tmp_path: Path) -> None:
    """Not SDL's "kmsdrm not available" and a traceback: what is missing, and no hub.db."""
    for name in ("hub.toml", "roster.toml"):
        (tmp_path / name).write_text((REPO / "stations/room" / name).read_text())
    _says_what_is_missing(_start_on_a_device(tmp_path, "hub"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hub.toml", "roster.toml"]


class _Refusing:
    """pygame as far as starting its display goes, when SDL refuses (a library the check
    does not know of, a desktop that went away)."""

    class error(RuntimeError):  # pygame.error
        pass

    class display:
        @staticmethod
        def init() -> None:
            raise _Refusing.error("kmsdrm not available")


def test_a_refusal_the_check_did_not_foresee_is_a_display_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    with pytest.raises(DisplayError) as err:
        start_display(_Refusing)
    assert err.value.driver == "x11" and err.value.problems == ["kmsdrm not available"]
