"""A student's own history: in the reply to their own hello only, to the station they are at,
off when the class turns it off, gone with the visit, and never on the hub's class view."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pygame
import pytest

from broker import contract as c
from hub.config import load_hub_config
from hub.display import draw_hub
from hub.ingest import Ingest
from hub.roster import Roster, RosterEntry, Student
from hub.rotation import Rotation, RotationPlan
from hub.screenshots import scene
from hub.store import HubStore, open_db
from kiosk.i18n import translator
from kiosk.machine import KioskMachine
from kiosk.screens.base import Context, HubReply, ScreenId, Tap
from stations.ui.painter import Painter
from tests.conftest import ROOM

ROOM_ID = "room-1"
ANA, BEN = "0A0B0C01", "0A0B0C02"


def ingest(tmp_path: Path, shows: bool = True) -> Ingest:
    db = open_db(tmp_path / "hub.db")
    roster = Roster(db)
    roster.load([RosterEntry(Student("stu-ana", "Ana", "Rivera"), (ANA,)),
                 RosterEntry(Student("stu-ben", "Ben", "Kim"), (BEN,))])
    return Ingest(ROOM_ID, HubStore(db), roster, Rotation(RotationPlan((), (), 600)),
                  shows_history=lambda _student: shows)


def hello(hub: Ingest, station: str, badge: str, now: float) -> tuple[str, c.Reply]:
    message = c.Hello(**c.envelope(station, now), badge=badge)
    (out,) = hub.handle(c.station_topic(ROOM_ID, station, "hello"), c.encode(message), now)
    return out.topic, c.decode(out.topic, out.payload)[1]


def past_checkins(hub: Ingest, badge: str, answers: list[dict[str, int]], now: float) -> None:
    for k, a in enumerate(answers):
        at = now - 3600 * (len(answers) - k)
        m = c.CheckIn(**c.envelope("s1", at), badge=badge, answers=a, activity="read",
                      tapped_at=at)
        hub.handle(c.station_topic(ROOM_ID, "s1", "checkin"), c.encode(m), at)


def test_only_the_tapping_student_gets_their_own_last_five(tmp_path: Path) -> None:
    hub = ingest(tmp_path)
    now = time.time()
    past_checkins(hub, ANA, [{"confidence": v, "goal": 1 + v % 4} for v in (1, 2, 3, 4, 1, 2)],
                  now)
    past_checkins(hub, BEN, [{}], now)  # a check-in without reflection is not history
    topic, reply = hello(hub, "s2", ANA, now)
    assert topic == c.station_topic(ROOM_ID, "s2", "reply")  # the station Ana is at
    assert [p.answers["confidence"] for p in reply.history] == [2, 3, 4, 1, 2]  # oldest first
    _topic, reply = hello(hub, "s3", BEN, now)
    assert reply.history == () and b"history" not in c.encode(reply)
    # an unknown badge gets nothing
    _topic, reply = hello(hub, "s3", "0A0B0C99", now)
    assert reply.status == "unknown_badge" and reply.history == ()


def test_off_when_the_class_turns_it_off(tmp_path: Path) -> None:
    text = (ROOM / "hub.toml").read_text().replace("history = true", "history = false")
    (tmp_path / "hub.toml").write_text(text)
    (tmp_path / "roster.toml").write_text((ROOM / "roster.toml").read_text())
    config = load_hub_config(tmp_path / "hub.toml")
    assert not config.shows_history(config.class_id)
    hub = ingest(tmp_path, shows=config.shows_history(config.class_id))
    now = time.time()
    past_checkins(hub, ANA, [{"confidence": 3}], now)
    _topic, reply = hello(hub, "s1", ANA, now)
    assert reply.status == "accepted" and reply.history == ()


def test_the_station_shows_it_and_forgets_it(tmp_path: Path) -> None:
    pygame.init()
    try:
        ids = iter(f"{n:032x}" for n in range(100))
        ctx = Context(station="s1", station_name="Quiet corner", fallback_activities=(
            c.Activity("read", "Read", "book"),))
        m = KioskMachine(ctx, lambda: next(ids), 0.0)
        surface = pygame.Surface((800, 480))
        ui = Painter(surface, translator("en"))
        m.dispatch(Tap(ANA), 0.0)
        history = (c.PastReflection({"confidence": 1}), c.PastReflection({"confidence": 4}))
        m.dispatch(HubReply(c.Reply(**c.envelope("hub"), in_reply_to=ctx.visit.hello_id,
                                    request="hello", status="accepted",
                                    display_name="Ana R.", history=history)), 0.1)
        m.update(3.0)
        assert m.screen_id is ScreenId.HISTORY
        m.current.draw(ctx, ui, 3.0)
        shown = pygame.image.tobytes(surface, "RGB")
        empty = dataclasses.replace(ctx.visit, history=())
        ctx.visit, kept = empty, ctx.visit
        m.current.draw(ctx, ui, 3.0)
        assert pygame.image.tobytes(surface, "RGB") != shown  # the faces are what is drawn
        ctx.visit = kept
        m.update(3.0 + 6.0)
        m.update(3.0 + 6.0 + 60.0)  # walks away
        assert m.screen_id is ScreenId.IDLE and ctx.visit is None
    finally:
        pygame.quit()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_never_on_the_class_view(tmp_path: Path, size: tuple[int, int]) -> None:
    """The hub's class view is drawn the same, pixel for pixel, before and after students
    with a history tap in and get it."""
    pygame.init()
    hub = scene(tmp_path)
    try:
        def picture() -> bytes:
            view = dataclasses.replace(hub.view, connected=True, message="")
            surface = pygame.Surface(size)
            draw_hub(view, Painter(surface), None, view.at)
            return pygame.image.tobytes(surface, "RGB")

        hub.step(0)
        before = picture()
        room, now = hub.room, hub.clock()
        replies = 0
        for badge in list(hub.store.db.execute("SELECT badge FROM badges"))[:6]:
            message = c.Hello(**c.envelope("s1", now), badge=badge[0])
            for out in hub.ingest.handle(c.station_topic(room, "s1", "hello"),
                                         c.encode(message), now):
                replies += bool(c.decode(out.topic, out.payload)[1].history)
        hub.step(0)
        assert replies >= 2  # the flagged students of the scene have a history
        assert picture() == before
    finally:
        hub.store.db.close()
        pygame.quit()
