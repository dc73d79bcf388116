"""The teacher console's live lesson page: how soon a check-in shows, and how heavy the page is.

On the room as deployed (a real Mosquitto with the room's generated config, stations
publishing over TLS with their own credentials, the hub's MQTT client in its own process, the
console over HTTPS from the hub's own thread), with Debian's Chromium driven by Playwright on
an open lesson page signed in as a teacher:

* page: from a check-in stored by the hub (its ``received_at``, the hub's clock) to the
  student showing as present on the open lesson page (a MutationObserver, the page's clock:
  ``performance.timeOrigin + performance.now()``; both clocks are this machine's).
* display (the baseline, same run, same check-ins): from the same ``received_at`` to the
  first HubView that holds the arrival, the snapshot the hub display draws.
* the lesson page's weight (document and every resource it loads) and its load time
  (navigation start to the load event), over ``--loads`` fresh loads.

Each round checks every expected student in at their station, one every ``--gap`` seconds,
then skips to the next block. With ``--json`` the last line is one JSON object.

    python bench/console.py [--rounds 4] [--gap 0.15] [--loads 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

OBSERVER = """() => {
    window.seen = {};
    const board = document.getElementById('board');
    const look = () => {
        const at = performance.timeOrigin + performance.now();
        for (const el of board.querySelectorAll('li.s-present .name'))
            if (!(el.textContent in window.seen)) window.seen[el.textContent] = at;
    };
    look();
    new MutationObserver(look).observe(board, {childList: true, subtree: true,
                                               characterData: true});
}"""


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def run(rounds: int, gap: float, loads: int) -> dict[str, float]:
    from tests.console_helpers import chromium, console_room, sign_in

    page_ms: list[float] = []
    display_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp, \
            console_room(Path(tmp), process=True) as room, chromium(room.cert) as browser:
        service = room.service
        first_view: dict[str, float] = {}
        lock = threading.Lock()

        def on_view(view) -> None:  # the ingest thread: when each arrival reaches the view
            now = time.time()
            with lock:
                for a in view.arrivals:
                    if a.at >= view.rotation.block_started_at:
                        first_view.setdefault(a.student_id, now)
        service.add_view_listener(on_view)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        sign_in(page, room.url)
        page.wait_for_url(f"{room.url}/lesson")
        service.teacher("start").result(10)
        for _ in range(rounds):
            page.goto(f"{room.url}/lesson")
            page.evaluate(OBSERVER)
            with lock:
                first_view.clear()
            snap = service.view.rotation
            names = service.view.student_names
            sent: list[tuple[str, str]] = []
            for station, students in snap.expected.items():
                for student in students:
                    message = room.check_in(station, student, time.time())
                    sent.append((student, message.id))
                    time.sleep(gap)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                seen = page.evaluate("window.seen")
                if all(names[s] in seen for s, _ in sent):
                    break
                time.sleep(0.1)
            seen = page.evaluate("window.seen")
            db = service.store.db
            for student, mid in sent:
                row = db.execute("SELECT received_at FROM checkins WHERE id=?", (mid,)).fetchone()
                if row is None:
                    continue
                stored = row[0]
                if names[student] in seen:
                    page_ms.append(seen[names[student]] - stored * 1000)
                with lock:
                    if student in first_view:
                        display_ms.append((first_view[student] - stored) * 1000)
            service.teacher("skip").result(10)
        service.remove_view_listener(on_view)
        weights, load_ms = [], []
        for _ in range(loads):
            fresh = browser.new_context(viewport={"width": 1280, "height": 800})
            p = fresh.new_page()
            sign_in(p, room.url)
            p.wait_for_url(f"{room.url}/lesson")
            p.goto(f"{room.url}/lesson", wait_until="load")
            timing = p.evaluate("""() => {
                const nav = performance.getEntriesByType('navigation')[0];
                const res = performance.getEntriesByType('resource')
                    .filter(r => !r.name.endsWith('/lesson/events'));
                return {load: nav.loadEventEnd - nav.startTime,
                        bytes: nav.encodedBodySize + res.reduce((n, r) => n + r.encodedBodySize, 0),
                        resources: res.length};
            }""")
            weights.append(timing["bytes"])
            load_ms.append(timing["load"])
            fresh.close()
        context.close()
    return {
        "checkins": len(page_ms),
        "page_ms_p50": round(_pct(page_ms, 50), 1),
        "page_ms_p99": round(_pct(page_ms, 99), 1),
        "display_ms_p50": round(_pct(display_ms, 50), 1),
        "display_ms_p99": round(_pct(display_ms, 99), 1),
        "lesson_page_bytes": int(statistics.median(weights)),
        "lesson_page_load_ms_p50": round(_pct(load_ms, 50), 1),
        "lesson_page_load_ms_max": round(max(load_ms), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="blocks of check-ins (16 each)")
    parser.add_argument("--gap", type=float, default=0.15,
                        help="seconds between two check-ins")
    parser.add_argument("--loads", type=int, default=5, help="fresh loads of the lesson page")
    parser.add_argument("--json", action="store_true", help="last line: the figures as JSON")
    args = parser.parse_args()
    r = run(args.rounds, args.gap, args.loads)
    print(f"check-ins measured: {r['checkins']}")
    print(f"lesson page (console, SSE):  p50 {r['page_ms_p50']:7.1f} ms   "
          f"p99 {r['page_ms_p99']:7.1f} ms   after the hub stored the check-in")
    print(f"hub display (HubView):       p50 {r['display_ms_p50']:7.1f} ms   "
          f"p99 {r['display_ms_p99']:7.1f} ms   (baseline, same run)")
    print(f"lesson page: {r['lesson_page_bytes'] / 1024:.1f} KiB with its assets, loads in "
          f"{r['lesson_page_load_ms_p50']:.0f} ms (p50), {r['lesson_page_load_ms_max']:.0f} ms "
          "(slowest)")
    if args.json:
        print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
