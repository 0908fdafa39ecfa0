"""The money basis and whole tables reach every tab: "What your changes did" and the Contract design answer show
money on the page's basis (£m or £000) with the horizon named by its financial years, never raw whole pounds;
the Sensitivity and Contract design tables are drawn whole (``st.table``: every row and column, and they print).

Worked examples by hand for the formats; the page through Streamlit's AppTest on tests/data/app-small.yaml
(2 years from April: 2026/27 and 2027/28).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from paysim import app_support as ui
from tests.test_app import APP, SMALL, TIMEOUT, uncertain_upload

MILLIONS = re.compile(r"[+-]?£\d[\d,]*\.\dm")
"""A sum on the £m basis: ``£4.2m``, ``-£0.3m``, ``+£0.1m``."""

THOUSANDS = re.compile(r"[+-]?£\d[\d,]*k")
"""A sum on the £000 basis: ``£4,200k``, ``+£25k``."""

WHOLE_POUNDS = re.compile(r"£\d{1,3}(,\d{3})+(?![\d.,]*[mk])")
"""Raw whole pounds with thousands separators (``£4,200,000``), which these tables no longer show."""


@pytest.fixture(autouse=True)
def _clear_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def start(monkeypatch: pytest.MonkeyPatch, engine: str = "des", reps: int = 10) -> AppTest:
    """A fresh app on the small scenario, run once."""
    monkeypatch.setenv("PAYSIM_SCENARIOS", str(SMALL))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["engine"] = engine
    at.session_state[f"reps-{engine}"] = reps
    at.run()
    return at


def no_problems(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def whole_table(at: AppTest, column: str) -> pd.DataFrame:
    """The one table drawn whole (``st.table``) with this column, its index made its first column again; no
    scrollable ``st.dataframe`` has it."""
    assert not [d for d in at.dataframe if column in d.value.columns], f"{column!r} is in a scrollable box"
    found = [t.value.reset_index() for t in at.table if column in t.value.reset_index().columns]
    assert len(found) == 1, [list(t.value.columns) for t in at.table]
    return found[0]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def cells(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.to_numpy().ravel()]


# --- the formats, by hand -----------------------------------------------------------------------------------


CHANGES = pd.DataFrame(
    [
        ["Block", "Provider surplus", "GBP", 8_400_000.0, 8_026_000.0, -374_000.0, -412_500.0, -335_500.0],
        ["Block", "Commissioner spend", "GBP", 8_476_000.0, 8_476_000.0, 0.0, float("nan"), float("nan")],
        ["all rules", "OAP bed days", "bed days", 120.0, 180.0, 60.0, 40.0, 80.0],
    ],
    columns=["rule", "measure", "unit", "file", "edited", "change", "ci_low", "ci_high"],
)


def test_the_change_table_on_the_pounds_million_basis_by_hand():
    shown = ui.changes_display(CHANGES, 2, "£m", 4)
    assert shown.iloc[0].tolist() == [
        "Block",
        "Provider surplus (£m, 2026/27 to 2027/28)",
        "£8.4m",
        "£8.0m",
        "-£0.4m",  # -374,000
        "-£0.4m to -£0.3m",  # -412,500 and -335,500
    ]
    assert shown.iloc[1].tolist() == [
        "Block",
        "Commissioner spend (£m, 2026/27 to 2027/28)",
        "£8.5m",
        "£8.5m",
        "£0.0m",  # no change has no sign
        "-",  # no interval
    ]
    assert shown.iloc[2].tolist() == ["all rules", "OAP bed days (bed days)", "120", "180", "+60", "+40 to +80"]


def test_the_change_table_on_the_thousands_basis_by_hand():
    shown = ui.changes_display(CHANGES, 2, "£000", 4)
    assert shown.iloc[0, 1:].tolist() == [
        "Provider surplus (£000, 2026/27 to 2027/28)",
        "£8,400k",
        "£8,026k",
        "-£374k",
        "-£412k to -£336k",  # 412.5 rounds to even; 335.5 up
    ]


def test_the_change_table_names_the_financial_years_of_its_horizon():
    assert ui.changes_display(CHANGES, 1, "£m", 4)["Measure"].iloc[0] == "Provider surplus (£m, 2026/27)"
    assert ui.changes_display(CHANGES, 3, "£m", 1)["Measure"].iloc[0] == "Provider surplus (£m, 2026 to 2028)"


def test_the_design_table_on_the_page_basis_by_hand():
    found = SimpleNamespace(
        at_answer={
            "p_deficit": 0.1,
            "mean_surplus": 1_234_567.0,
            "provider_shortfall": 456_789.0,
            "commissioner_shortfall": 98_765.0,
            "mean_spend": 8_765_432.0,
        }
    )
    shown = ui.design_display(found, "£m", 2, 4)
    assert shown.to_numpy().tolist() == [
        ["P(provider deficit over 2026/27 to 2027/28)", "10.0 %"],
        ["Mean provider surplus over 2026/27 to 2027/28", "£1.2m"],
        ["Provider's expected shortfall (worst 5 %, below its mean)", "£0.5m"],
        ["Commissioner's expected shortfall (worst 5 %, above its mean)", "£0.1m"],
        ["Mean commissioner spend over 2026/27 to 2027/28", "£8.8m"],
    ]
    assert ui.design_display(found, "£000", 2, 4)["Value"].tolist()[1:] == ["£1,235k", "£457k", "£99k", "£8,765k"]


# --- the page ----------------------------------------------------------------------------------------------


def test_what_your_changes_did_is_on_the_page_basis_with_financial_years(monkeypatch):
    at = start(monkeypatch)
    at.slider(key=next(s.key for s in at.sidebar.slider if s.label.startswith("Demand growth"))).set_value(6.0).run()
    no_problems(at)
    changes = whole_table(at, "95 % interval of the change")
    money = changes[changes["Measure"].str.contains("£")]
    assert set(money["Measure"]) == {
        "Provider surplus (£m, 2026/27 to 2027/28)",
        "Commissioner spend (£m, 2026/27 to 2027/28)",
    }
    assert len(money) == 8  # two ledgers for each of the four rules
    for column in ("Scenario file", "With your changes", "Change"):
        assert all(MILLIONS.fullmatch(cell) for cell in money[column]), money[column].tolist()
    for interval in money["95 % interval of the change"]:
        assert interval == "-" or all(MILLIONS.fullmatch(end) for end in interval.split(" to ")), interval
    assert not any(WHOLE_POUNDS.search(cell) for cell in cells(changes))
    assert not any("GBP" in cell for cell in cells(changes))

    at.radio(key="money_unit").set_value("£000").run()
    no_problems(at)
    changes = whole_table(at, "95 % interval of the change")
    money = changes[changes["Measure"].str.contains("£")]
    assert all(m.endswith("(£000, 2026/27 to 2027/28)") for m in money["Measure"])
    for column in ("Scenario file", "With your changes", "Change"):
        assert all(THOUSANDS.fullmatch(cell) for cell in money[column]), money[column].tolist()
    assert not any(WHOLE_POUNDS.search(cell) for cell in cells(changes))


def test_the_contract_design_answer_is_on_the_page_basis_and_its_table_whole(monkeypatch):
    at = start(monkeypatch)
    button(at, "Find the value").click().run()
    no_problems(at)
    (metric,) = [m for m in at.metric if m.label == "Block value"]
    assert MILLIONS.fullmatch(metric.value.removesuffix(" a year")), metric.value
    assert metric.delta.endswith("from the scenario as loaded (£4.2m a year)"), metric.delta
    assert MILLIONS.fullmatch(metric.delta.split(" from ")[0]), metric.delta
    interval = next(m.value for m in at.markdown if m.value.startswith("95 % interval"))
    low, high = re.search(r"\*\*([^*]+) to ([^*]+)\*\*", interval).groups()
    assert MILLIONS.fullmatch(low.removesuffix(" a year")) and MILLIONS.fullmatch(high.removesuffix(" a year"))

    table = whole_table(at, "At the answer")
    assert list(table.columns) == ["At the answer", "Value"]
    assert table["At the answer"].tolist() == [
        "P(provider deficit over 2026/27 to 2027/28)",
        "Mean provider surplus over 2026/27 to 2027/28",
        "Provider's expected shortfall (worst 5 %, below its mean)",
        "Commissioner's expected shortfall (worst 5 %, above its mean)",
        "Mean commissioner spend over 2026/27 to 2027/28",
    ]
    assert table["Value"].iloc[0].endswith(" %")
    assert all(MILLIONS.fullmatch(v) for v in table["Value"].iloc[1:]), table["Value"].tolist()

    at.radio(key="money_unit").set_value("£000").run()
    no_problems(at)
    (metric,) = [m for m in at.metric if m.label == "Block value"]
    assert THOUSANDS.fullmatch(metric.value.removesuffix(" a year")), metric.value
    assert metric.delta.endswith("(£4,200k a year)"), metric.delta
    table = whole_table(at, "At the answer")
    assert all(THOUSANDS.fullmatch(v) for v in table["Value"].iloc[1:]), table["Value"].tolist()
    assert not any(WHOLE_POUNDS.search(cell) for cell in cells(table))


def test_the_sensitivity_tables_are_drawn_whole(monkeypatch):
    at = start(monkeypatch, engine="vector", reps=20)
    at.session_state["tornado-reps-vector"] = 20
    at.file_uploader[0].set_value(uncertain_upload()).run()
    no_problems(at)
    button(at, "Run the tornado").click().run()
    no_problems(at)
    [swing] = [c for t in at.table for c in t.value.columns if c.startswith("Swing (")]
    basis = swing.removeprefix("Swing (").removesuffix(")")  # £m, or £000 where a figure would read £0.0m
    tornado = whole_table(at, swing)
    assert list(tornado.columns) == [
        "Parameter",
        "Central",
        "Low (5th percentile)",
        "High (95th percentile)",
        f"Mean at low ({basis})",
        f"Mean at high ({basis})",
        f"Swing ({basis})",
        f"Swing, standard error ({basis})",
    ]
    assert sorted(tornado["Parameter"]) == ["Block value", "Mean length of stay", "OAP daily price"]  # every row

    at.select_slider(key="sobol-samples").set_value(8).run()
    button(at, "Run the Sobol analysis").click().run()
    no_problems(at)
    sobol = whole_table(at, "Total (with interactions)")
    assert list(sobol.columns) == [
        "Parameter",
        "First order (alone)",
        "± (95 %)",
        "Total (with interactions)",
        "± (95 %) ",
    ]
    assert len(sobol) == 3
    assert not at.dataframe  # no scrollable box left on the page
