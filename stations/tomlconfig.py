"""Typed accessors over a parsed TOML table, so every config error names file, key and problem."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from stations.errors import ConfigError

T = TypeVar("T")


def load_toml(path: Path | str) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a ConfigError naming the file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as err:
        raise ConfigError(path, None, "file not found") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, None, f"not valid TOML ({err})") from err
    except OSError as err:
        raise ConfigError(path, None, f"cannot be read ({err.strerror})") from err


class Section:
    """A view of one TOML table that knows its file and dotted key path for error messages."""

    def __init__(self, path: Path, data: Mapping[str, Any], prefix: str = "") -> None:
        self.path = path
        self.data = data
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def error(self, name: str | None, problem: str) -> ConfigError:
        return ConfigError(self.path, self.key(name) if name else self.prefix.rstrip(".") or None,
                           problem)

    def get(self, name: str, kind: type[T], default: T | None = None, *,
            required: bool = False) -> T:
        if name not in self.data:
            if required or default is None:
                raise self.error(name, "is required but missing")
            return default
        value = self.data[name]
        # bool is an int in Python; a config value of true for a number is a mistake.
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.error(name, f"must be a {kind.__name__}, got {type(value).__name__} "
                                   f"{value!r}")
        return value

    def ident(self, name: str, default: str | None = None) -> str:
        """A room, station or activity id as the message contract allows them."""
        from broker.contract import ID_RE  # the contract owns the id format

        value = self.get(name, str, default)
        if not ID_RE.match(value):
            raise self.error(name, f"{value!r} must be 1-32 lower-case letters, digits or '-', "
                                   "starting with a letter or digit")
        return value

    def positive(self, name: str, kind: type[T], default: T | None = None) -> T:
        value = self.get(name, kind, default)
        if value <= 0:  # type: ignore[operator]
            raise self.error(name, f"must be greater than 0, got {value!r}")
        return value

    def table(self, name: str, *, required: bool = True) -> Section:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.error(name, "table is required but missing")
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(name, f"must be a table, got {type(value).__name__}")
        return Section(self.path, value, f"{self.key(name)}.")

    def tables(self, name: str, *, required: bool = True) -> list[Section]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.error(name, "is required: add at least one [[" + self.key(name) + "]]")
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(name, "must be an array of tables ([[" + self.key(name) + "]])")
        return [Section(self.path, v, f"{self.key(name)}[{i}].") for i, v in enumerate(value)]
