"""Test hygiene shared by the whole suite."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _main_module_restored():
    """Put ``sys.modules["__main__"]`` back after each test.

    Streamlit's ``AppTest`` runs ``app.py`` as ``__main__`` and leaves it there; a process pool started later in
    the same test process (``spawn``) would then run the app script in each worker before its replications.
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


# --- the order the tests start in ----------------------------------------------------------------------------

LONGEST: dict[str, float] = {
    "tests/test_warmup_steady.py::test_the_default_warm_up_with_a_steady_start_does_not_move_any_counted_measure": 92,
    "tests/test_readme.py::test_every_python_snippet_runs_as_a_script[calibrating-to-your-trust-1]": 78,
    "tests/test_readme_figures.py::test_the_readme_figures_hold[calibrate-sample+calibrate-money]": 51,
    "tests/test_calibrate_slow.py::test_the_stated_errors_cover_the_planted_values_over_six_histories": 38,
    "tests/test_readme_figures.py::test_the_readme_figures_hold[realism-library]": 32,
    "tests/test_readme.py::test_every_python_snippet_runs_as_a_script"
    "[the-money-costs-payment-rules-ledgers-mhis-and-risk-1]": 30,
    "tests/test_warm_up.py::test_a_run_after_the_warm_up_compiles_nothing": 28,
    "tests/test_readme.py::test_every_python_snippet_runs_as_a_script[running-a-scenario-from-python-2]": 28,
    "tests/test_calibrate_slow.py::test_holdout_bands_cover_about_90_percent_for_the_right_model": 27,
    "tests/test_calibrate_slow.py::test_in_sample_check_of_the_full_fit": 20,
    "tests/test_readme.py::test_every_python_snippet_runs_as_a_script[engines-which-to-pick-1]": 20,
    "tests/test_calibrate_slow.py::test_one_history_recovers_every_planted_value_within_3_se": 18,
    "tests/test_fuzz_cli.py::test_any_command_line_ends_cleanly": 17,
    "tests/test_fuzz_cli.py::test_any_scenario_file_ends_cleanly": 16,
    "tests/test_calibrate_slow.py::test_holdout_bands_visibly_fail_for_a_changed_trust": 16,
    "tests/test_signals.py::test_a_signal_with_workers_stops_them_too[pricing-TERM]": 13,
    "tests/test_vector_statistical.py::test_agrees_with_the_simpy_model_on_every_public_measure": 12,
    "tests/test_signals.py::test_a_signal_with_workers_stops_them_too[simulating-TERM]": 11,
    "tests/test_signals.py::test_a_signal_with_workers_stops_them_too[simulating-INT]": 11,
    "tests/test_identical_results.py::test_results_are_bit_identical[default/vector-uncertain]": 9,
    "tests/test_identical_results.py::test_results_are_bit_identical[default/vector]": 9,
    "tests/test_app.py::test_every_bundled_scenario_opens": 8,
    "tests/test_app_calibrate.py::test_the_app_uses_the_calibrated_scenario_everywhere": 8,
}
"""The suite's longest tests by node id, with the seconds each took in one whole run on the 2-core machine
(``-n 2 --durations=0``, set-up counted; rounded: only their order matters). They start first, longest first:
xdist hands out tests in collection order, so a long test collected last (the warm-up files are) would start while
the other worker has little left to run, and end the run alone. A test not named here keeps its place, after
these."""


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, hand tests out one at a time as workers free up (``--maxschedchunk 1``, unless given): its load
    scheduler otherwise starts each worker on its own contiguous quarter of the collection, so the first worker
    would get every one of the :data:`LONGEST` tests."""
    if hasattr(config.option, "maxschedchunk") and config.option.maxschedchunk is None:
        config.option.maxschedchunk = 1


COLLECTED: set[str] = set()
"""Node ids of every test collected in this process, before any is deselected (``-m``, ``-k``):
``tests/test_suite_order.py`` checks :data:`LONGEST` against it."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the :data:`LONGEST` tests first, longest first; every other test keeps its order (a stable sort, the
    same on every xdist worker, as xdist requires)."""
    COLLECTED.update(item.nodeid for item in items)
    items.sort(key=lambda item: -LONGEST.get(item.nodeid, 0.0))
