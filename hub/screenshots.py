"""`stations hub-screenshots --out docs/hub`: a PNG of each hub view, from a real lesson.

The scene is made by the real code: the demo room's config, a hub service (never started,
so no broker is needed) on a database in a temporary folder, real check-in messages through
the ingest core, the rotation engine on an injected clock. Then each view is drawn under
SDL's dummy driver and saved.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

from broker import contract as c
from hub.config import load_hub_config
from hub.controls import Controls
from hub.pin import hash_pin
from hub.service import HubService
from stations.files import undo_on_failure

ROOM = Path(__file__).resolve().parent.parent / "stations" / "room"
SIZES = ((1920, 1080), (1280, 720))
T0 = 1_760_000_000.0  # a fixed school morning, so the pictures do not change run to run


def scene(folder: Path, config_path: Path | None = None) -> HubService:
    """A lesson in block 2 with arrivals, a wrong station, an absence, flags and an offer."""
    # The room's own files, read only: the database goes in ``folder``. The teacher's PIN is
    # set, as in a real room (the demo's, 1234).
    config = dataclasses.replace(load_hub_config(config_path or ROOM / "hub.toml"),
                                 database=folder / "hub.db", autostart=False,
                                 teacher_pin_hash=hash_pin("1234"))
    now = [T0]
    hub = HubService(config, clock=lambda: now[0])
    room = config.room
    badges = {e.student_id: e.badge for e in _badges(hub)}
    stations = [s.id for s in config.plan.stations]
    hub.teacher("start")
    hub.step(0)
    # earlier lessons: two students reported low confidence twice
    flagged = list(badges)[:2]
    for sid in flagged:
        for k in range(2):
            _checkin(hub, room, stations[k], badges[sid], {"confidence": 1}, T0 - 86400 * (k + 1))
    now[0] = T0 + config.plan.block(0).total_s + 95  # block 2, a minute and a half in
    hub.step(0)
    snap = hub.rotation.snapshot(now[0])
    expected = snap.expected
    placed = 0
    for k, sid in enumerate(stations):
        for n, student in enumerate(expected[sid]):
            if n == 3 and k == 1:
                hub.teacher("absent", student=student)
                continue
            if n == 2 and k in (0, 2):
                continue  # not here yet
            where = stations[(k + 1) % len(stations)] if (n == 1 and k == 3) else sid
            answers = {"confidence": 1 if student in flagged else 3}
            _checkin(hub, room, where, badges[student], answers, now[0] - 30 + placed)
            placed += 1
    for sid in stations[:-1]:
        status = c.StationStatus(**c.envelope(sid, now[0]), state="online")
        hub.ingest.handle_batch([(c.station_topic(room, sid, "status"), c.encode(status))],
                                now[0])
    hub.teacher("enroll_start")
    hub.step(0)
    hello = c.Hello(**c.envelope(stations[1], now[0]), badge="04C0FFEE")
    hub.ingest.handle_batch([(c.station_topic(room, stations[1], "hello"), c.encode(hello))],
                            now[0])
    hub.step(0)
    # the teacher at the screen typed the PIN (or signed in at the console)
    hub.unlock_teacher_view(now[0] + 600)
    hub.step(0)
    return hub


@dataclasses.dataclass(frozen=True)
class _Badge:
    student_id: str
    badge: str


def _badges(hub: HubService) -> list[_Badge]:
    rows = hub.store.db.execute("SELECT student_id, badge FROM badges WHERE revoked=0 "
                                "ORDER BY student_id").fetchall()
    return [_Badge(s, b) for s, b in rows]


def _checkin(hub: HubService, room: str, station: str, badge: str, answers: dict[str, int],
             at: float) -> None:
    menu = next((s.activities for s in hub.config.plan.stations if s.id == station), ())
    message = c.CheckIn(**c.envelope(station, at), badge=badge, answers=answers,
                        activity=menu[0].id if menu else "read", tapped_at=at)
    hub.ingest.handle_batch([(c.station_topic(room, station, "checkin"), c.encode(message))],
                            at)


def with_suggestion(hub: HubService) -> None:
    """The scene, later: a second class meets in the room (with a plan of its own for the
    first), this week's scores are in, and the teacher asked for skill groups."""
    import time

    from hub.lessons import ClassPlan
    from stations.sqlitedb import transaction

    db = hub.store.db
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO classes (id, title) VALUES ('demo-4a-lit', "
                   "'Grade 4A · Literacy')")
        for sid in sorted(hub.view.student_names)[:12]:
            db.execute("INSERT OR IGNORE INTO enrollments (id, class_id, user_id, role) "
                       "VALUES (?, 'demo-4a-lit', ?, 'student')", (f"toml:lit:{sid}", sid))
    hub.book.save_plan(hub.class_id, ClassPlan("short", "Short blocks", (), 8))
    hub._choices_at = -1e9  # read the classes and plans again
    badges = {e.student_id: e.badge for e in _badges(hub)}
    at = hub.clock()
    for k, (sid, answers) in enumerate((("stu-01", (3, 2, 1)), ("stu-12", (2, 1)),
                                        ("stu-10", (2, 3, 4)))):
        station = hub.rotation.station_id_for(sid) or "s1"
        for n, level in enumerate(answers):  # confidence falling, and rising
            _checkin(hub, hub.room, station, badges[sid], {"confidence": level},
                     at + 2 + 12 * k + 3 * n)
    imported = hub.import_scores(ROOM / "samples" / "scores.csv")
    wanted = hub.request_groups("skill")
    deadline = time.monotonic() + 30
    while not (imported.done() and wanted.done()) and time.monotonic() < deadline:
        hub.step(0.05)
    wanted.result(0)


def render_views(out: Path, sizes: tuple[tuple[int, int], ...] = SIZES,
                 config_path: Path | None = None) -> list[Path]:
    """Save class, teacher, move-student, enroll-badge, the teacher PIN keypad, the lesson's
    class and plan, and suggested groups on the teacher view as PNGs; returns the files."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from hub.display import draw_hub
    from stations.ui.painter import Painter

    written: list[Path] = []
    pygame.display.init()
    pygame.font.init()
    try:
        with tempfile.TemporaryDirectory() as tmp, undo_on_failure(out):
            hub = scene(Path(tmp), config_path)
            out.mkdir(parents=True, exist_ok=True)
            try:
                view = dataclasses.replace(hub.view, connected=True, message="")
                first = next(iter(view.student_names))
                screens = {
                    "class": Controls(),
                    "teacher": Controls(teacher=True),
                    "move-student": Controls(teacher=True, dialog="student", student=first),
                    "enroll-badge": Controls(teacher=True, dialog="enroll"),
                    "teacher-pin": Controls(dialog="pin", pin_entry="12"),
                }
                shots = [(view, name, controls) for name, controls in screens.items()]
                with_suggestion(hub)
                later = dataclasses.replace(hub.view, connected=True, message="",
                                            teacher_message="")
                shots += [(later, "groups", Controls(teacher=True, dialog="groups")),
                          (later, "lesson", Controls(dialog="lesson"))]
                for w, h in sizes:
                    for scene_view, name, controls in shots:
                        surface = pygame.Surface((w, h))
                        draw_hub(scene_view, Painter(surface), controls, scene_view.at)
                        path = out / f"hub-{name}-{w}x{h}.png"
                        pygame.image.save(surface, str(path))
                        written.append(path)
            finally:
                hub._worker.shutdown()
                hub.store.db.close()
    finally:
        pygame.quit()
    return written
