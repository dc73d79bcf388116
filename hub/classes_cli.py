"""The hub's per-class subcommands of ``stations``: scores, groups and classes.

- ``stations scores import FILE --class CLASS`` stores a gradebook's scores (all or nothing);
  ``stations scores list --class CLASS`` shows the scores that count;
- ``stations groups suggest --class CLASS --mode skill|mixed|interest|present`` asks the
  grouping engine, on the hub's data, for groups (with ``--json`` the last line is one JSON
  object: ``groups`` as lists of the students' sourcedIds, ``reasons``, ...);
  ``stations groups constraints --class CLASS ...`` keeps the class's constraints;
  ``stations groups show --class CLASS`` its groups and recent lessons;
- ``stations classes list``, ``plan add|remove``, ``timetable add|remove``, ``settings``:
  the classes that meet in the room, their plans, when they meet, their own settings.

Each works on the hub's database (the hub may be running: what it reads at the next lesson
or suggestion is what these wrote). Exit codes as ``stations roster``: 0 done, 2 bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from hub.cli import _config_arg, _hub
from stations.errors import StationsError


def _class(roster: Any, config: Any, class_id: str) -> str:
    classes = roster.classes()
    if class_id not in classes and class_id != config.class_id:
        raise StationsError(f"--class {class_id}: no such class on this hub (the roster's "
                            f"classes: {', '.join(sorted(classes)) or 'none'}; import the "
                            "roster first: stations roster import EXPORT)")
    return class_id


# --- scores -----------------------------------------------------------------------------------

def cmd_scores(args: argparse.Namespace) -> int:
    from hub.scores import import_scores, latest_scores

    with _hub(args) as (config, store, roster):
        class_id = _class(roster, config, args.class_id)
        if args.scores_command == "import":
            result = import_scores(args.path, roster, class_id, time.time())
            print(f"imported {result} for class {class_id} from {args.path}")
            if result.not_read:
                print("not read (names, ids and other information): "
                      + ", ".join(result.not_read))
            if args.json:
                print(json.dumps(result.as_json(), sort_keys=True))
            return 0
        latest = latest_scores(store.db, class_id)
        names = {s.id: s.display_name for s in roster.students(class_id)}
        print("\t".join(["student", *latest.standards]))
        for sid in sorted(latest.scores, key=lambda s: names.get(s, s)):
            row = [f"{latest.scores[sid][std]:.0f}" if std in latest.scores[sid] else "-"
                   for std in latest.standards]
            print("\t".join([f"{names.get(sid, sid)} ({sid})", *row]))
        if args.json:
            print(json.dumps({"class": class_id, "standards": list(latest.standards),
                              "scales": latest.scales, "scores": latest.scores,
                              "latest": latest.latest}, sort_keys=True))
    return 0


# --- groups -----------------------------------------------------------------------------------

def _current(config: Any, store: Any, roster: Any, book: Any, class_id: str
             ) -> tuple[Any, tuple[Any, ...], set[str]]:
    """The class's plan, current groups (the running lesson's, with the teacher's moves, when
    it is this class's) and who is marked absent in that lesson."""
    import dataclasses

    from hub.lessons import class_groups, room_plan, rotation_plan
    from hub.store import LESSON_KEY, ROTATION_KEY

    students = [s.id for s in (roster.students(class_id) if class_id else roster.students())]
    shape = rotation_plan(config.plan, room_plan(), ())
    groups, _source, _new = class_groups(
        book.groups(class_id), config.plan.groups if class_id == config.class_id else (),
        students, shape)
    absent: set[str] = set()
    lesson = store.load_state(LESSON_KEY) or {"class": config.class_id}
    state = store.load_state(ROTATION_KEY)
    if state and lesson.get("class") == class_id:
        moved = state.get("moved", {})
        saved = {g["id"]: g for g in state.get("groups", [])}
        if saved:
            groups = tuple(dataclasses.replace(
                g, members=tuple(m for m in saved.get(g.id, {}).get("members", g.members)
                                 if m not in moved) + tuple(s for s, to in moved.items()
                                                            if to == g.id))
                for g in groups if g.id in saved) or groups
        if state.get("phase") in ("running", "paused"):
            absent = set(state.get("absent", []))
    return rotation_plan(config.plan, room_plan(), groups), groups, absent


def _since(text: str | None) -> float | None:
    if not text:
        return None
    from hub.lessons import check_time

    try:
        hour, minute = map(int, check_time(text).split(":"))
    except ValueError as err:
        raise StationsError(f"--since {text}: {err}") from None
    return dt.datetime.now().replace(hour=hour, minute=minute, second=0,
                                     microsecond=0).timestamp()


def cmd_groups_suggest(args: argparse.Namespace) -> int:
    from hub.lessons import LessonBook
    from hub.suggest import PRESENT, GroupRequest, SuggestError, gather, run

    now = time.time()
    with _hub(args) as (config, store, roster):
        class_id = _class(roster, config, args.class_id)
        book = LessonBook(store.db)
        plan, current, absent = _current(config, store, roster, book, class_id)
        absent |= set(_ids(args.absent))
        since = _since(args.since)
        if args.mode == PRESENT and since is not None:
            here = {sid for sid, _st, _at in store.latest_checkins(since)}
            absent |= {m for g in current for m in g.members if m not in here}
        standards = tuple(s.strip() for s in (args.standards or "").split(",") if s.strip())
        request = GroupRequest(class_id, args.mode, standards, seed=args.seed)
        try:
            inp = gather(store, roster, book, request, plan, current, now,
                         reflection_lessons=config.reflection.lessons,
                         lookback_days=config.reflection.lookback_days,
                         absent=sorted(absent))
            suggestion = run(inp)
        except SuggestError as err:
            raise StationsError(str(err)) from None
    out = sys.stdout
    out.write(suggestion.summary + "\n")
    names = inp.names
    for g in suggestion.groups:
        topic = f" - {g.topic}" if g.topic else ""
        out.write(f"{g.name}{topic} ({len(g.members)}): {g.change}\n")
        for sid in g.members:
            about = suggestion.features.get(sid, "")
            out.write(f"  {names.get(sid, sid)} ({sid}): {suggestion.reasons.get(sid, '')}"
                      + (f" [{about}]" if about else "") + "\n")
    if suggestion.left_out:
        out.write("left out (absent): " + ", ".join(names.get(s, s)
                                                    for s in suggestion.left_out) + "\n")
    out.write(f"({suggestion.detail}; {1000 * suggestion.seconds:.0f} ms)\n")
    if args.json:
        out.write(json.dumps(suggestion.as_json(inp.features), ensure_ascii=False,
                             sort_keys=True) + "\n")
    return 0


def _ids(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def _pairs(values: list[str] | None, what: str) -> list[tuple[str, int]]:
    out = []
    for v in values or []:
        student, _, group = v.partition("=")
        if not student or not group.isdigit() or int(group) < 1:
            raise StationsError(f"--{what} {v}: give STUDENT=GROUP, a group number from 1")
        out.append((student.strip(), int(group)))
    return out


def cmd_groups_constraints(args: argparse.Namespace) -> int:
    from hub import classsetup
    from hub.lessons import LessonBook, without_student

    file_data: dict[str, Any] | None = None
    if args.file is not None:
        try:
            file_data = json.loads(args.file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise StationsError(f"{args.file}: not a readable JSON file ({err})") from None
    pins, bans = _pairs(args.pin, "pin"), _pairs(args.not_in, "not-in")

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        if args.clear:
            data = {}
        if file_data is not None:
            data = file_data
        for student in _ids(",".join(args.forget or [])):
            data = without_student(data, student)
        for team in args.keep_apart or []:
            data = classsetup.keep_apart(data, _ids(team))
        for team in args.keep_together or []:
            data = classsetup.keep_together(data, _ids(team))
        for student, group in pins:
            data = classsetup.pin(data, student, group)
        for student, group in bans:
            data = classsetup.keep_out(data, student, group)
        for key in classsetup.SIZE_RULES:
            value = getattr(args, key)
            if value is not None:
                data = classsetup.set_size(data, key, value)
        return data

    with _hub(args) as (config, store, roster):
        class_id = _class(roster, config, args.class_id)
        book = LessonBook(store.db)
        plan, current, _absent = _current(config, store, roster, book, class_id)
        names = {s.id: s.display_name for s in (roster.students(class_id) if class_id
                                                 else roster.students())}
        try:
            data = classsetup.change_constraints(book, class_id, names, plan, current, edit)
        except ValueError as err:
            raise StationsError(str(err)) from None
    print(json.dumps(data, sort_keys=True) if args.json else
          (f"constraints of class {class_id}: " + (json.dumps(data, sort_keys=True)
                                                   if data else "none")))
    return 0


def cmd_groups_show(args: argparse.Namespace) -> int:
    from hub.lessons import LessonBook
    from hub.rotation import group_to_dict

    with _hub(args) as (config, store, roster):
        class_id = _class(roster, config, args.class_id)
        book = LessonBook(store.db)
        _plan, current, absent = _current(config, store, roster, book, class_id)
        names = {s.id: s.display_name for s in roster.students()}
        stored = book.groups(class_id)
        lessons = book.recent_lessons(class_id, args.lessons)
        constraints = book.constraints(class_id)
    print(f"groups of class {class_id} ({stored[1] if stored else 'not stored yet'}):")
    for g in current:
        print(f"  {g.name} ({g.id}): " + ", ".join(
            names.get(m, m) + (" (absent)" if m in absent else "") for m in g.members))
    for lesson in lessons:
        when = dt.datetime.fromtimestamp(lesson.started_at).strftime("%Y-%m-%d %H:%M")
        print(f"lesson {when} ({lesson.plan_id}): " + " | ".join(
            ", ".join(names.get(m, m) for m in g) for g in lesson.groups))
    if args.json:
        print(json.dumps({"class": class_id, "groups": [group_to_dict(g) for g in current],
            "absent": sorted(absent), "constraints": constraints,
            "lessons": [{"started_at": x.started_at, "ended_at": x.ended_at,
                         "plan": x.plan_id, "groups": [list(g) for g in x.groups]}
                        for x in lessons]}, sort_keys=True))
    return 0


# --- classes ----------------------------------------------------------------------------------

def cmd_classes(args: argparse.Namespace) -> int:
    from hub.lessons import LessonBook

    with _hub(args) as (config, store, roster):
        book = LessonBook(store.db)
        run = {"list": _classes_list, "plan": _classes_plan, "timetable": _classes_timetable,
               "settings": _classes_settings}[args.classes_command]
        return run(args, config, store, roster, book)


def _classes_list(args: argparse.Namespace, config: Any, store: Any, roster: Any,
                  book: Any) -> int:
    from hub.lessons import describe_plan

    classes = dict(roster.classes())
    if config.class_id not in classes:
        classes = {config.class_id: f"Room {config.room}", **classes}
    slots = book.timetable()
    listing = []
    for cid, title in classes.items():
        plans = book.plans(cid)
        stored = book.groups(cid)
        meets = [s.describe() + (f" ({s.plan_id})" if s.plan_id else "")
                 for s in slots if s.class_id == cid]
        size = len(roster.students(cid) if cid else roster.students())
        print(f"{cid or '(no class)'}\t{title}\t{size} students")
        for p in plans:
            print(f"  plan {p.id}: {p.name} ({describe_plan(p, config.plan)})")
        print(f"  groups: {len(stored[0]) if stored else 0} "
              f"({stored[1] if stored else 'made at its first lesson'})")
        if meets:
            print("  meets: " + "; ".join(meets))
        listing.append({"class": cid, "title": title, "plans": [p.id for p in plans],
                        "meets": meets})
    if args.json:
        print(json.dumps(listing, sort_keys=True))
    return 0


def _classes_plan(args: argparse.Namespace, config: Any, store: Any, roster: Any,
                  book: Any) -> int:
    from hub.classsetup import save_plan
    from hub.lessons import ClassPlan, describe_plan

    class_id = _class(roster, config, args.class_id)
    if args.plan_command == "remove":
        if not book.remove_plan(class_id, args.plan):
            print(f"stations: class {class_id} has no plan {args.plan!r}", file=sys.stderr)
            return 1
        print(f"removed plan {args.plan} of class {class_id}")
        return 0
    plan = ClassPlan(args.plan, args.name or args.plan, tuple(_ids(args.stations)),
                     args.block_minutes or 0.0, args.model or "")
    try:
        save_plan(book, config.plan, class_id, plan)
    except ValueError as err:
        raise StationsError(f"plan {args.plan}: {err}") from None
    print(f"class {class_id}: plan {plan.id} ({plan.name}): "
          f"{describe_plan(plan, config.plan)}")
    return 0


def _classes_timetable(args: argparse.Namespace, config: Any, store: Any, roster: Any,
                       book: Any) -> int:
    from hub.classsetup import add_slot, remove_slot
    from hub.lessons import WEEKDAYS, parse_weekday

    if args.timetable_command == "list":
        for s in book.timetable():
            print(f"{s.describe()}\t{s.class_id}\t{s.plan_id or ''}")
        return 0
    try:
        if args.timetable_command == "remove":
            day = WEEKDAYS[parse_weekday(args.day)]
            if not remove_slot(book, args.day, args.start):
                print(f"stations: nothing starts {day} {args.start}", file=sys.stderr)
                return 1
            print(f"removed {day} {args.start}")
            return 0
        class_id = _class(roster, config, args.class_id)
        slot = add_slot(book, args.day, args.start, args.end, class_id, args.plan or "")
    except ValueError as err:
        raise StationsError(f"timetable: {err}") from None
    print(f"{slot.describe()}: class {class_id}" + (f", plan {args.plan}" if args.plan
                                                    else ""))
    return 0


def _classes_settings(args: argparse.Namespace, config: Any, store: Any, roster: Any,
                      book: Any) -> int:
    from hub.config import check_questions
    from stations.sqlitedb import transaction

    class_id = _class(roster, config, args.class_id)
    questions: list[str] | None = None
    if args.questions not in (None, "default"):
        questions = _ids(args.questions)
        try:
            check_questions(tuple(questions))
        except ValueError as err:
            raise StationsError(f"--questions: {err}") from None
    with transaction(store.db):
        if args.history is not None:
            book.set_setting(class_id, "history",
                             None if args.history == "default" else args.history == "on")
        if args.questions is not None:
            book.set_setting(class_id, "questions", questions)
    own = book.settings(class_id)
    history = own.get("history", config.shows_history(class_id))
    shown = own.get("questions", list(config.reflection.questions))
    print(f"class {class_id}: history {'on' if history else 'off'}, questions "
          f"{', '.join(shown)}" + (f" (its own: {', '.join(sorted(own))}; the rest from the "
                                   "config)" if own else " (the config's)"))
    print("the hub uses them from the class's next lesson on", file=sys.stderr)
    return 0


# --- registration -------------------------------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    scores = sub.add_parser("scores", help="a class's assessment scores, for the groups")
    ssub = scores.add_subparsers(dest="scores_command", required=True)
    s_imp = ssub.add_parser(
        "import", help="import a gradebook's scores CSV for a class (all rows or none)",
        description="Store a gradebook export's scores for a class: one row per student and "
                    "assessment (a date column, one column per standard); students matched "
                    "by the roster's sourcedId, student number (identifier), username or "
                    "email; names, e-mail, section and totals are recognised and not read. "
                    "Earlier imports are kept; the latest score counts. Try: stations "
                    "scores import stations/room/samples/scores.csv --class demo-4a")
    s_imp.add_argument("path", type=Path, metavar="FILE", help="the scores CSV")
    s_imp.add_argument("--json", action="store_true", help="last line: the summary as JSON")
    s_ls = ssub.add_parser("list", help="each student's latest score per standard")
    s_ls.add_argument("--json", action="store_true", help="last line: the scores as JSON")
    for p in (s_imp, s_ls):
        p.add_argument("--class", dest="class_id", required=True,
                       help="the class (its roster sourcedId, e.g. demo-4a)")
        _config_arg(p)
        p.set_defaults(func=cmd_scores)

    groups = sub.add_parser("groups", help="a class's groups: suggest, constraints, show")
    gsub = groups.add_subparsers(dest="groups_command", required=True)
    g_sug = gsub.add_parser(
        "suggest", help="suggested groups for a class from the hub's scores and reflections",
        description="Ask the grouping engine for groups from what the hub holds: the "
                    "class's latest scores, the confidence trend and goal progress from its "
                    "last lessons' check-ins, its constraints, and who worked together "
                    "lately. Prints each group with a reason per student; nothing changes "
                    "(approve on the hub's teacher view or the console).")
    g_sug.add_argument("--mode", choices=["skill", "mixed", "interest", "present"],
                       default="skill",
                       help="skill: alike scores together; mixed: each group a spread; "
                            "interest: by the activities chosen at the stations; present: "
                            "regroup the students here, moving as few as possible")
    g_sug.add_argument("--standards", default=None,
                       help="comma-separated standards to group on (default: all scored)")
    g_sug.add_argument("--absent", default=None,
                       help="present: comma-separated student ids left out (with those marked "
                            "absent in the running lesson)")
    g_sug.add_argument("--since", default=None, metavar="HH:MM",
                       help="present: students with no check-in since this time today are "
                            "left out")
    g_sug.add_argument("--seed", type=int, default=0, help="the heuristic's seed (default 0)")
    g_sug.add_argument("--json", action="store_true",
                       help="last line: one JSON object with groups (lists of sourcedIds) "
                            "and each student's reason")
    g_sug.set_defaults(func=cmd_groups_suggest)
    g_con = gsub.add_parser(
        "constraints", help="keep apart, keep together, pins and sizes for a class",
        description="Show or change a class's grouping constraints (every suggestion keeps "
                    "them). Without options it shows them.")
    g_con.add_argument("--keep-apart", action="append", metavar="A,B[,C]",
                       help="students never in one group, each pair of them (repeatable)")
    g_con.add_argument("--keep-together", action="append", metavar="A,B[,C]",
                       help="students always in one group (repeatable)")
    g_con.add_argument("--pin", action="append", metavar="STUDENT=GROUP",
                       help="a student always in this group (1: the teacher table)")
    g_con.add_argument("--not-in", action="append", metavar="STUDENT=GROUP",
                       help="a student never in this group")
    g_con.add_argument("--groups", type=int, help="how many groups (0: as many as stations)")
    g_con.add_argument("--min-size", type=int, help="smallest group (0: no rule)")
    g_con.add_argument("--max-size", type=int, help="largest group (0: no rule)")
    g_con.add_argument("--forget", action="append", metavar="STUDENT",
                       help="drop every constraint that names this student")
    g_con.add_argument("--file", type=Path, default=None, metavar="JSON",
                       help="replace them with a constraints file (stations group's format)")
    g_con.add_argument("--clear", action="store_true", help="drop them all first")
    g_con.add_argument("--json", action="store_true", help="print them as JSON")
    g_con.set_defaults(func=cmd_groups_constraints)
    g_show = gsub.add_parser("show", help="a class's groups and its recent lessons' groups")
    g_show.add_argument("--lessons", type=int, default=5,
                        help="how many recent lessons to list (default 5)")
    g_show.add_argument("--json", action="store_true", help="last line: all of it as JSON")
    g_show.set_defaults(func=cmd_groups_show)
    for p in (g_sug, g_con, g_show):
        p.add_argument("--class", dest="class_id", required=True,
                       help="the class (its roster sourcedId, e.g. demo-4a)")
        _config_arg(p)

    classes = sub.add_parser("classes", help="the classes that meet in the room: plans, "
                                             "timetable, settings")
    csub = classes.add_subparsers(dest="classes_command", required=True)
    c_ls = csub.add_parser("list", help="every class with its plans, groups and times")
    c_ls.add_argument("--json", action="store_true", help="last line: the list as JSON")
    c_plan = csub.add_parser("plan", help="a class's own lesson plans")
    psub = c_plan.add_subparsers(dest="plan_command", required=True)
    p_add = psub.add_parser("add", help="add or change a plan: stations, block, model")
    p_add.add_argument("--name", default=None, help="what the teacher picks it by")
    p_add.add_argument("--stations", default=None,
                       help="comma-separated station ids it uses (default: every station)")
    p_add.add_argument("--block-minutes", type=float, default=None,
                       help="block length (default: the room's)")
    p_add.add_argument("--model", default=None,
                       choices=["station-rotation", "individual-rotation", "flex"],
                       help="the rotation model (default: the room's)")
    p_rm = psub.add_parser("remove", help="remove a class's plan")
    for p in (p_add, p_rm):
        p.add_argument("class_id", metavar="CLASS", help="the class's sourcedId")
        p.add_argument("plan", metavar="PLAN", help="the plan's id (lower-case, e.g. short)")
    c_tt = csub.add_parser("timetable", help="when each class meets (the hub proposes it)")
    tsub = c_tt.add_subparsers(dest="timetable_command", required=True)
    t_add = tsub.add_parser("add", help="a class meets DAY from START to END")
    t_add.add_argument("day", help="mon, tue, wed, thu, fri, sat or sun")
    t_add.add_argument("start", help="HH:MM")
    t_add.add_argument("end", help="HH:MM")
    t_add.add_argument("class_id", metavar="CLASS", help="the class's sourcedId")
    t_add.add_argument("--plan", default=None, help="the plan it uses then")
    t_rm = tsub.add_parser("remove", help="take a time off the timetable")
    t_rm.add_argument("day", help="mon, tue, wed, thu, fri, sat or sun")
    t_rm.add_argument("start", help="HH:MM")
    t_ls = tsub.add_parser("list", help="the timetable")
    c_set = csub.add_parser("settings", help="a class's own settings over the config's")
    c_set.add_argument("class_id", metavar="CLASS", help="the class's sourcedId")
    c_set.add_argument("--history", choices=["on", "off", "default"], default=None,
                       help="students see their own last reflections at the station")
    c_set.add_argument("--questions", default=None,
                       help="comma-separated reflection questions (confidence, goal, mood), "
                            "or default")
    for p in (c_ls, p_add, p_rm, t_add, t_rm, t_ls, c_set):
        _config_arg(p)
        p.set_defaults(func=cmd_classes)
