"""The board's journeys through the app (Streamlit's AppTest): first look, a lever, an upload error then a valid
upload, scenarios side by side, the board pack.

The app runs on tests/data/app-small.yaml (named by PAYSIM_SCENARIOS, first in the picker) on the patient-level
engine with few replications, so each script run takes a second or two.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
SMALL = Path(__file__).parent / "data" / "app-small.yaml"
TIMEOUT = 180


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


def widget(at: AppTest, kind: str, label: str):
    """The one widget of a kind whose label starts with ``label``."""
    found = [w for w in getattr(at, kind) if w.label.startswith(label)]
    assert len(found) == 1, f"{kind} {label!r}: found {[w.label for w in getattr(at, kind)]}"
    return found[0]


def no_problems(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def table_with(at: AppTest, column: str):
    """The one table on the page with this column."""
    found = [t.value for t in at.table if column in t.value.columns]
    assert len(found) == 1, [list(t.value.columns) for t in at.table]
    return found[0]


def replications_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if " replications" in c.value and "seed" in c.value)


def test_an_upload_error_then_its_removal_keeps_the_replications(monkeypatch):
    at = start(monkeypatch, reps=10)
    widget(at, "select_slider", "Replications").set_value(20).run()
    no_problems(at)
    assert "20 replications" in replications_caption(at)
    bad = SMALL.read_bytes().replace(b"    beds: 8", b"    bedz: 8")
    at.file_uploader[0].set_value(("my-trust.yaml", bad, "application/x-yaml")).run()
    assert len(at.error) == 1 and not at.metric  # the page stopped on the error, before the run widgets
    at.file_uploader[0].set_value(None).run()
    no_problems(at)
    slider = widget(at, "select_slider", "Replications")
    assert slider.value == 20
    # The browser drew the slider afresh: it shows the value the server sends only when the server says the
    # value was set (else its default, the first option, 10, which the next interaction would send back).
    assert slider.proto.set_value and list(slider.proto.raw_value) == ["20"]
    beds = widget(at, "slider", "Local adult acute beds")
    assert beds.proto.set_value and beds.value == 8
    assert "20 replications" in replications_caption(at)
    assert at.session_state["results"].reps == 20


def test_an_upload_error_then_a_valid_upload_keeps_every_setting(monkeypatch):
    at = start(monkeypatch, reps=10)
    widget(at, "select_slider", "Replications").set_value(20).run()
    widget(at, "slider", "Local adult acute beds").set_value(10).run()
    bad = SMALL.read_bytes().replace(b"    beds: 8", b"    bedz: 8")
    at.file_uploader[0].set_value(("my-trust.yaml", bad, "application/x-yaml")).run()
    assert len(at.error) == 1
    good = SMALL.read_text().replace("name: app-small", "name: uploaded-trust")
    at.file_uploader[0].set_value(("my-trust.yaml", good.encode(), "application/x-yaml")).run()
    no_problems(at)
    assert widget(at, "select_slider", "Replications").value == 20
    assert at.session_state["results"].reps == 20
    at.file_uploader[0].set_value(None).run()
    no_problems(at)
    assert widget(at, "slider", "Local adult acute beds").value == 10  # the lever moved before the error


def test_widget_values_lost_by_a_stopped_run_are_put_back():
    from paysim.app_support import DRAWN, KEPT, keep_widget_state, widgets_drawn

    state = {"reps-vector": 500, "abc-0:services.inpatient.beds": 10, "upload": None, "results": None}
    assert keep_widget_state(state) == []  # the first run
    assert state[KEPT] == {"reps-vector": 500, "abc-0:services.inpatient.beds": 10}
    widgets_drawn(state)
    assert keep_widget_state(state) == []  # the last run drew its widgets: nothing to do
    # This run stops (an upload error) before widgets_drawn, and the server forgets one widget's value.
    del state["abc-0:services.inpatient.beds"]
    assert state[DRAWN] is False
    assert sorted(keep_widget_state(state)) == ["abc-0:services.inpatient.beds", "reps-vector"]  # both set again
    assert state["reps-vector"] == 500 and state["abc-0:services.inpatient.beds"] == 10
    widgets_drawn(state)
    state["reps-vector"] = 1000  # a value moved since is kept, not overwritten
    assert keep_widget_state(state) == []
    assert state["reps-vector"] == 1000 and state[KEPT]["reps-vector"] == 1000


RAW_KEY = re.compile(r"\b(services|contracts|costs)\.[a-z_]+(\.[a-z_]+)*\b")
"""A dotted scenario key, which the one-screen answer must not show (labels instead)."""


def test_first_look_answers_who_carries_the_risk_in_pounds_million_by_financial_year(monkeypatch):
    at = start(monkeypatch)
    no_problems(at)
    assert at.title[0].value == "Who carries the risk?"
    assert any("money is in £m by financial year" in m.value for m in at.markdown)
    sentences = [m.value for m in at.markdown if m.value.startswith("- Under ")]
    assert [s.split()[2] for s in sentences] == ["Block", "Activity", "Blended", "Capitation"]
    assert all("carries most of the risk" in s and "£" in s for s in sentences)
    positions, matrix = table_with(at, "2026/27 bad year"), table_with(at, "Baseline error")
    assert list(positions.columns) == ["2026/27 expected", "2026/27 bad year", "2027/28 expected", "2027/28 bad year"]
    assert positions.index.get_level_values(1).unique().tolist() == ["Provider surplus", "Commissioner spend"]
    assert all(re.fullmatch(r"-?£\d+\.\dm", cell) for cell in positions.to_numpy().ravel())
    assert list(matrix.columns) == [
        "Demand and volume",
        "Cost inflation and pay award",
        "Out-of-area placements",
        "Outcome element",
        "Baseline error",
        "CIP delivery",
    ]
    assert matrix.index.get_level_values(0).unique().tolist() == ["Block", "Activity", "Blended", "Capitation"]
    assert any(re.fullmatch(r"£\d+\.\dm \(\d+ %\)", cell) for cell in matrix.to_numpy().ravel())
    shown = " ".join([m.value for m in at.markdown] + [str(t.value) for t in at.table] + [m.value for m in at.metric])
    assert not RAW_KEY.search(shown), RAW_KEY.search(shown)
    assert all(m.value.endswith("m") for m in at.metric)  # headline in £m


def test_the_money_basis_is_chosen_once_for_the_page(monkeypatch):
    at = start(monkeypatch)
    at.radio(key="money_unit").set_value("£000").run()
    no_problems(at)
    positions = table_with(at, "2026/27 bad year")
    assert all(re.fullmatch(r"-?£[\d,]+k", cell) for cell in positions.to_numpy().ravel())
    assert all(m.value.endswith("k") for m in at.metric)


def test_a_lever_moves_the_answer_and_says_so(monkeypatch):
    at = start(monkeypatch)
    before = table_with(at, "2026/27 bad year").copy()
    widget(at, "slider", "Local adult acute beds").set_value(12).run()
    no_problems(at)
    assert not table_with(at, "2026/27 bad year").equals(before)
    assert all(m.delta.endswith("a year from your changes") for m in at.metric)


def test_the_board_pack_downloads_from_the_page(monkeypatch):
    from pypdf import PdfReader

    from paysim import app_support as ui

    at = start(monkeypatch)
    button = next(d for d in at.get("download_button") if d.label == "Board pack (PDF)")
    assert not button.proto.disabled
    results = at.session_state["results"]
    pdf = ui.board_pack_pdf(results.edited, results.engine, SMALL.read_text())
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 2
    assert "Who carries the risk: app-small" in pages[0] and "2026/27" in pages[0]
    assert "10 runs of 2 financial years" in pages[0]


def test_named_scenarios_side_by_side_on_the_same_replications(monkeypatch, tmp_path):
    beds = tmp_path / "more-beds-small.yaml"
    beds.write_text(
        SMALL.read_text().replace("name: app-small", "name: more-beds-small").replace("beds: 8", "beds: 12")
    )
    monkeypatch.setenv("PAYSIM_SCENARIOS", f"{SMALL}:{beds}")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["engine"] = "des"
    at.session_state["reps-des"] = 10
    at.run()
    no_problems(at)
    widget(at, "slider", "Local adult acute beds").set_value(10).run()
    at.text_input(key="save-name").set_value("plan + 2 beds").run()
    next(b for b in at.button if b.label == "Save the levers").click().run()
    at.multiselect(key="compare-picked").set_value(["app-small", "more-beds-small", "Saved: plan + 2 beds"]).run()
    next(b for b in at.button if b.label == "Compare the scenarios").click().run()
    no_problems(at)
    table = next(t.value for t in at.table if "Chance of a deficit" in t.value.columns)
    assert table.index.get_level_values(1).tolist()[:3] == ["app-small", "more-beds-small", "Saved: plan + 2 beds"]
    assert table.index.get_level_values(0).unique().tolist() == ["Block", "Activity", "Blended", "Capitation"]
    block = table.loc["Block"]
    assert block.loc["app-small", "Provider surplus: change from app-small"] == "–"  # an en dash: no change
    change = block.loc["more-beds-small", "Provider surplus: change from app-small"]
    assert re.fullmatch(r"[+-]?£\d+\.\dm \([+-]?£\d+\.\dm to [+-]?£\d+\.\dm\)", change), change
    compared = at.session_state["compared"]["runs"]
    assert all(run.activity.n_replications == 10 and run.scenario.seed == 7 for run in compared.values())
    assert compared["Saved: plan + 2 beds"].scenario.services.inpatient.beds == 10


def test_one_scenario_is_not_a_comparison():
    from paysim import app_support as ui
    from paysim.model.scenario import load_scenario

    small = load_scenario(SMALL)
    with pytest.raises(ValueError, match="pick 2 to 4 scenarios"):
        ui.comparable({"a": small}, 2, 7)
    other = small.with_overrides({"start_month": 1})
    with pytest.raises(ValueError, match="different months"):
        ui.comparable({"a": small, "b": other}, 2, 7)
    both = ui.comparable({"a": small, "b": small.with_overrides({"seed": 99, "years": 3})}, 2, 7)
    assert {(s.years, s.seed) for s in both.values()} == {(2, 7)}


def test_plain_language_glossary_flow_and_worked_examples(monkeypatch):
    at = start(monkeypatch)
    no_problems(at)
    assert len(at.get("graphviz_chart")) == 1
    glossary = table_with(at, "Meaning")
    assert {"Block", "API", "CQUIN", "MHIS", "OAP", "P50", "Bad year"} <= set(glossary["Term"])
    examples = [m.value for m in at.markdown if m.value.startswith(("**Block.**", "**Activity.**", "**Capitation.**"))]
    assert len(examples) == 3
    assert all("= income **£" in text and "surplus **" in text and "2026/27" in text for text in examples)
    estimate = next(c.value for c in at.caption if "patient-by-patient run of 10 replications" in c.value)
    assert "Cancel the run" in estimate  # the SimPy engine is chosen: how long it takes and how to stop it
    labels = [w.label for w in at.sidebar.radio] + [w.label for w in at.sidebar.select_slider]
    assert not any(RAW_KEY.search(label) for label in labels)


def test_a_worked_example_adds_up_by_hand():
    from paysim import app_support as ui
    from tests.test_app_board_pack import block_trust, oap_days

    run = ui.run_money(block_trust(), oap_days())
    text = ui.worked_example(run, "block", "£000")
    # Year 1 of the mean run: block £1,200k; OAPs 12 x 20 bed days x £600 = £144k.
    assert text.endswith("block payment £1,200k = income **£1,200k**; less cost £144k = surplus **£1,056k**.")


def test_levers_for_the_largest_drivers():
    from paysim import app_support as ui
    from paysim.model.scenario import bundled_scenarios, load_scenario

    default = load_scenario(bundled_scenarios()["default"])
    levers = {lever.name: lever for lever in ui.levers_for(default)}
    for name in (
        "costs.pay_inflation",
        "contracts.roll_forward.pay_award_funded",
        "contracts.roll_forward.cost_uplift",
        "costs.cip.planned_share",
        "costs.cip.delivered_share",
        "contracts.capitation.outcomes.share",
    ):
        assert name in levers, name
    assert levers["contracts.roll_forward.cost_uplift"].current(default) == pytest.approx(2.9)
    assert levers["contracts.capitation.outcomes.share"].current(default) == pytest.approx(10.0)
    moved = default.with_overrides(ui.lever_overrides(default, {"contracts.capitation.outcomes.share": 20.0}))
    assert moved.contracts.capitation.outcomes.share == pytest.approx(0.2)


def test_the_engine_warms_up_in_the_background(monkeypatch):
    from paysim.app_support import warm
    from paysim.app_support.warm import start_warm_up

    monkeypatch.setattr(warm, "_WARMED", set())  # a process that has not warmed the engine yet
    warming = start_warm_up("vector")
    assert warming.thread is not None
    assert warming.wait(timeout=300) and warming.done
    assert warming.problem is None and warming.seconds is not None and warming.seconds > 0
    again = start_warm_up("vector")  # as after paysim app, which warms the engine before serving the page
    assert again.thread is None and again.done and again.seconds == 0.0 and again.problem is None
    failing = start_warm_up("no-such-engine")
    assert failing.wait(timeout=60)
    assert failing.problem  # the page's own run reports the problem; the warm-up only logs it


def test_cancel_stops_following_the_inputs(monkeypatch):
    from paysim import app_support

    original = app_support.simulate

    def rest_fails(text: str, first: int, stop: int, engine: str):
        if first > 0:
            raise ValueError("no room to simulate")
        return original(text, first, stop, engine)

    monkeypatch.setattr(app_support, "simulate", rest_fails)
    monkeypatch.setenv("PAYSIM_FIRST_LOOK_SECONDS", "0")  # a first look, then the rest (which stops here)
    at = start(monkeypatch, engine="vector", reps=200)
    cancel = next(b for b in at.button if b.label == "Cancel the run")
    cancel.click().run()
    assert not at.exception
    assert any("The run was cancelled" in i.value for i in at.info)
    assert at.toggle(key="auto").value is False  # the inputs are no longer followed until Run is pressed
    assert not at.error  # the rest of the run was not tried again
    assert any("a first look: 20 of 200)" in c.value for c in at.caption)  # the first look stays on the page
    next(b for b in at.button if b.label == "Run").click().run()
    assert not any("The run was cancelled" in i.value for i in at.info)
    assert [e.value for e in at.error] == ["The scenario cannot be run: no room to simulate"]  # Run goes on
