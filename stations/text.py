"""Teacher-facing text the hub and its grouping engine produce (an import error, a refusal, a
reason, a warning), translatable where it is shown.

The hub's core knows no language: it makes a :class:`Text`, an English msgid (extracted into
the console's gettext catalog, ``scripts/catalogs.sh``) and named parameters (a file, a row, a
name, a number). A ``Text`` *is* its English reading, a ``str``: the CLI, the logs and every
caller that wants a string get the same English sentence as before. The console reads it
again in the session's language with :func:`localize`; the parameters (names, numbers, file
names) are never translated, only a parameter that is a ``Text`` itself.

Making one: ``Text("%(count)d badges imported", count=n)``; for a msgid defined apart from
where its ``Text`` is made (a table), mark it with :func:`N_`. Placeholders are Python's
``%(name)s`` (gettext's python-format), so a literal percent sign is ``%%`` when there are
parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["N_", "Text", "localize", "text_of"]


def N_(msgid: str) -> str:
    """Mark a msgid for the catalog where it is defined; it is translated where shown."""
    return msgid


class Text(str):
    """A msgid with its parameters; as a ``str``, its English reading."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Text:
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid, self.params = msgid, params
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickled or copied as itself, not as str
        return (_remake, (self.msgid, self.params))

    @classmethod
    def joined(cls, separator: str, parts: Iterable[str]) -> Text:
        """``separator.join(parts)``, each part read in the language it is shown in (the
        separator is punctuation: "; ", " · ", ", ")."""
        params = {f"p{k}": part for k, part in enumerate(parts)}
        return cls(separator.replace("%", "%%").join(f"%({k})s" for k in params), **params)

    def map_params(self, fn: Callable[[Any], Any]) -> Text:
        """This text with ``fn`` applied to every parameter, down nested texts (a part
        named by a number in the core, by a name where the names are known)."""
        def walk(value: Any) -> Any:
            value = fn(value)
            return value.map_params(fn) if isinstance(value, Text) else value
        return Text(self.msgid, **{k: walk(v) for k, v in self.params.items()})

    def localized(self, gettext: Callable[[str], str]) -> str:
        """This text through ``gettext`` (a catalog's), its parameters filled in."""
        if not self.msgid:
            return ""  # gettext("") is the catalog's header
        template = gettext(self.msgid)
        if not self.params:
            return template
        return template % {k: localize(v, gettext) for k, v in self.params.items()}


def _remake(msgid: str, params: dict[str, Any]) -> Text:
    return Text(msgid, **params)


def localize(text: Any, gettext: Callable[[str], str]) -> Any:
    """``text`` read through ``gettext`` if it is a :class:`Text` (or a tuple of them); any
    other value (a plain string, a name, a number) as it is."""
    if isinstance(text, Text):
        return text.localized(gettext)
    if isinstance(text, tuple):
        return tuple(localize(t, gettext) for t in text)
    return text


def text_of(err: BaseException) -> str:
    """What an error says to the teacher: the :class:`Text` it was raised with (its first
    argument, or its ``text``), else its plain message."""
    text = getattr(err, "text", None)
    if isinstance(text, Text):
        return text
    if len(err.args) == 1 and isinstance(err.args[0], Text):
        return err.args[0]
    return str(err)
