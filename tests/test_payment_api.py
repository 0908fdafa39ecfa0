"""Aligned payment and incentive (API): the fixed payment, CQUIN paid in advance and clawed back, the local
variable element; last-year baselines (blended and API); the talking-therapies recovery indicator; API in
the ledgers, the results, the batch and PSA paths and every command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from money_builders import activity, scenario
from openpyxl import load_workbook
from typer.testing import CliRunner

from paysim.activity import measure_kinds
from paysim.analysis.compare import system_cost_columns
from paysim.cli import app
from paysim.model.scenario import ScenarioError, load_scenario, scenario_from_dict
from paysim.model.terms import RULES, ApiTerms, Baseline, Indicator
from paysim.money import finance
from paysim.money.payment import api_payment, planned_units
from paysim.money.payment.api import cquin_credit
from paysim.money.payment.outcomes import indicator_credit, indicator_value
from paysim.runs import psa
from paysim.runs.batch import run_batch
from paysim.runs.io import results_table
from paysim.runs.runner import RunSettings, simulate

runner = CliRunner()
BED_DAY = {"inpatient": {"bed_day": 575}}
FIXED_PLAN = {"source": "fixed", "units": {"inpatient": {"bed_day": 60_000}}}
CQUIN = {
    "share": 0.0125,
    "indicators": [
        {"measure": "talking_therapies.started_within_standard_share", "target": 0.75, "partial_from": 0.65},
        {"measure": "inpatient.oap_bed_days", "target": 1200, "partial_from": 2400},
    ],
}
VARIABLE = {"rate_above": 0.5, "rate_below": 0.5, "dead_band": 0.02}


def api(**terms) -> ApiTerms:
    return ApiTerms.model_validate({"prices": BED_DAY, **terms})


def measures(bed_days_per_year: float = 63_000, months: int = 12, replications: int = 1) -> dict[str, np.ndarray]:
    """A year of activity: 80 of 100 talking-therapies starts within 6 weeks (credit 1 on a 75 % target),
    150 OAP bed days a month (1,800 a year against 1,200, no credit at 2,400: credit 0.5)."""
    values = {
        "inpatient.local_bed_days": bed_days_per_year / 12,
        "talking_therapies.started": 100.0,
        "talking_therapies.started_within_standard": 80.0,
        "inpatient.oap_bed_days": 150.0,
    }
    return activity(values, replications, months).monthly


def units(m: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"inpatient.bed_day": m["inpatient.local_bed_days"]}


DAYS = np.array([30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28, 31], dtype=float)


# --- the worked example -------------------------------------------------------------------------------


def test_worked_example_fixed_cquin_and_local_variable_element():
    """Plan 60,000 bed days at 575: F = 34.5m. CQUIN 1.25 %: 35,937.50 a month in advance; credit C = 0.75, so
    431,250 x 0.25 = 107,812.50 is clawed back in month 12. Actual 63,000 at 0.5 / 0.5 with a 2 % band pays
    0.5 x 575 x 1,800 = 517,500. The year: 34,500,000 + 431,250 - 107,812.50 + 517,500 = 35,340,937.50."""
    m = measures()
    payment = api_payment(api(baseline=FIXED_PLAN, cquin=CQUIN, variable=VARIABLE), units(m), m, DAYS)
    assert list(payment.parts) == ["fixed", "cquin", "variable"]
    assert np.allclose(payment.parts["fixed"], 2_875_000)
    cquin = payment.parts["cquin"][0]
    assert cquin[:11] == pytest.approx(np.full(11, 35_937.5))
    assert cquin[11] == pytest.approx(35_937.5 - 107_812.5)  # -71,875 in month 12
    assert payment.parts["variable"][0] == pytest.approx(np.full(12, 517_500 / 12))
    assert payment.income[0].sum() == pytest.approx(35_340_937.5)
    assert payment.contract_value[0].tolist() == pytest.approx([34_500_000])


def test_cquin_credit_is_the_mean_of_equally_weighted_indicators_over_the_year():
    terms = api(baseline=FIXED_PLAN, cquin=CQUIN)
    assert cquin_credit(terms.cquin, measures(), DAYS) == pytest.approx(np.array([[0.75]]))
    # met early in the year and lost later: only the year's figure counts, and nothing moves before month 12
    m = measures()
    m["inpatient.oap_bed_days"] = np.concatenate([np.zeros(6), np.full(6, 400.0)])[None, :]  # 2,400: no credit
    payment = api_payment(terms, units(m), m, DAYS)
    assert payment.parts["cquin"][0, :11] == pytest.approx(np.full(11, 35_937.5))
    assert payment.parts["cquin"][0, 11] == pytest.approx(35_937.5 - 431_250 * 0.5)


@pytest.mark.parametrize(("within", "oap", "kept"), [(80.0, 50.0, 431_250.0), (60.0, 250.0, 0.0)])
def test_cquin_full_credit_keeps_the_advance_and_no_credit_returns_it(within, oap, kept):
    m = measures()
    m["talking_therapies.started_within_standard"] = np.full((1, 12), within)
    m["inpatient.oap_bed_days"] = np.full((1, 12), oap)
    payment = api_payment(api(baseline=FIXED_PLAN, cquin=CQUIN), units(m), m, DAYS)
    assert payment.parts["cquin"][0].sum() == pytest.approx(kept)


def test_without_cquin_or_variable_element_api_is_a_block_of_the_fixed_payment():
    for actual in (40_000, 63_000, 90_000):
        m = measures(actual)
        payment = api_payment(api(baseline=FIXED_PLAN), units(m), m, DAYS)
        assert list(payment.parts) == ["fixed"]
        assert np.all(payment.income == 2_875_000)


def test_variable_rates_of_one_without_a_band_pay_every_unit_at_price():
    m = measures(66_000, months=24)
    terms = api(baseline=FIXED_PLAN, variable={"rate_above": 1, "rate_below": 1}, uplift=0.02)
    income = api_payment(terms, units(m)).income[0]
    assert income[:12].sum() == pytest.approx(66_000 * 575)
    assert income[12:].sum() == pytest.approx(66_000 * 575 * 1.02)


def test_the_fixed_payment_on_expected_activity_with_a_baseline_error():
    m = activity({"inpatient.local_bed_days": np.array([[5_000.0], [5_500.0]])}, 2, 24).monthly
    payment = api_payment(api(baseline={"source": "expected", "error": -0.05}), units(m))
    # mean 63,000 a year x 0.95 = 59,850 planned, at 575
    assert payment.contract_value[:, 0].tolist() == pytest.approx([59_850 * 575] * 2)


# --- last-year baselines ------------------------------------------------------------------------------


def two_replications() -> dict[str, np.ndarray]:
    """Replication 0: 60,000 bed days in year 1, 62,400 in year 2; replication 1: 66,000 then 72,000."""
    per_month = np.array([[5_000.0] * 12 + [5_200.0] * 12, [5_500.0] * 12 + [6_000.0] * 12])
    return {"inpatient.bed_day": per_month}


def test_last_year_plans_year_one_on_expected_and_later_years_on_each_replications_own_outturn():
    baseline = Baseline(source="last_year", error=-0.05, growth=0.02)
    plan = planned_units(baseline, ["inpatient.bed_day"], two_replications(), 2)["inpatient.bed_day"]
    # year 1: the mean 63,000 x 0.95 for both; year 2: own year-1 outturn x 1.02
    assert plan == pytest.approx(np.array([[59_850, 61_200], [59_850, 67_320]]))
    # a run priced in pieces passes the whole run's level for year 1
    level = {"inpatient.bed_day": np.array([70_000.0, 0.0])}
    alone = planned_units(
        baseline, ["inpatient.bed_day"], {"inpatient.bed_day": two_replications()["inpatient.bed_day"][1:]}, 2, level
    )
    assert alone["inpatient.bed_day"] == pytest.approx(np.array([[66_500, 67_320]]))


@pytest.mark.parametrize("rule", ["blended", "api"])
def test_last_year_baselines_through_the_ledgers(rule):
    terms = {
        "prices": {"inpatient": {"bed_day": 400}},
        "uplift": 0.03,
        "baseline": {"source": "last_year", "growth": 0.02},
    }
    if rule == "blended":
        terms["variable"] = {"rate_above": 0.5, "rate_below": 0.5}
    act = activity({"inpatient.local_bed_days": two_replications()["inpatient.bed_day"]}, 2, 24)
    ledger = finance.ledgers(scenario({rule: terms}), act)[rule]
    assert ledger.contract_value[:, 0].tolist() == pytest.approx([63_000 * 400] * 2)
    assert ledger.contract_value[:, 1].tolist() == pytest.approx(
        [60_000 * 1.02 * 400 * 1.03, 66_000 * 1.02 * 400 * 1.03]
    )


def test_bad_baselines_are_refused_with_the_key():
    with pytest.raises(
        ScenarioError, match=r"contracts.api.baseline.source: must be one of 'expected', 'fixed' or 'last_year'"
    ):
        scenario({"api": {"prices": BED_DAY, "baseline": {"source": "last_yaer"}}})
    with pytest.raises(ScenarioError, match=r"contracts.api.baseline.units: a fixed baseline needs planned units"):
        scenario({"api": {"prices": BED_DAY, "baseline": {"source": "fixed"}}})
    with pytest.raises(ScenarioError, match=r"contracts.api.baseline.growth: must be >= -0.5"):
        scenario({"api": {"prices": BED_DAY, "baseline": {"source": "last_year", "growth": -1}}})


# --- CQUIN and API terms ------------------------------------------------------------------------------


def api_scenario(**terms):
    return scenario({"api": {"prices": BED_DAY, **terms}})


def test_six_cquin_indicators_are_refused():
    six = [{"measure": "inpatient.oap_bed_days", "target": 100 * i} for i in range(1, 7)]
    with pytest.raises(
        ScenarioError,
        match=r"contracts.api.cquin.indicators: a CQUIN scheme has 1 to 5 indicators, equally weighted; got 6",
    ):
        api_scenario(cquin={"indicators": six})
    with pytest.raises(ScenarioError, match=r"contracts.api.cquin.indicators: a CQUIN scheme has 1 to 5 .* got 0"):
        api_scenario(cquin={"indicators": []})
    assert len(api_scenario(cquin={"indicators": six[:5]}).contracts.api.cquin.indicators) == 5


def test_weighted_cquin_indicators_are_refused():
    indicators = [{"measure": "inpatient.oap_bed_days", "target": 100, "weight": 2}]
    with pytest.raises(
        ScenarioError, match=r"contracts.api.cquin.indicators.0.weight: CQUIN indicators are equally weighted"
    ):
        api_scenario(cquin={"indicators": indicators})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("contracts.api.cquin.share", 1.5, "contracts.api.cquin.share: must be <= 1, got 1.5"),
        ("contracts.api.variable.rate_above", 2, "contracts.api.variable.rate_above: must be <= 1, got 2"),
        ("contracts.api.variable.dead_band", -0.1, "contracts.api.variable.dead_band: must be >= 0"),
        ("contracts.api.uplift", -1.5, "contracts.api.uplift: must be >= -0.5"),
        ("contracts.api.baseline.error", 2, "contracts.api.baseline.error: must be <= 1"),
        ("contracts.api.prices.inpatient.bed_day", -1, "contracts.api.prices.inpatient.bed_day: must be >= 0"),
        (
            "contracts.api.cquin.indicators",
            [{"measure": "inpatient.oap_bed_days", "target": 100, "partial_from": 50}],
            "contracts.api.cquin.indicators.0.partial_from: for inpatient.oap_bed_days",
        ),
        (
            "contracts.api.cquin.indicators",
            [{"measure": "talking_therapies.recovery_share", "target": 50}],
            "contracts.api.cquin.indicators.0.target: talking_therapies.recovery_share is a share",
        ),
        ("contracts.api.outcomes", {"share": 0.03}, "contracts.api.outcomes: unknown key"),
    ],
)
def test_bad_api_values_name_the_key(key, value, message):
    base = api_scenario(cquin=CQUIN, variable=VARIABLE)
    with pytest.raises(ScenarioError, match=message):
        base.with_overrides({key: value})


def test_api_needs_a_price():
    with pytest.raises(ScenarioError, match=r"contracts.api.prices: give at least one price"):
        scenario({"api": {"prices": {}}})


# --- the talking-therapies recovery indicator ---------------------------------------------------------


def recovery(completed, recovered) -> dict[str, np.ndarray]:
    return {
        "talking_therapies.completed": np.asarray(completed, dtype=float)[None, :],
        "talking_therapies.recovered": np.asarray(recovered, dtype=float)[None, :],
    }


def test_recovery_share_is_recovered_over_completed_year_to_date():
    completed = [0, 10, 10, 20] + [10] * 8
    recovered = [0, 4, 6, 10] + [5] * 8
    value = indicator_value("talking_therapies.recovery_share", recovery(completed, recovered), DAYS)
    assert np.isnan(value[0, 0])  # nobody has finished a course yet
    assert value[0, 1:4].tolist() == pytest.approx([0.4, 0.5, 0.5])  # 4/10, 10/20, 20/40
    assert value[0, 11] == pytest.approx(60 / 120)
    indicator = Indicator(measure="talking_therapies.recovery_share", target=0.5, partial_from=0.4)
    credit = indicator_credit(indicator, value)
    assert credit[0, 0] == 1.0 and credit[0, 1] == pytest.approx(0.0) and credit[0, 2] == pytest.approx(1.0)
    halfway = indicator_credit(indicator, indicator_value(indicator.measure, recovery([10] * 12, [4.5] * 12), DAYS))
    assert halfway[0] == pytest.approx(np.full(12, 0.5))  # 45 % against 50 %, none at 40 %


def test_recovery_share_earns_cquin_credit():
    cquin = {"indicators": [{"measure": "talking_therapies.recovery_share", "target": 0.5, "partial_from": 0.4}]}
    m = {**measures(), **recovery([10] * 12, [4.5] * 12)}
    payment = api_payment(api(baseline=FIXED_PLAN, cquin=cquin), units(m), m, DAYS)
    assert payment.parts["cquin"][0].sum() == pytest.approx(431_250 * 0.5)


def test_recovery_share_names_what_the_activity_lacks():
    only_completed = {"talking_therapies.completed": np.ones((1, 12))}
    with pytest.raises(KeyError, match=r"talking_therapies.recovery_share needs talking_therapies.recovered"):
        indicator_value("talking_therapies.recovery_share", only_completed, DAYS)
    with pytest.raises(KeyError, match=r"needs talking_therapies.completed"):
        indicator_value("talking_therapies.recovery_share", {}, DAYS)


# --- API everywhere the other rules are ----------------------------------------------------------------

SMALL = Path(__file__).parent / "data" / "app-small.yaml"
API = {
    "prices": {  # as app-small's blended contract (1.2 x the unit costs), and OAP bed days at 1.2 x 620
        "inpatient": {"bed_day": 690, "oap_bed_day": 744},
        "community": {"contact": 336},
        "crisis": {"contact": 405},
        "talking_therapies": {"course": 1050},
    },
    "baseline": {"source": "expected"},
    "cquin": {
        "indicators": [
            {"measure": "talking_therapies.started_within_standard_share", "target": 0.75, "partial_from": 0.5},
            {"measure": "inpatient.oap_bed_days", "target": 200, "partial_from": 600},
        ]
    },
    "variable": {"rate_above": 0.2, "rate_below": 0.2},
}


@pytest.fixture(scope="module")
def small() -> dict:
    """The app's small trust (every line, costs and the four other rules) with an API contract as well."""
    data = load_scenario(SMALL).model_dump(mode="json", exclude_none=True)
    data["contracts"]["api"] = API
    return data


def test_api_is_the_last_rule_in_every_ledger_and_column(small):
    assert RULES == ("block", "activity", "blended", "capitation", "api")
    sc = scenario_from_dict(small)
    run = psa.simulate(sc, 4, "vector")
    assert list(run.ledgers) == list(RULES)
    columns = run.columns()
    for name in ("provider_income", "provider_cost", "provider_surplus", "commissioner_spend", "system_cost"):
        assert f"api.{name}" in columns
    assert list(finance.money_columns(run.ledgers))[-4:] == [f"api.{n}" for n in finance.LEDGERS]
    assert "api.system_cost" in system_cost_columns(run.ledgers)
    assert set(run.ledgers["api"].income_parts) == {"fixed", "cquin", "variable"}


UNCERTAIN = {
    "services": {"services.inpatient.beds": [8, 13], "contracts.api.baseline.growth": [0.0, 0.05]},
    "contracts": {"contracts.api.baseline.error": [-0.05, 0.05], "contracts.api.cquin.share": [0.01, 0.02]},
}


@pytest.mark.parametrize("uncertain", [None, "services", "contracts"])
def test_last_year_baselines_give_the_same_results_whole_or_chunk_by_chunk(small, uncertain):
    data = json.loads(json.dumps(small))
    data["contracts"]["api"]["baseline"] = {"source": "last_year", "growth": 0.03, "error": 0.02}
    data["contracts"]["blended"]["baseline"] = {"source": "last_year", "growth": 0.01}
    if uncertain is not None:
        data["uncertain"] = {"parameters": UNCERTAIN[uncertain]}
    sc = scenario_from_dict(data)
    whole = psa.simulate(sc, 7, "vector")
    money = {**finance.money_columns(whole.ledgers), **finance.system_cost_columns(whole.ledgers), **whole.params}
    table = results_table(whole.activity, money=money, scenario=sc)
    for chunk_size in (2, 3):
        batch = run_batch(sc, 7, "vector", chunk_size=chunk_size, memory_budget=0)
        assert batch.table.equals(table, check_metadata=True)
    # each replication's year-2 plan is its own year-1 outturn x 1.03 (before uplift), not the mean
    api_value = whole.ledgers["api"].contract_value
    assert np.unique(api_value[:, 1]).size == 7


def write(tmp_path, data) -> str:
    path = tmp_path / "with-api.yaml"
    path.write_text(scenario_from_dict(data).to_yaml(), encoding="utf-8")
    return str(path)


def test_run_and_its_results_file_have_the_api_rule(small, tmp_path):
    out = tmp_path / "results.parquet"
    result = runner.invoke(app, ["run", write(tmp_path, small), "--reps", "3", "--engine", "vector", "--out", str(out)])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "capitation" in line)
    assert header.split()[-1] == "api"
    columns = pq.read_table(out).column_names
    assert [name for name in columns if name.startswith("api.")] == [
        "api.provider_income",
        "api.provider_cost",
        "api.provider_surplus",
        "api.commissioner_spend",
        "api.system_cost",  # every run's table has each rule's system cost (after all rules' ledgers)
    ]
    assert columns[-5:] == [f"{rule}.system_cost" for rule in ("block", "activity", "blended", "capitation", "api")]


def test_compare_design_and_report_have_the_api_rule(small, tmp_path):
    path = write(tmp_path, small)
    compare = runner.invoke(
        app, ["compare", path, "--change", "contracts.api.baseline.error=-0.05", "--reps", "3", "--engine", "vector"]
    )
    assert compare.exit_code == 0, compare.output
    assert "api.provider_surplus" in compare.stdout
    assert any(line.split()[:1] == ["api"] for line in compare.stdout.splitlines())  # the saving split
    design = runner.invoke(
        app,
        [
            "design",
            path,
            "--goal",
            "p-deficit",
            "--term",
            "contracts.api.baseline.error",
            "--reps",
            "20",
            "--engine",
            "vector",
            "--bootstrap",
            "10",
        ],
    )
    assert design.exit_code == 0, design.output
    assert "under the api rule" in design.stdout and "contracts.api.baseline.error = " in design.stdout
    out = tmp_path / "report.xlsx"
    report = runner.invoke(app, ["report", path, "--reps", "3", "--engine", "vector", "--out", str(out)])
    assert report.exit_code == 0, report.output
    summary = list(load_workbook(out, read_only=True)["summary"].values)
    assert [row[0] for row in summary[1:]] == list(RULES)


def test_designing_the_api_fixed_payment_level_and_its_local_rates(small):
    from paysim.analysis import design as dz

    sc = scenario_from_dict({**small, "years": 1, "warmup_days": 0})
    act = simulate(sc, RunSettings(reps=40, uncertainty=False))
    level = dz.design(sc, "mean-surplus", ["contracts.api.baseline.error"], activity=act, bootstrap=0)
    priced = finance.ledgers(sc.with_overrides({"contracts.api.baseline.error": level.value}), act)["api"]
    assert priced.total("provider_surplus").mean() == pytest.approx(0.0, abs=1.0)
    rates = ["contracts.api.variable.rate_above", "contracts.api.variable.rate_below"]
    shared = dz.design(sc, "equal-shortfall", rates, activity=act, bootstrap=0)
    assert 0 <= shared.value <= 1
    assert shared.at_answer["provider_shortfall"] == pytest.approx(shared.at_answer["commissioner_shortfall"], rel=1e-6)


def test_an_indicator_the_engines_cannot_measure_is_refused_before_anything_runs(tmp_path):
    """Until the engines count recoveries, a scenario using the recovery indicator stops with the key, not a
    traceback after the simulation; so does a price on a line the scenario does not have."""
    data = load_scenario(SMALL).model_dump(mode="json", exclude_none=True)
    data["contracts"]["blended"]["outcomes"]["indicators"] = [
        {"measure": "talking_therapies.recovery_share", "target": 0.5}
    ]
    sc = scenario_from_dict(data)
    problems = finance.missing_measures(sc)
    if "talking_therapies.recovered" in measure_kinds(sc.lines(), True):  # the engines count recoveries
        assert problems == []
        return
    assert problems == [
        "contracts.blended.outcomes.indicators.0.measure: talking_therapies.recovery_share needs "
        "talking_therapies.recovered, which the engines do not count yet"
    ]
    result = runner.invoke(app, ["run", write(tmp_path, data), "--reps", "2"])
    assert result.exit_code == 2 and "needs talking_therapies.recovered" in result.stderr
    assert "Traceback" not in result.output
    no_community = load_scenario(SMALL).with_overrides({"services.community": None, "costs.staff.community": None})
    assert finance.missing_measures(no_community) == [
        f"contracts.{rule}.prices.community.contact: community.contact needs community.caseload_mean, and the "
        "scenario has no services.community"
        for rule in ("activity", "blended")
    ]
    assert finance.missing_measures(load_scenario(SMALL)) == []
