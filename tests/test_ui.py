"""The UI kit both displays share (stations/ui): letters set evenly, one label size per kind of
button, a countdown that cannot pass for a clock, faces told apart at a glance, the "where
each group goes" strip; and the hub drawing with it rather than with the kiosk's screens."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pygame
import pytest

from broker import contract as c
from hub.controls import Controls
from hub.display import draw_hub
from hub.screenshots import scene
from kiosk.i18n import translator
from kiosk.machine import KioskMachine
from kiosk.screens.base import Context, Layout, ScreenId, Visit
from kiosk.screens.chrome import moves
from stations.ui.painter import PALETTE, Painter
from stations.ui.widgets import Button, Move, draw_moves, format_countdown
from tests.conftest import REPO

WORDS = ["Ella S.", "Otters", "A little", "Mostly", "I've got it!", "Teacher table",
         "Hello", "Quiet corner", "¿Cómo te sientes?", "Tap your badge", "Grade 4A"]


@pytest.fixture(scope="module", autouse=True)
def _pygame():
    pygame.display.init()
    pygame.font.init()
    yield
    pygame.quit()


class Recorder(Painter):
    """The real painter, noting the size each text was set in."""

    def __init__(self, surface: pygame.Surface, gettext=str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(surface, gettext)
        self.texts: list[tuple[str, int]] = []
        self.swatches: list[str] = []
        self.icons: list[str] = []

    def icon(self, name: str, cx: int, cy: int, size: int, role: str = "accent") -> None:
        self.icons.append(name)
        super().icon(name, cx, cy, size, role)

    def text(self, text: str, x: int, y: int, size: int, role: str = "text",
             anchor: str = "center", max_w: int | None = None) -> pygame.Rect:
        limit = max_w or self.surface.get_width() - 16
        self.texts.append((text, self.fit(text, size, limit)))
        return super().text(text, x, y, size, role, anchor, max_w)

    def swatch(self, colour: str, cx: int, cy: int, r: int, icon: str) -> None:
        self.swatches.append(colour)
        super().swatch(colour, cx, cy, r, icon)


def _widest_gap(font: pygame.font.Font) -> tuple[int, str]:
    """The most any pair of letters in WORDS is set apart beyond their own widths."""
    gaps = [(font.size(a + b)[0] - font.size(a)[0] - font.size(b)[0], a + b)
            for word in WORDS for a, b in itertools.pairwise(word) if " " not in a + b]
    return max(gaps)


@pytest.mark.parametrize("size", [14, 20, 28, 40, 60, 120])
def test_no_letter_is_pushed_apart_inside_a_word(size: int) -> None:
    """The cause of "Ell a S." and "A lit tle": pygame's bundled font kerns pairs such as
    "tt" and "la" apart by a tenth of a letter. Ours pulls pairs together (AV, To) and
    opens none by more than a designer's hair (3 % of the size)."""
    gap, pair = _widest_gap(Painter(pygame.Surface((10, 10))).font(size))
    assert gap <= size * 0.03, f"{pair!r} at {size}: {gap} px apart"


def test_the_old_font_fails_the_same_check() -> None:
    """The check above can fail: pygame's default font pushes "tt" and "la" apart."""
    gap, pair = _widest_gap(pygame.font.Font(None, 60))
    assert gap > 60 * 0.03, pair


def test_text_too_wide_is_set_smaller_not_squeezed() -> None:
    ui = Painter(pygame.Surface((400, 100)))
    size = ui.fit("Quiet corner: Hawks", 60, 150)
    assert size < 60 and ui.font(size).size("Quiet corner: Hawks")[0] <= 150
    rect = ui.text("Quiet corner: Hawks", 200, 50, 60, max_w=150)
    assert rect.w <= 150 and rect.h == ui.font(size).get_height()  # same proportions


def test_a_row_of_buttons_shares_one_label_size() -> None:
    ui = Recorder(pygame.Surface((800, 480)))
    buttons = [Button(str(k), 30 + k * 190, 150, 170, 200, label, "star")
               for k, label in enumerate(["Not yet", "A little", "Mostly",
                                          "¡Ya lo entiendo del todo!"])]
    ui.buttons(buttons, [b.label for b in buttons])
    sizes = {size for _text, size in ui.texts}
    assert len(sizes) == 1  # the long Spanish label sets everyone's size
    assert sizes.pop() < ui.label_size(buttons[0])


def _kiosk(rotation: c.RotationState, *, at: float = 0.0) -> tuple[KioskMachine, Context]:
    counter = itertools.count()
    ctx = Context(station="s1", station_name="S1", fallback_activities=(),
                  layout=Layout(800, 480), online=True, rotation=rotation, rotation_at=at)
    return KioskMachine(ctx, lambda: f"{next(counter):032x}", at), ctx


@pytest.mark.parametrize("question", ["confidence", "goal", "mood"])
def test_every_answer_row_uses_one_label_size(question: str) -> None:
    m, ctx = _kiosk(c.RotationState(**c.envelope("hub"), state="running", block=0, blocks=4,
                                    remaining_s=300, questions=(question,)))
    ctx.visit = Visit("04AB12CD", 0.0)
    screen = m.screens[ScreenId.REFLECTION]
    ui = Recorder(pygame.Surface((800, 480)), translator("es"))
    screen.draw(ctx, ui, 0.0)
    labels = {ui._(label) for _v, label, _i in screen._question(ctx).answers}
    sizes = {size for text, size in ui.texts if text in labels}
    assert len(sizes) == 1, ui.texts


def test_hub_controls_bar_labels_share_one_size(tmp_path: Path) -> None:
    hub = scene(tmp_path)
    try:
        for w, h in ((1280, 720), (1920, 1080), (800, 450)):
            ui = Recorder(pygame.Surface((w, h)))
            controls = Controls(teacher=True)  # the fullest bar (the scene's view is unlocked)
            draw_hub(hub.view, ui, controls, hub.view.at)
            labels = {b.label for b in controls.buttons(hub.view, w, h)}
            sizes = {size for text, size in ui.texts if text in labels}
            assert len(labels) >= 7 and len(sizes) == 1, (w, ui.texts)
    finally:
        hub.store.db.close()


def _icon(name: str, size: int = 120) -> pygame.Surface:
    surface = pygame.Surface((size, size))
    ui = Painter(surface)
    ui.fill("background")
    ui.icon(name, size // 2, size // 2, int(size * 0.8), "text")
    return surface


def _ink(surface: pygame.Surface) -> set[tuple[int, int]]:
    ground = pygame.Color(*PALETTE["background"])
    w, h = surface.get_size()
    return {(x, y) for x in range(w) for y in range(h) if surface.get_at((x, y)) != ground}


@pytest.mark.parametrize("a,b", [("face_smile", "face_happy"), ("face_unsure", "face_happy"),
                                 ("hourglass", "clock")])
def test_pictures_differ_at_a_glance(a: str, b: str) -> None:
    ink_a, ink_b = _ink(_icon(a)), _ink(_icon(b))
    differ = len(ink_a ^ ink_b) / len(ink_a | ink_b)
    assert differ > 0.35, f"{a} and {b} share {1 - differ:.0%} of their ink"


def test_the_countdown_says_left_beside_an_hourglass_not_a_clock() -> None:
    assert format_countdown(0.2) == "0:01" and format_countdown(685) == "11:25"
    for language, word in (("en", "8:07 left"), ("es", "quedan 8:07")):
        m, ctx = _kiosk(c.RotationState(**c.envelope("hub"), state="running", block=0,
                                        blocks=4, remaining_s=486.5))
        ui = Recorder(pygame.Surface((800, 480)), translator(language))
        m.current.draw(ctx, ui, 0.0)
        assert word in [t for t, _ in ui.texts]
        assert "hourglass" in ui.icons and "clock" not in ui.icons


def test_the_hub_countdown_has_an_hourglass_and_left(tmp_path: Path) -> None:
    hub = scene(tmp_path)
    try:
        ui = Recorder(pygame.Surface((1280, 720)))
        draw_hub(hub.view, ui, Controls(), hub.view.at)
        texts = [t for t, _ in ui.texts]
        assert "left" in texts and "clock" not in ui.icons and "hourglass" in ui.icons
    finally:
        hub.store.db.close()


def test_moves_strip_draws_every_group_with_its_station_colour() -> None:
    ui = Recorder(pygame.Surface((800, 200)))
    draw_moves(ui, [Move("Foxes", "Quiet corner", "green", "book"),
                    Move("Owls", "Blue table", "blue", "people"),
                    Move("Otters", "Teacher table", "orange", "teacher")],
               0, 0, 800, 200, text_size=40, columns=2)
    assert ui.swatches == ["green", "blue", "orange"]
    texts = dict(ui.texts)
    assert set(texts) == {"Foxes: Quiet corner", "Owls: Blue table", "Otters: Teacher table"}
    assert len(set(texts.values())) == 1  # one size for all


def _moving_kiosk(moving_s: float) -> tuple[KioskMachine, Context]:
    return _kiosk(c.RotationState(
        **c.envelope("hub"), state="running", block=1, blocks=4, remaining_s=700,
        moving_s=moving_s, stations=(
            c.StationPlan("s1", "Quiet corner", "independent", "Foxes", colour="green",
                          icon="book"),
            c.StationPlan("s2", "Blue table", "collaborative", "Owls", colour="blue",
                          icon="people"),
            c.StationPlan("s3", "Teacher table", "teacher-led", "Group 3", colour="orange",
                          icon="teacher"),
            c.StationPlan("s4", "Computers", "online", "", colour="purple", icon="laptop"))),
        at=10.0)


@pytest.mark.parametrize("language", ["en", "es"])
def test_kiosk_shows_where_each_group_goes_while_the_class_moves(language: str) -> None:
    m, ctx = _moving_kiosk(moving_s=45)
    assert [(mv.group, mv.station) for mv in moves(ctx)] == [
        ("Foxes", "Quiet corner"), ("Owls", "Blue table"), ("Group 3", "Teacher table")]
    for now, shown in ((10.0, True), (54.0, True), (55.5, False)):  # until the move is over
        ui = Recorder(pygame.Surface((800, 480)), translator(language))
        m.current.draw(ctx, ui, now)
        texts = [t for t, _ in ui.texts]
        assert ("Foxes: Quiet corner" in texts) is shown, (now, texts)
        assert (ui._("Time to move!") in texts) is shown
        if shown:
            assert ui.swatches[1:] == ["green", "blue", "orange"]  # [0]: this station's


def test_a_screen_in_use_names_each_groups_place_in_turn_while_moving() -> None:
    m, ctx = _moving_kiosk(moving_s=45)
    ctx.visit = Visit("04AB12CD", 10.0)
    m.current = m.screens[ScreenId.REFLECTION]
    seen = set()
    for now in (10.0, 12.0, 14.0, 16.0):
        ui = Recorder(pygame.Surface((800, 480)))
        m.current.draw(ctx, ui, now)
        texts = [t for t, _ in ui.texts]
        assert "Time to move!" in texts and "How sure do you feel?" in texts
        seen |= {t for t in texts if ":" in t and "left" not in t}
    assert seen == {"Foxes: Quiet corner", "Owls: Blue table", "Group 3: Teacher table"}


def test_no_board_when_nobody_moves() -> None:
    m, ctx = _moving_kiosk(moving_s=0)
    ui = Recorder(pygame.Surface((800, 480)))
    m.current.draw(ctx, ui, 10.0)
    assert "Foxes: Quiet corner" not in [t for t, _ in ui.texts]


def test_the_hub_does_not_import_the_kiosk() -> None:
    """Shared pieces live below both (stations/ui): imports point one way."""
    paths = sorted((REPO / "hub").rglob("*.py")) + sorted((REPO / "stations" / "ui").glob("*.py"))
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("kiosk"), f"{path.name} imports {name}"


def test_the_stations_get_public_group_names_only(tmp_path: Path) -> None:
    """Every station shows the groups' names while the class moves: a name that labels
    ability goes out as "Group N", as on the class view."""
    room = REPO / "stations" / "room"
    (tmp_path / "roster.toml").write_text((room / "roster.toml").read_text())
    (tmp_path / "hub.toml").write_text((room / "hub.toml").read_text().replace(
        'name = "Foxes"', 'name = "Low readers"'))
    (tmp_path / "db").mkdir()
    hub = scene(tmp_path / "db", tmp_path / "hub.toml")
    try:
        groups = {p.group for p in hub.rotation_message(hub.view.at).stations}
        assert "Group 1" in groups and not any("Low" in g for g in groups)
        assert {"Owls", "Otters", "Hawks"} <= groups
    finally:
        hub.store.db.close()
