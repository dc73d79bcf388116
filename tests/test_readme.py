"""The README stands alone: no pointer outside the repository, every picture it shows exists,
every file it names is there."""

from __future__ import annotations

import re

from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_nothing_outside_the_repository() -> None:
    assert "../" not in README and "shared/" not in README


def test_every_picture_exists() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(pictures) >= 6 and "docs/demo-room-1920x1080.png" in pictures
    assert [p for p in pictures if not (REPO / p).is_file()] == []


def test_every_sample_and_script_it_names_exists() -> None:
    named = set(re.findall(r"`((?:stations/room|scripts|broker|provisioning|kiosk)/[^`\s*]+)`",
                           README))
    named |= set(re.findall(r"\s(stations/room/samples/[\w./-]+)", README))
    assert "stations/room/samples/oneroster-1.2" in named
    assert [n for n in sorted(named) if not (REPO / n.rstrip("/")).exists()] == []
