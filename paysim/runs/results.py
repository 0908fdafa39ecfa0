"""A run's results: the one type every way of running a scenario returns (:func:`paysim.run`).

A :class:`Run` holds the results table (one row per replication: measures over the horizon, each rule's
ledgers, ``<rule>.system_cost``, and ``param.*`` under uncertainty; built by :func:`paysim.runs.io.run_columns`),
each rule's ledgers, and, when the run was asked to keep them, the simulated months (``activity``) and each
replication's scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from paysim.model.terms import RULES
from paysim.money.finance import Ledger, LedgerTotals, MHISCheck
from paysim.runs.io import summary

if TYPE_CHECKING:
    from paysim.activity import Activity
    from paysim.model.scenario import Scenario
    from paysim.money.costs import ProviderCosts


@dataclass(frozen=True)
class Run:
    """The results of a run of a scenario.

    Attributes
    ----------
    scenario : Scenario
        The scenario as given (with its ``uncertain:`` block, if any).
    engine : str
        The engine that simulated it (``des`` or ``vector``).
    table : pyarrow.Table
        One row per replication, in replication order: ``replication``, then the columns of
        :func:`paysim.runs.io.run_columns`; the run's description in its schema metadata
        (:func:`paysim.runs.io.run_metadata`).
    ledgers : dict of str to Ledger or LedgerTotals
        Each rule's money: whole :class:`~paysim.money.finance.Ledger` ``[R, months]`` when the run kept its months,
        else :class:`~paysim.money.finance.LedgerTotals` (over the horizon and per contract year), which is what
        :func:`paysim.analysis.risk_table` reads.
    activity : Activity or None
        The simulated months ``[R, months]``, if the run kept them.
    scenarios : list of Scenario or None
        The scenario of each replication (its own parameter set under uncertainty), if the run kept its months.
    spilled_bytes : int
        Bytes of simulated months that waited on disk between the run's two passes (0 when it fitted in memory).
    costs : ProviderCosts or None
        The provider's costs by part and the OAP spend the commissioner pays directly, ``[R, months]``, of a run
        that kept its months at central values (None otherwise: under uncertainty each replication has its own).
    mhis : dict of str to MHISCheck
        The Mental Health Investment Standard per rule, with ``costs`` (empty unless the scenario sets
        ``contracts.mhis``).
    """

    scenario: Scenario
    engine: str
    table: pa.Table
    ledgers: dict[str, Ledger] | dict[str, LedgerTotals]
    activity: Activity | None = None
    scenarios: list[Scenario] | None = None
    spilled_bytes: int = 0
    costs: ProviderCosts | None = None
    mhis: Mapping[str, MHISCheck] = field(default_factory=dict)

    @property
    def rules(self) -> list[str]:
        """Rules with a ledger, in reporting order."""
        return [rule for rule in RULES if rule in self.ledgers]

    @property
    def years(self) -> int:
        """Contract years simulated (the activity's, when kept)."""
        return self.activity.n_months // 12 if self.activity is not None else self.scenario.years

    @property
    def has_costs(self) -> bool:
        """Whether the scenario sets the provider's costs (``costs:``)."""
        return self.scenario.costs is not None

    @property
    def reps(self) -> int:
        """Replications in the run."""
        return self.table.num_rows

    def columns(self) -> dict[str, np.ndarray]:
        """Every results column but ``replication``, ``{name: [R]}`` (see :func:`paysim.runs.io.run_columns`)."""
        return {name: self.table.column(name).to_numpy() for name in self.table.column_names if name != "replication"}

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The ``param.<dotted key>`` columns of a run under uncertainty, ``[R]`` (empty without)."""
        return {name: values for name, values in self.columns().items() if name.startswith("param.")}

    def summary(self) -> dict[str, dict[str, float | int | None]]:
        """Statistics of every column: ``{column: {statistic: value}}`` with the keys of
        :data:`paysim.runs.io.STATISTICS` (see :func:`paysim.runs.io.summary`)."""
        return summary(self.table)


def table_of(columns: dict[str, np.ndarray], metadata: dict[str, str]) -> pa.Table:
    """The results table of ``columns`` (``replication`` first, then :func:`paysim.runs.io.run_columns`), described by
    ``metadata``."""
    return pa.table({name: pa.array(values) for name, values in columns.items()}).replace_schema_metadata(metadata)


__all__ = ["Run", "table_of"]
