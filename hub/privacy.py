"""What a group is called where other students can see it: the one rule every public text uses.

The class view on the projector, its banners and "next" strip, and every message that goes
to the stations (the retained rotation state, notices) name a group by its **public name**.
The teacher's own words stay on the teacher view. Private by default:

1. the group's explicit ``public_name`` (``[[groups]] public_name`` in hub.toml, kept with the
   class's stored groups), else
2. the teacher's name when it is clearly neutral, every word of it from the neutral
   vocabulary of :mod:`hub.neutral` ("Foxes", "Red team", "Table 3"), else
3. "Group N", N its place in the list.

A deny-list of ability words cannot know every programme or need a name can reveal
("Reading Recovery", "Title I", "Nurture group", "Newcomers"); an allow-list can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from hub.neutral import is_neutral

#: Words that make a name label ability, level, need or a programme a student is in: an
#: explicit public name that says one is refused at load (it is the teacher's own choice of
#: what the class reads, so a slip there is worth a word).
_ABILITY = re.compile(
    r"\b(low\w*|high\w*|top|bottom|advanced|struggl\w*|remedia\w*|below|above|gifted|"
    r"talented|support\w*|intervention\w*|level\w*|tier\w*|basic|extension|slow\w*|fast\w*|"
    r"strong\w*|weak\w*|abilit\w*|able|needs?|help|reteach\w*|enrich\w*|honou?rs|"
    r"accelerat\w*|proficien\w*|master\w*|approaching|exceed\w*|beginn\w*|emerging|"
    r"developing|behind|catch[- ]?up|at[- ]risk|risk|special|sped|iep|504|ell|esl|eal|sen|"
    r"gt|gate|bright|smart\w*|best|worst|brightest|genius\w*|dyslex\w*|recovery|title|"
    r"nurture|booster|newcomer\w*|pull[- ]?out)\b",
    re.IGNORECASE)


class NamedGroup(Protocol):
    """A group as the rule reads it (:class:`hub.rotation.GroupDef`)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def public_name(self) -> str: ...


def labels_ability(name: str) -> bool:
    """True if a name says something about its members' level, ability or needs."""
    return bool(_ABILITY.search(name))


def public_group_names(groups: Iterable[NamedGroup]) -> dict[str, str]:
    """Group id → public name, for the lesson's groups in their order.

    Public names never repeat: a "Group N" that another group already bears by its own
    (or public) name takes the next free number.
    """
    groups = list(groups)
    shown = {g.id: g.public_name or (g.name if is_neutral(g.name) else "") for g in groups}
    taken = set(shown.values())
    out: dict[str, str] = {}
    for k, g in enumerate(groups):
        if shown[g.id]:
            out[g.id] = shown[g.id]
            continue
        n = k + 1
        while f"Group {n}" in taken:
            n += 1
        out[g.id] = f"Group {n}"
        taken.add(out[g.id])
    return out
