"""Starting and stopping processes the way a room needs: in order, never half-way.

A terminal's Ctrl-C goes to every process in its foreground group, and systemd's stop to
every process of a unit: if the broker or the hub's MQTT process died with the first signal,
the services still draining their outboxes would lose it under their feet. So:

- :func:`stop_on_signals` turns SIGINT, SIGTERM and SIGHUP into one graceful stop (a second
  Ctrl-C still interrupts a stuck process);
- :func:`child_options` starts a child that only its parent stops: in its own process group
  (the terminal's Ctrl-C does not reach it) and ended with SIGTERM if the parent dies
  (Linux's parent-death signal), so nothing outlives a killed parent;
- :func:`ignore_stop_signals` is for a helper process whose life is its parent's (it leaves
  when its pipe to the parent closes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def stop_on_signals(stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGINT, SIGTERM or SIGHUP, once; the next Ctrl-C interrupts."""
    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stop()
    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)


def ignore_stop_signals() -> None:
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def child_options() -> dict[str, Any]:
    """``subprocess.Popen`` keyword arguments for a child only its parent stops."""
    prctl = _libc_prctl()  # looked up here: the child must not load libraries after fork

    def in_child() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return {"process_group": 0, "preexec_fn": in_child}
