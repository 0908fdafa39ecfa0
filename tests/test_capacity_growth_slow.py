"""Capacity growth over many replications: growth that matches demand holds the wait, and Little's law holds.

A community team alone: referrals grow 5 % a year (continuously), exponential episodes of 60 days, people leave
the list after 30 days on average (so the list settles within weeks instead of drifting for years), 40 places
for about 40 people's worth of demand at the start. With the places growing 5 % a year too (40, 42, 44) each year
repeats the last at a larger scale, and the mean wait of year 3 stays close to year 1's; with the places fixed the
load climbs 5 % a year and so do the waits and withdrawals.

Little's law with growth: with exponential episodes of mean ``m`` a person in treatment leaves at rate ``1/m``
whatever the queue does, so over any window the expected days of caseload are ``m`` x the expected number who
finish in it (every start comes from the queue; added places only change who starts when). It holds in every
year, across the year boundaries where places are added.

The vector engine is the SimPy model replication by replication (``test_capacity_growth.py``), so these run on
the vector engine. Each check is a mean over independent replications (fixed seed) and must be within :data:`Z`
standard errors (the spread between replications / sqrt(replications)) of its target, as stated per test.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_capacity_growth import one_line

from paysim.engines import vector
from paysim.model.scenario import places_by_year

pytestmark = [pytest.mark.slow, pytest.mark.statistical]

Z = 4.0
REPS = 2000
EPISODE_DAYS = 60.0
CLOSE = 0.2
"""How close to year 1's the year-3 mean wait must stay when places grow with demand: within 20 % of it. Growth
that matches demand keeps each year's load the same at every point of the year; what remains is a larger team's
economy of scale (44 places against 40 wait a little less) and the rounding down of the places, both a few %."""


def team(growth: float):
    return one_line(
        "community", 243.0, {"staff_wte": 40, "caseload_per_wte": 1, "growth": growth},
        {"dist": "exponential", "mean": EPISODE_DAYS}, years=3, warmup_days=365, seed=17, growth=0.05,
        patience_days=30,
    )  # fmt: skip


def yearly(activity, measure: str) -> np.ndarray:
    """A count's total per replication and contract year, ``[R, years]``."""
    values = activity[f"community.{measure}"]
    return values.reshape(values.shape[0], -1, 12).sum(axis=2)


def yearly_wait(activity) -> np.ndarray:
    """Mean wait (days) of the people who started in each contract year, per replication, ``[R, years]``."""
    started = activity["community.started"]
    waited = np.nan_to_num(activity["community.wait_days_mean"]) * started
    return yearly_sums(waited) / yearly_sums(started)


def yearly_sums(values: np.ndarray) -> np.ndarray:
    return values.reshape(values.shape[0], -1, 12).sum(axis=2)


def mean_se(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(len(values)))


@pytest.fixture(scope="module")
def runs():
    grown, fixed = team(0.05), team(0.0)
    assert places_by_year(grown.services.community, 3) == (40, 42, 44)
    return {"grown": vector.run(grown, range(REPS)), "fixed": vector.run(fixed, range(REPS))}


def test_growth_matching_demand_holds_the_wait(runs):
    grown, fixed = yearly_wait(runs["grown"]), yearly_wait(runs["fixed"])
    first, _ = mean_se(grown[:, 0])
    assert first > 1.0  # a wait worth holding: about 2 days on average, with a list every year
    change, se = mean_se(grown[:, 2] - grown[:, 0])
    assert abs(change) + Z * se <= CLOSE * first, f"year 3 - year 1: {change:.3f} +- {se:.3f} days of {first:.3f}"
    # the same team with fixed places: the load climbs and the wait with it
    drift, se = mean_se(fixed[:, 2] - fixed[:, 0])
    assert drift - Z * se > 0.5 * first, f"fixed places, year 3 - year 1: {drift:.3f} +- {se:.3f}"
    # and a growing share leaves the list, where growth holds it
    withdrawn = {name: yearly(run, "withdrawn") / yearly(run, "referrals") for name, run in runs.items()}
    held, se_held = mean_se(withdrawn["grown"][:, 2] - withdrawn["grown"][:, 0])
    rising, se_rising = mean_se(withdrawn["fixed"][:, 2] - withdrawn["fixed"][:, 0])
    assert abs(held) <= Z * se_held + 0.01 and rising - Z * se_rising > 0.02


@pytest.mark.parametrize("case", ["grown", "fixed"])
def test_littles_law_in_every_year(runs, case):
    activity = runs[case]
    days = activity.month_days
    caseload_days = yearly_sums(activity["community.caseload_mean"] * days)
    finished = yearly(activity, "completed")
    for year in range(3):
        gap, se = mean_se(caseload_days[:, year] - EPISODE_DAYS * finished[:, year])
        assert abs(gap) <= Z * se, f"year {year + 1}: days - m x finished = {gap:.1f} +- {se:.1f}"
    assert (finished > 0).all()
