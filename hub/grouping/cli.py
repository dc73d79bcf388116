"""``stations group CLASS.csv --mode skill --groups 5 [--constraints FILE] [--json]``.

Prints the groups and a reason per student for the teacher; with ``--json`` the last line is
one JSON object with ``groups`` (lists of student ids, group 1 first), ``reasons``, ``score``,
``estimated_scores`` and, with previous groups in the constraints file, ``comparison``.
Command-line size options override the constraints file. A gradebook or roster export works
as it is: name, email, section and similar columns are recognised and skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

SAMPLE_DIR = Path(__file__).parent / "samples"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add the ``group`` subcommand to a ``stations`` subparsers object."""
    p = subparsers.add_parser(
        "group", help="suggest groups for a class from its scores or preferences",
        description="Suggest skill, mixed or interest groups for a class. Try it on the "
                    f"sample: stations group {SAMPLE_DIR / 'class-7b.csv'} --mode skill "
                    f"--groups 5 --constraints {SAMPLE_DIR / 'class-7b-constraints.json'}, "
                    f"or on a gradebook export: stations group "
                    f"{SAMPLE_DIR / 'gradebook-7b.csv'} --groups 4")
    p.add_argument("csv", type=Path,
                   help="class CSV: a student id (student_id, sourcedId, identifier, username "
                        "or email), names, one column per standard")
    p.add_argument("--mode", choices=["skill", "mixed", "interest"], default="skill",
                   help="skill: alike scores together; mixed: each group a spread; interest: "
                        "by preferred activity (default skill)")
    p.add_argument("--groups", type=int, help="number of groups")
    p.add_argument("--min-size", type=int, help="smallest group")
    p.add_argument("--max-size", type=int, help="largest group")
    p.add_argument("--constraints", type=Path, help="constraints JSON file")
    p.add_argument("--standards", help="comma-separated standards to group on (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed for the heuristic (default 0)")
    p.add_argument("--exact", action="store_true",
                   help="prove the optimum with the exact method (seconds, not milliseconds)")
    p.add_argument("--json", action="store_true", help="end with one JSON object")
    p.set_defaults(func=cmd_group)
    return p


def cmd_group(args: argparse.Namespace) -> int:
    from hub.grouping.classcsv import read_class_csv
    from hub.grouping.constraintsfile import read_constraints
    from hub.grouping.model import Constraints, Mode, Options
    from hub.grouping.solve import make_groups

    cls = read_class_csv(args.csv)
    constraints = read_constraints(args.constraints) if args.constraints else Constraints()
    overrides = {k: v for k, v in (("groups", args.groups), ("min_size", args.min_size),
                                   ("max_size", args.max_size)) if v is not None}
    constraints = replace(constraints, **overrides)
    if constraints.groups is None and constraints.max_size is None:
        constraints = replace(constraints, groups=max(1, round(len(cls.students) / 5)))
    standards = (tuple(s.strip() for s in args.standards.split(",") if s.strip())
                 if args.standards else None)
    options = Options(mode=Mode(args.mode), standards=standards, seed=args.seed)
    source = str(args.constraints) if args.constraints else "command line"
    result = make_groups(cls, constraints, options, exact=args.exact, source=source,
                         progress=lambda text: sys.stderr.write(f"exact method: {text}\n"))
    out = sys.stdout
    if cls.ignored_columns:
        out.write("Not standards (skipped): " + ", ".join(cls.ignored_columns) + "\n")
    names = {s.id: s.label for s in cls.students}
    for k, group in enumerate(result.groups):
        topic = f" - {result.topics[k]}" if result.topics[k] else ""
        out.write(f"Group {k + 1}{topic} ({len(group)})\n")
        for sid in group:
            who = f"{names[sid]} ({sid})" if names[sid] != sid else sid
            out.write(f"  {who}: {result.reasons[sid]}\n")
    out.write(result.summary + "\n")
    if args.json:
        out.write(json.dumps(result.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
    return 0
