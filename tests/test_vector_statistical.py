"""The vector engine against the SimPy model (independent replications) and against queueing theory.

* **Agreement with the SimPy model**: on three scenarios, the mean over replications of every public
  measure (total over the horizon) from the SimPy model's replications 0..n-1 and the vector engine's
  replications 10,000.. (different random streams, so a genuine two-sample test) must agree within a
  two-sample z-test at a family-wise level of 1 % (Bonferroni over every measure of every scenario).
* **Erlang B**: 10,000 replications of a 40-bed ward at 95 % offered load with no repatriation: the OAP
  share of bed requests within 1 % (relative) of Erlang's loss formula and within 4 standard errors.
  A whole-day time step would miss it by about 7 %.
* **M/G/infinity**: with repatriation, local occupancy is E[min(N, beds)], N ~ Poisson(offered load).
* **Little's law**: a community team with ample places holds arrival rate x mean episode people.

Standard errors come from the spread between replications; each check states its tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import community_only, inpatient_only, small_trust
from scipy import stats

from paysim.activity import measure_kinds
from paysim.analysis.queueing import erlang_b, mginf_local_and_overflow
from paysim.engines import des, vector

pytestmark = [pytest.mark.slow, pytest.mark.statistical]

Z = 4.0


def mean_se(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


AGREEMENT = {
    "small-trust": lambda: small_trust(seed=21, warmup_days=120),
    "ward-high-occupancy": lambda: inpatient_only(
        15, 520, {"dist": "lognormal", "mean": 10, "sd": 14}, readmission_share=0.15, warmup_days=60, seed=8
    ),
    "community-queue": lambda: community_only(
        900, 70, {"dist": "lognormal", "mean": 28, "sd": 20}, patience_days=30, warmup_days=90, seed=13
    ),
}
DES_REPS = 60
VECTOR_REPS = 2000
FAMILY_ALPHA = 0.01


def test_agrees_with_the_simpy_model_on_every_public_measure():
    tests = []
    for name, build in AGREEMENT.items():
        scenario = build()
        reference = des.run(scenario, range(DES_REPS))
        fast = vector.run(scenario, range(10_000, 10_000 + VECTOR_REPS))
        public = measure_kinds(scenario.lines(), scenario.services.inpatient is not None, public_only=True)
        for measure in public:
            m1, s1 = mean_se(reference.total(measure))
            m2, s2 = mean_se(fast.total(measure))
            se = np.hypot(s1, s2)
            z = 0.0 if se == 0 and m1 == m2 else (m2 - m1) / se if se > 0 else np.inf
            tests.append((name, measure, m1, m2, z))
    threshold = stats.norm.isf(FAMILY_ALPHA / (2 * len(tests)))
    report = "\n".join(f"{s:20} {m:45} des {a:12.4f} vector {b:12.4f} z {z:+.2f}" for s, m, a, b, z in tests)
    worst = max(abs(z) for *_, z in tests)
    print(f"\n{len(tests)} measures, Bonferroni |z| threshold {threshold:.2f}, worst |z| {worst:.2f}\n{report}")
    assert worst <= threshold, report


def test_oap_share_without_repatriation_matches_erlang_b():
    # 40 beds, offered load 38 erlangs (3.8 requests a day x 10-day exponential stays), no readmission
    beds, load, mean_los = 40, 38.0, 10.0
    scenario = inpatient_only(
        beds, load / mean_los * 365, {"dist": "exponential", "mean": mean_los}, repatriate=False, warmup_days=60
    )
    result = vector.run(scenario, range(10_000))
    oap = result.total("inpatient.oap_admissions")
    requests = result.total("inpatient.bed_requests")
    share = oap.sum() / requests.sum()
    # ratio estimator's standard error from the per-replication residuals
    se = np.sqrt(np.sum((oap - share * requests) ** 2)) / requests.sum()
    exact = erlang_b(beds, load)
    print(f"\nOAP share {share:.5f} +/- {se:.5f}, Erlang B {exact:.5f}, relative error {share / exact - 1:+.4f}")
    assert abs(share / exact - 1) <= 0.01, f"OAP share {share:.5f}, Erlang B {exact:.5f}"
    assert abs(share - exact) <= Z * se, f"OAP share {share:.5f} +/- {se:.5f}, Erlang B {exact:.5f}"


def test_local_occupancy_with_repatriation_matches_mginf():
    # a long warm-up: lognormal stays (sd 15) have a long tail, and the ward starts empty
    beds, load, mean_los = 40, 38.0, 10.0
    scenario = inpatient_only(
        beds, load / mean_los * 365, {"dist": "lognormal", "mean": mean_los, "sd": 15}, warmup_days=730
    )
    result = vector.run(scenario, range(2000))
    local, overflow = mginf_local_and_overflow(load, beds)
    occupancy, se = mean_se(result.total("inpatient.occupancy_mean"))
    print(f"\noccupancy {occupancy:.5f} +/- {se:.5f}, M/G/inf {local / beds:.5f}")
    assert abs(occupancy - local / beds) <= Z * se, f"occupancy {occupancy:.5f} +/- {se:.5f}, exact {local / beds:.5f}"
    oap_days, se = mean_se(result.total("inpatient.oap_bed_days") / 365)
    assert abs(oap_days - overflow) <= Z * se, f"OAP beds {oap_days:.4f} +/- {se:.4f}, exact {overflow:.4f}"


def test_caseload_with_ample_places_obeys_littles_law():
    per_year, mean_episode = 730.0, 40.0
    scenario = community_only(per_year, 1000, {"dist": "gamma", "mean": mean_episode, "sd": 25}, warmup_days=400)
    result = vector.run(scenario, range(2000))
    caseload, se = mean_se(result.total("community.caseload_mean"))
    exact = per_year / 365 * mean_episode
    print(f"\ncaseload {caseload:.3f} +/- {se:.3f}, Little {exact:.3f}")
    assert abs(caseload - exact) <= Z * se, f"caseload {caseload:.3f} +/- {se:.3f}, Little {exact:.3f}"
    waits, _ = mean_se(result.total("community.wait_days_mean"))
    assert waits == 0.0
