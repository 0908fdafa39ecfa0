"""Money on the page's basis everywhere: the tornado's table and chart, and every chart's axes and tooltips, in
£m or £000 (never whole pounds), with the basis said in the header or axis title, and labels, not scenario keys."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from paysim import app_support as ui
from paysim.activity import MEASURE_UNITS
from paysim.analysis.sensitivity import Tornado
from paysim.model.scenario import load_scenario
from tests.test_app_support import SMALL, fake_activity

CENTRAL = -1_168_268.0


def tornado(swing_se: float, measure: str = "blended.provider_surplus") -> Tornado:
    """A tornado of two parameters, worked by hand: swings of £616,538.7 and £1,466,915.6."""
    rows = [
        {"parameter": "costs.beds.oap_per_bed_day", "low": 584, "high": 656, "value_low": -434_584.6,
         "value_high": -1_901_500.2, "swing": 1_466_915.6, "swing_se": 250_000.0, "central": 620,
         "value_central": CENTRAL},
        {"parameter": "services.inpatient.los_days.mean", "low": 26.642, "high": 35.699, "value_low": -852_760.8,
         "value_high": -1_469_299.5, "swing": 616_538.7, "swing_se": swing_se, "central": 30,
         "value_central": CENTRAL},
    ]  # fmt: skip
    return Tornado(measure, 100, 0.9, CENTRAL, rows)


def test_a_tornado_reads_in_the_pages_basis_unless_a_figure_would_show_as_nothing():
    assert ui.tornado_unit(tornado(swing_se=60_000.0)) == "£m"  # every figure at least £0.05m: £m reads
    assert ui.tornado_unit(tornado(swing_se=40_000.0)) == "£000"  # £0.04m would read £0.0m
    assert ui.tornado_unit(tornado(swing_se=0.0)) == "£m"  # a zero is shown as zero in any basis
    assert ui.tornado_unit(tornado(swing_se=60_000.0), "£000") == "£000"  # the page's £000 stays
    assert ui.tornado_unit(tornado(40_000.0, "inpatient.oap_bed_days")) is None  # not money
    with pytest.raises(ValueError, match="'£bn' is not a money basis; bases are £m, £000"):
        ui.tornado_unit(tornado(0.0), "£bn")


def test_the_tornado_table_names_its_basis_in_the_headers_and_shows_numbers_in_it():
    in_m = ui.tornado_display(tornado(swing_se=60_000.0))
    assert list(in_m.columns[4:]) == [
        "Mean at low (£m)",
        "Mean at high (£m)",
        "Swing (£m)",
        "Swing, standard error (£m)",
    ]
    # -434,584.6 -> -0.4; -1,901,500.2 -> -1.9; 1,466,915.6 -> 1.5; 250,000 -> 0.3 (0.25 to one decimal, half even)
    assert in_m.iloc[0, 4:].tolist() == ["-0.4", "-1.9", "1.5", "0.2"]
    assert in_m.iloc[1, 4:].tolist() == ["-0.9", "-1.5", "0.6", "0.1"]
    in_k = ui.tornado_display(tornado(swing_se=9_362.6))
    assert list(in_k.columns[4:]) == [
        "Mean at low (£000)", "Mean at high (£000)", "Swing (£000)", "Swing, standard error (£000)"
    ]  # fmt: skip
    assert in_k.iloc[1, 4:].tolist() == ["-853", "-1,469", "617", "9"]
    counts = ui.tornado_display(tornado(9_362.6, "inpatient.oap_bed_days"))
    assert list(counts.columns[4:]) == ["Mean at low", "Mean at high", "Swing", "Swing, standard error"]
    assert counts.iloc[1]["Swing"] == "616,539"  # a count: no basis, no pound sign


def test_amounts_in_a_basis_are_rounded_numbers_without_a_negative_zero():
    assert ui.amount(1_234_567, "£m") == "1.2"
    assert ui.amount(-1_234_567, "£000") == "-1,235"
    assert ui.amount(-20_000, "£m") == "0.0"
    assert ui.amount(float("nan"), "£m") == "-"


def spec_of(chart) -> dict:
    return ui.vega_spec(chart)


def parts(spec: dict, key: str) -> list:
    """Every value under ``key`` anywhere in a Vega-Lite spec."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key:
                    found.append(v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return found


def tooltips(spec: dict) -> list[dict]:
    out = []
    for value in parts(spec, "tooltip"):
        out += value if isinstance(value, list) else [value]
    return [t for t in out if isinstance(t, dict)]


def axis_titles(spec: dict) -> list[str]:
    return [a["title"] for a in parts(spec, "axis") if isinstance(a, dict) and "title" in a]


def money_free_of_whole_pounds(spec: dict) -> None:
    """What gave money in whole pounds before: ``(GBP)`` in a title, or a ``,.0f`` tooltip format."""
    text = json.dumps(spec)
    assert "(GBP)" not in text
    for tip in tooltips(spec):
        assert tip.get("format") != ",.0f", tip


def test_the_tornado_chart_is_on_the_tables_basis_with_parameter_labels_not_keys():
    spec = spec_of(ui.tornado_chart(tornado(swing_se=9_362.6)))
    assert "Mean blended provider surplus over the horizon (£000)" in axis_titles(spec)
    labels = {row["value_text"] for row in next(iter(spec["datasets"].values()))}
    assert labels == {"-£435k", "-£1,902k", "-£853k", "-£1,469k"}
    assert {row["parameter"] for row in next(iter(spec["datasets"].values()))} == {
        "OAP daily price",
        "Mean length of stay",
    }  # lever labels, not scenario keys
    central = [d for d in spec["datasets"].values() if d and "text" in d[0] and "value" in d[0]]
    assert central[0][0]["text"] == "-£1,168k"
    money_free_of_whole_pounds(spec)
    assert "£m" in " ".join(axis_titles(spec_of(ui.tornado_chart(tornado(swing_se=60_000.0)))))


def fan_rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"rule": "Block", "label": f"M{m}", "p5": -1.0e6 + m, "p25": -0.5e6, "p50": 25_000.0, "p75": 0.4e6,
             "p95": 1.2e6}
            for m in range(1, 4)
        ]
    )  # fmt: skip


@pytest.mark.parametrize("unit", list(ui.MONEY_UNITS))
def test_every_money_chart_has_its_axis_and_tooltips_on_the_pages_basis(unit):
    fan = spec_of(ui.fan_chart(fan_rows(), "Surplus", "Surplus in the month", unit))
    spend_rows = pd.DataFrame([{"rule": "Block", "year": 1, "mean": 4.2e6, "p5": 4.1e6, "p50": 4.2e6, "p95": 4.3e6}])
    spend = spec_of(ui.spend_chart(spend_rows, unit))
    change_rows = pd.DataFrame(
        [{"rule": "Block", "measure": "Provider surplus", "unit": "GBP", "file": 0.0, "edited": 0.0,
          "change": -125_000.0, "ci_low": -150_000.0, "ci_high": -100_000.0}]
    )  # fmt: skip
    changes = spec_of(ui.changes_chart(change_rows, unit))
    histogram = spec_of(ui.risk_histogram(np.linspace(-1e6, 1e6, 50), "block", "2026/27", (-1e6, 1e6), unit))
    for spec, title in (
        (fan, "Surplus in the month"),
        (spend, "Commissioner spend in the year"),
        (changes, "Change over the horizon"),
        (histogram, "Provider surplus in the year"),
    ):
        assert f"{title} ({unit})" in axis_titles(spec)
        money_free_of_whole_pounds(spec)
    shown = {t["title"]: t["field"] for t in tooltips(fan)}
    assert shown["Median"] == "p50_text"
    median = next(iter(fan["datasets"].values()))[0]["p50_text"]
    assert median == ui.money(25_000.0, unit) == {"£m": "£0.0m", "£000": "£25k"}[unit]
    change = next(iter(changes["datasets"].values()))[0]["change_text"]
    assert change == {"£m": "-£0.1m", "£000": "-£125k"}[unit]


def test_a_money_axis_labels_every_tick_on_its_basis():
    axis = ui.money_axis("Surplus", "£m").to_dict()
    assert axis["title"] == "Surplus (£m)"
    assert "1e+06" in axis["labelExpr"] and "'m'" in axis["labelExpr"]
    assert "'k'" in ui.money_axis("Surplus", "£000").to_dict()["labelExpr"]
    with pytest.raises(ValueError, match="not a money basis"):
        ui.money_axis("Surplus", "GBP")


def test_the_design_chart_is_on_the_pages_basis():
    small = load_scenario(SMALL)
    run = ui.run_money(small, fake_activity(small, reps=4, oap_days=np.array([0.0, 100.0, 200.0, 300.0])))
    result = ui.run_design(run, next(c for c in ui.DESIGN_CHOICES if c.name == "block-break-even"))
    for unit in ui.MONEY_UNITS:
        spec = spec_of(ui.design_chart(result, unit))
        titles = axis_titles(spec)
        assert f"Block value a year ({unit})" in titles and f"Mean surplus over the horizon ({unit})" in titles
        money_free_of_whole_pounds(spec)
        answer = next(d for d in spec["datasets"].values() if d and "text" in d[0])[0]["text"]
        assert answer == ui.term_text("contracts.block.annual_value", result.value, unit)
        curve = next(d for d in spec["datasets"].values() if d and "y_text" in d[0])
        assert all(row["y_text"] == ui.money(row["y"], unit) for row in curve)


def test_no_chart_shows_a_raw_scenario_key_in_a_tooltip_title():
    for spec in (spec_of(ui.tornado_chart(tornado(9_362.6))), spec_of(ui.fan_chart(fan_rows(), "S", "S", "£m"))):
        for tip in tooltips(spec):
            assert not re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", tip.get("title", "")), tip


def test_every_activity_measure_has_a_name_and_no_table_shows_a_key():
    small = load_scenario(SMALL)
    activity = fake_activity(small)
    table = ui.activity_display(ui.activity_table(activity))
    assert table["Measure"].tolist()  # the small trust has every line
    assert not any(re.search(r"\w\.\w", name) for name in table["Measure"])
    assert "Inpatient: out-of-area bed days" in set(table["Measure"])
    assert set(ui.MEASURE_WORDS) == set(MEASURE_UNITS)  # one name for each measure the engines count
    for measure in ui.sensitivity_measures(small):
        assert not re.search(r"\w\.\w", ui.measure_label(measure)), measure
    with pytest.raises(ValueError, match=r"'crisis\.beds_sold' has no name on screen"):
        ui.measure_name("crisis.beds_sold")
