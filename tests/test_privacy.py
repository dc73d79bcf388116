"""Groups named like ability levels never reach a screen or a message other students see.

The class view is drawn after every teacher action through a painter that keeps every string
it draws, and those strings are read; the stations' traffic is read on the room as deployed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from broker import contract as c
from hub.controls import Controls
from hub.screenshots import ROOM, scene
from hub.service import HubService
from tests.broker_helpers import StationListener
from tests.conftest import wait_until
from tests.hub_screen import screen_text

#: The demo room's groups, renamed the way a teacher might name ability groups.
LEVELS = {'name = "Foxes"': 'name = "Low readers"', 'name = "Owls"': 'name = "Intervention"',
          'name = "Otters"': 'name = "Advanced"', 'name = "Hawks"': 'name = "Below level"'}
SECRET = ("Low readers", "Intervention", "Advanced", "Below level")
#: What the grouping engine might call its suggestions.
SUGGESTED = ("Struggling readers", "Gifted", "Tier 2 support", "High flyers")


def leaks(text: str, names=SECRET + SUGGESTED) -> list[str]:
    return [n for n in names if n.lower() in text.lower()]


def level_config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOM / "hub.toml").read_text()
    for old, new in LEVELS.items():
        text = text.replace(old, new)
    (folder / "roster.toml").write_text((ROOM / "roster.toml").read_text())
    (folder / "hub.toml").write_text(text)
    return folder / "hub.toml"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubService]:
    pygame.init()
    (tmp_path / "scene").mkdir()
    service = scene(tmp_path / "scene", level_config(tmp_path / "source"))
    try:
        yield service
    finally:
        service.store.db.close()
        pygame.quit()


def class_screens(hub: HubService) -> dict[str, str]:
    """Every text of the class view and of the dialogs it opens, with the banner showing."""
    view = hub.view
    now = view.message_at or view.at
    student = next(iter(view.student_names))
    screens = {"class view": Controls(), "students": Controls(dialog="students"),
               "move one": Controls(dialog="student", student=student)}
    if view.suggested_groups is not None:
        screens["approve groups"] = Controls(dialog="groups")
    return {name: screen_text(view, controls, now) for name, controls in screens.items()}


def act(hub: HubService, action: str) -> None:
    """One teacher action, as the display's controls send it."""
    view = hub.view
    students = list(view.student_names)
    if action == "move":
        hub.teacher("move", student=students[0], group="g2")
    elif action == "absent":
        hub.teacher("absent", student=students[5])
    elif action == "extend":
        hub.teacher("extend", 5.0)
    elif action == "enroll":
        hub.teacher("enroll", badge=view.enrollment.offers[0].badge, student=students[3])
    elif action == "suggest":
        hub.suggest_groups([(name, students[k * 4:k * 4 + 4])
                            for k, name in enumerate(SUGGESTED)])
    else:
        hub.teacher(action)
    hub.step(0)


@pytest.mark.parametrize("actions", [["move"], ["absent"], ["extend"], ["enroll"],
                                     ["suggest", "approve_groups"],
                                     ["move", "suggest", "approve_groups", "move"]])
def test_the_class_view_shows_public_names_after_every_teacher_action(hub, actions) -> None:
    for action in actions:
        act(hub, action)
        for screen, text in class_screens(hub).items():
            assert not leaks(text), f"after {action}, the {screen} shows {leaks(text)}"
        # the banner is on the screen read above, in public names
        if action == "move":
            assert hub.view.message.endswith("moved to Group 2"), hub.view.message


def test_the_teacher_view_keeps_the_teachers_names(hub) -> None:
    """The check above can fail: the same drawing path shows the names to the teacher."""
    hub.teacher("move", student=next(iter(hub.view.student_names)), group="g2")
    hub.step(0)
    view = hub.view
    assert view.access.unlocked(view.at)  # the scene's teacher unlocked it
    teacher = screen_text(view, Controls(teacher=True), view.message_at)
    assert "Intervention" in teacher and "moved to Intervention" in teacher


# --- the wire ---------------------------------------------------------------------------------

@pytest.fixture
def wire(lesson) -> tuple[HubService, list[float], dict[str, StationListener]]:
    return lesson(**LEVELS)


@pytest.mark.broker
def test_stations_receive_group_ids_and_public_names_only(wire) -> None:
    service, now, stations = wire
    service.teacher("start")
    assert wait_until(lambda: all(x.of(c.Notice) for x in stations.values()))
    members = service.config.plan.groups[0].members
    service.teacher("move", student=members[0], group="g3")
    service.suggest_groups([(name, list(g.members)) for name, g in
                            zip(SUGGESTED, service.config.plan.groups, strict=True)])
    service.teacher("approve_groups")
    now[0] += service.config.plan.block(0).total_s + 1  # the next block: everyone moves
    assert wait_until(lambda: all(any(r.block == 1 for r in x.of(c.RotationState))
                                  for x in stations.values()))
    for station in stations.values():
        payloads = station.payloads().decode()
        assert not leaks(payloads), f"{station.station} received {leaks(payloads)}"
        states = station.of(c.RotationState)
        assert states and station.of(c.Notice)
        for state in states:
            assert {p.group for p in state.stations} <= {"", "Group 1", "Group 2", "Group 3",
                                                         "Group 4"}
        running = [r for r in states if r.state == "running"]
        assert running and all({p.group_id for p in r.stations} == {"g1", "g2", "g3", "g4"}
                               for r in running)
    # the teacher still sees their own names
    assert set(service.view.group_names.values()) == set(SUGGESTED)


@pytest.mark.broker
def test_a_resend_after_the_student_left_is_acknowledged_without_the_name(wire) -> None:
    service, now, stations = wire
    s1 = stations["s1"]
    ana, ben = "0411A133", "0412A236"
    roster = {b: service.roster.student_for_badge(b) for b in (ana, ben)}
    assert all(roster.values())

    def reply_to(message_id: str) -> c.Reply:
        assert wait_until(lambda: any(r.in_reply_to == message_id for r in s1.of(c.Reply)))
        return next(r for r in s1.of(c.Reply) if r.in_reply_to == message_id)

    assert wait_until(lambda: s1.of(c.RotationState))  # the hub is up and subscribed
    hello = c.Hello(**c.envelope("s1", now[0]), badge=ana)
    s1.publish("hello", hello)
    assert reply_to(hello.id).display_name == roster[ana].display_name
    menu = next(st for st in service.config.plan.stations if st.id == "s1").activities
    checkin = c.CheckIn(**c.envelope("s1", now[0]), badge=ana, answers={"confidence": 3},
                        activity=menu[0].id, tapped_at=now[0])
    s1.publish("checkin", checkin)
    assert reply_to(checkin.id).display_name == roster[ana].display_name
    # Ben taps in at s1; then s1 resends Ana's check-in (her reply was lost, say)
    now[0] += 30
    s1.publish("hello", c.Hello(**c.envelope("s1", now[0]), badge=ben))
    assert wait_until(lambda: len(s1.of(c.Reply)) == 3)
    s1.publish("checkin", checkin)
    assert wait_until(lambda: len(s1.of(c.Reply)) == 4)
    resend = s1.of(c.Reply)[-1]
    assert resend.in_reply_to == checkin.id and resend.duplicate
    assert resend.status == "accepted" and resend.display_name == ""
    assert roster[ana].display_name.encode() not in s1.raw[-1]


# --- refusals ---------------------------------------------------------------------------------

def test_a_refused_action_tells_the_class_no_group_name_and_the_teacher_why(hub) -> None:
    """Approving a group too large for a station is refused: the reason names the group,
    so the reason goes to the teacher view and the console alone."""
    students = list(hub.view.student_names)
    hub.suggest_groups([("Intervention", students[:9]), ("Gifted", students[9:13]),
                        ("Below level", students[13:])])
    hub.step(0)
    refused = hub.teacher("approve_groups")
    hub.step(0)
    why = refused.result(timeout=5)
    assert "Intervention" in why  # the console hears the whole reason
    for screen, text in class_screens(hub).items():
        assert not leaks(text), f"the {screen} shows {leaks(text)}"
        assert "9 students" not in text, f"the {screen} shows the refusal's details"
    assert hub.view.message and hub.view.message in class_screens(hub)["class view"]
    view = hub.view
    teacher = screen_text(view, Controls(teacher=True), view.message_at)
    assert "Intervention" in teacher and "9 students" in teacher


# --- the rule: private by default -------------------------------------------------------------

#: Names of programmes and needs no list of ability words caught: private by default, each
#: shows as "Group N".
PROGRAMMES = ("Remediation", "Dyslexia", "SEN", "Reading Recovery", "Title I",
              "Nurture group", "Booster", "Newcomers", "Pull-out")
DEMO_GROUPS = ("Foxes", "Owls", "Otters", "Hawks")


def renamed(*names: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """hub.toml replacements giving the demo room's groups these names, in order."""
    out = {f'name = "{old}"': f'name = "{new}"' for old, new in
           zip(DEMO_GROUPS[:len(names)], names, strict=True)}
    return {**out, **(extra or {})}


def named_scene(folder: Path, replacements: dict[str, str]) -> HubService:
    folder.mkdir(parents=True)
    text = (ROOM / "hub.toml").read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    (folder / "roster.toml").write_text((ROOM / "roster.toml").read_text())
    (folder / "hub.toml").write_text(text)
    (folder / "scene").mkdir()
    return scene(folder / "scene", folder / "hub.toml")


def shown(name: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


@pytest.fixture
def scenes(tmp_path: Path) -> Iterator:
    pygame.init()
    made: list[HubService] = []

    def make(replacements: dict[str, str]) -> HubService:
        made.append(named_scene(tmp_path / f"room{len(made)}", replacements))
        return made[-1]
    try:
        yield make
    finally:
        for service in made:
            service.store.db.close()
        pygame.quit()


@pytest.mark.parametrize("names", [PROGRAMMES[:4], PROGRAMMES[4:8], PROGRAMMES[8:]])
def test_programme_and_need_names_show_as_group_n(scenes, names) -> None:
    hub = scenes(renamed(*names))
    screens = class_screens(hub)
    payload = c.encode(hub.rotation_message(hub.view.at)).decode()  # what the stations get
    for name in names:
        for screen, text in screens.items():
            assert not shown(name, text), f"the {screen} shows {name!r}"
        assert not shown(name, payload), f"the rotation state carries {name!r}"
    public = hub.view.public_group_names
    for k, name in enumerate(names):
        assert public[f"g{k + 1}"] == f"Group {k + 1}", (name, public)
    assert {p.group for p in hub.rotation_message(hub.view.at).stations} >= {
        f"Group {k + 1}" for k in range(len(names))}
    teacher = screen_text(hub.view, Controls(teacher=True), hub.view.at)
    assert all(shown(name, teacher) for name in names)  # the teacher's words stay theirs


def test_neutral_names_and_explicit_public_names_show(scenes) -> None:
    hub = scenes(renamed("Red foxes", "Intervention", "Title I", "Hawks",
                         extra={'name = "Intervention"':
                                'name = "Intervention"\npublic_name = "Comets"'}))
    want = {"g1": "Red foxes", "g2": "Comets", "g3": "Group 3", "g4": "Hawks"}
    assert hub.view.public_group_names == want
    text = class_screens(hub)["class view"]
    assert all(name in text for name in ("Red foxes", "Comets", "Group 3", "Hawks")), text
    assert not shown("Intervention", text) and not shown("Title I", text)
    assert {p.group for p in hub.rotation_message(hub.view.at).stations} == set(want.values())
    # approved groups that keep a group's name keep its public name, stored with the class
    students = list(hub.view.student_names)
    hub.suggest_groups([(name, students[k::4]) for k, name in
                        enumerate(("Red foxes", "Intervention", "Title I", "Hawks"))])
    hub.step(0)
    approved = hub.teacher("approve_groups")
    hub.step(0)
    assert approved.result(5) == ""
    assert hub.view.public_group_names == want
    stored, _source = hub.book.groups(hub.class_id)
    assert [g.public_name for g in stored] == ["", "Comets", "", ""]


def test_the_rule_is_an_allow_list() -> None:
    from hub.neutral import is_neutral
    from hub.privacy import public_group_names
    from hub.rotation import GroupDef

    for name in ("Foxes", "Owls", "Red team", "Table 3", "Group B", "The North Stars",
                 "Sunflowers", "Blue Whales"):
        assert is_neutral(name), name
    for name in PROGRAMMES + SECRET + SUGGESTED + ("Gold group", "Snails", "", "Team Alpha"):
        assert not is_neutral(name), name
    groups = [GroupDef("a", "Booster", ()), GroupDef("b", "Group 1", ()),
              GroupDef("c", "SEN", (), "Comets"), GroupDef("d", "Owls", ())]
    # "Group 1" is a group's own name: the first private group takes the next free number
    assert public_group_names(groups) == {"a": "Group 2", "b": "Group 1", "c": "Comets",
                                          "d": "Owls"}
    # "Group N" is translated where a student reads it
    from kiosk.i18n import translator
    from kiosk.screens.chrome import group_name
    assert group_name("Group 2", translator("es")) == "Grupo 2"
    assert group_name("Owls", translator("es")) == "Owls"


@pytest.mark.broker
def test_programme_names_never_reach_the_stations(lesson) -> None:
    service, _now, stations = lesson(**renamed(*PROGRAMMES[:4]))
    service.teacher("start")
    assert wait_until(lambda: all(x.of(c.Notice) and any(
        r.state == "running" for r in x.of(c.RotationState)) for x in stations.values()))
    for station in stations.values():
        payloads = station.payloads().decode()
        assert not [n for n in PROGRAMMES[:4] if shown(n, payloads)], station.station
        running = [r for r in station.of(c.RotationState) if r.state == "running"]
        assert {p.group for r in running for p in r.stations} == {
            "Group 1", "Group 2", "Group 3", "Group 4"}
