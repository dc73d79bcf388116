"""Every module of the project imports on a laptop: no Pi-only package, no side effects."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

SCRIPT = r"""
import importlib, pkgutil, sys
# Pi-only packages: make any import of them fail, as on a laptop without them.
for name in ("RPi", "RPi.GPIO", "spidev", "mfrc522", "lgpio", "evdev"):
    sys.modules[name] = None
failed = []
for package in ("stations", "broker", "kiosk", "hub", "provisioning"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if info.name.endswith("__main__"):
            continue  # runs the command by design
        try:
            importlib.import_module(info.name)
        except Exception as err:
            failed.append(f"{info.name}: {err!r}")
import pygame
assert not pygame.get_init(), "something initialised pygame at import time"
assert not pygame.display.get_init(), "something opened a display at import time"
print("\n".join(failed) or "ok")
"""


def test_every_module_imports_without_pi_packages_or_side_effects() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "ok", proc.stdout
