#!/usr/bin/env python3
"""Pictures of the teacher console for the README: the lesson page, suggested groups and a
student's history, at a laptop's and a phone's width, taken with Debian's Chromium
(Playwright) on the demo room as deployed, with a few weeks of check-ins.

    .venv/bin/python scripts/console_pictures.py [--out docs/console]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {"laptop": (1280, 800), "phone": (390, 844)}


def main() -> int:
    from tests.console_helpers import chromium, console_room, sign_in

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console",
                        help="folder for the PNG files (default docs/console)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="console-pictures-") as tmp, \
            console_room(Path(tmp)) as room, chromium(room.cert) as browser:
        service = room.service
        now = time.time()
        # Three weeks of Ana's check-ins: unsure at first, sure by the end.
        history = [(1, 1), (2, 1), (1, 2), (2, 2), (3, 2), (2, 3), (3, 3), (4, 3), (3, 4),
                   (4, 4)]
        for k, (confidence, goal) in enumerate(history):
            room.check_in("s1", "stu-01", now - 86400 * (21 - 2 * k), confidence=confidence,
                          goal=goal)
        service.teacher("start").result(10)
        service.teacher("extend", -0.5).result(10)
        snap = service.view.rotation
        t = time.time()
        for station, students in snap.expected.items():
            for student in students[:3]:
                room.check_in(station, student, t)
        wrong = snap.expected["s3"][3]
        room.check_in("s4", wrong, t)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(service.view.arrivals) < 14:
            time.sleep(0.1)
        time.sleep(0.5)
        # This week's quiz scores, and the teacher asked for skill groups.
        service.import_scores(ROOT / "stations" / "room" / "samples" / "scores.csv").result(10)
        service.request_groups("skill").result(30)
        for kind, (w, h) in SIZES.items():
            context = browser.new_context(viewport={"width": w, "height": h},
                                          device_scale_factor=1 if kind == "laptop" else 2)
            page = context.new_page()
            sign_in(page, room.url)
            page.wait_for_url(f"{room.url}/lesson")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(args.out / f"lesson-{kind}.png"), full_page=kind == "laptop")
            page.goto(f"{room.url}/groups")
            page.wait_for_load_state()
            page.screenshot(path=str(args.out / f"groups-{kind}.png"),
                            full_page=kind == "laptop")
            page.goto(f"{room.url}/roster")
            page.get_by_role("link", name="Ana Rivera").click()
            page.wait_for_load_state()
            page.screenshot(path=str(args.out / f"student-{kind}.png"),
                            full_page=kind == "laptop")
            context.close()
            print(args.out / f"lesson-{kind}.png")
            print(args.out / f"groups-{kind}.png")
            print(args.out / f"student-{kind}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
