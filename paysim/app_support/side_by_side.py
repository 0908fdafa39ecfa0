"""Named scenarios side by side: two to four scenarios (bundled files, uploads, saved lever sets) run on the same
replications and seed, compared with the first by paired differences (common random numbers), in £m a year.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from paysim.analysis import deficit_probability, paired_difference
from paysim.app_support.board import NOTHING
from paysim.app_support.common import RULE_LABELS, money, percent
from paysim.app_support.runs import Run
from paysim.model.scenario import Scenario
from paysim.model.terms import RULES

MIN_SCENARIOS, MAX_SCENARIOS = 2, 4
"""How many scenarios the comparison takes."""

POSITIONS = (("provider_surplus", "Provider surplus"), ("commissioner_spend", "Commissioner spend"))
"""The ledgers compared, with their names in the table."""

SAVED_PREFIX = "Saved: "
"""How a saved lever set is named among the scenarios."""


def comparable(scenarios: Mapping[str, Scenario], years: int, seed: int) -> dict[str, Scenario]:
    """The scenarios set to the page's years and seed, so every one runs the same replications of the same
    horizon (its random patients differ only where its inputs do).

    Raises
    ------
    ValueError
        If fewer than two or more than four are given, or they start their years in different months.
    """
    if not MIN_SCENARIOS <= len(scenarios) <= MAX_SCENARIOS:
        raise ValueError(f"pick {MIN_SCENARIOS} to {MAX_SCENARIOS} scenarios to compare, not {len(scenarios)}")
    starts = {scenario.start_month for scenario in scenarios.values()}
    if len(starts) > 1:
        raise ValueError(
            "these scenarios start their years in different months, so their years cannot be paired: "
            + ", ".join(f"{name} in month {s.start_month}" for name, s in scenarios.items())
        )
    return {name: scenario.with_overrides({"years": years, "seed": seed}) for name, scenario in scenarios.items()}


def comparison_table(runs: Mapping[str, Run], unit: str = "£m") -> pd.DataFrame:
    """Each rule's results under each scenario, and the paired change from the first scenario.

    Parameters
    ----------
    runs:
        Scenario name to its run, the first the one the others are compared with; all on the same replications.
    unit:
        The page's money basis (``£m`` or ``£000``).

    Returns
    -------
    DataFrame
        One row per rule and scenario: ``Rule``, ``Scenario``, ``Provider surplus a year`` (mean), ``Change from
        <first>`` (mean paired difference a year and its 95 % interval), ``Commissioner spend a year``, its
        change, and ``Chance of a deficit`` over the horizon. Rules some scenario lacks are left out.
    """
    names = list(runs)
    first = runs[names[0]]
    years = first.years
    rules = [rule for rule in RULES if all(rule in run.ledgers for run in runs.values())]
    rows = []
    for rule in rules:
        base = first.ledgers[rule]
        for name in names:
            ledger = runs[name].ledgers[rule]
            row = {"Rule": RULE_LABELS[rule], "Scenario": name}
            for ledger_name, label in (
                ("provider_surplus", "Provider surplus"),
                ("commissioner_spend", "Commissioner spend"),
            ):
                difference = paired_difference(base.total(ledger_name), ledger.total(ledger_name))
                row[f"{label} a year"] = money(difference.mean_other / years, unit)
                row[f"{label}: change from {names[0]}"] = (
                    NOTHING
                    if name == names[0]
                    else f"{money(difference.mean_difference / years, unit, sign=True)} "
                    f"({money(difference.ci_low / years, unit, sign=True)} to "
                    f"{money(difference.ci_high / years, unit, sign=True)})"
                )
            row["Chance of a deficit"] = percent(deficit_probability(ledger.provider_surplus)["horizon"])
            rows.append(row)
    return pd.DataFrame(rows)
