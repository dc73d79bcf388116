"""The hub display, both views, under SDL's dummy driver, checked by pixels; its controls."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pygame
import pytest

from hub.controls import Controls, Geometry
from hub.display import draw_hub
from hub.privacy import public_group_names
from hub.rotation import GroupDef
from hub.screenshots import render_views, scene
from hub.teacher import AccessView
from hub.view import people_at
from stations.ui.painter import PALETTE, Painter


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    pygame.init()
    hub = scene(tmp_path_factory.mktemp("scene"))
    try:
        yield dataclasses.replace(hub.view, connected=True, message="")
    finally:
        hub.store.db.close()
        pygame.quit()


def unlocked(view):
    """The view as the service makes it after a right PIN."""
    return dataclasses.replace(view, access=AccessView(unlocked_until=view.at + 60,
                                                       pin_set=True))


def draw(view, w=1920, h=1080, **controls) -> pygame.Surface:
    surface = pygame.Surface((w, h))
    if controls.get("teacher"):
        view = unlocked(view)
    draw_hub(view, Painter(surface), Controls(**controls), view.at)
    return surface


def count(surface: pygame.Surface, role: str, rect: tuple[int, int, int, int]) -> int:
    colour = pygame.Color(*PALETTE[role])
    x0, y0, w, h = rect
    return sum(1 for x in range(x0, x0 + w, 2) for y in range(y0, y0 + h, 2)
               if surface.get_at((x, y)) == colour)


def test_the_scene_has_what_the_views_must_show(view) -> None:
    assert view.flags  # someone reported low confidence twice
    statuses = {p.status for s in view.station_names for p in people_at(view, s)}
    assert {"present", "missing", "wrong", "visitor", "absent"} <= statuses
    assert view.enrollment.offers and view.station_states


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_class_view_never_shows_the_teachers_flags(view, size) -> None:
    w, h = size
    g = Geometry(w, h)
    cls, teacher = draw(view, w, h), draw(view, w, h, teacher=True)
    panel = (w - g.side_w, g.bar_h, g.side_w, h - g.bar_h - g.controls_h - g.next_h)
    # the teacher's panel (flags, framed in the warning colour) is there only in its view
    assert count(teacher, "warn", panel) > count(cls, "warn", panel) + 200
    # and the flag marks beside names: without the flags the teacher view loses warn pixels,
    # the class view loses none (it never drew them)
    unflagged = dataclasses.replace(view, flags={})
    body = (0, g.bar_h, w - g.side_w, h - g.bar_h - g.controls_h)
    assert count(draw(view, w, h, teacher=True), "warn", body) > \
        count(draw(unflagged, w, h, teacher=True), "warn", body)
    assert count(cls, "warn", (0, 0, w, h)) == count(draw(unflagged, w, h), "warn", (0, 0, w, h))
    # the teacher view is marked: its bar is dark text colour, the class view's the bar
    assert teacher.get_at((5, 5)) == pygame.Color(*PALETTE["text"])
    assert cls.get_at((5, 5)) == pygame.Color(*PALETTE["bar"])


def test_countdown_names_and_offline_station_are_drawn(view) -> None:
    s = draw(view)
    g = Geometry(1920, 1080)
    assert count(s, "bar_text", (650, 0, 700, g.bar_h)) > 1500  # the big countdown
    card_w = (1920 - 20 * 5) // 4
    first = (30, g.bar_h + 150, card_w - 40, 300)
    assert count(s, "text", first) > 300 and count(s, "good", first) > 30  # names, checks
    offline = view.station_states.get("s4") != "online"
    assert offline and count(s, "warn", (20 + 3 * (card_w + 20), g.bar_h + 20, card_w, 90)) > 50


def test_buttons_are_big_enough_to_touch_at_1280x720(view) -> None:
    for controls in (Controls(), Controls(dialog="students"), Controls(dialog="enroll")):
        for b in controls.buttons(view, 1280, 720):
            assert b.h >= 48 and b.w >= 48, b
            assert b.x >= 0 and b.x + b.w <= 1280 and b.y + b.h <= 720


def test_controls_turn_touches_and_keys_into_teacher_actions(view) -> None:
    assert view.access.unlocked(view.at)  # the scene's teacher unlocked it: End is there
    c = Controls(teacher=True)
    w, h = 1280, 720
    by_id = {b.id: b for b in c.buttons(view, w, h)}
    assert [a.action for a in c.press(*_centre(by_id["pause"]), view, w, h, 0)] == ["pause"]
    assert [(a.action, a.minutes) for a in c.key("+", view, w, h, 0)] == [("extend", 5.0)]
    assert c.press(*_centre(by_id["end"]), view, w, h, 0) == []  # asks first
    assert c.dialog == "confirm_end"
    yes = next(b for b in c.buttons(view, w, h) if b.id == "end_yes")
    assert [a.action for a in c.press(*_centre(yes), view, w, h, 0)] == ["end"]
    # move a student: pick the student, then the group
    c.key("m", view, w, h, 0)
    student = next(b for b in c.buttons(view, w, h) if b.id.startswith("student:"))
    c.press(*_centre(student), view, w, h, 0)
    group = next(b for b in c.buttons(view, w, h)
                 if b.id.startswith("group:") and b.style != "off")
    (move,) = c.press(*_centre(group), view, w, h, 0)
    assert (move.action, move.student, move.group) == ("move", student.id[8:], group.id[6:])
    # enroll by keyboard only: b opens it, arrows and Enter pick the offer and the student
    c = Controls(teacher=True)
    assert c.key("b", view, w, h, 0) == []  # already enrolling in the scene
    c.key("right", view, w, h, 0)
    c.key("return", view, w, h, 0)
    assert c.dialog == "enroll_pick"
    c.key("right", view, w, h, 0)
    (act,) = c.key("return", view, w, h, 0)
    assert act.action == "enroll" and act.badge == view.enrollment.offers[0].badge


def _centre(b) -> tuple[int, int]:
    return b.x + b.w // 2, b.y + b.h // 2


def test_ability_labelling_group_names_are_hidden_from_the_class() -> None:
    names = public_group_names(GroupDef(gid, name, ()) for gid, name in [
        ("g1", "Advanced"), ("g2", "Foxes"), ("g3", "Low readers"), ("g4", "Group 1"),
        ("g5", "IEP support"), ("g6", "Owls")])
    # "Group 1" is a group's own name, so the first masked group takes the next free number
    assert names == {"g1": "Group 2", "g2": "Foxes", "g3": "Group 3", "g4": "Group 1",
                     "g5": "Group 5", "g6": "Owls"}


def test_screenshot_command_writes_every_view(tmp_path: Path) -> None:
    files = render_views(tmp_path, sizes=((1280, 720),))
    assert sorted(p.name for p in files) == sorted(
        f"hub-{v}-1280x720.png" for v in ("class", "teacher", "move-student", "enroll-badge",
                                          "teacher-pin", "groups", "lesson"))
    pygame.init()
    image = pygame.image.load(str(files[0]))
    assert image.get_size() == (1280, 720)
