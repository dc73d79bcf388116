"""Suggested groups inside the hub: how long a teacher waits, and whether the display notices.

On the room as deployed (a real Mosquitto with the room's generated config; the hub service
with its own credentials, its MQTT client in its own process; six stations publishing over
TLS with their own), a class of ``--students`` (36) with three standards of scores imported
through the hub (a few missing) and three lessons of check-ins with confidence and goal
answers, so the engine gets the reflections' features and the pair history as in a school:

* suggest: from ``HubService.request_groups("skill")`` to the suggestion offered on the view
  (the class's data gathered on the ingest thread, the engine on the hub's worker thread),
  over ``--runs`` requests, each one rejected before the next; mixed groups the same way;
* baseline, same run and data: the engine alone (``hub.grouping.make_groups``) on the very
  input the hub gathered, in this thread;
* the display while it happens: a thread drawing the teacher view every 1/8 s (the hub
  display's pace) through the real painter under SDL's dummy driver; the intervals between
  frames and each frame's drawing time, for ``--seconds`` with nothing to do (the baseline)
  and for ``--seconds`` of back-to-back requests.

With ``--json`` the last line is one JSON object holding the figures.

    python bench/hub_groups.py [--students 36] [--runs 7] [--seconds 4] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

STATIONS = ("s1", "s2", "s3", "s4", "s5", "s6")
CLASS = "bench-class"
FRAME_S = 1 / 8


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def room_files(folder: Path, n: int) -> tuple[Path, Path, list[str]]:
    """A hub.toml template of the demo room with six stations, no fixed groups and a class
    of ``n``; its roster; the students' badges."""
    text = (ROOT / "stations" / "room" / "hub.toml").read_text()
    text = text[:text.index("[[groups]]")]  # groups come from the class's data
    text = re.sub(r"\[rotation\.teacher_table\]\n(\w+ = .*\n)+", "", text)
    text = text.replace('id = "demo-4a"', f'id = "{CLASS}"').replace("capacity = 6", "capacity = 8")
    for sid, kind, colour in (("s5", "online", "sky"), ("s6", "collaborative", "yellow")):
        text += (f'\n[[stations]]\nid = "{sid}"\nname = "Table {sid[1]}"\nkind = "{kind}"\n'
                 f'colour = "{colour}"\nactivities = [{{ id = "work", label = "Work" }}]\n')
    template = folder / "template-hub.toml"
    template.write_text(text)
    roster = [f'[[classes]]\nid = "{CLASS}"\ntitle = "Benchmark class"\n']
    badges = []
    for k in range(n):
        badge = f"B{k:07X}"
        badges.append(badge)
        roster.append(f'[[students]]\nid = "b{k:03d}"\ngiven_name = "Kid{k}"\n'
                      f'family_name = "Bench"\nclasses = ["{CLASS}"]\nbadges = ["{badge}"]\n')
    (folder / "roster.toml").write_text("\n".join(roster))
    return template, folder / "roster.toml", badges


def scores_file(folder: Path, n: int) -> Path:
    from hub.grouping.synthetic import synthetic_class

    cls = synthetic_class(n, seed=3)
    lines = ["sourcedId,given_name,date," + ",".join(cls.standards)]
    for k, s in enumerate(cls.students):
        cells = ["" if s.scores[std] is None else f"{s.scores[std]:.0f}"
                 for std in cls.standards]
        lines.append(f"b{k:03d},Kid{k},2025-10-03," + ",".join(cells))
    path = folder / "quiz.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


class Display(threading.Thread):
    """Draws the teacher view every 1/8 s, as the hub display does; records its pace."""

    def __init__(self, service) -> None:  # type: ignore[no-untyped-def]
        super().__init__(name="bench-display", daemon=True)
        self.service = service
        self.stop = threading.Event()
        self.marks: list[tuple[float, float]] = []  # (frame start, drawing seconds)

    def run(self) -> None:
        import pygame

        from hub.controls import Controls
        from hub.display import draw_hub
        from stations.ui.painter import Painter

        surface = pygame.Surface((1280, 720))
        painter = Painter(surface)
        controls = Controls(teacher=True)
        due = time.perf_counter()
        while not self.stop.is_set():
            start = time.perf_counter()
            draw_hub(self.service.view, painter, controls, time.time())
            self.marks.append((start, time.perf_counter() - start))
            due += FRAME_S
            time.sleep(max(0.0, due - time.perf_counter()))

    def window(self, since: float, until: float) -> tuple[list[float], list[float]]:
        marks = [m for m in self.marks if since <= m[0] <= until]
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(marks)]
        return [1000 * g for g in gaps], [1000 * d for _s, d in marks]


def run(students: int, runs: int, seconds: float) -> dict[str, float]:
    import pygame

    from broker import contract as c
    from hub.config import load_hub_config
    from hub.grouping import make_groups
    from hub.service import HubService
    from hub.suggest import GroupRequest, gather
    from stations.deployment import DeployedRoom
    from tests.broker_helpers import StationListener

    pygame.display.init()
    pygame.font.init()
    with tempfile.TemporaryDirectory(prefix="bench-groups-") as tmp:
        folder = Path(tmp)
        template, roster, badges = room_files(folder, students)
        deployed = DeployedRoom(folder / "room", stations=STATIONS).start()
        service = None
        listeners: dict[str, StationListener] = {}
        try:
            hub_toml = deployed.hub_config(template=template, roster=roster,
                                           replace={"autostart = true": "autostart = false"})
            service = HubService(load_hub_config(hub_toml))
            service.start()
            assert service.bus.wait_connected(10)
            listeners = {s: StationListener(deployed, s) for s in STATIONS}
            menus = {s.id: s.activities[0].id for s in service.config.plan.stations}
            service.import_scores(scores_file(folder, students)).result(30)
            sent = 0
            for lesson in range(3):  # three lessons of reflections and groups
                service.teacher("start").result(10)
                for k, badge in enumerate(badges):
                    sid = f"b{k:03d}"
                    where = service.rotation.station_id_for(sid) or "s1"
                    at = time.time()
                    message = c.CheckIn(**c.envelope(where, at), badge=badge,
                                        answers={"confidence": 1 + (k + lesson * (k % 3)) % 4,
                                                 "goal": 1 + (k * 7 + lesson) % 4},
                                        activity=menus[where], tapped_at=at)
                    listeners[where].publish("checkin", message)
                    sent += 1
                    time.sleep(0.02)  # stations one check-in at a time, not a flood
                deadline = time.monotonic() + 30
                while service.ingest.stats.stored < sent and time.monotonic() < deadline:
                    time.sleep(0.05)
                service.teacher("end").result(10)
            service.teacher("start").result(10)
            # the engine alone on what the hub gathers: the baseline
            plan, groups = service._class_plan(CLASS)
            inp = service.call(lambda now: gather(
                service.store, service.roster, service.book, GroupRequest(CLASS, "skill"),
                plan, groups, now)).result(10)
            alone = []
            for _ in range(runs):
                t0 = time.perf_counter()
                make_groups(inp.cls, inp.constraints, inp.options)
                alone.append(1000 * (time.perf_counter() - t0))
            display = Display(service)
            display.start()
            time.sleep(seconds)  # idle: nothing but the countdown
            idle_until = time.perf_counter()
            timings: dict[str, list[float]] = {"skill": [], "mixed": []}
            busy_from = time.perf_counter()
            while time.perf_counter() - busy_from < seconds or min(
                    len(v) for v in timings.values()) < runs:
                for mode in timings:
                    t0 = time.perf_counter()
                    service.request_groups(mode).result(60)
                    timings[mode].append(1000 * (time.perf_counter() - t0))
                    service.teacher("reject_groups").result(10)
            busy_until = time.perf_counter()
            display.stop.set()
            display.join(5)
            idle_gaps, idle_draw = display.window(idle_until - seconds, idle_until)
            busy_gaps, busy_draw = display.window(busy_from, busy_until)
            features = sum(1 for f in inp.cls.students if f.features)
            return {
                "students": students, "groups": len(groups), "runs": runs,
                "students_with_features": features,
                "recent_pairs": len(inp.options.recent_pairs),
                "suggest_skill_ms_p50": statistics.median(timings["skill"]),
                "suggest_skill_ms_max": max(timings["skill"]),
                "suggest_mixed_ms_p50": statistics.median(timings["mixed"]),
                "suggest_mixed_ms_max": max(timings["mixed"]),
                "engine_alone_ms_p50": statistics.median(alone),
                "frame_interval_ms_p50_idle": statistics.median(idle_gaps),
                "frame_interval_ms_p99_idle": _pct(idle_gaps, 99),
                "frame_interval_ms_max_idle": max(idle_gaps),
                "frame_interval_ms_p50_suggesting": statistics.median(busy_gaps),
                "frame_interval_ms_p99_suggesting": _pct(busy_gaps, 99),
                "frame_interval_ms_max_suggesting": max(busy_gaps),
                "frame_draw_ms_p99_idle": _pct(idle_draw, 99),
                "frame_draw_ms_p99_suggesting": _pct(busy_draw, 99),
                "frames_suggesting": len(busy_gaps) + 1,
                "suggestions": sum(len(v) for v in timings.values()),
            }
        finally:
            for listener in listeners.values():
                listener.close()
            if service is not None:
                service.stop()
            deployed.stop()
            pygame.quit()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=36, help="students in the class")
    p.add_argument("--runs", type=int, default=7, help="requests per mode, at least")
    p.add_argument("--seconds", type=float, default=4.0,
                   help="seconds of idle display, then of back-to-back requests")
    p.add_argument("--json", action="store_true", help="end with one JSON object")
    args = p.parse_args()
    r = run(args.students, args.runs, args.seconds)
    print(f"{r['students']} students, {r['groups']} groups, {r['students_with_features']} "
          f"with reflection features, {r['recent_pairs']} recent pairs")
    print(f"suggest (request to offer on the view): skill p50 {r['suggest_skill_ms_p50']:.0f} "
          f"ms (max {r['suggest_skill_ms_max']:.0f}), mixed p50 "
          f"{r['suggest_mixed_ms_p50']:.0f} ms (max {r['suggest_mixed_ms_max']:.0f}); "
          f"baseline, the engine alone: {r['engine_alone_ms_p50']:.0f} ms")
    print(f"display frame interval (target {1000 * FRAME_S:.0f} ms): idle p50 "
          f"{r['frame_interval_ms_p50_idle']:.1f} / p99 {r['frame_interval_ms_p99_idle']:.1f} "
          f"/ max {r['frame_interval_ms_max_idle']:.1f} ms; while suggesting p50 "
          f"{r['frame_interval_ms_p50_suggesting']:.1f} / p99 "
          f"{r['frame_interval_ms_p99_suggesting']:.1f} / max "
          f"{r['frame_interval_ms_max_suggesting']:.1f} ms "
          f"({r['suggestions']} suggestions, {r['frames_suggesting']} frames)")
    print(f"frame drawing p99: idle {r['frame_draw_ms_p99_idle']:.1f} ms, while suggesting "
          f"{r['frame_draw_ms_p99_suggesting']:.1f} ms")
    if args.json:
        print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
