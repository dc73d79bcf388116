"""Which config file a command uses, the way services on a Pi find theirs.

In order: the file given with ``--config``, else the one ``STATIONS_CONFIG`` names, else
``hub.toml`` (or ``kiosk.toml``) in the current folder, else the one under ``/etc/stations``
where provisioning installs it. A file that was named (by ``--config`` or the variable) and
is missing is an error that says which; when nothing was named and nothing is found, the
error lists every place looked at and how to name one. A file that turns out not to be a
config of the kind wanted (a hub's ``hub.toml`` where a kiosk's is needed) says where it came
from, so the variable or option that pointed at it can be put right.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from stations.errors import ConfigError, ConfigNotFound

T = TypeVar("T")

ENV = "STATIONS_CONFIG"
SYSTEM_DIR = Path("/etc/stations")
#: The demo room's files, for the hint when nothing is found.
EXAMPLE_DIR = Path(__file__).with_name("room")


#: A top-level key only that kind of config has: how a file of the wrong kind is told apart.
MARKS = {"hub.toml": "stations", "kiosk.toml": "station"}


def find_config(given: Path | None, name: str, *, environ: Mapping[str, str] | None = None,
                cwd: Path | None = None, system_dir: Path = SYSTEM_DIR) -> Path:
    """The config file to use for ``name`` (``hub.toml`` or ``kiosk.toml``)."""
    return _locate(given, name, environ=environ, cwd=cwd, system_dir=system_dir)[0]


def load_config(given: Path | None, name: str, load: Callable[[Path], T], *,
                environ: Mapping[str, str] | None = None, cwd: Path | None = None,
                system_dir: Path = SYSTEM_DIR) -> T:
    """:func:`find_config`, then ``load`` it; a file that is the other kind of config (a
    hub's where a kiosk's is wanted) says so and where it came from."""
    path, origin = _locate(given, name, environ=environ, cwd=cwd, system_dir=system_dir)
    try:
        return load(path)
    except ConfigError as err:
        other = _other_kind(path, name)
        if other is None:
            raise
        role, other_role = name.removesuffix(".toml"), other.removesuffix(".toml")
        raise ConfigError(path, None, f"this is a {other_role} config, not a {role} config "
                          f"(it was {origin}); name the {role}'s own {name} with --config "
                          f"or {ENV}") from err


def _locate(given: Path | None, name: str, *, environ: Mapping[str, str] | None,
            cwd: Path | None, system_dir: Path) -> tuple[Path, str]:
    """The config file for ``name`` and how it was found (for messages)."""
    role = name.removesuffix(".toml")
    if given is not None:
        if not given.is_file():
            raise ConfigNotFound(f"{given}: no such {role} config (given with --config)", given)
        return given, "given with --config"
    env = os.environ if environ is None else environ
    named = env.get(ENV, "")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigNotFound(f"{path}: no such {role} config (named by {ENV})", path)
        return path, f"named by {ENV}={named}"
    here = (cwd or Path.cwd()) / name
    system = system_dir / name
    for candidate, origin in ((here, "found in the current folder"),
                              (system, f"found in {system_dir}")):
        if candidate.is_file():
            return candidate, origin
    looked = ["--config (not given)", f"{ENV} (not set)", str(here), str(system)]
    raise ConfigNotFound(
        f"no {role} config found; looked at: {'; '.join(looked)}. Pass one with "
        f"--config PATH or set {ENV}=PATH (the demo room's is {EXAMPLE_DIR / name}; "
        "`stations demo` runs a whole room without one)")


def _other_kind(path: Path, name: str) -> str | None:
    """The other config name (``hub.toml``) when ``path`` has that kind's mark and not
    ``name``'s; None when it looks like neither or like what was asked for."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if MARKS.get(name) in data:
        return None
    return next((other for other, mark in MARKS.items() if other != name and mark in data),
                None)


def config_help(name: str) -> str:
    """The ``--config`` option's help for every command that reads ``name``."""
    role = name.removesuffix(".toml")
    return (f"the {role}'s config file (default: ${ENV}, else ./{name}, else "
            f"{SYSTEM_DIR / name})")
