"""xAPI statements: valid against the xAPI 1.0.3 statement schema, pseudonymous, one id per
check-in and kind; queued in the check-in's transaction; sent to a real LRS (ralph) that goes
down mid-lesson and comes back, and read back from it exactly once each."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest

from broker import contract as c
from hub.export import erase_student
from hub.ingest import Ingest
from hub.lrs import FileSink, LrsSink, StatementFeed, StatementSender
from hub.roster import Roster, RosterEntry, Student
from hub.rotation import Rotation, RotationPlan
from hub.store import HubStore, open_db
from hub.xapi import Names, XapiSettings, statement_id, statement_kinds, statements
from tests.conftest import REPO, need, wait_until

SCHEMA = json.loads((REPO / "hub/schemas/xapi-statement-1.0.3.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
HOME = "https://school.example.org"
NAMES = Names("room-1", {"s1": "Quiet corner"}, {("s1", "read"): "Read"})
ROOM = "room-1"


def checkin(badge: str = "0A0B0C0D", answers: dict | None = None, at: float | None = None,
            station: str = "s1") -> c.CheckIn:
    at = time.time() if at is None else at
    return c.CheckIn(**c.envelope(station, at), badge=badge,
                     answers={"confidence": 3, "goal": 2} if answers is None else answers,
                     activity="read", tapped_at=at - 20)


def test_statements_are_valid_xapi_and_pseudonymous() -> None:
    message = checkin()
    out = statements(message, "s1", "stu-7", NAMES, XapiSettings(homepage=HOME))
    assert [s["verb"]["id"].rsplit("/", 1)[-1] for s in out] == [
        "attended", "responded", "responded", "selected"]
    for s in out:
        VALIDATOR.validate(s)
        assert s["actor"] == {"objectType": "Agent",
                              "account": {"homePage": HOME, "name": "stu-7"}}
        assert uuid.UUID(s["id"]).version == 5
    assert out[0]["timestamp"].endswith("Z") and out[0]["timestamp"] != out[1]["timestamp"]
    assert [s["result"]["response"] for s in out[1:3]] == ["3", "2"]
    # The same check-in (a resend) makes the same statements.
    assert [s["id"] for s in statements(message, "s1", "stu-7", NAMES,
                                        XapiSettings(homepage=HOME))] == \
        [statement_id(message.id, k) for k in statement_kinds(message)]


def test_the_schema_refuses_what_xapi_forbids() -> None:
    good = statements(checkin(), "s1", "stu-7", NAMES, XapiSettings(homepage=HOME))[0]
    two_ids = json.loads(json.dumps(good))
    two_ids["actor"]["mbox"] = "mailto:ana@example.org"
    no_verb = {k: v for k, v in good.items() if k != "verb"}
    bad_time = {**good, "timestamp": "yesterday"}
    for bad in (two_ids, no_verb, bad_time, {**good, "colour": "blue"}):
        assert not VALIDATOR.is_valid(bad)


def test_a_hashed_actor_is_the_same_per_school_and_never_the_id() -> None:
    school = XapiSettings(homepage=HOME, actor="hashed", salt="the-school-secret-123")
    other = XapiSettings(homepage=HOME, actor="hashed", salt="another-school-secret")
    name = statements(checkin(), "s1", "stu-7", NAMES, school)[0]["actor"]["account"]["name"]
    assert name == statements(checkin(), "s1", "stu-7", NAMES, school)[0]["actor"][
        "account"]["name"]
    assert "stu-7" not in name and len(name) == 64
    assert name != statements(checkin(), "s1", "stu-7", NAMES, other)[0]["actor"][
        "account"]["name"]


def make_ingest(path: Path, students: int = 1) -> Ingest:
    db = open_db(path)
    roster = Roster(db)
    roster.load([RosterEntry(Student(f"stu-{n}", "Ana", "Rivera"), (f"0A0B{n:04X}",))
                 for n in range(students)])
    return Ingest(ROOM, HubStore(db), roster, Rotation(RotationPlan((), (), 600)),
                  statements=StatementFeed(XapiSettings(homepage=HOME), NAMES))


def topic(station: str = "s1") -> str:
    return c.station_topic(ROOM, station, "checkin")


def queued(ingest: Ingest) -> int:
    return ingest.store.db.execute("SELECT COUNT(*) FROM xapi_outbox").fetchone()[0]


def test_statements_are_queued_with_their_check_in_and_only_once(tmp_path: Path) -> None:
    hub = make_ingest(tmp_path / "hub.db")
    message = checkin(badge="0A0B0000")
    hub.handle_batch([(topic(), c.encode(message))] * 2, time.time())
    assert queued(hub) == 4 and hub.store.checkin_count() == 1
    # A batch whose transaction fails keeps neither the check-in nor its statements.
    hub.store.db.execute("CREATE TRIGGER fail BEFORE INSERT ON xapi_outbox "
                         "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(Exception, match="disk full"):
        hub.handle_batch([(topic(), c.encode(checkin(badge="0A0B0000")))], time.time())
    assert queued(hub) == 4 and hub.store.checkin_count() == 1


def test_a_school_without_an_lrs_gets_a_file(tmp_path: Path) -> None:
    hub = make_ingest(tmp_path / "hub.db", students=3)
    now = time.time()
    hub.handle_batch([(topic(), c.encode(checkin(badge=f"0A0B{n:04X}", at=now)))
                      for n in range(3)], now)
    sender = StatementSender(tmp_path / "hub.db", FileSink(tmp_path / "out/statements.jsonl"))
    assert sender.send_due() == 12 and sender.send_due() == 0
    sender.stop()
    lines = (tmp_path / "out/statements.jsonl").read_text().splitlines()
    assert len(lines) == 12 and queued(hub) == 0
    for line in lines:
        VALIDATOR.validate(json.loads(line))


# --- a real LRS --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ralph:
    """ralph's LRS (FastAPI under uvicorn) with its file-system backend, basic auth."""

    USER, PASSWORD = "hub", "not-a-real-secret"

    def __init__(self, folder: Path) -> None:
        tools = Path(os.environ.get("STATIONS_RALPH_VENV", REPO / ".venv/tools/ralph"))
        self.python = tools / "bin/python"
        need("ralph (the LRS)", self.python.exists(),
             "scripts/setup.sh test installs it into .venv/tools/ralph")
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xAPI/"
        self.env = {**os.environ, "RALPH_APP_DIR": str(folder / "app"),
                    "RALPH_AUTH_FILE": str(folder / "auth.json"),
                    "RALPH_RUNSERVER_BACKEND": "fs",
                    "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder / "data")}
        subprocess.run([str(tools / "bin/ralph"), "auth", "-u", self.USER, "-p", self.PASSWORD,
                        "-s", "all", "-w", "-A", "hub", HOME], env=self.env, check=True,
                       capture_output=True)
        self.process: subprocess.Popen[bytes] | None = None

    #: ralph's file-system LRS backend writes its one statements file with "create", so it
    #: takes one POST and fails every later one (500); its "append" mode is the one an LRS
    #: that runs for a lesson needs. Everything else is ralph as it is.
    APPEND = ("import uvicorn\n"
              "from ralph.backends.data.base import BaseOperationType\n"
              "from ralph.backends.lrs.fs import FSLRSBackend\n"
              "FSLRSBackend.default_operation_type = BaseOperationType.APPEND\n"
              "uvicorn.run('ralph.api:app', host='127.0.0.1', port={port}, "
              "log_level='warning')\n")

    def start(self, *, new_port_if_taken: bool = False) -> None:
        """Start (again, on the same port); on the first start a port another process took
        between free_port() and the bind is swapped for a fresh one."""
        for _ in range(3):
            self.process = subprocess.Popen(
                [str(self.python), "-c", self.APPEND.format(port=self.port)], env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=open(self.folder / "ralph.log", "ab"))  # noqa: SIM115
            assert wait_until(lambda: self.up() or self.process.poll() is not None,
                              timeout=60), (self.folder / "ralph.log").read_text()
            if self.process.poll() is None:
                return
            log = (self.folder / "ralph.log").read_text()
            if not (new_port_if_taken and "address already in use" in log):
                raise AssertionError(log)
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}/xAPI/"
        raise AssertionError((self.folder / "ralph.log").read_text())

    def up(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/__heartbeat__",
                             timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
            self.process = None

    def statements(self) -> list[dict]:
        out, url = [], self.url + "statements?limit=500"
        with httpx.Client(auth=(self.USER, self.PASSWORD),
                          headers={"X-Experience-API-Version": "1.0.3"}) as client:
            while url:
                page = client.get(url).json()
                out.extend(page["statements"])
                url = f"http://127.0.0.1:{self.port}{page['more']}" if page.get("more") else ""
        return out


@pytest.fixture
def ralph(tmp_path: Path) -> Iterator[Ralph]:
    lrs = Ralph(tmp_path / "lrs")
    lrs.start(new_port_if_taken=True)
    try:
        yield lrs
    finally:
        lrs.stop()


@pytest.mark.lrs
@pytest.mark.slow
def test_a_lesson_reaches_a_real_lrs_once_through_an_outage_and_a_restart(
        tmp_path: Path, ralph: Ralph) -> None:
    students, blocks = 16, 4
    hub = make_ingest(tmp_path / "hub.db", students=students)
    settings = XapiSettings(homepage=HOME, endpoint=ralph.url, username=Ralph.USER,
                            password=Ralph.PASSWORD)

    def sender() -> StatementSender:
        s = StatementSender(tmp_path / "hub.db", LrsSink(settings), batch=25,
                            max_backoff_s=0.5)
        s.start()
        return s

    expected: set[str] = set()
    start = time.time() - 3600

    def lesson_block(block: int) -> None:
        now = start + block * 600
        batch = []
        for n in range(students):
            message = checkin(badge=f"0A0B{n:04X}", at=now + n, station=f"s{block % 4 + 1}")
            expected.update(statement_id(message.id, k) for k in statement_kinds(message))
            batch.append((topic(message.sender), c.encode(message)))
        hub.handle_batch(batch, now + 30)

    running = sender()
    lesson_block(0)
    assert wait_until(lambda: queued(hub) == 0, timeout=30)
    sent_before = running.stats.sent
    ralph.stop()  # the LRS goes down mid-lesson
    down_at = time.monotonic()
    lesson_block(1)
    lesson_block(2)
    assert not wait_until(lambda: queued(hub) == 0, timeout=2)  # nothing can leave
    assert running.stats.failures >= 1
    running.stop()  # and the hub restarts while it is down
    lesson_block(3)
    running = sender()
    waiting = queued(hub)
    ralph.start()
    downtime = time.monotonic() - down_at
    assert wait_until(lambda: queued(hub) == 0, timeout=60)
    running.stop()
    # A crash after the LRS took a batch but before its rows were deleted: they go again,
    # and the LRS (204) keeps one of each.
    again = [{k: v for k, v in st.items() if k not in ("stored", "authority")}
             for st in ralph.statements()[:10]]
    hub.store.db.executemany("INSERT INTO xapi_outbox (id, checkin_id, student_id, statement, "
                             "queued_at) VALUES (?, '', '', ?, 0)",
                             [(st["id"], json.dumps(st)) for st in again])
    replay = StatementSender(tmp_path / "hub.db", LrsSink(settings))
    assert replay.send_due() == 10 and queued(hub) == 0
    replay.stop()
    got = ralph.statements()
    ids = [s["id"] for s in got]
    assert len(ids) == len(set(ids)), "a statement is in the LRS twice"
    assert set(ids) == expected
    for s in got[:20]:
        assert s["actor"]["account"]["name"].startswith("stu-")
    print(f"\nLRS test: {len(expected)} statements from {students * blocks} check-ins, "
          f"{sent_before} sent before the LRS went down for {downtime:.1f} s (and the "
          f"sender restarted), {waiting} queued meanwhile, 10 sent twice; read back "
          f"{len(got)}, "
          f"{len(got) - len(set(ids))} duplicates")


@pytest.mark.lrs
def test_statements_the_lrs_has_already_count_as_stored(tmp_path: Path, ralph: Ralph) -> None:
    settings = XapiSettings(homepage=HOME, endpoint=ralph.url, username=Ralph.USER,
                            password=Ralph.PASSWORD)
    sink = LrsSink(settings)
    batch = statements(checkin(), "s1", "stu-1", NAMES, settings)
    assert sink.send(batch).stored == tuple(s["id"] for s in batch)
    again = sink.send(batch)  # the hub died before deleting the rows: 204, all stored
    assert again.stored == tuple(s["id"] for s in batch) and not again.retry
    changed = [{**batch[0], "result": {"response": "4"}}]  # same id, other content: 409
    assert sink.send(changed).stored == (batch[0]["id"],)
    wrong = LrsSink(XapiSettings(homepage=HOME, endpoint=ralph.url, username=Ralph.USER,
                                 password="wrong")).send(batch)
    assert wrong.retry.startswith("HTTP 401") and not wrong.stored
    sink.close()
    assert len(ralph.statements()) == len(batch)


def test_a_refused_oauth_token_is_fetched_again_at_once(tmp_path: Path) -> None:
    """The sink's OAuth 2 client-credentials handling at the HTTP edge (there is no OAuth
    server here, so the token endpoint and the LRS's answers are httpx's MockTransport): a
    token the LRS stops accepting before it expires is replaced and the batch sent again."""
    issued: list[str] = []
    revoked: set[str] = set()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            assert request.headers["authorization"].startswith("Basic ")
            assert b"grant_type=client_credentials" in request.content
            issued.append(f"t{len(issued)}")
            return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 3600})
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in issued or token in revoked:
            return httpx.Response(401, text="invalid token")
        return httpx.Response(204)

    settings = XapiSettings(homepage=HOME, endpoint="https://lrs.test/xapi",
                            token_url="https://lrs.test/oauth/token", client_id="hub",
                            client_secret="s3cret")
    sink = LrsSink(settings, client=httpx.Client(transport=httpx.MockTransport(answer)))
    batch = statements(checkin(), "s1", "stu-1", NAMES, settings)
    ids = tuple(s["id"] for s in batch)
    assert sink.send(batch).stored == ids and issued == ["t0"]
    assert sink.send(batch).stored == ids and issued == ["t0"]  # kept while it is valid
    revoked.add("t0")  # the LRS revokes it long before expires_in
    outcome = sink.send(batch)
    assert outcome.stored == ids and not outcome.retry and issued == ["t0", "t1"]


@pytest.mark.lrs
def test_an_erasure_voids_what_the_lrs_has_and_nothing_it_never_got(
        tmp_path: Path, ralph: Ralph) -> None:
    hub = make_ingest(tmp_path / "hub.db", students=2)
    settings = XapiSettings(homepage=HOME, endpoint=ralph.url, username=Ralph.USER,
                            password=Ralph.PASSWORD)
    sender = StatementSender(tmp_path / "hub.db", LrsSink(settings), batch=5)
    now = time.time()
    sent = [checkin(badge="0A0B0000", at=now - 300),
            checkin(badge="0A0B0000", answers={"mood": 1}, at=now - 200),
            checkin(badge="0A0B0001", at=now - 100)]
    hub.handle_batch([(topic(), c.encode(m)) for m in sent], now - 90)
    while sender.send_due() > 0:
        pass
    assert queued(hub) == 0
    never = checkin(badge="0A0B0000", at=now - 50)  # queued, the LRS never gets it
    hub.handle_batch([(topic(), c.encode(never))], now - 40)
    ralph.stop()  # tried while the LRS is down: no connection, so certainly not there
    assert sender.send_due() == -1
    ralph.start()
    # As if the LRS had refused one for good (400): kept aside in the queue, not in the LRS.
    refused = statement_id(sent[0].id, "selected")
    hub.store.db.execute("INSERT INTO xapi_outbox (id, checkin_id, student_id, statement, "
                         "queued_at, failed) VALUES (?, ?, 'stu-0', '{}', 0, 'HTTP 400')",
                         (refused, sent[0].id))
    theirs = {statement_id(m.id, k) for m in sent[:2] for k in statement_kinds(m)}
    stu1 = {statement_id(sent[2].id, k) for k in statement_kinds(sent[2])}

    erased = erase_student(hub.store, "stu-0", statements=StatementFeed(settings, NAMES),
                           now=now)
    assert erased.voided == len(theirs) - 1 == 6
    assert erased.statements_unsent == len(statement_kinds(never)) + 1
    while sender.send_due() > 0:
        pass
    assert queued(hub) == 0
    sender.stop()

    got = ralph.statements()
    voiding = [s for s in got if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"]
    assert sorted(s["object"]["id"] for s in voiding) == sorted(theirs - {refused})
    for s in voiding:
        VALIDATOR.validate({k: v for k, v in s.items() if k not in ("stored", "authority")})
        assert s["object"]["objectType"] == "StatementRef"
        assert s["actor"]["account"] == {"homePage": HOME, "name": f"hub/{ROOM}"}
        assert "stu-0" not in json.dumps(s)
    assert len({s["id"] for s in voiding}) == len(voiding)
    # Nothing voids another student's statements.
    assert stu1 <= {s["id"] for s in got} and not stu1 & {s["object"]["id"] for s in voiding}


def test_a_statement_whose_sending_failed_midway_is_voided_too(tmp_path: Path) -> None:
    """A POST that failed after it began (a timeout, a write error) may have reached the LRS:
    an erasure voids it rather than leave it behind."""
    hub = make_ingest(tmp_path / "hub.db")
    message = checkin(badge="0A0B0000")
    hub.handle_batch([(topic(), c.encode(message))], time.time())
    (tmp_path / "out").mkdir()
    failing = StatementSender(tmp_path / "hub.db", FileSink(tmp_path / "out"))  # a folder
    assert failing.send_due() == -1
    failing.stop()
    erased = erase_student(hub.store, "stu-0",
                           statements=StatementFeed(XapiSettings(homepage=HOME), NAMES))
    assert (erased.voided, erased.statements_unsent) == (4, 4)
    voiding = [json.loads(s) for s, in hub.store.db.execute("SELECT statement FROM xapi_outbox")]
    assert sorted(v["object"]["id"] for v in voiding) == sorted(
        statement_id(message.id, k) for k in statement_kinds(message))
    for v in voiding:
        VALIDATOR.validate(v)
