"""Batch runs: results do not depend on workers, chunk size or executor; seeds matter; bad arguments fail."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from builders import small_trust

from paysim.runs.io import results_table
from paysim.runs.montecarlo import (
    AUTO_DES_MAX_REPS,
    ENGINES,
    RunError,
    choose_engine,
    chunk_replications,
    dask_executor,
    default_chunk_size,
)
from paysim.runs.runner import RunSettings, simulate

REPS = 5


@pytest.fixture(scope="module")
def scenario():
    return small_trust(seed=11)


@pytest.fixture(scope="module", params=list(ENGINES))
def engine(request) -> str:
    """Every engine must give results that do not depend on how replications are split."""
    return request.param


@pytest.fixture(scope="module")
def reference(scenario, engine):
    """Replications run one at a time in this process."""
    return simulate(scenario, RunSettings(reps=REPS, engine=engine, chunk_size=1))


def assert_same(a, b) -> None:
    """Bit-identical activity: same measures, same replication numbers, same values (NaN where NaN)."""
    assert a.measures == b.measures
    np.testing.assert_array_equal(a.replications, b.replications)
    for name in a.measures:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_rows_are_replications_in_order(reference, engine):
    assert list(reference.replications) == list(range(REPS))
    assert reference.engine == engine
    assert all(reference[name].shape == (REPS, 12) for name in reference.measures)


def test_same_seed_gives_identical_table(scenario, reference, engine):
    again = simulate(scenario, RunSettings(reps=REPS, engine=engine))
    assert results_table(again).equals(results_table(reference))


@pytest.mark.parametrize("chunk_size", [2, 3, REPS, 100])
def test_chunk_size_does_not_change_results(scenario, reference, engine, chunk_size):
    assert_same(simulate(scenario, RunSettings(reps=REPS, engine=engine, chunk_size=chunk_size)), reference)


def test_two_workers_give_identical_results(scenario, reference, engine):
    assert_same(simulate(scenario, RunSettings(reps=REPS, engine=engine, workers=2, chunk_size=2)), reference)


def test_any_executor_can_run_the_chunks(scenario, reference, engine):
    with ThreadPoolExecutor(max_workers=3) as pool:
        result = simulate(scenario, RunSettings(reps=REPS, engine=engine, chunk_size=1, executor=pool))
    assert_same(result, reference)


def test_a_prefix_of_replications_is_unchanged(scenario, reference, engine):
    """Replication r's draws depend only on (seed, r): fewer replications give the same first rows."""
    fewer = simulate(scenario, RunSettings(reps=2, engine=engine))
    for name in fewer.measures:
        np.testing.assert_array_equal(fewer[name], reference[name][:2])


def test_a_different_seed_gives_different_results(scenario, reference, engine):
    other = simulate(scenario.with_overrides({"seed": 12}), RunSettings(reps=REPS, engine=engine))
    assert not np.array_equal(other["inpatient.bed_requests"], reference["inpatient.bed_requests"])
    assert not results_table(other).equals(results_table(reference))


def test_replications_differ_from_each_other(reference):
    referrals = reference.total("talking_therapies.referrals")
    assert len(set(referrals.tolist())) > 1


def test_progress_reports_every_chunk(scenario):
    calls: list[tuple[int, int]] = []
    simulate(scenario, RunSettings(reps=3, engine="des", chunk_size=2, progress=lambda d, t: calls.append((d, t))))
    assert calls == [(0, 3), (2, 3), (3, 3)]


def test_progress_from_a_pool_ends_at_the_total(scenario):
    calls: list[tuple[int, int]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        settings = RunSettings(
            reps=3, engine="des", chunk_size=1, executor=pool, progress=lambda d, t: calls.append((d, t))
        )
        simulate(scenario, settings)
    assert calls[0] == (0, 3)
    assert calls[-1] == (3, 3)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"reps": 0}, "reps: must be a whole number from 1 to 1,000,000, got 0"),
        ({"reps": -3}, "reps: must be a whole number from 1 to 1,000,000, got -3"),
        ({"reps": 2.5}, "reps: must be a whole number from 1 to 1,000,000, got 2.5"),
        ({"reps": True}, "reps: must be a whole number from 1 to 1,000,000"),
        ({"reps": 2, "workers": 0}, "workers: must be a whole number >= 1, got 0"),
        ({"reps": 2, "chunk_size": 0}, "chunk_size: must be a whole number >= 1, got 0"),
        ({"reps": 2, "engine": "warp"}, "unknown engine (available: auto, des, vector)"),
    ],
)
def test_bad_arguments_fail_clearly(scenario, kwargs, phrase):
    with pytest.raises(RunError) as info:
        simulate(scenario, RunSettings(**kwargs))
    assert phrase in str(info.value)


def test_numpy_integer_reps_are_accepted(scenario, reference, engine):
    result = simulate(scenario, RunSettings(reps=np.int64(2), engine=engine))
    np.testing.assert_array_equal(result["inpatient.bed_requests"], reference["inpatient.bed_requests"][:2])


def test_chunks_cover_every_replication_once():
    for reps in (1, 2, 7, 64):
        for size in (1, 3, 64, 100):
            chunks = chunk_replications(reps, size)
            assert [r for c in chunks for r in c] == list(range(reps))
            assert all(1 <= len(c) <= size for c in chunks)


def test_default_chunk_size_keeps_workers_busy():
    assert default_chunk_size(20, 1, "des") == ENGINES["des"].chunk_size
    assert default_chunk_size(10, 4, "vector") == 3
    assert default_chunk_size(10_000, 2, "vector") == ENGINES["vector"].chunk_size


@pytest.mark.slow
def test_a_local_dask_cluster_gives_identical_results(scenario, reference, engine):
    with dask_executor("local", workers=2) as executor:
        assert_same(
            reference, simulate(scenario, RunSettings(reps=REPS, engine=engine, chunk_size=2, executor=executor))
        )


def test_an_unreachable_scheduler_is_a_clear_error():
    with (
        pytest.raises(RunError, match="cannot connect to the Dask scheduler"),
        dask_executor("tcp://127.0.0.1:9", timeout="1s"),
    ):
        pass


def test_auto_engine_uses_the_des_for_a_handful_of_replications():
    assert choose_engine("auto", AUTO_DES_MAX_REPS) == "des"
    assert choose_engine("auto", AUTO_DES_MAX_REPS + 1) == "vector"
    assert choose_engine("des", 10_000) == "des"
