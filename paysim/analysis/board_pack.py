"""The board pack: a two-page PDF of one scenario's results for a trust board or an ICB finance committee.

Page 1: the income and expenditure by financial year in £m under each payment rule (P50 and a bad year), and
who carries which risk (one sentence per rule and the risk matrix of :mod:`paysim.analysis.risk`). Page 2: the Mental
Health Investment Standard, out-of-area placements, access standards, and the assumptions with the sources
the scenario file gives for them.

The app's download and ``paysim report SCENARIO --out board.pdf`` both call :func:`board_pack` on a scenario
and its simulated Activity, so the two give the same document for the same run. The figures are computed by
:func:`pack_tables` (plain data, tested on its own); :func:`render_pdf` lays them out with reportlab.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from paysim.activity import Activity
from paysim.analysis import risk
from paysim.model.fiscal import financial_year
from paysim.model.lines import LINE_LABELS, REFERRAL_LINES
from paysim.model.scenario import Scenario
from paysim.model.terms import RULES
from paysim.model.uncertainty import central
from paysim.money.costs import ProviderCosts
from paysim.money.finance import Ledger, mhis

RULE_NAMES = {"block": "Block", "activity": "Activity", "blended": "Blended", "capitation": "Capitation", "api": "API"}
"""How each payment rule is named in the pack (as in the app)."""

LINE_NAMES = {line: LINE_LABELS[line] for line in REFERRAL_LINES} | {"community": "Community mental health"}
"""Referral lines (those with an access standard), as named in the pack: the registry's labels (a plugin's line
too), community's in full."""

ASSUMPTIONS = {
    "population": "People served",
    "services.talking_therapies.referrals_per_year": "Talking therapies referrals a year",
    "services.community.referrals_per_year": "Community referrals a year",
    "services.community.growth": "Community referral growth a year",
    "services.crisis.referrals_per_year": "Crisis referrals a year",
    "services.inpatient.beds": "Adult acute beds",
    "services.inpatient.los_days.mean": "Mean length of stay (days)",
    "contracts.oap_paid_by": "Who pays for out-of-area placements",
    "contracts.roll_forward.cost_uplift": "Cost uplift factor",
    "contracts.roll_forward.efficiency": "Efficiency factor",
    "contracts.block.annual_value": "Block value a year (£)",
    "contracts.api.cquin.share": "CQUIN share of the fixed payment",
    "costs.pay_inflation": "Pay award",
    "costs.price_inflation": "Non-pay inflation",
    "costs.cip.delivered_share": "Share of the CIP delivered",
    "costs.beds.oap_per_bed_day": "Out-of-area bed day (£)",
}
"""The assumptions the pack lists, by scenario key, with their names on paper (those the scenario sets)."""

LINES_PER_PAGE_NOTE = "Money in £m; financial years April to March; P50 = median of the runs; bad year = 1 in 20."


@dataclass(frozen=True)
class PackTables:
    """Everything the board pack prints, as text ready for a table (rows of cells, the first row the header).

    Attributes
    ----------
    title, subtitle:
        The scenario's name and what was run (replications, engine, seed).
    income_and_expenditure:
        Rule, line, then one column per financial year (£m).
    sentences:
        One sentence per rule on who carries the risk.
    risk_matrix:
        Rule and party, then one column per risk type: its share of the party's variance.
    mhis, oaps, access, assumptions:
        The tables of page 2 (empty lists where the scenario has none).
    """

    title: str
    subtitle: str
    income_and_expenditure: list[list[str]]
    sentences: list[str]
    risk_matrix: list[list[str]]
    mhis: list[list[str]] = field(default_factory=list)
    oaps: list[list[str]] = field(default_factory=list)
    access: list[list[str]] = field(default_factory=list)
    assumptions: list[list[str]] = field(default_factory=list)


def m(value: float) -> str:
    """GBP as £m with one decimal, without the unit: ``1.2``, ``-0.3`` (the tables' header says £m).

    >>> m(1_234_567), m(-260_000), m(float("nan"))
    ('1.2', '-0.3', '-')
    """
    if not np.isfinite(value):
        return "-"
    text = f"{value / 1e6:,.1f}"
    return "0.0" if text == "-0.0" else text


def income_and_expenditure(
    books: Mapping[str, Ledger], start_month: int = 4, fmt: Callable[[float], str] = m, unit: str = "£m"
) -> list[list[str]]:
    """Income, expenditure and surplus per rule and financial year: the median run (P50) of each, and the
    surplus in a bad year (5th percentile), each cell ``fmt(GBP)`` (default £m, one decimal), ``unit`` heading
    the column of line names. Medians need not add up: each line is its own median."""
    rules = [rule for rule in RULES if rule in books]
    if not rules:
        return []
    years = books[rules[0]].n_months // 12
    header = ["Rule", unit, *[financial_year(y + 1, start_month) for y in range(years)]]
    rows = [header]
    for rule in rules:
        ledger = books[rule]
        lines = (
            ("Income (P50)", np.median(ledger.yearly("provider_income"), axis=0)),
            ("Expenditure (P50)", np.median(ledger.yearly("provider_cost"), axis=0)),
            ("Surplus (P50)", np.median(ledger.yearly("provider_surplus"), axis=0)),
            ("Surplus, bad year", risk.bad_year(ledger.yearly("provider_surplus"), "provider")),
            ("Commissioner spend (P50)", np.median(ledger.yearly("commissioner_spend"), axis=0)),
        )
        for i, (name, values) in enumerate(lines):
            rows.append([RULE_NAMES[rule] if i == 0 else "", name, *[fmt(v) for v in values]])
    return rows


def risk_matrix_rows(found: risk.RiskAttribution) -> list[list[str]]:
    """The risk matrix as text: rule, party, each risk type's share of the party's variance (``-`` below 0.5 %),
    and the party's standard deviation in a typical year (£m)."""
    shares, spread = found.over_horizon(), found.party_spread()
    rows = [["Rule", "Party", *[risk.RISK_LABELS[name] for name in risk.RISKS], "Spread (£m)"]]
    for i, rule in enumerate(found.rules):
        for j, party in enumerate(risk.PARTIES):
            cells = ["-" if share < 0.005 else f"{100 * share:.0f} %" for share in shares[i, j]]
            rows.append([RULE_NAMES[rule] if j == 0 else "", risk.PARTY_LABELS[party], *cells, m(spread[i, j])])
    return rows


def mhis_rows(scenario: Scenario, books: Mapping[str, Ledger], costs: ProviderCosts) -> list[list[str]]:
    """The MHIS per rule and financial year: the share of runs in which the ICB meets the standard."""
    checks = mhis(scenario, books, costs)
    rules = [rule for rule in RULES if rule in checks]
    if not rules:
        return []
    years = checks[rules[0]].spend.shape[1]
    rows = [["Standard met in", *[financial_year(y + 1, scenario.start_month) for y in range(years)]]]
    for rule in rules:
        met = checks[rule].probability_met()
        rows.append([RULE_NAMES[rule], *["not assessed" if np.isnan(p) else f"{100 * p:.0f} % of runs" for p in met]])
    return rows


def oap_rows(scenario: Scenario, activity: Activity, costs: ProviderCosts) -> list[list[str]]:
    """Out-of-area placements per financial year: bed days (P50 and 95th percentile) and spend (P50, £m)."""
    if "inpatient.oap_bed_days" not in activity:
        return []
    days = activity.yearly("inpatient.oap_bed_days")
    provider = costs.parts.get("inpatient.oap", np.zeros_like(costs.commissioner_oap))
    spend = provider + costs.commissioner_oap
    yearly = np.stack([spend[:, 12 * y : 12 * y + 12].sum(axis=1) for y in range(days.shape[1])], axis=1)
    paid_by = scenario.contracts.oap_paid_by if scenario.contracts is not None else "provider"
    rows = [["Out-of-area placements", *[financial_year(y + 1, scenario.start_month) for y in range(days.shape[1])]]]
    rows.append(["Bed days (P50)", *[f"{v:,.0f}" for v in np.median(days, axis=0)]])
    rows.append(["Bed days, bad year (95th percentile)", *[f"{v:,.0f}" for v in np.quantile(days, 0.95, axis=0)]])
    rows.append([f"Spend, £m (P50; paid by the {paid_by})", *[m(v) for v in np.median(yearly, axis=0)]])
    return rows


def access_rows(scenario: Scenario, activity: Activity) -> list[list[str]]:
    """The share of people starting treatment within each line's waiting standard, per financial year (P50)."""
    rows: list[list[str]] = []
    for line, name in LINE_NAMES.items():
        service = getattr(scenario.services, line, None)
        days = getattr(service, "standard_days", None) if service is not None else None
        started, within = f"{line}.started", f"{line}.started_within_standard"
        if days is None or started not in activity or within not in activity:
            continue
        counts = activity.yearly(started)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(counts > 0, activity.yearly(within) / np.where(counts > 0, counts, 1.0), np.nan)
        if not rows:
            years = share.shape[1]
            rows.append(
                ["Started within the standard", *[financial_year(y + 1, scenario.start_month) for y in range(years)]]
            )
        rows.append(
            [
                f"{name} ({days:g} days)",
                *[f"{100 * v:.0f} %" if np.isfinite(v) else "-" for v in np.nanmedian(share, axis=0)],
            ]
        )
    return rows


_COMMENTED = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][\w]*):(?P<value>[^#]*?)\s*#\s*(?P<comment>.+)$")
_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][\w]*):")


def file_sources(text: str) -> dict[str, str]:
    """The comment after each key in a scenario file, by dotted key (block mappings; flow mappings such as
    ``los_days: {mean: 33}`` give their comment to the key that opens them).

    >>> file_sources("costs:\\n  pay_inflation: 0.05   # Agenda for Change 2023/24\\n")
    {'costs.pay_inflation': 'Agenda for Change 2023/24'}
    """
    found: dict[str, str] = {}
    path: list[tuple[int, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "-")):
            continue
        opened = _KEY.match(line)
        if opened is None:
            continue
        indent = len(opened["indent"])
        while path and path[-1][0] >= indent:
            path.pop()
        path.append((indent, opened["key"]))
        commented = _COMMENTED.match(line)
        if commented is not None:
            found[".".join(key for _, key in path)] = commented["comment"].strip()
    return found


def assumption_rows(scenario: Scenario, source_text: str | None) -> list[list[str]]:
    """The assumptions of :data:`ASSUMPTIONS` the scenario sets: name, value, and where the figure comes from
    (the comment beside it in the scenario file; ``not given`` without one)."""
    sources = file_sources(source_text) if source_text else {}
    data = central(scenario).model_dump(mode="json", exclude_none=True)
    rows = [["Assumption", "Value", "Source (from the scenario file)"]]
    for key, name in ASSUMPTIONS.items():
        node = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None or isinstance(node, dict | list):
            continue
        if isinstance(node, float) and abs(node) < 1:
            value = f"{100 * node:.3g} %"
        elif isinstance(node, int | float):
            value = f"{node:,.0f}"
        else:
            value = str(node)
        where = sources.get(key) or sources.get(key.rsplit(".", 1)[0]) or "not given in the file"
        rows.append([name, value, where])
    return rows


def pack_tables(
    scenario: Scenario,
    activity: Activity,
    engine: str,
    source_text: str | None = None,
    books: Mapping[str, Ledger] | None = None,
    costs: ProviderCosts | None = None,
) -> PackTables:
    """Everything the board pack prints for a scenario and its simulated Activity.

    Parameters
    ----------
    scenario:
        The scenario that was run (priced at its central values).
    activity:
        Its Activity, ``[replication, month]``.
    engine:
        The engine that simulated it (named in the subtitle).
    source_text:
        The scenario file's text, whose comments give the assumptions' sources (None: not given).
    books, costs:
        Its ledgers and costs, if already priced.
    """
    if books is None or costs is None:
        costs, books = risk.priced(scenario, activity)
    found = risk.attribute(scenario, activity, books, costs)
    subtitle = (
        f"{activity.n_replications:,} runs of {activity.n_months // 12} financial years from "
        f"{financial_year(1, scenario.start_month)}, {engine} engine, seed {scenario.seed}; "
        f"produced by paysim on {date.today():%d %B %Y}. {LINES_PER_PAGE_NOTE}"
    )
    return PackTables(
        title=f"Who carries the risk: {scenario.name}",
        subtitle=subtitle,
        income_and_expenditure=income_and_expenditure(books, scenario.start_month),
        sentences=[risk.carrier_sentence(found, rule, RULE_NAMES[rule]) for rule in found.rules],
        risk_matrix=risk_matrix_rows(found) if found.rules else [],
        mhis=mhis_rows(scenario, books, costs),
        oaps=oap_rows(scenario, activity, costs),
        access=access_rows(scenario, activity),
        assumptions=assumption_rows(scenario, source_text),
    )


def render_pdf(tables: PackTables) -> bytes:
    """Lay :class:`PackTables` out on two A4 pages (each page's content shrunk to fit if it must)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepInFrame, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    heading = styles["Heading2"].clone("section", spaceBefore=6, spaceAfter=3)
    buffer = io.BytesIO()
    margin = 14 * mm
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=tables.title,
        author="paysim",
    )
    width, height = A4[0] - 2 * margin, A4[1] - 2 * margin - 6

    def table(rows: Sequence[Sequence[str]], shares: Sequence[float] | None = None, first_wide: bool = False) -> Table:
        cells = [[Paragraph(str(cell), small) for cell in row] for row in rows]
        columns = len(rows[0])
        if shares is not None:
            widths = [width * share for share in shares]
        elif first_wide:
            first = width * 0.3
            widths = [first] + [(width - first) / (columns - 1)] * (columns - 1)
        else:
            widths = [width / columns] * columns
        grid = Table(cells, colWidths=widths, repeatRows=1)
        grid.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde4ee")),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#4c78a8")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8c8c8")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return grid

    first = [Paragraph(tables.title, styles["Title"]), Paragraph(tables.subtitle, small)]
    if tables.income_and_expenditure:
        first += [Paragraph("Income and expenditure by financial year (£m)", heading)]
        first += [table(tables.income_and_expenditure, first_wide=True)]
    if tables.risk_matrix:
        first += [Paragraph("Who carries which risk", heading)]
        first += [Paragraph(sentence, small) for sentence in tables.sentences]
        first += [Spacer(0, 3), table(tables.risk_matrix, (0.1, 0.13, *[0.11] * len(risk.RISKS), 0.11))]
        first += [
            Paragraph(
                "Each cell is the risk's share of the variation of the party's position (provider surplus, "
                "commissioner spend) under that rule; the last column is how far that position moves in a "
                "typical year (one standard deviation). Demand, OAPs, outcome payments and baselines set on "
                "last year's outturn vary from run to run; the pay award, inflation, CIP delivery, the OAP price "
                "and a baseline error are priced again at both ends of their ranges.",
                small,
            )
        ]
    if not (tables.income_and_expenditure or tables.risk_matrix):
        first += [Paragraph("This scenario has no contracts, so there is no money to report.", body)]
    second = []
    for name, rows, shares in (
        ("Mental Health Investment Standard (the ICB's test)", tables.mhis, None),
        ("Out-of-area placements", tables.oaps, None),
        ("Access standards (P50 of the runs)", tables.access, None),
        ("Assumptions and their sources", tables.assumptions, (0.28, 0.12, 0.6)),
    ):
        if len(rows) > 1:
            second += [Paragraph(name, heading), table(rows, shares, first_wide=True)]
    story = [
        KeepInFrame(width, height, first, mode="shrink"),
        PageBreak(),
        KeepInFrame(width, height, second, mode="shrink"),
    ]
    doc.build(story)
    return buffer.getvalue()


def board_pack(
    scenario: Scenario,
    activity: Activity,
    engine: str,
    source_text: str | None = None,
    books: Mapping[str, Ledger] | None = None,
    costs: ProviderCosts | None = None,
) -> bytes:
    """The two-page board pack (PDF bytes) of a scenario on its simulated Activity (:func:`pack_tables`)."""
    return render_pdf(pack_tables(scenario, activity, engine, source_text, books, costs))
