"""The teacher console: a small server-rendered ASGI app (Starlette, Jinja) over the hub
service's actions, the Datasette way. It holds no logic of its own about lessons, rosters
or badges: every change goes through :class:`~hub.service.HubService` (the one writer of
the hub's database), and pages read the service's view or a read-only connection.

Routes (every one but ``/login`` and ``/static`` needs a session: pages redirect to the
login page, the event stream and every POST answer 401; every POST needs the session's
CSRF token, else 403):

======================================  ================================================
``GET /login``, ``POST /login``         sign in (rate-limited, with lockout)
``POST /logout``                        sign out
``GET /lesson``                         the lesson: class view, or the teacher view
``GET /lesson/events``                  the lesson as server-sent events (board + clock)
``POST /lesson/action``                 start, pause, resume, extend, skip, end
``POST /lesson/move``, ``/lesson/absent``  move a student, mark absent or present
``POST /lesson/view``                   the teacher view on this device, or the class view
``POST /lesson/display``                open the teacher view on the hub's display
``POST /lesson/start``                  start a class's lesson with one of its plans
``GET /roster``, ``POST /roster``       students, and a OneRoster upload
``GET /scores``, ``POST /scores``       a class's scores CSV, and the scores that count
``GET /groups``, ``POST /groups/*``     suggested groups: ask, adjust, approve, reject
``GET /setup``, ``POST /setup/*``       a class's constraints, timetable and plans
``GET /students/{handle}``              a student: chart, check-ins, badges
``GET /students/{handle}/export``       everything held about them, as JSON
``GET|POST /students/{handle}/erase``   erase them, after a confirmation
``GET /badges``, ``POST /badges/*``     enrollment, assign, revoke, reassign, CSV import
``GET /exports``, ``GET /exports/day``  the day's CSV per class
``POST /settings``                      retention days, reflection questions
======================================  ================================================

A student is named in a URL or a form only by a per-session handle (:mod:`.security`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import secrets
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hub import classsetup
from hub.actions import TeacherAction
from hub.config import QUESTIONS, ConsoleConfig
from hub.console.accounts import AccountBook, verify_password
from hub.console.chart import reflection_chart
from hub.console.i18n import N_, environment, pick_language, translations
from hub.console.lesson import STATUS_MARK, Lesson, lesson, lesson_choice
from hub.console.security import LoginThrottle, Session, Sessions
from hub.controls import needs_choice
from hub.export import export_day, export_student
from hub.lessons import (
    ROOM_PLAN,
    WEEKDAYS,
    ClassPlan,
    LessonBook,
    describe_plan,
    without_student,
)
from hub.roster import Roster
from hub.scores import latest_scores
from hub.store import ROTATION_KEY, SETTINGS_KEY, HubStore
from hub.view import HubView
from stations.text import Text, text_of

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
FONTS = Path(__file__).resolve().parents[2] / "stations" / "ui" / "fonts"
SESSION_COOKIE = "__Host-stations-session"
LOGIN_COOKIE = "__Host-stations-login"
CSRF_HEADER = "x-csrf-token"
#: The largest upload (a district's OneRoster zip is a few MB).
MAX_UPLOAD = 20 * 1024 * 1024
#: How long the console waits for the hub to take an action.
ACTION_TIMEOUT_S = 15.0
#: The event stream says something at least this often, so proxies and phones keep it.
KEEPALIVE_S = 15.0
EXTEND_MINUTES = 5.0
LESSON_ACTIONS = ("start", "pause", "resume", "extend", "skip", "end")
#: Where a signed-in teacher may be sent back to after signing in.
PAGES = ("/lesson", "/roster", "/scores", "/groups", "/badges", "/exports", "/setup")
#: A hash of a password nobody knows: an unknown name costs as much time as a known one.
NOBODY = ("$scrypt$ln=17,r=8,p=1$2Vq0b9ZnM1D4u3bO7YqN1w$"
          "Hh9C4kqf5m7rS6uM5YxJtq0mVb1wz2i7yQ3bKcTn8Ac")
#: The answers' words as a teacher reads them (the kiosk shows faces and pictures).
ANSWER_WORDS = {
    "confidence": (N_("Not yet"), N_("A little"), N_("Mostly"), N_("Got it")),
    "goal": (N_("Not started"), N_("Started"), N_("Almost"), N_("Done")),
    "mood": (N_("Sad"), N_("Tired"), N_("OK"), N_("Happy")),
}
WEEKDAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
                 N_("Saturday"), N_("Sunday"))
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                               "object-src 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "strict-transport-security": "max-age=31536000",
}


@dataclass
class Flash:
    kind: str  # "ok" or "error"
    text: str


@dataclass
class _Guard:
    session: Session
    token: str
    form: FormData | None = None


class Unauthorized(Exception):
    pass


class Console:
    """The console's state (sessions, throttle, accounts) and its Starlette app."""

    def __init__(self, service: Any, config: ConsoleConfig, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.service = service
        self.config = config
        self.clock = clock
        self.accounts = AccountBook(config.accounts)
        if self.accounts.problem:
            log.error("console accounts: %s", self.accounts.problem)
        self.sessions = Sessions(config.session_idle_s, config.session_max_s)
        self.throttle = LoginThrottle()
        self._waiters: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kdf: asyncio.Semaphore | None = None
        self._db: sqlite3.Connection | None = None
        self.closing = False
        self.app = Starlette(routes=self._routes(), lifespan=self._lifespan)
        self.app.add_exception_handler(Unauthorized, self._unauthorized)  # type: ignore[arg-type]
        self.app.add_exception_handler(HTTPException, self._http_error)  # type: ignore[arg-type]

    # --- wiring ---------------------------------------------------------------------------------

    def _routes(self) -> list[Route | Mount]:
        r = Route
        return [
            r("/", self.home), r("/login", self.login_page, methods=["GET"]),
            r("/login", self.login, methods=["POST"]), r("/logout", self.logout,
                                                         methods=["POST"]),
            r("/lesson", self.lesson_page), r("/lesson/events", self.lesson_events),
            r("/lesson/action", self.lesson_action, methods=["POST"]),
            r("/lesson/move", self.lesson_move, methods=["POST"]),
            r("/lesson/absent", self.lesson_absent, methods=["POST"]),
            r("/lesson/view", self.lesson_view, methods=["POST"]),
            r("/lesson/display", self.lesson_display, methods=["POST"]),
            r("/lesson/start", self.lesson_start, methods=["POST"]),
            r("/roster", self.roster_page), r("/roster", self.roster_upload, methods=["POST"]),
            r("/scores", self.scores_page), r("/scores", self.scores_upload, methods=["POST"]),
            r("/groups", self.groups_page),
            r("/groups/{what:str}", self.groups_action, methods=["POST"]),
            r("/setup", self.setup_page),
            r("/setup/{what:str}", self.setup_action, methods=["POST"]),
            r("/students/{handle:str}", self.student_page),
            r("/students/{handle:str}/export", self.student_export),
            r("/students/{handle:str}/erase", self.student_erase_page),
            r("/students/{handle:str}/erase", self.student_erase, methods=["POST"]),
            r("/badges", self.badges_page),
            r("/badges/{what:str}", self.badges_action, methods=["POST"]),
            r("/exports", self.exports_page), r("/exports/day", self.exports_day),
            r("/settings", self.settings, methods=["POST"]),
            Mount("/static/fonts", StaticFiles(directory=FONTS), name="fonts"),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        self._kdf = asyncio.Semaphore(1)  # one 128 MiB scrypt at a time
        self.service.add_view_listener(self.view_changed)
        try:
            yield
        finally:
            self.closing = True
            self._wake()
            self.service.remove_view_listener(self.view_changed)
            if self._db is not None:
                self._db.close()
                self._db = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """The ASGI app, with the security headers on every response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                present = {k.lower() for k, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                            if k.encode() not in present]
                if b"cache-control" not in present:
                    # Pages hold children's data: never kept by the browser or a proxy. The
                    # stylesheet, script and font hold none: kept for a day.
                    static = scope["path"].startswith("/static/")
                    headers.append((b"cache-control",
                                    b"max-age=86400" if static else b"no-store"))
                message = {**message, "headers": headers}
            await send(message)
        started = time.monotonic()
        await self.app(scope, receive, send_with_headers)
        if scope["path"] != "/lesson/events":
            # The route's shape, never its handle or query: no student data in logs.
            log.debug("console %s %s %.0f ms", scope["method"], _route_name(scope["path"]),
                      (time.monotonic() - started) * 1000)

    def view_changed(self, _view: HubView | None = None) -> None:
        """On the hub's ingest thread: wake the event streams on the console's loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        for event in self._waiters:
            event.set()

    def reader(self) -> tuple[HubStore, Roster]:
        """Read-only access to the hub's database (WAL: never in the writer's way)."""
        if self._db is None:
            path = Path(self.service.config.database).resolve()
            self._db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True,
                                       check_same_thread=False)
            self._db.execute("PRAGMA query_only = ON")
        return HubStore(self._db), Roster(self._db, create=False)

    # --- sessions, CSRF ---------------------------------------------------------------------------

    def _session(self, request: Request) -> tuple[str, Session] | None:
        token = request.cookies.get(SESSION_COOKIE)
        session = self.sessions.get(token, self.clock())
        if session is None or token is None:
            return None
        if self.accounts.get(session.account) is None:  # the account was removed
            self.sessions.end_account(session.account)
            return None
        return token, session

    async def _guard(self, request: Request, *, change: bool = False,
                     api: bool = False, upload: bool = False) -> _Guard:
        """The signed-in session, or Unauthorized (a page redirects, the rest answers 401);
        for a change, its CSRF token and a same-origin request, else 403."""
        found = self._session(request)
        if found is None:
            raise Unauthorized(not (api or change))
        token, session = found
        guard = _Guard(session, token)
        if change:
            self._same_origin(request)
            if upload:
                length = int(request.headers.get("content-length") or 0)
                if length > MAX_UPLOAD:
                    raise HTTPException(413, "the file is too large")
            guard.form = await request.form(max_files=1, max_fields=50)
            sent = request.headers.get(CSRF_HEADER) or guard.form.get("csrf")
            if not session.csrf_ok(sent if isinstance(sent, str) else None):
                log.warning("console: a change without its CSRF token refused (%s)",
                            _route_name(request.url.path))
                raise HTTPException(403, "missing or wrong CSRF token: reload the page")
        return guard

    @staticmethod
    def _same_origin(request: Request) -> None:
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin and origin != "null" and urlsplit(origin).netloc != host:
            raise HTTPException(403, "a change from another site is refused")
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise HTTPException(403, "a change from another site is refused")

    async def _unauthorized(self, request: Request, exc: Unauthorized) -> Response:
        page = bool(exc.args and exc.args[0])
        if page:
            target = "/login"
            if request.url.path in PAGES:
                target += f"?next={request.url.path}"
            return RedirectResponse(target, 303)
        return PlainTextResponse("sign in first", 401)

    async def _http_error(self, request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(str(exc.detail), exc.status_code)

    @staticmethod
    def _say(session: Session, kind: str, text: str) -> None:
        """A note for the next page this session sees ("ok" or "error")."""
        session.notes.append((kind, text))

    # --- rendering --------------------------------------------------------------------------------

    def _language(self, request: Request) -> str:
        return pick_language(request.headers.get("accept-language", ""), self.config.language)

    def _gettext(self, request: Request) -> Callable[[str], str]:
        return translations(self._language(request)).gettext

    def render(self, request: Request, template: str, guard: _Guard | None = None,
               status: int = 200, **context: Any) -> HTMLResponse:
        language = self._language(request)
        flashes: list[Flash] = []
        if guard is not None:
            flashes = [Flash(kind, text) for kind, text in guard.session.notes]
            guard.session.notes.clear()
        page = environment(language).get_template(template).render(
            request_path=request.url.path, session=guard.session if guard else None,
            csrf=guard.session.csrf if guard else "", flashes=flashes,
            account=guard.session.account if guard else "", marks=STATUS_MARK, **context)
        return HTMLResponse(page, status)

    async def _wait(self, future: Future[Any]) -> Any:
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), ACTION_TIMEOUT_S)
        except TimeoutError:
            raise HTTPException(503, "the hub did not answer in time: try again") from None

    def _after_change(self, request: Request, target: str) -> Response:
        """A fetch() (it sent the CSRF header) gets 204; a plain form, the page again."""
        if request.headers.get(CSRF_HEADER):
            return Response(status_code=204)
        return RedirectResponse(target, 303)

    def _student_ids(self) -> list[str]:
        _store, roster = self.reader()
        return [r[0] for r in roster.db.execute("SELECT id FROM students")]

    def _student(self, guard: _Guard, handle: str, *, active_only: bool = False) -> str:
        ids = (list(self.service.view.student_names) if active_only
               else self._student_ids())
        sid = guard.session.resolve(handle, ids)
        if sid is None:
            raise HTTPException(404, "no such student (the link is from another session, or "
                                     "the student was erased)")
        return sid

    # --- sign in and out --------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        await self._guard(request)
        return RedirectResponse("/lesson", 303)

    async def login_page(self, request: Request, *, error: str = "", status: int = 200,
                         name: str = "") -> Response:
        if self._session(request) is not None and not error:
            return RedirectResponse("/lesson", 303)
        nonce = secrets.token_urlsafe(24)
        nxt = request.query_params.get("next", "")
        response = self.render(request, "login.html", status=status, error=error,
                               login_csrf=nonce, next=nxt if nxt in PAGES else "", name=name,
                               no_accounts=not self.accounts.names())
        response.set_cookie(LOGIN_COOKIE, nonce, max_age=1800, path="/", secure=True,
                            httponly=True, samesite="strict")
        return response

    async def login(self, request: Request) -> Response:
        _ = self._gettext(request)
        self._same_origin(request)
        form = await request.form(max_files=0, max_fields=10)
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        sent = str(form.get("login_csrf", ""))
        if not nonce or not secrets.compare_digest(nonce.encode(), sent.encode()):
            raise HTTPException(403, "the sign-in form has expired: reload the page")
        name = str(form.get("name", "")).strip().lower()[:64]
        password = str(form.get("password", ""))
        address = request.client.host if request.client else "?"
        now = self.clock()
        until = self.throttle.refused_until(name, address, now)
        if until:
            log.warning("console: sign-in refused while locked (%s, from %s)",
                        self._who(name), address)
            return await self.login_page(request, error=self._locked(_, until - now),
                                         status=429, name=name)
        account = self.accounts.get(name)
        assert self._kdf is not None
        async with self._kdf:
            right = await asyncio.get_running_loop().run_in_executor(
                None, verify_password, password, account.password_hash if account else NOBODY)
        if not right or account is None:
            until = self.throttle.failed(name, address, now)
            log.warning("console: wrong password (%s, from %s)%s", self._who(name), address,
                        "; now locked for %.0f s" % (until - now) if until else "")
            error = _("Wrong name or password.")
            if until:
                error += " " + self._locked(_, until - now)
            return await self.login_page(request, error=error, status=401, name=name)
        self.throttle.succeeded(name)
        token, _session = self.sessions.create(name, now)
        log.info("console: %s signed in from %s", name, address)
        nxt = str(form.get("next", ""))
        response = RedirectResponse(nxt if nxt in PAGES else "/lesson", 303)
        response.set_cookie(SESSION_COOKIE, token, max_age=int(self.config.session_max_s),
                            path="/", secure=True, httponly=True, samesite="strict")
        response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True,
                               samesite="strict")
        return response

    def _who(self, name: str) -> str:
        # A name typed by mistake may be someone's password: only known names are logged.
        return f"account {name}" if self.accounts.get(name) else "an unknown name"

    @staticmethod
    def _locked(_: Callable[[str], str], seconds: float) -> str:
        minutes = max(1, round(seconds / 60))
        return _("Too many wrong passwords: try again in %(minutes)d minute(s).") % {
            "minutes": minutes}

    async def logout(self, request: Request) -> Response:
        guard = await self._guard(request, change=True)
        self.sessions.end(guard.token)
        if guard.session.unlocked_display_until > self.clock():
            self.service.lock_teacher_view()
        log.info("console: %s signed out", guard.session.account)
        response = RedirectResponse("/login", 303)
        response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                               samesite="strict")
        return response

    # --- the lesson ---------------------------------------------------------------------------

    def _lesson(self, session: Session) -> Lesson:
        return lesson(self.service.view, teacher=session.teacher_view, now=self.clock(),
                      handle=session.handle)

    async def lesson_page(self, request: Request) -> Response:
        guard = await self._guard(request)
        view = self.service.view
        now_lesson = self._lesson(guard.session)
        names = sorted(view.student_names.items(), key=lambda kv: kv[1])
        groups = [(g, view.group_names[g] if guard.session.teacher_view
                   else view.public_group_names.get(g, g)) for g in view.group_names]
        _ = self._gettext(request)
        words = json.dumps({"idle": _("Not started"), "paused": _("Paused"),
                            "ended": _("Lesson over"), "moving": _("Move now"),
                            "left": _("left"), "block": _("Block %(block)d of %(blocks)d")})
        chosen = lesson_choice(view)
        choices = [(c.title + (" · " + _("now") if c.proposed else ""),
                    [(f"{c.class_id}|{pid}", f"{name} · {about}", (c.class_id, pid) == chosen)
                     for pid, name, about in c.plans])
                   for c in view.lesson_choices] if needs_choice(view) else []
        return self.render(request, "lesson.html", guard, lesson=now_lesson, words=words,
                           choices=choices, plan_name=view.plan_name,
                           board=self._board(request, now_lesson),
                           clock=json.dumps(now_lesson.clock.as_dict()),
                           students=[(guard.session.handle(sid), name) for sid, name in names],
                           groups=groups, extend=EXTEND_MINUTES,
                           absent={guard.session.handle(s) for s in view.rotation.absent},
                           teacher_timeout=round(self.service.config.teacher_timeout_s / 60),
                           display_unlocked=view.access.unlocked(self.clock()))

    def _board(self, request: Request, now_lesson: Lesson) -> str:
        return environment(self._language(request)).get_template("_board.html").render(
            lesson=now_lesson, marks=STATUS_MARK)

    async def lesson_events(self, request: Request) -> Response:
        guard = await self._guard(request, api=True)
        token = guard.token

        async def stream() -> AsyncIterator[str]:
            event = asyncio.Event()
            self._waiters.add(event)
            last: tuple[str, Any] | None = None
            sent = time.monotonic()
            try:
                yield "retry: 1000\n\n"
                while not self.closing:
                    session = self.sessions.get(token, self.clock())
                    if session is None:
                        yield "event: signedout\ndata: {}\n\n"
                        return
                    view = self.service.view
                    now_lesson = lesson(view, teacher=session.teacher_view, now=self.clock(),
                                        handle=session.handle)
                    board = self._board(request, now_lesson)
                    state = (board, now_lesson.clock.key(view.at))
                    if state != last:
                        data = json.dumps({"board": board, "clock": now_lesson.clock.as_dict(),
                                           "stored": view.stored})
                        yield f"event: lesson\ndata: {data}\n\n"
                        last, sent = state, time.monotonic()
                    elif time.monotonic() - sent > KEEPALIVE_S:
                        yield ": still here\n\n"
                        sent = time.monotonic()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), 1.0)
                    event.clear()
            finally:
                self._waiters.discard(event)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store",
                                          "x-accel-buffering": "no"})

    async def lesson_action(self, request: Request) -> Response:
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        action = str(guard.form.get("action", ""))
        if action not in LESSON_ACTIONS:
            raise HTTPException(400, f"unknown lesson action {action[:20]!r}")
        if action == "end" and guard.form.get("confirm") != "yes":
            raise HTTPException(400, "ending the lesson needs its confirmation")
        minutes = EXTEND_MINUTES if action == "extend" else 0.0
        await self._act(request, guard, self.service.teacher(action, minutes))
        return self._after_change(request, "/lesson")

    async def _act(self, request: Request, guard: _Guard, future: Future[str]) -> str:
        refusal = await self._wait(future)
        if refusal:
            self._say(guard.session, "error", refusal)
        return refusal

    async def lesson_move(self, request: Request) -> Response:
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        sid = self._student(guard, str(guard.form.get("student", "")), active_only=True)
        group = str(guard.form.get("group", ""))
        await self._act(request, guard, self.service.teacher("move", student=sid, group=group))
        return self._after_change(request, "/lesson")

    async def lesson_absent(self, request: Request) -> Response:
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        sid = self._student(guard, str(guard.form.get("student", "")), active_only=True)
        action = "present" if guard.form.get("present") == "yes" else "absent"
        await self._act(request, guard, self.service.teacher(action, student=sid))
        return self._after_change(request, "/lesson")

    async def lesson_view(self, request: Request) -> Response:
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        guard.session.teacher_view = guard.form.get("teacher") == "yes"
        return self._after_change(request, "/lesson")

    async def lesson_start(self, request: Request) -> Response:
        """Start the lesson of the class and plan chosen (``lesson`` = class|plan)."""
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        class_id, _, plan = str(guard.form.get("lesson", "")).partition("|")
        if not any(c.class_id == class_id for c in self.service.view.lesson_choices):
            raise HTTPException(400, "no such class on this hub")
        await self._act(request, guard, self.service.act(
            TeacherAction("start_lesson", class_id=class_id, plan=plan, source="console")))
        return self._after_change(request, "/lesson")

    async def lesson_display(self, request: Request) -> Response:
        """Open (or close) the teacher view on the hub's own screen, as a right PIN would."""
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        if guard.form.get("open") == "yes":
            until = self.clock() + self.service.config.teacher_timeout_s
            guard.session.unlocked_display_until = until
            await self._wait(self.service.unlock_teacher_view(until))
            log.info("console: %s opened the teacher view on the hub display",
                     guard.session.account)
        else:
            guard.session.unlocked_display_until = 0.0
            await self._wait(self.service.lock_teacher_view())
        return self._after_change(request, "/lesson")

    # --- roster and scores ----------------------------------------------------------------------

    def _roster_context(self, guard: _Guard) -> dict[str, Any]:
        _store, roster = self.reader()
        rows = roster.db.execute(
            "SELECT s.id, s.given_name, s.family_name, s.preferred_name, s.grade, s.active, "
            "(SELECT COUNT(*) FROM badges b WHERE b.student_id = s.id AND b.revoked = 0) "
            "FROM students s ORDER BY s.active DESC, s.family_name, s.given_name").fetchall()
        students = [{"handle": guard.session.handle(r[0]), "given": r[3] or r[1],
                     "family": r[2], "grade": r[4], "active": bool(r[5]), "badges": r[6]}
                    for r in rows]
        return {"students": students, "classes": roster.classes()}

    async def roster_page(self, request: Request) -> Response:
        guard = await self._guard(request)
        return self.render(request, "roster.html", guard, **self._roster_context(guard))

    async def roster_upload(self, request: Request) -> Response:
        guard = await self._guard(request, change=True, upload=True)
        _ = self._gettext(request)
        try:
            with _upload(guard, "export", ".zip") as path:
                summary = await self._wait(self.service.import_roster(path))
        except ValueError as err:  # OneRosterError: file, row, column
            return self.render(request, "roster.html", guard, status=400, problem=_problem(err),
                               **self._roster_context(guard))
        self._say(guard.session, "ok", _("Roster imported: %(students)d students in "
                                        "%(classes)d classes.") % {
            "students": summary.students, "classes": summary.classes})
        log.info("console: %s imported a roster (%d students)", guard.session.account,
                 summary.students)
        return RedirectResponse("/roster", 303)

    def _scores_context(self, request: Request) -> dict[str, Any]:
        store, roster = self.reader()
        classes = roster.classes()
        class_id = request.query_params.get("class") or self.service.view.class_id
        if class_id not in classes:
            class_id = next(iter(classes), "")
        latest = latest_scores(store.db, class_id)
        names = {s.id: s.display_name for s in roster.students(class_id)} if class_id else {}
        rows = [(names.get(sid, sid), [latest.scores[sid].get(std) for std in latest.standards])
                for sid in sorted(latest.scores, key=lambda x: names.get(x, x))]
        imports = store.db.execute(
            "SELECT i.file, i.imported_at, COUNT(s.student_id) FROM score_imports i LEFT JOIN "
            "scores s ON s.import_id = i.id WHERE i.class_id=? GROUP BY i.id "
            "ORDER BY i.imported_at DESC LIMIT 10", (class_id,)).fetchall()
        return {"classes": classes, "class_id": class_id, "standards": latest.standards,
                "rows": rows, "latest": latest.latest,
                "imports": [(f, dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M"), n)
                            for f, at, n in imports]}

    async def scores_page(self, request: Request) -> Response:
        guard = await self._guard(request)
        return self.render(request, "scores.html", guard, **self._scores_context(request))

    async def scores_upload(self, request: Request) -> Response:
        guard = await self._guard(request, change=True, upload=True)
        assert guard.form is not None
        _ = self._gettext(request)
        class_id = str(guard.form.get("class", ""))
        try:
            with _upload(guard, "scores", ".csv") as path:
                result = await self._wait(self.service.import_scores(path, class_id or None))
        except ValueError as err:  # ScoresError: file, row, column; nothing stored
            return self.render(request, "scores.html", guard, status=400,
                               problem=_problem(err), **self._scores_context(request))
        self._say(guard.session, "ok", _("Scores imported: %(scores)d scores of %(students)d "
                                        "students on %(standards)d standards.") % {
            "scores": result.scores, "students": result.students,
            "standards": len(result.standards)})
        log.info("console: %s imported scores (%d)", guard.session.account, result.scores)
        return RedirectResponse(f"/scores?class={result.class_id}", 303)

    # --- groups -----------------------------------------------------------------------------------

    async def groups_page(self, request: Request) -> Response:
        guard = await self._guard(request)
        view = self.service.view
        names = view.student_names
        h = guard.session.handle
        current = [(view.group_names[g], view.public_group_names.get(g, ""),
                    [names.get(m, m) for m in members])
                   for g, members in view.rotation.members.items() if g in view.group_names]
        offer = view.suggestion
        suggested = [{"name": name, "public": view.suggested_public[k]
                      if k < len(view.suggested_public) else "",
                      "change": offer.groups[k].change if offer and k < len(offer.groups)
                      else "",
                      "topic": offer.groups[k].topic if offer and k < len(offer.groups)
                      else "",
                      "members": [{"handle": h(m), "name": names.get(m, m),
                                   "reason": offer.reasons.get(m, "") if offer else "",
                                   "about": offer.features.get(m, "") if offer else ""}
                                  for m in members]}
                     for k, (name, members) in enumerate(view.suggested_groups or ())]
        store, roster = self.reader()
        standards = latest_scores(store.db, view.class_id).standards if view.class_id else ()
        started = dt.datetime.fromtimestamp(view.lesson_started_at or view.at)
        return self.render(request, "groups.html", guard, current=current,
                           suggested=suggested, waiting=view.suggested_groups is not None,
                           offer=offer, working=view.groups_work,
                           left_out=[names.get(m, m) for m in offer.left_out] if offer else [],
                           class_title=view.class_title, class_id=view.class_id,
                           standards=standards,
                           since=started.strftime("%H:%M"),
                           offer_class=roster.classes().get(offer.class_id, offer.class_id)
                           if offer else "")

    async def groups_action(self, request: Request) -> Response:
        what = request.path_params["what"]
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        _ = self._gettext(request)
        if what == "approve":
            if not await self._act(request, guard, self.service.teacher("approve_groups")):
                self._say(guard.session, "ok", _("New groups approved: the stations show "
                                                 "where everyone goes."))
        elif what == "reject":
            await self._act(request, guard, self.service.teacher("reject_groups"))
        elif what == "adjust":
            sid = self._student(guard, str(guard.form.get("student", "")))
            await self._act(request, guard, self.service.teacher(
                "adjust_groups", student=sid, group=str(guard.form.get("group", ""))))
        elif what == "ask":
            mode = str(guard.form.get("mode", "skill"))
            if mode not in ("skill", "mixed", "interest", "present"):
                raise HTTPException(400, "no such kind of groups")
            standards = tuple(str(s) for s in guard.form.getlist("standards"))
            since = None
            text = str(guard.form.get("since", "")).strip()
            if mode == "present" and text:
                try:
                    at = dt.datetime.strptime(text, "%H:%M").time()
                except ValueError:
                    raise HTTPException(400, "give the time as HH:MM") from None
                since = dt.datetime.combine(dt.date.today(), at).timestamp()
            try:
                await self._wait(self.service.request_groups(mode, standards, since=since))
            except ValueError as err:  # SuggestError: no scores yet, a constraint...
                self._say(guard.session, "error", text_of(err))
        else:
            raise HTTPException(404, "no such groups action")
        return self._after_change(request, "/groups")

    # --- a class's setup: constraints, timetable, plans ---------------------------------------

    def _setup_class(self, class_id: str) -> str:
        known = [c.class_id for c in self.service.view.lesson_choices]
        if class_id not in known:
            raise HTTPException(400, "no such class on this hub")
        return class_id

    async def setup_page(self, request: Request, guard: _Guard | None = None,
                         status: int = 200, problem: str = "", class_id: str | None = None
                         ) -> Response:
        guard = guard or await self._guard(request)
        _ = self._gettext(request)
        view = self.service.view
        choices = sorted(view.lesson_choices, key=lambda c: c.title.lower())
        class_id = request.query_params.get("class") if class_id is None else class_id
        if class_id not in {c.class_id for c in choices}:
            class_id = view.class_id
        store, roster = self.reader()
        book = LessonBook(store.db)
        people = roster.students(class_id) if class_id else roster.students()
        names = {s.id: s.display_name for s in people}
        h = guard.session.handle
        data = book.constraints(class_id)
        for gone in {sid for r in classsetup.rules(data) for sid in r.students} - set(names):
            data = without_student(data, gone)  # as every suggestion reads them
        stored = book.groups(class_id)
        now_groups = [g.name for g in stored[0]] if stored else []
        count = max(len(self.service.config.plan.stations), len(now_groups))
        group_options = [(k, _("Group %(number)d (now %(name)s)") % {
            "number": k, "name": now_groups[k - 1]} if k <= len(now_groups)
            else _("Group %(number)d") % {"number": k}) for k in range(1, count + 1)]
        titles = {c.class_id: c.title for c in choices}
        room = self.service.config.plan
        plans = book.plans(class_id)
        plan_names = {(c.class_id, pid): name for c in choices for pid, name, _about in c.plans}
        slots = [{"day": _(WEEKDAY_NAMES[s.weekday]), "key": WEEKDAYS[s.weekday],
                  "start": s.start, "end": s.end, "class": titles.get(s.class_id, s.class_id),
                  "mine": s.class_id == class_id,
                  "plan": plan_names.get((s.class_id, s.plan_id), s.plan_id)}
                 for s in book.timetable()]
        return self.render(
            request, "setup.html", guard, status=status, problem=problem, classes=choices,
            class_id=class_id, class_title=titles.get(class_id, class_id),
            students=[(h(sid), name) for sid, name in names.items()],
            rules=[{"text": _rule_text(_, r, names, dict(group_options)), "kind": r.kind,
                    "handles": [h(sid) for sid in r.students], "number": r.number}
                   for r in classsetup.rules(data)],
            sizes={k: data.get(k) or "" for k in classsetup.SIZE_RULES},
            group_options=group_options, slots=slots,
            days=[(key, _(name)) for key, name in zip(WEEKDAYS, WEEKDAY_NAMES, strict=True)],
            plans=[{"plan": p, "about": describe_plan(p, room), "own": p.id != ROOM_PLAN}
                   for p in plans],
            stations=[(st.id, st.name) for st in room.stations],
            room_minutes=f"{room.block(0).length_s / 60:g}",
            models=[("", _("The room's")), ("station-rotation", _("Station rotation")),
                    ("individual-rotation", _("Individual rotation")), ("flex", _("Flex"))])

    async def setup_action(self, request: Request) -> Response:
        what = request.path_params["what"]
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        form = guard.form
        _ = self._gettext(request)
        class_id = self._setup_class(str(form.get("class", "")))
        service = self.service
        try:
            future: Future[Any]
            if what in ("apart", "together", "pin", "not-in", "sizes", "remove"):
                edit = self._constraint_edit(what, guard, class_id, _)
                future = service.change_constraints(class_id, edit)
                done = {"sizes": _("Group sizes saved."),
                        "remove": _("Constraint removed.")}.get(what, _("Constraint added."))
            elif what == "slot-add":
                future = service.add_slot(str(form.get("day", "")), str(form.get("start", "")),
                                          str(form.get("end", "")), class_id,
                                          str(form.get("plan", "")))
                done = _("Added to the timetable.")
            elif what == "slot-remove":
                future = service.remove_slot(str(form.get("day", "")), str(form.get("start", "")))
                done = _("Taken off the timetable.")
            elif what == "plan-save":
                future = service.save_plan(class_id, ClassPlan(
                    str(form.get("id", "")).strip().lower(), str(form.get("name", "")).strip(),
                    tuple(str(x) for x in form.getlist("stations")),
                    _minutes(_, str(form.get("block_minutes", ""))),
                    str(form.get("model", ""))))
                done = _("Plan saved.")
            elif what == "plan-remove":
                future = service.remove_plan(class_id, str(form.get("id", "")))
                done = _("Plan removed.")
            else:
                raise HTTPException(404, "no such setup action")
            if await self._wait(future) is False:  # a time or a plan that was not there
                raise ValueError(_("It was not there (changed meanwhile?): nothing removed."))
        except ValueError as err:
            return await self.setup_page(request, guard, 400, text_of(err), class_id)
        log.info("console: %s changed the setup of class %s (%s)", guard.session.account,
                 class_id, what)
        self._say(guard.session, "ok", done)
        return RedirectResponse(f"/setup?{urlencode({'class': class_id})}", 303)

    def _constraint_edit(self, what: str, guard: _Guard, class_id: str,
                         _: Callable[[str], str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """The pure edit (:mod:`hub.classsetup`) the form asks for, its students resolved
        from their handles among the class's (ValueError: a handle of no student here)."""
        assert guard.form is not None
        form = guard.form
        _store, roster = self.reader()
        ids = [s.id for s in (roster.students(class_id) if class_id else roster.students())]

        def who() -> list[str]:
            found = [guard.session.resolve(str(x), ids) for x in form.getlist("student")]
            if None in found:
                raise ValueError(_("A student chosen is not in this class (or the page is "
                                   "from another session): reload the page."))
            return [sid for sid in found if sid is not None]

        students = who()
        if what == "apart":
            return lambda data: classsetup.keep_apart(data, students)
        if what == "together":
            return lambda data: classsetup.keep_together(data, students)
        if what in ("pin", "not-in"):
            if len(students) != 1:
                raise ValueError(_("Choose one student."))
            group = _whole(_, str(form.get("group", "")))
            change = classsetup.pin if what == "pin" else classsetup.keep_out
            return lambda data: change(data, students[0], group)
        if what == "sizes":
            sizes = {k: _whole(_, str(form.get(k, ""))) for k in classsetup.SIZE_RULES}

            def resize(data: dict[str, Any]) -> dict[str, Any]:
                for key, value in sizes.items():
                    data = classsetup.set_size(data, key, value)
                return data
            return resize
        kind = str(form.get("kind", ""))
        if kind not in (*classsetup.STUDENT_RULES, *classsetup.SIZE_RULES):
            raise HTTPException(400, "no such kind of constraint")
        rule = classsetup.Rule(kind, tuple(students), _whole(_, str(form.get("number", ""))))
        return lambda data: classsetup.remove(data, rule)

    # --- a student --------------------------------------------------------------------------------

    async def student_page(self, request: Request) -> Response:
        guard = await self._guard(request)
        sid = self._student(guard, request.path_params["handle"])
        _ = self._gettext(request)
        store, roster = self.reader()
        student = roster.student(sid)
        if student is None:
            raise HTTPException(404, "no such student")
        records = store.checkins_between(0.0, float("inf"), sid)
        view = self.service.view
        group = next((g for g, members in view.rotation.members.items() if sid in members), "")
        levels = [_("low"), "", "", _("high")]
        chart = reflection_chart(
            records, title=_("%(name)s's reflections over time") % {
                "name": student.display_name},
            description=_summary(_, records), levels=levels,
            names={"confidence": _("Confidence"), "goal": _("Goal progress")})
        checkins = [{"when": dt.datetime.fromtimestamp(r.tapped_at).strftime("%Y-%m-%d %H:%M"),
                     "station": view.station_names.get(r.station, r.station),
                     "activity": r.activity,
                     "answers": [(q, _(ANSWER_WORDS[q][v - 1]) if q in ANSWER_WORDS
                                  and 1 <= v <= 4 else str(v))
                                 for q, v in r.answers.items()]}
                    for r in reversed(records)]
        return self.render(request, "student.html", guard, student=student, sid=sid,
                           handle=request.path_params["handle"], chart=chart,
                           checkins=checkins[:200], total=len(records),
                           badges=roster.badges_of(sid, include_revoked=True),
                           classes=[roster.classes().get(c, c) for c in roster.classes_of(sid)],
                           group=view.group_names.get(group, ""),
                           flags=view.flags.get(sid, ()),
                           question_names={"confidence": _("Confidence"),
                                           "goal": _("Goal"), "mood": _("Mood")})

    async def student_export(self, request: Request) -> Response:
        guard = await self._guard(request, api=True)
        sid = self._student(guard, request.path_params["handle"])
        store, roster = self.reader()
        try:
            data = export_student(store, roster, sid, store.load_state(ROTATION_KEY))
        except KeyError:
            raise HTTPException(404, "no such student") from None
        log.info("console: %s exported a student's data", guard.session.account)
        body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
        day = dt.date.today().isoformat()
        return Response(body, media_type="application/json", headers={
            "content-disposition": f'attachment; filename="student-export-{day}.json"'})

    async def student_erase_page(self, request: Request) -> Response:
        guard = await self._guard(request)
        sid = self._student(guard, request.path_params["handle"])
        store, roster = self.reader()
        student = roster.student(sid)
        if student is None:
            raise HTTPException(404, "no such student")
        count = len(store.checkins_between(0.0, float("inf"), sid))
        district, lrs = self.service.outgoing
        return self.render(request, "erase.html", guard, student=student,
                           handle=request.path_params["handle"], checkins=count,
                           district=district is not None, lrs=lrs is not None,
                           badges=len(roster.badges_of(sid, include_revoked=True)))

    async def student_erase(self, request: Request) -> Response:
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        sid = self._student(guard, request.path_params["handle"])
        if guard.form.get("confirm") != "yes":
            raise HTTPException(400, "erasing needs its confirmation")
        _ = self._gettext(request)
        try:
            erased = await self._wait(self.service.erase_student(sid))
        except KeyError:
            raise HTTPException(404, "no such student") from None
        log.info("console: %s erased a student (%d check-ins, %d badges)",
                 guard.session.account, erased.checkins, erased.badges)
        said = [_("Erased: %(checkins)d check-ins with their reflections, %(badges)d "
                  "badges.") % {"checkins": erased.checkins, "badges": erased.badges}]
        if erased.district_queued:
            said.append(_("The district is asked to delete its copies (queued: it goes as "
                          "soon as the district can be reached)."))
        if erased.voided:
            said.append(_("%(count)d statements in the learning record store are withdrawn "
                          "(voiding statements queued).") % {"count": erased.voided})
        self._say(guard.session, "ok", " ".join(said))
        return RedirectResponse("/roster", 303)

    # --- badges -----------------------------------------------------------------------------------

    async def badges_page(self, request: Request, guard: _Guard | None = None,
                          status: int = 200, problem: dict[str, Any] | None = None
                          ) -> Response:
        guard = guard or await self._guard(request)
        view = self.service.view
        _store, roster = self.reader()
        h = guard.session.handle
        rows = roster.db.execute("SELECT b.badge, b.student_id, b.revoked FROM badges b "
                                 "ORDER BY b.revoked, b.badge").fetchall()
        names = {s.id: s.display_name for s in roster.students()}
        badges = [{"badge": b, "name": names.get(sid, "—"), "revoked": bool(rv)}
                  for b, sid, rv in rows]
        students = sorted(((h(sid), name) for sid, name in names.items()), key=lambda s: s[1])
        offers = [{"badge": o.badge, "station": view.station_names.get(o.station, o.station)}
                  for o in view.enrollment.offers]
        return self.render(request, "badges.html", guard, status=status, problem=problem,
                           enrolling=view.enrollment.active, offers=offers, badges=badges,
                           students=students)

    async def badges_action(self, request: Request) -> Response:
        what = request.path_params["what"]
        guard = await self._guard(request, change=True, upload=what == "import")
        assert guard.form is not None
        _ = self._gettext(request)
        form = guard.form
        if what == "import":
            try:
                with _upload(guard, "badges", ".csv") as path:
                    n = await self._wait(self.service.import_badges(
                        path, reassign=form.get("reassign") == "yes"))
            except ValueError as err:
                return await self.badges_page(request, guard, 400, _problem(err))
            self._say(guard.session, "ok", _("%(count)d badges imported.") % {"count": n})
        elif what == "enrollment":
            action = "enroll_start" if form.get("on") == "yes" else "enroll_stop"
            await self._act(request, guard, self.service.teacher(action))
        elif what in ("assign", "reassign"):
            sid = self._student(guard, str(form.get("student", "")), active_only=True)
            badge = str(form.get("badge", "")).strip()
            action = "reassign" if what == "reassign" or form.get("reassign") == "yes" \
                else "enroll"
            if not await self._act(request, guard, self.service.teacher(
                    action, student=sid, badge=badge)):
                self._say(guard.session, "ok", _("Badge assigned."))
        elif what == "revoke":
            badge = str(form.get("badge", "")).strip()
            if not await self._act(request, guard, self.service.teacher("revoke", badge=badge)):
                self._say(guard.session, "ok", _("Badge revoked: it no longer works."))
        else:
            raise HTTPException(404, "no such badges action")
        return self._after_change(request, "/badges")

    # --- exports and settings -----------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        store, _roster = self.reader()
        settings = self.service.settings()
        return {"retention_days": settings["retention_days"],
                "questions": settings["questions"], "history": settings["history"],
                "overridden": bool(store.load_state(SETTINGS_KEY)
                                   or settings["class_overrides"]),
                "settings_class": self.service.view.class_title, "all_questions": QUESTIONS}

    async def exports_page(self, request: Request, guard: _Guard | None = None,
                           status: int = 200, problem: str = "") -> Response:
        guard = guard or await self._guard(request)
        _store, roster = self.reader()
        return self.render(request, "exports.html", guard, status=status, problem=problem,
                           classes=roster.classes(), today=dt.date.today().isoformat(),
                           default_class=self.service.config.class_id, **self._settings())

    async def exports_day(self, request: Request) -> Response:
        guard = await self._guard(request, api=True)
        try:
            day = dt.date.fromisoformat(request.query_params.get("date", ""))
        except ValueError:
            raise HTTPException(400, "give the day as YYYY-MM-DD") from None
        class_id = request.query_params.get("class", "")
        store, roster = self.reader()
        if class_id not in roster.classes():
            raise HTTPException(400, "no such class on this hub")
        with tempfile.TemporaryDirectory(prefix="console-export-") as tmp:
            files = export_day(store, roster, day, Path(tmp), class_id=class_id)
            body, name = files[0].read_bytes(), files[0].name
        log.info("console: %s exported a day's check-ins", guard.session.account)
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{name}"'})

    async def settings(self, request: Request) -> Response:
        guard = await self._guard(request, change=True)
        assert guard.form is not None
        _ = self._gettext(request)
        form = guard.form
        try:
            if form.get("reset") == "yes":
                await self._wait(self.service.update_settings(reset=True))
            else:
                text = str(form.get("retention_days", "")).strip()
                if not text.isdigit():
                    raise ValueError(_("Retention: give a whole number of days (0 keeps "
                                       "everything)."))
                questions = tuple(str(q) for q in form.getlist("questions"))
                await self._wait(self.service.update_settings(
                    retention_days=int(text), questions=questions,
                    history=form.get("history") == "yes"))
        except ValueError as err:
            return await self.exports_page(request, guard, 400, text_of(err))
        log.info("console: %s changed the settings", guard.session.account)
        self._say(guard.session, "ok", _("Settings saved."))
        return RedirectResponse("/exports", 303)


# --- helpers ------------------------------------------------------------------------------------

def _route_name(path: str) -> str:
    """The path with any student handle masked, for the log."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "students":
        parts[2] = "…"
    return "/".join(parts)


@contextlib.contextmanager
def _upload(guard: _Guard, name: str, suffix: str) -> Any:
    """The uploaded file ``name`` saved to a private temporary file, removed afterwards."""
    assert guard.form is not None
    upload = guard.form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValueError(Text("choose a file first"))
    with tempfile.TemporaryDirectory(prefix="console-upload-") as tmp:
        # The importer names the file in its messages: keep the teacher's own name for it.
        safe = Path(upload.filename).name.replace("/", "_") or f"upload{suffix}"
        path = Path(tmp) / safe
        total = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(1 << 16):
                total += len(chunk)
                if total > MAX_UPLOAD:
                    raise HTTPException(413, "the file is too large")
                out.write(chunk)
        yield path


def _problem(err: Exception) -> dict[str, Any]:
    """What went wrong with an upload: the file, row and column when the importer says, and
    the problem (a :class:`~stations.text.Text`: the page shows it in its language)."""
    # The importer's own name for a file, never the private temporary folder it was saved in.
    return {"text": str(err), "file": Path(getattr(err, "file", "") or "").name,
            "row": getattr(err, "row", None),
            "column": getattr(err, "column", None),
            "problem": getattr(err, "problem", None) or text_of(err)}


def _summary(_: Callable[[str], str], records: list[Any]) -> str:
    if not records:
        return _("No check-ins yet.")
    first = dt.datetime.fromtimestamp(records[0].tapped_at).strftime("%Y-%m-%d")
    last = dt.datetime.fromtimestamp(records[-1].tapped_at).strftime("%Y-%m-%d")
    return _("%(count)d check-ins from %(first)s to %(last)s; the table below lists them.") % {
        "count": len(records), "first": first, "last": last}


def _whole(_: Callable[[str], str], text: str) -> int:
    """A whole number from a form ("" is 0: no rule)."""
    text = text.strip()
    if not text:
        return 0
    if not text.isdigit():
        raise ValueError(_("Give a whole number, not “%(text)s”.") % {"text": text[:20]})
    return int(text)


def _minutes(_: Callable[[str], str], text: str) -> float:
    """Minutes from a form ("" is 0: the room's)."""
    try:
        return float(text.strip().replace(",", ".") or 0)
    except ValueError:
        raise ValueError(_("Give the minutes as a number, not “%(text)s”.") % {
            "text": text[:20]}) from None


def _rule_text(_: Callable[[str], str], rule: classsetup.Rule, names: dict[str, str],
               groups: dict[int, str]) -> str:
    """A constraint in plain words, with the students' names (teacher-only pages)."""
    who = [names.get(sid, "?") for sid in rule.students]
    listed = (_("%(first)s and %(last)s") % {"first": ", ".join(who[:-1]), "last": who[-1]}
              if len(who) > 1 else "".join(who))
    group = groups.get(rule.number) or _("Group %(number)d") % {"number": rule.number}
    text = {"keep_apart": _("Keep %(names)s apart"),
            "keep_together": _("Keep %(names)s together"),
            "pinned": _("%(names)s always in %(group)s"),
            "not_in": _("%(names)s never in %(group)s"),
            "groups": _("%(number)d groups"),
            "min_size": _("Groups of at least %(number)d students"),
            "max_size": _("Groups of at most %(number)d students")}[rule.kind]
    return text % {"names": listed, "group": group, "number": rule.number}
