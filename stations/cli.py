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

from stations.configsearch import config_help, load_config
from stations.errors import StationsError
from stations.files import undo_on_failure
from stations.lifecycle import stop_on_signals
from stations.ui.kmsdrm import check_display
from stations.ui.window import WindowGeometry, headless_environment

log = logging.getLogger("stations")


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _quiet_pygame() -> None:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def cmd_hub(args: argparse.Namespace) -> int:
    from hub.app import run_hub
    from hub.config import load_hub_config

    config = load_config(args.config, "hub.toml", load_hub_config)
    if args.headless:
        headless_environment()
    if args.no_display:
        from dataclasses import replace
        config = replace(config, display=False)
    if config.display:
        # Before the store is opened: a screen that cannot open is said plainly (what is
        # missing) and leaves no database behind.
        check_display()
    # Two busy threads share the GIL (paho's network thread and ingest): handing it over
    # every 5 ms (the default) costs more than it gives under a flood of check-ins.
    sys.setswitchinterval(0.02)
    stop, last_picture = threading.Event(), threading.Event()
    stop_on_signals(stop.set)
    # The demo's "take your last picture now", before it stops the stations.
    signal.signal(signal.SIGUSR1, lambda *_: last_picture.set())
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop at once
        from stations.sdnotify import Notifier

        run_hub(config, stop=stop, seconds=args.seconds, screenshot=args.screenshot,
                stats=args.stats, notifier=Notifier.from_environment(), window=args.window,
                last_picture=last_picture, on_close=_ask_parent if args.close_asks_parent
                else None)
    return 0


def _ask_parent() -> None:
    """The demo's hub window was closed: the demo stops the whole room, in order."""
    os.kill(os.getppid(), signal.SIGINT)


def cmd_kiosk(args: argparse.Namespace) -> int:
    from kiosk.app import KioskWindow
    from kiosk.autopilot import SimulatedStudents
    from kiosk.config import load_kiosk_config
    from kiosk.readers.simulated import SimulatedReader
    from kiosk.runtime import KioskRuntime

    config = load_config(args.config, "kiosk.toml", load_kiosk_config)
    if args.headless:
        headless_environment()
    # Before the outbox is opened: a screen that cannot open is said plainly (what is
    # missing) and leaves no outbox behind.
    check_display()
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
    stop_on_signals(runtime.request_stop)
    with contextlib.suppress(KeyboardInterrupt):
        KioskWindow(runtime, screenshots=args.screenshots,
                    geometry=args.window).run(seconds=args.seconds)
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
    from kiosk.i18n import check_languages
    from kiosk.screenshots import save_screenshots

    check_languages(args.lang)
    headless_environment()
    with undo_on_failure(args.out):
        written = save_screenshots(args.out, args.lang, args.size.size)
    print(f"{len(written)} screenshots in {args.out}")
    return 0


def _geometry(text: str) -> WindowGeometry:
    try:
        return WindowGeometry.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _service_options(parser: argparse.ArgumentParser, config: str, window: str) -> None:
    """The options the hub and a kiosk share: which config, a screen or none, how long."""
    parser.add_argument("--config", type=Path, default=None,
                        metavar=config.replace(".", "_").upper(), help=config_help(config))
    parser.add_argument("--headless", action="store_true",
                        help="draw off screen (SDL's dummy driver)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop after this long (default: run until stopped)")
    parser.add_argument("--window", type=_geometry, default=None, metavar="WxH+X+Y",
                        help=f"the window's size and place on the desktop (default: {window}, "
                             "placed by the desktop)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stations", description=__doc__)
    parser.add_argument("--log-level", default="INFO", metavar="LEVEL",
                        help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run a whole room on this machine: broker, hub, kiosks",
                          description="A whole room on this machine: Mosquitto with the room's "
                                      "generated config, the hub and up to four kiosks side "
                                      "by side, simulated students tapping in. Ctrl-C stops "
                                      "it cleanly and prints what happened.")
    demo.add_argument("--headless", action="store_true",
                      help="no windows (SDL's dummy driver): for CI and machines without a "
                           "screen")
    demo.add_argument("--seconds", type=float, default=None,
                      help="stop after this long (default: until the hub window is closed or "
                           "Ctrl-C; 30 with --headless)")
    demo.add_argument("--stations", type=int, default=4, metavar="N",
                      help="kiosks to start, 1-4 (default 4)")
    demo.add_argument("--out", type=Path, default=None, metavar="DIR",
                      help="folder for the room's files, logs and screenshots (default: "
                           "demo-out/DATE-TIME)")
    demo.add_argument("--seed", type=int, default=1,
                      help="seed for the simulated students (default 1): the same seed, the "
                           "same taps")
    demo.add_argument("--block-minutes", type=float, default=2.0, metavar="MIN",
                      help="length of the demo lesson's blocks (default 2; the warning comes "
                           "at a quarter of it before the end)")
    demo.add_argument("--json", action="store_true", help="last line: the summary as JSON")
    demo.set_defaults(func=cmd_demo)

    hub = sub.add_parser("hub", help="run the classroom hub: ingest, store, rotation, display",
                         description="The classroom hub. It needs the room's broker: on a "
                                     "hub that is Mosquitto with the room's generated config "
                                     "(stations broker-config); on a laptop, `stations demo` "
                                     "runs both.")
    _service_options(hub, "hub.toml", "the config's display.window")
    hub.add_argument("--no-display", action="store_true", help="service only, no window")
    hub.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                     help="save the display here while it runs (as check-ins arrive, at most "
                          "once a second)")
    hub.add_argument("--stats", type=Path, default=None, metavar="JSON",
                     help="write counters (stored, notices sent, refused) here at exit")
    hub.add_argument("--close-asks-parent", action="store_true",
                     help="closing the window asks the parent process to stop (the demo then "
                          "stops the whole room, in order)")
    hub.set_defaults(func=cmd_hub)

    kiosk = sub.add_parser("kiosk", help="run a station kiosk",
                           description="One station: fullscreen on a device, a window on a "
                                       "laptop (type a badge number and Enter to tap it).")
    _service_options(kiosk, "kiosk.toml", "800x480")
    kiosk.add_argument("--simulate", type=Path, default=None, metavar="ROSTER",
                       help="simulated students tap badges from this roster file")
    kiosk.add_argument("--groups", type=Path, default=None, metavar="HUB_TOML",
                       help="with --simulate: students follow this hub's groups")
    kiosk.add_argument("--seed", type=int, default=0,
                       help="seed for the simulated students (default 0)")
    kiosk.add_argument("--gap", type=float, default=1.0, metavar="SECONDS",
                       help="mean seconds between simulated students (default 1)")
    kiosk.add_argument("--screenshots", type=Path, default=None, metavar="DIR",
                       help="save a PNG of each screen here as it is shown")
    kiosk.add_argument("--stats", type=Path, default=None, metavar="JSON",
                       help="write counters (taps, check-ins, replies, latency) here at exit")
    kiosk.set_defaults(func=cmd_kiosk)

    shots = sub.add_parser("screenshots", help="PNG of every kiosk screen, per language")
    shots.add_argument("--out", type=Path, default=Path("docs/screens"), metavar="DIR",
                       help="folder for the pictures, one subfolder per language "
                            "(default docs/screens)")
    shots.add_argument("--lang", nargs="+", default=["en", "es"], metavar="LANG",
                       help="languages to draw (default: en es)")
    shots.add_argument("--size", type=_geometry, default=WindowGeometry(800, 480), metavar="WxH",
                       help="screen size (default 800x480, the official 7-inch display)")
    shots.set_defaults(func=cmd_screenshots)

    for register in _registrars():
        register(sub)
    return parser


def _registrars():  # type: ignore[no-untyped-def]
    """Subcommands that live beside the code they run, each module's ``register(sub)``."""
    from broker import cli as broker_cli
    from district import cli as district_cli
    from hub import classes_cli
    from hub import cli as hub_cli
    from hub.grouping import cli as grouping_cli
    from kiosk import cli as kiosk_cli
    from provisioning import cli as provisioning_cli

    return [broker_cli.register, hub_cli.register, classes_cli.register,
            grouping_cli.register, kiosk_cli.register, provisioning_cli.register,
            district_cli.register]


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
