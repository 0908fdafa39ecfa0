"""Capitation: per-head value, growth, the outcome-contingent share, and no dependence on activity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from money_builders import activity

from paysim.model.terms import CapitationTerms
from paysim.money.payment import capitation_payment
from paysim.money.payment.capitation import capitation_value

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
TERMS = CapitationTerms(
    population=1_000_000, need_weight=1.05, rate_per_head=100, uplift=0.018, population_growth=0.005
)


def test_worked_example():
    # 1,000,000 people x need weight 1.05 x 100 GBP = 105m; year 2: 105m x 1.018 x 1.005 = 107,424,450
    assert capitation_value(TERMS, 2).tolist() == pytest.approx([105_000_000, 107_424_450])
    income = capitation_payment(TERMS, replications=2, months=24).income
    assert np.allclose(income[:, :12], 8_750_000)
    assert np.allclose(income[:, 12:], 107_424_450 / 12)


def test_outcome_contingent_share():
    outcomes = {
        "share": 0.2,
        "paid": "year_end",
        "indicators": [{"measure": "inpatient.occupancy_mean", "target": 0.85, "partial_from": 0.95}],
    }
    terms = CapitationTerms.model_validate({**TERMS.model_dump(), "outcomes": outcomes})
    act = activity({"inpatient.occupancy_mean": 0.90})  # half credit
    payment = capitation_payment(terms, 2, 24, act.monthly, act.month_days)
    # 20 % of 105m withheld (1.75m a month), half of it (10.5m) released at year end
    assert payment.parts["outcome"][0, 0] == pytest.approx(-1_750_000)
    assert payment.income[0, :12].sum() == pytest.approx(105e6 * (1 - 0.2 * 0.5))


def test_gain_loss_share_is_optional():
    terms = CapitationTerms.model_validate(
        {**TERMS.model_dump(), "corridor": {"overspend_share": 0.5, "underspend_share": 0.5}}
    )
    cost = np.full((1, 24), 115e6 / 12)  # 10m over the 105m value in year 1
    payment = capitation_payment(terms, 1, 24, cost=cost)
    assert payment.parts["risk_share"][0, 11] == pytest.approx(5e6)


@PROPERTY
@given(
    bed_days=arrays(np.float64, (3, 24), elements=st.floats(0, 1e5)),
    cost=arrays(np.float64, (3, 24), elements=st.floats(0, 1e8)),
)
def test_capitation_income_does_not_depend_on_activity(bed_days, cost):
    act = activity({"inpatient.local_bed_days": bed_days, "inpatient.oap_bed_days": bed_days}, replications=3)
    income = capitation_payment(TERMS, 3, 24, act.monthly, act.month_days, cost).income
    assert np.allclose(income, capitation_payment(TERMS, 3, 24).income)
    assert np.all(income == income[0])
