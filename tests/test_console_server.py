"""The console as the hub serves it: HTTPS with the room's server certificate from a thread of
the hub's process, its event stream live over the real server, and started and stopped with
the hub (``run_hub``)."""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

httpx = pytest.importorskip("httpx")

from hub.config import load_hub_config  # noqa: E402
from tests.conftest import wait_until  # noqa: E402
from tests.console_helpers import PASSWORD, ConsoleRoom, console_room, write_teachers  # noqa: E402

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleRoom]:
    with console_room(tmp_path_factory.mktemp("console-server"), listen=False) as room:
        yield room


def _client(room: ConsoleRoom) -> httpx.Client:
    return httpx.Client(base_url=room.url, verify=ssl.create_default_context(cafile=room.ca),
                        timeout=10)


def _sign_in(client: httpx.Client) -> str:
    page = client.get("/login")
    nonce = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    assert client.post("/login", data={"login_csrf": nonce, "name": "ana",
                                       "password": PASSWORD}).status_code == 303
    return re.search(r'data-csrf="([^"]+)"', client.get("/lesson").text).group(1)


def test_served_over_https_with_the_room_certificate_on_the_bound_address(served) -> None:
    with _client(served) as client:
        response = client.get("/login")
    assert response.status_code == 200 and "Classroom console" in response.text
    assert "server" not in response.headers  # no banner
    with pytest.raises(httpx.ConnectError), httpx.Client(verify=True) as stranger:
        stranger.get(f"{served.url}/login")  # only a device that trusts the room CA
    with socket.create_connection(("127.0.0.1", served.server.port)) as raw:
        raw.sendall(b"GET /login HTTP/1.1\r\nHost: hub\r\n\r\n")  # plain HTTP: no answer
        raw.settimeout(5)
        assert not raw.recv(100).startswith(b"HTTP/1.1 200")
    assert served.server.config.bind == "127.0.0.1"


def test_the_event_stream_sends_the_lesson_as_it_changes(served) -> None:
    service = served.service
    with _client(served) as client:
        csrf = _sign_in(client)
        with client.stream("GET", "/lesson/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = _events(stream.iter_lines())
            first = next(events)
            assert first["clock"]["phase"] in ("idle", "ended") and "Teacher table" in \
                first["board"]
            done = threading.Event()

            def start() -> None:
                with _client(served) as other:
                    other.cookies = client.cookies
                    other.post("/lesson/action", data={"action": "start"},
                               headers={"x-csrf-token": csrf})
                done.set()
            threading.Thread(target=start).start()
            running = next(e for e in events if e["clock"]["phase"] == "running")
            assert running["clock"]["block"] == 1 and running["clock"]["remaining"] > 0
    assert done.wait(10) and service.view.rotation.phase.value == "running"


def _events(lines: Iterator[str]) -> Iterator[dict]:
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == "lesson":
            yield json.loads(line[6:])


def test_the_hub_starts_and_stops_its_console(deployed_room, tmp_path) -> None:
    from hub.app import run_hub

    hub_toml = deployed_room.hub_config(settings={"process": False}, console={})
    write_teachers(hub_toml.parent / "teachers.toml")
    config = load_hub_config(hub_toml)
    stop = threading.Event()
    base = f"https://127.0.0.1:{config.console.port}"
    ca = ssl.create_default_context(cafile=deployed_room.out / "broker" / "ca.crt")
    config = replace(config, display=False)
    thread = threading.Thread(target=lambda: run_hub(config, stop=stop, seconds=60),
                              daemon=True)
    thread.start()

    def up() -> bool:
        try:
            return httpx.get(f"{base}/login", verify=ca, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
    try:
        assert wait_until(up, timeout=20, interval=0.2)
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/login", verify=ca, timeout=2)


def test_a_console_without_its_certificate_leaves_the_hub_running(deployed_room, caplog) -> None:
    from hub.console.server import ConsoleServer
    from hub.service import HubService

    hub_toml = deployed_room.hub_config(settings={"process": False},
                                        console={"keyfile": "no-such.key"})
    config = load_hub_config(hub_toml)
    service = HubService(config)
    try:
        server = ConsoleServer(service, config.console).start()
        assert not server.running
        assert any("keyfile" in r.getMessage() and "no such file" in r.getMessage()
                   for r in caplog.records)
    finally:
        service.stop()
