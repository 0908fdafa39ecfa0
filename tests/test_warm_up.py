"""``paysim warm-up`` compiles every numba kernel a run uses, so a run after it compiles nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paysim.cli import app
from paysim.engines import flow, settings
from paysim.engines.reuse import line_keys
from paysim.engines.warm import warm_up_scenario

ROOT = Path(__file__).resolve().parent.parent
HAS_NUMBA = settings.numba_available()

A_RUN = """
import sys
from paysim.engines import vector
from paysim.engines.settings import set_threads
from paysim.model.scenario import bundled_scenarios, load_scenario
set_threads(int(sys.argv[1]))
scenario = load_scenario(bundled_scenarios()["default"]).with_overrides({"years": 1, "warmup_days": 10})
vector.run(scenario, range(4), use_numba=True)
"""


def test_the_warm_up_scenario_reaches_every_line_and_feed():
    scenario = warm_up_scenario()
    assert set(scenario.lines()) | {"inpatient"} == set(flow.LINES) and scenario.services.inpatient is not None
    tt, community = scenario.services.talking_therapies, scenario.services.community
    assert tt.treated_share < 1 and tt.dropout_share > 0 and tt.first_appointment_days is not None
    assert community.treated_share == 1 and community.dropout_share == 0  # the build without the outcome code
    assert scenario.services.crisis.admission_share > 0 and scenario.services.inpatient.readmission_share > 0
    assert set(line_keys(scenario)) == set(flow.LINES)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_the_command_compiles_and_says_so():
    result = CliRunner().invoke(app, ["warm-up"])
    assert result.exit_code == 0, result.output
    assert "numba kernels, one thread: ready in" in result.output
    assert result.output.strip().splitlines()[-1].startswith("ready: ")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_a_run_after_the_warm_up_compiles_nothing(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_DEBUG_CACHE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("PAYSIM_THREADS", None)
    env["NUMBA_NUM_THREADS"] = "2"
    warm = subprocess.run(
        [sys.executable, "-m", "paysim", "warm-up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert warm.returncode == 0, warm.stderr[-3000:]
    assert "data saved" in warm.stdout + warm.stderr  # a fresh cache: it compiled
    for threads in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", A_RUN, threads], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        log = (done.stdout + done.stderr).splitlines()
        assert any("data loaded" in line for line in log)
        saved = [line for line in log if "data saved" in line]
        assert not saved, saved
