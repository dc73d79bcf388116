"""What a group is called where other students can see it: the one rule every public text uses.

The class view on the projector, its banners and "next" strip, and every message that goes
to the stations (the retained rotation state, notices) name a group by its **public name**.
The teacher's own words stay on the teacher view. A configured name that sounds like a level
or an ability ("Low readers", "Intervention", "Advanced", "IEP group") is shown to the class
as "Group N" (N its place in the list); any other name is its own public name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Words that make a group name label ability, level, need or a programme a student is in.
_ABILITY = re.compile(
    r"\b(low\w*|high\w*|top|bottom|advanced|struggl\w*|remedial|below|above|gifted|talented|"
    r"support\w*|intervention\w*|level\w*|tier\w*|basic|extension|slow\w*|fast\w*|strong\w*|"
    r"weak\w*|abilit\w*|able|needs?|help|reteach\w*|enrich\w*|honou?rs|accelerat\w*|"
    r"proficien\w*|master\w*|approaching|exceed\w*|beginn\w*|emerging|developing|behind|"
    r"catch[- ]?up|at[- ]risk|risk|special|sped|iep|504|ell|esl|eal|gt|gate|bright|smart\w*|"
    r"best|worst|brightest|genius\w*)\b",
    re.IGNORECASE)


def labels_ability(name: str) -> bool:
    """True if a group name says something about its members' level, ability or needs."""
    return bool(_ABILITY.search(name))


def public_group_names(groups: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Group id → public name, for (id, configured name) pairs in the lesson's order.

    "Group N" for a name that labels ability (or is empty), N its place; any other name
    stands. Public names never repeat: a "Group N" that another group already bears by its
    own name takes the next free number.
    """
    pairs = list(groups)
    kept = {name for _gid, name in pairs if name and not labels_ability(name)}
    taken: set[str] = set(kept)
    out: dict[str, str] = {}
    for k, (gid, name) in enumerate(pairs):
        if name in kept:
            out[gid] = name
            continue
        n = k + 1
        while f"Group {n}" in taken:
            n += 1
        out[gid] = f"Group {n}"
        taken.add(out[gid])
    return out

