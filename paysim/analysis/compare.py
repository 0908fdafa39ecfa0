"""Paired comparison of two scenarios on the same random numbers, and who captures a change in cost.

``paysim compare BASE OTHER`` runs both scenarios on the same replications with the same root seed, so
replication ``r`` of each sees the same patients (common random numbers); differences are then taken
replication by replication, and their standard errors are far smaller than for independent runs.

Who captures a saving. Per payment rule, the **system cost** of a replication is what the provider spends
plus the out-of-area spend the commissioner pays directly::

    system_cost = provider_cost + (commissioner_spend - provider_income)

and the change from BASE to OTHER splits exactly into the provider's and the commissioner's share::

    -change(system_cost) = change(provider_surplus) + (-change(commissioner_spend))
          saving         =   captured by provider   +   captured by commissioner
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from paysim.activity import Activity
from paysim.analysis import paired_comparison, paired_difference
from paysim.engines.reuse import LineCache
from paysim.model.scenario import Scenario
from paysim.money import finance
from paysim.money.finance import system_cost, system_cost_columns
from paysim.runs.batch import check_memory
from paysim.runs.io import run_columns
from paysim.runs.montecarlo import RunError
from paysim.runs.runner import RunSettings, run


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare_scenarios`.

    ``rows``: one per results column both runs share (measures, then ``<rule>.<ledger>`` and
    ``<rule>.system_cost``), with ``mean_base``, ``mean_other``, ``mean_difference`` (other - base), ``se``,
    ``ci_low``, ``ci_high``. ``saving_split``: one per rule, GBP over the horizon (see module docstring).
    """

    base: Scenario
    other: Scenario
    reps: int
    rows: list[dict[str, Any]]
    saving_split: list[dict[str, Any]]


def scenario_columns(scenario: Scenario, activity: Activity) -> dict[str, np.ndarray]:
    """Every results column of a run: public measures, ``<rule>.<ledger>``, and ``<rule>.system_cost``."""
    return run_columns(activity, finance.ledgers(scenario, activity))


def saving_split(base: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per rule: the saving in system cost (base - other) and how much of it each party captures.

    Returns rows with ``rule``, ``saving``, ``provider``, ``commissioner`` (means over replications, GBP over
    the horizon, ``provider + commissioner == saving`` exactly per replication) and standard errors.
    """
    rows = []
    rules = [name.split(".")[0] for name in base if name.endswith(".system_cost") and name in other]
    for rule in rules:
        saving = base[f"{rule}.system_cost"] - other[f"{rule}.system_cost"]
        provider = other[f"{rule}.provider_surplus"] - base[f"{rule}.provider_surplus"]
        commissioner = base[f"{rule}.commissioner_spend"] - other[f"{rule}.commissioner_spend"]
        zero = np.zeros_like(saving)
        rows.append(
            {
                "rule": rule,
                "saving": float(saving.mean()),
                "saving_se": paired_difference(zero, saving).se,
                "provider": float(provider.mean()),
                "provider_se": paired_difference(zero, provider).se,
                "commissioner": float(commissioner.mean()),
                "commissioner_se": paired_difference(zero, commissioner).se,
                "provider_share": float(provider.mean() / saving.mean()) if saving.mean() else float("nan"),
            }
        )
    return rows


def compare_scenarios(
    base: Scenario,
    other: Scenario,
    reps: int,
    engine: str = "vector",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> Comparison:
    """Run ``base`` and ``other`` on replications ``0..reps-1`` with base's seed and compare them paired.

    ``other`` takes base's seed, so that the two runs share random numbers (a different seed would make
    the comparison unpaired and much noisier).

    Raises
    ------
    paysim.runs.montecarlo.RunError
        If the two do not share a horizon (:func:`check_comparable`).
    """
    check_comparable(base, other)
    if other.seed != base.seed:
        other = other.with_overrides({"seed": base.seed})
    done = [0, 0]

    def step(which: int) -> Callable[[int, int], None]:
        def report(count: int, _total: int) -> None:
            done[which] = count
            if progress is not None:
                progress(sum(done), 2 * reps)

        return report

    # the two runs share every line the change does not reach (in this process; see LineCache); each is
    # priced chunk by chunk (paysim.runs.batch), so memory does not grow with reps beyond a value per column
    settings = RunSettings(reps=reps, engine=engine, workers=workers, executor=executor, uncertainty=False)
    for scenario in (base, other):  # both must fit before either starts
        check_memory(scenario, reps, engine, workers, executor, uncertainty=False)
    settings = replace(settings, reuse=LineCache())
    base_columns = run(base, replace(settings, progress=step(0))).columns()
    other_columns = run(other, replace(settings, progress=step(1))).columns()
    return Comparison(
        base=base,
        other=other,
        reps=reps,
        rows=paired_comparison(base_columns, other_columns),
        saving_split=saving_split(base_columns, other_columns),
    )


def check_comparable(base: Scenario, other: Scenario, names: tuple[str, str] = ("BASE", "OTHER")) -> None:
    """Refuse a paired comparison of scenarios with different horizons (``years``, ``start_month``): their
    totals would differ by the months one runs and the other does not, not by the change.

    Raises
    ------
    paysim.runs.montecarlo.RunError
        Naming both horizons (``names``: how to call the two scenarios).
    """
    if (base.years, base.start_month) != (other.years, other.start_month):
        raise RunError(
            f"{names[0]} runs {base.years} years from month {base.start_month} and {names[1]} {other.years} years "
            f"from month {other.start_month}: a paired comparison needs one horizon (give both the same years and "
            "start_month)"
        )


__all__ = [
    "Comparison",
    "check_comparable",
    "compare_scenarios",
    "saving_split",
    "scenario_columns",
    "system_cost",  # lives with the ledgers (paysim.money.finance); here for one release
    "system_cost_columns",
]
