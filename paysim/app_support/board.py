"""The app's one-screen answer to "who carries the risk?": each party's position by financial year, the risk
matrix (risk type x rule x party) and one sentence per rule, in £m or £000 (:func:`paysim.app_support.money`).

The numbers come from :mod:`paysim.analysis.risk` (the same functions the board pack uses); this module only lays them
out as tables the page shows whole (``st.table``) and prints.
"""

from __future__ import annotations

import pandas as pd

from paysim.analysis import board_pack, risk
from paysim.app_support.common import RULE_LABELS, money, percent
from paysim.app_support.runs import Run

NOTHING = "–"
"""An empty cell of a table on the page: an en dash (a lone hyphen would be drawn as a bullet point)."""

PARTY_POSITIONS = {"provider": "Provider surplus", "commissioner": "Commissioner spend"}
"""How each party's position is named in the tables."""


def attribution(run: Run) -> risk.RiskAttribution:
    """Each risk type's share of each party's position under each rule, on the run's Activity."""
    return risk.attribute(run.scenario, run.activity, run.ledgers, run.costs)


def position_table(run: Run, unit: str = "£m") -> pd.DataFrame:
    """Each rule's and party's expected and bad-year position per financial year, as text on the page's basis.

    Returns
    -------
    DataFrame
        One row per rule and party: ``Rule``, ``Position``, then for each financial year ``<2026/27> expected``
        (the mean over the runs) and ``<2026/27> bad year`` (the provider's 5th percentile surplus, the
        commissioner's 95th percentile spend).
    """
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for row in risk.positions(run.ledgers, run.scenario.start_month):
        line = rows.setdefault(
            (row["rule"], row["party"]),
            {"Rule": RULE_LABELS[row["rule"]], "Position": PARTY_POSITIONS[row["party"]]},
        )
        line[f"{row['financial_year']} expected"] = money(row["expected"], unit)
        line[f"{row['financial_year']} bad year"] = money(row["bad_year"], unit)
    return pd.DataFrame(list(rows.values()))


def risk_matrix(found: risk.RiskAttribution, unit: str = "£m") -> pd.DataFrame:
    """The risk matrix: one row per rule and party, one column per risk type; each cell the money the risk
    moves the party's position by in a typical year (one standard deviation) and its share of the party's
    variance, ``£0.9m (94 %)``; :data:`NOTHING` where the risk moves less than 0.5 % of it.

    Returns
    -------
    DataFrame
        Columns ``Rule``, ``Party`` and one per risk type (:data:`paysim.analysis.risk.RISK_LABELS`), text.
    """
    spread, shares = found.spread(), found.over_horizon()
    rows = []
    for i, rule in enumerate(found.rules):
        for j, party in enumerate(risk.PARTIES):
            row = {"Rule": RULE_LABELS[rule], "Party": risk.PARTY_LABELS[party]}
            for k, name in enumerate(risk.RISKS):
                share = shares[i, j, k]
                row[risk.RISK_LABELS[name]] = (
                    NOTHING if share < 0.005 else f"{money(spread[i, j, k], unit)} ({percent(share)})"
                )
            rows.append(row)
    return pd.DataFrame(rows)


def rule_sentences(found: risk.RiskAttribution) -> list[str]:
    """One plain sentence per rule on who carries the risk (:func:`paysim.analysis.risk.carrier_sentence`)."""
    return [risk.carrier_sentence(found, rule, RULE_LABELS[rule]) for rule in found.rules]


def board_pack_pdf(run: Run, engine: str, source_text: str | None) -> bytes:
    """The board pack (:func:`paysim.analysis.board_pack.board_pack`) of the run the page shows: the same document as
    ``paysim report SCENARIO --out board.pdf`` gives for the same scenario, replications and seed."""
    return board_pack.board_pack(run.scenario, run.activity, engine, source_text, run.ledgers, run.costs)


def income_and_expenditure_table(run: Run, unit: str = "£m") -> pd.DataFrame:
    """Income and expenditure by financial year under each rule on the page's money basis, indexed by rule and
    line (the board pack's table, :func:`paysim.analysis.board_pack.income_and_expenditure`)."""
    rows = board_pack.income_and_expenditure(run.ledgers, run.scenario.start_month, lambda v: money(v, unit), "Line")
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows[1:], columns=rows[0])
    table["Rule"] = table["Rule"].replace("", pd.NA).ffill()
    return table.set_index(["Rule", "Line"])
