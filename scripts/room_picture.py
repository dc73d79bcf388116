"""The README's picture of the windowed demo: `stations demo` on a virtual screen (Xvfb).

    .venv/bin/python scripts/room_picture.py --out docs/demo-room-1920x1080.png --at 38

Runs the demo with windows on a virtual screen of --size, saves the whole screen --at seconds
after the demo started (more than one --at: one picture each, numbered), then lets the demo
stop cleanly. Needs Xvfb (`apt-get install xvfb`) and the `test` extra (python-xlib).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.xserver import VirtualScreen  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--size", default="1920x1080", help="the screen (default 1920x1080)")
    parser.add_argument("--at", type=float, nargs="+", default=[38.0],
                        help="seconds after the start to take the picture (default 38)")
    parser.add_argument("--block-minutes", default="0.5",
                        help="the demo lesson's blocks (default 0.5: a move within a minute)")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    with VirtualScreen((w, h)) as screen, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        demo = subprocess.Popen(
            [sys.executable, "-m", "stations", "--log-level", "WARNING", "demo", "--seconds",
             str(max(args.at) + 5), "--out", tmp, "--block-minutes", args.block_minutes],
            cwd=ROOT, env=screen.environment(), stdout=subprocess.PIPE, text=True)
        for k, at in enumerate(sorted(args.at)):
            time.sleep(max(0.0, started + at - time.monotonic()))
            out = args.out if len(args.at) == 1 else args.out.with_stem(f"{args.out.stem}-{k}")
            print(screen.save(out))
        stdout, _ = demo.communicate(timeout=180)
        print(stdout, end="")
        return demo.returncode


if __name__ == "__main__":
    sys.exit(main())
