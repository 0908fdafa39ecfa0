"""A run priced chunk by chunk in bounded memory gives exactly the results of a run held whole."""

from __future__ import annotations

import io

import numpy as np
import pyarrow.parquet as pq
import pytest
from builders import small_trust
from typer.testing import CliRunner

from paysim.analysis import risk_table
from paysim.cli import app
from paysim.model.scenario import load_scenario, scenario_from_dict
from paysim.money import finance
from paysim.runs import psa
from paysim.runs.batch import ChunkStore, run_batch
from paysim.runs.io import monthly_table, results_table, write_table
from paysim.runs.montecarlo import RunError, iter_chunks
from paysim.runs.runner import RunSettings, simulate

REPS = 9

UNCERTAIN = {
    "services": {
        "parameters": {
            "services.inpatient.beds": [8, 13],
            "services.crisis.growth": {"dist": "normal", "mean": 0.03, "sd": 0.02, "low": -0.05, "high": 0.1},
            "contracts.block.annual_value": {"dist": "lognormal", "mean": 5e6, "sd": 2e5},
        }
    },
    "contracts": {
        "parameters": {
            "contracts.block.annual_value": {"dist": "lognormal", "mean": 5e6, "sd": 2e5},
            "contracts.blended.baseline.error": [-0.05, 0.05],
        }
    },
}
"""Uncertain blocks: one that changes the simulation (each replication alone), one that only prices."""


@pytest.fixture(scope="module")
def small() -> dict:
    """The small trust's services under the default scenario's contracts and costs: all four rules, with a
    blended contract planned on the run's expected activity (the one thing priced on the whole run)."""
    default = load_scenario("scenarios/default.yaml").model_dump(mode="json", exclude_none=True)
    default.pop("uncertain", None)
    services = small_trust(seed=4).model_dump(mode="json", exclude_none=True)["services"]
    return {**default, "services": services, "years": 2, "warmup_days": 30}


@pytest.fixture(scope="module", params=["central", "services", "contracts"])
def case(request, small):
    """``(scenario, uncertainty, whole run's results table, risk rows, monthly table)``."""
    data = dict(small)
    if request.param != "central":
        data["uncertain"] = UNCERTAIN[request.param]
    scenario = scenario_from_dict(data, source="test.yaml")
    uncertainty = request.param != "central"
    run = psa.simulate(scenario, REPS, "vector", uncertainty=uncertainty)
    money = {**finance.money_columns(run.ledgers), **finance.system_cost_columns(run.ledgers), **run.params}
    table = results_table(run.activity, money=money, scenario=scenario)
    return scenario, uncertainty, table, risk_table(run.ledgers), monthly_table(run.activity, scenario=scenario)


@pytest.mark.parametrize(("chunk_size", "budget"), [(None, 2**30), (2, 0), (4, 30_000)])
def test_batch_run_equals_the_run_held_whole(case, chunk_size, budget, tmp_path):
    """Same table (values and run metadata), same risk measures, same monthly file, whatever the chunking
    and however much waited on disk."""
    scenario, uncertainty, table, risk, months = case
    monthly = tmp_path / "monthly.parquet"
    batch = run_batch(
        scenario, REPS, "vector", uncertainty=uncertainty, monthly=monthly, chunk_size=chunk_size, memory_budget=budget
    )
    assert batch.table.equals(table, check_metadata=True)
    assert repr(risk_table(batch.ledgers)) == repr(risk)
    assert pq.read_table(monthly).equals(months, check_metadata=True)
    assert list(tmp_path.iterdir()) == [monthly]
    if budget == 0:
        assert batch.spilled_bytes > 0
    if budget == 2**30:
        assert batch.spilled_bytes == 0


def test_chunks_finishing_out_of_order_give_the_same_run(case, monkeypatch):
    """Chunks from a pool arrive in any order (here: last first); the plan and the rows still follow
    replication order."""
    import paysim.runs.batch

    scenario, uncertainty, table, risk, _ = case
    monkeypatch.setattr(paysim.runs.batch, "iter_chunks", lambda *args: reversed(list(iter_chunks(*args))))
    batch = run_batch(scenario, REPS, "vector", uncertainty=uncertainty, chunk_size=2)
    assert batch.table.equals(table, check_metadata=True)
    assert repr(risk_table(batch.ledgers)) == repr(risk)


def test_monthly_csv_is_the_same_file_as_written_whole(case, tmp_path):
    scenario, uncertainty, _, _, months = case
    streamed, whole = tmp_path / "streamed.csv", tmp_path / "whole.csv"
    run_batch(scenario, REPS, "vector", uncertainty=uncertainty, monthly=streamed, chunk_size=2)
    write_table(months, whole)
    assert streamed.read_bytes() == whole.read_bytes()


def test_blended_plan_is_set_on_the_whole_run_not_each_chunk(small):
    """Pricing chunks separately would plan each on its own mean and pay differently."""
    scenario = scenario_from_dict(small)
    batch = run_batch(scenario, REPS, "vector", chunk_size=3)
    alone = run_batch(scenario, 3, "vector")  # replications 0-2 planned on their own mean
    assert not np.array_equal(
        batch.table.column("blended.provider_income").to_numpy()[:3], alone.table.column("blended.provider_income")
    )
    np.testing.assert_array_equal(
        batch.table.column("block.provider_income").to_numpy()[:3], alone.table.column("block.provider_income")
    )


def test_a_failed_run_leaves_no_files(small, tmp_path, monkeypatch):
    """A failure while pricing leaves neither a monthly file nor chunks waiting on disk."""
    import paysim.runs.batch

    calls = []

    def failing(activity):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return monthly_table(activity)

    monkeypatch.setattr(paysim.runs.batch, "monthly_table", failing)
    spill = tmp_path / "spill"
    spill.mkdir()
    monthly = tmp_path / "monthly.csv"
    with pytest.raises(RuntimeError, match="disk full"):
        run_batch(
            scenario_from_dict(small),
            REPS,
            "vector",
            monthly=monthly,
            chunk_size=3,
            memory_budget=0,
            spill_folder=spill,
        )
    assert list(tmp_path.iterdir()) == [spill]
    assert list(spill.iterdir()) == []


# --- the chunk store -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chunks():
    return [simulate(small_trust(seed=2), RunSettings(reps=2)), simulate(small_trust(seed=3), RunSettings(reps=3))]


def test_store_keeps_chunks_in_memory_up_to_its_budget_then_on_disk(chunks, tmp_path):
    first, second = chunks
    size = sum(values.nbytes for values in first.monthly.values())
    with ChunkStore(budget=size, folder=tmp_path) as store:
        store.put(0, first)
        store.put(1, second)
        assert store.held == size
        assert store.spilled == sum(values.nbytes for values in second.monthly.values())
        assert len(list(tmp_path.glob("paysim-chunks-*/*"))) == 1
        assert len(store) == 2
        for key, chunk in enumerate(chunks):
            back = store.take(key)
            assert back.measures == chunk.measures and back.kinds == chunk.kinds
            np.testing.assert_array_equal(back.replications, chunk.replications)
            for name in chunk.measures:
                np.testing.assert_array_equal(back[name], chunk[name])
        assert store.held == 0 and len(store) == 0
    assert list(tmp_path.iterdir()) == []


def test_iter_chunks_checks_its_arguments_before_running():
    with pytest.raises(RunError, match="reps: must"):
        iter_chunks(small_trust(), 0, "vector")
    with pytest.raises(RunError, match="engine 'warp'"):
        iter_chunks(small_trust(), 3, "warp")


def test_a_folder_that_cannot_take_the_chunks_is_a_clear_error(chunks, tmp_path):
    missing = tmp_path / "gone"
    with ChunkStore(budget=0, folder=missing) as store, pytest.raises(RunError) as info:
        store.put(0, chunks[0])
    assert str(missing) in str(info.value) and "TMPDIR" in str(info.value)


def test_the_command_line_reports_a_full_spill_folder_without_a_traceback(tmp_path, monkeypatch):
    import tempfile

    import paysim.runs.batch

    monkeypatch.setattr(paysim.runs.batch, "MEMORY_BUDGET", 0)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    out = tmp_path / "results.csv"
    result = CliRunner().invoke(app, ["run", "default", "--reps", "6", "--set", "years=1", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "cannot keep simulated chunks in" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_pricing_reports_its_progress_after_the_simulation(small):
    simulated, priced = [], []
    run_batch(
        scenario_from_dict(small),
        REPS,
        "vector",
        chunk_size=4,
        progress=lambda done, total: simulated.append((done, total)),
        pricing=lambda done, total: priced.append((done, total)),
    )
    assert simulated == [(0, REPS), (4, REPS), (8, REPS), (9, REPS)]
    assert priced == [(0, REPS), (4, REPS), (8, REPS), (9, REPS)]


def test_the_progress_bar_shows_a_new_phase_under_its_label():
    from rich.console import Console

    from paysim.cli.app import progress_bar

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with progress_bar(console, "default: replications", 4) as progress:
        progress(4, 4)
        progress(0, 4, "default: pricing")
        progress(2, 4, "default: pricing")
        console.file.seek(0)
        console.file.truncate(0)
    # the bar's last drawing (on leaving) shows the pricing phase at 2 of 4
    text = console.file.getvalue()
    assert "default: pricing" in text and "2/4" in text and "replications" not in text
