"""``stations district ...``: ingest, migrate, report, broker-config.

psycopg is imported only inside the commands: a hub has no need of it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import signal
import threading
from pathlib import Path

from stations.errors import StationsError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from err


def _psycopg():  # type: ignore[no-untyped-def]
    try:
        import psycopg
    except ImportError as err:
        raise StationsError("the district commands need psycopg: pip install "
                            "'classroom-stations[district]'") from err
    return psycopg


def cmd_ingest(args: argparse.Namespace) -> int:
    _psycopg()
    from district.ingest import run_ingest

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        return run_ingest(args.config, workers=args.workers, stop=stop)
    stop.set()
    return 0


def _connect(config):  # type: ignore[no-untyped-def]
    psycopg = _psycopg()
    try:
        return psycopg.connect(config.postgres.dsn, password=config.postgres.password,
                               connect_timeout=10)
    except psycopg.OperationalError as err:
        raise StationsError(f"{config.path}: postgres.dsn: cannot connect "
                            f"({str(err).strip()})") from err


def cmd_migrate(args: argparse.Namespace) -> int:
    from district import schema
    from district.config import load_district_config

    config = load_district_config(args.config)
    with _connect(config) as conn:
        schema.prepare(conn, months_ahead=config.postgres.months_ahead,
                       keep_months=config.postgres.keep_months,
                       rooms=[(r.id, r.school) for r in config.rooms])
        applied = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
        months = sorted(schema.partitions(conn))
    print(f"schema at {applied} migrations; partitions {months[0]:%Y-%m} to {months[-1]:%Y-%m}"
          if months else f"schema at {applied} migrations")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from district.config import load_district_config
    from district.report import write_reports

    config = load_district_config(args.config)
    with _connect(config) as conn:
        written = write_reports(conn, config, args.out, start=args.start, end=args.end)
    for w in written:
        note = f" ({w.withheld} withheld: under {config.report.min_students} students)" \
            if w.withheld else ""
        print(f"{w.path}: {w.rows} rows{note}")
    return 0


def cmd_broker_config(args: argparse.Namespace) -> int:
    from district.broker_config import generate
    from district.config import load_district_config

    config = load_district_config(args.config, secrets=False)
    result = generate(config, args.out, install_dir=args.install_dir)
    print(f"{len(result.written)} files written under {result.out}; new secrets: "
          f"{', '.join(result.new_secrets) or 'none'}; revoked: "
          f"{', '.join(result.revoked) or 'none'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    district = sub.add_parser("district", help="the district tier: ingest, reports, broker")
    dsub = district.add_subparsers(dest="district_command", required=True)

    ingest = dsub.add_parser("ingest", help="run the ingest workers (shared subscription "
                                            "→ PostgreSQL); migrates the schema first")
    ingest.add_argument("--config", type=Path, required=True,
                        help="the district's config file (district.toml)")
    ingest.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: [ingest] workers)")
    ingest.set_defaults(func=cmd_ingest)

    migrate = dsub.add_parser("migrate", help="create or migrate the schema, make partitions "
                                              "ahead, apply retention; then exit")
    migrate.add_argument("--config", type=Path, required=True,
                         help="the district's config file (district.toml)")
    migrate.set_defaults(func=cmd_migrate)

    report = dsub.add_parser("report", help="per-school, per-class and per-day aggregates "
                                            "as CSV (no row-level student data)")
    report.add_argument("--config", type=Path, required=True,
                        help="the district's config file (district.toml)")
    report.add_argument("--out", type=Path, default=Path("district-reports"),
                        help="folder for the CSV files (default: district-reports)")
    report.add_argument("--from", dest="start", type=_date, default=None, metavar="DATE",
                        help="first day to report, YYYY-MM-DD (default: all)")
    report.add_argument("--to", dest="end", type=_date, default=None, metavar="DATE",
                        help="last day to report, YYYY-MM-DD (default: all)")
    report.set_defaults(func=cmd_report)

    bc = dsub.add_parser("broker-config", help="Mosquitto config for the district broker: "
                                               "TLS, an account and ACL per room, ingest")
    bc.add_argument("--config", type=Path, required=True,
                    help="the district's config file (district.toml)")
    bc.add_argument("--out", type=Path, required=True,
                    help="output folder (holds the district CA key: keep it safe)")
    bc.add_argument("--install-dir", type=Path, default=None,
                    help="where DIR/broker will live on the broker host")
    bc.set_defaults(func=cmd_broker_config)
