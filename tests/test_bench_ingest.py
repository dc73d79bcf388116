"""A short run of the ingest benchmark (``bench/hub_ingest.py``) on the room as deployed, so
the benchmark cannot rot unnoticed: it reports a rate only once every check-in is stored and
answered, and its last line is one JSON object with its figures beside the baselines."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def test_ingest_benchmark_runs_as_deployed_and_prints_its_figures() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.hub_ingest", "--messages", "200", "--stations", "10",
         "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["messages"] == 200 and result["stations"] == 10
    for figure in ("hub_rate_per_s", "raw_rate_per_s", "echo_rate_per_s"):
        assert result[figure] > 0, figure
    assert result["ratio"] == pytest.approx(result["hub_rate_per_s"] / result["raw_rate_per_s"],
                                            abs=0.01)
    assert result["display"] is True and result["mqtt_process"] is True  # as deployed
