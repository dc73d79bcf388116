"""From "import this week's quiz scores" to "students are at their new stations", on the room
as deployed: a real Mosquitto with the room's generated config, every station publishing and
listening over TLS with its own credentials, the hub service with its own.

Two classes meet in the room, one lesson after the other without a restart, each with its own
groups; a roster and the week's scores are imported through the hub; students report low
confidence at the stations; the teacher asks for skill groups, approves them, and a student's
next check-in is answered with their new station. A bad scores file changes nothing, and the
suggestion never reaches the class view or the wire."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pygame
import pytest

from broker import contract as c
from hub.controls import Controls
from hub.scores import ScoresError
from tests.conftest import ROOM, wait_until
from tests.hub_screen import screen_text

pytestmark = pytest.mark.broker
SAMPLES = ROOM / "samples"
LITERACY = "demo-4a-lit"


def two_class_export(folder: Path) -> Path:
    """The demo school's OneRoster 1.2 export with a second class in the room: literacy,
    for twelve of the sixteen."""
    out = folder / "oneroster"
    shutil.copytree(SAMPLES / "oneroster-1.2", out)
    classes = (out / "classes.csv").read_text(encoding="utf-8")
    first = next(csv.DictReader(io.StringIO(classes)))
    row = dict(first, sourcedId=LITERACY, title="Grade 4A · Literacy", classCode="LI4A",
               subjects="Reading")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(first), lineterminator="\n")
    writer.writerow(row)
    (out / "classes.csv").write_text(classes.rstrip("\n") + "\n" + buf.getvalue(),
                                     encoding="utf-8")
    enrollments = (out / "enrollments.csv").read_text(encoding="utf-8").rstrip("\n")
    for k in range(1, 13):
        enrollments += (f"\nenr-lit-{k:02d},active,2025-09-01T07:30:00.000Z,{LITERACY},"
                        f"demo-school,stu-{k:02d},student,false,2025-09-01,")
    (out / "enrollments.csv").write_text(enrollments + "\n", encoding="utf-8")
    return out


def check_in(service, listeners, station: str, student: str, at: float,  # type: ignore[no-untyped-def]
             confidence: int = 3) -> c.Reply:
    """A station publishes a student's check-in (its own credentials, TLS); the hub's
    reply to it."""
    badge = service.store.db.execute("SELECT badge FROM badges WHERE student_id=? AND "
                                     "revoked=0", (student,)).fetchone()[0]
    menu = next(s.activities for s in service.config.plan.stations if s.id == station)
    message = c.CheckIn(**c.envelope(station, at), badge=badge,
                        answers={"confidence": confidence}, activity=menu[0].id, tapped_at=at)
    listener = listeners[station]
    listener.publish("checkin", message)
    assert wait_until(lambda: any(r.in_reply_to == message.id for r in listener.of(c.Reply)))
    reply = next(r for r in listener.of(c.Reply) if r.in_reply_to == message.id)
    assert reply.status == "accepted"
    return reply


def test_two_classes_then_scores_to_skill_groups_to_the_new_stations(lesson, tmp_path) -> None:
    service, now, listeners = lesson()
    summary = service.import_roster(two_class_export(tmp_path)).result(10)
    assert summary.per_class == {"demo-4a": 16, LITERACY: 12}
    assert {ch.class_id for ch in service.view.lesson_choices} == {"demo-4a", LITERACY}
    # --- first period: literacy, its own groups (an even split of its twelve)
    assert service.teacher("start_lesson", class_id=LITERACY).result(10) == ""
    assert wait_until(lambda: all(any(r.state == "running" for r in x.of(c.RotationState))
                                  for x in listeners.values()))
    literacy = service.view.rotation.members
    assert sorted(m for ms in literacy.values() for m in ms) == [f"stu-{k:02d}"
                                                                 for k in range(1, 13)]
    reply = check_in(service, listeners, "s2", "stu-05", now[0] + 5)
    assert reply.go_to == service.rotation.station_id_for("stu-05")
    assert service.teacher("end").result(10) == ""
    # --- second period: maths, the config's groups, no restart, nothing edited
    now[0] += 3600
    assert service.teacher("start_lesson", class_id="demo-4a").result(10) == ""
    assert set(service.view.group_names.values()) == {"Foxes", "Owls", "Otters", "Hawks"}
    # a bad scores file: named by row and column, nothing stored, the lesson goes on
    bad = tmp_path / "quiz-week-6.csv"
    bad.write_text("sourcedId,given_name,family_name,date,fractions\n"
                   "stu-01,Ana,Rivera,2025-10-10,52\nstu-01,Ana,Rivera,2025-10-10,N/A-ish\n",
                   encoding="utf-8")
    with pytest.raises(ScoresError, match=r"quiz-week-6.csv, row 3, column 'date'"):
        service.import_scores(bad).result(10)
    assert service.store.db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 0
    result = service.import_scores(SAMPLES / "scores.csv").result(10)
    assert (result.class_id, result.scores) == ("demo-4a", 79)
    # the strugglers say so at their stations, twice
    for n, student in enumerate(("stu-01", "stu-12", "stu-16")):
        where = service.rotation.station_id_for(student)
        for k, confidence in enumerate((2, 1)):
            check_in(service, listeners, where, student, now[0] + 10 + 2 * n + k, confidence)
    # --- the teacher asks for skill groups on the hub, and approves them
    suggestion = service.request_groups("skill").result(20)
    assert service.view.suggestion is suggestion
    assert suggestion.features["stu-01"].startswith("confidence falling")
    pygame.init()
    try:
        for controls in (Controls(), Controls(dialog="groups")):
            text = screen_text(service.view, controls, now[0])
            assert "confidence" not in text and "grouped on" not in text
            assert suggestion.summary[:20] not in text
    finally:
        pygame.quit()
    moved = next(m for g in suggestion.groups for m in g.members
                 if "moved from" in suggestion.reasons[m])
    old_station = service.rotation.station_id_for(moved)
    notices = {s: len(x.of(c.Notice)) for s, x in listeners.items()}
    assert service.teacher("approve_groups").result(10) == ""
    new_station = service.rotation.station_id_for(moved)
    assert new_station != old_station
    # every station hears "time to move" and gets the retained state of the new groups
    assert wait_until(lambda: all(len(x.of(c.Notice)) > notices[s] for s, x in listeners.items()))
    assert all(x.of(c.Notice)[-1].event == "move" for x in listeners.values())
    group = service.rotation.group_of(moved)
    assert wait_until(lambda: any(p.id == new_station and p.group_id == group
                                  for p in listeners["s1"].of(c.RotationState)[-1].stations))
    # the moved student taps in where they were: the reply names the new station
    reply = check_in(service, listeners, old_station, moved, now[0] + 120)
    assert reply.go_to == new_station
    assert reply.go_to_name == service.view.station_names[new_station]
    # nothing of the suggestion went on the wire: reasons, features, scores
    for listener in listeners.values():
        wire = listener.payloads().decode()
        assert "grouped on" not in wire and "confidence falling" not in wire
        assert "4.NF.A.1" not in wire
    # the history of both lessons is kept per class, for the pair history
    lessons = service.book.recent_lessons("demo-4a", 5)
    assert len(lessons) == 1 and {frozenset(g) for g in lessons[0].groups} == {
        frozenset(g.members) for g in suggestion.groups}
    assert len(service.book.recent_lessons(LITERACY, 5)) == 1
