"""Paired scenario comparison and who captures a change in system cost (``paysim compare``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from builders import small_trust
from typer.testing import CliRunner

from paysim.analysis.compare import compare_scenarios, saving_split, scenario_columns
from paysim.cli import app
from paysim.model.scenario import load_scenario, scenario_from_dict
from paysim.runs.runner import RunSettings, simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def small_with_contracts():
    """The small trust's services under the default scenario's contracts and costs (all four rules)."""
    default = load_scenario("scenarios/default.yaml").model_dump(mode="json", exclude_none=True)
    small = small_trust(seed=9).model_dump(mode="json", exclude_none=True)
    return scenario_from_dict({**default, "services": small["services"], "years": 1, "warmup_days": 0})


def test_saving_split_adds_up_exactly_per_replication(small_with_contracts):
    base = small_with_contracts
    other = base.with_overrides({"services.inpatient.beds": 13, "contracts.oap_paid_by": "commissioner"})
    columns = [scenario_columns(s, simulate(s, RunSettings(reps=6, uncertainty=False))) for s in (base, other)]
    rows = saving_split(*columns)
    assert [row["rule"] for row in rows] == ["block", "activity", "blended", "capitation", "api"]
    for row in rows:
        rule = row["rule"]
        saving = columns[0][f"{rule}.system_cost"] - columns[1][f"{rule}.system_cost"]
        provider = columns[1][f"{rule}.provider_surplus"] - columns[0][f"{rule}.provider_surplus"]
        commissioner = columns[0][f"{rule}.commissioner_spend"] - columns[1][f"{rule}.commissioner_spend"]
        np.testing.assert_allclose(provider + commissioner, saving, rtol=1e-12, atol=1e-3)
        assert row["provider"] + row["commissioner"] == pytest.approx(row["saving"], abs=1e-3)
    # under a block the commissioner's spend moves only through the OAPs it now pays for directly
    block = rows[0]
    oap_spend = columns[1]["block.commissioner_spend"] - columns[1]["block.provider_income"]
    assert block["commissioner"] == pytest.approx(-oap_spend.mean())


def test_compare_pairs_replications_and_uses_the_base_seed(small_with_contracts):
    base = small_with_contracts
    other = base.with_overrides({"seed": base.seed + 1, "services.inpatient.beds": 12})
    result = compare_scenarios(base, other, 8, engine="vector")
    assert result.other.seed == base.seed
    rows = {row["column"]: row for row in result.rows}
    # same seed, same patients: referrals are identical, so their paired difference is exactly 0
    assert (
        rows["talking_therapies.referrals"]["mean_difference"] == 0 and rows["talking_therapies.referrals"]["se"] == 0
    )
    assert rows["inpatient.bed_requests"]["mean_difference"] == 0
    # more beds, fewer OAP bed days, with a tight paired interval
    oap = rows["inpatient.oap_bed_days"]
    assert oap["mean_difference"] < 0 and oap["ci_high"] < 0


def test_compare_command_writes_json_and_rejects_missing_change(small_with_contracts, tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(small_with_contracts.to_yaml(), encoding="utf-8")
    out = tmp_path / "cmp.json"
    result = runner.invoke(
        app, ["compare", str(path), "--change", "services.inpatient.beds=12", "--reps", "4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert {row["rule"] for row in written["saving_split"]} == {"block", "activity", "blended", "capitation", "api"}
    assert "who captures the saving" in result.stdout
    bad = runner.invoke(app, ["compare", str(path), "--reps", "4", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "--change" in bad.stderr and not (tmp_path / "x.csv").exists()
    bad_key = runner.invoke(app, ["compare", str(path), "--change", "services.inpatient.bedz=3"])
    assert bad_key.exit_code == 2 and "did you mean 'beds'" in bad_key.stderr
