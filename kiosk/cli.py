"""The station's subcommands of ``stations``: ``outbox quarantine`` lists the check-ins the hub
rejected for good, which the station keeps (never deletes) and no longer sends; ``voice build``
renders the spoken prompts.

Safe while the kiosk runs: the outbox is SQLite in WAL mode, and this only reads it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from stations.configsearch import config_help, load_config
from stations.files import undo_on_failure


def cmd_quarantine(args: argparse.Namespace) -> int:
    from kiosk.config import load_kiosk_config
    from kiosk.outbox import Outbox

    config = load_config(args.config, "kiosk.toml", load_kiosk_config)
    # An outbox that does not exist yet holds nothing: do not create one by looking.
    entries = []
    if config.outbox.exists():
        outbox = Outbox(config.outbox)
        try:
            entries = outbox.quarantined()
        finally:
            outbox.close()
    rows = [_row(q.id, q.reason, q.rejected_at, q.created_at, q.attempts, q.payload)
            for q in entries]
    if args.json:
        print(json.dumps({"station": config.station, "outbox": str(config.outbox),
                          "quarantined": rows}, sort_keys=True))
        return 0
    if not rows:
        print(f"station {config.station}: nothing in quarantine ({config.outbox})")
        return 0
    print(f"station {config.station}: {len(rows)} check-in(s) the hub rejected, kept in "
          f"{config.outbox}")
    for r in rows:
        message = r["message"] if isinstance(r["message"], dict) else {}
        print(f"  {r['rejected_at']}  {r['id']}  {r['reason']}  activity "
              f"{message.get('activity', '?')}, tapped {r['tapped_at'] or '?'}")
    return 0


def _row(message_id: str, reason: str, rejected_at: float, created_at: float, attempts: int,
         payload: bytes) -> dict[str, Any]:
    try:
        message: Any = json.loads(payload)
    except ValueError:  # the station's own bytes; show them even if they are not JSON
        message = payload.decode("utf-8", "replace")
    tapped = message.get("tapped_at") if isinstance(message, dict) else None
    return {"id": message_id, "reason": reason, "rejected_at": _when(rejected_at),
            "created_at": _when(created_at), "attempts": attempts,
            "tapped_at": _when(tapped) if isinstance(tapped, int | float) else "",
            "message": message}


def _when(at: float) -> str:
    return dt.datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds")


def cmd_voice_build(args: argparse.Namespace) -> int:
    import sys

    from kiosk.config import load_kiosk_config
    from kiosk.i18n import available_languages, check_languages
    from kiosk.voice import CATALOG, VALUES, ClipCache, build, open_voices

    config = load_config(args.config, "kiosk.toml", load_kiosk_config)
    if args.lang:
        check_languages(args.lang)
    languages = args.lang or sorted({"en", config.language, *available_languages()})
    cache = ClipCache(config.voice.cache, open_voices(config.voice))
    # The station's own name and menu (its words until the hub's plan arrives), in every
    # language the config gives them in; the plan's are rendered on the station as it comes.
    values: dict[str, set[str]] = {config.language: {config.name}}
    for activity in config.activities:
        values[config.language].add(activity.label)
        for language, text in activity.labels.items():
            values.setdefault(language, set()).add(text)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, what: str) -> None:
        if tty:
            print(f"\r\033[Krendering {done}/{total}: {what[:50]}", end="", file=sys.stderr,
                  flush=True)
        elif done == total or done % 10 == 0:
            print(f"rendering {done}/{total}", file=sys.stderr, flush=True)

    # A build that fails (a voice espeak-ng lacks) leaves no folder it made: clips already
    # there are kept, and a re-run renders only what is missing.
    made = [config.voice.cache / kind / lang for kind in (CATALOG, VALUES) for lang in languages]
    with undo_on_failure(*made):
        report = build(cache, languages, values=values, progress=progress)
    if tty and report.rendered:
        print(file=sys.stderr)
    summary = {"cache": str(config.voice.cache), "languages": list(report.languages),
               "clips": report.clips, "rendered": report.rendered, "kept": report.kept,
               "removed": report.removed, "seconds": round(report.seconds, 2)}
    print(f"voice: {sum(report.clips.values())} clips in {config.voice.cache} "
          f"({', '.join(f'{k} {v}' for k, v in report.clips.items())}): {report.rendered} "
          f"rendered, {report.kept} already there, {report.removed} old ones removed, "
          f"{report.seconds:.1f} s")
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the station's subcommands to ``stations``' subparsers."""
    outbox = sub.add_parser("outbox", help="a station's outbox of check-ins")
    osub = outbox.add_subparsers(dest="outbox_command", required=True)
    quarantine = osub.add_parser(
        "quarantine", help="check-ins the hub rejected for good: kept here, not sent again",
        description="List the check-ins the hub answered 'rejected' (for example an activity "
                    "that is not on the station's menu). They stay in the station's outbox "
                    "file, in a table of their own, and are never sent again.")
    quarantine.add_argument("--config", type=Path, default=None, metavar="KIOSK_TOML",
                            help=config_help("kiosk.toml"))
    quarantine.add_argument("--json", action="store_true", help="one JSON object")
    quarantine.set_defaults(func=cmd_quarantine)

    voice = sub.add_parser("voice", help="a station's spoken prompts")
    vsub = voice.add_subparsers(dest="voice_command", required=True)
    vbuild = vsub.add_parser(
        "build", help="render every prompt as a clip (only what is new or changed)",
        description="Render every piece of the screens' text, in each language, with the "
                    "station's voice (espeak-ng, or Piper where a voice is installed) into "
                    "the clip cache ([voice] cache in the config). Clips already there are "
                    "kept; clips no catalog uses any more are removed. Run it after an update "
                    "that changes the catalogs (the kiosk's service does, before it starts).")
    vbuild.add_argument("--config", type=Path, default=None, metavar="KIOSK_TOML",
                        help=config_help("kiosk.toml"))
    vbuild.add_argument("--lang", nargs="+", default=None,
                        help="languages (default: en, the station's and every catalog's)")
    vbuild.add_argument("--json", action="store_true", help="last line: the summary as JSON")
    vbuild.set_defaults(func=cmd_voice_build)
