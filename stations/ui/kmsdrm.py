"""Can SDL's KMS/DRM driver open the screen here? Asked before pygame starts.

A kiosk or hub on a device draws fullscreen without a desktop (``SDL_VIDEODRIVER=kmsdrm``).
SDL then needs a DRM device and loads libdrm, GBM, EGL and GLES 2 at run time; when any is
missing, SDL says only "kmsdrm not available" and the screen stays dark. This check names
what is missing and the Debian package that provides it (``provisioning/files/packages.txt``
installs them all).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from stations.errors import DisplayError

#: What SDL's KMS/DRM driver loads at run time, and the Debian package with it.
LIBRARIES = (
    ("libdrm.so.2", "libdrm2"),
    ("libgbm.so.1", "libgbm1"),
    ("libEGL.so.1", "libegl1"),
    ("libGLESv2.so.2", "libgles2"),
)
#: libglvnd's EGL finds the real implementation (Mesa's, which drives vc4/v3d) through these.
EGL_VENDOR_DIRS = (Path("/usr/share/glvnd/egl_vendor.d"), Path("/etc/glvnd/egl_vendor.d"))


def loads(name: str) -> bool:
    """True when the dynamic loader finds and loads the shared library ``name``."""
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def kmsdrm_problems(*, dri: Path = Path("/dev/dri"),
                    load: Callable[[str], bool] = loads,
                    vendor_dirs: Iterable[Path] = EGL_VENDOR_DIRS) -> list[str]:
    """What stops SDL's KMS/DRM driver from opening a screen; empty when nothing does."""
    problems = []
    cards = sorted(dri.glob("card*")) if dri.is_dir() else []
    if not cards:
        problems.append(f"no display device ({dri}/card*): is a screen connected and the "
                        f"KMS driver on (dtoverlay=vc4-kms-v3d in /boot/firmware/config.txt)?")
    elif not any(os.access(card, os.R_OK | os.W_OK) for card in cards):
        problems.append(f"{', '.join(map(str, cards))}: this user may not use it (the service "
                        f"user must be in the 'video' group)")
    missing = [(lib, package) for lib, package in LIBRARIES if not load(lib)]
    if missing:
        problems.append("missing " + ", ".join(f"{lib} (package {package})"
                                                for lib, package in missing)
                        + ": apt-get install " + " ".join(p for _, p in missing))
    elif not any(d.is_dir() and any(d.glob("*.json")) for d in vendor_dirs):
        problems.append("EGL has no vendor library (package libegl-mesa0): "
                        "apt-get install libegl-mesa0")
    return problems


def check_display(environ: Mapping[str, str] = os.environ, *, dri: Path = Path("/dev/dri"),
                  load: Callable[[str], bool] = loads,
                  vendor_dirs: Iterable[Path] = EGL_VENDOR_DIRS) -> None:
    """Raise :class:`DisplayError` naming what is missing when SDL is told to use KMS/DRM
    and cannot; any other driver (a desktop, ``dummy``) is left to SDL."""
    if environ.get("SDL_VIDEODRIVER", "").lower() != "kmsdrm":
        return
    problems = kmsdrm_problems(dri=dri, load=load, vendor_dirs=vendor_dirs)
    if problems:
        raise DisplayError("kmsdrm", problems)
