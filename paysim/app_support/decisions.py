"""The Sensitivity and Contract design tabs: tornado, Sobol and design data and charts."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from paysim.analysis import design, sensitivity
from paysim.app_support.charts import money_axis
from paysim.app_support.common import (
    MONEY_UNITS,
    RULE_LABELS,
    gbp,
    gbp_change,
    measure_name,
    money,
    number,
    percent,
)
from paysim.app_support.common import money as money_text
from paysim.app_support.runs import Run
from paysim.app_support.tables import horizon_years, parameter_name
from paysim.model.scenario import Scenario, scenario_from_yaml
from paysim.model.uncertainty import central_value
from paysim.money.finance import LEDGERS

# --- decision analysis: sensitivity (tornado, Sobol) and contract design -----------------------------

MONEY_SUFFIXES = (*LEDGERS, "system_cost")
"""Last part of a results column that is money (GBP over the horizon): ``<rule>.<ledger>``, ``<rule>.system_cost``."""

LEDGER_LABELS = {
    "provider_income": "provider income",
    "provider_cost": "provider cost",
    "provider_surplus": "provider surplus",
    "commissioner_spend": "commissioner spend",
    "system_cost": "system cost",
}
"""How each money column is named on screen."""


def is_money(measure: str) -> bool:
    """Whether a results column is money, GBP over the horizon (``blended.provider_surplus``, ...)."""
    rule, _, last = measure.rpartition(".")
    return rule in RULE_LABELS and last in MONEY_SUFFIXES


def measure_label(measure: str) -> str:
    """A results column for people: ``"Blended: provider surplus"``, ``"Inpatient: out-of-area bed days"``.

    >>> measure_label("blended.provider_surplus"), measure_label("inpatient.oap_bed_days")
    ('Blended: provider surplus', 'Inpatient: out-of-area bed days')
    """
    if is_money(measure):
        rule, _, last = measure.rpartition(".")
        return f"{RULE_LABELS[rule]}: {LEDGER_LABELS[last]}"
    return measure_name(measure)


def measure_phrase(measure: str) -> str:
    """A results column inside a sentence: ``"blended provider surplus"``, ``"crisis referrals"``.

    >>> measure_phrase("block.commissioner_spend"), measure_phrase("crisis.referrals")
    ('block commissioner spend', 'crisis referrals')
    """
    if is_money(measure):
        rule, _, last = measure.rpartition(".")
        return f"{rule} {LEDGER_LABELS[last]}"
    line, label = measure.partition(".")[0], measure_name(measure)  # raises for a measure with no name
    return f"{line.replace('_', ' ')} {label.partition(': ')[2]}"


def sensitivity_measures(scenario: Scenario) -> list[str]:
    """Results columns a sensitivity analysis can rank parameters by: each rule's provider surplus first,
    then the rest of the money, then the activity measures (see :func:`paysim.analysis.sensitivity.column_names`)."""
    names = sensitivity.column_names(scenario)
    surplus = [n for n in names if is_money(n) and n.endswith(".provider_surplus")]
    money = [n for n in names if is_money(n) and n not in surplus]
    return surplus + money + [n for n in names if not is_money(n)]


def default_measure(scenario: Scenario) -> str:
    """The column a sensitivity analysis starts on: the API provider surplus (the regime in force), else the
    blended one, else the block one, else the first rule's, else the first activity measure."""
    names = sensitivity_measures(scenario)
    for rule in ("api", "blended", "block"):
        if f"{rule}.provider_surplus" in names:
            return f"{rule}.provider_surplus"
    return names[0]


def default_tornado_replications(engine: str) -> int:
    """Replications of each tornado run: 100 on the vector engine, 10 on the patient-level DES."""
    return 100 if engine == "vector" else 10


def tornado_simulations(scenario: Scenario) -> int:
    """Simulations a tornado needs: one at central values and two (low and high end) per uncertain key that
    changes the patients; a contract or cost key re-prices the central simulation. 0 without ``uncertain:``."""
    if scenario.uncertain is None:
        return 0
    return 1 + 2 * len(scenario.uncertain.simulation_keys())


def sobol_simulations(scenario: Scenario, samples: int) -> int:
    """Parameter sets a Sobol analysis evaluates: ``samples x (P + 2)`` (each a short run), 0 without ``uncertain:``."""
    if scenario.uncertain is None:
        return 0
    return samples * (len(scenario.uncertain.names) + 2)


def run_tornado(scenario_yaml: str, measure: str, reps: int, engine: str) -> sensitivity.Tornado:
    """One-way sensitivity (:func:`paysim.analysis.sensitivity.one_way`) of a scenario given as YAML, on common random
    numbers, the ends at the 5th and 95th percentiles. Raises :class:`~paysim.analysis.sensitivity.SensitivityError`."""
    scenario = scenario_from_yaml(scenario_yaml, source="scenario")
    return sensitivity.one_way(scenario, measure, reps, engine=engine)


def run_sobol(scenario_yaml: str, measure: str, samples: int, reps: int, engine: str) -> sensitivity.SobolResult:
    """Sobol indices (:func:`paysim.analysis.sensitivity.sobol`) of a scenario given as YAML."""
    scenario = scenario_from_yaml(scenario_yaml, source="scenario")
    return sensitivity.sobol(scenario, measure, samples=samples, reps=reps, engine=engine)


def setting_text(value: float) -> str:
    """A parameter's setting, short and readable: ``700``, ``29.59``, ``0.0325``, ``4,020,000``.

    >>> setting_text(4_020_000.0), setting_text(29.5912), setting_text(0.032499), setting_text(700)
    ('4,020,000', '29.59', '0.0325', '700')
    """
    if value is None or not math.isfinite(value):
        return "-"
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{float(f'{value:.4g}'):g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")


def measure_text(value: float, money: bool, unit: str | None = None) -> str:
    """A value of a results column: money on the basis ``unit`` (whole GBP with thousands separators without
    one), else a number."""
    if money:
        return gbp(value) if unit is None else money_text(value, unit)
    if value is None or not math.isfinite(value):
        return "-"
    return number(value, 0 if abs(value) >= 100 else 2)


def _percentile_name(q: float) -> str:
    """``0.05 -> "5th percentile"``, ``0.95 -> "95th percentile"``."""
    n = round(100 * q, 1)
    n_text = f"{n:g}"
    last = int(n) % 10 if float(n).is_integer() else -1
    suffix = "th" if int(n) % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(last, "th")
    return f"{n_text}{suffix} percentile"


def tornado_ends(tornado: sensitivity.Tornado) -> dict[str, str]:
    """What the two ends of every bar are: ``{"low": "5th percentile", "high": "95th percentile"}``."""
    return {"low": _percentile_name((1 - tornado.interval) / 2), "high": _percentile_name((1 + tornado.interval) / 2)}


def tornado_table(tornado: sensitivity.Tornado) -> pd.DataFrame:
    """The one-way table as numbers (columns :data:`paysim.analysis.sensitivity.TORNADO_COLUMNS`), largest swing
    first."""
    return pd.DataFrame(tornado.rows, columns=list(sensitivity.TORNADO_COLUMNS))


def tornado_unit(tornado: sensitivity.Tornado, unit: str = "£m") -> str | None:
    """The money basis of a tornado's table and chart: None unless its measure is money; else the page's basis
    ``unit``, or £000 where £m (to one decimal) would show a swing or a standard error that is not zero as £0.0m
    (a swing's standard error is often under £0.1m: on common random numbers it is small)."""
    if not is_money(tornado.measure):
        return None
    if unit not in MONEY_UNITS:
        raise ValueError(f"{unit!r} is not a money basis; bases are {', '.join(MONEY_UNITS)}")
    table = tornado_table(tornado)
    figures = np.abs(table[["swing", "swing_se"]].to_numpy(dtype=float).ravel())
    hidden = (figures > 0) & (figures < 0.05 * MONEY_UNITS["£m"])  # rounds to £0.0m
    return "£000" if unit == "£m" and hidden.any() else unit


def amount(value: float | None, unit: str) -> str:
    """Money as a number on the basis ``unit`` for a table whose header says the basis: ``1.2`` (£m, one
    decimal) or ``1,235`` (£000); ``-`` if missing.

    >>> amount(1_234_567, "£m"), amount(-1_234_567, "£000"), amount(-20_000, "£m")
    ('1.2', '-1,235', '0.0')
    """
    if value is None or not math.isfinite(value):
        return "-"
    decimals = 1 if unit == "£m" else 0
    scaled = round(value / MONEY_UNITS[unit], decimals)
    return f"{scaled + 0.0:,.{decimals}f}"  # + 0.0: no "-0.0"


def tornado_display(tornado: sensitivity.Tornado, unit: str = "£m") -> pd.DataFrame:
    """The one-way table as text: settings of each parameter and the mean of the measure at each end, its
    swing and the swing's paired standard error; money on the basis :func:`tornado_unit` picks from the page's
    ``unit``, named in the headers (``Swing (£000)``)."""
    basis = tornado_unit(tornado, unit)
    ends = tornado_ends(tornado)
    table = tornado_table(tornado)
    after = "" if basis is None else f" ({basis})"

    def fmt(v: float) -> str:
        return measure_text(v, False) if basis is None else amount(v, basis)

    return pd.DataFrame(
        {
            "Parameter": table["parameter"].map(parameter_name),
            "Central": table["central"].map(setting_text),
            f"Low ({ends['low']})": table["low"].map(setting_text),
            f"High ({ends['high']})": table["high"].map(setting_text),
            f"Mean at low{after}": table["value_low"].map(fmt),
            f"Mean at high{after}": table["value_high"].map(fmt),
            f"Swing{after}": table["swing"].map(fmt),
            f"Swing, standard error{after}": table["swing_se"].map(fmt),
        }
    )


def tornado_csv(tornado: sensitivity.Tornado) -> bytes:
    """The one-way table as CSV (the columns of ``paysim sensitivity --out``), UTF-8."""
    return tornado_table(tornado).to_csv(index=False).encode("utf-8")


def _value_axis(title: str, unit: str | None) -> alt.Axis:
    return alt.Axis(title=title, format=",~f") if unit is None else money_axis(title, unit)


TORNADO_COLOURS = ("#4c78a8", "#f58518")
"""Bar colours of the low and the high end of a parameter."""


def tornado_chart(tornado: sensitivity.Tornado, title: str | None = None, unit: str = "£m") -> alt.LayerChart:
    """The tornado: per parameter (largest swing on top) a bar from the mean at central values to the mean
    with the parameter at its low end, and one to its high end, each labelled with the setting; a rule marks
    the mean at central values. Money is on the basis :func:`tornado_unit` picks from the page's ``unit`` (as
    the table). Built on :func:`paysim.analysis.sensitivity.tornado_chart_data`."""
    money = is_money(tornado.measure)
    basis = tornado_unit(tornado, unit)
    ends = tornado_ends(tornado)
    bars = pd.DataFrame(
        sensitivity.tornado_chart_data(tornado),
        columns=["parameter", "end", "setting", "value", "start", "stop", "order"],
    )
    bars["parameter"] = bars["parameter"].map(parameter_name)  # labels, not scenario keys
    bars["end_label"] = [f"{ends[e]} ({e} end)" for e in bars["end"]]
    bars["setting_text"] = bars["setting"].map(setting_text)
    bars["value_text"] = bars["value"].map(lambda v: measure_text(v, money, basis))
    # labels outside the bar's end; a zero-length bar puts its low setting on the left, its high on the right
    bars["right"] = (bars["stop"] > bars["start"]) | ((bars["stop"] == bars["start"]) & (bars["end"] == "high"))
    order = list(dict.fromkeys(bars.sort_values("order")["parameter"]))
    axis_title = f"Mean {measure_phrase(tornado.measure)} over the horizon"
    y = alt.Y("parameter:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    colour = alt.Color(
        "end_label:N",
        title="Parameter at its",
        scale=alt.Scale(domain=[f"{ends[e]} ({e} end)" for e in ("low", "high")], range=list(TORNADO_COLOURS)),
        legend=alt.Legend(orient="bottom"),
    )
    tooltip = [
        alt.Tooltip("parameter:N", title="Parameter"),
        alt.Tooltip("end_label:N", title="Set at its"),
        alt.Tooltip("setting_text:N", title="Value of the parameter"),
        alt.Tooltip("value_text:N", title="Mean of the measure"),
    ]
    base = alt.Chart(bars).encode(y=y)
    bar = base.mark_bar(opacity=0.85, height={"band": 0.7}).encode(
        x=alt.X("start:Q", axis=_value_axis(axis_title, basis), scale=alt.Scale(zero=False, padding=40)),
        x2="stop:Q",
        color=colour,
        tooltip=tooltip,
    )
    right = (
        base.transform_filter("datum.right")
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(x="stop:Q", text="setting_text:N")
    )
    left = (
        base.transform_filter("!datum.right")
        .mark_text(align="right", dx=-4, fontSize=11)
        .encode(x="stop:Q", text="setting_text:N")
    )
    centre_data = pd.DataFrame(
        {"value": [tornado.value_central], "text": [measure_text(tornado.value_central, money, basis)]}
    )
    centre = (
        alt.Chart(centre_data)
        .mark_rule(color="#222", strokeWidth=1.5)
        .encode(x="value:Q", tooltip=[alt.Tooltip("text:N", title="Mean at central values")])
    )
    return alt.layer(bar, left, right, centre).properties(
        title=title or f"What moves the mean {measure_phrase(tornado.measure)} most",
        height=alt.Step(34),
    )


def sobol_display(result: sensitivity.SobolResult) -> pd.DataFrame:
    """The Sobol table as text: first-order and total index with their 95 % interval half-widths."""

    def fmt(v: float) -> str:
        return f"{v:.2f}" if math.isfinite(v) else "-"

    table = pd.DataFrame(result.rows, columns=list(sensitivity.SOBOL_COLUMNS))
    return pd.DataFrame(
        {
            "Parameter": table["parameter"].map(parameter_name),
            "First order (alone)": table["S1"].map(fmt),
            "± (95 %)": table["S1_conf"].map(fmt),
            "Total (with interactions)": table["ST"].map(fmt),
            "± (95 %) ": table["ST_conf"].map(fmt),
        }
    )


def sobol_chart(result: sensitivity.SobolResult) -> alt.LayerChart:
    """Grouped bars of the first-order and total Sobol index per parameter (largest total on top) with
    their 95 % intervals. Built on :func:`paysim.analysis.sensitivity.sobol_chart_data`."""
    bars = pd.DataFrame(
        sensitivity.sobol_chart_data(result.rows), columns=["parameter", "index", "value", "low", "high", "order"]
    )
    bars[["low", "high"]] = bars[["low", "high"]].clip(0.0, 1.0)  # an index lies in 0..1; beyond is noise
    bars["parameter"] = bars["parameter"].map(parameter_name)  # labels, not scenario keys
    order = list(dict.fromkeys(bars.sort_values("order")["parameter"]))
    y = alt.Y("parameter:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    offset = alt.YOffset("index:N", sort=["first order", "total"])
    colour = alt.Color(
        "index:N",
        title="Sobol index",
        scale=alt.Scale(domain=["first order", "total"], range=["#72b7b2", "#4c78a8"]),
        legend=alt.Legend(orient="bottom"),
    )
    tooltip = [
        alt.Tooltip("parameter:N", title="Parameter"),
        alt.Tooltip("index:N", title="Index"),
        alt.Tooltip("value:Q", title="Estimate", format=".2f"),
        alt.Tooltip("low:Q", title="95 % interval from", format=".2f"),
        alt.Tooltip("high:Q", title="95 % interval to", format=".2f"),
    ]
    base = alt.Chart(bars).encode(y=y, yOffset=offset, tooltip=tooltip)
    bar = base.mark_bar(height={"band": 0.9}).encode(
        x=alt.X(
            "value:Q",
            title="Share of the variance of the mean",
            axis=alt.Axis(format=".0%"),
            scale=alt.Scale(
                domain=[min(0.0, float(bars["value"].min())), max(1.0, float(bars["value"].max()))], nice=False
            ),
        ),
        color=colour,
    )
    whisker = base.mark_rule(color="#222").encode(x="low:Q", x2="high:Q")
    return alt.layer(bar, whisker).properties(
        title=f"Sobol indices of the mean {measure_phrase(result.measure)}", height=alt.Step(40)
    )


@dataclass(frozen=True)
class DesignChoice:
    """A contract-design question the app offers: a goal met by one or more contract terms.

    Attributes
    ----------
    name:
        Identifier (stable, for widget keys and tests).
    label:
        What the picker shows.
    goal:
        A goal of :func:`paysim.analysis.design.design` (``p-deficit``, ``mean-surplus``, ``equal-shortfall``).
    terms:
        Dotted contract keys all set to the answer.
    """

    name: str
    label: str
    goal: str
    terms: tuple[str, ...]


BLOCK_VALUE = "contracts.block.annual_value"
CAPITATION_RATE = "contracts.capitation.rate_per_head"
MARGINAL_RATES = ("contracts.blended.variable.rate_above", "contracts.blended.variable.rate_below")
API_PLAN = "contracts.api.baseline.error"
API_LOCAL_RATES = ("contracts.api.variable.rate_above", "contracts.api.variable.rate_below")

DESIGN_CHOICES = (
    DesignChoice("block-p-deficit", "Block value with a set chance of a deficit", "p-deficit", (BLOCK_VALUE,)),
    DesignChoice(
        "capitation-p-deficit", "Capitation rate with a set chance of a deficit", "p-deficit", (CAPITATION_RATE,)
    ),
    DesignChoice(
        "blended-equal-shortfall",
        "Blended marginal rate that shares the bad years equally (equal expected shortfall)",
        "equal-shortfall",
        MARGINAL_RATES,
    ),
    DesignChoice(
        "block-break-even", "Block value that breaks even on average (mean surplus 0)", "mean-surplus", (BLOCK_VALUE,)
    ),
    DesignChoice(
        "capitation-break-even",
        "Capitation rate that breaks even on average (mean surplus 0)",
        "mean-surplus",
        (CAPITATION_RATE,),
    ),
    DesignChoice(
        "api-p-deficit",
        "API fixed payment (its plan above or below expected activity) with a set chance of a deficit",
        "p-deficit",
        (API_PLAN,),
    ),
    DesignChoice(
        "api-break-even",
        "API fixed payment (its plan above or below expected activity) that breaks even on average",
        "mean-surplus",
        (API_PLAN,),
    ),
    DesignChoice(
        "api-equal-shortfall",
        "API local variable rate that shares the bad years equally (equal expected shortfall)",
        "equal-shortfall",
        API_LOCAL_RATES,
    ),
)
"""Every design question; :func:`design_choices` keeps those a scenario's contracts can answer."""


def design_choices(scenario: Scenario) -> list[DesignChoice]:
    """The design questions whose terms are numbers of a payment rule in ``scenario``."""
    found = []
    for choice in DESIGN_CHOICES:
        try:
            design.check_terms(scenario, choice.terms)
        except design.DesignError:
            continue
        found.append(choice)
    return found


DESIGN_BOOTSTRAP = 200
"""Bootstrap resamples for the Monte Carlo interval of a design answer."""


def run_design(run: Run, choice: DesignChoice, target: float | None = None) -> design.Design:
    """Solve a design question on a run's simulated activity (no new simulation: only money is recomputed).

    ``target``: P(deficit) for ``p-deficit`` (default 0.10), mean surplus for ``mean-surplus`` (default 0).
    Raises :class:`~paysim.analysis.design.DesignError` with a message naming the term.
    """
    return design.design(
        run.scenario, choice.goal, list(choice.terms), target=target, activity=run.activity, bootstrap=DESIGN_BOOTSTRAP
    )


def term_text(term: str, value: float, unit: str | None = None) -> str:
    """A contract term's value in its unit: ``£4,323,049 a year`` (or on the page's basis ``unit``:
    ``£4.3m a year``), ``£108.08 a weighted head a year`` (a price, always in pounds and pence), ``66.1 %``.

    >>> term_text("contracts.block.annual_value", 4323049.04), term_text("contracts.blended.variable.rate_above", 0.661)
    ('£4,323,049 a year', '66.1 %')
    >>> term_text("contracts.block.annual_value", 4323049.04, "£m")
    '£4.3m a year'
    >>> term_text("contracts.capitation.rate_per_head", 108.084, "£m")
    '£108.08 a weighted head a year'
    """
    last = term.rsplit(".", 1)[-1]
    if value is None or not math.isfinite(value):
        return "-"
    if last == "annual_value":
        return f"{gbp(value) if unit is None else money(value, unit)} a year"
    if last == "rate_per_head":
        return f"{gbp(value, 2)} a weighted head a year"
    if last in design.SHARE_NAMES:
        return percent(value, 1)
    return setting_text(value)


def _terms_name(terms: Sequence[str]) -> str:
    if tuple(terms) == MARGINAL_RATES:
        return "Blended marginal rate (above and below plan)"
    if tuple(terms) == API_LOCAL_RATES:
        return "API local variable rate (above and below plan)"
    names = {BLOCK_VALUE: "Block value", CAPITATION_RATE: "Capitation rate", API_PLAN: "API plan against expected"}
    return " = ".join(names.get(t, t) for t in terms)


def design_answer(result: design.Design, scenario: Scenario, unit: str | None = None) -> dict[str, str]:
    """The answer for people: ``term`` (what was solved for), ``value``, ``interval`` (95 % bootstrap),
    ``current`` (the value in the scenario) and ``change`` (answer minus current, in the term's unit).

    A yearly sum (the block value) is in whole pounds, or on the page's money basis ``unit`` (``£m``,
    ``£000``); a price per head stays in pounds and pence, a share in %."""
    term = result.terms[0]
    current = float(central_value(scenario, term))
    difference = result.value - current
    last = term.rsplit(".", 1)[-1]
    if last in design.SHARE_NAMES:
        change = f"{100 * difference:+.1f} percentage points"
    elif last == "annual_value" and unit is not None:
        change = money(difference, unit, sign=True)
    else:
        change = gbp_change(difference, 2 if last == "rate_per_head" else 0)
    return {
        "term": _terms_name(result.terms),
        "keys": ", ".join(result.terms),
        "value": term_text(term, result.value, unit),
        "interval": f"{term_text(term, result.ci_low, unit)} to {term_text(term, result.ci_high, unit)}",
        "current": term_text(term, current, unit),
        "change": change,
    }


def design_display(
    result: design.Design, unit: str | None = None, years: int | None = None, start_month: int = 4
) -> pd.DataFrame:
    """What the answer means, as text: P(deficit), mean surplus, both parties' expected shortfall and the
    commissioner's mean spend at the answer, over the horizon.

    Money is in whole pounds, or on the page's basis ``unit`` (``£m``, ``£000``); given its ``years`` (and the
    scenario's ``start_month``), the horizon is named by its financial years (``2026/27 to 2027/28``)."""
    m = result.at_answer
    horizon = "the horizon" if years is None else horizon_years(years, start_month)

    def fmt(value: float) -> str:
        return gbp(value) if unit is None else money(value, unit)

    rows = [
        (f"P(provider deficit over {horizon})", percent(m["p_deficit"], 1)),
        (f"Mean provider surplus over {horizon}", fmt(m["mean_surplus"])),
        ("Provider's expected shortfall (worst 5 %, below its mean)", fmt(m["provider_shortfall"])),
        ("Commissioner's expected shortfall (worst 5 %, above its mean)", fmt(m["commissioner_shortfall"])),
        (f"Mean commissioner spend over {horizon}", fmt(m["mean_spend"])),
    ]
    return pd.DataFrame(rows, columns=["At the answer", "Value"])


def design_window(result: design.Design, flat: float = 0.005) -> tuple[float, float]:
    """The range of term values a design chart shows: for P(deficit), where the curve is neither at 0 nor at 1
    (within ``flat``) widened by a quarter each side, so the fall is not squeezed into a corner; else the
    whole range searched. Always holds the answer and its interval."""
    values = np.array([point["value"] for point in result.curve])
    lo, hi = float(values.min()), float(values.max())
    if result.goal == "p-deficit":
        p = np.array([point["p_deficit"] for point in result.curve])
        moving = values[(p > flat) & (p < 1 - flat)]
        inside = [v for v in (result.value, result.ci_low, result.ci_high) if math.isfinite(v)]
        if moving.size:
            inside += [float(moving.min()), float(moving.max())]
        a, b = min(inside), max(inside)
        pad = 0.25 * (b - a) if b > a else 0.05 * max(abs(a), 1.0)
        lo, hi = max(lo, a - pad), min(hi, b + pad)
    return lo, hi


def design_chart(result: design.Design, unit: str = "£m") -> alt.LayerChart:
    """The goal against the term: its curve(s) over the values searched, the answer (rule) with its 95 %
    bootstrap interval (band) and, for P(deficit) and mean surplus, the target; money axes and tooltips on the
    basis ``unit`` (a price per head stays in £). Built on :func:`paysim.analysis.design.design_chart_data`."""
    points = pd.DataFrame(design.design_chart_data(result), columns=["value", "series", "y"])
    lo, hi = design_window(result)
    points = points[(points["value"] >= lo) & (points["value"] <= hi)]
    term = result.terms[0]
    last = term.rsplit(".", 1)[-1]
    money_term = last in ("annual_value", "rate_per_head")
    x_title = _terms_name(result.terms)
    if last in design.SHARE_NAMES:
        x_axis = alt.Axis(title=x_title, format=".0%")
    elif last == "annual_value":
        x_axis = money_axis(f"{x_title} a year", unit)
    else:
        x_axis = alt.Axis(title=f"{x_title} (£ a weighted head a year)" if money_term else x_title, format=",.0f")
    share = result.goal == "p-deficit"
    y_title = {
        "p-deficit": "P(deficit over the horizon)",
        "mean-surplus": "Mean surplus over the horizon",
        "equal-shortfall": "Expected shortfall over the horizon",
    }[result.goal]
    y_axis = alt.Axis(title=y_title, format=".0%") if share else money_axis(y_title, unit)
    points = points.assign(
        value_text=[term_text(term, v, unit) for v in points["value"]],
        y_text=[percent(v) if share else money(v, unit) for v in points["y"]],
    )
    series = list(dict.fromkeys(points["series"]))
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=series, range=["#4c78a8", "#f58518"][: len(series)]),
        legend=alt.Legend(orient="bottom") if len(series) > 1 else None,
    )
    lines = (
        alt.Chart(points)
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("value:Q", axis=x_axis, scale=alt.Scale(zero=False, nice=False)),
            y=alt.Y("y:Q", axis=y_axis),
            color=colour,
            tooltip=[
                alt.Tooltip("series:N", title="Measure"),
                alt.Tooltip("value_text:N", title=x_title),
                alt.Tooltip("y_text:N", title="Value"),
            ],
        )
    )
    answer = pd.DataFrame(
        [
            {
                "value": result.value,
                "low": result.ci_low,
                "high": result.ci_high,
                "text": term_text(term, result.value, unit),
            }
        ]
    )
    layers: list[Any] = []
    if math.isfinite(result.ci_low) and math.isfinite(result.ci_high):
        layers.append(alt.Chart(answer).mark_rect(color="#54a24b", opacity=0.2).encode(x="low:Q", x2="high:Q"))
    layers += [
        lines,
        alt.Chart(answer)
        .mark_rule(color="#54a24b", strokeWidth=2)
        .encode(x="value:Q", tooltip=[alt.Tooltip("text:N", title="Answer")]),
        alt.Chart(answer)
        .mark_text(align="left", dx=5, dy=8, baseline="top", color="#2d6a27", fontWeight="bold")
        .encode(x="value:Q", y=alt.value(0), text="text:N"),
    ]
    if result.goal in ("p-deficit", "mean-surplus"):
        layers.append(alt.Chart().mark_rule(color="#c00", strokeDash=[5, 3]).encode(y=alt.datum(result.target)))
    return alt.layer(*layers).properties(height=320, title=f"{x_title}: {y_title}")


_CLI_FLAGS = re.compile(r"--(term|goal|target|measure|interval|samples|low/--high|low|high) ")


def problem_text(problem: Exception) -> str:
    """A library error for the page: without the command-line flags its message names (the key stays).

    >>> problem_text(ValueError("--term contracts.block.x: contracts.block has no 'x'"))
    "contracts.block.x: contracts.block has no 'x'"
    """
    text = str(problem).replace("; give other bounds with --low/--high", "")
    return _CLI_FLAGS.sub("", text)
