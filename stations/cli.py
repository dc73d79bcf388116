"""The one console command, ``stations``, and its subcommands."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from stations.errors import StationsError

log = logging.getLogger("stations")


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _quiet_pygame() -> None:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def cmd_hub(args: argparse.Namespace) -> int:
    from hub.app import run_hub
    from hub.config import load_hub_config

    config = load_hub_config(args.config)
    if args.headless:
        from kiosk.app import headless_environment
        headless_environment()
    if args.no_display:
        from dataclasses import replace
        config = replace(config, display=False)
    # Two busy threads share the GIL (paho's network thread and ingest): handing it over
    # every 5 ms (the default) costs more than it gives under a flood of check-ins.
    sys.setswitchinterval(0.02)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        from stations.sdnotify import Notifier

        run_hub(config, stop=stop, seconds=args.seconds, screenshot=args.screenshot,
                stats=args.stats, notifier=Notifier.from_environment())
    return 0


def cmd_kiosk(args: argparse.Namespace) -> int:
    from kiosk.app import KioskWindow, headless_environment
    from kiosk.autopilot import SimulatedStudents
    from kiosk.config import load_kiosk_config
    from kiosk.readers.simulated import SimulatedReader
    from kiosk.runtime import KioskRuntime

    config = load_kiosk_config(args.config)
    if args.headless:
        headless_environment()
    autopilot = None
    if args.simulate:
        from hub.roster import read_roster_file
        entries = read_roster_file(args.simulate)
        badges = [b for e in entries for b in e.badges]
        groups: dict[str, list[str]] = {}
        if args.groups is not None:  # students go where the hub's rotation sends their group
            from hub.config import load_hub_config

            badges_of = {e.student.id: list(e.badges) for e in entries}
            groups = {g.id: [b for m in g.members for b in badges_of.get(m, [])]
                      for g in load_hub_config(args.groups).plan.groups}
        autopilot = SimulatedStudents(badges, seed=args.seed, gap_s=args.gap, groups=groups)
    reader = _make_reader(config) if not args.simulate else SimulatedReader()
    feedback = []
    if config.gpio_feedback:
        from kiosk.feedback import Feedback
        from kiosk.pinmap import load_pinmap

        feedback.append(Feedback.from_pinmap(load_pinmap().boards["kiosk"]))
    runtime = KioskRuntime(config, reader, autopilot=autopilot, feedback=feedback)
    for sink in feedback:
        sink.on_button(runtime.physical_button)
    signal.signal(signal.SIGTERM, lambda *_: runtime.request_stop())
    with contextlib.suppress(KeyboardInterrupt):
        KioskWindow(runtime, screenshots=args.screenshots).run(seconds=args.seconds)
    if args.stats:
        runtime.write_stats(args.stats)
    return 0


def _make_reader(config):  # type: ignore[no-untyped-def]
    from kiosk.readers.simulated import SimulatedReader

    if config.reader_kind == "simulated":
        return SimulatedReader()
    try:
        from kiosk.readers.factory import create_reader  # type: ignore[import-not-found]
    except ImportError as err:
        raise StationsError(f"{config.path}: reader.kind {config.reader_kind!r} is not "
                            "available in this build") from err
    return create_reader(config.reader_kind, config.reader)


def cmd_demo(args: argparse.Namespace) -> int:
    from stations.demo import run_demo

    return run_demo(seconds=args.seconds, headless=args.headless, out=args.out,
                    stations=args.stations, as_json=args.json, seed=args.seed,
                    block_minutes=args.block_minutes)


def cmd_screenshots(args: argparse.Namespace) -> int:
    from kiosk.app import headless_environment
    from kiosk.screenshots import save_screenshots

    headless_environment()
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError as err:
        raise StationsError(f"--size {args.size!r}: write it as WIDTHxHEIGHT, "
                            "e.g. 800x480") from err
    written = save_screenshots(args.out, args.lang, (w, h))
    print(f"{len(written)} screenshots in {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stations", description=__doc__)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run a whole room on this machine: broker, hub, kiosks")
    demo.add_argument("--headless", action="store_true", help="SDL dummy driver, no windows")
    demo.add_argument("--seconds", type=float, default=None,
                      help="stop after this long (default: until the hub window is closed; "
                           "30 with --headless)")
    demo.add_argument("--stations", type=int, default=4, help="kiosks to start (1-4)")
    demo.add_argument("--out", type=Path, default=None, help="folder for screenshots and data")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--block-minutes", type=float, default=2.0, metavar="MIN",
                      help="length of the demo lesson's blocks (default 2; the warning comes "
                           "at a quarter of it before the end)")
    demo.add_argument("--json", action="store_true", help="last line: the summary as JSON")
    demo.set_defaults(func=cmd_demo)

    hub = sub.add_parser("hub", help="run the classroom hub")
    hub.add_argument("--config", type=Path, required=True)
    hub.add_argument("--headless", action="store_true")
    hub.add_argument("--no-display", action="store_true", help="service only, no window")
    hub.add_argument("--seconds", type=float, default=None)
    hub.add_argument("--screenshot", type=Path, default=None, help="PNG of the display at exit")
    hub.add_argument("--stats", type=Path, default=None, help="JSON counters at exit")
    hub.set_defaults(func=cmd_hub)

    kiosk = sub.add_parser("kiosk", help="run a station kiosk")
    kiosk.add_argument("--config", type=Path, required=True)
    kiosk.add_argument("--headless", action="store_true")
    kiosk.add_argument("--seconds", type=float, default=None)
    kiosk.add_argument("--simulate", type=Path, default=None, metavar="ROSTER",
                       help="simulated students tap badges from this roster file")
    kiosk.add_argument("--groups", type=Path, default=None, metavar="HUB_TOML",
                       help="with --simulate: students follow this hub's groups")
    kiosk.add_argument("--seed", type=int, default=0)
    kiosk.add_argument("--gap", type=float, default=1.0, help="mean seconds between students")
    kiosk.add_argument("--screenshots", type=Path, default=None)
    kiosk.add_argument("--stats", type=Path, default=None)
    kiosk.set_defaults(func=cmd_kiosk)

    shots = sub.add_parser("screenshots", help="PNG of every kiosk screen, per language")
    shots.add_argument("--out", type=Path, default=Path("docs/screens"))
    shots.add_argument("--lang", nargs="+", default=["en", "es"])
    shots.add_argument("--size", default="800x480", help="WIDTHxHEIGHT")
    shots.set_defaults(func=cmd_screenshots)

    for register in _registrars():
        register(sub)
    return parser


def _registrars():  # type: ignore[no-untyped-def]
    """Subcommands that live beside the code they run, each module's ``register(sub)``."""
    from broker import cli as broker_cli
    from hub import cli as hub_cli
    from hub.grouping import cli as grouping_cli
    from kiosk import cli as kiosk_cli
    from provisioning import cli as provisioning_cli

    return [broker_cli.register, hub_cli.register, grouping_cli.register,
            kiosk_cli.register, provisioning_cli.register]


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_pygame()
    args = build_parser().parse_args(argv)
    _setup_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except StationsError as err:
        print(f"stations: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
