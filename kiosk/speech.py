"""What the screens say, as the pieces the voice speaks: pure, no audio, no files.

A line is a msgid translated for the student (``"Go to {station}"`` → ``"Ve a {station}"``)
and split at its placeholders: each literal piece is a clip rendered ahead of time from the
catalog (``stations voice build``); each value is the teacher's words (a station name, an
activity label) or a student's first name, rendered on the station when first needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk.i18n import DOMAIN, LOCALE_DIR
from kiosk.screens.base import Say

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SPEAKABLE = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class Part:
    """One clip to play: ``catalog`` pieces come from the build; others are rendered on the
    station, and ``private`` ones (a name) only in memory."""

    text: str
    catalog: bool = True
    private: bool = False


def split(template: str) -> Iterator[tuple[bool, str]]:
    """(is_literal, text) pieces of a translated template, in order; literal pieces without
    a letter or digit ("!", ", ") are left out: there is nothing in them to say."""
    at = 0
    for match in _PLACEHOLDER.finditer(template):
        literal = template[at:match.start()].strip()
        if _SPEAKABLE.search(literal):
            yield True, literal
        yield False, match.group(1)
        at = match.end()
    literal = template[at:].strip()
    if _SPEAKABLE.search(literal):
        yield True, literal


def literal_pieces(template: str) -> list[str]:
    return [text for literal, text in split(template) if literal]


def parts(line: Say, gettext: Callable[[str], str]) -> list[Part]:
    if not line.msgid:
        return [Part(line.text, catalog=False)] if _SPEAKABLE.search(line.text) else []
    values = dict(line.values)
    out = []
    for literal, text in split(gettext(line.msgid)):
        if literal:
            out.append(Part(text))
        elif values.get(text):
            out.append(Part(values[text], catalog=False, private=line.private))
    return out


def catalog_msgids(pot: Path = LOCALE_DIR / f"{DOMAIN}.pot") -> list[str]:
    """Every msgid of the kiosk's catalog template (what ``scripts/catalogs.sh`` extracts)."""
    ids: list[str] = []
    current: list[str] | None = None
    for raw in pot.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("msgid "):
            current = [_unquote(line[6:])]
        elif line.startswith('"') and current is not None:
            current.append(_unquote(line))
        elif current is not None:
            text = "".join(current)
            if text:
                ids.append(text)
            current = None
    return ids


def _unquote(text: str) -> str:
    return text.strip()[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def catalog_pieces(gettext: Callable[[str], str]) -> list[str]:
    """Every literal piece of every msgid in one language: the clips a station needs."""
    seen: dict[str, None] = {}
    for msgid in catalog_msgids():
        for piece in literal_pieces(gettext(msgid)):
            seen[piece] = None
    return list(seen)
