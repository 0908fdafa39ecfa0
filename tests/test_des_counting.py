"""The SimPy model's bookkeeping: counting rules at the horizon's edges, conservation, reproducibility.

The counting-rule tests rebuild the arrivals from the same random stream the model uses and compute the
expected monthly figures by hand (fixed lengths of stay, so nothing else is random).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from builders import community_only, inpatient_only, small_trust

from paysim.engines import des
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.streams import stream


def arrivals_of(scenario, line_name: str, replication: int) -> np.ndarray:
    line = getattr(scenario.services, line_name)
    curve = DemandCurve.for_line(line, scenario.start_month)
    return curve.arrivals(
        stream(scenario.seed, replication, f"{line_name}.arrivals"), -scenario.warmup_days, scenario.horizon_days
    )


def overlap(start: np.ndarray, end: np.ndarray, a: float, b: float) -> float:
    """Total length of the intervals [start, end) inside [a, b)."""
    return float(np.clip(np.minimum(end, b) - np.maximum(start, a), 0, None).sum())


def test_bed_days_count_only_days_inside_the_horizon():
    # Ample beds, a fixed 45-day stay, 60 days of warm-up: stays that began in the warm-up count only
    # their days after day 0, stays that run past day 365 only their days before it.
    scenario = inpatient_only(200, 300, {"dist": "fixed", "mean": 45}, warmup_days=60)
    row = des.simulate(scenario, 0)
    t = arrivals_of(scenario, "inpatient", 0)
    edges = month_edges(scenario.start_month, scenario.months)
    expected_days = [overlap(t, t + 45, a, b) for a, b in itertools.pairwise(edges)]
    np.testing.assert_allclose(row["inpatient.local_bed_days"], expected_days, rtol=1e-9, atol=1e-6)
    assert row["inpatient.oap_bed_days"].sum() == 0
    # admissions count in their month; those in the warm-up not at all
    np.testing.assert_array_equal(row["inpatient.bed_requests"], np.histogram(t, edges)[0])
    np.testing.assert_array_equal(row["inpatient.discharges"], np.histogram(t + 45, edges)[0])
    # still in a bed at the end: admitted before day 365, due out after it
    horizon = scenario.horizon_days
    assert row["inpatient.local_end"][-1] == np.sum((t < horizon) & (t + 45 > horizon))
    assert row["inpatient.occupancy_mean"] == pytest.approx(row["inpatient.local_bed_days"] / (200 * np.diff(edges)))
    # a stay spanning the end really exists in this draw, and so does one from the warm-up
    assert np.any((t < horizon) & (t + 45 > horizon)) and np.any((t < 0) & (t + 45 > 0))


def test_waits_are_counted_in_the_month_treatment_starts():
    # One place, fixed 20-day episodes: FIFO start times follow start_k = max(arrival_k, start_(k-1) + 20).
    # About 1.5 referrals a month for 20-day episodes overloads the place, so waits grow and some are
    # still open at the end.
    scenario = community_only(24, 1, {"dist": "fixed", "mean": 20}, warmup_days=90, years=2)
    row = des.simulate(scenario, 0)
    t = arrivals_of(scenario, "community", 0)
    starts = np.empty_like(t)
    free_at = -np.inf
    for k, arrival in enumerate(t):
        starts[k] = max(arrival, free_at)
        free_at = starts[k] + 20
    edges = month_edges(scenario.start_month, scenario.months)
    horizon = scenario.horizon_days
    started = (starts >= 0) & (starts < horizon)
    month = np.searchsorted(edges, starts[started], side="right") - 1
    waits = (starts - t)[started]
    np.testing.assert_array_equal(row["community.started"], np.bincount(month, minlength=scenario.months))
    wait_sum = np.bincount(month, weights=waits, minlength=scenario.months)
    with np.errstate(invalid="ignore"):
        expected_mean = np.where(row["community.started"] > 0, wait_sum / row["community.started"], np.nan)
    np.testing.assert_allclose(row["community.wait_days_mean"], expected_mean, rtol=1e-9, equal_nan=True)
    # still waiting at the end: referred before the end, not started by then (not in the mean)
    assert row["community.waiting_end"][-1] == np.sum((t < horizon) & (starts >= horizon)) > 0
    np.testing.assert_array_equal(
        row["community.started_within_standard"],
        np.bincount(month, weights=(waits <= 28).astype(float), minlength=scenario.months),
    )


def test_conservation_of_patients():
    # Without warm-up, everyone who arrived in the horizon is somewhere at its end.
    activity = des.run(small_trust(), range(3))
    total = activity.total
    requests = total("inpatient.bed_requests")
    np.testing.assert_array_equal(requests, total("inpatient.local_admissions") + total("inpatient.oap_admissions"))
    np.testing.assert_array_equal(
        requests, total("inpatient.discharges") + total("inpatient.local_end") + total("inpatient.oap_end")
    )
    assert np.all(total("inpatient.repatriations") <= total("inpatient.oap_admissions"))
    for line in ("talking_therapies", "community", "crisis"):
        sent_to_bed = total("crisis.admissions") if line == "crisis" else 0
        np.testing.assert_array_equal(
            total(f"{line}.referrals"),
            total(f"{line}.started") + total(f"{line}.waiting_end") + total(f"{line}.withdrawn") + sent_to_bed,
            err_msg=line,
        )
        np.testing.assert_array_equal(
            total(f"{line}.started"), total(f"{line}.completed") + total(f"{line}.in_treatment_end"), err_msg=line
        )
    # every discharge is referred on to the community team
    np.testing.assert_array_equal(total("community.stepdowns"), total("inpatient.discharges"))
    # every request is direct, from crisis, or a readmission; the scenario is busy enough to test all three
    assert np.all(total("crisis.admissions") > 0) and np.all(total("inpatient.readmissions") > 0)
    assert np.all(total("inpatient.oap_admissions") > 0) and np.all(total("talking_therapies.withdrawn") > 0)


def test_same_seed_same_results_and_different_seed_different():
    scenario = small_trust()
    first, again = des.run(scenario, [0, 1]), des.run(scenario, [0, 1])
    for name in first.measures:
        np.testing.assert_array_equal(first[name], again[name], err_msg=name)
    other = des.run(scenario.with_overrides({"seed": 4}), [0, 1])
    assert not np.array_equal(first["talking_therapies.referrals"], other["talking_therapies.referrals"])
    # replication 1 alone is replication 1 of the pair: no dependence on what else runs
    alone = des.run(scenario, [1])
    for name in first.measures:
        np.testing.assert_array_equal(first[name][1], alone[name][0], err_msg=name)


def test_more_beds_sees_the_same_demand():
    # Common random numbers: changing beds changes where patients go, not who arrives or how long they stay.
    base = small_trust()
    more = base.with_overrides({"services.inpatient.beds": 14})
    a, b = des.run(base, [0, 1]), des.run(more, [0, 1])
    for name in (
        "inpatient.bed_requests",
        "inpatient.readmissions",
        "inpatient.discharges",
        "crisis.admissions",
        "talking_therapies.referrals",
        "community.referrals",
        "crisis.referrals",
    ):
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert np.all(b.total("inpatient.oap_bed_days") < a.total("inpatient.oap_bed_days"))


def test_zero_capacity_teams_only_wait_or_withdraw():
    scenario = community_only(100, 0, {"dist": "fixed", "mean": 10}, patience_days=30)
    row = des.simulate(scenario, 0)
    assert row["community.started"].sum() == 0
    assert row["community.referrals"].sum() == row["community.withdrawn"].sum() + row["community.waiting_end"][-1]
    beds = inpatient_only(0, 50, {"dist": "fixed", "mean": 5})
    ward = des.simulate(beds, 0)
    assert ward["inpatient.local_admissions"].sum() == 0
    assert ward["inpatient.oap_admissions"].sum() == ward["inpatient.bed_requests"].sum() > 0
    assert np.all(np.isnan(ward["inpatient.occupancy_mean"]))
