"""Every front end on the one runner: ``paysim.run``'s settings for runs in pieces (``first``), runs that only
simulate (``money=False``) and the pricing of joined pieces (``paysim.runs.runner.price``), and the deprecated
``run_replications``.

Each check compares bit for bit with a whole run of the same replications, as the front ends rely on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paysim import RunSettings, load_scenario, run
from paysim.activity import Activity
from paysim.app_support import runs as app_runs
from paysim.engines.reuse import LineCache
from paysim.runs import montecarlo, runner
from paysim.runs.montecarlo import RunError
from paysim.runs.results import Run

DEFAULT = Path(__file__).parents[1] / "scenarios" / "default.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(DEFAULT, ["years=2"])


@pytest.fixture(scope="module")
def whole(scenario) -> Run:
    return run(scenario, RunSettings(reps=5, keep_months=True, uncertainty=False))


def _same_activity(a: Activity, b: Activity) -> None:
    assert list(a.replications) == list(b.replications)
    assert a.monthly.keys() == b.monthly.keys()
    for name, values in a.monthly.items():
        np.testing.assert_array_equal(values, b.monthly[name], err_msg=name)


def test_pieces_from_first_join_into_the_whole_run(scenario, whole):
    settings = {"keep_months": True, "money": False, "uncertainty": False}
    pieces = [
        run(scenario, RunSettings(reps=2, first=0, **settings)),
        run(scenario, RunSettings(reps=3, first=2, **settings)),
    ]
    assert [list(p.activity.replications) for p in pieces] == [[0, 1], [2, 3, 4]]
    joined = Activity.concat([p.activity for p in pieces])
    _same_activity(joined, whole.activity)


def test_price_of_joined_pieces_is_the_whole_runs_money(scenario, whole):
    settings = {"keep_months": True, "money": False, "uncertainty": False}
    joined = Activity.concat(
        [run(scenario, RunSettings(reps=r, first=f, **settings)).activity for f, r in ((0, 1), (1, 4))]
    )
    priced = runner.price(scenario, joined, uncertainty=False)
    assert priced.rules == whole.rules and priced.rules  # the default trust has contracts
    for rule in whole.rules:
        for part in ("provider_income", "provider_cost", "commissioner_spend"):
            np.testing.assert_array_equal(getattr(priced.ledgers[rule], part), getattr(whole.ledgers[rule], part))
    assert priced.table.equals(whole.table)
    assert priced.costs is not None and whole.costs is not None
    np.testing.assert_array_equal(priced.costs.total, whole.costs.total)


def test_a_run_without_money_has_its_measures_and_no_ledgers(scenario, whole):
    only = run(scenario, RunSettings(reps=5, keep_months=True, money=False, uncertainty=False))
    assert only.ledgers == {} and only.costs is None and only.mhis == {}
    assert only.rules == []
    assert not any("." in name and name.split(".")[0] in whole.rules for name in only.table.column_names)
    for name in only.table.column_names:
        assert only.table.column(name).equals(whole.table.column(name)), name


def test_the_app_simulates_and_prices_through_the_runner(scenario, whole):
    text = app_runs.activity_yaml(scenario)
    parts = [app_runs.simulate(text, 0, 2, "vector"), app_runs.simulate(text, 2, 5, "vector")]
    _same_activity(Activity.concat(parts), whole.activity)
    money = app_runs.run_money(scenario, Activity.concat(parts))
    assert isinstance(money, Run) and money.years == 2 and money.has_costs
    for rule in whole.rules:
        np.testing.assert_array_equal(money.ledgers[rule].provider_income, whole.ledgers[rule].provider_income)


def test_reuse_gives_the_same_activity(scenario, whole):
    lines = LineCache()
    settings = RunSettings(reps=5, keep_months=True, money=False, uncertainty=False, reuse=lines)
    first = run(scenario, settings)
    again = run(scenario.with_overrides({"services.inpatient.beds": 230}), settings)
    _same_activity(first.activity, whole.activity)
    fresh = run(
        scenario.with_overrides({"services.inpatient.beds": 230}),
        RunSettings(reps=5, keep_months=True, money=False, uncertainty=False),
    )
    _same_activity(again.activity, fresh.activity)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"reps": 2, "first": -1, "keep_months": True}, "first: must be a whole number >= 0, got -1"),
        ({"reps": 2, "first": 1.5, "keep_months": True}, "first: must be a whole number >= 0, got 1.5"),
        ({"reps": 2, "first": 3}, "first: a run from a replication other than 0 keeps its months"),
        ({"reps": 2, "money": False}, "money: a run that is not priced keeps its months"),
    ],
)
def test_bad_settings_name_the_parameter(settings, message):
    with pytest.raises(RunError) as caught:
        RunSettings(**settings)
    assert str(caught.value).startswith(message)


def test_simulate_is_a_run_kept_whole_and_not_priced(scenario, whole):
    activity = runner.simulate(scenario, RunSettings(reps=5, uncertainty=False))  # keep_months and money forced
    _same_activity(activity, whole.activity)


def test_run_replications_is_deprecated_but_gives_the_same_activity(scenario, whole):
    with pytest.warns(DeprecationWarning, match="paysim.run"):
        activity = montecarlo.run_replications(scenario, 5, engine="vector")
    _same_activity(activity, whole.activity)


FRONT_ENDS = (
    "paysim/analysis/sensitivity.py",
    "paysim/analysis/design.py",
    "paysim/cli/realism.py",
    "paysim/cli/decide.py",
    "paysim/calibrate/roots.py",
    "paysim/calibrate/backtest.py",
    "paysim/app_support/runs.py",
    "paysim/app_support/warm.py",
)


@pytest.mark.parametrize("path", FRONT_ENDS)
def test_front_ends_run_through_paysim_run(path):
    text = (Path(__file__).parents[1] / path).read_text()
    for old in ("run_replications", "run_chunk", "iter_chunks", "run_uncertain(", "psa.simulate", "run_batch("):
        assert old not in text, f"{path} calls {old} instead of paysim.run"
