"""Downloads of the app: results as CSV and Parquet, and the Excel workbook."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from paysim import __version__
from paysim.analysis import risk
from paysim.app_support.board import attribution
from paysim.app_support.common import RULE_LABELS, yaml_cell
from paysim.app_support.levers import _dump, flatten
from paysim.app_support.runs import Run
from paysim.app_support.tables import (
    activity_table,
    changes_table,
    cip_table,
    fan_table,
    mhis_table,
    oap_table,
    risk_table,
    spend_table,
    yearly_surplus,
)
from paysim.model.demand import MONTH_NAMES
from paysim.model.fiscal import FIRST_FINANCIAL_YEAR, financial_year
from paysim.model.scenario import Scenario
from paysim.money.finance import money_columns
from paysim.runs.io import results_table

# --- downloads ----------------------------------------------------------------------------------------


def results_arrow(run: Run) -> pa.Table:
    """The results table (one row per replication: measures, then ``<rule>.<ledger>`` GBP over the horizon),
    described with the scenario in its metadata (see :func:`paysim.runs.io.results_table`)."""
    return results_table(run.activity, money=money_columns(run.ledgers), scenario=run.scenario)


def results_csv(run: Run) -> bytes:
    """The results table as CSV bytes (UTF-8, header row)."""
    sink = io.BytesIO()
    pacsv.write_csv(results_arrow(run), sink)
    return sink.getvalue()


def results_parquet(run: Run) -> bytes:
    """The results table as Parquet bytes, with the scenario YAML and seed in the file's metadata."""
    sink = io.BytesIO()
    pq.write_table(results_arrow(run), sink)
    return sink.getvalue()


GBP_FORMAT = '"£"#,##0.0,,"m";-"£"#,##0.0,,"m"'
"""Money cells hold whole pounds and show them in £m with one decimal, as the page and the board pack do."""
PERCENT_FORMAT = "0.0%"

HEADERS = {
    "rule": "Rule",
    "party": "Party",
    "risk": "Risk",
    "year": "Contract year",
    "financial_year": "Financial year",
    "month": "Month number",
    "label": "Month",
    "replication": "Run",
    "surplus_mean": "Provider surplus over the horizon, mean (£)",
    "surplus_p5": "Provider surplus, 5th percentile (£)",
    "surplus_p95": "Provider surplus, 95th percentile (£)",
    "p_deficit": "Chance of a deficit over the horizon",
    "p_deficit_any_year": "Chance of a deficit in any year",
    "expected_shortfall": "Expected shortfall, worst 5 % of runs (£)",
    "spend_mean": "Commissioner spend over the horizon, mean (£)",
    "spend_sd": "Commissioner spend, standard deviation (£)",
    "spend_p5": "Commissioner spend, 5th percentile (£)",
    "spend_p95": "Commissioner spend, 95th percentile (£)",
    "spend_cv": "Commissioner spend, coefficient of variation",
    "p5": "5th percentile (£)",
    "p25": "25th percentile (£)",
    "p50": "Median, P50 (£)",
    "p75": "75th percentile (£)",
    "p95": "95th percentile (£)",
    "surplus": "Provider surplus (£)",
    "expected": "Expected, mean (£)",
    "bad_year": "Bad year, 1 in 20 (£)",
    "income_p50": "Income, P50 (£)",
    "expenditure_p50": "Expenditure, P50 (£)",
    "surplus_p50": "Surplus, P50 (£)",
    "surplus_bad_year": "Surplus, bad year (£)",
    "commissioner_spend_p50": "Commissioner spend, P50 (£)",
    "share": "Share of the party's variance",
    "spread": "Standard deviation in a typical year (£)",
}
"""Readable headers of the workbook's columns (columns not named here keep their names)."""


def workbook_sheets(base: Run, edited: Run, engine: str, seconds: float | None = None) -> dict[str, pd.DataFrame]:
    """The sheets of the Excel workbook, as DataFrames in order (numbers, not text)."""
    scenario = edited.scenario
    month = MONTH_NAMES[scenario.start_month - 1]
    about = pd.DataFrame(
        [
            ("paysim version", __version__),
            ("scenario", scenario.name),
            ("replications", edited.activity.n_replications),
            ("years", scenario.years),
            ("horizon starts", f"1 {month}, contract year 1"),
            ("seed", str(scenario.seed)),
            ("engine", engine),
            ("run time, seconds", None if seconds is None else round(seconds, 2)),
            ("created", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
            ("money", "cash GBP; surplus = provider income - provider cost"),
        ],
        columns=["item", "value"],
    )
    file_values = flatten(_dump(base.scenario))
    edited_values = flatten(_dump(scenario))
    inputs = pd.DataFrame(
        [
            {
                "key": key,
                "value": yaml_cell(edited_values.get(key)),
                "in the scenario file": yaml_cell(file_values.get(key)),
                "changed": edited_values.get(key) != file_values.get(key),
            }
            for key in list(dict.fromkeys([*edited_values, *file_values]))
        ]
    )
    found = attribution(edited) if edited.rules else None
    sheets = {
        "About": about,
        "I&E by year": ie_numbers(edited),
        "Who carries the risk": pd.DataFrame(risk.positions(edited.ledgers, scenario.start_month)),
        "Risk matrix": risk_numbers(found),
        "Inputs": inputs,
        "Summary": risk_table(edited),
        "Changes": changes_table(base, edited),
        "Surplus by month": fan_table(edited),
        "Cumulative surplus": fan_table(edited, cumulative=True),
        "Yearly surplus": yearly_surplus(edited),
        "Commissioner spend": spend_table(edited),
        "OAP": oap_table(edited),
        "MHIS": mhis_table(edited),
    }
    if edited.costs.cip is not None:
        sheets["CIP"] = cip_table(edited)
    sheets["Activity"] = activity_table(edited.activity)
    return {name: with_financial_years(table, scenario.start_month) for name, table in sheets.items()}


def with_financial_years(table: pd.DataFrame, start_month: int = 4) -> pd.DataFrame:
    """A table with a contract ``year`` column gets its ``financial_year`` label (``2026/27``) beside it."""
    if "year" not in table.columns or "financial_year" in table.columns:
        return table
    table = table.copy()
    table.insert(
        list(table.columns).index("year") + 1,
        "financial_year",
        [financial_year(int(y), start_month) for y in table["year"]],
    )
    return table


def ie_numbers(run: Run) -> pd.DataFrame:
    """Income and expenditure by rule and financial year, GBP: P50 of income, expenditure, surplus and
    commissioner spend, and the surplus in a bad year (numbers for the workbook)."""
    rows = []
    for rule in run.rules:
        ledger = run.ledgers[rule]
        lines = {
            "income_p50": np.median(ledger.yearly("provider_income"), axis=0),
            "expenditure_p50": np.median(ledger.yearly("provider_cost"), axis=0),
            "surplus_p50": np.median(ledger.yearly("provider_surplus"), axis=0),
            "surplus_bad_year": risk.bad_year(ledger.yearly("provider_surplus"), "provider"),
            "commissioner_spend_p50": np.median(ledger.yearly("commissioner_spend"), axis=0),
        }
        for y in range(run.years):
            rows.append({"rule": RULE_LABELS[rule], "year": y + 1, **{k: float(v[y]) for k, v in lines.items()}})
    return pd.DataFrame(rows)


def risk_numbers(found: risk.RiskAttribution | None) -> pd.DataFrame:
    """The risk matrix as numbers: rule, party, risk, share of the party's variance (0..1) and the standard
    deviation it contributes in a typical year (GBP)."""
    if found is None:
        return pd.DataFrame(columns=["rule", "party", "risk", "share", "spread"])
    spread = found.spread()
    rows = []
    for row in found.rows():
        i, j, k = found.rules.index(row["rule"]), risk.PARTIES.index(row["party"]), risk.RISKS.index(row["risk"])
        rows.append(
            {
                "rule": RULE_LABELS[row["rule"]],
                "party": risk.PARTY_LABELS[row["party"]],
                "risk": risk.RISK_LABELS[row["risk"]],
                "share": row["share"],
                "spread": float(spread[i, j, k]),
            }
        )
    return pd.DataFrame(rows)


_GBP_COLUMNS = {
    "expected",
    "bad_year",
    "income_p50",
    "expenditure_p50",
    "surplus_p50",
    "surplus_bad_year",
    "commissioner_spend_p50",
    "spread",
    "surplus_mean",
    "surplus_p5",
    "surplus_p95",
    "expected_shortfall",
    "spend_mean",
    "spend_sd",
    "spend_p5",
    "spend_p95",
    "p5",
    "p25",
    "p50",
    "p75",
    "p95",
    "surplus",
    "mean",
    "sd",
    "spend",
    "paid_by_provider",
    "paid_by_commissioner",
    "minimum",
    "shortfall",
    "provider_spend",
    "other_spend",
    "planned",
    "delivered",
    "recurrent",
    "total",
}
_SHARE_COLUMNS = {
    "share",
    "p_deficit",
    "p_deficit_any_year",
    "spend_cv",
    "p_met",
    "provider_p_met",
    "core_share",
    "delivered_share",
}
_MONEY_SHEETS = {
    "I&E by year",
    "Who carries the risk",
    "Risk matrix",
    "Summary",
    "Surplus by month",
    "Cumulative surplus",
    "Yearly surplus",
    "Commissioner spend",
    "OAP",
    "MHIS",
    "CIP",
}


def excel_workbook(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An ``.xlsx`` workbook with one sheet per table: header row in bold, frozen, GBP and % formatted.

    Parameters
    ----------
    sheets:
        Sheet name -> table (e.g. from :func:`workbook_sheets`). Columns named like GBP amounts
        (``surplus_mean``, ``p50``, ...) on money sheets hold pounds shown in £m (:data:`GBP_FORMAT`), shares
        a ``0.0%`` format; the ``Changes`` sheet formats its GBP rows so; headers are :data:`HEADERS`.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        columns = list(table.columns)
        sheet.append([HEADERS.get(str(column), column) for column in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in table.itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
        for j, column in enumerate(columns, start=1):
            fmt = None
            if column in _SHARE_COLUMNS:
                fmt = PERCENT_FORMAT
            elif name in _MONEY_SHEETS and column in _GBP_COLUMNS:
                fmt = GBP_FORMAT
            if fmt is not None:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt
            header = str(HEADERS.get(str(column), column))
            width = max([len(header), *(len(str(v)) for v in table[column].head(200))], default=8)
            sheet.column_dimensions[get_column_letter(j)].width = min(max(10, width + 2), 60)
        if name == "Changes" and "unit" in columns:
            for row in sheet.iter_rows(min_row=2):
                if row[columns.index("unit")].value == "GBP":
                    for j, column in enumerate(columns):
                        if column in ("file", "edited", "change", "ci_low", "ci_high"):
                            row[j].number_format = GBP_FORMAT
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def _excel_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def inputs_key(*parts: Any) -> str:
    """A short fingerprint of everything a result depends on (scenario YAML, replications, engine)."""
    import hashlib

    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def horizon_text(scenario: Scenario) -> str:
    """``"3 financial years from 2026/27"`` (years starting in April), else ``"3 contract years from January
    2026"``."""
    years = scenario.years
    plural = "s" if years > 1 else ""
    if scenario.start_month == 4:
        return f"{years} financial year{plural} from {financial_year(1)}"
    return f"{years} contract year{plural} from {MONTH_NAMES[scenario.start_month - 1]} {FIRST_FINANCIAL_YEAR}"
