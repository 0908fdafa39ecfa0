"""The first appointment over many replications: the waits are the drawn days, and Little's law holds.

With ample places nobody waits for a place (allocation at referral), so a starter's wait is exactly its days
to the first appointment ``b``: the share of starts within a standard ``x`` is ``P(b <= x)`` of the given
distribution, and the mean wait is the mean of ``b``. The place is held from allocation to the end of
treatment, so by Little's law the caseload is starters a day x (mean of ``b`` + mean time in treatment), where
a dropout stays half an episode on average.

The vector engine is the SimPy model replication by replication (``test_first_appointment.py``), so these run
on the vector engine. Each check is a mean over independent replications (fixed seeds) and must be within
:data:`Z` standard errors (the spread between replications / sqrt(replications)) of its closed form; the
distribution functions are scipy's.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import community_only
from scipy import stats
from test_referral_outcomes import talking_therapies_only

from paysim.engines import vector
from paysim.model.distributions import Duration

pytestmark = [pytest.mark.slow, pytest.mark.statistical]

Z = 4.0
REPS = 200
RATE = 3000.0  # referrals a year
EPISODE = {"dist": "lognormal", "mean": 60.0, "sd": 40.0}
PLACES = 5000  # about 650 are in use: nobody waits for a place


def cdf(d: Duration, x: float) -> float:
    """``P(b <= x)`` for ``b`` drawn from ``d``, parametrised as
    :func:`paysim.model.distributions.sample_duration` does."""
    if d.dist == "fixed":
        return float(d.mean <= x)
    if d.dist == "exponential":
        return float(stats.expon.cdf(x, scale=d.mean))
    cv2 = (d.std / d.mean) ** 2
    if d.dist == "lognormal":
        sigma2 = np.log1p(cv2)
        return float(stats.lognorm.cdf(x, s=np.sqrt(sigma2), scale=np.exp(np.log(d.mean) - sigma2 / 2)))
    return float(stats.gamma.cdf(x, a=1.0 / cv2, scale=d.mean * cv2))


CASES = {
    # the README's example: about 90 % within 6 weeks and 98.5 % within 18 weeks when places come at once
    "talking therapies, lognormal, national shares": (
        "talking_therapies", {"dist": "lognormal", "mean": 18.0, "sd": 36.0}, 0.67, 0.45,
    ),
    "community, gamma": ("community", {"dist": "gamma", "mean": 25.0, "sd": 20.0}, 1.0, 0.0),
    "community, exponential, dropouts": ("community", {"dist": "exponential", "mean": 14.0}, 0.8, 0.3),
}  # fmt: skip


@pytest.fixture(scope="module", params=list(CASES))
def booked(request):
    """``(line, first-appointment duration, treated share, dropout share, totals per replication)``: the line
    alone, ample places, flat demand, a year of warm-up, two counted years."""
    name, days, treated, dropout = CASES[request.param]
    keys = {"seed": 41, "warmup_days": 365, "years": 2, "treated_share": treated, "dropout_share": dropout,
            "first_appointment_days": days}  # fmt: skip
    if name == "talking_therapies":
        scenario = talking_therapies_only(RATE, PLACES, EPISODE, **keys)
    else:
        scenario = community_only(RATE, PLACES, EPISODE, **keys)
    activity = vector.run(scenario, range(REPS))
    totals = {measure.split(".", 1)[1]: activity.total(measure) for measure in activity.measures}
    assert np.all(totals["waiting_end"] == 0) and np.all(totals["withdrawn"] == 0)  # no queue for a place
    line = getattr(scenario.services, name)
    return name, line.first_appointment_days, treated, dropout, line, totals


def check(values: np.ndarray, expected: float) -> None:
    mean, se = float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(len(values)))
    assert abs(mean - expected) <= Z * se + 1e-12, f"{mean:.5f} +- {se:.5f} against {expected:.5f}"


def test_share_within_the_standards_is_the_distributions(booked):
    name, days, _, _, line, total = booked
    expected = cdf(days, line.standard_days)
    assert 0.3 < expected < 0.99  # a share that tells distributions apart, not 0 or 1
    check(total["started_within_standard"] / total["started"], expected)
    if name == "talking_therapies":  # and the 18-week standard
        check(total["started_within_long_standard"] / total["started"], cdf(days, line.long_standard_days))


def test_mean_wait_is_the_mean_days_to_the_first_appointment(booked):
    _, days, _, _, _, total = booked
    check(total["wait_days_mean"], days.mean)


def test_littles_law_on_the_places_held(booked):
    # the place is held from allocation: the days to the first appointment, then the episode (half of it on
    # average for a dropout)
    _, days, treated, dropout, _, total = booked
    starters_a_day = RATE / 365.0 * treated
    check(total["caseload_mean"], starters_a_day * (days.mean + EPISODE["mean"] * (1.0 - dropout / 2.0)))
