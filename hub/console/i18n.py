"""The console's teacher-facing text through gettext catalogs in
``hub/console/locale/<lang>/LC_MESSAGES/console.mo`` (English is the msgids).

Templates use Jinja's i18n extension (``{% trans %}``, ``_()``); Python code uses the
request's ``gettext``. What the hub itself says (an import error, a refusal, a reason, a
warning) arrives as a :class:`~stations.text.Text`: every one a template prints is read in
the page's language (the environment's ``finalize``), its parameters left as they are. The
catalog holds the console's own msgids and the hub's (``scripts/catalogs.sh`` extracts
``hub/``, merges and compiles them, as it does the kiosk's).
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from stations.text import localize
from stations.ui.widgets import format_countdown

LOCALE_DIR = Path(__file__).with_name("locale")
TEMPLATES = Path(__file__).with_name("templates")
DOMAIN = "console"
LANGUAGES = ("en", "es")


def N_(text: str) -> str:
    return text


@cache
def translations(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


@cache
def environment(language: str) -> Environment:
    """The templates in ``language`` (autoescaped: a name is text, never markup; the hub's
    :class:`~stations.text.Text` read in ``language``)."""
    catalog = translations(language)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
                      finalize=lambda value: localize(value, catalog.gettext))
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = language
    env.filters["countdown"] = format_countdown
    return env


def pick_language(accept: str, default: str) -> str:
    """The first language of an Accept-Language header the console has, else ``default``."""
    weighted = []
    for n, part in enumerate(accept.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, n, tag.strip().lower().split("-")[0]))
    for _q, _n, lang in sorted(weighted):
        if lang in LANGUAGES:
            return lang
    return default
