"""Reports: one workbook (and the same tables as Parquet) with a scenario's inputs, money, risk, tornado and
comparison.

Sheets / tables (each a list of flat rows):

``inputs``      every scenario key (``key, value``) and every uncertain parameter (``uncertain.<key>``)
``summary``     per rule: mean provider income, cost, surplus, commissioner spend (GBP over the horizon) and the
                yearly uplift as applied (the rule's own, or ``contracts.roll_forward``'s)
``cip``         with ``costs.cip``, per contract year: the cost-improvement programme planned, delivered, the
                share delivered, the savings recurring from earlier years and the total saved (GBP, means)
``risk``        per rule: :func:`paysim.analysis.risk_table` (P(deficit), expected shortfall, spread of spend)
``tornado``     one-way sensitivity of ``measure`` (:func:`paysim.analysis.sensitivity.one_way`); empty without an
                ``uncertain:`` block
``comparison``  paired differences between rules (:func:`paysim.analysis.rule_comparison`, base = the first
                rule), or, with ``change``, between the scenario and the scenario with ``change`` applied
                (:func:`paysim.analysis.compare.compare_scenarios`), plus ``saving_split``
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from paysim import analysis
from paysim.analysis import sensitivity
from paysim.analysis.compare import compare_scenarios
from paysim.model import uncertainty
from paysim.model.scenario import Scenario
from paysim.model.terms import Costs
from paysim.money import finance
from paysim.runs import psa, runner
from paysim.runs.io import atomic_path
from paysim.runs.runner import RunSettings

SHEETS = ("inputs", "summary", "cip", "risk", "tornado", "comparison", "saving_split")
"""Sheets of a report, in order (``cip`` only with a cost-improvement programme, ``saving_split`` only with a
change)."""


def _flat(data: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    rows = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            rows += _flat(value, f"{prefix}{key}.")
        else:
            rows.append(
                {"key": f"{prefix}{key}", "value": json.dumps(value) if isinstance(value, list) else str(value)}
            )
    return rows


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """Cells Excel and Parquet accept: lists become text."""
    return {k: json.dumps(v) if isinstance(v, list | tuple) else v for k, v in row.items()}


def report_tables(
    scenario: Scenario,
    reps: int,
    measure: str | None = None,
    change: Sequence[str] = (),
    engine: str = "vector",
    workers: int = 1,
    tornado_reps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Compute every table of a report.

    Parameters
    ----------
    scenario : Scenario
        Run as a PSA when it has an ``uncertain:`` block.
    reps : int
        Replications of the main run (and of the comparison).
    measure : str, optional
        Column the tornado ranks parameters on; default ``<first rule>.provider_surplus``.
    change : sequence of str
        ``KEY=VALUE`` overrides for a comparison scenario; empty: compare the rules with each other.
    tornado_reps : int, optional
        Replications per tornado run (default ``reps``).
    """
    settings = RunSettings(reps=reps, engine=engine, workers=workers, progress=progress, executor=executor)
    run = runner.run(scenario, replace(settings, keep_months=True))  # the CIP table needs each replication's months
    base = uncertainty.central(scenario)
    tables: dict[str, list[dict[str, Any]]] = {}
    inputs = _flat(base.model_dump(mode="json", exclude_none=True))
    if scenario.uncertain is not None:
        for key, spec in scenario.uncertain.parameters.items():
            inputs.append({"key": f"uncertain.{key}", "value": json.dumps(spec.model_dump(mode="json"))})
        for pair in scenario.uncertain.correlations:
            inputs.append({"key": f"uncertain.correlation.{'~'.join(pair.between)}", "value": str(pair.rho)})
    tables["inputs"] = inputs
    costs = base.costs or Costs()
    tables["summary"] = [
        {
            "rule": rule,
            **{f"{name}_mean": float(ledger.total(name).mean()) for name in finance.LEDGERS},
            "uplift": finance.resolved_uplift(base.contracts, costs, rule),
            "replications": reps,
            "uncertainty": scenario.uncertain is not None,
        }
        for rule, ledger in run.ledgers.items()
    ]
    cip = psa.cip_by_replication(run.scenarios, run.activity)
    if cip is not None:
        tables["cip"] = cip_rows(cip)
    tables["risk"] = [_plain(row) for row in analysis.risk_table(run.ledgers)]
    rules = list(run.ledgers)
    if scenario.uncertain is not None:
        measure = measure or (f"{rules[0]}.provider_surplus" if rules else "inpatient.oap_bed_days")
        tornado = sensitivity.one_way(scenario, measure, tornado_reps or reps, engine, workers, executor=executor)
        tables["tornado"] = [{"measure": measure, **row} for row in tornado.rows]
    else:
        tables["tornado"] = []
    if change:
        result = compare_scenarios(base, base.with_overrides(list(change)), reps, engine, workers, executor=executor)
        tables["comparison"] = [_plain(row) for row in result.rows]
        tables["saving_split"] = [_plain(row) for row in result.saving_split]
    elif len(rules) > 1:
        tables["comparison"] = [_plain(row) for row in analysis.rule_comparison(run.ledgers, base=rules[0])]
    else:
        tables["comparison"] = []
    return tables


def cip_rows(cip: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per contract year of :func:`paysim.runs.psa.cip_by_replication`: means over replications (GBP) of
    ``planned``, ``delivered``, ``recurrent`` and ``total`` (delivered + recurrent), and ``delivered_share``."""
    rows = []
    for year in range(cip["planned"].shape[1]):
        planned = float(cip["planned"][:, year].mean())
        delivered = float(cip["delivered"][:, year].mean())
        recurrent = float(cip["recurrent"][:, year].mean())
        rows.append(
            {
                "year": year + 1,
                "planned": planned,
                "delivered": delivered,
                "delivered_share": delivered / planned if planned else float("nan"),
                "recurrent": recurrent,
                "total": delivered + recurrent,
            }
        )
    return rows


def write_xlsx(tables: Mapping[str, list[dict[str, Any]]], path: str | Path) -> Path:
    """Write one sheet per table (header row, then one row per entry) atomically with openpyxl."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in tables.items():
        sheet = workbook.create_sheet(name[:31])
        columns = list(rows[0]) if rows else ["(empty)"]
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(row.get(c)) for c in columns])
        sheet.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(12, min(48, len(column) + 2))
    path = Path(path)
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return path


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN: an empty cell
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def write_parquet(tables: Mapping[str, list[dict[str, Any]]], folder: str | Path) -> list[Path]:
    """Write every non-empty table as ``folder/<name>.parquet`` (atomically); returns the files written."""
    folder = Path(folder)
    written = []
    for name, rows in tables.items():
        if not rows:
            continue
        table = pa.Table.from_pylist([{k: _cell(v) for k, v in row.items()} for row in rows])
        path = folder / f"{name}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        written.append(path)
    return written
