"""Parameter uncertainty: the ``uncertain:`` block, per-replication sampling, PSA runs and their money."""

from __future__ import annotations

import numpy as np
import pyarrow.csv as pacsv
import pytest
from builders import small_trust
from typer.testing import CliRunner

from paysim.cli import app
from paysim.model import uncertainty
from paysim.model.scenario import ScenarioError, load_scenario, scenario_from_dict
from paysim.money import finance
from paysim.runs import psa
from paysim.runs.montecarlo import run_chunk
from paysim.runs.runner import RunSettings, simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def small():
    """The small trust's services under the default scenario's contracts and costs (all four rules)."""
    default = load_scenario("scenarios/default.yaml").model_dump(mode="json", exclude_none=True)
    default.pop("uncertain", None)
    services = small_trust(seed=9).model_dump(mode="json", exclude_none=True)["services"]
    return {**default, "services": services, "years": 1, "warmup_days": 0}


def with_uncertain(data, block):
    return scenario_from_dict({**data, "uncertain": block}, source="test.yaml")


UNCERTAIN = {
    "parameters": {
        "services.inpatient.los_days.mean": {"dist": "pert", "low": 25, "mode": 33, "high": 45},
        "services.inpatient.beds": [8, 13],
        "services.crisis.growth": {"dist": "normal", "mean": 0.03, "sd": 0.02, "low": -0.05, "high": 0.1},
        "contracts.block.annual_value": {"dist": "lognormal", "mean": 5e6, "sd": 2e5},
    },
    "correlations": [{"between": ["services.inpatient.los_days.mean", "services.inpatient.beds"], "rho": -0.5}],
}


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"parameters": {"services.inpatient.bedz": [1, 2]}}, "did you mean 'beds'"),
        ({"parameters": {"services.inpatient.oap.repatriate": [0, 1]}}, "must name a number"),
        ({"parameters": {"seed": [1, 2]}}, "must be under services, contracts, costs"),
        ({"parameters": {"services.community.capacity.vacancy_rate": [0.5, 1.2]}}, "reaches 1.2"),
        ({"parameters": {"services.crisis.growth": {"dist": "gamma", "mean": 1}}}, "does not match"),
        ({"parameters": {"services.crisis.growth": [0.1, 0.0]}}, "must be > low"),
        (
            {
                "parameters": {"services.crisis.growth": [0, 0.1], "services.community.growth": [0, 0.1]},
                "correlations": [{"between": ["services.crisis.growth", "services.community.grwth"], "rho": 0.5}],
            },
            "did you mean 'services.community.growth'",
        ),
        (
            {
                "parameters": {"services.crisis.growth": [0, 0.1], "services.community.growth": [0, 0.1]},
                "correlations": [{"between": ["services.crisis.growth", "services.community.growth"], "rho": 1}],
            },
            "not positive definite",
        ),
    ],
)
def test_bad_uncertain_blocks_name_the_key(small, block, message):
    with pytest.raises(ScenarioError) as info:
        with_uncertain(small, block)
    text = str(info.value)
    assert text.startswith("test.yaml: uncertain.") and message in text


def test_range_shorthand_is_uniform_and_yaml_round_trips(small):
    scenario = with_uncertain(small, UNCERTAIN)
    spec = scenario.uncertain.parameters["services.inpatient.beds"]
    assert spec.dist == "uniform" and (spec.low, spec.high) == (8, 13)
    again = scenario_from_dict(__import__("yaml").safe_load(scenario.to_yaml()))
    assert again == scenario


# --- sampling ------------------------------------------------------------------------------------------


def test_a_replications_draw_does_not_depend_on_its_chunk(small):
    scenario = with_uncertain(small, UNCERTAIN)
    whole = uncertainty.sample(scenario, range(10))
    np.testing.assert_array_equal(uncertainty.sample(scenario, [7, 3]), whole[[7, 3]])
    assert np.all(whole[:, 1] == np.round(whole[:, 1]))  # beds are whole numbers
    assert isinstance(uncertainty.overrides_of(scenario, whole[0])["services.inpatient.beds"], int)


@pytest.mark.statistical
def test_marginals_and_copula_correlation():
    """4,000 draws: means of uniform, PERT, lognormal and truncated normal within 4 SE; normal-score
    correlation within 4 SE of rho; truncation respected."""
    data = scenario_from_dict(
        {
            "name": "t",
            "years": 1,
            "services": small_trust().model_dump(mode="json", exclude_none=True)["services"],
            "contracts": {"block": {"annual_value": 1e6}},
        }
    ).model_dump(mode="json", exclude_none=True)
    block = {
        "parameters": {
            "services.crisis.growth": [0.0, 0.1],
            "services.inpatient.los_days.mean": {"dist": "pert", "low": 20, "mode": 30, "high": 60},
            "contracts.block.annual_value": {"dist": "lognormal", "mean": 1e6, "sd": 3e5},
            "services.community.growth": {"dist": "normal", "mean": 0.0, "sd": 0.05, "low": -0.02},
        },
        "correlations": [{"between": ["services.crisis.growth", "contracts.block.annual_value"], "rho": 0.6}],
    }
    scenario = with_uncertain(data, block)
    x = uncertainty.sample(scenario, range(4000))
    n = len(x)
    pert_mean = (20 + 4 * 30 + 60) / 6
    for column, mean, sd in [(0, 0.05, 0.1 / np.sqrt(12)), (1, pert_mean, None), (2, 1e6, 3e5)]:
        spread = sd if sd is not None else x[:, column].std()
        assert abs(x[:, column].mean() - mean) < 4 * spread / np.sqrt(n)
    assert x[:, 3].min() >= -0.02
    from scipy import stats

    scores = stats.norm.ppf((x[:, 0] - 0.0) / 0.1)
    log_scores = np.log(x[:, 2])
    rho = np.corrcoef(scores, log_scores)[0, 1]
    assert abs(rho - 0.6) < 4 * (1 - 0.36) / np.sqrt(n)


# --- PSA runs ------------------------------------------------------------------------------------------


def test_psa_replication_is_its_own_scenario_run_alone_and_chunking_does_not_matter(small):
    scenario = with_uncertain(small, UNCERTAIN)
    one_by_one = psa.run_uncertain(scenario, 4, engine="vector", chunk_size=1)
    together = psa.run_uncertain(scenario, 4, engine="vector", chunk_size=3)
    for name in one_by_one.measures:
        np.testing.assert_array_equal(one_by_one[name], together[name])
    third = uncertainty.sampled_scenarios(scenario, [2])[0]
    alone = run_chunk(third, [2], "vector")
    np.testing.assert_array_equal(alone["inpatient.oap_bed_days"][0], together["inpatient.oap_bed_days"][2])
    assert third.services.inpatient.beds == int(uncertainty.sample(scenario, [2])[0, 1])


def test_money_only_uncertainty_reuses_the_central_activity_and_prices_each_replication(small):
    block = {"parameters": {"contracts.block.annual_value": [4e6, 6e6]}}
    scenario = with_uncertain(small, block)
    run = psa.simulate(scenario, 5, engine="vector")
    central = simulate(uncertainty.central(scenario), RunSettings(reps=5))
    np.testing.assert_array_equal(run.activity["inpatient.oap_bed_days"], central["inpatient.oap_bed_days"])
    values = run.params["param.contracts.block.annual_value"]
    assert len(set(values)) == 5 and values.min() >= 4e6 and values.max() <= 6e6
    # one year: block income = the sampled annual value, replication by replication
    np.testing.assert_allclose(run.ledgers["block"].total("provider_income"), values, rtol=1e-12)
    # cost does not depend on the block value
    ledgers = finance.ledgers(uncertainty.central(scenario), central)
    np.testing.assert_allclose(run.ledgers["block"].total("provider_cost"), ledgers["block"].total("provider_cost"))


def test_common_scenario_ledgers_equal_finance_ledgers(small):
    scenario = scenario_from_dict(small)
    activity = simulate(scenario, RunSettings(reps=4, uncertainty=False))
    mine = psa.ledgers_by_replication([scenario] * 4, activity)
    theirs = finance.ledgers(scenario, activity)
    # distinct (equal) objects force the per-row path; the blended plan is still the mean over all rows
    each = psa.ledgers_by_replication([scenario.model_copy() for _ in range(4)], activity)
    for rule in theirs:
        for name in finance.LEDGERS:
            np.testing.assert_allclose(mine[rule][name], theirs[rule][name], rtol=1e-12)
            np.testing.assert_allclose(each[rule][name], theirs[rule][name], rtol=1e-9, atol=1e-6)


def test_run_command_records_the_sample_and_no_uncertainty_turns_it_off(small, tmp_path):
    path = tmp_path / "u.yaml"
    path.write_text(with_uncertain(small, UNCERTAIN).to_yaml(), encoding="utf-8")
    out = tmp_path / "r.csv"
    result = runner.invoke(app, ["run", str(path), "--reps", "6", "--engine", "vector", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pacsv.read_csv(out)
    assert "param.services.inpatient.beds" in table.column_names
    assert len(set(table.column("param.services.inpatient.beds").to_pylist())) > 1
    flat = tmp_path / "c.csv"
    result = runner.invoke(
        app, ["run", str(path), "--reps", "3", "--engine", "vector", "--no-uncertainty", "--out", str(flat)]
    )
    assert result.exit_code == 0, result.output
    assert not [c for c in pacsv.read_csv(flat).column_names if c.startswith("param.")]
    plain = with_uncertain(small, {"parameters": UNCERTAIN["parameters"]}).to_yaml()
    path.write_text(plain.replace("services.inpatient.beds:", "services.inpatient.bedz:"), encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--reps", "3", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2 and "did you mean 'beds'" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_a_key_set_explicitly_is_pinned_not_sampled():
    from paysim.model.scenario import load_scenario

    base = load_scenario("scenarios/default.yaml")
    assert "services.inpatient.los_days.mean" in base.uncertain.parameters
    pinned = load_scenario("scenarios/default.yaml", ["services.inpatient.los_days.mean=10"])
    assert "services.inpatient.los_days.mean" not in pinned.uncertain.parameters
    assert pinned.services.inpatient.los_days.mean == 10
    # the other uncertain keys stay uncertain
    assert set(pinned.uncertain.parameters) == set(base.uncertain.parameters) - {"services.inpatient.los_days.mean"}


def test_pinning_the_only_uncertain_key_drops_the_block():
    from paysim.model.scenario import apply_overrides

    data = {"uncertain": {"parameters": {"services.inpatient.beds": [10, 20]}}, "services": {"inpatient": {}}}
    assert "uncertain" not in apply_overrides(data, {"services.inpatient.beds": 12})
