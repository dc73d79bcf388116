"""The station's subcommands of ``stations``: ``outbox quarantine`` lists the check-ins the hub
rejected for good, which the station keeps (never deletes) and no longer sends.

Safe while the kiosk runs: the outbox is SQLite in WAL mode, and this only reads it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from stations.configsearch import config_help, find_config


def cmd_quarantine(args: argparse.Namespace) -> int:
    from kiosk.config import load_kiosk_config
    from kiosk.outbox import Outbox

    config = load_kiosk_config(find_config(args.config, "kiosk.toml"))
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
