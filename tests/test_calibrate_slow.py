"""Planted-parameter recovery and the back-test's coverage (long: marked slow and statistical).

The planted trust is data/sample-trust-truth.yaml (the default with known demand, growth, seasonality, stays,
shares, capacity and a two-day local wait before a placement). Replication ``r`` of it is one possible history of
that trust: 36 monthly figures of the measures a trust reports (data/make_sample_trust.py's list). Calibrating the
default on it should recover the planted values within their stated standard errors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from paysim.calibrate import Calibration, calibrate
from paysim.calibrate.backtest import backtest, holdout_backtest
from paysim.calibrate.monthly import MonthlyData, from_activity
from paysim.model.scenario import load_scenario
from paysim.model.uncertainty import central
from paysim.runs.runner import RunSettings, simulate

ROOT = Path(__file__).resolve().parent.parent
TRUTH_FILE = ROOT / "data" / "sample-trust-truth.yaml"

pytestmark = [pytest.mark.slow, pytest.mark.statistical]


def reported_measures() -> tuple[str, ...]:
    """The measures the sample trust reports (the columns of data/sample-trust.csv after ``month``)."""
    header = (ROOT / "data" / "sample-trust.csv").read_text().splitlines()[0]
    return tuple(name.strip('"') for name in header.split(",")[1:])


@pytest.fixture(scope="session")
def truth():
    return central(load_scenario(TRUTH_FILE))


@pytest.fixture(scope="session")
def histories(truth) -> list[MonthlyData]:
    activity = simulate(truth, RunSettings(reps=8))
    return [from_activity(activity, "2022-04", r, reported_measures()) for r in range(8)]


PLANTED = {
    "services.talking_therapies.referrals_per_year": 28000,
    "services.talking_therapies.growth": 0.05,
    "services.talking_therapies.seasonality.amplitude": 0.12,
    "services.talking_therapies.treated_share": 0.62,
    "services.talking_therapies.dropout_share": 0.40,
    "services.talking_therapies.recovery_share": 0.50,
    "services.talking_therapies.capacity.courses": 3700,
    "services.community.referrals_per_year": 9000,
    "services.community.growth": 0.04,
    "services.community.seasonality.amplitude": 0.08,
    "services.community.episode_days.mean": 160,
    "services.crisis.referrals_per_year": 2800,
    "services.crisis.growth": 0.03,
    "services.crisis.admission_share": 0.28,
    "services.inpatient.admissions_per_year": 420,
    "services.inpatient.growth": 0.02,
    "services.inpatient.los_days.mean": 36,
    "services.inpatient.los_days.sd": 38,
    "services.inpatient.readmission_share": 0.12,
    "services.inpatient.oap.wait_days": 2.0,
}
"""Planted values (data/sample-trust-truth.yaml) and the keys they are fitted to."""


@pytest.fixture(scope="session")
def fit_of(histories) -> Callable[[int], Calibration]:
    """The default calibrated on history ``i`` (20 replications a trial), made the first time a test of this
    process asks for it and kept for the session (the suite's order may run other modules between this module's
    tests): the in-sample check uses a fit the coverage test made, and a test on another xdist worker makes only
    the fits it needs."""
    made: dict[int, Calibration] = {}

    def fit(i: int) -> Calibration:
        if i not in made:
            made[i] = calibrate(histories[i], "default", reps=20)
        return made[i]

    return fit


def z_scores(fit: Calibration) -> dict[str, float]:
    """(estimate - planted) / stated standard error of every planted key, rates at the data's first month."""
    z = {}
    for key, planted in PLANTED.items():
        estimate = fit.estimate(key)
        assert estimate is not None, f"{key} was not fitted"
        z[key] = (float(estimate.value) - planted) / estimate.se
    return z


def test_one_history_recovers_every_planted_value_within_3_se(fit_of):
    worst = {k: v for k, v in z_scores(fit_of(0)).items() if abs(v) >= 3}
    assert not worst, worst


def test_the_stated_errors_cover_the_planted_values_over_six_histories(fit_of):
    """About 95 % of |z| below 1.96 if the standard errors are right; 120 values, so 85 % is a bound about 4.5
    binomial standard errors below 95 %. The mean z^2 (1 if right) stays below 2: standard errors not too small
    by more than 40 %."""
    z = np.array([list(z_scores(fit_of(i)).values()) for i in range(6)])
    inside = float(np.mean(np.abs(z) < 1.96))
    assert inside >= 0.85, dict(zip(PLANTED, np.round(np.mean(z**2, axis=0), 2), strict=True))
    assert float(np.mean(z**2)) < 2.0


def test_holdout_bands_cover_about_90_percent_for_the_right_model(histories):
    """Fit on 24 months, check the last 12: for a correctly specified trust about 90 % of the held-out months lie
    inside the 90 % band; over 29 measures x 12 months (months are correlated) we ask 80-100 %."""
    _, result = holdout_backtest(histories[1], "default", holdout=12, reps=100, fit_options={"reps": 20})
    assert 0.80 <= result.overall() <= 1.0, result.coverage()


def test_holdout_bands_visibly_fail_for_a_changed_trust(truth, histories):
    """A trust whose talking-therapies referrals jump by 40 % and whose ward loses 15 beds in the held-out year:
    the model fitted on the first two years no longer covers those months."""
    changed = truth.with_overrides(
        {"services.talking_therapies.referrals_per_year": 28000 * 1.4, "services.inpatient.beds": 90}
    )
    after = from_activity(simulate(changed, RunSettings(reps=2)), "2022-04", 1, reported_measures())
    before = histories[1]
    spliced = MonthlyData(
        before.months,
        {m: np.concatenate([before[m][:24], after[m][24:]]) for m in before.values},
        "a trust that changed",
    )
    _, result = holdout_backtest(spliced, "default", holdout=12, reps=100, fit_options={"reps": 20})
    coverage = result.coverage()
    assert coverage["talking_therapies.referrals"]["inside_90"] <= 0.25
    assert coverage["inpatient.local_bed_days"]["inside_90"] <= 0.25
    assert result.overall() < 0.8


def test_in_sample_check_of_the_full_fit(fit_of):
    result = backtest(fit_of(2), reps=100)
    assert result.holdout == 0
    assert 0.8 <= result.overall() <= 1.0
