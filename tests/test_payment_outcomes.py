"""Outcome-linked payment: indicator credits (thresholds, partial credit, trajectories) and the money."""

from __future__ import annotations

import numpy as np
import pytest
from money_builders import activity
from pydantic import ValidationError

from paysim.model.terms import Indicator, Outcomes
from paysim.money.payment.outcomes import indicator_credit, indicator_value, outcome_credit, outcome_payment


def credit(indicator: dict, measures: dict, months: int = 24) -> np.ndarray:
    act = activity(measures, replications=1, months=months)
    ind = Indicator(**indicator)
    return indicator_credit(ind, indicator_value(ind.measure, act.monthly, act.month_days))[0]


def test_share_within_standard_with_partial_credit():
    measures = {"talking_therapies.started": 100.0, "talking_therapies.started_within_standard": 70.0}
    ind = {"measure": "talking_therapies.started_within_standard_share", "target": 0.75, "partial_from": 0.65}
    # 70 % against a 75 % target, no credit at 65 %: (0.70 - 0.65) / (0.75 - 0.65) = 0.5
    assert credit(ind, measures) == pytest.approx(np.full(24, 0.5))


def test_all_or_nothing_without_partial_credit():
    ind = {"measure": "community.started_within_standard_share", "target": 0.75}
    assert np.all(credit(ind, {"community.started": 100.0, "community.started_within_standard": 74.0}) == 0)
    assert np.all(credit(ind, {"community.started": 100.0, "community.started_within_standard": 75.0}) == 1)


def test_share_is_measured_year_to_date():
    started = np.full(24, 100.0)
    within = np.full(24, 100.0)
    within[0] = 0.0  # a bad first month: 0 % in April, then 100 %
    ind = {"measure": "crisis.started_within_standard_share", "target": 0.9, "partial_from": 0.4}
    c = credit(ind, {"crisis.started": started, "crisis.started_within_standard": within})
    # year to date: 0 % after April, 50 % after May, 2/3 after June, ..., 11/12 after March
    assert c[0] == 0.0
    assert c[1] == pytest.approx((0.5 - 0.4) / 0.5)
    assert c[11] == pytest.approx(1.0)  # 91.7 % >= 90 %
    assert c[12] == pytest.approx(1.0)  # a new year starts clean


def test_nobody_started_earns_full_credit():
    ind = {"measure": "community.started_within_standard_share", "target": 0.75}
    assert np.all(credit(ind, {"community.started": 0.0, "community.started_within_standard": 0.0}) == 1)


def test_oap_bed_days_against_a_trajectory():
    ind = {"measure": "inpatient.oap_bed_days", "target": [1200, 600], "partial_from": [2400, 1200]}
    c = credit(ind, {"inpatient.oap_bed_days": 150.0})
    # year 1: 150 k bed days after k months, target 100 k, no credit at 200 k: (200 - 150) / (200 - 100) = 0.5
    assert c[:12] == pytest.approx(np.full(12, 0.5))
    # year 2: target 50 k, no credit from 100 k: 150 k earns nothing
    assert np.all(c[12:] == 0)
    # the last value of a trajectory repeats
    c3 = credit(ind, {"inpatient.oap_bed_days": 75.0}, months=36)
    assert c3[24:] == pytest.approx(np.full(12, 0.5))  # 75 k against 50 k .. 100 k


def test_occupancy_lower_is_better():
    ind = {"measure": "inpatient.occupancy_mean", "target": 0.85, "partial_from": 0.95}
    assert credit(ind, {"inpatient.occupancy_mean": 0.93}) == pytest.approx(np.full(24, 0.2))
    assert np.all(credit(ind, {"inpatient.occupancy_mean": 0.80}) == 1)


def test_partial_credit_must_sit_on_the_worse_side():
    with pytest.raises(ValidationError, match="partial_from"):
        Indicator(measure="inpatient.oap_bed_days", target=1000, partial_from=500)
    with pytest.raises(ValidationError, match="share"):
        Indicator(measure="community.started_within_standard_share", target=75)


def test_weighted_credit():
    outcomes = Outcomes(
        share=0.03,
        indicators=[
            {"measure": "community.started_within_standard_share", "target": 0.75, "weight": 3},
            {"measure": "inpatient.oap_bed_days", "target": 100},
        ],
    )
    act = activity(
        {"community.started": 10.0, "community.started_within_standard": 10.0, "inpatient.oap_bed_days": 50.0}
    )
    # community met (weight 3), OAPs missed (weight 1): 3 / 4
    assert np.allclose(outcome_credit(outcomes, act.monthly, act.month_days), 0.75)


HALF = {"measure": "inpatient.occupancy_mean", "target": 0.85, "partial_from": 0.95}  # 0.90 earns 0.5


def pay(mode: str, paid: str, occupancy=0.90) -> np.ndarray:
    outcomes = Outcomes(share=0.03, mode=mode, paid=paid, indicators=[HALF])
    act = activity({"inpatient.occupancy_mean": occupancy}, replications=1)
    return outcome_payment(outcomes, np.array([12e6, 12e6]), act.monthly, act.month_days)[0]


def test_withhold_in_year():
    # pot = 3 % of 12m = 360,000 a year: 30,000 withheld a month, half released: -15,000 a month
    assert pay("withhold", "in_year") == pytest.approx(np.full(24, -15_000))


def test_bonus_in_year():
    assert pay("bonus", "in_year") == pytest.approx(np.full(24, 15_000))


def test_withhold_released_at_year_end():
    monthly = pay("withhold", "year_end")
    assert monthly[:11] == pytest.approx(np.full(11, -30_000))
    assert monthly[11] == pytest.approx(-30_000 + 180_000)  # half of the 360,000 pot released
    assert monthly[:12].sum() == pytest.approx(360_000 * (0.5 - 1))  # pot x (C - 1)


def test_in_year_release_claws_back_when_credit_falls():
    occupancy = np.full(24, 0.85)
    occupancy[6:12] = 0.95  # a bad second half: year-to-date credit falls
    monthly = pay("bonus", "in_year", occupancy)
    assert monthly[:6] == pytest.approx(np.full(6, 30_000))
    assert monthly[6] < 0  # the year-to-date mean worsens, some bonus is taken back
    # over the year, bonus = pot x credit on the year's mean occupancy
    days = np.array([30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28, 31])
    mean = (0.85 * days[:6].sum() + 0.95 * days[6:].sum()) / 365
    assert monthly[:12].sum() == pytest.approx(360_000 * (0.95 - mean) / 0.10)
