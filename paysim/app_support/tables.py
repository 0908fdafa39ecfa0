"""Tidy tables (pandas) of a run for the app: headline, risk, fans, spend, OAPs, MHIS, cost improvement,
changes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from paysim.activity import MEASURE_UNITS, Activity
from paysim.analysis import deficit_probability, expected_shortfall, paired_difference, spend_variability
from paysim.analysis.compare import saving_split, system_cost_columns
from paysim.app_support.common import (
    LINE_LABELS,
    RULE_LABELS,
    TAIL,
    gbp,
    gbp_change,
    measure_name,
    money,
    number,
    percent,
    yaml_cell,
)
from paysim.app_support.levers import LEVERS, Lever, edited_keys, levers_for
from paysim.app_support.runs import Run
from paysim.model.fiscal import financial_year, month_labels
from paysim.model.scenario import Scenario
from paysim.money.finance import money_columns
from paysim.runs.io import public_measures

# --- tables -------------------------------------------------------------------------------------------


def _yearly_mean(total: np.ndarray, years: int) -> float:
    return float(np.mean(total)) / years


def headline(run: Run, base: Run | None = None) -> list[dict[str, Any]]:
    """One row per rule for the headline figures.

    Returns
    -------
    list of dict
        ``rule``, ``label``, ``surplus_a_year`` (mean provider surplus a year, GBP), ``change_a_year``
        (mean paired difference from ``base`` a year, GBP; ``None`` without a base or when nothing was
        edited), ``p_deficit`` (share of runs in deficit over the horizon), ``p_deficit_any_year``.
    """
    rows = []
    for rule in run.rules:
        surplus = run.ledgers[rule].total("provider_surplus")
        change = None
        if base is not None and rule in base.ledgers:
            change = paired_difference(base.ledgers[rule].total("provider_surplus"), surplus).mean_difference
            change /= run.years
        deficit = deficit_probability(run.ledgers[rule].provider_surplus)
        rows.append(
            {
                "rule": rule,
                "label": RULE_LABELS[rule],
                "surplus_a_year": _yearly_mean(surplus, run.years),
                "change_a_year": change,
                "p_deficit": deficit["horizon"],
                "p_deficit_any_year": deficit["any_year"],
            }
        )
    return rows


def risk_table(run: Run) -> pd.DataFrame:
    """Who carries the risk, one row per rule (numbers; see :func:`risk_display` for text).

    Columns: ``rule``; provider surplus over the horizon: ``surplus_mean``, ``surplus_p5``,
    ``surplus_p95``; ``p_deficit`` (horizon), ``p_deficit_any_year``; ``expected_shortfall`` (mean of
    the worst 5 % of runs' surplus over the horizon); commissioner spend over the horizon:
    ``spend_mean``, ``spend_sd``, ``spend_p5``, ``spend_p95``, ``spend_cv``.
    """
    rows = []
    for rule in run.rules:
        ledger = run.ledgers[rule]
        surplus = ledger.total("provider_surplus")
        spend = ledger.total("commissioner_spend")
        deficit = deficit_probability(ledger.provider_surplus)
        spread = spend_variability(ledger.commissioner_spend)
        rows.append(
            {
                "rule": RULE_LABELS[rule],
                "surplus_mean": float(surplus.mean()),
                "surplus_p5": float(np.percentile(surplus, 5)),
                "surplus_p95": float(np.percentile(surplus, 95)),
                "p_deficit": deficit["horizon"],
                "p_deficit_any_year": deficit["any_year"],
                "expected_shortfall": expected_shortfall(surplus, TAIL),
                "spend_mean": float(spend.mean()),
                "spend_sd": spread["sd"],
                "spend_p5": float(np.percentile(spend, 5)),
                "spend_p95": float(np.percentile(spend, 95)),
                "spend_cv": spread["cv"],
            }
        )
    return pd.DataFrame(rows)


def risk_display(table: pd.DataFrame, years: int, unit: str | None = None) -> pd.DataFrame:
    """:func:`risk_table` as text for the page: whole pounds with thousands separators (or ``unit``, ``£m``
    or ``£000``), shares in %."""
    horizon = f"{years} year{'s' if years > 1 else ''}"

    def fmt(value: float) -> str:
        return gbp(value) if unit is None else money(value, unit)

    return pd.DataFrame(
        {
            "Rule": table["rule"],
            f"Provider surplus over {horizon}, mean": table["surplus_mean"].map(fmt),
            "5th percentile": table["surplus_p5"].map(fmt),
            "95th percentile": table["surplus_p95"].map(fmt),
            "P(deficit over the horizon)": table["p_deficit"].map(percent),
            "P(deficit in any year)": table["p_deficit_any_year"].map(percent),
            "Expected shortfall (worst 5 % of runs)": table["expected_shortfall"].map(fmt),
            f"Commissioner spend over {horizon}, mean": table["spend_mean"].map(fmt),
            "Spend, standard deviation": table["spend_sd"].map(fmt),
            "Spend 5th-95th percentile": [
                f"{fmt(a)} to {fmt(b)}" for a, b in zip(table["spend_p5"], table["spend_p95"], strict=True)
            ],
        }
    )


def fan_table(
    run: Run, ledger: str = "provider_surplus", cumulative: bool = False, year_to_date: bool = False
) -> pd.DataFrame:
    """Quantiles of one ledger by month and rule, for a fan chart.

    Parameters
    ----------
    run:
        The results.
    ledger:
        ``provider_surplus``, ``provider_income``, ``provider_cost`` or ``commissioner_spend``.
    cumulative:
        Running total from the start of the horizon instead of the month's amount.
    year_to_date:
        Running total from the start of each financial year (M1), as finance reports a year to date.

    Returns
    -------
    DataFrame
        One row per (rule, month): ``rule`` (label), ``month`` (1-based), ``label`` (``"2026/27 M1"``), and
        GBP quantiles ``p5``, ``p25``, ``p50``, ``p75``, ``p95`` over replications.
    """
    if cumulative and year_to_date:
        raise ValueError("fan_table: choose a running total from the start or a year to date, not both")
    labels = month_labels(run.activity.n_months, run.activity.start_month)
    frames = []
    for rule in run.rules:
        values = run.ledgers[rule][ledger]
        if cumulative:
            values = np.cumsum(values, axis=1)
        if year_to_date:
            reps, months = values.shape
            values = np.cumsum(values.reshape(reps, months // 12, 12), axis=2).reshape(reps, months)
        q = np.percentile(values, [5, 25, 50, 75, 95], axis=0)
        frames.append(
            pd.DataFrame(
                {
                    "rule": RULE_LABELS[rule],
                    "month": np.arange(1, len(labels) + 1),
                    "label": labels,
                    "p5": q[0],
                    "p25": q[1],
                    "p50": q[2],
                    "p75": q[3],
                    "p95": q[4],
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else _empty(["rule", "month", "label", *_QS])


_QS = ["p5", "p25", "p50", "p75", "p95"]


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in columns})


def measure_fan(activity: Activity, measure: str, scale: float = 1.0) -> pd.DataFrame:
    """Quantiles of one activity measure by month (``month``, ``label``, ``p5`` ... ``p95``)."""
    q = np.nanpercentile(activity[measure] * scale, [5, 25, 50, 75, 95], axis=0)
    return pd.DataFrame(
        {"month": np.arange(1, activity.n_months + 1), "label": activity.labels, **dict(zip(_QS, q, strict=True))}
    )


def yearly_surplus(run: Run) -> pd.DataFrame:
    """Provider surplus per replication, rule and contract year (tidy, for histograms).

    Columns: ``rule`` (label), ``year`` (1-based), ``replication``, ``surplus`` (GBP in that year).
    """
    frames = []
    for rule in run.rules:
        yearly = run.ledgers[rule].yearly("provider_surplus")
        reps, years = yearly.shape
        frames.append(
            pd.DataFrame(
                {
                    "rule": RULE_LABELS[rule],
                    "year": np.tile(np.arange(1, years + 1), reps),
                    "replication": np.repeat(run.activity.replications, years),
                    "surplus": yearly.reshape(-1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else _empty(["rule", "year", "replication", "surplus"])


def histogram_stats(values: np.ndarray) -> dict[str, float]:
    """Mean, 5th and 95th percentiles of a sample (the marks on the risk histogram)."""
    values = np.asarray(values, dtype=float)
    return {
        "mean": float(values.mean()),
        "5th percentile": float(np.percentile(values, 5)),
        "95th percentile": float(np.percentile(values, 95)),
    }


def spend_table(run: Run) -> pd.DataFrame:
    """Commissioner spend per rule and contract year: ``rule``, ``year``, ``mean``, ``p5``, ``p50``,
    ``p95``, ``sd`` (GBP over replications)."""
    rows = []
    for rule in run.rules:
        yearly = run.ledgers[rule].yearly("commissioner_spend")
        for y in range(yearly.shape[1]):
            v = yearly[:, y]
            rows.append(
                {
                    "rule": RULE_LABELS[rule],
                    "year": y + 1,
                    "mean": float(v.mean()),
                    "p5": float(np.percentile(v, 5)),
                    "p50": float(np.percentile(v, 50)),
                    "p95": float(np.percentile(v, 95)),
                    "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                }
            )
    return pd.DataFrame(rows) if rows else _empty(["rule", "year", "mean", "p5", "p50", "p95", "sd"])


def _money_text(unit: str | None):
    """Money as text: whole pounds (``unit`` None) or on the page's basis (``£m``, ``£000``)."""
    return gbp if unit is None else (lambda value: money(value, unit))


def _financial_years(years: pd.Series, start_month: int = 4) -> pd.Series:
    """Contract years (1-based) as financial-year labels, ``2026/27``."""
    return years.map(lambda y: financial_year(int(y), start_month))


def horizon_years(years: int, start_month: int = 4) -> str:
    """The horizon as its financial years: ``2026/27`` for one year, ``2026/27 to 2028/29`` for more.

    >>> horizon_years(1), horizon_years(3), horizon_years(2, start_month=1)
    ('2026/27', '2026/27 to 2028/29', '2026 to 2027')
    """
    first = financial_year(1, start_month)
    return first if years <= 1 else f"{first} to {financial_year(years, start_month)}"


def spend_display(table: pd.DataFrame, unit: str | None = None, start_month: int = 4) -> pd.DataFrame:
    """:func:`spend_table` as text: money in whole pounds or on the page's basis ``unit``,
    years as financial years."""
    gbp = _money_text(unit)
    return pd.DataFrame(
        {
            "Rule": table["rule"],
            "Financial year": _financial_years(table["year"], start_month),
            "Mean": table["mean"].map(gbp),
            "Standard deviation": table["sd"].map(gbp),
            "5th percentile": table["p5"].map(gbp),
            "95th percentile": table["p95"].map(gbp),
        }
    )


def setting_name(key: str) -> str:
    """A scenario key in words, for a setting no lever names: its line, then its last parts.

    >>> setting_name("services.crisis.capacity.places"), setting_name("costs.cip.delivered_share")
    ('Crisis: capacity, places', 'Costs: cip, delivered share')
    """
    parts = key.split(".")
    if parts[0] == "services" and len(parts) > 2:
        head, rest = LINE_LABELS.get(parts[1], parts[1].replace("_", " ").capitalize()), parts[2:]
    else:
        head, rest = parts[0].replace("_", " ").capitalize(), parts[1:]
    return f"{head}: {', '.join(part.replace('_', ' ') for part in rest)}" if rest else head


def parameter_name(key: str) -> str:
    """A scenario key as the page names it: the label of the lever that sets it alone, else
    :func:`setting_name`.

    >>> parameter_name("services.inpatient.los_days.mean"), parameter_name("services.crisis.growth")
    ('Mean length of stay', 'Crisis: growth')
    """
    for lever in LEVERS:
        if not callable(lever.keys) and lever.keys == (key,):
            return lever.label
    return setting_name(key)


def edits_display(base: Scenario, edited: Scenario) -> pd.DataFrame:
    """The settings the levers changed, in words: ``Setting`` (the lever's label, in its unit), ``As loaded``
    and ``Now`` (values in the lever's unit, e.g. ``3 % a year``)."""
    levers = {key: lever for lever in levers_for(base) for key in lever.scenario_keys(base)}
    rows = []
    for key, a, b in edited_keys(base, edited):
        lever = levers.get(key)
        if lever is None:
            rows.append((setting_name(key), str(yaml_cell(a)), str(yaml_cell(b))))
            continue

        def shown(value: Any, lever: Lever = lever) -> str:
            if lever.kind == "choice" or not isinstance(value, int | float):
                return str(value)
            return f"{value * lever.scale:,.{0 if lever.step >= 1 else 1}f} {lever.unit}".strip()

        label = lever.label
        if len(lever.scenario_keys(base)) > 1:
            label = f"{label} ({setting_name(key)})"
        rows.append((label, shown(a), shown(b)))
    return pd.DataFrame(rows, columns=["Setting", "As loaded", "Now"]).astype(str)


def _yearly_sum(monthly: np.ndarray) -> np.ndarray:
    return monthly.reshape(monthly.shape[0], -1, 12).sum(axis=2)


def oap_table(run: Run) -> pd.DataFrame:
    """Out-of-area placements per contract year: bed days, spend and who paid (means over replications).

    Columns: ``year``, ``bed_days`` (mean), ``bed_days_p5``, ``bed_days_p95``, ``spend`` (GBP, at the
    OAP daily price), ``paid_by_provider`` and ``paid_by_commissioner`` (directly, GBP).
    """
    activity = run.activity
    if "inpatient.oap_bed_days" not in activity:
        return _empty(
            ["year", "bed_days", "bed_days_p5", "bed_days_p95", "spend", "paid_by_provider", "paid_by_commissioner"]
        )
    days = activity.yearly("inpatient.oap_bed_days")
    provider = _yearly_sum(run.costs.parts.get("inpatient.oap", np.zeros_like(run.costs.commissioner_oap)))
    commissioner = _yearly_sum(run.costs.commissioner_oap)
    rows = []
    for y in range(days.shape[1]):
        rows.append(
            {
                "year": y + 1,
                "bed_days": float(days[:, y].mean()),
                "bed_days_p5": float(np.percentile(days[:, y], 5)),
                "bed_days_p95": float(np.percentile(days[:, y], 95)),
                "spend": float((provider[:, y] + commissioner[:, y]).mean()),
                "paid_by_provider": float(provider[:, y].mean()),
                "paid_by_commissioner": float(commissioner[:, y].mean()),
            }
        )
    return pd.DataFrame(rows)


def oap_display(table: pd.DataFrame, unit: str | None = None, start_month: int = 4) -> pd.DataFrame:
    """:func:`oap_table` as text: money in whole pounds or on the page's basis ``unit``,
    years as financial years."""
    gbp = _money_text(unit)
    return pd.DataFrame(
        {
            "Financial year": _financial_years(table["year"], start_month),
            "OAP bed days, mean": table["bed_days"].map(number),
            "5th-95th percentile": [
                f"{number(a)} to {number(b)}" for a, b in zip(table["bed_days_p5"], table["bed_days_p95"], strict=True)
            ],
            "OAP spend, mean": table["spend"].map(gbp),
            "Paid by the provider": table["paid_by_provider"].map(gbp),
            "Paid by the commissioner directly": table["paid_by_commissioner"].map(gbp),
        }
    )


def oap_priced_by(run: Run) -> list[str]:
    """Rules whose income pays a price per OAP bed day (so the commissioner refunds OAPs through them)."""
    contracts = run.scenario.contracts
    out = []
    for rule in ("activity", "blended", "api"):
        terms = getattr(contracts, rule, None) if contracts is not None else None
        if terms is not None and "inpatient.oap_bed_day" in terms.prices.items():
            out.append(RULE_LABELS[rule])
    return out


def mhis_table(run: Run) -> pd.DataFrame:
    """The MHIS verdict per rule and contract year: the ICB's test, and the provider-level proxy beside it.

    Columns: ``rule``, ``year``, ``assessed`` (bool), ``p_met`` (share of runs meeting the standard),
    ``spend`` and ``minimum`` (the ICB's qualifying spend and the minimum it must reach, means, GBP),
    ``shortfall`` (mean over runs, GBP), ``provider_spend`` (qualifying spend with this provider, mean),
    ``other_spend`` (the ICB's qualifying spend elsewhere), ``provider_p_met`` (share of runs in which the spend
    with this provider alone grew enough), ``core_share`` (mean share of the spend with this provider reaching
    core services), ``verdict`` (text).
    """
    rows = []
    for rule in run.rules:
        check = run.mhis.get(rule)
        if check is None:
            continue
        p_met = check.probability_met()
        for y in range(check.spend.shape[1]):
            assessed = bool(check.assessed[y])
            p = float(p_met[y]) if assessed else float("nan")
            if not assessed:
                verdict = "not assessed (no prior-year spend)"
            elif p >= 0.999:
                verdict = "met in every run"
            elif p <= 0.001:
                verdict = "missed in every run"
            else:
                verdict = f"met in {percent(p)} of runs"
            rows.append(
                {
                    "rule": RULE_LABELS[rule],
                    "year": y + 1,
                    "assessed": assessed,
                    "p_met": p,
                    "spend": float(check.spend[:, y].mean()),
                    "minimum": float(np.nanmean(check.minimum[:, y])) if assessed else float("nan"),
                    "shortfall": float(check.shortfall[:, y].mean()),
                    "provider_spend": float(check.provider_spend[:, y].mean()),
                    "other_spend": float(check.other_spend[y]),
                    "provider_p_met": float(check.provider_met[:, y].mean()) if assessed else float("nan"),
                    "core_share": float(np.nanmean(check.core_share[:, y])),
                    "verdict": verdict,
                }
            )
    columns = [
        "rule",
        "year",
        "assessed",
        "p_met",
        "spend",
        "minimum",
        "shortfall",
        "provider_spend",
        "other_spend",
        "provider_p_met",
        "core_share",
        "verdict",
    ]
    return pd.DataFrame(rows, columns=columns)


def mhis_display(table: pd.DataFrame, unit: str | None = None, start_month: int = 4) -> pd.DataFrame:
    """:func:`mhis_table` as text: money in whole pounds or on the page's basis ``unit``,
    years as financial years."""
    gbp = _money_text(unit)
    return pd.DataFrame(
        {
            "Rule": table["rule"],
            "Financial year": _financial_years(table["year"], start_month),
            "MHIS": table["verdict"],
            "Qualifying spend, mean": table["spend"].map(gbp),
            "Minimum required, mean": table["minimum"].map(gbp),
            "Shortfall, mean": table["shortfall"].map(gbp),
            "With this provider": table["provider_spend"].map(gbp),
            "Elsewhere in the ICB": table["other_spend"].map(gbp),
            "Provider-level proxy met": table["provider_p_met"].map(lambda p: percent(p) + " of runs"),
            "Share reaching core services": table["core_share"].map(percent),
        }
    )


def cip_table(run: Run) -> pd.DataFrame:
    """The cost-improvement programme per contract year (empty without ``costs.cip``).

    Columns: ``year``, ``planned``, ``delivered`` (this year's programme), ``recurrent`` (savings recurring
    from earlier years), ``total`` (saved against no programme), GBP, means over the runs; ``delivered_share``.
    """
    columns = ["year", "planned", "delivered", "delivered_share", "recurrent", "total"]
    savings = run.costs.cip
    if savings is None:
        return pd.DataFrame({c: [] for c in columns})
    planned, delivered, recurrent = (
        _yearly_sum(part) for part in (savings.planned, savings.delivered, savings.recurrent)
    )
    rows = []
    for y in range(planned.shape[1]):
        p, d, r = float(planned[:, y].mean()), float(delivered[:, y].mean()), float(recurrent[:, y].mean())
        rows.append(
            {
                "year": y + 1,
                "planned": p,
                "delivered": d,
                "delivered_share": d / p if p else float("nan"),
                "recurrent": r,
                "total": d + r,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def cip_display(table: pd.DataFrame, unit: str | None = None, start_month: int = 4) -> pd.DataFrame:
    """:func:`cip_table` as text: money in whole pounds or on the page's basis ``unit``,
    years as financial years."""
    gbp = _money_text(unit)
    return pd.DataFrame(
        {
            "Financial year": _financial_years(table["year"], start_month),
            "Planned this year": table["planned"].map(gbp),
            "Delivered this year": table["delivered"].map(gbp),
            "Share delivered": table["delivered_share"].map(percent),
            "Recurring from earlier years": table["recurrent"].map(gbp),
            "Saved against no programme": table["total"].map(gbp),
        }
    )


CHANGE_MEASURES = {
    "inpatient.oap_bed_days": ("OAP bed days", "bed days", 1.0),
    "inpatient.occupancy_mean": ("Local bed occupancy", "%", 100.0),  # changes in percentage points
    "community.wait_days_mean": ("Community mean wait", "days", 1.0),
    "talking_therapies.wait_days_mean": ("Talking therapies mean wait", "days", 1.0),
    "crisis.wait_days_mean": ("Crisis mean wait", "days", 1.0),
}
"""Activity measures shown in "what the changes did": label, unit and scale."""


def changes_table(base: Run, edited: Run) -> pd.DataFrame:
    """What the edits did: paired differences (edited - file) on the same random numbers.

    Returns
    -------
    DataFrame
        One row per (rule, ledger) for provider surplus and commissioner spend, then one per activity
        measure: ``rule`` (label, or ``"all rules"`` for activity), ``measure``, ``unit``, ``file``,
        ``edited`` (means over the horizon), ``change`` (mean paired difference), ``ci_low``,
        ``ci_high`` (95 % interval of the mean change).
    """
    rows = []
    for rule in edited.rules:
        if rule not in base.ledgers:
            continue
        for ledger, label in (("provider_surplus", "Provider surplus"), ("commissioner_spend", "Commissioner spend")):
            d = paired_difference(base.ledgers[rule].total(ledger), edited.ledgers[rule].total(ledger))
            rows.append(_change_row(RULE_LABELS[rule], label, "GBP", d))
    for measure, (label, unit, scale) in CHANGE_MEASURES.items():
        if measure in edited.activity and measure in base.activity:
            a, b = base.activity.total(measure) * scale, edited.activity.total(measure) * scale
            keep = ~(np.isnan(a) | np.isnan(b))
            if keep.any():
                rows.append(_change_row("all rules", label, unit, paired_difference(a[keep], b[keep])))
    columns = ["rule", "measure", "unit", "file", "edited", "change", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def _change_row(rule: str, measure: str, unit: str, d: Any) -> dict[str, Any]:
    return {
        "rule": rule,
        "measure": measure,
        "unit": unit,
        "file": d.mean_base,
        "edited": d.mean_other,
        "change": d.mean_difference,
        "ci_low": d.ci_low,
        "ci_high": d.ci_high,
    }


def changes_display(table: pd.DataFrame, years: int, unit: str | None = None, start_month: int = 4) -> pd.DataFrame:
    """:func:`changes_table` as text: money over the horizon in whole pounds, or on the page's basis ``unit``
    (``£m``, ``£000``) with the horizon named by its financial years; activity in its own unit.

    >>> table = pd.DataFrame(
    ...     [["Block", "Provider surplus", "GBP", 4_000_000.0, 4_250_000.0, 250_000.0, 150_000.0, 350_000.0]],
    ...     columns=["rule", "measure", "unit", "file", "edited", "change", "ci_low", "ci_high"],
    ... )
    >>> changes_display(table, 2, "£m").iloc[0].tolist()
    ['Block', 'Provider surplus (£m, 2026/27 to 2027/28)', '£4.0m', '£4.2m', '+£0.2m', '+£0.1m to +£0.3m']
    """

    def fmt(value: float, unit_of_row: str, signed: bool = False) -> str:
        if unit_of_row == "GBP":
            if unit is not None:
                return money(value, unit, sign=signed)
            return gbp_change(value) if signed else gbp(value)
        text = number(value, 1 if unit_of_row in ("%", "days") else 0)
        if signed and math.isfinite(value) and value > 0:
            text = "+" + text
        if unit_of_row == "%" and text != "-":
            return f"{text} points" if signed else f"{text} %"
        return text

    if unit is None:
        money_heading = f"GBP over {years} year{'s' if years > 1 else ''}"
    else:
        money_heading = f"{unit}, {horizon_years(years, start_month)}"
    return pd.DataFrame(
        {
            "Rule": table["rule"],
            "Measure": [
                f"{m} ({money_heading if u == 'GBP' else u})"
                for m, u in zip(table["measure"], table["unit"], strict=True)
            ],
            "Scenario file": [fmt(v, u) for v, u in zip(table["file"], table["unit"], strict=True)],
            "With your changes": [fmt(v, u) for v, u in zip(table["edited"], table["unit"], strict=True)],
            "Change": [fmt(v, u, True) for v, u in zip(table["change"], table["unit"], strict=True)],
            "95 % interval of the change": [
                "-" if not math.isfinite(lo) else f"{fmt(lo, u, True)} to {fmt(hi, u, True)}"
                for lo, hi, u in zip(table["ci_low"], table["ci_high"], table["unit"], strict=True)
            ],
        }
    )


def saving_table(base: Run, edited: Run) -> pd.DataFrame:
    """Who captures a saving (or bears an extra cost) that the edits make, per rule.

    The system cost is the provider's cost plus the OAP spend the commissioner pays directly; its fall
    (``saving``, GBP over the horizon, mean over paired runs) splits exactly into the rise of the provider's
    surplus (``provider``) and the fall of the commissioner's spend (``commissioner``); see
    :mod:`paysim.analysis.compare`. Columns: ``rule`` (label), ``saving``, ``provider``, ``commissioner``,
    ``provider_share``.
    """

    def columns(run: Run) -> dict[str, np.ndarray]:
        return {**money_columns(run.ledgers), **system_cost_columns(run.ledgers)}

    rows = saving_split(columns(base), columns(edited))
    table = pd.DataFrame(rows, columns=["rule", "saving", "provider", "commissioner", "provider_share"])
    table["rule"] = table["rule"].map(RULE_LABELS)
    return table


def saving_display(table: pd.DataFrame, years: int, unit: str | None = None) -> pd.DataFrame:
    """:func:`saving_table` as text, every column a change with its sign (``+`` a rise): the system cost,
    the provider's surplus and the commissioner's spend. Whole pounds, or ``unit`` (``£m``, ``£000``)."""
    horizon = f"over {years} year{'s' if years > 1 else ''}"

    def text(value: float) -> str:
        return gbp_change(value) if unit is None else money(value, unit, sign=True)

    return pd.DataFrame(
        {
            "Rule": table["rule"],
            f"System cost changes by ({horizon})": (-table["saving"]).map(text),
            "Provider surplus changes by": table["provider"].map(text),
            "Commissioner spend changes by": (-table["commissioner"]).map(text),
        }
    )


def activity_table(activity: Activity) -> pd.DataFrame:
    """Every public measure over the horizon: ``measure``, ``unit``, ``mean``, ``p5``, ``p95``.

    Counts and bed days are totals over the horizon; ``*_mean`` measures are means; ``waiting_end`` is
    the list at the end. Occupancy is in % of beds.
    """
    rows = []
    for name in public_measures(activity):
        unit = MEASURE_UNITS.get(name.rsplit(".", 1)[-1], "")
        values = activity.total(name) * (100.0 if unit == "% of beds" else 1.0)
        finite = values[np.isfinite(values)]
        rows.append(
            {
                "measure": name,
                "unit": unit,
                "mean": float(finite.mean()) if finite.size else float("nan"),
                "p5": float(np.percentile(finite, 5)) if finite.size else float("nan"),
                "p95": float(np.percentile(finite, 95)) if finite.size else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["measure", "unit", "mean", "p5", "p95"])


def activity_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`activity_table` as text."""

    def fmt(v: float) -> str:
        return number(v, 0 if abs(v) >= 100 else 1) if math.isfinite(v) else "-"

    return pd.DataFrame(
        {
            "Measure": table["measure"].map(measure_name),
            "Unit": table["unit"],
            "Mean": table["mean"].map(fmt),
            "5th percentile": table["p5"].map(fmt),
            "95th percentile": table["p95"].map(fmt),
        }
    )
