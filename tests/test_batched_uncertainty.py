"""A chunk whose rows have their own scenarios (a parameter-uncertainty run simulated in one batch).

The vector engine takes ``scenarios`` (row *i*'s scenario) and must give each row exactly what that row gives run
alone with its own scenario, with either kernel set, whatever rows share its chunk; the PSA runner simulates its
chunks that way, so an uncertain run is the same for any chunk size or number of workers, and the same as each
replication simulated alone (as the runner did before).
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import small_trust

from paysim.activity import Activity
from paysim.engines import _kernels, vector
from paysim.engines.reuse import LineCache
from paysim.model import uncertainty
from paysim.model.scenario import load_scenario, scenario_from_dict
from paysim.runs import psa

HAS_NUMBA = _kernels.numba_available()
KERNEL_SETS = [False, pytest.param(True, marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed"))]

BASE = small_trust(seed=5, years=2, warmup_days=45)
ROWS = {  # each row's changes from BASE: every figure the engine reads per row, some rows at the extremes
    "as the base": {},
    "more beds, shorter and less spread stays": {
        "services.inpatient.beds": 14,
        "services.inpatient.los_days": {"dist": "lognormal", "mean": 20, "sd": 12},
    },
    "a small crisis team that gatekeeps more": {
        "services.crisis.capacity.places": 2,
        "services.crisis.admission_share": 0.3,
        "services.crisis.admission_share_when_full": 0.9,
        "services.crisis.standard_days": 0.5,
    },
    "community growing, fewer staff, more readmissions": {
        "services.community.growth": 0.25,
        "services.community.capacity.staff_wte": 3,
        "services.community.capacity.growth": 0.5,
        "services.inpatient.readmission_share": 0.35,
        "services.inpatient.readmission_window_days": 10,
    },
    "seasonal talking therapies, no repatriation": {
        "services.talking_therapies.referrals_per_year": 1600,
        "services.talking_therapies.seasonality": {"amplitude": 0.4, "peak_month": 7},
        "services.talking_therapies.long_standard_days": 60,
        "services.inpatient.oap.repatriate": False,
    },
    "referral outcomes and a first appointment in community": {
        "services.community.treated_share": 0.7,
        "services.community.dropout_share": 0.3,
        "services.community.first_appointment_days": {"dist": "gamma", "mean": 9, "sd": 6},
        "services.talking_therapies.recovery_share": 0.5,
    },
    "a local wait, a delayed and reserved repatriation": {
        "services.inpatient.oap.wait_days": 2,
        "services.inpatient.oap.repatriate_after_days": 5,
        "services.inpatient.oap.repatriate_keep_free": 0.2,
        "services.crisis.growth": 0.3,
    },
    "no beds, no community places, nobody leaves the list": {
        "services.inpatient.beds": 0,
        "services.community.capacity.staff_wte": 0,
        "services.community.patience_days": None,
        "services.inpatient.admissions_per_year": 70,
    },
}


def row_scenarios():
    return [BASE.with_overrides(changes) for changes in ROWS.values()]


def assert_rows_identical(together: Activity, rows: list[Activity]) -> None:
    """Row ``i`` of ``together`` is bit for bit the one row of ``rows[i]``."""
    assert together.n_replications == len(rows)
    for i, alone in enumerate(rows):
        assert alone.measures == together.measures
        for name in alone.measures:
            assert np.array_equal(together[name][i], alone[name][0], equal_nan=True), (list(ROWS)[i], name)


@pytest.mark.parametrize("use_numba", KERNEL_SETS)
def test_each_row_of_a_chunk_is_its_own_scenario_run_alone(use_numba):
    scenarios = row_scenarios()
    reps = [3, 17, 4, 40, 11, 8, 25, 0]
    together = vector.run(BASE, reps, use_numba=use_numba, scenarios=scenarios)
    alone = [vector.run(s, [r], use_numba=use_numba) for s, r in zip(scenarios, reps, strict=True)]
    assert_rows_identical(together, alone)
    # the rows differ where their scenarios do (the test sees the per-row figures at work)
    totals = {name: together[name].sum(axis=1) for name in ("inpatient.oap_bed_days", "community.started")}
    assert totals["inpatient.oap_bed_days"][7] > totals["inpatient.oap_bed_days"][1]  # no beds vs more beds
    assert totals["community.started"][7] == 0  # no community places
    assert together["community.assessed_only"][5].sum() > 0 == together["community.assessed_only"][0].sum()
    assert np.isnan(together["inpatient.occupancy_mean"][7]).all()
    assert np.isfinite(together["inpatient.occupancy_mean"][:7]).all()


@pytest.mark.parametrize("use_numba", KERNEL_SETS)
def test_with_a_steady_start_each_row_starts_from_its_own_scenario(use_numba):
    """The people held at the start (paysim.engines.initial) depend on each row's demand, stays and places."""
    steady = BASE.with_overrides({"initial_state": "steady"})
    scenarios = [steady.with_overrides(changes) for changes in ROWS.values()]
    reps = [3, 17, 4, 40, 11, 8, 25, 0]
    together = vector.run(steady, reps, use_numba=use_numba, scenarios=scenarios)
    alone = [vector.run(s, [r], use_numba=use_numba) for s, r in zip(scenarios, reps, strict=True)]
    assert_rows_identical(together, alone)
    with pytest.raises(ValueError, match=r"scenarios\[0\]: initial_state is 'empty'"):
        vector.run(steady, [0], scenarios=[BASE])


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_the_kernel_sets_agree_bit_for_bit_on_per_row_scenarios_in_chunks_of_any_size():
    scenarios = row_scenarios()
    reps = list(range(len(scenarios)))
    numpy = vector.run(BASE, reps, use_numba=False, scenarios=scenarios)
    for chunk_size in (3, None):
        numba = vector.run(BASE, reps, use_numba=True, scenarios=scenarios, chunk_size=chunk_size)
        for name in numpy.measures:
            assert np.array_equal(numpy[name], numba[name], equal_nan=True), (chunk_size, name)


def test_rows_sharing_the_run_scenario_give_the_central_run():
    reps = range(6)
    central = vector.run(BASE, reps, use_numba=False)
    shared = vector.run(BASE, reps, use_numba=False, scenarios=[BASE.with_overrides({})] * 6)
    for name in central.measures:
        assert np.array_equal(central[name], shared[name], equal_nan=True), name


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"years": 3}, "scenarios[1]: years is 3, but the run's is 2"),
        ({"warmup_days": 30}, "scenarios[1]: warmup_days is 30, but the run's is 45"),
        ({"seed": 6}, "scenarios[1]: seed is 6"),
        ({"start_month": 1}, "scenarios[1]: start_month is 1"),
    ],
)
def test_rows_whose_clock_differs_from_the_run_are_refused(changes, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        vector.run(BASE, [0, 1], scenarios=[BASE, BASE.with_overrides(changes)])


def test_rows_whose_lines_differ_from_the_run_are_refused():
    data = BASE.model_dump(mode="json", exclude_none=True)
    del data["services"]["talking_therapies"]
    fewer = scenario_from_dict(data)
    with pytest.raises(ValueError, match=r"scenarios\[0\]: its service lines \(community, crisis, inpatient\)"):
        vector.run(BASE, [0], scenarios=[fewer])


def test_one_scenario_per_row_and_no_line_cache():
    with pytest.raises(ValueError, match="scenarios: 1 scenarios for 2 replications"):
        vector.run(BASE, [0, 1], scenarios=[BASE])
    with pytest.raises(ValueError, match="reuse: a LineCache"):
        vector.run(BASE, [0], scenarios=[BASE], reuse=LineCache())


# --- the PSA runner ------------------------------------------------------------------------------------


def uncertain_trust():
    """The small trust under the default's contracts, with uncertain keys the engine reads per row."""
    default = load_scenario("scenarios/default.yaml").model_dump(mode="json", exclude_none=True)
    services = small_trust(seed=9).model_dump(mode="json", exclude_none=True)["services"]
    block = {
        "parameters": {
            "services.inpatient.los_days.mean": {"dist": "pert", "low": 25, "mode": 33, "high": 45},
            "services.inpatient.beds": [6, 14],
            "services.crisis.growth": [0.0, 0.1],
            "services.crisis.capacity.places": [8, 20],
            "services.community.treated_share": [0.6, 0.95],
            "services.community.capacity.staff_wte": [5, 9],
            "services.inpatient.readmission_share": [0.05, 0.2],
        }
    }
    return scenario_from_dict(
        {**default, "services": services, "years": 1, "warmup_days": 30, "uncertain": block}, source="test.yaml"
    )


def test_the_uncertain_runner_simulates_a_chunk_in_one_batch_as_each_replication_alone():
    scenario = uncertain_trust()
    reps = 7
    batched = psa.run_uncertain(scenario, reps, engine="vector")
    sampled = uncertainty.sampled_scenarios(scenario, range(reps))
    alone = [vector.run(s, [r]) for r, s in enumerate(sampled)]
    assert_rows_identical(batched, alone)
    assert len({s.services.inpatient.beds for s in sampled}) > 1


@pytest.mark.slow
def test_the_uncertain_run_is_the_same_for_any_chunk_size_and_workers():
    scenario = uncertain_trust()
    reference = psa.run_uncertain(scenario, 6, engine="vector")
    for chunk_size, workers in ((1, 1), (4, 1), (None, 2)):
        other = psa.run_uncertain(scenario, 6, engine="vector", chunk_size=chunk_size, workers=workers)
        for name in reference.measures:
            assert np.array_equal(reference[name], other[name], equal_nan=True), (chunk_size, workers, name)


def test_the_uncertain_plan_takes_the_engines_usual_chunk_size(monkeypatch):
    scenario = uncertain_trust()
    assert psa.uncertain_plan(scenario) == (scenario, psa.run_uncertain_chunk)
    asked = []
    monkeypatch.setattr(psa.montecarlo, "simulate", lambda *args, **kwargs: asked.append(args[4]))
    psa.run_uncertain(scenario, 1000, workers=2)
    psa.run_uncertain(scenario, 1000, workers=2, chunk_size=5)
    assert asked == [None, 5]  # None: montecarlo.default_chunk_size, as for a central run
