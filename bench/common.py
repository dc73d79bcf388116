"""What the benchmarks that run the room as deployed share: the hub started as its systemd unit
starts it, a roster of any size, and percentiles.

The hub runs as ``provisioning/files/systemd/stations-hub.service`` runs it: ``stations hub
--config hub.toml`` at the default log level (INFO, one line per check-in, the format of
``stations.cli``), Python unbuffered, its display on (SDL's dummy driver here: no screen),
stdout and stderr to one log file (journald on a hub). ``synchronous`` starts the same hub with
its database at another SQLite ``synchronous`` level, to measure what durability costs; it is
set right after the hub opens its database, before anything is stored.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from stations.demo import percentile as percentile  # the demo's summary uses the same

ROOT = Path(__file__).resolve().parent.parent

#: The environment of the hub's unit file, plus SDL's dummy driver (no display here).
UNIT_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "PYGAME_HIDE_SUPPORT_PROMPT": "1", "SDL_VIDEODRIVER": "dummy",
            "SDL_AUDIODRIVER": "dummy"}

# `stations hub ...` with the hub's database at another synchronous level (argv[1]).
_WITH_SYNCHRONOUS = """
import logging, sys
level = sys.argv.pop(1)
import hub.service, hub.store
opened = hub.store.open_db
def open_db(path):
    db = opened(path)
    db.execute(f"PRAGMA synchronous={level}")
    logging.getLogger("bench").warning("hub database %s at synchronous=%s (%s)", path, level,
                                       db.execute("PRAGMA synchronous").fetchone()[0])
    return db
hub.service.open_db = open_db
from stations.cli import main
sys.exit(main(sys.argv[1:]))
"""

#: What ``PRAGMA synchronous`` answers for each level.
SYNC_LEVELS = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}


def run_options(parser: argparse.ArgumentParser, *, child: bool = False) -> None:
    """``--keep DIR`` and ``--json``; with ``child``, the hidden options a benchmark's own
    station processes are started with (``--station-process``, ``--folder``)."""
    parser.add_argument("--keep", type=Path, default=None, help="keep the run's files here")
    parser.add_argument("--json", action="store_true",
                        help="last line: the figures as one JSON object")
    if child:
        parser.add_argument("--station-process", help=argparse.SUPPRESS)
        parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)


def start_hub(config: Path, log_path: Path, *, display: bool = True,
              synchronous: str | None = None) -> subprocess.Popen[bytes]:
    """The hub as its unit runs it, in a session of its own (kill the group to kill it all)."""
    args = ["hub", "--config", str(config), "--headless" if display else "--no-display"]
    if synchronous is None:
        command = [sys.executable, "-m", "stations", *args]
    else:
        if synchronous not in SYNC_LEVELS:
            raise ValueError(f"synchronous {synchronous!r}: use one of {', '.join(SYNC_LEVELS)}")
        command = [sys.executable, "-c", _WITH_SYNCHRONOUS, synchronous, *args]
    env = dict(os.environ, **UNIT_ENV, PYTHONPATH=str(ROOT))
    with log_path.open("ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def wait_connected(log_path: Path, seen: int, proc: subprocess.Popen[bytes],
                   timeout: float = 60.0) -> int:
    """Wait until the log shows one more broker connection than ``seen``; returns the count.

    The client subscribes in the same callback that logs it, so a moment later the hub's
    subscriptions are in place on the broker.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the hub exited ({proc.returncode}): see {log_path}")
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        count = text.count(": connected to ")
        if count > seen:
            time.sleep(0.5)
            return count
        time.sleep(0.05)
    raise RuntimeError(f"the hub did not connect to the broker in {timeout:.0f} s: see {log_path}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, as systemd stops a unit; SIGKILL to the whole group if it hangs."""
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def roster_toml(students: int, template: Path = ROOT / "stations" / "room" / "roster.toml"
                ) -> str:
    """The demo roster with students added up to ``students`` (badges 0B000001, ...)."""
    text = template.read_text()
    have = text.count("[[students]]")
    extra = []
    for k in range(have + 1, students + 1):
        extra.append(f'\n[[students]]\nid = "stu-{k:02d}"\ngiven_name = "Student"\n'
                     f'family_name = "{k}"\ngrade = "4"\nclasses = ["demo-4a"]\n'
                     f'badges = ["0B{k:06X}"]\n')
    return text + "".join(extra)


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group.

    A rate depends on what else shares the machine; the CPU each check-in costs does not.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def load() -> str:
    """The 1, 5 and 15 minute load averages, for the record (other work shares the cores)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
