"""The money that decides the bottom line: the cost-improvement programme (CIP), the pay award and how
contracts roll forward. Hand-computed worked examples; the new keys absent or neutral change nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from money_builders import activity, scenario
from openpyxl import load_workbook
from typer.testing import CliRunner

from paysim.cli import app
from paysim.model.scenario import ScenarioError, load_scenario, scenario_from_dict
from paysim.model.terms import CostImprovement, RollForward
from paysim.money import finance
from paysim.money.costs import cip_factor, provider_costs
from paysim.money.payment import yearly_change
from paysim.runs import psa
from paysim.runs.batch import run_batch
from paysim.runs.io import results_table

runner = CliRunner()
SMALL = Path(__file__).parent / "data" / "app-small.yaml"

# No inflation, so every figure below is exact arithmetic; 10 beds (money_builders.SERVICES).
COSTS = {
    "staff": {"inpatient": {"wte": 12, "cost_per_wte": 60_000}},  # 60,000 a month
    "beds": {"fixed_per_bed_per_year": 120_000, "per_occupied_bed_day": 50, "oap_per_bed_day": 600},
    "overheads": {"per_year": 1_200_000, "share_of_direct": 0.1},  # 100,000 a month + 10 % of direct
}
MEASURES = {"inpatient.local_bed_days": 300.0, "inpatient.oap_bed_days": 20.0}
# A month without CIP: staff 60,000 + ward 100,000 + bed days 15,000 (controllable) + OAPs 12,000 = 187,000
# direct; overheads 100,000 + 18,700; total 305,700. What CIP works on: G = 175,000 x 1.1 + 100,000 = 292,500.
G = 292_500.0


def costs_with(cip: dict | None, months: int = 36):
    data = dict(COSTS) if cip is None else {**COSTS, "cip": cip}
    return provider_costs(scenario(costs=data, years=months // 12), activity(MEASURES, months=months))


def by_year(monthly: np.ndarray) -> list[float]:
    """The value in the first month of each contract year (flat within a year here)."""
    return monthly[0, ::12].tolist()


# --- CIP ----------------------------------------------------------------------------------------------


def test_cip_factor_compounds_what_recurs():
    recurrent = CostImprovement(planned_share=0.02, delivered_share=0.5, recurrent_share=1.0)
    assert by_year(cip_factor(recurrent, 36)[None, :]) == pytest.approx([0.99, 0.9801, 0.970299], abs=1e-15)
    one_off = CostImprovement(planned_share=0.02, delivered_share=0.5, recurrent_share=0.0)
    assert by_year(cip_factor(one_off, 36)[None, :]) == pytest.approx([0.99, 0.99, 0.99], abs=1e-15)
    # the task's programme: 1.1 % planned, 80 % delivered, 70 % of it recurrent
    national = CostImprovement(planned_share=0.011, delivered_share=0.8, recurrent_share=0.7)
    f = cip_factor(national, 36)
    assert f[0] == pytest.approx(1 - 0.0088) and f[12] == pytest.approx(0.9912 * (1 - 0.00616))
    assert f[35] == pytest.approx(0.9912 * 0.99384**2)
    assert np.all(f[:12] == f[0]) and np.all(f[12:24] == f[12])  # flat within a contract year


def test_cip_worked_example_three_years_recurrent():
    """p 2 %, d 50 %, r 100 %: the year's cost is 305,700 - G x (1 - f_y) a month."""
    costs = costs_with({"planned_share": 0.02, "delivered_share": 0.5, "recurrent_share": 1.0})
    assert by_year(costs.total) == pytest.approx([302_775.0, 299_879.25, 297_012.4575])
    # year 1 by part: controllable x 0.99, OAPs untouched, overheads on the direct costs after CIP
    month = {name: part[0, 0] for name, part in costs.parts.items()}
    assert month == pytest.approx(
        {
            "inpatient.staff": 59_400.0,
            "inpatient.ward": 99_000.0,
            "inpatient.bed_days": 14_850.0,
            "inpatient.oap": 12_000.0,
            "overheads": 100_000 * 0.99 + 0.1 * (173_250 + 12_000),  # 117,525
        }
    )
    cip = costs.cip
    assert by_year(cip.planned) == pytest.approx([0.02 * G, 0.02 * G * 0.99, 0.02 * G * 0.9801])  # 5,850 ...
    assert by_year(cip.delivered) == pytest.approx([2_925.0, 2_895.75, 2_866.7925])
    assert by_year(cip.recurrent) == pytest.approx([0.0, 2_925.0, 5_820.75])
    assert by_year(costs.cip_savings) == pytest.approx([2_925.0, 5_820.75, 8_687.5425])
    assert np.allclose(costs.cip_savings, costs_with(None).total - costs.total, rtol=0, atol=1e-9)


def test_cip_worked_example_not_recurrent_must_be_found_again_each_year():
    costs = costs_with({"planned_share": 0.02, "delivered_share": 0.5, "recurrent_share": 0.0})
    assert by_year(costs.total) == pytest.approx([302_775.0] * 3)
    assert by_year(costs.cip.planned) == pytest.approx([5_850.0] * 3)
    assert by_year(costs.cip.delivered) == pytest.approx([2_925.0] * 3)
    assert by_year(costs.cip.recurrent) == pytest.approx([0.0] * 3)


def test_cip_keeps_the_cost_by_service_and_leaves_oap_bed_days_alone():
    costs = costs_with({"planned_share": 0.05})  # delivered and recurrent default to 1
    plain = costs_with(None)
    total = sum(costs.by_service().values())
    assert np.allclose(total, costs.total)
    assert np.array_equal(costs.parts["inpatient.oap"], plain.parts["inpatient.oap"])
    assert costs.by_service()["inpatient"][0, 0] == pytest.approx(175_000 * 0.95 + 12_000)
    assert costs.by_service()["inpatient"][0, 12] == pytest.approx(175_000 * 0.95**2 + 12_000)


def test_no_cip_and_a_programme_of_nothing_give_the_same_costs_bit_for_bit():
    plain = costs_with(None)
    nothing = costs_with({"planned_share": 0.0, "delivered_share": 0.8, "recurrent_share": 0.7})
    assert plain.cip is None and np.array_equal(plain.cip_savings, np.zeros_like(plain.total))
    assert set(plain.parts) == set(nothing.parts)
    for name, part in plain.parts.items():
        assert np.array_equal(part, nothing.parts[name]), name
    assert np.array_equal(plain.total, nothing.total)


def test_cip_reaches_every_rule_surplus_but_not_income():
    contracts = {"block": {"annual_value": 3_600_000, "uplift": 0.0}}
    act = activity(MEASURES, months=24)
    plain = finance.ledgers(scenario(contracts, COSTS), act)["block"]
    cip = {**COSTS, "cip": {"planned_share": 0.02, "delivered_share": 0.5}}
    saved = finance.ledgers(scenario(contracts, cip), act)["block"]
    assert np.array_equal(saved.provider_income, plain.provider_income)
    assert saved.yearly("provider_surplus")[0].tolist() == pytest.approx(
        (plain.yearly("provider_surplus")[0] + 12 * G * np.array([0.01, 0.0199])).tolist()
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("costs.cip.planned_share", 1.5, "costs.cip.planned_share: must be <= 1, got 1.5"),
        ("costs.cip.delivered_share", -0.1, "costs.cip.delivered_share: must be >= 0, got -0.1"),
        ("costs.cip.recurrent_share", 2, "costs.cip.recurrent_share: must be <= 1, got 2"),
        ("costs.cip.deliverd_share", 0.5, "costs.cip.deliverd_share: unknown key; did you mean 'delivered_share'?"),
    ],
)
def test_bad_cip_values_name_the_key(key, value, message):
    base = scenario(costs={**COSTS, "cip": {"planned_share": 0.01}})
    with pytest.raises(ScenarioError, match=message.replace("?", r"\?")):
        base.with_overrides({key: value})


def test_a_cip_without_a_planned_share_is_refused():
    with pytest.raises(ScenarioError, match=r"costs.cip.planned_share: is required"):
        scenario(costs={**COSTS, "cip": {"delivered_share": 0.5}})


# --- pay award and roll-forward -----------------------------------------------------------------------

NATIONAL = {"cost_uplift": 0.029, "pay_in_cost_uplift": 0.021, "efficiency": 0.011}
"""NHS Payment Scheme 2023/24: cost uplift 2.9 % (assuming a 2.1 % pay rise), efficiency 1.1 %."""


@pytest.mark.parametrize(
    ("extra", "pay_award", "change"),
    [
        ({}, 0.021, 0.018),  # the pay award the uplift assumed: 2.9 % - 1.1 %
        ({}, 0.05, 0.018),  # a higher award nobody funds
        ({"pay_award_funded": 1.0, "pay_share": 0.7}, 0.05, 0.018 + 0.7 * 0.029),  # 3.83 %
        ({"pay_award_funded": 0.5, "pay_share": 0.7}, 0.05, 0.018 + 0.5 * 0.7 * 0.029),  # 2.815 %
        ({"pay_award_funded": 1.0, "pay_share": 0.7}, 0.015, 0.018),  # an award below the assumption: no cut
        ({"growth": 0.01}, 0.021, 0.028),  # agreed growth on top
    ],
)
def test_yearly_change_worked_examples(extra, pay_award, change):
    assert yearly_change(RollForward(**NATIONAL, **extra), pay_award) == pytest.approx(change, abs=1e-15)


def test_agreed_growth_moves_contract_values_not_prices():
    roll = {**NATIONAL, "growth": 0.01, "pay_award_funded": 1.0, "pay_share": 0.7}
    sc = rolled_with(roll, {"block": {"annual_value": 1_200_000}, "activity": {"prices": PRICES}})
    resolved = finance.contract_terms(sc.contracts, sc.costs)
    assert resolved.block.uplift == pytest.approx(0.0483)  # 1.8 % + 1 % growth + 0.7 x 2.9 %
    assert resolved.activity.uplift == pytest.approx(0.0383)  # prices: more activity is paid through the units
    assert yearly_change(RollForward(**roll), 0.05, prices=True) == pytest.approx(0.0383)


ROLL = {**NATIONAL, "pay_award_funded": 1.0, "pay_share": 0.7}
PRICES = {"inpatient": {"bed_day": 400}}


def rolled(contracts: dict, pay_inflation: float = 0.05):
    return rolled_with(ROLL, contracts, pay_inflation)


def rolled_with(roll: dict, contracts: dict, pay_inflation: float = 0.05):
    return scenario({**contracts, "roll_forward": roll}, {**COSTS, "pay_inflation": pay_inflation})


def test_rules_without_uplift_take_the_roll_forward_and_rules_with_one_keep_it():
    sc = rolled(
        {
            "block": {"annual_value": 1_200_000},
            "activity": {"prices": PRICES, "uplift": 0.02},
            "capitation": {"population": 10_000, "rate_per_head": 120},
        }
    )
    resolved = finance.contract_terms(sc.contracts, sc.costs)
    assert resolved.block.uplift == pytest.approx(0.0383)
    assert resolved.capitation.uplift == pytest.approx(0.0383)
    assert resolved.activity.uplift == 0.02
    assert sc.contracts.block.uplift is None  # the scenario itself is untouched
    books = finance.ledgers(sc, activity(MEASURES))
    assert books["block"].provider_income[0, [0, 12]].tolist() == pytest.approx([100_000, 103_830])
    assert books["capitation"].provider_income[0, [0, 12]].tolist() == pytest.approx([100_000, 103_830])
    assert books["activity"].provider_income[0, [0, 12]].tolist() == pytest.approx([120_000, 122_400])


def test_the_pay_award_top_up_follows_the_award_actually_paid():
    block = {"block": {"annual_value": 1_200_000}}
    assumed = finance.ledgers(rolled(block, pay_inflation=0.021), activity(MEASURES))["block"]
    above = finance.ledgers(rolled(block, pay_inflation=0.05), activity(MEASURES))["block"]
    assert assumed.contract_value[0].tolist() == pytest.approx([1_200_000, 1_221_600])  # + 1.8 %
    assert above.contract_value[0].tolist() == pytest.approx([1_200_000, 1_245_960])  # + 3.83 %


def test_no_uplift_and_no_roll_forward_is_fine_and_means_no_change():
    sc = scenario({"block": {"annual_value": 1_200_000}}, COSTS)
    assert sc.contracts.roll_forward is None and sc.contracts.block.uplift is None
    assert finance.resolved_uplift(sc.contracts, sc.costs, "block") == 0.0
    assert np.all(finance.ledgers(sc, activity(MEASURES))["block"].provider_income == 100_000)


def test_an_explicit_uplift_is_used_as_before_bit_for_bit():
    """A scenario that gives every rule's uplift prices the same with or without a roll-forward."""
    contracts = {
        "block": {"annual_value": 1_200_000, "uplift": 0.018},
        "activity": {"prices": PRICES, "uplift": 0.018},
        "blended": {"prices": PRICES, "uplift": 0.018, "variable": {"rate_above": 0.5, "rate_below": 0.5}},
        "capitation": {"population": 10_000, "rate_per_head": 120, "uplift": 0.018},
        "api": {"prices": PRICES, "uplift": 0.018},
    }
    act = activity({**MEASURES, "inpatient.local_bed_days": np.arange(48.0).reshape(2, 24) * 10}, 2)
    plain = finance.ledgers(scenario(contracts, COSTS), act)
    with_roll = finance.ledgers(rolled(contracts), act)
    for rule in contracts:
        assert np.array_equal(plain[rule].provider_income, with_roll[rule].provider_income), rule


def test_unknown_rules_raise_instead_of_falling_through():
    sc = scenario({"block": {"annual_value": 1_200_000}}, COSTS)
    act = activity(MEASURES)
    cost = provider_costs(sc, act).total
    with pytest.raises(ValueError, match=r"unknown payment rule 'bundled'"):
        finance.rule_payment("bundled", sc.contracts, sc.costs, act, cost)
    with pytest.raises(ValueError, match=r"contracts.api: the scenario has no api contract"):
        finance.rule_payment("api", sc.contracts, sc.costs, act, cost)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("contracts.roll_forward.pay_award_funded", 1.5, "contracts.roll_forward.pay_award_funded: must be <= 1"),
        ("contracts.roll_forward.pay_share", 1.2, "contracts.roll_forward.pay_share: must be <= 1"),
        ("contracts.roll_forward.cost_uplift", 2, "contracts.roll_forward.cost_uplift: must be <= 1"),
        ("contracts.roll_forward.efficiency", -0.01, "contracts.roll_forward.efficiency: must be >= 0"),
        ("contracts.roll_forward.growth", -1, "contracts.roll_forward.growth: must be >= -0.5"),
        (
            "contracts.roll_forward.pay_in_cost_uplift",
            "x",
            "contracts.roll_forward.pay_in_cost_uplift: must be a number",
        ),
        ("contracts.roll_forward.uplift", 0.02, "contracts.roll_forward.uplift: unknown key"),
        ("contracts.block.uplift", -1, "contracts.block.uplift: must be >= -0.5"),
    ],
)
def test_bad_roll_forward_values_name_the_key(key, value, message):
    base = rolled({"block": {"annual_value": 1_200_000}})
    with pytest.raises(ScenarioError, match=message):
        base.with_overrides({key: value})


def test_a_funded_pay_award_needs_the_pay_share():
    with pytest.raises(ScenarioError, match=r"contracts.roll_forward.pay_share: give the share of the contract"):
        scenario({"block": {"annual_value": 1}, "roll_forward": {"cost_uplift": 0.029, "pay_award_funded": 1.0}})
    with pytest.raises(ScenarioError, match=r"contracts.roll_forward.cost_uplift: is required"):
        scenario({"block": {"annual_value": 1}, "roll_forward": {"efficiency": 0.011}})
    with pytest.raises(ScenarioError, match=r"contracts.roll_forward.efficiency: cost_uplift - efficiency"):
        scenario({"block": {"annual_value": 1}, "roll_forward": {"cost_uplift": -0.5, "efficiency": 0.6}})


# --- where users see contract terms -------------------------------------------------------------------


@pytest.fixture
def rolled_file(tmp_path):
    sc = rolled(
        {"block": {"annual_value": 1_200_000}, "activity": {"prices": PRICES, "uplift": 0.02}},
        pay_inflation=0.05,
    ).with_overrides({"costs.cip": {"planned_share": 0.011, "delivered_share": 0.8, "recurrent_share": 0.7}})
    path = tmp_path / "rolled.yaml"
    path.write_text(sc.to_yaml(), encoding="utf-8")
    return path


def test_validate_shows_the_uplift_as_applied_and_the_programme(rolled_file):
    result = runner.invoke(app, ["validate", str(rolled_file)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "block £1.20m a year (+3.83% a year from roll_forward)" in out
    assert "activity (+2.00% a year)" in out
    assert "roll_forward: cost uplift 2.9% - efficiency 1.1% + growth 0.0%" in out
    assert "100% of the pay award (5.0%) above 2.1% on a 70% pay share = +3.83% a year" in out
    assert "cost improvement: plans 1.1% of the cost base a year, delivers 80% of it, 70% recurrent" in out


def test_the_report_shows_uplifts_and_the_programme_planned_against_delivered(rolled_file, tmp_path):
    out = tmp_path / "report.xlsx"
    result = runner.invoke(
        app, ["report", str(rolled_file), "--reps", "3", "--engine", "des", "--set", "years=2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out, read_only=True)
    assert "cip" in workbook.sheetnames
    summary = list(workbook["summary"].values)
    uplift = summary[0].index("uplift")
    assert {row[0]: row[uplift] for row in summary[1:]} == pytest.approx({"block": 0.0383, "activity": 0.02})
    cip = list(workbook["cip"].values)
    header = cip[0]
    assert header[:5] == ("year", "planned", "delivered", "delivered_share", "recurrent")
    first = dict(zip(header, cip[1], strict=True))
    assert first["delivered"] == pytest.approx(0.8 * first["planned"])
    assert first["recurrent"] == 0
    second = dict(zip(header, cip[2], strict=True))
    assert second["recurrent"] > 0 and second["total"] == pytest.approx(second["delivered"] + second["recurrent"])


def test_an_uncertain_delivery_prices_each_replication_with_its_own_programme():
    """``costs.cip.delivered_share`` made uncertain (money only): each replication's cost is its activity
    priced with its own delivered share; chunk by chunk equals whole."""
    data = load_scenario(SMALL).model_dump(mode="json", exclude_none=True)
    data["costs"]["cip"] = {"planned_share": 0.02, "delivered_share": 0.8, "recurrent_share": 0.7}
    data["uncertain"] = {"parameters": {"costs.cip.delivered_share": [0.5, 1.0]}}
    sc = scenario_from_dict(data)
    whole = psa.simulate(sc, 6, "vector")
    money = {**finance.money_columns(whole.ledgers), **finance.system_cost_columns(whole.ledgers), **whole.params}
    assert run_batch(sc, 6, "vector", chunk_size=4).table.equals(
        results_table(whole.activity, money=money, scenario=sc), check_metadata=True
    )
    delivered = whole.params["param.costs.cip.delivered_share"]
    cost = whole.ledgers["block"].total("provider_cost")
    assert np.unique(delivered).size == 6
    central = sc.model_copy(update={"uncertain": None})
    for row, share in enumerate(delivered):
        own = central.with_overrides({"costs.cip.delivered_share": float(share)})
        alone = provider_costs(own, psa.rows(whole.activity, [row]))
        assert alone.total.sum() == pytest.approx(cost[row], rel=1e-12)
        assert alone.cip.delivered[0, 0] == pytest.approx(share * alone.cip.planned[0, 0])
