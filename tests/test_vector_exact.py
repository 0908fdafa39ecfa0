"""The vector engine is the SimPy model: same random numbers, same events, same measures.

Replication r of both engines draws the same referrals, episodes, patience, bed needs and lengths of stay
(the same named streams, in the same order), so the vector engine must reproduce the SimPy model
replication by replication, up to the rounding of the SimPy clock (it adds each delay to the current
time; about 1e-13 days). These tests hold it to that on small scenarios that queue, overflow,
repatriate, readmit and step down; then check that chunking, the numba kernels and repetition change
nothing (bit for bit), and the counting rules at the horizon's edges by hand arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import community_only, inpatient_only, small_trust

from paysim.activity import Activity, measure_kinds
from paysim.engines import _kernels, des, kernel_sets, vector
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.scenario import load_scenario
from paysim.model.streams import stream

HAS_NUMBA = _kernels.numba_available()
NUMBA_MODES = [False, pytest.param(True, marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed"))]


def assert_same_activity(a, b, rtol: float = 0.0) -> None:
    assert a.measures == b.measures
    for name in a.measures:
        if rtol == 0.0:
            assert np.array_equal(a[name], b[name], equal_nan=True), name
        else:
            np.testing.assert_allclose(a[name], b[name], rtol=rtol, atol=1e-9, equal_nan=True, err_msg=name)


def scaled_default():
    """The default trust at about 1/10 of its volumes, one year after a 60-day warm-up."""
    return load_scenario("scenarios/default.yaml").with_overrides(
        {
            "years": 1,
            "warmup_days": 60,
            "services.talking_therapies.referrals_per_year": 2500,
            "services.talking_therapies.capacity.courses": 510,
            "services.community.referrals_per_year": 1000,
            "services.community.capacity.staff_wte": 20,
            "services.crisis.referrals_per_year": 600,
            "services.crisis.capacity.places": 30,
            "services.inpatient.admissions_per_year": 76,
            "services.inpatient.beds": 20,
        }
    )


SCENARIOS = {
    "scaled-default": scaled_default,
    "small-trust": lambda: small_trust(seed=5, warmup_days=90),
    "ward-repatriation": lambda: inpatient_only(
        12, 400, {"dist": "lognormal", "mean": 10, "sd": 12}, readmission_share=0.2, warmup_days=30
    ),
    "ward-loss": lambda: inpatient_only(8, 300, {"dist": "gamma", "mean": 9, "sd": 5}, repatriate=False),
    "community-queue": lambda: community_only(
        600, 45, {"dist": "exponential", "mean": 30}, patience_days=40, warmup_days=60
    ),
}


EDGE_CASES = {
    "readmit-every-discharge": lambda: inpatient_only(5, 60, {"dist": "exponential", "mean": 8}, readmission_share=1),
    "no-referrals": lambda: small_trust().with_overrides(
        {"services.talking_therapies.referrals_per_year": 0, "services.inpatient.admissions_per_year": 0}
    ),
    "no-places-no-beds": lambda: small_trust().with_overrides(
        {"services.crisis.capacity.places": 0, "services.community.capacity.staff_wte": 0, "services.inpatient.beds": 0}
    ),
    "never-leave-the-list": lambda: community_only(300, 10, {"dist": "fixed", "mean": 12}),
    "crisis-team-full": lambda: small_trust(years=2).with_overrides(
        {"services.crisis.admission_share_when_full": 1.0, "services.crisis.capacity.places": 3}
    ),
}
SCENARIOS.update(EDGE_CASES)


@pytest.mark.parametrize("use_numba", NUMBA_MODES, ids=["numpy", "numba"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_replication_matches_the_simpy_model(name, use_numba):
    scenario = SCENARIOS[name]()
    reps = [0, 7]
    reference = des.run(scenario, reps)
    fast = vector.run(scenario, reps, use_numba=use_numba)
    assert fast.engine == "vector"
    assert list(fast.replications) == reps
    assert_same_activity(reference, fast, rtol=1e-9)


def test_returns_every_measure_with_its_kind():
    scenario = small_trust()
    result = vector.run(scenario, [3, 1], use_numba=False)
    kinds = measure_kinds(scenario.lines(), True)
    assert dict(result.kinds) == kinds
    assert list(result.measures) == list(kinds)
    assert result[next(iter(kinds))].shape == (2, 12)


def test_inpatient_only_and_lines_only_scenarios_have_their_measures():
    ward = inpatient_only(5, 100, {"dist": "exponential", "mean": 10})
    assert set(vector.run(ward, [0]).measures) == set(measure_kinds([], True))
    team = community_only(100, 5, {"dist": "fixed", "mean": 20})
    assert set(vector.run(team, [0]).measures) == set(measure_kinds(["community"], False))


@pytest.mark.parametrize("use_numba", NUMBA_MODES, ids=["numpy", "numba"])
def test_chunking_changes_nothing(use_numba):
    scenario = scaled_default()
    whole = vector.run(scenario, range(10), use_numba=use_numba)
    halves = [vector.run(scenario, reps, use_numba=use_numba) for reps in (range(0, 5), range(5, 10))]
    assert_same_activity(whole, Activity.concat(halves))
    assert_same_activity(whole, vector.run(scenario, range(10), use_numba=use_numba, chunk_size=3))
    again = vector.run(scenario, range(10), use_numba=use_numba)
    assert_same_activity(whole, again)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_numba_and_numpy_give_identical_results():
    scenario = scaled_default()
    reference = vector.run(scenario, range(6), use_numba=False)
    assert_same_activity(reference, vector.run(scenario, range(6), use_numba=True))


@pytest.mark.parametrize("use_numba", NUMBA_MODES)
def test_one_and_two_threads_give_identical_results(monkeypatch, use_numba):
    """Threads split replications (numba prange, per-replication draws); no result may change."""
    scenario = scaled_default()
    reps = list(range(40))
    runs = {}
    for n in ("1", "2"):
        monkeypatch.setenv("PAYSIM_THREADS", n)
        assert _kernels.threads() == int(n)
        runs[n] = vector.run(scenario, reps, use_numba=use_numba)
    assert_same_activity(runs["1"], runs["2"])
    _kernels.set_threads(2)
    try:
        assert_same_activity(runs["1"], vector.run(scenario, reps, use_numba=use_numba, chunk_size=24))
    finally:
        _kernels.set_threads(None)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_stays_kernel_threads_and_grown_pending_list():
    """The threaded bed-request kernel: readmissions that outgrow the pending list, and running short."""
    rng = np.random.default_rng(3)
    rows, bases, draws = 6, 40, 400
    base_t = np.sort(rng.uniform(0, 50, (rows, bases)), axis=1)
    base_los = rng.uniform(5, 30, (rows, bases))
    args = [rng.random((rows, draws)), rng.random((rows, draws)), rng.uniform(5, 30, (rows, draws))]
    numba_kernels = kernel_sets.kernels(True)
    for need in (draws, 45):
        expected = _kernels.NumpyKernels.stays(base_t, base_los, *[a[:, :need] for a in args], 0.9, 2.0, 200.0)
        for n in (1, 2):
            _kernels.set_threads(n)
            try:
                got = numba_kernels.stays(base_t, base_los, *[a[:, :need] for a in args], 0.9, 2.0, 200.0)
            finally:
                _kernels.set_threads(None)
            assert got[3] == expected[3] == (need == draws)
            for a, b in zip(got[:3], expected[:3], strict=True):
                assert np.array_equal(a, b)


def test_environment_switch_turns_numba_off(monkeypatch):
    monkeypatch.setenv("PAYSIM_NUMBA", "0")
    assert kernel_sets.kernels(None).name == "numpy"
    assert kernel_sets.kernels(False).name == "numpy"
    if HAS_NUMBA:
        monkeypatch.setenv("PAYSIM_NUMBA", "1")
        assert kernel_sets.kernels(None).name == "numba"


def test_more_beds_reuse_the_same_requests():
    # common random numbers: a variant with more beds sees the same bed requests and stays
    base = small_trust(seed=11)
    more = base.with_overrides({"services.inpatient.beds": 14})
    a = vector.run(base, range(5))
    b = vector.run(more, range(5))
    np.testing.assert_array_equal(a.total("inpatient.bed_requests"), b.total("inpatient.bed_requests"))
    assert (b.total("inpatient.oap_bed_days") <= a.total("inpatient.oap_bed_days") + 1e-9).all()


# --- counting rules by hand -----------------------------------------------------------------------------


def hand_bed_days(times: np.ndarray, los: float, edges: np.ndarray) -> np.ndarray:
    """Bed days of stays [t, t + los) inside each month, by plain overlap arithmetic."""
    start, end = times[:, None], times[:, None] + los
    return np.clip(np.minimum(end, edges[1:]) - np.maximum(start, edges[:-1]), 0, None).sum(axis=0)


@pytest.mark.parametrize("use_numba", NUMBA_MODES, ids=["numpy", "numba"])
@pytest.mark.parametrize("beds", [100, 0], ids=["all-local", "all-out-of-area"])
def test_bed_days_across_the_horizon_edges_by_hand(beds, use_numba):
    # fixed 50-day stays, a few a month, a 40-day warm-up: stays that start in the warm-up or run past the
    # end count only their days inside the year; admissions count only inside it
    scenario = inpatient_only(beds, 40, {"dist": "fixed", "mean": 50}, warmup_days=40, seed=4)
    result = vector.run(scenario, [2], use_numba=use_numba)
    curve = DemandCurve.for_line(scenario.services.inpatient, scenario.start_month)
    times = curve.arrivals(stream(scenario.seed, 2, "inpatient.arrivals"), -40, 365)
    edges = month_edges(scenario.start_month, 12)
    assert (times < 0).any() and (times + 50 > 365).any()  # the case the test is about
    days = hand_bed_days(times, 50.0, edges)
    inside = (times >= 0) & (times < 365)
    local, away = ("local", "oap") if beds else ("oap", "local")
    np.testing.assert_allclose(result[f"inpatient.{local}_bed_days"][0], days, atol=1e-6)
    np.testing.assert_allclose(result[f"inpatient.{away}_bed_days"][0], 0.0)
    assert result.total(f"inpatient.{local}_admissions")[0] == inside.sum()
    assert result.total("inpatient.bed_requests")[0] == inside.sum()
    discharged = ((times + 50 >= 0) & (times + 50 < 365)).sum()
    assert result.total("inpatient.discharges")[0] == discharged
    in_bed_at_end = ((times <= 365) & (times + 50 > 365)).sum()
    assert result[f"inpatient.{local}_end"][0, -1] == in_bed_at_end
    if beds:
        np.testing.assert_allclose(result["inpatient.occupancy_mean"][0], days / (beds * np.diff(edges)))
    else:
        assert np.isnan(result["inpatient.occupancy_mean"]).all()


def test_waits_and_list_by_hand():
    # one place, fixed 10-day episodes, nobody leaves the list: person k starts when person k-1 ends
    scenario = community_only(40, 1, {"dist": "fixed", "mean": 10}, seed=9)
    result = vector.run(scenario, [0], use_numba=False)
    curve = DemandCurve.for_line(scenario.services.community, scenario.start_month)
    times = curve.arrivals(stream(scenario.seed, 0, "community.arrivals"), 0, 365)
    starts = np.empty_like(times)
    free = -np.inf
    for k, t in enumerate(times):
        starts[k] = max(t, free)
        free = starts[k] + 10.0
    started = starts < 365
    assert result.total("community.started")[0] == started.sum()
    np.testing.assert_allclose(result.total("community.wait_days_mean")[0], (starts - times)[started].mean())
    assert result.total("community.started_within_standard")[0] == ((starts - times <= 28) & started).sum()
    assert result.total("community.waiting_end")[0] == (starts > 365).sum()
    assert result.total("community.completed")[0] == (starts + 10 < 365).sum()
