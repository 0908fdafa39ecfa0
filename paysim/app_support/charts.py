"""Altair charts of the app: fan charts, risk histograms, spend and changes."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

import altair as alt
import numpy as np
import pandas as pd

from paysim.app_support.common import MONEY_UNITS, RULE_COLOURS, RULE_LABELS, money
from paysim.app_support.tables import histogram_stats
from paysim.model.terms import RULES

# --- charts -------------------------------------------------------------------------------------------

_GBP_AXIS = (
    "(datum.value < 0 ? '-' : '') + '£' + "
    "(abs(datum.value) >= 1e6 ? format(abs(datum.value) / 1e6, ',.1~f') + 'm' : "
    "abs(datum.value) >= 1e3 ? format(abs(datum.value) / 1e3, ',.0f') + 'k' : format(abs(datum.value), ',.0f'))"
)
"""Vega expression labelling a GBP axis: ``£1.5m``, ``-£250k``, ``£0``."""

_CONVERTING = threading.Lock()


def vega_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart as a Vega-Lite spec with its data inline, for ``st.vega_lite_chart``.

    Altair checks a chart against the Vega-Lite schema every time it converts one (jsonschema), which cost
    the app about 0.6 s a rerun for its dozen charts. Every chart builder of the app is converted with the
    check in ``tests/test_app_support.py``, so the app itself converts without it. The data go inline
    with no row limit (a histogram has one row per replication).
    """
    with _CONVERTING, alt.data_transformers.enable("default", max_rows=None):  # global to altair: one at a time
        return chart.to_dict(validate=False)


def gbp_axis(title: str) -> alt.Axis:
    """An Altair axis for GBP values, labelled ``£1.5m`` / ``-£250k``."""
    return alt.Axis(title=title, labelExpr=_GBP_AXIS, tickCount=8)


def money_axis(title: str, unit: str = "£m") -> alt.Axis:
    """An Altair axis for GBP values on one money basis (:data:`~paysim.app_support.common.MONEY_UNITS`),
    every label in it (``£1.5m``, ``-£0.2m``; ``£250k``) and the basis in the title: ``Surplus (£m)``."""
    if unit not in MONEY_UNITS:
        raise ValueError(f"{unit!r} is not a money basis; bases are {', '.join(MONEY_UNITS)}")
    decimals, suffix = (1, "m") if unit == "£m" else (0, "k")
    label = (
        f"(round(datum.value / {MONEY_UNITS[unit]:g} * {10**decimals}) < 0 ? '-' : '') + '£' + "
        f"format(abs(datum.value) / {MONEY_UNITS[unit]:g}, ',.{decimals}~f') + '{suffix}'"
    )
    return alt.Axis(title=f"{title} ({unit})", labelExpr=label, tickCount=8)


def with_money_text(frame: pd.DataFrame, columns: Iterable[str], unit: str = "£m") -> pd.DataFrame:
    """``frame`` with a text column ``<column>_text`` for each money column, on the basis ``unit``
    (:func:`~paysim.app_support.common.money`), for tooltips: Vega-Lite formats cannot rescale."""
    frame = frame.copy()
    for column in columns:
        frame[f"{column}_text"] = [money(value, unit) for value in frame[column]]
    return frame


def _rule_colour(rules: Iterable[str] | None = None) -> alt.Color:
    labels = [RULE_LABELS[r] for r in RULES] if rules is None else list(rules)
    colours = [RULE_COLOURS[r] for r in RULES if RULE_LABELS[r] in labels]
    return alt.Color("rule:N", title="Payment rule", scale=alt.Scale(domain=labels, range=colours), legend=None)


def fan_chart(
    table: pd.DataFrame, title: str, y_title: str = "Provider surplus in the month", unit: str = "£m"
) -> alt.FacetChart:
    """Fan chart from :func:`fan_table`: median line, 50 % and 90 % bands, a panel per rule, zero marked; axis
    and tooltips on the money basis ``unit``."""
    table = with_money_text(table, ("p5", "p25", "p50", "p75", "p95"), unit)
    labels = list(dict.fromkeys(table["label"]))
    ticks = labels[:: max(1, len(labels) // 10)] if labels else []
    x = alt.X("label:O", title=None, sort=labels, axis=alt.Axis(values=ticks, labelAngle=-45))
    colour = _rule_colour(list(dict.fromkeys(table["rule"])))
    tooltip = [
        alt.Tooltip("rule:N", title="Rule"),
        alt.Tooltip("label:N", title="Month"),
        alt.Tooltip("p50_text:N", title="Median"),
        alt.Tooltip("p25_text:N", title="25th percentile"),
        alt.Tooltip("p75_text:N", title="75th percentile"),
        alt.Tooltip("p5_text:N", title="5th percentile"),
        alt.Tooltip("p95_text:N", title="95th percentile"),
    ]
    base = alt.Chart().encode(x=x)
    band90 = base.mark_area(opacity=0.18).encode(
        y=alt.Y("p5:Q", axis=money_axis(y_title, unit)), y2="p95:Q", color=colour, tooltip=tooltip
    )
    band50 = base.mark_area(opacity=0.38).encode(y="p25:Q", y2="p75:Q", color=colour, tooltip=tooltip)
    median = base.mark_line(strokeWidth=2).encode(y="p50:Q", color=colour, tooltip=tooltip)
    zero = alt.Chart().mark_rule(color="#444", strokeDash=[4, 3]).encode(y=alt.datum(0))
    rules = list(dict.fromkeys(table["rule"]))
    return (
        alt.layer(band90, band50, median, zero, data=table)
        .properties(width=420, height=200)
        .facet(facet=alt.Facet("rule:N", title=None, sort=rules), columns=2)
        .properties(title=title)
    )


def activity_fan_chart(table: pd.DataFrame, y_title: str, colour: str = "#e45756") -> alt.LayerChart:
    """Fan chart of one activity measure from :func:`measure_fan` (median, 50 % and 90 % bands)."""
    labels = list(table["label"])
    ticks = labels[:: max(1, len(labels) // 12)]
    x = alt.X("label:O", title=None, sort=labels, axis=alt.Axis(values=ticks, labelAngle=-45))
    tooltip = [alt.Tooltip("label:N", title="Month")] + [
        alt.Tooltip(f"{q}:Q", title=t, format=",.1f")
        for q, t in (("p50", "median"), ("p5", "5th percentile"), ("p95", "95th percentile"))
    ]
    base = alt.Chart(table).encode(x=x, tooltip=tooltip)
    return alt.layer(
        base.mark_area(opacity=0.18, color=colour).encode(y=alt.Y("p5:Q", title=y_title), y2="p95:Q"),
        base.mark_area(opacity=0.38, color=colour).encode(y="p25:Q", y2="p75:Q"),
        base.mark_line(color=colour).encode(y="p50:Q"),
    ).properties(height=240)


HISTOGRAM_HEIGHT = 240
"""Pixels of one risk histogram, title and axes included (Streamlit fits the chart into its height)."""


def nice_step(span: float, parts: int) -> float:
    """The smallest round step (1, 2, 2.5 or 5 x a power of ten) that cuts ``span`` into at most ``parts``.

    >>> nice_step(1_900_000, 40), nice_step(1_900_000, 6)
    (50000, 500000)
    """
    raw = span / parts if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def nice_domain(values: np.ndarray, bins: int = 40) -> tuple[float, float]:
    """A range covering ``values`` whose ends are multiples of a round bin width (:func:`nice_step`), for
    histograms that share an axis; zero is then a bin edge.

    >>> nice_domain(np.array([-1_234_567.0, 612_000.0]))
    (-1250000.0, 650000.0)
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (-1.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 0:
        pad = max(abs(lo) * 0.05, 1.0)
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, bins)
    return (float(math.floor(lo / step) * step), float(math.ceil(hi / step) * step))


def histogram_bins(domain: tuple[float, float], bins: int = 40) -> tuple[float, float, float]:
    """Bin edges for a histogram over ``domain``: ``(lo, hi, step)`` with a round ``step`` and ends that are
    multiples of it, so break-even (£0) falls on a bin edge and no bin straddles it.

    >>> histogram_bins((-1_250_000.0, 650_000.0))
    (-1250000.0, 650000.0, 50000)
    """
    lo, hi = domain
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    step = nice_step(hi - lo, bins)
    return float(math.floor(lo / step) * step), float(math.ceil(hi / step) * step), step


def round_ticks(lo: float, hi: float, ticks: int = 6) -> list[float]:
    """Round tick values inside ``[lo, hi]`` (multiples of :func:`nice_step`), zero among them when in range.

    >>> round_ticks(-1_250_000.0, 650_000.0)
    [-1000000.0, -500000.0, 0.0, 500000.0]
    """
    step = nice_step(hi - lo, ticks)
    first = math.ceil(lo / step)
    return [float(k * step) for k in range(first, math.floor(hi / step) + 1)]


HISTOGRAM_MARKS = (("5th percentile", "P5", 0), ("mean", "Mean", 16), ("95th percentile", "P95", 32))
"""The marks on a risk histogram: statistic, its short label, and the label's distance from the top (px),
so the three labels never print over each other however close the values are."""


def risk_histogram(
    values: np.ndarray, rule: str, title: str, domain: tuple[float, float], unit: str = "£m"
) -> alt.LayerChart:
    """The risk chart: histogram of one rule's surplus with its mean (solid) and 5th / 95th percentiles
    (dashed) marked and labelled on three rows; ``domain`` fixes the x range so rules can be compared side by
    side. Bins are round widths with £0 on an edge (:func:`histogram_bins`); ticks are round £ values; the
    labels are on the page's money basis ``unit``."""
    label = RULE_LABELS.get(rule, rule)
    colour = RULE_COLOURS.get(rule, "#4c78a8")
    samples = pd.DataFrame({"surplus": np.asarray(values, dtype=float)})
    found = histogram_stats(values)
    stats = pd.DataFrame(
        [
            {"stat": stat, "value": found[stat], "text": f"{short} {money(found[stat], unit)}", "row": row}
            for stat, short, row in HISTOGRAM_MARKS
        ]
    )
    lo, hi, step = histogram_bins(domain)
    x_scale = alt.Scale(domain=[lo, hi], nice=False)
    axis = money_axis("Provider surplus in the year", unit)
    axis["values"] = round_ticks(lo, hi)
    bars = (
        alt.Chart(samples)
        .mark_bar(color=colour, opacity=0.75)
        .encode(
            x=alt.X("surplus:Q", bin=alt.Bin(extent=[lo, hi], step=step), scale=x_scale, axis=axis),
            y=alt.Y("count():Q", title="Runs", axis=alt.Axis(minExtent=36)),  # stacked charts' plots line up
            tooltip=[alt.Tooltip("count():Q", title="Runs")],
        )
    )
    marks = (
        alt.Chart(stats)
        .mark_rule(color="#222", strokeWidth=2)
        .encode(
            x=alt.X("value:Q", scale=x_scale),
            strokeDash=alt.StrokeDash(
                "stat:N",
                scale=alt.Scale(domain=["mean", "5th percentile", "95th percentile"], range=[[1, 0], [5, 3], [5, 3]]),
                legend=None,
            ),
            tooltip=[alt.Tooltip("text:N", title=label)],
        )
    )
    zero = (
        alt.Chart(pd.DataFrame({"value": [0.0]}))
        .mark_rule(color="#c00", opacity=0.5)
        .encode(x=alt.X("value:Q", scale=x_scale))
    )
    texts = [
        alt.Chart(stats[stats["stat"] == stat])
        .mark_text(align="left", dx=4, dy=row, baseline="top", fontSize=11)
        .encode(x=alt.X("value:Q", scale=x_scale), y=alt.value(0), text="text:N")
        for stat, _, row in HISTOGRAM_MARKS
    ]
    return alt.layer(bars, zero, marks, *texts).properties(title=f"{label}: {title}", height=HISTOGRAM_HEIGHT)


def spend_chart(table: pd.DataFrame, unit: str = "£m") -> alt.LayerChart:
    """Commissioner spend per contract year and rule from :func:`spend_table`: median point and a bar from
    the 5th to the 95th percentile; axis and tooltips on the money basis ``unit``."""
    table = with_money_text(table, ("mean", "p5", "p95"), unit)
    colour = _rule_colour(list(dict.fromkeys(table["rule"])))
    base = alt.Chart(table).encode(
        x=alt.X("rule:N", title=None, sort=list(dict.fromkeys(table["rule"]))),
        color=colour,
        tooltip=[
            alt.Tooltip("rule:N", title="Rule"),
            alt.Tooltip("year:O", title="Year"),
            alt.Tooltip("mean_text:N", title="Mean"),
            alt.Tooltip("p5_text:N", title="5th percentile"),
            alt.Tooltip("p95_text:N", title="95th percentile"),
        ],
    )
    bars = base.mark_rule(strokeWidth=6, opacity=0.5).encode(
        y=alt.Y("p5:Q", axis=money_axis("Commissioner spend in the year", unit), scale=alt.Scale(zero=False)),
        y2="p95:Q",
    )
    points = base.mark_point(filled=True, size=70, color="#222").encode(y="p50:Q")
    return (
        alt.layer(bars, points)
        .properties(width=160, height=220)
        .facet(column=alt.Column("year:O", title="Contract year"))
    )


def changes_chart(table: pd.DataFrame, unit: str = "£m") -> alt.LayerChart:
    """Mean change in provider surplus and commissioner spend per rule (edited - file), with 95 % intervals;
    axis and tooltips on the money basis ``unit``."""
    money = with_money_text(table[table["unit"] == "GBP"], ("change", "ci_low", "ci_high"), unit)
    colour = _rule_colour(list(dict.fromkeys(money["rule"])))
    base = alt.Chart(money).encode(
        y=alt.Y("rule:N", title=None, sort=list(dict.fromkeys(money["rule"]))),
        color=colour,
        tooltip=[
            alt.Tooltip("rule:N", title="Rule"),
            alt.Tooltip("measure:N", title="Measure"),
            alt.Tooltip("change_text:N", title="Mean change"),
            alt.Tooltip("ci_low_text:N", title="95 % interval from"),
            alt.Tooltip("ci_high_text:N", title="95 % interval to"),
        ],
    )
    bars = base.mark_bar(opacity=0.8).encode(x=alt.X("change:Q", axis=money_axis("Change over the horizon", unit)))
    whiskers = base.mark_rule(color="#222").encode(x="ci_low:Q", x2="ci_high:Q")
    zero = alt.Chart().mark_rule(color="#444").encode(x=alt.datum(0))
    return (
        alt.layer(bars, whiskers, zero, data=money)
        .properties(width=320, height=140)
        .facet(column=alt.Column("measure:N", title=None))
    )
