"""Student-facing text through gettext catalogs in ``kiosk/locale/<lang>/LC_MESSAGES/kiosk.mo``.

Update the catalogs with ``scripts/catalogs.sh`` (Babel: extract, update, compile).
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from pathlib import Path

from stations.errors import StationsError

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kiosk"


def available_languages() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))


def check_languages(languages: list[str], option: str = "--lang") -> None:
    """Refuse languages the kiosk has no catalog for, naming them and the ones it has."""
    known = ["en", *available_languages()]
    unknown = [lang for lang in languages if lang not in known]
    if unknown:
        raise StationsError(f"{option} {' '.join(unknown)}: no catalog; the kiosk speaks "
                            f"{', '.join(known)} (kiosk/locale)")


def translator(language: str) -> Callable[[str], str]:
    """gettext for ``language``; English (the msgids) when no catalog exists."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True).gettext
