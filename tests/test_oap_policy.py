"""Out-of-area placements as they happen: a local wait for a bed, and repatriation as a policy.

The policy (``services.inpatient.oap``): a bed request that finds no free bed waits locally up to
``wait_days``, then is placed out of area; placed patients come back only after ``repatriate_after_days`` and
only while ``repatriate_keep_free`` of the beds stay free, patients waiting locally first. Checked by hand on
the SimPy ward and on the vector engine's row kernel with the same requests; the two engines then agree
replication by replication on scenarios that use every key, and the bookkeeping balances.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from builders import inpatient_only, small_trust

from paysim.activity import OAP_LENGTH_BANDS
from paysim.engines import _kernels, des, kernel_sets, vector
from paysim.engines._ward import ward_row
from paysim.engines.reuse import LineCache
from paysim.model.scenario import OutOfArea, ScenarioError, scenario_from_dict

HAS_NUMBA = _kernels.numba_available()
NUMBA_MODES = [False, pytest.param(True, marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed"))]

INF = np.inf


# --- the policy by hand ---------------------------------------------------------------------------------

# One bed, a 2-day local wait, repatriation after 5 days out:
#   A  t=0  ends 10: the bed is free: local from 0.
#   B  t=1  ends 20: waits; still waiting at 3: placed out at 3 (eligible to come back from 8).
#   C  t=4  ends 5:  waits; its stay ends at 5, before its wait runs out at 6: never placed.
#   D  t=9  ends 30: waits; A leaves at 10 and D, waiting locally, takes the bed before B (eligible) comes back.
#   E  t=11 ends 40: waits; placed out at 13.
#   B's placement ends with its stay at 20 (17 days). D leaves at 30: nobody waits, E is eligible (18): back at 30.
ONE_BED = {
    "beds": 1,
    "oap": OutOfArea(wait_days=2, repatriate_after_days=5),
    "requests": [(0, 10), (1, 20), (4, 5), (9, 30), (11, 40)],
    "admit": [0, INF, INF, 10, INF],
    "placed": [INF, 3, INF, INF, 13],
    "back": [INF, INF, INF, INF, 30],
    "ended_waiting": [5],
    "oap_ended": [(20, 17), (30, 17)],
}

# Two beds, half kept free for new requests (one bed): a patient comes back only when both are free.
#   A t=0 ends 10, B t=1 ends 12: local. C t=2 ends 50: no wait, placed at once.
#   A leaves at 10: one bed free, which is the reserve: C stays out. B leaves at 12: C comes back.
RESERVE = {
    "beds": 2,
    "oap": OutOfArea(repatriate_keep_free=0.5),
    "requests": [(0, 10), (1, 12), (2, 50)],
    "admit": [0, 1, INF],
    "placed": [INF, INF, 2],
    "back": [INF, INF, 12],
    "ended_waiting": [],
    "oap_ended": [(12, 10)],
}

# No repatriation, no wait (Erlang's loss system): C is placed at once and stays out until its stay ends.
LOSS = {
    "beds": 2,
    "oap": OutOfArea(repatriate=False),
    "requests": [(0, 10), (1, 12), (2, 50), (11, 13)],
    "admit": [0, 1, INF, 11],
    "placed": [INF, INF, 2, INF],
    "back": [INF, INF, INF, INF],
    "ended_waiting": [],
    "oap_ended": [(50, 48)],
}

CASES = {"one-bed": ONE_BED, "reserve": RESERVE, "loss": LOSS}


def run_row(case):
    time = np.array([t for t, _ in case["requests"]], dtype=float)
    discharge = np.array([f for _, f in case["requests"]], dtype=float)
    oap: OutOfArea = case["oap"]
    admit, placed, back = (np.full(time.size, INF) for _ in range(3))
    heap, lq, oq = np.empty(case["beds"] + 1), np.empty(time.size, np.int64), np.empty(time.size, np.int64)
    ward_row(
        time, discharge, case["beds"], oap.wait_days, oap.repatriate, oap.repatriate_after_days,
        oap.reserved_beds(case["beds"]), 100.0, heap, lq, oq, admit, placed, back,
    )  # fmt: skip
    return admit, placed, back


def run_simpy_ward(case) -> des.Ward:
    env = simpy.Environment()
    ward = des.Ward(env, case["beds"], case["oap"])

    def stay(t: float, f: float):
        yield env.timeout(t)
        patient = des.Patient(f)
        ward.request(patient)
        yield env.timeout(f - t)
        ward.discharge(patient)

    for t, f in case["requests"]:
        env.process(stay(t, f))
    env.run(until=100)
    return ward


@pytest.mark.parametrize("name", list(CASES))
def test_row_kernel_places_by_hand(name):
    case = CASES[name]
    admit, placed, back = run_row(case)
    assert list(admit) == case["admit"]
    assert list(placed) == case["placed"]
    assert list(back) == case["back"]


@pytest.mark.parametrize("name", list(CASES))
def test_simpy_ward_places_by_hand(name):
    case = CASES[name]
    ward = run_simpy_ward(case)
    assert ward.local_admissions.times == [a for a in case["admit"] if a < INF]
    assert ward.oap_admissions.times == [p for p in case["placed"] if p < INF]
    assert ward.repatriations.times == [b for b in case["back"] if b < INF]
    assert ward.ended_waiting.times == case["ended_waiting"]
    assert list(zip(ward.oap_ended.times, ward.oap_ended.values, strict=True)) == case["oap_ended"]
    assert ward.local.value == ward.oap.value == ward.waiting.value == 0


@pytest.mark.parametrize("use_numba", NUMBA_MODES, ids=["numpy", "numba"])
def test_tallies_by_hand(use_numba):
    """The one-bed case through the vector engine's kernels, tallied over three "months" of 12, 13 and 15 days."""
    case = ONE_BED
    kern = kernel_sets.kernels(use_numba)
    time = np.array([[t for t, _ in case["requests"]]], dtype=float)
    discharge = np.array([[f for _, f in case["requests"]]], dtype=float)
    oap = case["oap"]
    admit, placed, back = kern.ward(time, discharge, 1, oap.wait_days, True, oap.repatriate_after_days, 0, 100.0)
    assert list(placed[0]) == case["placed"]
    edges = np.array([0.0, 12.0, 25.0, 40.0])
    readm = np.zeros(time.shape, dtype=bool)
    got = {k: v[0] for k, v in kern.tally_ward(edges, time, admit, placed, back, discharge, readm).items()}
    ticks = _kernels.TICKS_PER_DAY
    assert list(got["bed_requests"]) == [5, 0, 0]
    assert list(got["local_admissions"]) == [2, 0, 0]  # A at 0, D at 10
    assert list(got["oap_admissions"]) == [1, 1, 0]  # B at 3, E at 13 falls in [12, 25)
    assert list(got["repatriations"]) == [0, 0, 1]  # E at 30
    assert list(got["ended_waiting"]) == [1, 0, 0]  # C at 5
    assert list(got["oap_ended"]) == [0, 1, 1]  # B at 20, E at 30
    assert list(got["oap_ended_15_30"]) == [0, 1, 1]
    assert sum(got[band].sum() for band in OAP_LENGTH_BANDS) == 2
    # local: A [0, 10), D [10, 30), E [30, 40); out of area: B [3, 20), E [13, 30); waiting: B [1, 3), C [4, 5),
    # D [9, 10), E [11, 13)
    assert list(got["local_bed_ticks"] / ticks) == [12, 13, 15]
    assert list(got["oap_bed_ticks"] / ticks) == [9, 8 + 12, 5]
    assert list(got["bed_wait_ticks"] / ticks) == [2 + 1 + 1 + 1, 1, 0]
    assert list(got["local_end"]) == [1, 1, 0]  # D at 12 and 25; nobody at 40 (E leaves then)
    assert list(got["oap_end"]) == [1, 1, 0]  # B at 12 (E is placed at 13); E at 25 (B's stay ended at 20)
    assert list(got["waiting_end"]) == [1, 0, 0]  # E waits from 11 to 13


# --- the two engines, replication by replication ---------------------------------------------------------


def ward_with(policy: dict, repatriate: bool = True, **kw):
    base = inpatient_only(
        12, 450, {"dist": "lognormal", "mean": 10, "sd": 12}, readmission_share=0.2, warmup_days=30,
        repatriate=repatriate, **kw,
    )  # fmt: skip
    return base.with_overrides({f"services.inpatient.oap.{k}": v for k, v in policy.items()})


SCENARIOS = {
    "wait-then-place": lambda: ward_with({"wait_days": 1.5}, repatriate=False),
    "wait-and-repatriate-after": lambda: ward_with(
        {"wait_days": 1.0, "repatriate_after_days": 4.0, "repatriate_keep_free": 0.1}
    ),
    "keep-a-third-free": lambda: ward_with({"repatriate_keep_free": 0.34}),
    "long-wait": lambda: ward_with({"wait_days": 30.0, "repatriate_after_days": 2.0}),
    "trust-with-policy": lambda: small_trust(seed=8, years=2, warmup_days=60).with_overrides(
        {
            "services.inpatient.oap.wait_days": 0.5,
            "services.inpatient.oap.repatriate_after_days": 7,
            "services.inpatient.oap.repatriate_keep_free": 0.2,
            "services.inpatient.beds": 8,
        }
    ),
    # every key the fidelity work added to the services, at once: the placement policy, assessment, dropout,
    # recovery, first appointments and capacity growing by year (on the lines that have them)
    "every-new-key": lambda: small_trust(seed=9, years=2, warmup_days=400).with_overrides(
        {
            "services.inpatient.oap.wait_days": 1.0,
            "services.inpatient.oap.repatriate_after_days": 10,
            "services.inpatient.oap.repatriate_keep_free": 0.1,
            "services.inpatient.beds": 9,
            "services.talking_therapies.treated_share": 0.67,
            "services.talking_therapies.dropout_share": 0.45,
            "services.talking_therapies.recovery_share": 0.484,
            "services.talking_therapies.first_appointment_days": {"dist": "lognormal", "mean": 18, "sd": 36},
            "services.talking_therapies.capacity.growth": 0.1,
            "services.community.treated_share": 0.8,
            "services.community.dropout_share": 0.2,
            "services.community.first_appointment_days": {"dist": "gamma", "mean": 14, "sd": 10},
            "services.community.capacity.growth": 0.2,
        }
    ),
}


@pytest.mark.parametrize("use_numba", NUMBA_MODES, ids=["numpy", "numba"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_replication_matches_the_simpy_model(name, use_numba):
    scenario = SCENARIOS[name]()
    reps = [0, 3]
    reference = des.run(scenario, reps)
    fast = vector.run(scenario, reps, use_numba=use_numba)
    assert reference.measures == fast.measures
    for measure in reference.measures:
        np.testing.assert_allclose(reference[measure], fast[measure], rtol=1e-9, atol=1e-9, err_msg=measure)
    placed_or_ended = fast.total("inpatient.oap_admissions") + fast.total("inpatient.ended_waiting")
    assert placed_or_ended.sum() > 0  # the policy is exercised
    if "repatriate_after" in name or name in ("trust-with-policy", "every-new-key"):
        assert fast.total("inpatient.repatriations").sum() > 0


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_numba_and_numpy_kernels_agree_bit_for_bit(name):
    scenario = SCENARIOS[name]()
    a = vector.run(scenario, range(5), use_numba=False)
    b = vector.run(scenario, range(5), use_numba=True)
    for measure in a.measures:
        assert np.array_equal(a[measure], b[measure], equal_nan=True), measure


@pytest.mark.parametrize("use_numba", NUMBA_MODES, ids=["numpy", "numba"])
def test_bookkeeping_balances(use_numba):
    """With no warm-up every stock starts empty, so flows and stocks balance exactly over the horizon."""
    scenario = ward_with({"wait_days": 1.0, "repatriate_after_days": 4.0, "repatriate_keep_free": 0.1})
    scenario = scenario.with_overrides({"warmup_days": 0})
    a = vector.run(scenario, range(4), use_numba=use_numba)
    total = {name: a.total(name) for name in a.measures}
    np.testing.assert_array_equal(
        total["inpatient.bed_requests"],
        total["inpatient.local_admissions"] + total["inpatient.oap_admissions"] + total["inpatient.ended_waiting"]
        + total["inpatient.waiting_end"],
    )  # fmt: skip
    np.testing.assert_array_equal(
        total["inpatient.oap_admissions"], total["inpatient.oap_ended"] + total["inpatient.oap_end"]
    )
    np.testing.assert_array_equal(
        total["inpatient.oap_ended"], sum(total[f"inpatient.{band}"] for band in OAP_LENGTH_BANDS)
    )
    ended_out = total["inpatient.oap_ended"] - total["inpatient.repatriations"]  # placements ended by discharge
    local_discharges = (
        total["inpatient.local_admissions"] + total["inpatient.repatriations"] - total["inpatient.local_end"]
    )
    np.testing.assert_array_equal(
        total["inpatient.discharges"], local_discharges + ended_out + total["inpatient.ended_waiting"]
    )
    assert (total["inpatient.bed_wait_days"] > 0).all()


def test_a_longer_minimum_out_of_area_means_longer_placements():
    """Same requests (common random numbers); a later return lengthens placements and cuts repatriations."""
    reps = range(20)
    runs = {after: vector.run(ward_with({"repatriate_after_days": after}), reps) for after in (0.0, 7.0, 1000.0)}
    mean_length = {
        after: a.total("inpatient.oap_bed_days").sum() / a.total("inpatient.oap_ended").sum()
        for after, a in runs.items()
    }
    assert mean_length[0.0] < mean_length[7.0] < mean_length[1000.0]
    assert runs[1000.0].total("inpatient.repatriations").sum() == 0
    never = vector.run(ward_with({}, repatriate=False), reps)
    np.testing.assert_allclose(runs[1000.0].total("inpatient.oap_bed_days"), never.total("inpatient.oap_bed_days"))


def test_keeping_every_bed_free_means_nobody_comes_back():
    a = vector.run(ward_with({"repatriate_keep_free": 1.0}), range(5))
    assert a.total("inpatient.repatriations").sum() == 0
    assert a.total("inpatient.oap_admissions").sum() > 0


def test_a_local_wait_places_fewer_patients_out_of_area():
    reps = range(20)
    at_once = vector.run(ward_with({}, repatriate=False), reps)
    waited = vector.run(ward_with({"wait_days": 2.0}, repatriate=False), reps)
    assert waited.total("inpatient.oap_admissions").sum() < at_once.total("inpatient.oap_admissions").sum()
    assert (waited.total("inpatient.bed_requests") == at_once.total("inpatient.bed_requests")).all()
    assert at_once.total("inpatient.bed_wait_days").sum() == 0


def test_a_placement_policy_change_reruns_only_the_wards_queue():
    scenario = small_trust(seed=2)
    cache = LineCache()
    vector.run(scenario, range(4), reuse=cache)
    changed = scenario.with_overrides({"services.inpatient.oap.wait_days": 1.0})
    hits = cache.hits
    got = vector.run(changed, range(4), reuse=cache)
    assert cache.hits - hits == 4  # talking therapies, crisis, community tallies and the ward's requests
    fresh = vector.run(changed, range(4))
    for measure in fresh.measures:
        assert np.array_equal(fresh[measure], got[measure], equal_nan=True), measure


# --- bad values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("wait_days", -1, "services.inpatient.oap.wait_days: must be >= 0"),
        ("repatriate_after_days", -0.5, "services.inpatient.oap.repatriate_after_days: must be >= 0"),
        ("repatriate_keep_free", 1.5, "services.inpatient.oap.repatriate_keep_free: must be <= 1"),
        ("wait_day", 1, "services.inpatient.oap.wait_day: unknown key; did you mean 'wait_days'?"),
    ],
)
def test_bad_policy_values_name_the_key(key, value, message):
    data = inpatient_only(5, 100, {"dist": "exponential", "mean": 10}).model_dump(mode="json", exclude_none=True)
    data["services"]["inpatient"]["oap"][key] = value
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, "test.yaml")
    assert message in str(err.value)


def test_reserved_beds_round_up():
    assert OutOfArea(repatriate_keep_free=0.05).reserved_beds(118) == 6
    assert OutOfArea(repatriate_keep_free=0.0).reserved_beds(118) == 0
    assert OutOfArea(repatriate_keep_free=0.5).reserved_beds(2) == 1
