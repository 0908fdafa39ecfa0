"""One runner: ``paysim.run(scenario, RunSettings(...)) -> paysim.Run``, its settings and its results columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import paysim
from paysim import RunSettings, run
from paysim.cli.app import flag_message
from paysim.model.scenario import load_scenario
from paysim.runs.montecarlo import RunError

SMALL = Path(__file__).parent / "data" / "app-small.yaml"


@pytest.fixture(scope="module")
def small():
    return load_scenario(SMALL)


def test_the_runner_is_exported_from_paysim():
    assert {"run", "RunSettings", "Run"} <= set(paysim.__all__)
    assert paysim.run is run


def test_a_run_held_whole_has_the_same_table_as_one_in_bounded_memory(small):
    bounded = run(small, RunSettings(reps=3, chunk_size=2))
    whole = run(small, RunSettings(reps=3, keep_months=True))
    assert bounded.table.equals(whole.table, check_metadata=True)
    assert bounded.activity is None and whole.activity is not None
    assert whole.activity.n_replications == 3
    assert list(bounded.ledgers) == list(whole.ledgers)


def test_system_cost_is_the_ledger_identity_in_every_run(small):
    result = run(small, reps=2)
    columns = result.columns()
    for rule in result.ledgers:
        cost, spend, income = (
            columns[f"{rule}.{name}"] for name in ("provider_cost", "commissioner_spend", "provider_income")
        )
        identity = cost + spend - income
        np.testing.assert_array_equal(columns[f"{rule}.system_cost"], identity)
    assert list(result.summary()) == result.table.column_names[1:]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"reps": 0}, "reps: must be a whole number from 1 to 1,000,000, got 0"),
        ({"reps": 1_000_001}, "reps: must be a whole number from 1 to 1,000,000, got 1000001"),
        ({"reps": 2.5}, "reps: must be a whole number from 1 to 1,000,000, got 2.5"),
        ({"reps": 2, "workers": True}, "workers: must be a whole number >= 1, got True"),
        ({"reps": 2, "chunk_size": 0}, "chunk_size: must be a whole number >= 1, got 0"),
        ({"reps": 2, "engine": "warp"}, "engine 'warp': unknown engine (available: auto, des, vector)"),
    ],
)
def test_bad_settings_name_the_parameter_and_the_command_line_names_its_option(settings, message):
    with pytest.raises(RunError) as info:
        RunSettings(**settings)
    assert str(info.value) == message
    option = "--" + info.value.parameter.replace("_", "-")
    assert flag_message(info.value) == option + message[len(info.value.parameter) :]


def test_settings_are_given_one_way(small):
    with pytest.raises(RunError, match="not both"):
        run(small, RunSettings(reps=2), reps=3)
    with pytest.raises(TypeError):
        RunSettings(reps=2, replications=3)  # an unknown setting


def test_auto_chooses_the_engine_for_the_count(small):
    assert RunSettings(reps=2, engine="auto").chosen_engine == "des"
    assert RunSettings(reps=50, engine="auto").chosen_engine == "vector"
    assert run(small, RunSettings(reps=1, engine="auto")).engine == "des"
