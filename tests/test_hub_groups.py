"""Lessons for every class and data-driven groups in the hub service, driven through its actions
on its ingest core (the service is not started: no broker; the room as deployed is in
test_data_driven_groups.py): two classes one after the other with their own groups and plans,
resumed after a restart; suggestions made on a worker thread from the scores, reflections and
pair history the hub holds; approval that moves students now; regrouping the students here;
the suggestion on the teacher view and never on the class view."""

from __future__ import annotations

import logging
from pathlib import Path

import pygame
import pytest

from broker import contract as c
from hub.config import load_hub_config
from hub.controls import Controls
from hub.grouping import CONFIDENCE_TREND, GOAL_PROGRESS
from hub.lessons import ClassPlan
from hub.reflections import reflections, trend
from hub.service import HubService
from hub.store import CheckInRecord
from hub.suggest import GroupRequest, gather
from tests.conftest import ROOM, wait_until
from tests.hub_screen import screen_text

T0 = 1_760_000_000.0
SCORES = ROOM / "samples" / "scores.csv"
#: A second class in the room: literacy for twelve of the sixteen, three stations.
LITERACY = """
[[classes]]
id = "lit-4a"
title = "Grade 4A · Literacy"
"""


def room(folder: Path, *, literacy: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    hub = (ROOM / "hub.toml").read_text().replace("autostart = true", "autostart = false")
    hub = hub.replace("process = true", "process = false")
    (folder / "hub.toml").write_text(hub)
    roster = (ROOM / "roster.toml").read_text()
    if literacy:
        roster = roster.replace('[[classes]]\nid = "demo-4a"', LITERACY.strip()
                                + '\n\n[[classes]]\nid = "demo-4a"')
        for k in range(1, 13):
            roster = roster.replace(f'id = "stu-{k:02d}"\n', f'id = "stu-{k:02d}"\n', 1)
        roster = _enrol(roster, [f"stu-{k:02d}" for k in range(1, 13)])
    (folder / "roster.toml").write_text(roster)
    return folder / "hub.toml"


def _enrol(text: str, students: list[str]) -> str:
    out = []
    current = ""
    for line in text.splitlines():
        if line.startswith("id = "):
            current = line.split('"')[1]
        if line.startswith("classes = ") and current in students:
            line = 'classes = ["demo-4a", "lit-4a"]'
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.fixture
def hub(tmp_path: Path):  # type: ignore[no-untyped-def]
    now = [T0]
    services: list[HubService] = []

    def make() -> tuple[HubService, list[float]]:
        service = HubService(load_hub_config(room(tmp_path / "room")), clock=lambda: now[0])
        services.append(service)
        return service, now
    try:
        yield make
    finally:
        for service in services:
            service._worker.shutdown(wait=True)
            service.store.db.close()


def act(service: HubService, action: str, **kw) -> str:  # type: ignore[no-untyped-def]
    future = service.teacher(action, **kw)
    service.step(0)
    return future.result(1)


def settle(service: HubService, future) -> object:  # type: ignore[no-untyped-def]
    """Turn the ingest loop until the future is answered (the worker answers through it)."""
    assert wait_until(future.done, timeout=20, step=lambda: service.step(0.02))
    return future.result()


def check_in(service: HubService, station: str, student: str, at: float,
             **answers: int) -> c.Reply:
    """A check-in as a station sends it, through the ingest core; the reply it gets."""
    badge = service.store.db.execute("SELECT badge FROM badges WHERE student_id=? AND "
                                     "revoked=0", (student,)).fetchone()[0]
    menu = next(s.activities for s in service.config.plan.stations if s.id == station)
    message = c.CheckIn(**c.envelope(station, at), badge=badge,
                        answers=answers or {"confidence": 3}, activity=menu[0].id,
                        tapped_at=at)
    topic = c.station_topic(service.room, station, "checkin")
    (out,) = service.ingest.handle(topic, c.encode(message), at)
    reply = c.decode(out.topic, out.payload, room=service.room)[1]
    assert isinstance(reply, c.Reply) and reply.status == "accepted"
    return reply


# --- lessons for every class ------------------------------------------------------------------

def test_two_classes_keep_their_own_groups_lesson_after_lesson_without_a_restart(hub) -> None:
    service, now = hub()
    choices = {ch.class_id: ch for ch in service.view.lesson_choices}
    assert set(choices) == {"demo-4a", "lit-4a"}
    assert act(service, "start") == ""  # the config's class, its groups from the file
    assert service.view.class_id == "demo-4a"
    assert set(service.view.group_names.values()) == {"Foxes", "Owls", "Otters", "Hawks"}
    assert act(service, "start_lesson", class_id="lit-4a") == "a lesson is on: end it first"
    act(service, "end")
    now[0] += 60
    assert act(service, "start_lesson", class_id="lit-4a") == ""
    view = service.view
    assert view.class_id == "lit-4a" and view.class_title == "Grade 4A · Literacy"
    members = view.rotation.members
    assert sorted(m for ms in members.values() for m in ms) == [f"stu-{k:02d}"
                                                                for k in range(1, 13)]
    assert sorted(len(ms) for ms in members.values()) == [3, 3, 3, 3]  # an even split
    reply = check_in(service, "s1", "stu-01", now[0] + 5)
    assert reply.go_to == service.rotation.station_id_for("stu-01")
    act(service, "end")
    now[0] += 60
    act(service, "start_lesson", class_id="demo-4a")
    assert set(service.view.group_names.values()) == {"Foxes", "Owls", "Otters", "Hawks"}
    lessons = service.store.db.execute("SELECT class_id, ended_at IS NOT NULL FROM lessons "
                                       "ORDER BY seq").fetchall()
    assert lessons == [("demo-4a", 1), ("lit-4a", 1), ("demo-4a", 0)]
    assert act(service, "start_lesson", class_id="nope") == "a lesson is on: end it first"


def test_a_saved_lesson_resumes_with_its_class_and_plan_after_a_restart(hub) -> None:
    service, now = hub()
    service.book.save_plan("lit-4a", ClassPlan("short", "Short blocks", ("s1", "s3", "s4"), 8))
    service._choices_at = -1e9  # the CLI wrote it: the hub reads it again
    service.step(0)
    lit = next(ch for ch in service.view.lesson_choices if ch.class_id == "lit-4a")
    assert [p[0] for p in lit.plans] == ["room", "short"]
    assert act(service, "start_lesson", class_id="lit-4a", plan="short") == ""
    assert service.view.plan_name == "Short blocks"
    state = service.rotation_message(now[0])
    assert [p.id for p in state.stations] == ["s1", "s2", "s3", "s4"]  # every station hears
    assert {p.id for p in state.stations if p.group_id} == {"s1", "s3", "s4"}
    assert state.blocks == 3
    act(service, "move", student="stu-02", group="g3")
    groups = dict(service.view.group_names)
    service._worker.shutdown()
    service.store.db.close()
    now[0] += 9 * 60 + 30  # the hub was off; the first block (1 + 8 min) ended meanwhile
    again, _now = hub()
    view = again.view
    assert (view.class_id, view.plan_id) == ("lit-4a", "short")
    assert view.rotation.phase.value == "running" and view.rotation.block == 1
    assert view.group_names == groups and "stu-02" in view.rotation.members["g3"]


def test_a_class_keeps_its_own_questions_and_history_setting(hub) -> None:
    service, now = hub()
    service.update_settings(questions=("confidence", "goal"), history=False,
                            class_id="lit-4a")
    service.step(0)
    act(service, "start")
    assert service.rotation_message(now[0]).questions == ("confidence",)
    assert service._shows_history()
    act(service, "end")
    act(service, "start_lesson", class_id="lit-4a")
    assert service.rotation_message(now[0]).questions == ("confidence", "goal")
    assert not service._shows_history()


# --- the engine in the hub ------------------------------------------------------------------------

def test_reflections_become_a_trend_goal_progress_and_favourite_activities() -> None:
    def rec(k: int, student: str, activity: str, **answers: int) -> CheckInRecord:
        return CheckInRecord(f"m{k}", "s1", student, "b", answers, activity, float(k), 0.0)
    records = [rec(1, "a", "read", confidence=4, goal=1), rec(2, "a", "draw", confidence=3),
               rec(3, "a", "draw", confidence=2, goal=4), rec(4, "a", "read", confidence=1),
               rec(5, "b", "quiz", confidence=2), rec(6, "c", "quiz", goal=3)]
    found = reflections(records)
    assert found.features["a"] == {CONFIDENCE_TREND: -1.0, GOAL_PROGRESS: 0.5}
    assert found.features["c"] == {GOAL_PROGRESS: pytest.approx(0.667, abs=1e-3)}
    assert "b" not in found.features  # one answer is no trend
    assert found.preferences["a"] == ("read", "draw")  # as often; read chosen last
    assert trend([1, 2]) == pytest.approx(1 / 3) and trend([2, 2, 2]) == 0.0
    assert trend([3]) is None


def test_skill_groups_on_a_worker_thread_approved_move_students_now(hub, caplog) -> None:
    service, now = hub()
    assert settle(service, service.import_scores(SCORES)).scores == 79
    act(service, "start")
    # Three students tell the station their confidence is falling, lesson after lesson.
    for k, student in enumerate(("stu-01", "stu-04", "stu-12")):
        where = service.rotation.station_id_for(student)
        for n, level in enumerate((3, 2, 1)):
            check_in(service, where, student, now[0] + 10 + 3 * k + n, confidence=level)
    before = dict(service.view.rotation.members)
    with caplog.at_level(logging.INFO, logger="hub.grouping.solve"):
        suggestion = settle(service, service.request_groups("skill"))
    (engine,) = [r for r in caplog.records if r.name == "hub.grouping.solve"]
    assert engine.threadName.startswith("hub-groups")  # never the ingest or display thread
    view = service.view
    assert view.suggestion is suggestion and view.rotation.members == before  # not yet
    assert suggestion.features["stu-01"].startswith("confidence falling")
    assert [g.name for g in suggestion.groups] == ["Foxes", "Owls", "Otters", "Hawks"]
    assert all(suggestion.reasons[m].startswith("grouped on 4.NF.A.1")
               for g in suggestion.groups for m in g.members)
    lowest = next(g for g in suggestion.groups if "stu-01" in g.members)
    assert {"stu-01", "stu-12", "stu-16"} <= set(lowest.members)  # the class's lowest
    moved = next(m for g in suggestion.groups for m in g.members
                 if suggestion.reasons[m].endswith(("moved from Foxes", "moved from Owls",
                                                    "moved from Otters", "moved from Hawks")))
    old_place = service.rotation.station_id_for(moved)
    assert act(service, "reject_groups") == "" and service.view.suggestion is None
    assert service.view.rotation.members == before  # rejecting changes nothing
    settle(service, service.request_groups("skill"))
    notices = len(service.notices_sent)
    assert act(service, "approve_groups") == ""
    new = {name: set(members) for name, members in service.view.suggested_groups or ()}
    assert not new
    assert {service.view.group_names[g]: set(ms) for g, ms in
            service.view.rotation.members.items()} == {g.name: set(g.members)
                                                       for g in suggestion.groups}
    assert service.notices_sent[notices].event == "move"  # the stations show where to go
    new_place = service.rotation.station_id_for(moved)
    assert new_place != old_place
    reply = check_in(service, old_place, moved, now[0] + 60)
    assert reply.go_to == new_place and reply.go_to_name
    stored = service.book.groups("demo-4a")
    assert stored is not None and stored[1] == "approved skill"
    lesson = service.book.recent_lessons("demo-4a", 1)[0]
    assert {frozenset(g) for g in lesson.groups} == {frozenset(g.members)
                                                     for g in suggestion.groups}


def test_no_scores_yet_is_said_plainly_and_offers_nothing(hub) -> None:
    service, _now = hub()
    with pytest.raises(ValueError, match="no scores for class demo-4a yet: import"):
        settle(service, service.request_groups("skill"))
    assert service.view.suggestion is None and service.view.groups_work == ""


def test_regroup_the_students_here_leaves_out_the_absent_and_moves_the_fewest(hub) -> None:
    service, now = hub()
    service.book.save_constraints("demo-4a", {"pinned": {"stu-06": 2}})
    act(service, "start")
    foxes = service.rotation.members()["g1"]  # stu-01..04
    act(service, "absent", student=foxes[0])  # marked absent
    for student in [m for ms in service.rotation.members().values() for m in ms]:
        if student not in foxes:  # two Foxes never checked in
            check_in(service, service.rotation.station_id_for(student), student, now[0] + 30)
    check_in(service, service.rotation.station_id_for(foxes[3]), foxes[3], now[0] + 40)
    act(service, "suggest_groups", mode="present")
    assert service.view.groups_work == "Regrouping the students here"
    assert wait_until(lambda: service.view.suggestion is not None, 20,
                      step=lambda: service.step(0.02))
    offer = service.view.suggestion
    assert set(offer.left_out) == set(foxes[:3])
    sizes = sorted(len(g.members) for g in offer.groups)
    assert sizes == [3, 3, 3, 4] and offer.moved == 2  # Foxes needs two: the fewest
    assert "stu-06" in offer.groups[1].members  # the pin held
    assert offer.reasons[foxes[0]] == "absent: left out"


def test_recent_lessons_groups_feed_the_pair_history(hub) -> None:
    service, now = hub()
    settle(service, service.import_scores(SCORES))
    with service.store.transaction():
        service.book.begin_lesson("demo-4a", "room", [("stu-01", "stu-02"),
                                                      ("stu-03", "stu-04")], T0 - 7200)
        service.book.begin_lesson("demo-4a", "room", [("stu-01", "stu-03")], T0 - 3600)
        service.book.begin_lesson("lit-4a", "room", [("stu-05", "stu-06")], T0 - 1800)
    plan, groups = service._class_plan("demo-4a")
    inp = gather(service.store, service.roster, service.book, GroupRequest("demo-4a"), plan,
                 groups, now[0])
    pairs = inp.options.recent_pairs
    assert pairs[frozenset(("stu-01", "stu-03"))] == pytest.approx(0.05)  # last lesson
    assert pairs[frozenset(("stu-01", "stu-02"))] == pytest.approx(0.025)  # the one before
    assert frozenset(("stu-05", "stu-06")) not in pairs  # another class's lesson
    suggestion = settle(service, service.request_groups("mixed"))
    together = next(g for g in suggestion.groups if "stu-01" in g.members)
    if "stu-03" in together.members:  # when the engine could not avoid it, it says so
        assert "worked together recently" in suggestion.reasons["stu-01"]


def test_the_suggestion_is_on_the_teacher_view_and_never_on_the_class_view(hub) -> None:
    pygame.init()
    try:
        service, now = hub()
        settle(service, service.import_scores(SCORES))
        act(service, "start")
        check_in(service, service.rotation.station_id_for("stu-01"), "stu-01", now[0] + 1,
                 confidence=3)
        check_in(service, service.rotation.station_id_for("stu-01"), "stu-01", now[0] + 2,
                 confidence=1)
        suggestion = settle(service, service.request_groups("skill"))
        service.unlock_teacher_view(now[0] + 600)
        service.step(0)
        view = service.view
        secret = ["confidence falling", "Approve", "grouped on", "stay",
                  suggestion.summary[:30]]
        for controls in (Controls(), Controls(dialog="groups"),
                         Controls(dialog="groups_students"),
                         Controls(dialog="groups_student", student="stu-01")):
            text = screen_text(view, controls, now[0])
            assert not [s for s in secret if s in text], (controls.dialog, text)
        teacher = screen_text(view, Controls(teacher=True, dialog="groups"), now[0])
        assert "Approve the suggested groups?" in teacher
        assert "confidence falling (-0.7)" in teacher and suggestion.groups[0].change in teacher
        controls = Controls(teacher=True, dialog="groups_student", student="stu-01")
        assert suggestion.reasons["stu-01"][:40] in screen_text(view, controls, now[0])
    finally:
        pygame.quit()
