"""The app with the money of 2023/24: the API rule beside the others (labels, colours, tables, charts, the
workbook, contract design), levers for API, the pay award and the cost-improvement programme, a rule's
uplift shown as applied, and MHIS as the ICB's test. Runs on tests/data/app-api.yaml (the app's small trust
with API, a roll-forward, a pay award above the uplift, a CIP and ICB-level MHIS)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from paysim import app_support as ui
from paysim.activity import Activity, measure_kinds
from paysim.model.scenario import load_scenario
from paysim.money.finance import missing_measures
from paysim.runs.runner import RunSettings, simulate

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
API_FILE = Path(__file__).parent / "data" / "app-api.yaml"
RULES = ["Block", "Activity", "Blended", "Capitation", "API"]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(API_FILE)


def fake_activity(scenario, reps: int = 4) -> Activity:
    """Every measure 10 a month, occupancy 0.9, and OAP bed days 0, 100, 200, 300 a month by replication."""
    months = scenario.months
    kinds = measure_kinds(scenario.lines(), inpatient=True)
    monthly = {name: np.full((reps, months), 10.0) for name in kinds}
    monthly["inpatient.occupancy_mean"] = np.full((reps, months), 0.9)
    monthly["inpatient.oap_bed_days"] = np.repeat(np.arange(reps, dtype=float)[:, None] * 100, months, axis=1)
    return Activity(monthly, kinds, np.arange(reps), scenario.start_month, "test")


# --- app_support --------------------------------------------------------------------------------------


def test_api_has_a_label_and_a_colour_of_its_own():
    assert ui.RULE_LABELS["api"] == "API"
    assert len(set(ui.RULE_COLOURS.values())) == len(ui.RULE_COLOURS) == 5


def test_tables_have_the_api_rule(scenario):
    run = ui.run_money(scenario, fake_activity(scenario))
    assert run.rules == ["block", "activity", "blended", "capitation", "api"]
    assert [row["label"] for row in ui.headline(run)] == RULES
    assert list(ui.risk_table(run)["rule"]) == RULES
    assert list(dict.fromkeys(ui.fan_table(run)["rule"])) == RULES
    assert list(dict.fromkeys(ui.spend_table(run)["rule"])) == RULES
    assert list(dict.fromkeys(ui.mhis_table(run)["rule"])) == RULES
    assert "API" in ui.oap_priced_by(run)  # API prices OAP bed days in this scenario
    for chart in (ui.fan_chart(ui.fan_table(run), "Surplus"), ui.spend_chart(ui.spend_table(run))):
        assert chart.to_dict()["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    edited = ui.run_money(scenario.with_overrides({"contracts.api.baseline.error": -0.05}), run.activity)
    saving = ui.saving_table(run, edited)
    assert list(saving["rule"]) == RULES
    changes = ui.changes_table(run, edited)
    api = changes[(changes["rule"] == "API") & (changes["measure"] == "Provider surplus")].iloc[0]
    assert api["change"] < 0  # a plan set 5 % low in year 1 takes money from the provider
    others = changes[(changes["rule"] == "Block") & (changes["measure"] == "Provider surplus")].iloc[0]
    assert others["change"] == 0


def test_mhis_table_is_the_icb_test_with_the_provider_proxy_beside_it(scenario):
    run = ui.run_money(scenario, fake_activity(scenario))
    table = ui.mhis_table(run)
    block = table[table["rule"] == "Block"].set_index("year")
    check = run.mhis["block"]
    # other spend 2.7m grows 4 % a year; year 1 minimum = (4.0m + 2.7m) x (1 + 5 % + 1 %)
    assert block.loc[1, "other_spend"] == pytest.approx(2_700_000 * 1.04)
    assert block.loc[1, "minimum"] == pytest.approx(6_700_000 * 1.06)
    assert block.loc[1, "provider_spend"] == pytest.approx(check.provider_spend[:, 0].mean())
    assert block.loc[1, "spend"] == pytest.approx(block.loc[1, "provider_spend"] + 2_700_000 * 1.04)
    display = ui.mhis_display(table)
    assert {"With this provider", "Elsewhere in the ICB", "Provider-level proxy met"} <= set(display.columns)


def test_cip_table_shows_planned_against_delivered(scenario):
    run = ui.run_money(scenario, fake_activity(scenario))
    table = ui.cip_table(run).set_index("year")
    assert table.loc[1, "delivered_share"] == pytest.approx(0.8)
    assert table.loc[1, "recurrent"] == 0 and table.loc[2, "recurrent"] > 0
    assert table.loc[2, "total"] == pytest.approx(table.loc[2, "delivered"] + table.loc[2, "recurrent"])
    assert list(ui.cip_display(table.reset_index()).columns)[:3] == [
        "Financial year",
        "Planned this year",
        "Delivered this year",
    ]
    no_cip = ui.run_money(scenario.with_overrides({"costs.cip": None}), run.activity)
    assert ui.cip_table(no_cip).empty


def test_the_workbook_has_a_cip_sheet_and_the_api_rule(scenario):
    run = ui.run_money(scenario, fake_activity(scenario))
    book = load_workbook(io.BytesIO(ui.excel_workbook(ui.workbook_sheets(run, run, "test", 1.0))))
    assert book.sheetnames[-2:] == ["CIP", "Activity"]
    summary = [row[0] for row in book["Summary"].iter_rows(min_row=2, values_only=True)]
    assert summary == RULES
    cip = book["CIP"]
    header = [c.value for c in cip[1]]
    assert cip.cell(row=2, column=header.index("planned") + 1).number_format == ui.GBP_FORMAT
    assert cip.cell(row=2, column=header.index("delivered_share") + 1).number_format == ui.PERCENT_FORMAT
    assert "Financial year" in header


def test_levers_for_api_the_pay_award_and_cost_improvement(scenario):
    names = {lever.name for lever in ui.levers_for(scenario)}
    assert {
        "contracts.api.baseline.error",
        "contracts.api.cquin.share",
        "contracts.api.variable.rate_above",
        "contracts.api.variable.rate_below",
        "costs.pay_inflation",
        "contracts.roll_forward.pay_award_funded",
        "costs.cip.planned_share",
        "costs.cip.delivered_share",
    } <= names
    by_name = {lever.name: lever for lever in ui.LEVERS}
    assert by_name["contracts.api.cquin.share"].current(scenario) == pytest.approx(1.25)
    assert by_name["costs.cip.delivered_share"].current(scenario) == pytest.approx(80.0)
    # the file leaves the block's uplift out: the lever starts at the roll-forward's 3.83 %, and leaving it
    # there sets nothing
    uplift = by_name["contracts.block.uplift"]
    assert uplift.current(scenario) == pytest.approx(3.83)
    assert ui.lever_overrides(scenario, {"contracts.block.uplift": 3.83}) == {}
    assert ui.lever_overrides(scenario, {"contracts.block.uplift": 2.0}) == {"contracts.block.uplift": 0.02}
    overrides = ui.lever_overrides(scenario, {"costs.cip.delivered_share": 50.0})
    assert overrides == {"costs.cip.delivered_share": 0.5}
    assert ui.EFFICIENCY in ui.SECTIONS and ui.API in ui.SECTIONS


def test_design_choices_for_api(scenario):
    names = [choice.name for choice in ui.design_choices(scenario)]
    assert names[-3:] == ["api-p-deficit", "api-break-even", "api-equal-shortfall"]
    without_local_rates = scenario.with_overrides({"contracts.api.variable": None})
    assert "api-equal-shortfall" not in [c.name for c in ui.design_choices(without_local_rates)]
    # API prices at the unit costs (the file's are 1.2 x them), so the plan that breaks even lies well inside
    # the design's bounds (at 1.2 x it sits near their edge, -0.5, and moves across it with the draws)
    at_cost = {"inpatient": {"bed_day": 575, "oap_bed_day": 620}, "community": {"contact": 280}}
    at_cost |= {"crisis": {"contact": 337.5}, "talking_therapies": {"course": 875}}
    scenario = scenario.with_overrides({"contracts.api.prices": at_cost})
    run = ui.run_money(scenario, simulate(scenario, RunSettings(reps=20, uncertainty=False)))
    choice = next(c for c in ui.DESIGN_CHOICES if c.name == "api-break-even")
    result = ui.run_design(run, choice)
    assert result.rule == "api" and result.at_answer["mean_surplus"] == pytest.approx(0.0, abs=1.0)
    answer = ui.design_answer(result, scenario)
    assert answer["term"] == "API plan against expected" and answer["value"].endswith(" %")
    assert answer["change"].endswith("percentage points")


def test_the_default_sensitivity_column_is_the_api_surplus(scenario):
    assert ui.default_measure(scenario) == "api.provider_surplus"
    assert ui.measure_label("api.provider_surplus") == "API: provider surplus"


# --- the page (AppTest) -------------------------------------------------------------------------------


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PAYSIM_SCENARIOS", str(API_FILE))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["engine"] = "vector"
    at.session_state["reps-vector"] = 50
    at.run()
    yield at
    st.cache_data.clear()


def frame_with(at: AppTest, column: str):
    """The one table or dataframe on the page with this column (a table's index of rules made a column)."""
    frames = [d.value for d in at.dataframe] + [t.value.reset_index() for t in at.table]
    found = [frame for frame in frames if column in frame.columns]
    assert len(found) == 1, [list(frame.columns) for frame in frames]
    return found[0]


def no_problems(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_the_page_shows_api_beside_the_other_rules(page):
    no_problems(page)
    assert page.selectbox(key="scenario_name").value == "app-api"
    assert [m.label for m in page.metric] == RULES
    assert list(frame_with(page, "Expected shortfall (worst 5 % of runs)")["Rule"]) == RULES
    mhis = frame_with(page, "Elsewhere in the ICB")
    assert set(mhis["Rule"]) == set(RULES) and "Provider-level proxy met" in mhis.columns
    cip = frame_with(page, "Planned this year")
    assert list(cip["Financial year"]) == ["2026/27", "2027/28"]
    assert any("API" in m.value and "2022/23" in m.value for m in page.markdown)
    uplift = next(s for s in page.slider if s.label.startswith("Block uplift"))
    assert uplift.value == pytest.approx(3.8, abs=0.05)  # the roll-forward's change, not 0
    options = page.selectbox(key="design-choice").options
    assert "API fixed payment (its plan above or below expected activity) that breaks even on average" in options


def test_moving_an_api_lever_changes_the_api_surplus_alone(page):
    before = {m.label: m.value for m in page.metric}
    next(s for s in page.slider if s.label.startswith("API: plan set too high")).set_value(-10.0).run()
    no_problems(page)
    after = {m.label: (m.value, m.delta) for m in page.metric}
    assert after["API"][0] != before["API"] and after["API"][1].startswith("-£")
    assert all(after[label][0] == before[label] for label in RULES[:4])


def test_an_indicator_the_engines_cannot_measure_is_shown_with_its_key(page):
    text = API_FILE.read_bytes().replace(
        b"{measure: talking_therapies.started_within_standard_share, target: 0.75, partial_from: 0.5}\n"
        b"        - {measure: inpatient.oap_bed_days, target: 200, partial_from: 600}\n    variable",
        b"{measure: talking_therapies.recovery_share, target: 0.5}\n    variable",
    )
    assert b"recovery_share" in text
    page.file_uploader[0].set_value(("recovery.yaml", text, "application/x-yaml")).run()
    assert not page.exception
    if not missing_measures(ui.read_upload("recovery.yaml", text)):  # the engines count recoveries: the page runs
        assert not page.error
        return
    assert len(page.error) == 1
    message = page.error[0].value
    assert "contracts.api.cquin.indicators.0.measure: talking_therapies.recovery_share needs" in message
    assert "Traceback" not in message and not page.metric
