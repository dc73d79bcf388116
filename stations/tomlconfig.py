"""Typed accessors over a parsed TOML table, so every config error names file, key and problem.

A :class:`Section` remembers every key a loader asks it for (``get``, ``table``, ``has``,
``known`` …), and so does every section made from it. When the loader is done it calls
:meth:`Section.check_unknown` on the root: a key nobody asked for is a misspelling or a setting
this version does not have, and is refused with the nearest known key ("``retention.dayz``:
unknown key; did you mean ``days``?"). A key added later through ``get`` is known at once.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
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


def unknown_key_problem(name: str, known: Iterable[str]) -> str:
    """What to tell IT about a key nobody reads: the nearest known key, or the known ones."""
    known = sorted(known)
    near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if near:
        return f"unknown key; did you mean `{near[0]}`?"
    if known:
        return f"unknown key (known here: {', '.join(known)})"
    return "unknown key (this table takes none)"


class Section:
    """A view of one TOML table that knows its file and dotted key path for error messages.

    Sections made from one root share a registry, so the root's :meth:`check_unknown` sees
    every table the loader looked at.
    """

    def __init__(self, path: Path, data: Mapping[str, Any], prefix: str = "", *,
                 registry: list[Section] | None = None) -> None:
        self.path = path
        self.data = data
        self.prefix = prefix
        self._asked: set[str] = set()
        self._registry: list[Section] = registry if registry is not None else []
        self._registry.append(self)

    def child(self, data: Mapping[str, Any], prefix: str) -> Section:
        """A section for a table below this one, in the same registry."""
        return Section(self.path, data, prefix, registry=self._registry)

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def error(self, name: str | None, problem: str) -> ConfigError:
        return ConfigError(self.path, self.key(name) if name else self.prefix.rstrip(".") or None,
                           problem)

    def missing(self, name: str, problem: str = "is required but missing") -> ConfigError:
        """A required key is absent: say so, and which key present looks like a misspelling."""
        near = difflib.get_close_matches(name, [k for k in self.data if isinstance(k, str)],
                                         n=1, cutoff=0.6)
        return self.error(name, f"{problem} (is `{near[0]}` a misspelling of it?)" if near
                          else problem)

    # --- which keys the loader knows ------------------------------------------------------------

    def known(self, *names: str) -> None:
        """Keys this table may hold although the loader does not read them in this case
        (a static address's gateway when the network is dhcp, say)."""
        self._asked.update(names)

    def has(self, name: str) -> bool:
        """Whether the key is present (and known: asking about it is reading it)."""
        self._asked.add(name)
        return name in self.data

    def unknown_keys(self) -> list[tuple[Section, str, str]]:
        """(section, key, problem) for every key no section over the same table asked for."""
        asked: dict[int, set[str]] = {}
        for s in self._registry:
            asked.setdefault(id(s.data), set()).update(s._asked)
        out: list[tuple[Section, str, str]] = []
        checked: set[int] = set()
        for s in self._registry:
            if id(s.data) in checked:
                continue
            checked.add(id(s.data))
            known = asked[id(s.data)]
            out += [(s, name, unknown_key_problem(name, known)) for name in s.data
                    if name not in known]
        return out

    def check_unknown(self) -> None:
        """Refuse the first key no loader asked for (call on the root, after loading)."""
        for section, name, problem in self.unknown_keys():
            raise section.error(name, problem)

    # --- typed values ---------------------------------------------------------------------------

    def get(self, name: str, kind: type[T], default: T | None = None, *,
            required: bool = False) -> T:
        self._asked.add(name)
        if name not in self.data:
            if required or default is None:
                raise self.missing(name)
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

    def short_text(self, name: str, default: str | None = None, *,
                   required: bool = False) -> str:
        """A name or label that travels in a message: no longer than the contract carries."""
        from broker.contract import SHORT_TEXT_MAX

        value = self.get(name, str, default, required=required)
        if len(value) > SHORT_TEXT_MAX:
            raise self.error(name, f"is {len(value)} characters; the message contract carries "
                                   f"at most {SHORT_TEXT_MAX} (ShortText)")
        return value

    def positive(self, name: str, kind: type[T], default: T | None = None) -> T:
        value = self.get(name, kind, default)
        if value <= 0:  # type: ignore[operator]
            raise self.error(name, f"must be greater than 0, got {value!r}")
        return value

    def table(self, name: str, *, required: bool = True) -> Section:
        self._asked.add(name)
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.missing(name, "table is required but missing")
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(name, f"must be a table, got {type(value).__name__}")
        return self.child(value, f"{self.key(name)}.")

    def tables(self, name: str, *, required: bool = True) -> list[Section]:
        self._asked.add(name)
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.missing(name, f"is required: add at least one [[{self.key(name)}]]")
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(name, "must be an array of tables ([[" + self.key(name) + "]])")
        return [self.child(v, f"{self.key(name)}[{i}].") for i, v in enumerate(value)]


def read_translations(section: Section, key: str) -> tuple[tuple[str, str], ...]:
    """``key = { es = "Leer", pt-BR = "Ler" }``: a text per language, as the message contract
    carries it (a language tag, 1-64 characters, at most 8 languages), sorted by language."""
    from broker.contract import MAX_TRANSLATIONS, TRANSLATION_LANGUAGE_RE

    table = section.table(key, required=False)
    if len(table.data) > MAX_TRANSLATIONS:
        raise section.error(key, f"at most {MAX_TRANSLATIONS} languages, got {len(table.data)}")
    texts = []
    for language in table.data:
        if not TRANSLATION_LANGUAGE_RE.match(language):
            raise table.error(language, "is not a language tag like es or pt-BR")
        text = table.short_text(language, required=True)
        if not text:
            raise table.error(language, "is empty")
        texts.append((language, text))
    return tuple(sorted(texts))
