"""The hub's subcommands of ``stations``: roster, badges, export, retention, student,
teacher pin and hub-screenshots. ``register(subparsers)`` adds them; each works on the hub's
database named by ``--config hub.toml`` (the hub may be running: SQLite WAL lets both write
safely).

Exit codes: 0 done, 2 bad input (a message names the file, row and column), 1 not found.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stations.configsearch import config_help, load_config
from stations.errors import StationsError
from stations.files import undo_on_failure, write_if_changed


@contextmanager
def _hub(args: argparse.Namespace, *, create: bool = False) -> Iterator[tuple[Any, Any, Any]]:
    """(config, store, roster) on the hub's database, closed afterwards.

    Only a command that brings data (``create``: a roster import) may make the database, and
    one that fails takes it away again; the others need the hub's existing database.
    """
    from hub.config import load_hub_config
    from hub.roster import Roster
    from hub.store import HubStore, open_db

    config = load_config(args.config, "hub.toml", load_hub_config)
    if not create and not config.database.exists():
        raise StationsError(f"{config.database}: no hub database yet; the hub makes it when "
                            f"it first runs (stations hub --config {config.path}), and so "
                            "does `stations roster import EXPORT`")
    with undo_on_failure(config.database, sqlite=True):
        db = open_db(config.database)
        try:
            yield config, HubStore(db), Roster(db)
        finally:
            db.close()


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, metavar="HUB_TOML",
                   help=config_help("hub.toml"))


# --- roster -----------------------------------------------------------------------------------

def cmd_roster_import(args: argparse.Namespace) -> int:
    from hub.oneroster import import_oneroster

    if not args.path.exists():
        raise StationsError(f"{args.path}: no such OneRoster export (give the zip file or the "
                            "folder of CSV files the school's SIS exported)")
    with _hub(args, create=True) as (_config, _store, roster):
        summary = import_oneroster(args.path, roster)
    print(f"imported OneRoster {summary.version} from {args.path}: {summary.classes} classes, "
          f"{summary.students} students, {summary.teachers} teachers, {summary.enrollments} "
          "active enrollments")
    for cls, n in sorted(summary.per_class.items()):
        print(f"  {cls}: {n} students")
    if args.json:
        print(json.dumps(summary.to_dict(), sort_keys=True))
    return 0


# --- xAPI ---------------------------------------------------------------------------------------

def cmd_xapi(args: argparse.Namespace) -> int:
    from hub.lrs import stored_statements
    from hub.service import statement_names
    from hub.xapi import XapiSettings

    with _hub(args) as (config, store, _roster):
        if args.xapi_command == "status":
            waiting, refused = store.db.execute(
                "SELECT COUNT(*) FILTER (WHERE failed IS NULL), COUNT(*) FILTER (WHERE failed "
                "IS NOT NULL) FROM xapi_outbox").fetchone()
            target = config.xapi.endpoint or config.xapi.file or "(xapi is off)"
            print(f"xAPI statements waiting for {target}: {waiting}; refused by it: {refused}")
            return 0
        settings = config.xapi if config.xapi.homepage else XapiSettings(
            homepage=args.homepage or "")
        if not settings.homepage.startswith(("https://", "http://")):
            raise StationsError("the hub's config has no [xapi] homepage: give --homepage "
                                "https://your.school")
        start, end = _day_range(args.date) if args.date else (0.0, float("inf"))
        found = stored_statements(store.db, statement_names(config), settings, start, end)
    with undo_on_failure(args.out):
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as fh:
            for statement in found:
                fh.write(json.dumps(statement, separators=(",", ":")) + "\n")
    print(f"{len(found)} xAPI statements in {args.out}")
    return 0


def _day_range(day: dt.date) -> tuple[float, float]:
    from hub.export import day_bounds

    return day_bounds(day)


# --- badges -----------------------------------------------------------------------------------

def cmd_badges(args: argparse.Namespace) -> int:
    from hub import badges

    now = time.time()
    with _hub(args) as (_config, store, roster):
        if args.badges_command == "import":
            n = badges.import_badges(args.path, roster, now, reassign=args.reassign)
            print(f"imported {n} badges from {args.path}")
        elif args.badges_command == "assign":
            badges.enroll(roster, args.badge, args.student, now, reassign=args.reassign)
            print(f"badge {args.badge} is now {args.student}'s")
        elif args.badges_command == "revoke":
            badges.revoke(roster, args.badge, now)
            print(f"badge {args.badge} revoked")
        elif args.badges_command == "list":
            rows = store.db.execute("SELECT b.badge, b.student_id, b.revoked FROM badges b "
                                    "ORDER BY b.student_id, b.badge").fetchall()
            for badge, student, revoked in rows:
                print(f"{badge}\t{student}\t{'revoked' if revoked else 'active'}")
    return 0


# --- export and retention ---------------------------------------------------------------------

def cmd_export(args: argparse.Namespace) -> int:
    from hub.export import export_day

    day = args.date or dt.date.today()
    with _hub(args) as (_config, store, roster):
        if args.class_id and args.class_id not in roster.classes():
            raise StationsError(f"--class {args.class_id}: no such class on this hub (the "
                                "roster's classes: "
                                f"{', '.join(sorted(roster.classes())) or 'none'})")
        with undo_on_failure(args.out):
            files = export_day(store, roster, day, args.out, class_id=args.class_id)
    for f in files:
        print(f)
    if not files:
        print(f"no check-ins on {day.isoformat()}", file=sys.stderr)
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    from hub.export import apply_retention

    with _hub(args) as (config, store, _roster):
        days = config.retention_days if args.days is None else args.days
        if days < 0:
            raise StationsError(f"--days {days}: give 0 (keep everything) or more days")
        purged = apply_retention(store, days, time.time())
    print(f"deleted {purged.checkins} check-ins and {purged.unknown_badges} unknown-badge "
          f"sightings older than {days} days" if days else "retention is off (days = 0)")
    return 0


def cmd_student(args: argparse.Namespace) -> int:
    from hub.export import erase_student, export_student
    from hub.service import ROTATION_KEY, outgoing_feeds

    with _hub(args) as (config, store, roster):
        if args.student_command == "export":
            try:
                data = export_student(store, roster, args.student,
                                      store.load_state(ROTATION_KEY))
            except KeyError:
                print(f"stations: no student {args.student!r} on this hub", file=sys.stderr)
                return 1
            text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
            if args.out:
                write_if_changed(args.out, text + "\n", 0o600)  # a child's data: owner only
                print(f"wrote everything held about {args.student} to {args.out}")
            else:
                print(text)
            return 0
        if not args.yes:
            print(f"stations: erasing {args.student} deletes their check-ins, reflections and "
                  "badges for good, and asks the district and the LRS (if configured) to "
                  "withdraw their copies; add --yes to do it", file=sys.stderr)
            return 2
        try:
            district, statements = outgoing_feeds(config, config.class_id)
            erased = erase_student(store, args.student, ROTATION_KEY, district=district,
                                   statements=statements)
        except KeyError:
            print(f"stations: no student {args.student!r} on this hub", file=sys.stderr)
            return 1
    print(f"erased {args.student}: {erased.summary()}")
    listed = [g.id for g in config.plan.groups if args.student in g.members]
    if listed:
        print(f"note: {config.path} still lists {args.student} in group(s) "
              f"{', '.join(listed)}; remove it there too", file=sys.stderr)
    print("note: if the school's roster export still lists the student, the next import "
          "brings their name back (with none of the erased data)", file=sys.stderr)
    return 0


def cmd_screenshots(args: argparse.Namespace) -> int:
    from hub.screenshots import render_views

    for path in render_views(args.out, config_path=args.config):
        print(path)
    return 0


# --- registration -----------------------------------------------------------------------------

def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


# --- teacher ----------------------------------------------------------------------------------

def cmd_teacher_pin(args: argparse.Namespace) -> int:
    """Ask for a PIN twice (or read one line from stdin) and print its hash for the config."""
    from hub.pin import check_pin, hash_pin

    pin = _ask_secret(args, "PIN", "New teacher PIN (4-12 digits): ").strip()
    try:
        check_pin(pin)
    except ValueError as err:
        raise StationsError(f"{err}: nothing changed") from None
    print(f'teacher_pin_hash = "{hash_pin(pin)}"')
    print("# Put this line in [display] of the hub's config (or [rooms.hub] of the "
          "inventory) and restart the hub. It holds no PIN, only its scrypt hash.",
          file=sys.stderr)
    return 0


def _ask_secret(args: argparse.Namespace, what: str, prompt: str) -> str:
    """One line of standard input with ``--stdin``; else asked twice on the terminal, never
    echoed. Without a terminal (a script, ssh without -t) it says to use ``--stdin``."""
    import getpass
    import warnings

    if args.stdin:
        return sys.stdin.readline().rstrip("\n")
    try:
        with warnings.catch_warnings():
            # Without a terminal getpass warns, then reads stdin echoed (or hits its end):
            # stop at the warning instead.
            warnings.simplefilter("error", getpass.GetPassWarning)
            secret = getpass.getpass(prompt)
            again = getpass.getpass(f"The same {what} again: ")
    except (getpass.GetPassWarning, EOFError):
        raise StationsError(f"no terminal to ask for the {what} on: give it on one line of "
                            f"standard input with --stdin (stations teacher "
                            f"{args.teacher_command} ... --stdin)") from None
    if again != secret:
        raise StationsError(f"the two {what}s differ: nothing changed")
    return secret


def _ask_password(args: argparse.Namespace) -> str:
    """A new console password: one line of stdin, or asked twice (never echoed)."""
    from hub.console.accounts import check_password

    password = _ask_secret(args, "password", "New console password (10 characters or more): ")
    try:
        return check_password(password)
    except ValueError as err:
        raise StationsError(f"{err}: nothing changed") from None


def _accounts_file(args: argparse.Namespace) -> Path:
    from hub.config import load_hub_config

    return load_config(args.config, "hub.toml", load_hub_config).console.accounts


def cmd_teacher_account(args: argparse.Namespace) -> int:
    """Add, replace or remove a console account in the hub's accounts file, or list them."""
    from hub.console.accounts import (
        Account,
        check_name,
        hash_password,
        read_accounts,
        write_accounts,
    )

    path = _accounts_file(args)
    accounts = read_accounts(path)
    if args.teacher_command == "list":
        for name in sorted(accounts):
            print(name)
        if not accounts:
            print(f"{path}: no teacher accounts yet (stations teacher add NAME)",
                  file=sys.stderr)
        return 0
    try:
        name = check_name(args.name)
    except ValueError as err:
        raise StationsError(str(err)) from None
    if args.teacher_command == "remove":
        if accounts.pop(name, None) is None:
            print(f"stations: no account {name!r} in {path}", file=sys.stderr)
            return 1
        write_accounts(path, accounts)
        print(f"removed {name} from {path}: their sessions end at their next click")
        return 0
    if name in accounts and not args.replace:
        raise StationsError(f"{path}: {name} has an account already; add --replace to give "
                            "it a new password")
    accounts[name] = Account(name, hash_password(_ask_password(args)))
    write_accounts(path, accounts)
    print(f"{'new password for' if args.replace else 'added'} {name} in {path}: they can "
          "sign in to the console now")
    return 0


def cmd_teacher_hash(args: argparse.Namespace) -> int:
    """Print a console password's hash for the provisioning inventory's teachers list."""
    from hub.console.accounts import hash_password

    print(f'password_hash = "{hash_password(_ask_password(args))}"')
    print("# Put this line beside the teacher's name in the inventory's [[rooms.teachers]]. "
          "It holds no password, only its scrypt hash.", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the hub's subcommands to ``stations``' subparsers."""
    roster = sub.add_parser("roster", help="import the class roster")
    rsub = roster.add_subparsers(dest="roster_command", required=True)
    imp = rsub.add_parser("import", help="import a OneRoster 1.1 or 1.2 CSV export "
                                         "(a zip or a folder)")
    imp.add_argument("path", type=Path, metavar="EXPORT",
                     help="the export: a zip file, or a folder of CSV files (samples in "
                          "stations/room/samples/oneroster-1.1 and -1.2)")
    imp.add_argument("--json", action="store_true", help="last line: the summary as JSON")
    _config_arg(imp)
    imp.set_defaults(func=cmd_roster_import)

    badges = sub.add_parser("badges", help="assign, revoke and import badge ids")
    bsub = badges.add_subparsers(dest="badges_command", required=True)
    b_imp = bsub.add_parser("import", help="CSV with columns badge and student_id (or "
                                           "sourcedId)")
    b_imp.add_argument("path", type=Path, metavar="CSV",
                       help="the badge list (stations/room/samples/badges.csv is one)")
    b_imp.add_argument("--reassign", action="store_true",
                       help="take badges that belong to another student")
    b_as = bsub.add_parser("assign", help="give a badge to a student")
    b_as.add_argument("badge", help="the badge's id as a reader reads it, e.g. 0411A133")
    b_as.add_argument("student", help="the student's id (the roster's sourcedId)")
    b_as.add_argument("--reassign", action="store_true",
                      help="take the badge from the student who has it")
    b_rv = bsub.add_parser("revoke", help="a lost badge: it stops working at once")
    b_rv.add_argument("badge", help="the lost badge's id")
    b_ls = bsub.add_parser("list", help="every badge and whose it is")
    for p in (b_imp, b_as, b_rv, b_ls):
        _config_arg(p)
        p.set_defaults(func=cmd_badges)

    export = sub.add_parser("export", help="a day's check-ins and reflections, a CSV per class")
    export.add_argument("--date", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    export.add_argument("--class", dest="class_id", default=None, help="one class sourcedId")
    export.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                        help="folder for the CSV files (default: this one)")
    _config_arg(export)
    export.set_defaults(func=cmd_export)

    xapi = sub.add_parser("xapi", help="xAPI statements for a learning record store")
    xsub = xapi.add_subparsers(dest="xapi_command", required=True)
    x_exp = xsub.add_parser(
        "export", help="every stored check-in's statements as JSON lines",
        description="Write the xAPI 1.0.3 statements of the stored check-ins (all, or one "
                    "day's) to a file, one JSON object a line: for a school without an LRS, "
                    "or to load into one by hand. Statement ids are the same as the ones the "
                    "hub sends, so an LRS that has some keeps one of each.")
    x_exp.add_argument("--out", type=Path, required=True, help="the .jsonl file to write")
    x_exp.add_argument("--date", type=_date, default=None, help="YYYY-MM-DD (default: all)")
    x_exp.add_argument("--homepage", default=None,
                       help="the school's home page, when the config has no [xapi]")
    x_st = xsub.add_parser("status", help="statements waiting for the LRS, and refused")
    for p in (x_exp, x_st):
        _config_arg(p)
        p.set_defaults(func=cmd_xapi)

    retention = sub.add_parser("retention", help="delete check-ins and reflections older "
                                                 "than the retention period")
    retention.add_argument("--days", type=int, default=None,
                           help="override the config's retention.days")
    _config_arg(retention)
    retention.set_defaults(func=cmd_retention)

    student = sub.add_parser("student", help="a family's request: export or erase one student")
    ssub = student.add_subparsers(dest="student_command", required=True)
    s_ex = ssub.add_parser("export", help="everything held about one student, as JSON")
    s_ex.add_argument("student", help="the student's id (the roster's sourcedId)")
    s_ex.add_argument("--out", type=Path, default=None, metavar="JSON",
                      help="write it to this file, readable by you alone (default: print it)")
    s_er = ssub.add_parser("erase", help="delete one student and all their data")
    s_er.add_argument("student", help="the student's id (the roster's sourcedId)")
    s_er.add_argument("--yes", action="store_true", help="really erase")
    for p in (s_ex, s_er):
        _config_arg(p)
        p.set_defaults(func=cmd_student)

    teacher = sub.add_parser("teacher", help="the teacher view's PIN and the console's "
                                             "teacher accounts")
    tsub = teacher.add_subparsers(dest="teacher_command", required=True)
    t_add = tsub.add_parser("add", help="add a console account (asks for its password twice)")
    t_add.add_argument("name", help="the account's name: lower-case letters, digits, . _ -")
    t_add.add_argument("--replace", action="store_true",
                       help="give an existing account a new password")
    t_rm = tsub.add_parser("remove", help="remove a console account")
    t_rm.add_argument("name", help="the account's name")
    t_ls = tsub.add_parser("list", help="the console's accounts")
    for p in (t_add, t_rm, t_ls):
        _config_arg(p)
        p.set_defaults(func=cmd_teacher_account)
    t_hash = tsub.add_parser("hash", help="ask for a console password twice and print its "
                                          "hash for the provisioning inventory")
    t_hash.set_defaults(func=cmd_teacher_hash)
    for p in (t_add, t_hash):
        p.add_argument("--stdin", action="store_true",
                       help="read the password from one line of standard input, no prompts")
    t_pin = tsub.add_parser("pin", help="ask for a new PIN twice and print the "
                                        "teacher_pin_hash line for the hub's config")
    t_pin.add_argument("--stdin", action="store_true",
                       help="read the PIN from one line of standard input, no prompts")
    t_pin.set_defaults(func=cmd_teacher_pin)

    shots = sub.add_parser("hub-screenshots", help="save a PNG of each hub view")
    shots.add_argument("--out", type=Path, default=Path("docs/hub"), metavar="DIR",
                       help="folder for the pictures (default docs/hub)")
    shots.add_argument("--config", type=Path, default=None,
                       help="a hub config to draw (default: the demo room)")
    shots.set_defaults(func=cmd_screenshots)
