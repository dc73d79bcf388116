"""A short chaos run on the room as deployed (``bench/chaos.py``): nothing lost, nothing doubled
through a broker SIGKILL that takes check-ins queued for a crashed hub with it, and a power
cut of the whole room. The full run is a benchmark (bench/README.md); this one takes ~30 s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def test_chaos_smoke_loses_and_doubles_nothing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "chaos.py"), "--minutes", "0.5",
         "--stations", "6", "--every", "8", "--plan", "hub-broker-kill,room-crash",
         "--keep", str(tmp_path / "run"), "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=240)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["broker_kills"] >= 1 and result["room_crashes"] >= 1
    assert result["hub_kills"] >= 1
    assert result["accepted"] >= 10
    assert result["lost"] == 0 and result["duplicated"] == 0
    assert result["stored"] == result["accepted"]
    assert result["left_in_outboxes"] == 0
    # The room as deployed: stations over TLS with their own passwords, the hub on loopback.
    run = tmp_path / "run"
    conf = (run / "room-config" / "broker" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "certfile" in conf
    assert "ca_file" in (run / "kiosk-st-00.toml").read_text()
