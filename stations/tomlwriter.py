"""Write the small TOML files the services read (tomllib reads, the standard library can't write).

Only what the device configs need: strings, integers, floats, booleans, lists of those, inline
tables of those, tables and arrays of tables. Strings are JSON-quoted, which is valid TOML.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v!r} to TOML")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, Sequence):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps(data: Mapping[str, Any], header: str = "") -> str:
    """``data``: scalars first, then ``{name: mapping}`` tables and ``{name: [mapping]}`` arrays."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    scalars = {k: v for k, v in data.items() if not _is_table(v) and not _is_table_array(v)}
    for k, v in scalars.items():
        lines.append(f"{_key(k)} = {value(v)}")
    for k, v in data.items():
        if _is_table(v):
            lines += ["", f"[{_key(k)}]"] + [f"{_key(a)} = {value(b)}" for a, b in v.items()]
        elif _is_table_array(v):
            for item in v:
                lines += ["", f"[[{_key(k)}]]"] + [f"{_key(a)} = {value(b)}"
                                                   for a, b in item.items()]
    return "\n".join(lines) + "\n"


def _is_table(v: Any) -> bool:
    return isinstance(v, Mapping)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)
