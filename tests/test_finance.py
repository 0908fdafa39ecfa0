"""Ledgers on a hand-built Activity: every rule on the same activity, the commissioner's view, the result
columns, and the Mental Health Investment Standard."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from money_builders import activity, scenario

from paysim.model.terms import MHIS
from paysim.money.costs import provider_costs
from paysim.money.finance import LEDGERS, ledgers, mhis, mhis_check, money_columns

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)
PRICES = {"inpatient": {"bed_day": 400}, "talking_therapies": {"course": 900}}
CONTRACTS = {
    "oap_paid_by": "commissioner",
    "block": {"annual_value": 1_200_000},
    "activity": {"prices": PRICES},
    "blended": {"prices": PRICES, "variable": {"rate_above": 0.5, "rate_below": 0.5}},
    "capitation": {"population": 10_000, "rate_per_head": 120},
    "mhis": {"allocation_growth": 0.05, "prior_year_spend": 1_200_000},
}
COSTS = {
    "beds": {"fixed_per_bed_per_year": 60_000, "per_occupied_bed_day": 100, "oap_per_bed_day": 600},
    "unit_costs": {"talking_therapies": {"course": 800}},
}
MEASURES = {
    "inpatient.local_bed_days": 200.0,
    "inpatient.oap_bed_days": 10.0,
    "talking_therapies.completed": 20.0,
    "inpatient.local_admissions": 5.0,
}


def test_worked_example_every_rule_on_the_same_activity():
    result = ledgers(scenario(CONTRACTS, COSTS), activity(MEASURES))
    assert list(result) == ["block", "activity", "blended", "capitation"]
    # cost a month: 10 beds x 60,000 / 12 + 200 bed days x 100 + 20 courses x 800 = 86,000
    # the commissioner pays OAPs directly: 10 x 600 = 6,000 a month on top of what it pays the provider
    income = {"block": 100_000, "activity": 98_000, "blended": 98_000, "capitation": 100_000}
    for rule, ledger in result.items():
        assert np.allclose(ledger.provider_cost, 86_000)
        assert np.allclose(ledger.provider_income, income[rule]), rule
        assert np.allclose(ledger.provider_surplus, income[rule] - 86_000)
        assert np.allclose(ledger.commissioner_spend, income[rule] + 6_000)
        assert ledger.provider_cost is result["block"].provider_cost  # one cost for every rule
    assert result["activity"].income_parts["inpatient.bed_day"][0, 0] == pytest.approx(80_000)
    assert result["blended"].income_parts["fixed"][0, 0] == pytest.approx(98_000)  # plan = expected activity


def test_provider_pays_oaps():
    contracts = {**CONTRACTS, "oap_paid_by": "provider"}
    block = ledgers(scenario(contracts, COSTS), activity(MEASURES))["block"]
    assert np.allclose(block.provider_cost, 92_000)  # 86,000 + 6,000 of OAP bed days
    assert np.allclose(block.commissioner_spend, block.provider_income)


def test_an_oap_price_pays_for_the_oap_bed_days_the_provider_buys():
    prices = {**PRICES, "inpatient": {"bed_day": 400, "oap_bed_day": 600}}
    act = activity(MEASURES)
    income = {}
    for payer in ("provider", "shared", "commissioner"):
        contracts = {"oap_paid_by": payer, "oap_provider_share": 0.25, "activity": {"prices": prices}}
        income[payer] = ledgers(scenario(contracts, COSTS), act)["activity"]
    # 10 OAP bed days a month at 600: all paid through the price, a quarter of them, none
    assert income["provider"].provider_income[0, 0] == pytest.approx(98_000 + 6_000)
    assert income["shared"].provider_income[0, 0] == pytest.approx(98_000 + 1_500)
    assert income["commissioner"].provider_income[0, 0] == pytest.approx(98_000)
    for ledger in income.values():  # the commissioner pays for every OAP bed day once
        assert ledger.commissioner_spend[0, 0] == pytest.approx(104_000)


def test_totals_yearly_and_columns():
    result = ledgers(scenario(CONTRACTS, COSTS), activity(MEASURES, replications=3))
    block = result["block"]
    assert block.total("provider_income").tolist() == pytest.approx([2_400_000] * 3)
    assert block.yearly("provider_surplus").shape == (3, 2)
    assert block.yearly("provider_surplus")[0].tolist() == pytest.approx([168_000, 168_000])
    columns = money_columns(result)
    assert list(columns)[:4] == [f"block.{name}" for name in LEDGERS]
    assert len(columns) == 16
    assert columns["activity.commissioner_spend"].tolist() == pytest.approx([24 * 104_000] * 3)
    with pytest.raises(KeyError, match="ledger"):
        block["income"]


def test_no_contracts_no_ledgers():
    assert ledgers(scenario(costs=COSTS), activity(MEASURES)) == {}


@PROPERTY
@given(
    bed_days=arrays(np.float64, (3, 24), elements=st.floats(0, 1e4)),
    oap_days=arrays(np.float64, (3, 24), elements=st.floats(0, 1e3)),
    block_value=st.floats(0, 1e8),
)
def test_surplus_is_income_less_cost_exactly(bed_days, oap_days, block_value):
    contracts = {**CONTRACTS, "block": {"annual_value": block_value, "uplift": 0.02}}
    act = activity({**MEASURES, "inpatient.local_bed_days": bed_days, "inpatient.oap_bed_days": oap_days}, 3)
    for ledger in ledgers(scenario(contracts, COSTS), act).values():
        assert np.array_equal(ledger.provider_surplus, ledger.provider_income - ledger.provider_cost)
        assert np.all(ledger.commissioner_spend >= ledger.provider_income)


@PROPERTY
@given(bed_days=arrays(np.float64, (3, 24), elements=st.floats(0, 1e4)))
def test_block_and_capitation_income_ignore_activity(bed_days):
    act = activity({**MEASURES, "inpatient.local_bed_days": bed_days}, 3)
    result = ledgers(scenario(CONTRACTS, COSTS), act)
    for rule in ("block", "capitation"):
        assert np.all(result[rule].provider_income == 100_000)


def test_mhis_domain_example():
    # allocation growth 5 %, prior-year qualifying spend 100m: minimum 105m; spending 104m fails by 1m
    check = mhis_check(MHIS(allocation_growth=0.05, prior_year_spend=100e6), np.array([[104e6], [105e6]]))
    assert check.minimum[:, 0].tolist() == pytest.approx([105e6, 105e6])
    assert check.shortfall[:, 0].tolist() == pytest.approx([1e6, 0.0])
    assert check.met[:, 0].tolist() == [False, True]
    assert check.probability_met().tolist() == [0.5]


def test_mhis_later_years_grow_from_last_years_actual_spend():
    terms = MHIS(allocation_growth=[0.05, 0.03], prior_year_spend=None)
    check = mhis_check(terms, np.array([[104e6, 107e6, 110e6]]))
    assert np.isnan(check.minimum[0, 0]) and not check.assessed[0]  # no prior year: not assessed
    assert check.minimum[0, 1:].tolist() == pytest.approx([104e6 * 1.03, 107e6 * 1.03])  # 107.12m, 110.21m
    assert check.shortfall[0].tolist() == pytest.approx([0, 0.12e6, 0.21e6])
    assert np.isnan(check.probability_met()[0])


def test_mhis_per_rule_and_the_money_reaching_core_services():
    sc = scenario(CONTRACTS, COSTS)
    act = activity(MEASURES)
    costs = provider_costs(sc, act)
    checks = mhis(sc, ledgers(sc, act, costs), costs)
    block = checks["block"]
    # block spend 1.2m + 72,000 of OAPs a year; year 1 minimum 1.2m x 1.05 = 1.26m: met
    assert block.spend[0].tolist() == pytest.approx([1_272_000, 1_272_000])
    assert block.met[0].tolist() == [True, False]
    assert block.shortfall[0, 1] == pytest.approx(1_272_000 * 0.05)  # flat spend fails by 63,600
    # the provider spends 70,000 a month on beds and 16,000 on talking therapies: 70/86 of 1.2m is core,
    # plus the OAPs the commissioner buys directly
    assert block.core_spend[0, 0] == pytest.approx(1_200_000 * 70 / 86 + 72_000)
    assert block.talking_therapies_spend[0, 0] == pytest.approx(1_200_000 * 16 / 86)
    assert set(checks) == {"block", "activity", "blended", "capitation"}
    no_mhis = scenario({k: v for k, v in CONTRACTS.items() if k != "mhis"}, COSTS)
    assert mhis(no_mhis, ledgers(no_mhis, act), costs) == {}
