"""Altair charts of the app: fan charts, risk histograms, spend and changes."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

import altair as alt
import numpy as np
import pandas as pd

from paysim.app_support.common import RULE_COLOURS, RULE_LABELS, gbp
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


def _rule_colour(rules: Iterable[str] | None = None) -> alt.Color:
    labels = [RULE_LABELS[r] for r in RULES] if rules is None else list(rules)
    colours = [RULE_COLOURS[r] for r in RULES if RULE_LABELS[r] in labels]
    return alt.Color("rule:N", title="Payment rule", scale=alt.Scale(domain=labels, range=colours), legend=None)


def fan_chart(table: pd.DataFrame, title: str, y_title: str = "Provider surplus in the month") -> alt.FacetChart:
    """Fan chart from :func:`fan_table`: median line, 50 % and 90 % bands, a panel per rule, zero marked."""
    labels = list(dict.fromkeys(table["label"]))
    ticks = labels[:: max(1, len(labels) // 10)] if labels else []
    x = alt.X("label:O", title=None, sort=labels, axis=alt.Axis(values=ticks, labelAngle=-45))
    colour = _rule_colour(list(dict.fromkeys(table["rule"])))
    tooltip = [
        alt.Tooltip("rule:N", title="Rule"),
        alt.Tooltip("label:N", title="Month"),
        alt.Tooltip("p50:Q", title="Median (GBP)", format=",.0f"),
        alt.Tooltip("p25:Q", title="25th percentile (GBP)", format=",.0f"),
        alt.Tooltip("p75:Q", title="75th percentile (GBP)", format=",.0f"),
        alt.Tooltip("p5:Q", title="5th percentile (GBP)", format=",.0f"),
        alt.Tooltip("p95:Q", title="95th percentile (GBP)", format=",.0f"),
    ]
    base = alt.Chart().encode(x=x)
    band90 = base.mark_area(opacity=0.18).encode(
        y=alt.Y("p5:Q", axis=gbp_axis(y_title)), y2="p95:Q", color=colour, tooltip=tooltip
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


def nice_domain(values: np.ndarray, bins: int = 40) -> tuple[float, float]:
    """A range covering ``values`` with round ends, for histograms that share an axis.

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
    raw = (hi - lo) / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return (float(math.floor(lo / step) * step), float(math.ceil(hi / step) * step))


def risk_histogram(values: np.ndarray, rule: str, title: str, domain: tuple[float, float]) -> alt.LayerChart:
    """The risk chart: histogram of one rule's surplus with its mean (solid) and 5th / 95th percentiles
    (dashed) marked and labelled; ``domain`` fixes the x range so rules can be compared side by side."""
    label = RULE_LABELS.get(rule, rule)
    colour = RULE_COLOURS.get(rule, "#4c78a8")
    samples = pd.DataFrame({"surplus": np.asarray(values, dtype=float)})
    stats = pd.DataFrame(
        [{"stat": k, "value": v, "text": f"{k}: {gbp(v)}"} for k, v in histogram_stats(values).items()]
    )
    lo, hi = domain
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    step = (hi - lo) / 40
    x_scale = alt.Scale(domain=[lo, hi], nice=False)
    bars = (
        alt.Chart(samples)
        .mark_bar(color=colour, opacity=0.75)
        .encode(
            x=alt.X(
                "surplus:Q",
                bin=alt.Bin(extent=[lo, hi], step=step),
                scale=x_scale,
                axis=gbp_axis("Provider surplus in the year"),
            ),
            y=alt.Y("count():Q", title="Runs"),
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
    text = (
        alt.Chart(stats)
        .mark_text(align="left", dx=4, dy=-4, baseline="bottom", fontSize=11)
        .encode(x=alt.X("value:Q", scale=x_scale), y=alt.value(0), text="text:N")
    )
    return alt.layer(bars, zero, marks, text).properties(title=f"{label}: {title}", height=HISTOGRAM_HEIGHT)


def spend_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Commissioner spend per contract year and rule from :func:`spend_table`: median point and a bar from
    the 5th to the 95th percentile."""
    colour = _rule_colour(list(dict.fromkeys(table["rule"])))
    base = alt.Chart(table).encode(
        x=alt.X("rule:N", title=None, sort=list(dict.fromkeys(table["rule"]))),
        color=colour,
        tooltip=[
            alt.Tooltip("rule:N", title="Rule"),
            alt.Tooltip("year:O", title="Year"),
            alt.Tooltip("mean:Q", title="Mean (GBP)", format=",.0f"),
            alt.Tooltip("p5:Q", title="5th percentile (GBP)", format=",.0f"),
            alt.Tooltip("p95:Q", title="95th percentile (GBP)", format=",.0f"),
        ],
    )
    bars = base.mark_rule(strokeWidth=6, opacity=0.5).encode(
        y=alt.Y("p5:Q", axis=gbp_axis("Commissioner spend in the year"), scale=alt.Scale(zero=False)), y2="p95:Q"
    )
    points = base.mark_point(filled=True, size=70, color="#222").encode(y="p50:Q")
    return (
        alt.layer(bars, points)
        .properties(width=160, height=220)
        .facet(column=alt.Column("year:O", title="Contract year"))
    )


def changes_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Mean change in provider surplus and commissioner spend per rule (edited - file), with 95 % intervals."""
    money = table[table["unit"] == "GBP"]
    colour = _rule_colour(list(dict.fromkeys(money["rule"])))
    base = alt.Chart(money).encode(
        y=alt.Y("rule:N", title=None, sort=list(dict.fromkeys(money["rule"]))),
        color=colour,
        tooltip=[
            alt.Tooltip("rule:N", title="Rule"),
            alt.Tooltip("measure:N", title="Measure"),
            alt.Tooltip("change:Q", title="Mean change (GBP)", format=",.0f"),
            alt.Tooltip("ci_low:Q", title="95 % interval from", format=",.0f"),
            alt.Tooltip("ci_high:Q", title="95 % interval to", format=",.0f"),
        ],
    )
    bars = base.mark_bar(opacity=0.8).encode(x=alt.X("change:Q", axis=gbp_axis("Change over the horizon")))
    whiskers = base.mark_rule(color="#222").encode(x="ci_low:Q", x2="ci_high:Q")
    zero = alt.Chart().mark_rule(color="#444").encode(x=alt.datum(0))
    return (
        alt.layer(bars, whiskers, zero, data=money)
        .properties(width=320, height=140)
        .facet(column=alt.Column("measure:N", title=None))
    )
