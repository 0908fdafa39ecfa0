"""The SimPy model against queueing theory: Erlang B, M/G/infinity, Little's law, Erlang C, demand integral.

Each check runs independent replications with fixed seeds, estimates the standard error from the spread
between replications, and allows |simulated - exact| <= 4 standard errors (about 1 in 16,000 false alarms
for a correct model). Where several quantities are checked at once the bound is 4 SE for each.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import community_only, inpatient_only

from paysim.analysis.queueing import erlang_b, mginf_local_and_overflow, mmc_mean_wait, mmc_wait_exceeds
from paysim.engines import des
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.scenario import scenario_from_dict

Z = 4.0  # tolerance in standard errors

pytestmark = pytest.mark.statistical


def mean_and_se(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def assert_within(values: np.ndarray, exact: float, what: str) -> None:
    mean, se = mean_and_se(values)
    assert abs(mean - exact) <= Z * se, f"{what}: simulated {mean:.5f} +/- {se:.5f} (1 SE), exact {exact:.5f}"


@pytest.mark.parametrize(
    "los",
    [{"dist": "exponential", "mean": 10}, {"dist": "lognormal", "mean": 10, "sd": 15}],
    ids=["exponential", "lognormal"],
)
def test_oap_share_without_repatriation_matches_erlang_b(los):
    # 10 beds, offered load 9.5 erlangs (95 % occupancy-level): 0.95 requests a day x 10 days.
    # Erlang's loss formula holds for any length-of-stay distribution (insensitivity).
    scenario = inpatient_only(10, 0.95 * 365, los, years=10, warmup_days=200, repatriate=False)
    activity = des.run(scenario, range(30))
    share = activity.total("inpatient.oap_admissions") / activity.total("inpatient.bed_requests")
    assert_within(share, erlang_b(10, 9.5), "OAP share")
    assert activity.total("inpatient.repatriations").sum() == 0


def test_occupancy_with_repatriation_matches_mginf():
    # With repatriation the ward is never short while anyone is out of area: local = min(N, beds),
    # N ~ Poisson(9.5) people needing a bed (M/G/infinity).
    scenario = inpatient_only(10, 0.95 * 365, {"dist": "lognormal", "mean": 10, "sd": 15}, years=10, warmup_days=200)
    activity = des.run(scenario, range(30))
    local, overflow = mginf_local_and_overflow(9.5, 10)
    days = scenario.horizon_days
    assert_within(activity.total("inpatient.local_bed_days") / days, local, "mean beds occupied")
    assert_within(activity.total("inpatient.oap_bed_days") / days, overflow, "mean OAP patients")
    assert_within(activity.total("inpatient.occupancy_mean"), local / 10, "occupancy share")


def test_community_caseload_obeys_littles_law():
    # Ample capacity: caseload = arrival rate x mean episode = 2000 / 365 x 30 = 164.4 people.
    scenario = community_only(2000, 1000, {"dist": "gamma", "mean": 30, "sd": 20}, warmup_days=300)
    activity = des.run(scenario, range(20))
    assert_within(activity.total("community.caseload_mean"), 2000 / 365 * 30, "caseload")
    assert activity.total("community.wait_days_mean").max() == 0


def test_community_queue_matches_erlang_c():
    # M/M/5: 0.4 referrals a day, exponential episodes of 10 days, 5 places (offered load 4 erlangs).
    scenario = community_only(
        0.4 * 365, 5, {"dist": "exponential", "mean": 10}, years=10, warmup_days=365, standard_days=7
    )
    activity = des.run(scenario, range(120))  # 1 SE is about 3 % of the mean wait
    assert_within(activity.total("community.wait_days_mean"), mmc_mean_wait(0.4, 10, 5), "mean wait (days)")
    within = activity.total("community.started_within_standard") / activity.total("community.started")
    assert_within(within, 1 - mmc_wait_exceeds(0.4, 10, 5, 7), "share started within 7 days")
    assert_within(activity.total("community.caseload_mean"), 4.0, "mean caseload (Little)")


def test_monthly_referrals_follow_the_integral_of_the_rate_curve():
    # 8 %/yr growth, a 30 % seasonal swing peaking in January, horizon starting in April.
    scenario = scenario_from_dict(
        {
            "name": "demand",
            "years": 2,
            "seed": 11,
            "services": {
                "community": {
                    "referrals_per_year": 3650,
                    "growth": 0.08,
                    "seasonality": {"amplitude": 0.3, "peak_month": 1},
                    "episode_days": {"dist": "fixed", "mean": 5},
                    "capacity": {"staff_wte": 500, "caseload_per_wte": 1},
                }
            },
        }
    )
    reps = 20
    activity = des.run(scenario, range(reps))
    curve = DemandCurve.for_line(scenario.services.community, scenario.start_month)
    edges = month_edges(scenario.start_month, scenario.months)
    expected = curve.expected(edges[:-1], edges[1:])
    observed = activity["community.referrals"].sum(axis=0)
    # Poisson counts: the sum over replications has variance reps x expected.
    z = (observed - reps * expected) / np.sqrt(reps * expected)
    assert np.abs(z).max() < 3.5, f"monthly z-scores {np.round(z, 2)}"  # Bonferroni over 24 months, 5 %
    # the seasonal shape is really there: January's expected count is well above July's
    assert expected[9] > 1.4 * expected[3]
