"""Every student-facing string is in the catalog, translated, and the .mo files are current."""

from __future__ import annotations

import ast
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


def console_msgids() -> set[str]:
    """The teacher console's msgids: its Python and its Jinja templates, and what the hub
    says to the teacher through it (every ``Text("...")`` and ``N_("...")`` of hub/)."""
    ids: set[str] = set()
    folder = REPO / "hub"
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for _, _, message, _, _ in extract_from_dir(folder, method_map, options,
                                                 keywords={"_": None, "N_": None,
                                                           "Text": None}):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_console_msgids_include_the_hubs_text() -> None:
    """The extraction sees the hub's own teacher-facing text, not only the console's."""
    ids = console_msgids()
    assert "required column is missing" in ids  # hub/oneroster.py, hub/badges.py
    assert "stayed in %(group)s" in ids  # hub/grouping/explain.py
    assert "group %(number)d" in ids  # an N_() constant
    assert "no groups are waiting for approval" in ids  # hub/service.py


def _n_names(tree: ast.Module) -> set[str]:
    """Names assigned a msgid marked with N_ (directly or in a conditional)."""
    def marked(node: ast.expr) -> bool:
        if isinstance(node, ast.IfExp):
            return marked(node.body) and marked(node.orelse)
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "N_")
    return {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
            and marked(node.value) for t in node.targets if isinstance(t, ast.Name)}


def unextractable_texts() -> list[str]:
    """Every ``Text(...)`` in hub/ whose msgid the extractor cannot see: the catalog would
    miss it, and a Spanish-speaking teacher would read English."""
    found = []
    for path in sorted((REPO / "hub").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        marked = _n_names(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "Text"):
                continue
            arg = node.args[0] if node.args else None
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            n_call = (isinstance(arg, ast.IfExp) and all(
                isinstance(b, ast.Call) and getattr(b.func, "id", "") == "N_"
                for b in (arg.body, arg.orelse))) or (
                isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "N_")
            if not (literal or n_call or (isinstance(arg, ast.Name) and arg.id in marked)):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_every_hub_text_has_a_msgid_the_catalog_sees() -> None:
    assert unextractable_texts() == []


def test_spanish_is_shipped() -> None:
    assert "es" in available_languages()
    assert translator("es")("Tap your badge") == "Acerca tu tarjeta"
    assert translator("xx")("Tap your badge") == "Tap your badge"  # unknown: English


CATALOGS = {"kiosk": (LOCALE_DIR, source_msgids),
            "console": (REPO / "hub" / "console" / "locale", console_msgids)}


@pytest.mark.parametrize("domain", sorted(CATALOGS))
@pytest.mark.parametrize("language", ["es"])
def test_catalog_covers_the_code_and_mo_is_compiled(language: str, domain: str) -> None:
    folder, msgids = CATALOGS[domain]
    po_path = folder / language / "LC_MESSAGES" / f"{domain}.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = msgids() - set(translated)
    assert not missing, f"run scripts/catalogs.sh: not in {po_path.name}: {sorted(missing)}"
    assert all(translated.values()), "untranslated entries"
    for msgid, text in translated.items():  # placeholders survive translation
        assert sorted(_fields(msgid)) == sorted(_fields(text)), msgid
    with (po_path.with_suffix(".mo")).open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == translated, f"{domain}.mo is stale: run scripts/catalogs.sh"
    write_mo(io.BytesIO(), catalog)  # and it compiles


def _fields(text: str) -> list[str]:
    """Its placeholders: the kiosk's ``{name}`` and the console's ``%(name)d``."""
    import re
    import string
    return [name for _, name, _, _ in string.Formatter().parse(text) if name] + \
        re.findall(r"%\((\w+)\)", text)
