"""One-way (tornado) and Sobol sensitivity: closed forms, an analytic test function, the command."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.csv as pacsv
import pytest
from builders import small_trust
from scipy import stats
from typer.testing import CliRunner

from paysim.analysis import sensitivity as sens
from paysim.cli import app
from paysim.model.scenario import load_scenario, scenario_from_dict

runner = CliRunner()


@pytest.fixture(scope="module")
def toy():
    """The small trust for one year with the default's costs (without its cost-improvement programme) and a block
    contract only."""
    default = load_scenario("scenarios/default.yaml").model_dump(mode="json", exclude_none=True)
    default.pop("uncertain", None)
    default["costs"].pop("cip")
    services = small_trust(seed=5).model_dump(mode="json", exclude_none=True)["services"]
    return {
        **default,
        "services": services,
        "years": 1,
        "warmup_days": 0,
        "contracts": {"oap_paid_by": "provider", "block": {"annual_value": 5e6}},
    }


BLOCK = {"dist": "uniform", "low": 4e6, "high": 6e6}
WARD = {"dist": "uniform", "low": 150000, "high": 250000}


def test_block_surplus_is_linear_in_the_block_value(toy):
    """Closed form: over one year, surplus = block value - cost, so its swing between the 5th and 95th
    percentiles of U(4m, 6m) is exactly 0.9 x 2m, with no noise (common random numbers); the fixed ward
    cost moves the surplus by 10 beds x the change; community growth does not move a block surplus."""
    scenario = scenario_from_dict(
        {
            **toy,
            "uncertain": {
                "parameters": {
                    "contracts.block.annual_value": BLOCK,
                    "costs.beds.fixed_per_bed_per_year": WARD,
                    "services.community.growth": [0.0, 0.1],
                    "services.inpatient.los_days.mean": [25, 45],
                }
            },
        }
    )
    tornado = sens.one_way(scenario, "block.provider_surplus", 6, engine="vector")
    rows = {row["parameter"]: row for row in tornado.rows}
    block = rows["contracts.block.annual_value"]
    assert (block["low"], block["high"]) == pytest.approx((4.1e6, 5.9e6))
    assert block["value_high"] - block["value_low"] == pytest.approx(1.8e6, rel=1e-12)
    assert block["swing_se"] == pytest.approx(0, abs=1e-6)
    ward = rows["costs.beds.fixed_per_bed_per_year"]
    assert ward["value_low"] - ward["value_high"] == pytest.approx(10 * 0.9 * 100000, rel=1e-12)
    assert rows["services.community.growth"]["swing"] == 0  # staff are a fixed cost under a block
    los = rows["services.inpatient.los_days.mean"]
    assert los["value_high"] < los["value_low"]  # longer stays, more OAP bed days, lower surplus
    assert los["swing"] > 4 * los["swing_se"]
    # sorted by swing, and every row has the central value
    assert [row["swing"] for row in tornado.rows] == sorted((row["swing"] for row in tornado.rows), reverse=True)
    assert {row["value_central"] for row in tornado.rows} == {tornado.value_central}
    bars = sens.tornado_chart_data(tornado)
    assert len(bars) == 8 and bars[0]["parameter"] == tornado.rows[0]["parameter"] and bars[0]["order"] == 0
    assert bars[0]["start"] == tornado.value_central


@pytest.mark.statistical
def test_sobol_indices_of_the_ishigami_function():
    """Ishigami (a = 7, b = 0.1, inputs U(-pi, pi)): S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437."""
    a, b = 7.0, 0.1

    def ishigami(x):
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    specs = [stats.uniform(-np.pi, 2 * np.pi)] * 3
    rows = sens.sobol_indices(ishigami, specs, ["x1", "x2", "x3"], samples=2048, seed=3)
    exact_s1 = [0.3139, 0.4424, 0.0]
    exact_st = [0.5576, 0.4424, 0.2437]
    for row, s1, st in zip(rows, exact_s1, exact_st, strict=True):
        assert abs(row["S1"] - s1) < max(2 * row["S1_conf"], 0.02)
        assert abs(row["ST"] - st) < max(2 * row["ST_conf"], 0.02)


def test_sobol_of_an_additive_money_model_matches_the_variance_shares(toy):
    """Block surplus = value - 10 x ward cost - rest: additive, so S1 = ST = each input's share of the variance,
    (2m)^2 : (10 x 100k)^2 = 0.8 : 0.2."""
    scenario = scenario_from_dict(
        {
            **toy,
            "uncertain": {
                "parameters": {"contracts.block.annual_value": BLOCK, "costs.beds.fixed_per_bed_per_year": WARD}
            },
        }
    )
    result = sens.sobol(scenario, "block.provider_surplus", samples=256, reps=2)
    rows = {row["parameter"]: row for row in result.rows}
    assert result.evaluations == 256 * 4
    for key, share in (("contracts.block.annual_value", 0.8), ("costs.beds.fixed_per_bed_per_year", 0.2)):
        assert abs(rows[key]["S1"] - share) < max(2 * rows[key]["S1_conf"], 0.03)
        assert abs(rows[key]["ST"] - share) < max(2 * rows[key]["ST_conf"], 0.03)
    bars = sens.sobol_chart_data(result.rows)
    assert [bar["index"] for bar in bars[:2]] == ["first order", "total"]


def test_sensitivity_command(toy, tmp_path):
    scenario = scenario_from_dict(
        {
            **toy,
            "uncertain": {"parameters": {"contracts.block.annual_value": BLOCK, "services.crisis.growth": [0, 0.1]}},
        }
    )
    path = tmp_path / "toy.yaml"
    path.write_text(scenario.to_yaml(), encoding="utf-8")
    out = tmp_path / "tornado.csv"
    args = ["sensitivity", str(path), "--measure", "block.provider_surplus", "--reps", "3", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pacsv.read_csv(out)
    assert table.column_names[:6] == ["parameter", "low", "high", "value_low", "value_high", "swing"]
    assert table.column("parameter").to_pylist()[0] == "contracts.block.annual_value"
    sobol_out = tmp_path / "sobol.json"
    result = runner.invoke(
        app,
        [
            "sensitivity",
            str(path),
            "--measure",
            "block.provider_surplus",
            "--method",
            "sobol",
            "--samples",
            "8",
            "--reps",
            "1",
            "--out",
            str(sobol_out),
        ],
    )
    assert result.exit_code == 0, result.output
    written = json.loads(sobol_out.read_text())
    assert written["evaluations"] == 8 * 4 and {row["parameter"] for row in written["rows"]} == {
        "contracts.block.annual_value",
        "services.crisis.growth",
    }
    bad = runner.invoke(app, ["sensitivity", str(path), "--measure", "block.provider_surplu", "--out", str(out)])
    assert bad.exit_code == 2 and "did you mean 'block.provider_surplus'" in bad.stderr
    plain = tmp_path / "plain.yaml"
    plain.write_text(scenario_from_dict(toy).to_yaml(), encoding="utf-8")
    bad = runner.invoke(app, ["sensitivity", str(plain), "--measure", "block.provider_surplus"])
    assert bad.exit_code == 2 and "no uncertain: block" in bad.stderr
    bad = runner.invoke(app, ["sensitivity", str(path), "--measure", "block.provider_surplus", "--method", "morris"])
    assert bad.exit_code == 2 and "--method" in bad.stderr
