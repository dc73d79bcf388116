"""Reading the constraints file (JSON) that goes with a class CSV.

    {
      "groups": 5,                       # or "min_size"/"max_size", or all three
      "min_size": 4, "max_size": 6,
      "keep_apart": [["s01", "s02"]],
      "keep_together": [["s03", "s04"]],
      "pinned": {"s05": 1},              # must be in group 1 (the teacher table)
      "not_in": {"s06": [1]},            # must not be in group 1
      "previous_groups": [["s01", "s03"], ["s02", "s04"]],
      "stability_weight": 0.1,
      "fewest_moves": false              # true: move as few as possible, then the objective
    }

Every problem raises :class:`ConstraintsError` naming the file and key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.grouping.errors import ConstraintsError
from hub.grouping.model import Constraints

_KEYS = {"groups", "min_size", "max_size", "keep_apart", "keep_together", "pinned", "not_in",
         "previous_groups", "stability_weight", "fewest_moves"}


def read_constraints(path: Path | str) -> Constraints:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConstraintsError(str(path), None, "file not found") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConstraintsError(str(path), None, f"not valid JSON ({err})") from err
    except OSError as err:
        raise ConstraintsError(str(path), None, f"cannot be read ({err.strerror})") from err
    return constraints_from_json(data, str(path))


def _int(source: str, key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConstraintsError(source, key, f"must be a whole number, got {value!r}")
    return value


def _ids(source: str, key: str, value: Any, *, pair: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConstraintsError(source, key, f"must be a list of student ids, got {value!r}")
    if pair and len(value) != 2:
        raise ConstraintsError(source, key, f"must be a pair of student ids, got {value!r}")
    if len(set(value)) != len(value):
        raise ConstraintsError(source, key, f"names a student twice: {value!r}")
    return tuple(value)


def _list(source: str, key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConstraintsError(source, key, f"must be a list, got {type(value).__name__}")
    return value


def constraints_from_json(data: Any, source: str = "constraints") -> Constraints:
    if not isinstance(data, dict):
        raise ConstraintsError(source, None, "must be a JSON object")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConstraintsError(source, unknown[0], "unknown key; expected one of "
                                                   + ", ".join(sorted(_KEYS)))
    sizes = {k: _int(source, k, data[k]) if data.get(k) is not None else None
             for k in ("groups", "min_size", "max_size")}
    apart = tuple(_ids(source, f"keep_apart[{i}]", v, pair=True)
                  for i, v in enumerate(_list(source, "keep_apart", data.get("keep_apart", []))))
    together = tuple(_ids(source, f"keep_together[{i}]", v) for i, v in
                     enumerate(_list(source, "keep_together", data.get("keep_together", []))))
    pinned = data.get("pinned", {})
    if not isinstance(pinned, dict):
        raise ConstraintsError(source, "pinned", "must be an object of student id: group")
    pins = {sid: _int(source, f"pinned.{sid}", k) for sid, k in pinned.items()}
    not_in = data.get("not_in", {})
    if not isinstance(not_in, dict):
        raise ConstraintsError(source, "not_in", "must be an object of student id: [groups]")
    bans: dict[str, tuple[int, ...]] = {}
    for sid, ks in not_in.items():
        ks = [ks] if isinstance(ks, int) and not isinstance(ks, bool) else ks
        bans[sid] = tuple(_int(source, f"not_in.{sid}", k)
                          for k in _list(source, f"not_in.{sid}", ks))
    prev = tuple(_ids(source, f"previous_groups[{i}]", v) for i, v in
                 enumerate(_list(source, "previous_groups", data.get("previous_groups", []))))
    weight = data.get("stability_weight", 0.1)
    if not isinstance(weight, int | float) or isinstance(weight, bool):
        raise ConstraintsError(source, "stability_weight", f"must be a number, got {weight!r}")
    fewest = data.get("fewest_moves", False)
    if not isinstance(fewest, bool):
        raise ConstraintsError(source, "fewest_moves", f"must be true or false, got {fewest!r}")
    return Constraints(groups=sizes["groups"], min_size=sizes["min_size"],
                       max_size=sizes["max_size"], keep_apart=apart,  # type: ignore[arg-type]
                       keep_together=together, pinned=pins, not_in=bans,
                       previous_groups=prev, stability_weight=float(weight),
                       fewest_moves=fewest)
