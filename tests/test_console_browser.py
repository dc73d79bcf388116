"""The teacher console in a real browser: Debian's Chromium driven by Playwright, on the hub
service of the room as deployed (a real Mosquitto with the room's generated config, stations
publishing over TLS with their own credentials), the console served over HTTPS with the room's
server certificate by the hub's own uvicorn thread.

Marked ``browser``: skipped on a laptop without Chromium, never in CI (CI=true fails instead).
One browser for the module; each test has its own context (its own cookies).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from broker import contract as c
from hub import classsetup
from hub.lessons import ClassPlan
from tests.conftest import REPO, wait_until
from tests.console_helpers import (
    AXE,
    PASSWORD,
    ConsoleRoom,
    browser_missing,
    chromium,
    console_room,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.broker]
SAMPLES = REPO / "stations" / "room" / "samples"


def _need_browser() -> None:
    missing = browser_missing()
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests: {missing}")
    pytest.skip(missing)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConsoleRoom, Any]]:
    _need_browser()
    with console_room(tmp_path_factory.mktemp("console-browser")) as room, \
            chromium(room.cert) as browser:
        yield room, browser


@pytest.fixture
def page(hub) -> Iterator[Any]:
    _room, browser = hub
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def teacher(hub, page) -> Any:
    room = hub[0]
    sign_in(page, room.url)
    page.wait_for_url(f"{room.url}/lesson")
    return page


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(hub, page) -> None:
    room = hub[0]
    sign_in(page, room.url, "cleo", "this is not it")
    assert page.get_by_role("alert").inner_text().startswith("Wrong name or password")
    assert page.url.startswith(f"{room.url}/login")
    for _ in range(4):
        sign_in(page, room.url, "cleo", "this is not it either")
    sign_in(page, room.url, "cleo", PASSWORD)  # the right one, too late
    assert "Too many wrong passwords" in page.get_by_role("alert").inner_text()
    assert page.url.startswith(f"{room.url}/login")
    assert not [k for k in page.context.cookies() if k["name"].endswith("session")]


def test_sign_in_start_a_lesson_and_see_the_countdown(hub, teacher) -> None:
    room = hub[0]
    cookie = next(k for k in teacher.context.cookies() if k["name"].endswith("session"))
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    if room.service.view.rotation.phase.value != "running":
        teacher.get_by_role("button", name="Start").click()
    clock = teacher.locator("#clock [data-part=time]")
    clock.filter(has_text=re.compile(r"^\d+:\d\d$")).wait_for()
    first = clock.inner_text()
    teacher.wait_for_function(
        "t => document.querySelector('#clock [data-part=time]').textContent !== t", arg=first,
        timeout=5000)  # it ticks on the page's own clock
    assert re.match(r"^\d+:\d\d$", clock.inner_text())
    assert "Block 1 of 4" in teacher.locator("#clock").inner_text()
    assert teacher.get_by_role("button", name="Pause").is_visible()  # the controls follow


def test_a_check_in_appears_on_the_open_lesson_page_without_a_reload(hub, teacher) -> None:
    room = hub[0]
    service = room.service
    if service.view.rotation.phase.value != "running":
        room.service.teacher("start").result(10)
    teacher.goto(f"{room.url}/lesson")
    snap = service.view.rotation
    station = next(s for s in ("s2", "s3", "s4") if snap.expected.get(s))
    student = next(s for s in snap.expected[station]
                   if s not in {a.student_id for a in service.view.arrivals})
    name = service.view.student_names[student]
    teacher.evaluate("""name => {
        window.stillHere = true;
        window.seenAt = null;
        const board = document.getElementById('board');
        const seen = () => [...board.querySelectorAll('li.s-present .name')]
            .some(el => el.textContent === name);
        new MutationObserver(() => { if (!window.seenAt && seen())
            window.seenAt = performance.now(); })
            .observe(board, {childList: true, subtree: true, characterData: true});
    }""", name)
    assert not teacher.locator("li.s-present", has_text=name).count()
    sent_at = teacher.evaluate("performance.now()")
    room.check_in(station, student, time.time())
    teacher.locator("li.s-present", has_text=name).wait_for(timeout=10_000)
    assert teacher.evaluate("window.stillHere")  # live, not reloaded
    took_ms = teacher.evaluate("window.seenAt") - sent_at
    print(f"check-in on the lesson page {took_ms:.0f} ms after it was published")


def _upload_problem(page: Any, label: str, path: Any, button: str) -> str:
    """Upload ``path`` with the form's ``label`` and ``button``: the problem the page shows."""
    page.get_by_label(label).set_input_files(str(path))
    page.get_by_role("button", name=button).click()
    problem = page.locator("div.note.error[role=alert]")
    problem.wait_for()
    return problem.inner_text()


def test_a_bad_roster_upload_shows_the_error_and_changes_nothing(hub, teacher,
                                                                  tmp_path) -> None:
    import zipfile
    room = hub[0]
    before = room.service.store.db.execute("SELECT * FROM students ORDER BY id").fetchall()
    bad = tmp_path / "sis-export.zip"
    with zipfile.ZipFile(bad, "w") as z:
        for f in (SAMPLES / "oneroster-1.1").glob("*.csv"):
            text = f.read_text(encoding="utf-8-sig")
            if f.name == "enrollments.csv":
                text = text.replace("demo-4a", "no-such-class", 1)
            z.writestr(f.name, text)
    teacher.goto(f"{room.url}/roster")
    text = _upload_problem(teacher, "OneRoster export (.zip)", bad, "Import")
    assert "Nothing was imported" in text and "enrollments.csv" in text
    assert re.search(r"Row\s+\d+", text) and "classSourcedId" in text
    after = room.service.store.db.execute("SELECT * FROM students ORDER BY id").fetchall()
    assert after == before


def test_a_spanish_browser_reads_a_bad_scores_file_in_spanish(hub, tmp_path) -> None:
    """Chromium with a Spanish locale (its Accept-Language): the importer's problem in
    Spanish, with the file, row and column it names."""
    room, browser = hub
    context = browser.new_context(locale="es-ES", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{room.url}/login")
        page.get_by_label("Nombre").fill("ben")
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Entrar").click()
        page.wait_for_url(f"{room.url}/lesson")
        bad = tmp_path / "semana-7.csv"
        bad.write_text("sourcedId,date,fractions\nstu-01,2025-10-10,40\n"
                       "stu-02,10/10/2025,55\n", encoding="utf-8")
        page.goto(f"{room.url}/scores")
        text = _upload_problem(page, "Notas (.csv)", bad, "Importar")
        assert "No se importó nada." in text and "semana-7.csv" in text
        assert re.search(r"Fila\s+3", text) and re.search(r"Columna\s+date", text)
        assert "'10/10/2025' no es una fecha (AAAA-MM-DD)" in text
        assert "is not a date" not in text
    finally:
        context.close()


def test_scores_to_suggested_groups_to_the_stations(hub, teacher, tmp_path) -> None:
    """The teacher's loop in the browser: upload this week's scores (a bad file first), ask
    for skill groups, read the reasons, move a student, approve; the stations hear."""
    room = hub[0]
    service = room.service
    if service.view.rotation.phase.value != "running":
        service.teacher("start").result(10)
    bad = tmp_path / "quiz.csv"
    bad.write_text("sourcedId,given_name,first_name,fractions\nstu-01,Ana,Ana,40\n",
                   encoding="utf-8")
    teacher.goto(f"{room.url}/scores")
    teacher.get_by_label("Scores (.csv)").set_input_files(str(bad))
    teacher.get_by_role("button", name="Import").click()
    problem = teacher.locator("#scores-problem")
    problem.wait_for()
    assert "ambiguous column" in problem.inner_text() and "quiz.csv" in problem.inner_text()
    assert service.store.db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 0
    teacher.get_by_label("Scores (.csv)").set_input_files(str(SAMPLES / "scores.csv"))
    teacher.get_by_role("button", name="Import").click()
    teacher.get_by_text("Scores imported: 79 scores of 16 students").wait_for()
    teacher.goto(f"{room.url}/groups")
    teacher.get_by_label("Skill: students who need the same thing together").check()
    teacher.get_by_role("button", name="Suggest groups").click()
    teacher.get_by_text(re.compile(r"Skill groups on 3 standards: \d+ of 16")).wait_for()
    assert teacher.get_by_text(re.compile("grouped on 4.NF.A.1")).count() == 16
    foxes = teacher.get_by_role("heading", name="Foxes", exact=True)
    foxes.wait_for()
    first = service.view.suggested_groups[0][1][0]
    name = service.view.student_names[first]
    teacher.get_by_label(f"Move {name} to").select_option("Owls")
    teacher.get_by_label(f"Move {name} to").locator("..").get_by_role("button",
                                                                    name="Move").click()
    teacher.get_by_text("Adjusted by you.").wait_for()
    assert first in dict(service.view.suggested_groups)["Owls"]
    teacher.goto(f"{room.url}/lesson")
    teacher.get_by_role("link", name="New groups are suggested: review them").click()
    listener = room.listeners["s1"]
    states_before = len(listener.of(c.RotationState))
    teacher.get_by_role("button", name="Approve these groups").click()
    teacher.get_by_text("New groups approved").wait_for()
    assert service.view.suggested_groups is None
    assert first in service.view.rotation.members["g2"]  # Owls, as the teacher moved them
    assert wait_until(lambda: listener.of(c.Notice) and listener.of(c.Notice)[-1].event
                      == "move")
    # The station's retained state is the new lesson: the approved groups at their stations.
    assert wait_until(lambda: len(listener.of(c.RotationState)) > states_before)
    placed = {s: g for s, g in service.view.rotation.assignments.items() if g}
    assert wait_until(lambda: {p.id: p.group_id for p in listener.of(c.RotationState)[-1]
                               .stations if p.group_id} == placed)


def test_keep_two_students_apart_on_the_setup_page_and_the_next_suggestion_does(
        hub, teacher) -> None:
    """Skill groups would put two students together; the teacher keeps them apart on the
    class setup page (with the keyboard), and the next suggestion keeps them apart."""
    from hub.scores import latest_scores

    room = hub[0]
    service = room.service
    class_id = service.view.class_id
    if not latest_scores(service.store.db, class_id).scores:
        service.import_scores(SAMPLES / "scores.csv", class_id).result(30)
    service.teacher("reject_groups").result(10)
    before = service.request_groups("skill", class_id=class_id).result(60)
    a, b = next(g.members[:2] for g in before.groups if len(g.members) >= 2)
    service.teacher("reject_groups").result(10)
    names = service.view.student_names
    try:
        teacher.goto(f"{room.url}/groups")
        teacher.get_by_role("link", name=re.compile("^Class setup: keep students apart")).click()
        teacher.wait_for_url(re.compile(r"/setup\?class="))
        assert a not in teacher.url and b not in teacher.url
        apart = teacher.get_by_role("group", name=re.compile("^Keep apart"))
        for student in (a, b):  # by keyboard: focus the box, Space ticks it
            apart.get_by_label(names[student], exact=True).focus()
            teacher.keyboard.press("Space")
        assert apart.get_by_label(names[a], exact=True).is_checked()
        teacher.get_by_role("button", name="Keep them apart").focus()
        teacher.keyboard.press("Enter")
        teacher.get_by_role("status").filter(has_text="Constraint added.").wait_for()
        listed = teacher.locator("#rules").inner_text()
        assert (f"Keep {names[a]} and {names[b]} apart" in listed
                or f"Keep {names[b]} and {names[a]} apart" in listed)
        assert service.book.constraints(class_id)["keep_apart"] == [[a, b]]
        teacher.get_by_role("link", name="Groups", exact=True).click()
        teacher.get_by_label("Skill: students who need the same thing together").check()
        teacher.get_by_role("button", name="Suggest groups").click()
        teacher.get_by_text(re.compile(r"Skill groups on \d+ standards?:")).wait_for()
        after = dict(service.view.suggested_groups)
        where = {m: name for name, members in after.items() for m in members}
        assert where[a] != where[b], after
        # and the page shows them in different groups
        for name, members in after.items():
            card = teacher.locator("section.group-card").filter(
                has=teacher.get_by_role("heading", name=name, exact=True))
            shown = card.locator("form > span").all_inner_texts()
            assert sorted(shown) == sorted(names[m] for m in members)
    finally:
        service.teacher("reject_groups").result(10)
        service.call(lambda now: service.book.save_constraints(class_id, {})).result(10)


def test_erase_a_student(hub, teacher) -> None:
    room = hub[0]
    service = room.service
    student = "stu-16"
    name = service.view.student_names[student]
    teacher.goto(f"{room.url}/roster")
    teacher.get_by_role("link", name=re.compile(name.split()[0])).click()
    assert student not in teacher.url
    teacher.get_by_role("link", name="Erase this student…").click()
    teacher.get_by_role("button", name="Erase for good").click()
    assert service.roster.student(student) is not None  # the confirmation is required
    teacher.get_by_label(re.compile("Yes, erase everything")).check()
    teacher.get_by_role("button", name="Erase for good").click()
    teacher.get_by_text("Erased:").wait_for()
    assert service.roster.student(student) is None
    assert not teacher.get_by_role("link", name=re.compile(name.split()[0])).count()


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert result["testEngine"]["name"] == "axe-core" and result["passes"]  # it really ran
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violation_on_any_page_at_phone_and_laptop_width(hub) -> None:
    room, browser = hub
    if not AXE.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{AXE} is missing: scripts/setup.sh installs axe-core with npm")
        pytest.skip(f"{AXE} is missing (scripts/setup.sh test with STATIONS_SYSTEM_TOOLS=1)")
    service = room.service
    members = sorted(service.view.student_names)
    service.suggest_groups([("Comets", members[:4]), ("Rockets", members[4:])])
    service.teacher("enroll_start").result(10)
    # The class setup page with something in each of its lists.
    class_id = service.view.class_id
    service.change_constraints(class_id, lambda d: classsetup.keep_apart(d, members[:2])
                               ).result(10)
    service.add_slot("sat", "09:00", "10:00", class_id, "room").result(10)
    service.save_plan(class_id, ClassPlan("short", "Short blocks", ("s1", "s2"), 8)).result(10)
    for width, height in ((360, 740), (1280, 800)):
        # axe is added to the page by the test (the console's own policy allows no inline
        # script), served from the local npm cache: nothing comes from the internet.
        context = browser.new_context(viewport={"width": width, "height": height},
                                      bypass_csp=True)
        page = context.new_page()
        page.goto(f"{room.url}/login")
        found = {"/login": _axe(page)}
        sign_in(page, room.url, "ben")
        page.wait_for_url(f"{room.url}/lesson")
        page.goto(f"{room.url}/roster")
        student = page.locator("a[href^='/students/']").first.get_attribute("href")
        paths = ["/lesson", "/roster", "/scores", "/groups", "/badges", "/exports", "/setup",
                 student, f"{student}/erase"]
        for path in paths:
            page.goto(f"{room.url}{path}")
            found[path] = _axe(page)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{path} is {wide} px wide at {width} px"
        page.goto(f"{room.url}/lesson")
        page.get_by_role("button", name="Show the teacher view here").click()
        page.get_by_text("Teacher view: not for the projector").wait_for()
        found["/lesson (teacher view)"] = _axe(page)
        context.close()
        bad = {path: [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]])
                      for v in violations] for path, violations in found.items() if violations}
        assert not bad, f"at {width} px: {bad}"
    service.teacher("enroll_stop").result(10)
    service.teacher("reject_groups").result(10)
    service.change_constraints(class_id, lambda d: {}).result(10)
    service.remove_slot("sat", "09:00").result(10)
    service.remove_plan(class_id, "short").result(10)


def test_keyboard_first_tab_skips_to_the_content_with_a_visible_focus(hub, teacher) -> None:
    room = hub[0]
    teacher.goto(f"{room.url}/roster")
    teacher.keyboard.press("Tab")
    focused = teacher.evaluate("document.activeElement.textContent")
    assert focused == "Skip to the content"
    outline = teacher.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    teacher.keyboard.press("Enter")
    assert teacher.evaluate("document.activeElement.id") == "main"
