"""The teacher console's routes, in-process with an ASGI client (httpx), on the hub service of
the room as deployed (a real Mosquitto with the room's config, the hub's real database).

Security first: every route without a session, every change without its CSRF token, the
cookie's flags, the login throttle; then each page and what it changes, always through the
hub service (one writer), and never a student id in a URL or a log line.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")

from broker import contract as c  # noqa: E402
from hub.console.app import SESSION_COOKIE, Console  # noqa: E402
from hub.console.security import ACCOUNT_FREE  # noqa: E402
from tests.conftest import REPO, wait_until  # noqa: E402
from tests.console_helpers import PASSWORD, ConsoleRoom, console_room, csrf_of  # noqa: E402

pytestmark = pytest.mark.broker
SAMPLES = REPO / "stations" / "room" / "samples"
SPANISH = {"accept-language": "es-MX,es;q=0.9,en;q=0.5"}

PAGES = ["/lesson", "/roster", "/scores", "/groups", "/badges", "/exports", "/students/x",
         "/students/x/erase", "/setup", "/setup?class=demo-4a", "/"]
APIS = ["/lesson/events", "/students/x/export", "/exports/day?date=2025-01-01&class=demo-4a"]
CHANGES = ["/logout", "/lesson/action", "/lesson/move", "/lesson/absent", "/lesson/view",
           "/lesson/display", "/lesson/start", "/roster", "/scores", "/groups/approve",
           "/groups/reject",
           "/groups/adjust", "/groups/ask", "/students/x/erase", "/badges/enrollment",
           "/badges/assign", "/badges/reassign", "/badges/revoke", "/badges/import",
           "/settings", "/setup/apart", "/setup/together", "/setup/pin", "/setup/not-in",
           "/setup/sizes", "/setup/remove", "/setup/slot-add", "/setup/slot-remove",
           "/setup/plan-save", "/setup/plan-remove"]


class Client:
    """A sync face on httpx's AsyncClient over the console's ASGI app, on one loop thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, console: Console,
                 address: str = "127.0.0.1") -> None:
        self.loop = loop
        transport = httpx.ASGITransport(app=console, client=(address, 40000))
        self.http = httpx.AsyncClient(transport=transport, base_url="https://hub.test")

    def request(self, method: str, path: str, **kw: Any) -> Any:
        fut = asyncio.run_coroutine_threadsafe(self.http.request(method, path, **kw),
                                               self.loop)
        return fut.result(30)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def sign_in(self, name: str = "ana", password: str = PASSWORD) -> Any:
        page = self.get("/login")
        nonce = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
        return self.post("/login", data={"login_csrf": nonce, "name": name,
                                         "password": password})

    def csrf(self) -> str:
        return csrf_of(self.get("/lesson").text)

    def change(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.post(path, data={"csrf": self.csrf(), **(data or {})}, **kw)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConsoleRoom, Console,
                                                                    asyncio.AbstractEventLoop]]:
    with serving(tmp_path_factory.mktemp("console")) as served:
        yield served


@contextmanager
def serving(folder: Path, **options: Any) -> Iterator[tuple[ConsoleRoom, Console,
                                                            asyncio.AbstractEventLoop]]:
    """The room's hub with its console app on a loop thread of its own (no server)."""
    with console_room(folder, serve=False, **options) as room:
        console = Console(room.service, room.service.config.console)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        lifespan = console.app.router.lifespan_context(console.app)
        asyncio.run_coroutine_threadsafe(lifespan.__aenter__(), loop).result(10)
        try:
            yield room, console, loop
        finally:
            asyncio.run_coroutine_threadsafe(lifespan.__aexit__(None, None, None),
                                             loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)


@pytest.fixture
def client(hub) -> Client:
    _room, console, loop = hub
    return Client(loop, console)


@pytest.fixture
def signed_in(client: Client) -> Client:
    assert client.sign_in().status_code == 303
    return client


def handle_of(client: Client, name: str) -> str:
    page = client.get("/roster").text
    match = re.search(r'href="/students/([0-9a-f]+)">' + re.escape(name), page)
    assert match, f"{name} is not on the roster page"
    return match.group(1)


# --- security -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES)
def test_every_page_without_a_session_goes_to_the_login_page(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", APIS)
def test_every_api_route_without_a_session_answers_401(client: Client, path: str) -> None:
    assert client.get(path).status_code == 401


@pytest.mark.parametrize("path", CHANGES)
def test_every_change_without_a_session_answers_401(client: Client, path: str) -> None:
    assert client.post(path, data={"action": "start"}).status_code == 401


@pytest.mark.parametrize("path", CHANGES)
def test_every_change_without_its_csrf_token_is_refused(hub, signed_in: Client,
                                                        path: str) -> None:
    room = hub[0]
    before = room.service.view.rotation.phase
    response = signed_in.post(path, data={"action": "start", "csrf": "forged"})
    assert response.status_code == 403
    assert signed_in.post(path, data={"action": "start"}).status_code == 403
    assert signed_in.get("/lesson").status_code == 200  # still signed in: logout refused too
    assert room.service.view.rotation.phase == before


def test_a_change_from_another_site_is_refused(signed_in: Client) -> None:
    csrf = signed_in.csrf()
    response = signed_in.post("/lesson/view", data={"csrf": csrf, "teacher": "yes"},
                              headers={"origin": "https://evil.example"})
    assert response.status_code == 403


def test_the_session_cookie_is_secure_httponly_strict_and_expires(client: Client) -> None:
    response = client.sign_in()
    assert response.status_code == 303 and response.headers["location"] == "/lesson"
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert {"secure", "httponly", "path"} <= set(flags)
    assert flags["samesite"].lower() == "samesite=strict"
    assert flags["path"] == "Path=/" and "domain" not in flags
    assert 0 < int(flags["max-age"].split("=")[1]) <= 12 * 3600
    assert len(cookie.split("=", 1)[1].split(";")[0]) >= 40  # 256 random bits


def test_pages_carry_security_headers_and_are_never_cached(signed_in: Client) -> None:
    response = signed_in.get("/lesson")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "http://" not in response.text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in response.text  # nothing from the internet


def test_the_login_form_needs_its_own_token(client: Client) -> None:
    response = client.post("/login", data={"name": "ana", "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_wrong_passwords_lock_the_account_even_against_the_right_one(hub, caplog) -> None:
    _room, console, loop = hub
    client = Client(loop, console, address="10.9.9.1")
    with caplog.at_level(logging.INFO, logger="hub.console"):
        for _ in range(ACCOUNT_FREE - 1):
            assert client.sign_in("cleo", "not the password at all").status_code == 401
        last = client.sign_in("cleo", "not the password at all")
        assert last.status_code == 401 and "try again in" in last.text
        locked = client.sign_in("cleo", PASSWORD)
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.text
    assert SESSION_COOKIE not in locked.headers.get("set-cookie", "")
    # another account from another address is not affected
    assert Client(loop, console, address="10.9.9.2").sign_in("ana").status_code == 303
    assert any("wrong password (account cleo" in r.getMessage() for r in caplog.records)
    assert not any("not the password" in r.getMessage() for r in caplog.records)


def test_an_unknown_name_is_answered_like_a_wrong_password(client: Client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="hub.console"):
        response = client.sign_in("Correct-Horse-Typed-In-The-Name-Box", PASSWORD)
    assert response.status_code == 401 and "Wrong name or password" in response.text
    assert not any("correct-horse" in r.getMessage().lower() for r in caplog.records)


def test_sign_out_ends_the_session(signed_in: Client) -> None:
    assert signed_in.change("/logout").status_code == 303
    assert signed_in.get("/lesson").status_code == 303
    assert signed_in.post("/lesson/view", data={"teacher": "yes"}).status_code == 401


def test_a_removed_account_loses_its_session(hub, signed_in: Client) -> None:
    _room, console, loop = hub
    other = Client(loop, console)
    assert other.sign_in("ben").status_code == 303
    path = console.config.accounts
    text = path.read_text()
    try:
        from hub.console.accounts import read_accounts, write_accounts
        accounts = read_accounts(path)
        del accounts["ben"]
        write_accounts(path, accounts)
        assert other.get("/lesson").status_code == 303
        assert signed_in.get("/lesson").status_code == 200
    finally:
        path.write_text(text)


# --- no student data in URLs or logs --------------------------------------------------------------

def test_no_student_id_or_name_in_any_url_or_log_line(hub, signed_in: Client, caplog) -> None:
    room = hub[0]
    ids = [r[0] for r in room.service.store.db.execute("SELECT id FROM students")]
    names = list(room.service.view.student_names.values())
    handle = handle_of(signed_in, names[0].split()[0])
    with caplog.at_level(logging.DEBUG):
        pages = {p: signed_in.get(p).text for p in
                 ["/lesson", "/roster", "/groups", "/badges", "/exports", "/setup",
                  f"/students/{handle}", f"/students/{handle}/erase"]}
    urls = [u for text in pages.values()
            for u in re.findall(r'(?:href|action|src)="([^"]*)"', text)]
    assert urls
    for url in urls:
        assert not any(sid in url for sid in ids), url
    values = [v for text in pages.values() for v in re.findall(r'value="([^"]*)"', text)]
    assert not any(v in ids for v in values)
    # the hub's log (the test's own HTTP client logs what it asked for)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "console GET /students/…" in logged
    assert not any(sid in logged for sid in ids)
    assert not any(name in logged for name in names)
    assert handle not in logged


def test_a_handle_means_nothing_in_another_session(hub, signed_in: Client) -> None:
    room, console, loop = hub
    handle = handle_of(signed_in, "Ana")
    other = Client(loop, console)
    other.sign_in("ben")
    assert other.get(f"/students/{handle}").status_code == 404
    sid = next(iter(room.service.view.student_names))
    assert signed_in.get(f"/students/{sid}").status_code == 404  # raw ids do not work


# --- the lesson -----------------------------------------------------------------------------------

def test_lesson_controls_go_through_the_hub_service(hub, signed_in: Client) -> None:
    service = hub[0].service
    csrf = signed_in.csrf()
    for action, phase in (("start", "running"), ("pause", "paused"), ("resume", "running")):
        response = signed_in.post("/lesson/action", data={"action": action},
                                  headers={"x-csrf-token": csrf})
        assert response.status_code == 204
        assert service.view.rotation.phase.value == phase  # the answer waits for the view
    left = service.view.rotation.remaining_s
    signed_in.post("/lesson/action", data={"action": "extend"}, headers={"x-csrf-token": csrf})
    assert service.view.rotation.remaining_s > left + 250
    block = service.view.rotation.block
    signed_in.post("/lesson/action", data={"action": "skip", "csrf": csrf})
    assert service.view.rotation.block == block + 1
    refused = signed_in.post("/lesson/action", data={"action": "end", "csrf": csrf})
    assert refused.status_code == 400 and service.view.rotation.phase.value == "running"
    page = signed_in.post("/lesson/action", data={"action": "end", "confirm": "yes",
                                                  "csrf": csrf})
    assert page.status_code == 303 and service.view.rotation.phase.value == "ended"
    assert signed_in.post("/lesson/action", data={"action": "explode", "csrf": csrf}
                          ).status_code == 400


def test_move_and_absent_through_handles(hub, signed_in: Client) -> None:
    service = hub[0].service
    signed_in.change("/lesson/action", {"action": "start"})
    page = signed_in.get("/lesson").text
    csrf = csrf_of(page)
    handle, name = re.search(r'<select id="move-student".*?<option value="([0-9a-f]+)">([^<]+)<',
                             page, re.S).groups()
    sid = next(s for s, n in service.view.student_names.items() if n == name)
    target = next(g for g in service.view.group_names
                  if sid not in service.view.rotation.members.get(g, ()))
    assert signed_in.post("/lesson/move", data={"csrf": csrf, "student": handle,
                                                "group": target}).status_code == 303
    assert sid in service.view.rotation.members[target]
    signed_in.post("/lesson/absent", data={"csrf": csrf, "student": handle, "present": "no"})
    assert sid in service.view.rotation.absent
    assert "absent" in signed_in.get("/lesson").text
    signed_in.post("/lesson/absent", data={"csrf": csrf, "student": handle, "present": "yes"})
    assert sid not in service.view.rotation.absent
    bad = signed_in.post("/lesson/move", data={"csrf": csrf, "student": handle,
                                               "group": "no-such-group"})
    assert bad.status_code == 303
    assert "no group" in signed_in.get("/lesson").text  # the hub's refusal, shown
    assert signed_in.post("/lesson/move", data={"csrf": csrf, "student": "0" * 16,
                                                "group": target}).status_code == 404


def test_the_teacher_view_shows_flags_and_the_class_view_does_not(hub, signed_in: Client) -> None:
    room = hub[0]
    service = room.service
    signed_in.change("/lesson/action", {"action": "start"})
    student = service.view.rotation.expected["s1"][0]
    for k in range(2):
        room.check_in("s1", student, time.time() + k, confidence=1)
    assert wait_until(lambda: student in service.view.flags, timeout=40)
    name = service.view.student_names[student]
    class_view = signed_in.get("/lesson").text
    assert name in class_view and "low confidence" not in class_view
    assert "Foxes" not in class_view or "Group" in class_view  # public names only
    signed_in.change("/lesson/view", {"teacher": "yes"})
    teacher = signed_in.get("/lesson").text
    assert "Teacher view: not for the projector" in teacher and "low confidence" in teacher
    spanish = signed_in.get("/lesson", headers={"accept-language": "es"}).text
    assert "poca confianza 2 veces seguidas" in spanish and "low confidence" not in spanish
    signed_in.change("/lesson/view", {"teacher": "no"})
    assert "low confidence" not in signed_in.get("/lesson").text


def test_the_console_opens_the_teacher_view_on_the_hub_display(hub, signed_in: Client) -> None:
    service = hub[0].service
    signed_in.change("/lesson/display", {"open": "yes"})
    assert service.view.access.unlocked(time.time())
    signed_in.change("/logout")  # signing out closes it again
    assert wait_until(lambda: not service.view.access.unlocked(time.time()))


# --- roster, badges, students ---------------------------------------------------------------------

def _zip(folder: Path, change: tuple[str, str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(folder.glob("*.csv")):
            text = f.read_text(encoding="utf-8-sig")
            if change and f.name == change[0]:
                assert change[1] in text
                text = text.replace(change[1], change[2], 1)
            z.writestr(f.name, text)
    return buf.getvalue()


def _students(room: ConsoleRoom) -> list[tuple]:
    return room.service.store.db.execute("SELECT * FROM students ORDER BY id").fetchall()


def test_a_bad_roster_upload_names_file_row_and_column_and_changes_nothing(
        hub, signed_in: Client) -> None:
    room = hub[0]
    before = _students(room)
    bad = _zip(SAMPLES / "oneroster-1.2", ("users.csv", ",Priya,Shah,", ",,Shah,"))
    response = signed_in.post("/roster", data={"csrf": signed_in.csrf()},
                              files={"export": ("sis-export.zip", bad, "application/zip")})
    assert response.status_code == 400
    problem = re.search(r'<div class="note error" role="alert" id="roster-problem">(.*?)</div>',
                        response.text, re.S).group(1)
    assert "Nothing was imported" in problem and "users.csv" in problem
    assert "<dt>Row</dt><dd>18</dd>" in problem and "<dd>givenName</dd>" in problem
    assert _students(room) == before


def test_a_roster_upload_imports_through_the_hub(hub, signed_in: Client) -> None:
    room = hub[0]
    good = _zip(SAMPLES / "oneroster-1.2")
    response = signed_in.post("/roster", data={"csrf": signed_in.csrf()},
                              files={"export": ("sis.zip", good, "application/zip")})
    assert response.status_code == 303
    page = signed_in.get("/roster").text
    assert "Roster imported: 16 students" in page
    assert room.service.store.db.execute(
        "SELECT COUNT(*) FROM students WHERE source='oneroster'").fetchone()[0] == 16
    nothing = signed_in.post("/roster", data={"csrf": signed_in.csrf()})
    assert nothing.status_code == 400 and "choose a file" in nothing.text


def test_badges_enroll_revoke_reassign_and_import(hub, signed_in: Client) -> None:
    service = hub[0].service
    signed_in.change("/badges/enrollment", {"on": "yes"})
    assert service.view.enrollment.active
    assert "Stop enrolling" in signed_in.get("/badges").text
    signed_in.change("/badges/enrollment", {"on": "no"})
    assert not service.view.enrollment.active
    page = signed_in.get("/badges").text
    handle = re.search(r'<select id="assign-student" name="student"><option value="([0-9a-f]+)"',
                       page).group(1)
    signed_in.change("/badges/assign", {"badge": "0A0B0C0D", "student": handle})
    assert service.roster.badge("0A0B0C0D") is not None
    signed_in.change("/badges/revoke", {"badge": "0A0B0C0D"})
    assert service.roster.badge("0A0B0C0D").revoked
    assert "Badge revoked" in signed_in.get("/badges").text
    taken = service.roster.badges_of("stu-02")[0].badge
    signed_in.change("/badges/assign", {"badge": taken, "student": handle})
    assert "revoke it first or reassign it" in signed_in.get("/badges").text
    signed_in.change("/badges/reassign", {"badge": taken, "student": handle})
    assert service.roster.badge(taken).student_id != "stu-02"
    bad = b"badge,student_id\n0411A133,stu-01\nnot a badge!,stu-02\n"
    response = signed_in.post("/badges/import", data={"csrf": signed_in.csrf()},
                              files={"badges": ("badges.csv", bad, "text/csv")})
    assert response.status_code == 400
    assert "<dt>Row</dt><dd>3</dd>" in response.text and "<dd>badge</dd>" in response.text
    good = (SAMPLES / "badges.csv").read_bytes()
    response = signed_in.post("/badges/import", data={"csrf": signed_in.csrf(),
                                                      "reassign": "yes"},
                              files={"badges": ("badges.csv", good, "text/csv")})
    assert response.status_code == 303
    assert service.roster.badges_of("stu-02")  # the sample gives it back


def test_a_student_page_charts_reflections_exports_and_erases(hub, signed_in: Client,
                                                             caplog) -> None:
    room = hub[0]
    service = room.service
    student = "stu-07"
    name = service.view.student_names[student]
    now = time.time()
    caplog.set_level(logging.INFO)
    for k, (conf, goal) in enumerate(((1, 1), (2, 2), (4, 3))):
        room.check_in("s2", student, now - 86400 * (3 - k), confidence=conf, goal=goal)
    assert wait_until(lambda: len(service.store.checkins_between(0, 2e9, student)) == 3)
    handle = handle_of(signed_in, name.split()[0])
    page = signed_in.get(f"/students/{handle}").text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and "<polyline" in page
    assert "3 check-ins from" in page and "Got it" in page and "Almost" in page
    export = signed_in.get(f"/students/{handle}/export")
    assert export.headers["content-disposition"].startswith("attachment")
    data = export.json()
    assert data["student"]["id"] == student and len(data["checkins"]) == 3
    refused = signed_in.change(f"/students/{handle}/erase")
    assert refused.status_code == 400
    assert service.roster.student(student) is not None
    done = signed_in.change(f"/students/{handle}/erase", {"confirm": "yes"})
    assert done.status_code == 303
    assert service.roster.student(student) is None
    assert not service.store.checkins_between(0, 2e9, student)
    assert student not in service.view.student_names
    # The journal outlives the erasure: neither the check-ins nor the erasure named them.
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "check-in" in logged and "erased a student" in logged
    assert student not in logged and name not in logged
    assert all(student not in m for m in service.view.rotation.members.values())
    assert "Erased: 3 check-ins" in signed_in.get("/roster").text
    assert signed_in.get(f"/students/{handle}").status_code == 404


def test_erasing_says_what_reaches_the_district_and_the_lrs(tmp_path: Path) -> None:
    """A hub with a district (unreachable here: the erasure waits in its outbox) and an LRS
    (a file): the confirmation says both are reached, the result what was queued for each."""
    tables = {"district": {"host": "127.0.0.1", "port": 9, "username": "demo-room",
                           "password": "not-a-real-secret"},
              "xapi": {"homepage": "https://school.example", "file": "statements.jsonl"}}
    with serving(tmp_path, tables=tables) as (room, console, loop):
        client = Client(loop, console)
        assert client.sign_in().status_code == 303
        service = room.service
        student = "stu-03"
        room.check_in("s1", student, time.time() - 30)
        statements = tmp_path / "statements.jsonl"
        assert wait_until(lambda: statements.exists() and len(
            statements.read_text().splitlines()) == 3, 20)  # attended, responded, selected
        handle = handle_of(client, service.view.student_names[student].split()[0])
        page = client.get(f"/students/{handle}/erase").text
        assert "copy of their check-ins is deleted too" in page
        assert "learning record store are withdrawn" in page
        done = client.change(f"/students/{handle}/erase", {"confirm": "yes"})
        assert done.status_code == 303
        said = client.get("/roster").text
        assert "Erased: 1 check-ins" in said
        assert "The district is asked to delete its copies" in said
        assert "3 statements in the learning record store are withdrawn" in said
        kinds = [r[0] for r in service.store.db.execute(
            "SELECT json_extract(payload, '$.kind') FROM district_outbox")]
        assert kinds == ["district_erasure"]


def test_start_a_classes_lesson_with_one_of_its_plans(hub, signed_in: Client) -> None:
    from hub.lessons import ClassPlan

    service = hub[0].service
    if service.view.rotation.phase.value in ("running", "paused"):
        signed_in.change("/lesson/action", {"action": "end", "confirm": "yes"})
    for plan in (ClassPlan("three", "Three tables", ("s1", "s2", "s3"), 10),
                 ClassPlan("short", "Short blocks", ("s2", "s1", "s4", "s3"), 8)):
        service.call(lambda now, plan=plan: service.book.save_plan("demo-4a", plan)).result(10)
    service.call(lambda now: setattr(service, "_choices_at", -1e9)).result(10)
    page = signed_in.get("/lesson").text
    assert '<optgroup label="Grade 4A · Maths">' in page
    assert '<option value="demo-4a|short">' in page and "4 stations · 8 min blocks" in page
    signed_in.change("/lesson/start", {"lesson": "demo-4a|three"})  # four groups, 3 tables
    assert ("4 groups but the plan has 3 stations: every group needs a station in every "
            "block; choose another plan" in signed_in.get("/lesson").text)
    assert service.view.rotation.phase.value != "running"
    signed_in.change("/lesson/start", {"lesson": "demo-4a|short"})
    view = service.view
    assert view.rotation.phase.value == "running" and view.plan_id == "short"
    assert view.rotation.blocks == 4 and view.rotation.remaining_s == 9 * 60
    assert "Plan: Short blocks." in signed_in.get("/lesson").text
    assert signed_in.change("/lesson/start", {"lesson": "nope|room"}).status_code == 400
    signed_in.change("/lesson/start", {"lesson": "demo-4a|room"})  # a lesson is on
    assert "a lesson is on: end it first" in signed_in.get("/lesson").text
    signed_in.change("/lesson/action", {"action": "end", "confirm": "yes"})
    signed_in.change("/lesson/start", {"lesson": "demo-4a|room"})
    assert service.view.plan_id == "room" and service.view.rotation.blocks == 4


# --- class setup: constraints, timetable, plans ------------------------------------------------

def setup_handles(page: str) -> dict[str, str]:
    """The students of the setup page's keep-apart list: name -> this session's handle."""
    found = re.findall(r'<input type="checkbox" id="apart-\d+" name="student" value="([0-9a-f]+)">'
                       r'<label for="apart-\d+">([^<]+)</label>', page)
    assert found, "no students on the setup page"
    return {name: handle for handle, name in found}


def problem_of(response: Any) -> str:
    match = re.search(r'<div class="note error" role="alert" id="setup-problem">(.*?)</div>',
                      response.text, re.S)
    assert match, "no problem shown"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).replace("&#39;", "'")


@pytest.fixture
def setup_class(hub, signed_in: Client) -> Iterator[tuple[Any, dict[str, str], dict[str, str]]]:
    """The demo class's setup page: (the service, name -> handle, name -> student id); its
    constraints, plans and timetable as they were afterwards."""
    service = hub[0].service
    page = signed_in.get("/setup?class=demo-4a")
    assert page.status_code == 200
    handles = setup_handles(page.text)
    ids = {s.display_name: s.id for s in service.roster.students("demo-4a")}
    assert set(handles) == set(ids)
    try:
        yield service, handles, ids
    finally:
        def reset(now: float) -> None:
            service.book.save_constraints("demo-4a", {})
            for slot in service.book.timetable():
                service.book.remove_slot(slot.weekday, slot.start)
            for plan in service.book.plans("demo-4a")[1:]:
                service.book.remove_plan("demo-4a", plan.id)
        service.call(reset).result(10)


def test_the_setup_page_is_in_the_navigation_and_linked_from_groups(signed_in: Client) -> None:
    assert '<a href="/setup">Class setup</a>' in signed_in.get("/lesson").text
    groups = signed_in.get("/groups").text
    assert '<a href="/setup?class=demo-4a">Class setup:' in groups
    page = signed_in.get("/setup").text  # the current lesson's class by default
    assert "<h1>Class setup: Grade 4A · Maths</h1>" in page
    assert '<option value="demo-4a" selected>' in page and "No constraints yet." in page
    spanish = signed_in.get("/setup", headers={"accept-language": "es"}).text
    assert "<h1>Configuración de la clase: " in spanish and "Separarlos" in spanish


def test_constraints_added_listed_by_name_and_removed_through_the_hub(
        setup_class, signed_in: Client) -> None:
    service, handles, ids = setup_class
    book = service.book
    a, b, c, d = sorted(handles)[:4]
    form = {"class": "demo-4a"}
    assert signed_in.change("/setup/apart", {**form, "student": [handles[a], handles[b],
                                                                  handles[c]]}
                            ).status_code == 303
    assert book.constraints("demo-4a") == {"keep_apart": [[ids[a], ids[b]], [ids[a], ids[c]],
                                                          [ids[b], ids[c]]]}
    page = signed_in.get("/setup?class=demo-4a").text
    assert "Constraint added." in page and f"Keep {a} and {b} apart" in page
    signed_in.change("/setup/together", {**form, "student": [handles[a], handles[d]]})
    signed_in.change("/setup/pin", {**form, "student": handles[d], "group": "2"})
    signed_in.change("/setup/not-in", {**form, "student": handles[b], "group": "1"})
    signed_in.change("/setup/sizes", {**form, "groups": "", "min_size": "3", "max_size": "5"})
    data = book.constraints("demo-4a")
    assert data["keep_together"] == [[ids[a], ids[d]]] and data["pinned"] == {ids[d]: 2}
    assert data["not_in"] == {ids[b]: [1]} and (data["min_size"], data["max_size"]) == (3, 5)
    assert "groups" not in data
    page = signed_in.get("/setup?class=demo-4a").text
    assert "Group sizes saved." in page
    assert f"Keep {a} and {d} together" in page and f"{d} always in Group 2 (now " in page
    assert f"{b} never in Group 1 (now " in page and "Groups of at most 5 students" in page
    assert "stu-" not in page  # names and handles only
    # Remove one: the form names the rule by kind, handles and number.
    remove = re.search(r'<form method="post" action="/setup/remove".*?</form>', page.split(
        f"Keep {a} and {c} apart", 1)[1], re.S).group(0)
    fields = dict(re.findall(r'name="(kind|number)" value="([^"]*)"', remove))
    students = re.findall(r'name="student" value="([^"]*)"', remove)
    assert fields == {"kind": "keep_apart", "number": "0"}
    assert students == [handles[a], handles[c]]
    assert signed_in.change("/setup/remove", {**form, **fields, "student": students}
                            ).status_code == 303
    assert [ids[a], ids[c]] not in book.constraints("demo-4a")["keep_apart"]
    signed_in.change("/setup/remove", {**form, "kind": "max_size", "number": "5"})
    assert "max_size" not in book.constraints("demo-4a")
    assert "Constraint removed." in signed_in.get("/setup?class=demo-4a").text


def test_a_bad_constraint_is_refused_with_its_reason_and_changes_nothing(
        setup_class, signed_in: Client) -> None:
    service, handles, ids = setup_class
    a, b, c = sorted(handles)[:3]
    form = {"class": "demo-4a"}
    signed_in.change("/setup/together", {**form, "student": [handles[a], handles[b]]})
    before = service.book.constraints("demo-4a")
    assert before == {"keep_together": [[ids[a], ids[b]]]}
    refusals = [
        ("/setup/apart", {"student": [handles[a]]}, "choose at least 2 different students"),
        ("/setup/apart", {"student": [handles[a], handles[b]]},
         f"{a} and {b} must be kept apart but must also be together"),
        ("/setup/pin", {"student": handles[c], "group": "9"},
         "group 9 does not exist: there are 4 groups"),
        ("/setup/pin", {"student": [handles[c], handles[a]], "group": "1"},
         "Choose one student."),
        ("/setup/sizes", {"min_size": "6", "max_size": "3"}, "6 is larger than max_size 3"),
        ("/setup/sizes", {"max_size": "many"}, "Give a whole number"),
        ("/setup/apart", {"student": [handles[a], "0" * 16]}, "not in this class"),
        ("/setup/remove", {"kind": "pinned", "number": "1", "student": handles[c]},
         "no such constraint"),
    ]
    for path, data, reason in refusals:
        response = signed_in.change(path, {**form, **data})
        assert response.status_code == 400, (path, data)
        problem = problem_of(response)
        assert "Nothing was changed." in problem and reason in problem, problem
        assert service.book.constraints("demo-4a") == before
    for data, reason in (({"student": [handles[a]]},
                          "separar: elija al menos 2 estudiantes distintos"),
                         ({"student": [handles[a], handles[b]]},
                          f"{a} y {b} deben estar separados, pero también juntos")):
        response = signed_in.change("/setup/apart", {**form, **data}, headers=SPANISH)
        assert reason in problem_of(response)  # the hub's reason, in the page's language
    assert signed_in.change("/setup/remove", {**form, "kind": "shoe_size"}).status_code == 400
    assert signed_in.change("/setup/apart", {"class": "nope"}).status_code == 400
    assert signed_in.change("/setup/explode", form).status_code == 404
    assert service.book.constraints("demo-4a") == before


def test_the_timetable_added_listed_and_removed_through_the_hub(setup_class,
                                                                signed_in: Client) -> None:
    service = setup_class[0]
    form = {"class": "demo-4a"}
    assert signed_in.change("/setup/slot-add", {**form, "day": "tue", "start": "08:30",
                                                "end": "09:20", "plan": "room"}
                            ).status_code == 303
    assert [(s.weekday, s.start, s.end, s.class_id, s.plan_id)
            for s in service.book.timetable()] == [(1, "08:30", "09:20", "demo-4a", "room")]
    page = signed_in.get("/setup?class=demo-4a").text
    assert "Added to the timetable." in page
    assert "<span>Tuesday 08:30–09:20 · Grade 4A · Maths · The room&#39;s plan</span>" in page
    before = service.book.timetable()
    for data, reason in (({"day": "tue", "start": "09:00", "end": "09:40"},
                          "tue 09:00-09:40 overlaps tue 08:30-09:20 (demo-4a)"),
                         ({"day": "wed", "start": "10:00", "end": "09:00"},
                          "the end must come after the start"),
                         ({"day": "someday", "start": "10:00", "end": "11:00"},
                          "'someday' is not a weekday"),
                         ({"day": "wed", "start": "25:00", "end": "26:00"},
                          "'25:00' is not a time of day"),
                         ({"day": "wed", "start": "10:00", "end": "11:00", "plan": "nope"},
                          "class demo-4a has no plan 'nope'")):
        response = signed_in.change("/setup/slot-add", {**form, **data})
        assert response.status_code == 400, data
        assert reason in problem_of(response)
        assert service.book.timetable() == before
    missing = signed_in.change("/setup/slot-remove", {**form, "day": "fri", "start": "08:30"})
    assert missing.status_code == 400 and "nothing removed" in problem_of(missing)
    assert signed_in.change("/setup/slot-remove", {**form, "day": "tue", "start": "08:30"}
                            ).status_code == 303
    assert service.book.timetable() == []
    assert "Nothing on the timetable yet." in signed_in.get("/setup?class=demo-4a").text


def test_plans_added_changed_and_removed_through_the_hub(setup_class,
                                                         signed_in: Client) -> None:
    service = setup_class[0]
    form = {"class": "demo-4a"}
    assert signed_in.change("/setup/plan-save", {
        **form, "id": "short", "name": "Short blocks", "stations": ["s1", "s2", "s3"],
        "block_minutes": "8", "model": ""}).status_code == 303
    plan = service.book.plan("demo-4a", "short")
    assert (plan.name, plan.stations, plan.block_minutes, plan.model) == (
        "Short blocks", ("s1", "s2", "s3"), 8.0, "")
    page = signed_in.get("/setup?class=demo-4a").text
    assert "Plan saved." in page and "<strong>Short blocks</strong> · 3 stations · 8 min" in page
    assert any(p[0] == "short" for c in service.view.lesson_choices
               if c.class_id == "demo-4a" for p in c.plans)  # a lesson may start with it
    signed_in.change("/setup/plan-save", {**form, "id": "short", "name": "Short flex",
                                          "block_minutes": "10", "model": "flex"})
    plan = service.book.plan("demo-4a", "short")
    assert (plan.name, plan.stations, plan.block_minutes, plan.model) == (
        "Short flex", (), 10.0, "flex")
    for data, reason in (({"id": "bad", "name": "Bad", "stations": ["s1", "s9"]},
                          "no station 's9' in this room"),
                         ({"id": "long", "name": "Long", "block_minutes": "300"},
                          "block minutes must be 1 to 240"),
                         ({"id": "odd", "name": "Odd", "block_minutes": "ten"},
                          "Give the minutes as a number"),
                         ({"id": "Big Plan", "name": "Big"}, "use 1-32 lower-case"),
                         ({"id": "room", "name": "Mine"}, "is the room's own plan")):
        response = signed_in.change("/setup/plan-save", {**form, **data})
        assert response.status_code == 400, data
        assert reason in problem_of(response)
        assert [p.id for p in service.book.plans("demo-4a")] == ["room", "short"]
    assert signed_in.change("/setup/plan-remove", {**form, "id": "short"}).status_code == 303
    assert [p.id for p in service.book.plans("demo-4a")] == ["room"]
    assert signed_in.change("/setup/plan-remove", {**form, "id": "short"}).status_code == 400


# --- groups, scores, exports, settings ------------------------------------------------------------

def test_suggested_groups_adjusted_and_approved_as_on_the_display(hub, signed_in: Client) -> None:
    service = hub[0].service
    assert "No groups are waiting" in signed_in.get("/groups").text
    members = sorted(service.view.student_names)
    service.suggest_groups([("Comets", members[:6]), ("Rockets", members[6:11]),
                            ("Stars", members[11:])])
    assert wait_until(lambda: service.view.suggested_groups is not None)
    page = signed_in.get("/groups").text
    handle = re.search(r'name="student" value="([0-9a-f]+)"', page).group(1)
    moved = members[0]  # the first member listed is the first of Comets
    signed_in.change("/groups/adjust", {"student": handle, "group": "Rockets"})
    suggested = dict(service.view.suggested_groups)
    assert moved in suggested["Rockets"] and moved not in suggested["Comets"]
    assert "Adjusted by you" in signed_in.get("/groups").text
    signed_in.change("/groups/approve")
    assert service.view.suggested_groups is None
    assert sorted(service.view.group_names.values()) == ["Comets", "Rockets", "Stars"]
    assert "approved" in signed_in.get("/groups").text
    assert signed_in.change("/groups/nonsense").status_code == 404


def test_groups_that_cannot_run_are_refused_and_change_nothing(hub, signed_in: Client) -> None:
    """Approved at run time, groups pass the checks the config's pass at load: a group larger
    than a station holds is refused with the reason, and the lesson keeps its groups."""
    service = hub[0].service
    before = dict(service.view.rotation.members)
    members = sorted(service.view.student_names)
    service.suggest_groups([("Comets", members[:8]), ("Rockets", members[8:])])
    assert wait_until(lambda: service.view.suggested_groups is not None)
    signed_in.change("/groups/approve")
    page = signed_in.get("/groups").text
    assert "has 8 students but Teacher table holds 6" in page
    assert service.view.rotation.members == before
    assert service.view.suggested_groups is not None  # still there to adjust
    signed_in.change("/groups/reject")
    assert service.view.suggested_groups is None


def test_a_bad_scores_upload_names_file_row_and_column_and_stores_nothing(
        hub, signed_in: Client) -> None:
    service = hub[0].service
    page = signed_in.get("/scores").text
    assert 'name="scores"' in page and '<option value="demo-4a" selected>' in page
    bad = (b"sourcedId,given_name,date,fractions\nstu-01,Ana,2025-10-03,40\n"
           b"stu-42,Zoe,2025-10-03,50\n")
    response = signed_in.post("/scores", data={"csrf": signed_in.csrf(), "class": "demo-4a"},
                              files={"scores": ("week-6.csv", bad, "text/csv")})
    assert response.status_code == 400
    text = response.text
    assert "Nothing was imported" in text and "week-6.csv" in text
    assert "<dd>3</dd>" in text and "<dd>sourcedId</dd>" in text
    assert "no student &#39;stu-42&#39; in class demo-4a" in text
    assert "console-upload" not in text  # the hub's temporary path is not the teacher's
    assert service.store.db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 0


def test_scores_upload_then_ask_for_skill_groups_with_reasons(hub, signed_in: Client) -> None:
    service = hub[0].service
    # The sample, less the students an earlier test erased (the module shares one hub).
    here = set(service.view.student_names)
    lines = (SAMPLES / "scores.csv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[0] in here]
    scores = sum(1 for line in kept[1:] for cell in line.split(",")[5:] if cell)
    response = signed_in.post("/scores", data={"csrf": signed_in.csrf(), "class": "demo-4a"},
                              files={"scores": ("scores.csv", "\n".join(kept).encode(),
                                                "text/csv")})
    assert response.status_code == 303, re.findall(r"<dd>.*?</dd>", response.text)
    page = signed_in.get("/scores").text
    assert (f"Scores imported: {scores} scores of {len(here)} students on 3 standards."
            in page)
    assert "4.NBT.B.5 multiply multi-digit</th>" in page
    assert f"scores.csv ({scores} scores)" in page
    groups = signed_in.get("/groups").text
    assert 'value="4.NF.A.2 compare fractions"' in groups  # the scored standards to pick
    response = signed_in.change("/groups/ask", {"mode": "skill",
                                                "standards": ["4.NF.A.1 equivalent fractions"]})
    assert response.status_code == 303
    assert service.view.suggestion is not None
    page = signed_in.get("/groups").text
    assert "Skill groups on 1 standard:" in page
    assert "grouped on 4.NF.A.1 equivalent fractions" in page  # each student's reason
    assert " stay" in page  # how each group compares with the current one
    assert "stu-0" not in page  # students by name and handle only
    signed_in.change("/groups/reject")
    assert service.view.suggestion is None
    signed_in.change("/groups/ask", {"mode": "interest"})  # no activity chosen yet
    assert "No suggestion" not in signed_in.get("/lesson").text
    assert signed_in.change("/groups/ask", {"mode": "carousel"}).status_code == 400


def test_the_days_csv_per_class(hub, signed_in: Client) -> None:
    import datetime as dt
    today = dt.date.today().isoformat()
    response = signed_in.get(f"/exports/day?date={today}&class=demo-4a")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"checkins-demo-4a-{today}.csv" in response.headers["content-disposition"]
    assert response.text.splitlines()[0].startswith("date,time,class_id,student_id")
    assert signed_in.get("/exports/day?date=yesterday&class=demo-4a").status_code == 400
    assert signed_in.get(f"/exports/day?date={today}&class=nope").status_code == 400


def test_settings_change_at_run_time_persist_and_reset(hub, signed_in: Client) -> None:
    room = hub[0]
    service = room.service
    response = signed_in.change("/settings", {"retention_days": "30",
                                              "questions": ["confidence", "goal"],
                                              "history": "yes"})
    assert response.status_code == 303
    assert service.config.retention_days == 30
    # The questions are the class's (the current lesson's), the retention the room's.
    assert service.settings()["questions"] == ["confidence", "goal"]
    assert service.store.load_state("settings") == {"retention_days": 30}
    assert service.book.settings("demo-4a") == {"questions": ["confidence", "goal"],
                                                "history": True}
    assert wait_until(lambda: room.listeners["s1"].of(c.RotationState)[-1].questions
                      == ("confidence", "goal"))
    for bad in ({"retention_days": "-3", "questions": ["goal"]},
                {"retention_days": "10"},
                {"retention_days": "10", "questions": ["shoe size"]}):
        response = signed_in.change("/settings", bad)
        assert response.status_code == 400
        assert service.config.retention_days == 30
        assert service.settings()["questions"] == ["confidence", "goal"]
    assert "Use the config file" in signed_in.get("/exports").text
    signed_in.change("/settings", {"retention_days": "30", "questions": ["confidence", "goal"]})
    assert service.settings()["history"] is False  # unticked: the students see none
    signed_in.change("/settings", {"reset": "yes"})
    assert service.config.retention_days == 180
    assert service.settings()["questions"] == ["confidence"]
    assert service.settings()["history"] is True and service.book.settings("demo-4a") == {}


# --- what the hub says, in the teacher's language --------------------------------------------

def _where(page: str) -> dict[str, str]:
    """An upload problem's labels and values (File, Row, Column, Problem: in the page's
    language)."""
    box = re.search(r'<div class="note error" role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert box, "no upload problem on the page"
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", box.group(1), re.S))


@pytest.fixture
def console_in_spanish(hub) -> Iterator[Client]:
    """A console whose ``[console] language`` is Spanish, on the same hub."""
    import dataclasses

    room, _console, loop = hub
    console = Console(room.service, dataclasses.replace(room.service.config.console,
                                                        language="es"))
    lifespan = console.app.router.lifespan_context(console.app)
    asyncio.run_coroutine_threadsafe(lifespan.__aenter__(), loop).result(10)
    try:
        client = Client(loop, console)
        assert client.sign_in().status_code == 303
        yield client
    finally:
        asyncio.run_coroutine_threadsafe(lifespan.__aexit__(None, None, None), loop).result(10)


def test_a_bad_scores_upload_in_spanish_keeps_file_row_and_column(hub, signed_in: Client
                                                                   ) -> None:
    service = hub[0].service
    stored = service.store.db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    bad = (b"sourcedId,given_name,date,fractions\nstu-01,Ana,2025-10-03,40\n"
           b"stu-01,Ana,2025-10-04,abc\n")
    response = signed_in.post("/scores", data={"csrf": signed_in.csrf(), "class": "demo-4a"},
                              files={"scores": ("semana-6.csv", bad, "text/csv")},
                              headers=SPANISH)
    assert response.status_code == 400
    assert "No se importó nada." in response.text
    where = _where(response.text)
    assert where["Archivo"] == "semana-6.csv" and where["Fila"] == "3"
    assert where["Columna"] == "fractions"
    assert where["Problema"].startswith("la nota &#39;abc&#39; no es un número (la columna "
                                        "de un estándar tiene notas de 0 a 100 o de 1 a 4")
    english = signed_in.post("/scores", data={"csrf": signed_in.csrf(), "class": "demo-4a"},
                             files={"scores": ("semana-6.csv", bad, "text/csv")})
    assert _where(english.text) == {
        "File": "semana-6.csv", "Row": "3", "Column": "fractions",
        "Problem": "score &#39;abc&#39; is not a number (a standard column holds 0-100 or 1-4 "
                   "scores; if this column is a name, id or other information, give it a "
                   "header such as given_name, family_name, student_id or section)"}
    assert service.store.db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == stored


def test_a_bad_roster_zip_in_spanish_keeps_file_row_and_column(hub, signed_in: Client) -> None:
    room = hub[0]
    before = _students(room)
    bad = _zip(SAMPLES / "oneroster-1.2", ("enrollments.csv", ",student,", ",pupil,"))
    response = signed_in.post("/roster", data={"csrf": signed_in.csrf()},
                              files={"export": ("sis-export.zip", bad, "application/zip")},
                              headers=SPANISH)
    assert response.status_code == 400
    where = _where(response.text)
    assert where["Archivo"] == "enrollments.csv" and where["Columna"] == "role"
    assert where["Fila"].isdigit() and int(where["Fila"]) > 1
    assert where["Problema"].startswith("el rol &#39;pupil&#39; no está en el vocabulario "
                                        "de OneRoster (administrator, aide, proctor")
    not_a_zip = signed_in.post("/roster", data={"csrf": signed_in.csrf()},
                               files={"export": ("export.zip", b"hello", "application/zip")},
                               headers=SPANISH)
    assert _where(not_a_zip.text) == {"Archivo": "export.zip",
                                      "Problema": "no es una carpeta ni un archivo zip"}
    assert _students(room) == before


def test_a_refused_action_is_explained_in_spanish(hub, signed_in: Client) -> None:
    service = hub[0].service
    handle = re.search(r'<select id="move-student".*?<option value="([0-9a-f]+)">',
                       signed_in.get("/lesson").text, re.S).group(1)
    signed_in.change("/lesson/move", {"student": handle, "group": "g99"})
    page = signed_in.get("/lesson", headers=SPANISH).text
    assert "no existe el grupo &#39;g99&#39;" in page  # the refusal, to the teacher
    # the board's class view: the fixed line (a reason can name a group as the teacher
    # named it), in Spanish too
    assert '<p class="banner">No se hizo: la vista del docente dice por qué</p>' in page
    signed_in.change("/groups/reject")  # an earlier test's suggestion, if any
    assert service.view.suggested_groups is None
    signed_in.change("/groups/approve")
    assert "no hay grupos esperando aprobación" in signed_in.get("/groups",
                                                                 headers=SPANISH).text
    signed_in.change("/groups/approve")  # the same refusal, read in English
    assert "no groups are waiting for approval" in signed_in.get("/groups").text
    signed_in.change("/badges/revoke", {"badge": "not a badge"})
    assert ("el número de tarjeta &#39;not a badge&#39; no tiene de 4 a 32 dígitos "
            "hexadecimales") in signed_in.get("/badges", headers=SPANISH).text


def test_suggested_groups_summary_and_reasons_in_spanish(hub, signed_in: Client) -> None:
    service = hub[0].service
    assert service.view.suggestion is None
    here = sorted(service.view.student_names)  # today's scores (retention kept no others)
    csv = "sourcedId,4.NF.A.1 equivalent fractions\n" + "".join(
        f"{sid},{20 + 60 * (k % 3) // 2 + k}\n" for k, sid in enumerate(here))
    assert signed_in.post("/scores", data={"csrf": signed_in.csrf(), "class": "demo-4a"},
                          files={"scores": ("today.csv", csv.encode(), "text/csv")}
                          ).status_code == 303
    response = signed_in.change("/groups/ask", {"mode": "skill",
                                                "standards": ["4.NF.A.1 equivalent fractions"]})
    assert response.status_code == 303 and service.view.suggestion is not None
    page = signed_in.get("/groups", headers=SPANISH).text
    summary = re.search(r'<p id="suggestion-summary">(.*?)</p>', page, re.S).group(1)
    assert re.fullmatch(r"Grupos por nivel en 1 estándar: cambian \d+ de \d+ estudiantes"
                        r"(; puntuación [\d.]+, los grupos actuales [\d.]+ \(menos es "
                        r"mejor\))?", summary), summary
    reasons = re.findall(r'<p class="muted reason">(.*?)</p>', page, re.S)
    assert reasons and all(r.startswith("agrupado por 4.NF.A.1 equivalent fractions")
                           for r in reasons)
    # the engine's "group 2" becomes the teacher's name for the group, in Spanish words
    names = set(service.view.group_names.values())
    placed = [r for r in reasons if re.search(r"(sigue en|viene de|entra en) ", r)]
    assert placed and all(re.search(r"(sigue en|viene de|entra en) (.+?)(;|$| ·)", r)
                          .group(2) in names for r in placed)
    assert re.search(r"se quedan \d+", page)  # how each group compares with the current
    for english in ("grouped on", "stayed in", "Skill groups", " stay"):
        assert english not in page
    assert "grouped on 4.NF.A.1" in signed_in.get("/groups").text  # English unchanged
    signed_in.change("/groups/reject")
    # constraints that clash: the engine's reason, in Spanish, with the students' names
    a, b = here[:2]
    clash = {"keep_apart": [[a, b]], "keep_together": [[a, b]]}
    service.call(lambda _now: service.book.save_constraints("demo-4a", clash)).result(10)
    try:
        signed_in.change("/groups/ask", {"mode": "skill"})
        page = signed_in.get("/groups", headers=SPANISH).text
        names = service.view.student_names
        assert f"{names[a]} y {names[b]} deben estar separados, pero también juntos" in page
        assert service.view.suggestion is None
    finally:
        service.call(lambda _now: service.book.save_constraints("demo-4a", {})).result(10)


def test_the_consoles_own_language_setting_reads_the_hub_in_spanish(
        console_in_spanish: Client) -> None:
    """No Accept-Language: ``[console] language = "es"`` decides, for the hub's text too."""
    console_in_spanish.change("/groups/approve")
    page = console_in_spanish.get("/groups").text
    assert '<html lang="es">' in page and "no hay grupos esperando aprobación" in page


def test_spanish_when_the_browser_asks_for_it(signed_in: Client) -> None:
    page = signed_in.get("/lesson", headers={"accept-language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page.text and "Mover a un estudiante" in page.text
    english = signed_in.get("/lesson", headers={"accept-language": "fr"})
    assert '<html lang="en">' in english.text


def test_the_event_stream_refuses_an_ended_session(hub, signed_in: Client) -> None:
    signed_in.change("/logout")
    assert signed_in.get("/lesson/events").status_code == 401


def test_static_assets_are_served_by_the_hub(client: Client) -> None:
    css = client.get("/static/console.css")
    assert css.status_code == 200 and "Atkinson Hyperlegible" in css.text
    font = client.get("/static/fonts/AtkinsonHyperlegible-Bold.ttf")
    assert font.status_code == 200 and len(font.content) > 10_000
    assert client.get("/static/console.js").status_code == 200
