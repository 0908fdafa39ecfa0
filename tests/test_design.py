"""Contract design: the solver recovers planted answers, and the bootstrap measures their uncertainty."""

from __future__ import annotations

import json

import numpy as np
import pytest
from builders import small_trust
from typer.testing import CliRunner

from paysim.analysis import design as dz
from paysim.cli import app
from paysim.model.scenario import load_scenario, scenario_from_dict
from paysim.money import finance
from paysim.runs.runner import RunSettings, simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def small():
    """The small trust for one year under the default's contracts and costs, with 60 replications."""
    default = load_scenario("scenarios/default.yaml").model_dump(mode="json", exclude_none=True)
    default.pop("uncertain", None)
    services = small_trust(seed=11).model_dump(mode="json", exclude_none=True)["services"]
    scenario = scenario_from_dict({**default, "services": services, "years": 1, "warmup_days": 0})
    return scenario, simulate(scenario, RunSettings(reps=60))


def test_block_value_for_a_ten_percent_deficit_risk_is_the_90th_percentile_of_cost(small):
    """Planted answer: over one year block surplus = v - cost, so P(deficit) = 10 % at v = the 90th
    percentile of cost; the bootstrap equals resampling that percentile directly (the term is linear)."""
    scenario, activity = small
    cost = finance.ledgers(scenario, activity)["block"].total("provider_cost")
    result = dz.design(scenario, "p-deficit", ["contracts.block.annual_value"], activity=activity, bootstrap=50)
    assert result.value == pytest.approx(np.quantile(cost, 0.9), rel=1e-9)
    assert result.at_answer["p_deficit"] == pytest.approx(0.1, abs=1 / 60)
    rng = np.random.default_rng([scenario.seed, 0xDE51])
    direct = [np.quantile(cost[rng.integers(0, 60, 60)], 0.9) for _ in range(50)]
    assert result.se == pytest.approx(np.std(direct, ddof=1), rel=1e-6)
    assert result.ci_low < result.value < result.ci_high
    mean = dz.design(scenario, "mean-surplus", ["contracts.block.annual_value"], activity=activity, bootstrap=0)
    assert mean.value == pytest.approx(cost.mean(), rel=1e-9) and np.isnan(mean.se)


def test_capitation_rate_recovers_a_planted_break_even(small):
    """Without outcome element or corridor, capitation income = rate x population x need weight, so the
    rate that breaks even at the 90th percentile of cost is that percentile / weighted heads."""
    scenario, activity = small
    plain = scenario.with_overrides({"contracts.capitation.outcomes": None})
    cost = finance.ledgers(plain, activity)["capitation"].total("provider_cost")
    terms = plain.contracts.capitation
    result = dz.design(plain, "p-deficit", ["contracts.capitation.rate_per_head"], activity=activity, bootstrap=0)
    assert result.value == pytest.approx(np.quantile(cost, 0.9) / (terms.population * terms.need_weight), rel=1e-9)


def test_equal_shortfall_marginal_rate_balances_the_two_parties(small):
    scenario, activity = small
    terms = ["contracts.blended.variable.rate_above", "contracts.blended.variable.rate_below"]
    no_corridor = scenario.with_overrides({"contracts.blended.corridor": None, "contracts.blended.outcomes": None})
    result = dz.design(no_corridor, "equal-shortfall", terms, activity=activity, bootstrap=30)
    assert 0 < result.value < 1
    m = result.at_answer
    assert m["provider_shortfall"] == pytest.approx(m["commissioner_shortfall"], rel=1e-6)
    # at a rate of 0 the commissioner's spend is fixed (a block of value F): the provider carries the risk
    zero = dz.Pricer(no_corridor, activity, terms, "blended")(0.0)
    assert dz.goal_measures(*zero)["commissioner_shortfall"] < m["commissioner_shortfall"]
    assert result.se > 0 and result.ci_low <= result.value <= result.ci_high
    points = dz.design_chart_data(result)
    assert {p["series"] for p in points} == {"provider shortfall", "commissioner shortfall"}


def test_bad_terms_and_no_answer_are_clear(small):
    scenario, activity = small
    with pytest.raises(dz.DesignError, match="did you mean 'annual_value'"):
        dz.design(scenario, "p-deficit", ["contracts.block.anual_value"], activity=activity)
    with pytest.raises(dz.DesignError, match="one rule"):
        dz.check_terms(scenario, ["contracts.block.annual_value", "contracts.capitation.rate_per_head"])
    with pytest.raises(dz.DesignError, match="no value between"):
        dz.design(scenario, "p-deficit", ["contracts.block.annual_value"], bounds=(1.0, 2.0), activity=activity)


def test_design_command(small, tmp_path):
    scenario, _ = small
    path = tmp_path / "small.yaml"
    path.write_text(scenario.to_yaml(), encoding="utf-8")
    out = tmp_path / "design.json"
    args = ["design", str(path), "--goal", "p-deficit", "--term", "contracts.block.annual_value", "--reps", "20"]
    result = runner.invoke(app, [*args, "--bootstrap", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert written["goal"] == "p-deficit" and written["reps"] == 20 and len(written["curve"]) == 201
    assert "contracts.block.annual_value = £" in result.stdout
    bad = runner.invoke(app, ["design", str(path), "--goal", "p-deficit", "--term", "contracts.blok.annual_value"])
    assert bad.exit_code == 2 and "contracts.block" in bad.stderr
    bad = runner.invoke(app, [*args, "--target", "1.5"])
    assert bad.exit_code == 2 and "--target" in bad.stderr
