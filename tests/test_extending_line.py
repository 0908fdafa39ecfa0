"""Extending paysim as the README's *Extending paysim* says: a toy referral line ("memory clinic", shaped like
community, feeding no other line) is one declaration in a plugin, and runs end to end without editing any file of
paysim.

The plugin is a folder on ``PYTHONPATH`` with one module declaring the line (a ``ServiceLine`` whose section and
staff are community's models) and a ``dist-info`` naming it under the entry-point group ``paysim.service_lines``
(what ``pip install`` of a package declaring it leaves). ``services.memory_clinic`` is then a scenario key, both
engines simulate the line, its measures are results columns, the app names it and its staff are costed.

Worked example (README): 7 funded WTE at £60,000 a year, no vacancies, is £420,000 in the first financial year,
£35,000 a month; with the default trust's 5 % pay inflation from each April, £441,000 and £463,050 in the next
two, £1,324,050 over the 3 counted years.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from paysim.model.lines import SERVICE_LINES_GROUP, SERVICES
from paysim.model.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).parents[1]

LINE = """
from paysim.model.lines import TREATMENT_STREAMS, ServiceLine

LINE = ServiceLine(
    "memory_clinic",
    "referral",
    "Memory clinic",
    "core",
    TREATMENT_STREAMS,
    contacts_per_week=0.25,
    section="paysim.model.services:Community",
    staff="paysim.model.terms:CommunityStaff",
)
"""

ENTRY_POINTS = f"""
[{SERVICE_LINES_GROUP}]
memory_clinic = memory_clinic:LINE
"""

MEMORY_CLINIC = {
    "referrals_per_year": 1200,
    "episode_days": {"dist": "lognormal", "mean": 90, "sd": 60},
    "standard_days": 42,
    "patience_days": 180,
    "treated_share": 0.8,
    "capacity": {"staff_wte": 7, "caseload_per_wte": 30},  # 210 places: a list forms
}
MEASURES = ("referrals", "started", "started_within_standard", "caseload_mean", "waiting_end", "wait_days_mean")


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """A folder holding the memory clinic's declaration and the dist-info that names it."""
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "memory_clinic.py").write_text(textwrap.dedent(LINE))
    info = folder / "paysim_memory-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: paysim-memory\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return folder


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    """The default trust with a memory clinic and its staff (and no cost-improvement programme)."""
    data = yaml.safe_load((ROOT / "scenarios" / "default.yaml").read_text())
    data["services"]["memory_clinic"] = MEMORY_CLINIC
    data["costs"]["staff"]["memory_clinic"] = {"cost_per_wte": 60_000}
    data["costs"]["cip"]["planned_share"] = 0.0  # no cost improvement: the staff cost is the worked example's
    path = tmp_path_factory.mktemp("scenario") / "memory.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _python(plugin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)]), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    return done


def _results(plugin: Path, scenario_file: Path, engine: str, out: Path) -> list[dict[str, str]]:
    args = ["-m", "paysim", "run", str(scenario_file), "--reps", "2", "--engine", engine, "--no-uncertainty"]
    args += ["--set", "years=1", "--set", "warmup_days=60"]  # one counted year: the SimPy model is the slow side
    done = _python(plugin, *args, "--out", str(out))
    assert "memory_clinic" in done.stdout  # the activity table has the line's rows
    with out.open() as file:
        return list(csv.DictReader(file))


def test_paysim_run_simulates_the_memory_clinic_alike_in_both_engines(plugin, scenario_file, tmp_path):
    vector = _results(plugin, scenario_file, "vector", tmp_path / "vector.csv")
    des = _results(plugin, scenario_file, "des", tmp_path / "des.csv")
    assert len(vector) == len(des) == 2
    for measure in MEASURES:
        assert f"memory_clinic.{measure}" in vector[0]
    assert vector[0].keys() == des[0].keys()
    for fast, reference in zip(vector, des, strict=True):  # replication by replication
        for column, value in fast.items():  # the SimPy clock's rounding may move an event across one of the vector
            # engine's area ticks (2^-30 day): a few ticks of caseload in a money column, 1e-9 of it at most
            assert math.isclose(float(value), float(reference[column]), rel_tol=1e-8, abs_tol=1e-9), column
    referrals = [float(row["memory_clinic.referrals"]) for row in vector]
    assert all(1000 < n < 1400 for n in referrals)  # about 1,200 in the one counted year
    assert max(float(row["memory_clinic.wait_days_mean"]) for row in vector) > 0  # 210 places: people wait


def test_the_app_costs_and_schema_know_the_memory_clinic(plugin, scenario_file):
    script = textwrap.dedent(
        f"""
        import json
        from paysim.app_support.common import LINE_LABELS
        from paysim.model.scenario import json_schema, load_scenario
        from paysim.money.costs import provider_costs
        from paysim.runs.runner import RunSettings, simulate
        scenario = load_scenario({str(scenario_file)!r})
        activity = simulate(scenario, RunSettings(reps=2))
        costs = provider_costs(scenario, activity)
        staff = costs.parts["memory_clinic.staff"]
        print(json.dumps({{
            "labels": LINE_LABELS,
            "lines": scenario.lines(),
            "contacts": scenario.costs.contacts_per_week.memory_clinic,
            "staff_months": staff[0, :13].tolist(),
            "staff_total": staff.sum(axis=1).tolist(),
            "by_service": costs.by_service()["memory_clinic"].sum(axis=1).tolist(),
            "schema": "memory_clinic" in json.dumps(json_schema()),
        }}))
        """
    )
    found = json.loads(_python(plugin, "-c", script).stdout)
    assert found["labels"]["memory_clinic"] == "Memory clinic"
    assert found["lines"][-1] == "memory_clinic"
    assert found["contacts"] == 0.25  # the line's default
    assert found["staff_months"][:12] == pytest.approx([35_000.0] * 12, rel=1e-12)  # 7 x £60,000 / 12
    assert found["staff_months"][12] == pytest.approx(36_750.0, rel=1e-12)  # 5 % pay award from April
    for total, service in zip(found["staff_total"], found["by_service"], strict=True):
        assert total == pytest.approx(420_000 + 441_000 + 463_050, rel=1e-12)
        assert service == pytest.approx(total, rel=1e-12)  # no unit costs: its staff are its cost
    assert found["schema"]


def test_without_the_plugin_a_memory_clinic_is_an_unknown_key(scenario_file):
    assert "memory_clinic" not in SERVICES
    with pytest.raises(ScenarioError, match=r"services\.memory_clinic"):
        load_scenario(scenario_file)
