"""Arrival-rate curves: the closed-form integral, the calendar, and the Poisson arrivals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from paysim.model.demand import DemandCurve, month_edges, month_labels
from paysim.model.scenario import Seasonality, scenario_from_dict


def test_month_edges_follow_the_calendar_from_the_start_month():
    edges = month_edges(4, 12)  # April to March
    assert list(np.diff(edges)) == [30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28, 31]
    assert edges[-1] == 365
    assert month_labels(4, 14)[:2] == ["Y1 Apr", "Y1 May"] and month_labels(4, 14)[12] == "Y2 Apr"


@pytest.mark.parametrize("growth, amplitude", [(0.0, 0.0), (0.08, 0.0), (0.0, 0.3), (0.08, 0.3), (-0.05, 1.0)])
def test_expected_arrivals_is_the_integral_of_the_rate(growth, amplitude):
    curve = DemandCurve(per_year=3650, growth=growth, amplitude=amplitude, peak_day=270.0)
    for a, b in [(0, 30), (-100, 0), (17.5, 400.25), (700, 1095)]:
        numeric, _ = integrate.quad(curve.rate, a, b, limit=200)
        assert curve.expected(a, b) == pytest.approx(numeric, rel=1e-10)


def test_rate_is_the_base_rate_at_the_start_and_grows_each_year():
    curve = DemandCurve(per_year=365, growth=0.1)
    assert curve.rate(0.0) == pytest.approx(1.0)
    assert curve.rate(365.0) == pytest.approx(1.1)
    assert curve.expected(0, 365) == pytest.approx(0.1 / np.log(1.1) * 365)  # integral of 1.1^(t/365)


def test_seasonal_peak_falls_in_the_peak_month():
    scenario = scenario_from_dict(
        {
            "name": "s",
            "years": 1,
            "services": {
                "crisis": {
                    "referrals_per_year": 100,
                    "seasonality": Seasonality(amplitude=0.5, peak_month=1).model_dump(),
                    "episode_days": {"dist": "fixed", "mean": 1},
                    "capacity": {"places": 1},
                    "admission_share": 0,
                }
            },
        }
    )
    curve = DemandCurve.for_line(scenario.services.crisis, start_month=4)
    days = np.arange(365)
    peak = days[np.argmax(curve.rate(days))]
    january = month_edges(4, 12)[9:11]  # the tenth counted month from April
    assert january[0] <= peak < january[1]


def test_arrivals_are_sorted_inside_the_window_and_poisson_in_number():
    curve = DemandCurve(per_year=365 * 4, growth=0.2, amplitude=0.4)
    rng = np.random.default_rng(5)
    counts = []
    for _ in range(400):
        times = curve.arrivals(rng, -30, 60)
        assert np.all(np.diff(times) >= 0) and times.min() >= -30 and times.max() < 60
        counts.append(len(times))
    expected = curve.expected(-30, 60)
    se = np.sqrt(expected / len(counts))
    assert abs(np.mean(counts) - expected) < 4 * se  # mean of Poisson counts, 4 standard errors
    assert np.var(counts, ddof=1) == pytest.approx(expected, rel=0.25)  # Poisson: variance = mean
