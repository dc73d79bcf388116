"""Which config file a command uses, the way services on a Pi find theirs.

In order: the file given with ``--config``, else the one ``STATIONS_CONFIG`` names, else
``hub.toml`` (or ``kiosk.toml``) in the current folder, else the one under ``/etc/stations``
where provisioning installs it. A file that was named (by ``--config`` or the variable) and
is missing is an error that says which; when nothing was named and nothing is found, the
error lists every place looked at and how to name one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from stations.errors import ConfigNotFound

ENV = "STATIONS_CONFIG"
SYSTEM_DIR = Path("/etc/stations")
#: The demo room's files, for the hint when nothing is found.
EXAMPLE_DIR = Path(__file__).with_name("room")


def find_config(given: Path | None, name: str, *, environ: Mapping[str, str] | None = None,
                cwd: Path | None = None, system_dir: Path = SYSTEM_DIR) -> Path:
    """The config file to use for ``name`` (``hub.toml`` or ``kiosk.toml``)."""
    role = name.removesuffix(".toml")
    if given is not None:
        if not given.is_file():
            raise ConfigNotFound(f"{given}: no such {role} config (given with --config)", given)
        return given
    env = os.environ if environ is None else environ
    named = env.get(ENV, "")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigNotFound(f"{path}: no such {role} config (named by {ENV})", path)
        return path
    here = (cwd or Path.cwd()) / name
    system = system_dir / name
    for candidate in (here, system):
        if candidate.is_file():
            return candidate
    looked = ["--config (not given)", f"{ENV} (not set)", str(here), str(system)]
    raise ConfigNotFound(
        f"no {role} config found; looked at: {'; '.join(looked)}. Pass one with "
        f"--config PATH or set {ENV}=PATH (the demo room's is {EXAMPLE_DIR / name}; "
        "`stations demo` runs a whole room without one)")


def config_help(name: str) -> str:
    """The ``--config`` option's help for every command that reads ``name``."""
    role = name.removesuffix(".toml")
    return (f"the {role}'s config file (default: ${ENV}, else ./{name}, else "
            f"{SYSTEM_DIR / name})")
