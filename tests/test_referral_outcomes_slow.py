"""Referral outcomes over many replications: the shares come out as set, and Little's law holds with dropouts.

The vector engine is the SimPy model replication by replication (``test_referral_outcomes.py``), so these
run on the vector engine. Each check is a mean over independent replications (fixed seeds) and must be
within :data:`Z` standard errors (the spread between replications / sqrt(replications)) of its closed form:

* ``assessed_only / referrals`` ~ ``1 - treated_share`` (each referral is assessed independently);
* ``dropped_out / (dropped_out + completed)`` ~ ``dropout_share`` (flat demand after a warm-up: starters
  leave at the rate they start, split by the share);
* ``recovered / completed`` ~ ``recovery_share``;
* Little's law: with ample places the caseload is starters a day x mean time held, and a dropout holds its
  place for ``episode x u / p`` with ``u / p`` uniform, half the mean episode on average: so
  ``caseload_mean`` ~ ``rate x treated_share x mean episode x (1 - dropout_share / 2)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_referral_outcomes import talking_therapies_only

from paysim.engines import vector

pytestmark = [pytest.mark.slow, pytest.mark.statistical]

Z = 4.0
REPS = 300
RATE = 3000.0  # referrals a year
MEAN_EPISODE = 60.0


def mean_se(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


@pytest.fixture(scope="module", params=[(0.67, 0.45, 0.48), (1.0, 1.0, 0.5), (0.3, 0.0, 0.0)],
                ids=["national", "everyone-drops-out", "no-dropout"])  # fmt: skip
def shares(request):
    """``(treated, dropout, recovery shares, totals per replication)``: talking therapies alone, ample
    courses, flat demand, lognormal episodes, one year of warm-up, two counted years."""
    treated, dropout, recovery = request.param
    scenario = talking_therapies_only(
        RATE, 10_000, {"dist": "lognormal", "mean": MEAN_EPISODE, "sd": 40}, seed=31, warmup_days=365, years=2,
        treated_share=treated, dropout_share=dropout, recovery_share=recovery,
    )  # fmt: skip
    activity = vector.run(scenario, range(REPS))
    totals = {name.split(".", 1)[1]: activity.total(name) for name in activity.measures}
    return treated, dropout, recovery, totals


def check(values: np.ndarray, expected: float) -> None:
    mean, se = mean_se(values)
    assert abs(mean - expected) <= Z * se + 1e-12, f"{mean:.5f} +- {se:.5f} against {expected:.5f}"


def test_assessed_and_not_treated_share(shares):
    treated, _, _, total = shares
    check(total["assessed_only"] / total["referrals"], 1.0 - treated)


def test_dropout_share_of_those_leaving_treatment(shares):
    _, dropout, _, total = shares
    check(total["dropped_out"] / (total["dropped_out"] + total["completed"]), dropout)


def test_recovery_share_of_finished_courses(shares):
    _, dropout, recovery, total = shares
    if dropout == 1.0:
        np.testing.assert_array_equal(total["completed"], 0)
        np.testing.assert_array_equal(total["recovered"], 0)
        return
    check(total["recovered"] / total["completed"], recovery)


def test_littles_law_with_dropouts(shares):
    # a dropout stays half an episode on average: with everyone dropping out, the caseload halves
    treated, dropout, _, total = shares
    starters_a_day = RATE / 365.0 * treated
    check(total["caseload_mean"], starters_a_day * MEAN_EPISODE * (1.0 - dropout / 2.0))
