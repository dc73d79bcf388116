"""Every student-facing string is in the catalog, translated, and the .mo files are current."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kiosk.i18n import LOCALE_DIR, available_languages, translator

babel = pytest.importorskip("babel.messages")
from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.mofile import read_mo, write_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def source_msgids() -> set[str]:
    ids: set[str] = set()
    for folder in (REPO / "kiosk", REPO / "stations" / "ui"):
        for _, _, message, _, _ in extract_from_dir(folder, keywords={"_": None, "N_": None}):
            ids.add(message)
    return ids


def test_spanish_is_shipped() -> None:
    assert "es" in available_languages()
    assert translator("es")("Tap your badge") == "Acerca tu tarjeta"
    assert translator("xx")("Tap your badge") == "Tap your badge"  # unknown: English


@pytest.mark.parametrize("language", ["es"])
def test_catalog_covers_the_code_and_mo_is_compiled(language: str) -> None:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "kiosk.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = source_msgids() - set(translated)
    assert not missing, f"run scripts/catalogs.sh: not in {po_path.name}: {sorted(missing)}"
    assert all(translated.values()), "untranslated entries"
    for msgid, text in translated.items():  # placeholders survive translation
        assert sorted(_fields(msgid)) == sorted(_fields(text)), msgid
    with (po_path.with_suffix(".mo")).open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == translated, "kiosk.mo is stale: run scripts/catalogs.sh"
    write_mo(io.BytesIO(), catalog)  # and it compiles


def _fields(text: str) -> list[str]:
    import string
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]
