"""Blended payment: fixed, variable (rates, dead band), outcome and corridor elements; baselines and errors;
the limits that turn it into activity payment (rates 1) and block payment (rates 0)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from money_builders import activity
from pydantic import ValidationError

from paysim.model.terms import ActivityTerms, Baseline, BlendedTerms, BlockTerms
from paysim.money.payment import activity_payment, blended_payment, block_payment, planned_units

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
BED_DAY = {"inpatient": {"bed_day": 575}}


def blended(**terms) -> BlendedTerms:
    data = {"prices": BED_DAY, "variable": {"rate_above": 0.5, "rate_below": 0.5, "dead_band": 0.02}}
    data.update(terms)
    return BlendedTerms.model_validate(data)


FIXED_PLAN = {"source": "fixed", "units": {"inpatient": {"bed_day": 60_000}}}


def bed_days_per_month(per_year: float, replications: int = 1, months: int = 24) -> dict[str, np.ndarray]:
    return {"inpatient.bed_day": np.full((replications, months), per_year / 12)}


def test_fixed_element_is_plan_times_price_in_twelfths():
    payment = blended_payment(blended(baseline=FIXED_PLAN), bed_days_per_month(60_000))
    # 60,000 planned bed days x 575 = 34.5m a year, 2.875m a month
    assert np.allclose(payment.parts["fixed"], 2_875_000)
    assert np.allclose(payment.parts["variable"], 0)
    assert payment.contract_value[0].tolist() == pytest.approx([34.5e6, 34.5e6])


@pytest.mark.parametrize(
    ("actual", "variable"),
    [
        (63_000, 517_500),  # 3,000 over plan, 1,800 beyond the 1,200 band: 0.5 x 575 x 1,800
        (61_000, 0),  # inside the band
        (59_000, 0),  # inside the band
        (57_000, -517_500),  # 3,000 under plan, 1,800 beyond the band, refunded at 0.5 x 575
    ],
)
def test_variable_element_worked_examples(actual, variable):
    payment = blended_payment(blended(baseline=FIXED_PLAN), bed_days_per_month(actual))
    assert payment.parts["variable"][0, :12].sum() == pytest.approx(variable)
    # settled monthly on the year to date: an even profile pays an even twelfth
    assert payment.parts["variable"][0, :12] == pytest.approx(np.full(12, variable / 12))


def test_separate_rates_above_and_below():
    terms = blended(baseline=FIXED_PLAN, variable={"rate_above": 0.75, "rate_below": 0.5, "dead_band": 0.0})
    above = blended_payment(terms, bed_days_per_month(62_000)).parts["variable"][0, :12].sum()
    below = blended_payment(terms, bed_days_per_month(58_000)).parts["variable"][0, :12].sum()
    assert above == pytest.approx(0.75 * 575 * 2_000)  # 862,500
    assert below == pytest.approx(-0.5 * 575 * 2_000)  # -575,000


def test_uplift_raises_prices_in_year_two():
    terms = blended(baseline=FIXED_PLAN, uplift=0.02)
    payment = blended_payment(terms, bed_days_per_month(63_000))
    assert payment.parts["fixed"][0, 12] == pytest.approx(2_875_000 * 1.02)
    assert payment.parts["variable"][0, 12:].sum() == pytest.approx(517_500 * 1.02)


@PROPERTY
@given(profile=arrays(np.float64, (2, 12), elements=st.floats(0, 20_000)))
def test_year_to_date_settlement_totals_the_annual_formula(profile):
    payment = blended_payment(blended(baseline=FIXED_PLAN, uplift=0.0), {"inpatient.bed_day": np.tile(profile, 2)})
    year = profile.sum(axis=1)
    d = year - 60_000
    expected = 575 * (0.5 * np.maximum(d - 1_200, 0) - 0.5 * np.maximum(-d - 1_200, 0))
    got = payment.parts["variable"][:, :12].sum(axis=1)
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-3)


def test_expected_baseline_and_its_error():
    units = {"inpatient.bed_day": np.concatenate([np.full((1, 24), 5_000.0), np.full((1, 24), 5_500.0)])}
    plan = planned_units(Baseline(error=-0.05), ["inpatient.bed_day"], units, 2)
    # yearly 60,000 and 66,000: expected level 63,000; set 5 % too low: 59,850
    assert plan["inpatient.bed_day"].tolist() == pytest.approx([59_850, 59_850])
    payment = blended_payment(blended(baseline={"error": -0.05}), units)
    assert payment.parts["fixed"][0, 0] == pytest.approx(59_850 * 575 / 12)
    # both replications are paid the same fixed element; the variable one follows their own activity
    assert payment.parts["variable"][1, :12].sum() > payment.parts["variable"][0, :12].sum()


def test_fixed_baseline_grows_and_carries_the_error():
    baseline = Baseline(source="fixed", units=FIXED_PLAN["units"], growth=0.1, error=-0.05)
    plan = planned_units(baseline, ["inpatient.bed_day"], bed_days_per_month(0), 2)
    assert plan["inpatient.bed_day"].tolist() == pytest.approx([57_000, 62_700])  # 60,000 x 1.1 x 0.95


def test_fixed_baseline_must_plan_every_priced_currency():
    with pytest.raises(ValidationError, match=r"community\.contact"):
        blended(prices={**BED_DAY, "community": {"contact": 280}}, baseline=FIXED_PLAN)


def test_outcome_and_corridor_elements():
    terms = blended(
        baseline=FIXED_PLAN,
        variable={"rate_above": 0.0, "rate_below": 0.0},
        outcomes={
            "share": 0.04,
            "indicators": [{"measure": "inpatient.occupancy_mean", "target": 0.85, "partial_from": 0.95}],
        },
        corridor={"band": 0.0, "overspend_share": 0.5, "underspend_share": 0.5, "cap": 0.05},
    )
    act = activity({"inpatient.occupancy_mean": 0.90}, replications=1)  # half credit
    cost = np.full((1, 24), 37.95e6 / 12)  # 37.95m a year against a 34.5m value
    payment = blended_payment(terms, bed_days_per_month(60_000), act.monthly, act.month_days, cost)
    # outcome: 4 % of 34.5m = 1.38m at stake, half earned: -690,000 a year
    assert payment.parts["outcome"][0, :12].sum() == pytest.approx(-690_000)
    # deficit before the share: 37.95m - (34.5m - 0.69m) = 4.14m; half is 2.07m, above the 5 % cap (1.725m)
    assert payment.parts["risk_share"][0, 11] == pytest.approx(0.05 * 34.5e6)
    assert payment.income[0, :12].sum() == pytest.approx(34.5e6 - 690_000 + 1_725_000)


def test_elements_need_their_inputs():
    terms = blended(
        outcomes={"share": 0.03, "indicators": [{"measure": "inpatient.oap_bed_days", "target": 0}]},
    )
    with pytest.raises(ValueError, match="outcomes"):
        blended_payment(terms, bed_days_per_month(1))
    with pytest.raises(ValueError, match="corridor"):
        blended_payment(blended(corridor={"overspend_share": 0.5, "underspend_share": 0.5}), bed_days_per_month(1))


PRICES = {"inpatient": {"bed_day": 575, "oap_bed_day": 577}, "community": {"contact": 280}}
KEYS = ["inpatient.bed_day", "inpatient.oap_bed_day", "community.contact"]
UNITS = arrays(np.float64, (3, 3, 24), elements=st.floats(0, 1e4))
PLANS = arrays(np.float64, (3, 2), elements=st.floats(0, 1e5))


@PROPERTY
@given(units=UNITS, plans=PLANS, uplift=st.floats(-0.2, 0.2))
def test_rate_one_both_sides_is_activity_payment(units, plans, uplift):
    terms = BlendedTerms(prices=PRICES, uplift=uplift, variable={"rate_above": 1.0, "rate_below": 1.0})
    by_key = dict(zip(KEYS, units, strict=True))
    plan = dict(zip(KEYS, plans, strict=True))
    got = blended_payment(terms, by_key, plan=plan).income
    expected = activity_payment(ActivityTerms(prices=PRICES, uplift=uplift), by_key).income
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-3)


@PROPERTY
@given(
    units=UNITS,
    plan=arrays(np.float64, 3, elements=st.floats(0, 1e5)),
    uplift=st.floats(-0.2, 0.2),
    band=st.floats(0, 0.5),
)
def test_rate_zero_is_block_payment(units, plan, uplift, band):
    terms = BlendedTerms(
        prices=PRICES, uplift=uplift, variable={"rate_above": 0.0, "rate_below": 0.0, "dead_band": band}
    )
    flat_plan = {key: np.full(2, planned) for key, planned in zip(KEYS, plan, strict=True)}
    got = blended_payment(terms, dict(zip(KEYS, units, strict=True)), plan=flat_plan).income
    # a block whose value is the planned activity at the year-1 prices, uplifted like the prices
    value = plan @ np.array([575, 577, 280])
    expected = block_payment(BlockTerms(annual_value=value, uplift=uplift), 3, 24).income
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-3)
    assert np.all(got == got[0])  # no activity risk at all
