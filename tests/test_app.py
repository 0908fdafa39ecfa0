"""The Streamlit app through Streamlit's AppTest: widgets, errors shown in the page, results, stale state.

The app runs on tests/data/app-small.yaml (named by PAYSIM_SCENARIOS, so it is first in the picker) with
the patient-level engine and 10 replications, which keeps each script run to a second or two.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from paysim import app_support as ui

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
SMALL = Path(__file__).parent / "data" / "app-small.yaml"
TIMEOUT = 120


def start(monkeypatch: pytest.MonkeyPatch, engine: str = "des", reps: int = 10) -> AppTest:
    """A fresh app on the small scenario, run once."""
    monkeypatch.setenv("PAYSIM_SCENARIOS", str(SMALL))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["engine"] = engine
    at.session_state[f"reps-{engine}"] = reps
    at.run()
    return at


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    return start(monkeypatch)


@pytest.fixture(autouse=True)
def _clear_cache():
    yield
    st.cache_data.clear()


def widget(at: AppTest, kind: str, label: str):
    """The widget of a kind whose label starts with ``label``."""
    found = [w for w in getattr(at, kind) if w.label.startswith(label)]
    assert len(found) == 1, f"{kind} {label!r}: found {[w.label for w in getattr(at, kind)]}"
    return found[0]


def downloads(at: AppTest) -> dict[str, bool]:
    """Download buttons by label: True if enabled."""
    return {d.label: not d.proto.disabled for d in at.get("download_button")}


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def frames(at: AppTest) -> list:
    """Every table and dataframe on the page, a table's index made its first column again."""
    return [d.value for d in at.dataframe] + [t.value.reset_index() for t in at.table]


def no_problems(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_page_loads_with_results_for_every_rule(app):
    no_problems(app)
    assert app.title[0].value == "Who carries the risk?"
    assert widget(app, "selectbox", "Scenario").value == "app-small"
    shown = metrics(app)
    assert list(shown) == ["Block", "Activity", "Blended", "Capitation"]
    for value, delta in shown.values():
        assert value.startswith(("£", "-£"))
        assert not delta  # nothing edited yet
    assert any("seed 7" in c.value and "10 replications" in c.value for c in app.caption)
    assert downloads(app) == {
        "Download the edited scenario (YAML)": True,
        "Board pack (PDF)": True,
        "Results (CSV)": True,
        "Results (Parquet)": True,
        "Workbook (Excel)": True,
    }
    tabs = [t.label for t in app.tabs]
    assert tabs[:7] == [
        "Risk",
        "Scenarios side by side",
        "Surplus by month",
        "Commissioner spend",
        "Out-of-area placements",
        "MHIS",
        "What your changes did",
    ]
    assert len(app.get("vega_lite_chart")) >= 6  # 4 histograms, fan, spend, OAP, occupancy
    risk = next(t.value for t in app.table if "Expected shortfall (worst 5 % of runs)" in t.value.columns)
    assert list(risk.index) == ["Block", "Activity", "Blended", "Capitation"]
    assert risk.iloc[0, 0].startswith(("£", "-£")) and risk.iloc[0, 0].endswith("m")


def test_levers_show_units_and_help(app):
    growth = widget(app, "slider", "Demand growth (% a year)")
    assert growth.value == 3.0 and growth.help
    assert widget(app, "slider", "Local adult acute beds (beds)").value == 8
    assert widget(app, "number_input", "OAP daily price (£ per bed day)").value == 620.0
    assert widget(app, "number_input", "Block value (£m a year)").value == 4.2
    assert widget(app, "radio", "Who pays for OAPs").value == "provider"
    assert widget(app, "slider", "Years").value == 2
    assert widget(app, "number_input", "Seed").value == 7
    for kind in ("slider", "number_input", "radio"):
        for w in getattr(app.sidebar, kind):
            assert w.help, f"{w.label} has no help text"


def test_demand_growth_changes_the_numbers_and_shows_what_it_did(app):
    before = metrics(app)
    widget(app, "slider", "Demand growth").set_value(6.0).run()
    no_problems(app)
    after = metrics(app)
    assert after != before
    for _value, delta in after.values():
        assert delta.endswith("a year from your changes")
    edits = next(f for f in frames(app) if list(f.columns) == ["Setting", "As loaded", "Now"])
    assert "Demand growth (Community: growth)" in set(edits["Setting"])
    assert set(edits["Now"]) == {"6.0 % a year"}
    changes = next(f for f in frames(app) if "Change" in f.columns)
    blended = changes[(changes["Rule"] == "Blended") & changes["Measure"].str.startswith("Provider surplus")]
    assert len(blended) == 1
    assert blended["Change"].iloc[0].startswith(("+£", "-£", "£0"))
    assert all(downloads(app).values())


def test_contract_levers_reuse_the_simulation(app, monkeypatch):
    from paysim import app_support

    calls = []
    original = app_support.simulate
    monkeypatch.setattr(app_support, "simulate", lambda *a: calls.append(a) or original(*a))
    block = metrics(app)["Block"][0]
    widget(app, "number_input", "Block value").set_value(5.2).run()
    no_problems(app)
    assert calls == []  # activity came from the cache: only the money was recomputed
    assert metrics(app)["Block"][0] != block
    # 1m more in year 1 and 1.018m more in year 2 (uplift 1.8 %): 1,009,000 a year on average.
    assert metrics(app)["Block"][1] == "+£1.0m a year from your changes"
    app.radio(key="money_unit").set_value("£000").run()
    assert metrics(app)["Block"][1] == "+£1,009k a year from your changes"
    assert metrics(app)["Activity"][1] == "£0k a year from your changes"


def test_an_upload_with_a_bad_key_shows_the_key_and_no_traceback(app):
    bad = SMALL.read_bytes().replace(b"    beds: 8", b"    bedz: 8")
    app.file_uploader[0].set_value(("my-trust.yaml", bad, "application/x-yaml")).run()
    assert not app.exception
    assert len(app.error) == 1
    message = app.error[0].value
    assert "my-trust.yaml: services.inpatient.bedz: unknown key; did you mean 'beds'?" in message
    assert "Traceback" not in message
    assert not app.metric


def test_an_upload_that_is_not_yaml_shows_where(app):
    app.file_uploader[0].set_value(("broken.yaml", b"name: x\nyears: [2\n", "application/x-yaml")).run()
    assert not app.exception
    assert app.error[0].value.startswith("broken.yaml: is not valid YAML at line")


def test_a_good_upload_is_used_and_removing_it_goes_back(app):
    edited = SMALL.read_text().replace("name: app-small", "name: uploaded-trust").replace("beds: 8", "beds: 9")
    app.file_uploader[0].set_value(("uploaded.yaml", edited.encode(), "application/x-yaml")).run()
    no_problems(app)
    assert widget(app, "slider", "Local adult acute beds").value == 9
    assert any("uploaded-trust" in c.value for c in app.caption)
    app.file_uploader[0].set_value(None).run()
    no_problems(app)
    assert widget(app, "slider", "Local adult acute beds").value == 8


def test_a_scenario_without_contracts_shows_activity_only(app):
    import yaml

    data = yaml.safe_load(SMALL.read_text())
    del data["contracts"], data["costs"]
    app.file_uploader[0].set_value(("activity-only.yaml", yaml.safe_dump(data).encode(), "text/yaml")).run()
    no_problems(app)
    assert not app.metric
    assert any("no contracts" in i.value for i in app.info)
    activity = next(f for f in frames(app) if "Measure" in f.columns)
    assert "Inpatient: out-of-area bed days" in set(activity["Measure"])


def test_stale_results_disable_downloads_until_run(app):
    app.toggle(key="auto").set_value(False).run()
    no_problems(app)
    assert all(downloads(app).values())  # nothing changed yet: results still match
    widget(app, "slider", "Local adult acute beds").set_value(10).run()
    assert any("for earlier inputs" in w.value for w in app.warning)
    state = downloads(app)
    assert state.pop("Download the edited scenario (YAML)") is True  # an input, always current
    assert not any(state.values())
    run_button = next(b for b in app.button if b.label == "Run")
    run_button.click().run()
    no_problems(app)
    assert not any("for earlier inputs" in w.value for w in app.warning)
    assert all(downloads(app).values())


def test_a_long_run_shows_a_first_look_then_every_replication(monkeypatch):
    monkeypatch.setenv("PAYSIM_FIRST_LOOK_SECONDS", "0")  # any run is long: show the first piece at once
    at = start(monkeypatch, engine="vector", reps=200)
    no_problems(at)
    results = at.session_state["results"]
    assert [len(piece) for piece in results.pieces] == [20, 180]
    assert results.complete and results.first_look_at is not None  # the page was drawn on 20 first
    assert any(
        c.value.startswith("**app-small**: 200 replications of 2 financial years from 2026/27") for c in at.caption
    )
    assert all(downloads(at).values())


def test_the_first_look_stays_on_the_page_if_the_rest_fails(monkeypatch):
    from paysim import app_support

    original = app_support.simulate

    def fails_after_the_first_look(text: str, first: int, stop: int, engine: str):
        if first > 0:
            raise ValueError("no room to simulate")
        return original(text, first, stop, engine)

    monkeypatch.setattr(app_support, "simulate", fails_after_the_first_look)
    monkeypatch.setenv("PAYSIM_FIRST_LOOK_SECONDS", "0")
    at = start(monkeypatch, engine="vector", reps=200)
    assert not at.exception
    assert [e.value for e in at.error] == ["The scenario cannot be run: no room to simulate"]
    assert any("20 replications (a first look: 20 of 200; the rest follow)" in c.value for c in at.caption)
    assert metrics(at)["Blended"][0].startswith(("£", "-£"))  # the first look's numbers are shown
    state = downloads(at)
    assert state.pop("Download the edited scenario (YAML)") is True
    assert not any(state.values())  # nothing to download until every replication is in

    at.toggle(key="auto").set_value(False).run()  # the same inputs: the rest is tried again
    assert [e.value for e in at.error] == ["The scenario cannot be run: no room to simulate"]
    widget(at, "slider", "Local adult acute beds").set_value(10).run()  # new inputs, not run
    assert any("for earlier inputs" in w.value for w in at.warning)
    assert any("20 replications (a first look: 20 of 200) of" in c.value for c in at.caption)
    assert not at.error


def test_reset_puts_levers_back(app):
    widget(app, "slider", "Local adult acute beds").set_value(12).run()
    next(b for b in app.button if b.label.startswith("Reset the levers")).click().run()
    no_problems(app)
    assert widget(app, "slider", "Local adult acute beds").value == 8
    assert not any(delta for _, delta in metrics(app).values())


def test_years_and_seed_apply_to_both_runs(app):
    widget(app, "slider", "Years").set_value(3).run()
    no_problems(app)
    assert any("3 financial years" in c.value for c in app.caption)
    assert not any(delta for _, delta in metrics(app).values())  # the file is run for 3 years too
    mhis = next(f for f in frames(app) if "MHIS" in f.columns)
    assert set(mhis["Financial year"]) == {"2026/27", "2027/28", "2028/29"}


def test_sessions_do_not_share_results(monkeypatch):
    first = start(monkeypatch)
    widget(first, "slider", "Local adult acute beds").set_value(10).run()
    second = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    second.session_state["engine"] = "des"
    second.session_state["reps-des"] = 10
    second.run()
    no_problems(second)
    assert widget(second, "slider", "Local adult acute beds").value == 8
    assert not any(delta for _, delta in metrics(second).values())


def test_a_scenario_with_parameter_uncertainty_runs_at_central_values(app):
    import yaml

    data = yaml.safe_load(SMALL.read_text())
    data["uncertain"] = {"parameters": {"contracts.block.annual_value": [4.0e6, 4.4e6]}}
    app.file_uploader[0].set_value(("psa.yaml", yaml.safe_dump(data).encode(), "text/yaml")).run()
    no_problems(app)
    assert any("central values" in i.value for i in app.info)
    assert len(app.metric) == 4


def test_who_captures_the_saving_of_more_beds(app):
    widget(app, "slider", "Local adult acute beds").set_value(12).run()
    no_problems(app)
    saving = next(t.value for t in app.table if "Provider surplus changes by" in t.value.columns)
    assert list(saving.index) == ["Block", "Activity", "Blended", "Capitation"]


def test_every_bundled_scenario_opens(monkeypatch):
    from paysim.app_support import scenario_choices

    monkeypatch.delenv("PAYSIM_SCENARIOS", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["engine"] = "vector"
    at.session_state["reps-vector"] = 10
    at.run()
    no_problems(at)
    for name in scenario_choices({}):
        at.selectbox(key="scenario_name").set_value(name).run()
        no_problems(at)
        assert any(f"**{name}**" in c.value for c in at.caption), name
        assert at.sidebar.slider, name


# --- Sensitivity and Contract design --------------------------------------------------------------------


def uncertain_upload() -> tuple[str, bytes, str]:
    """The small scenario with an ``uncertain:`` block: one parameter that changes the patients, two money."""
    import yaml

    data = yaml.safe_load(SMALL.read_text())
    data["uncertain"] = {
        "parameters": {
            "services.inpatient.los_days.mean": {"dist": "pert", "low": 25, "mode": 30, "high": 40},
            "costs.beds.oap_per_bed_day": [580, 660],
            "contracts.block.annual_value": [4.0e6, 4.4e6],
        }
    }
    return ("psa.yaml", yaml.safe_dump(data).encode(), "text/yaml")


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def frame_with(at: AppTest, column: str):
    """The dataframe with a column named ``column`` (exactly one)."""
    found = [f for f in frames(at) if column in f.columns]
    assert len(found) == 1, [list(f.columns) for f in frames(at)]
    return found[0]


@pytest.fixture
def psa(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app on the vector engine (20 replications; tornado runs of 20) with an uncertain block uploaded."""
    at = start(monkeypatch, engine="vector", reps=20)
    at.session_state["tornado-reps-vector"] = 20
    at.file_uploader[0].set_value(uncertain_upload()).run()
    no_problems(at)
    return at


def test_tabs_for_sensitivity_and_contract_design(app):
    assert [t.label for t in app.tabs][7:9] == ["Sensitivity", "Contract design"]


def test_a_scenario_without_uncertainty_says_there_is_nothing_to_rank(app):
    assert any("gives no ranges for its assumptions" in i.value for i in app.info)
    assert not [b for b in app.button if b.label == "Run the tornado"]


def swing_column(at: AppTest) -> tuple[str, str]:
    """The tornado table's swing column and the money basis its header names: ``("Swing (£000)", "£000")``."""
    [name] = [c for f in frames(at) for c in f.columns if c.startswith("Swing (")]
    return name, name.removeprefix("Swing (").removesuffix(")")


def test_the_tornado_ranks_the_parameters_on_a_money_basis(psa):
    assert widget(psa, "selectbox", "Results column").value == "blended.provider_surplus"
    button(psa, "Run the tornado").click().run()
    no_problems(psa)
    column, basis = swing_column(psa)
    assert basis in ui.MONEY_UNITS
    table = frame_with(psa, column).rename(columns={column: "Swing"})
    assert table["Parameter"].iloc[0] == "Mean length of stay"  # the only one that moves it
    assert set(table["Parameter"]) == {
        "Mean length of stay",
        "OAP daily price",
        "Block value",
    }
    swing = table["Swing"].iloc[0]
    assert re.fullmatch(r"\d[\d,]*(\.\d)?", swing) and float(swing.replace(",", "")) > 0, swing  # e.g. 617 (£000)
    assert table.set_index("Parameter").loc["Block value", "Swing"] == ui.amount(0.0, basis)  # not a blended term
    assert any("**swing**" in m.value for m in psa.markdown)
    assert any("Mean at central values" in c.value for c in psa.caption)
    assert downloads(psa)["Tornado table (CSV)"] is True
    charts = len(psa.get("vega_lite_chart"))

    # another column ranks again: the block value moves the block surplus, one for one and then uplifted
    widget(psa, "selectbox", "Results column").set_value("block.provider_surplus").run()
    assert any("for earlier inputs" in w.value for w in psa.warning)
    assert downloads(psa)["Tornado table (CSV)"] is False  # stale: the download waits for a new run
    button(psa, "Run the tornado").click().run()
    no_problems(psa)
    column, basis = swing_column(psa)
    block = frame_with(psa, column).set_index("Parameter")
    assert block.loc["Block value", column] == ui.amount(726_480, basis)  # 360,000 x (1 + 1.018)
    assert len(psa.get("vega_lite_chart")) == charts


def test_sobol_indices_run_on_a_small_sample(psa):
    psa.select_slider(key="sobol-samples").set_value(8).run()
    assert any("40 parameter sets" in c.value for c in psa.caption)  # 8 x (3 + 2)
    button(psa, "Run the Sobol analysis").click().run()
    no_problems(psa)
    table = frame_with(psa, "Total (with interactions)")
    assert table["Parameter"].iloc[0] == "Mean length of stay"
    assert float(table["Total (with interactions)"].iloc[0]) > 0.5


def test_a_sensitivity_problem_is_shown_with_the_key(psa, monkeypatch):
    from paysim import app_support
    from paysim.analysis.sensitivity import SensitivityError

    def broken(*args):
        raise SensitivityError(
            "--measure 'blended.surplus': not a results column; did you mean 'blended.provider_surplus'?"
        )

    monkeypatch.setattr(app_support, "run_tornado", broken)
    button(psa, "Run the tornado").click().run()
    assert not psa.exception
    assert [e.value for e in psa.error] == [
        "The tornado cannot be run: 'blended.surplus': not a results column; did you mean 'blended.provider_surplus'?"
    ]


def test_contract_design_finds_a_block_value_on_the_page_simulation(app, monkeypatch):
    from paysim import app_support

    calls = []
    original = app_support.simulate
    monkeypatch.setattr(app_support, "simulate", lambda *a: calls.append(a) or original(*a))
    assert app.selectbox(key="design-choice").value == "block-p-deficit"
    button(app, "Find the value").click().run()
    no_problems(app)
    assert calls == []  # priced on the activity the page already simulated
    answer = metrics(app)["Block value"]
    assert answer[0].startswith("£") and answer[0].endswith("m a year")  # on the page's basis, £m
    assert answer[1].endswith("from the scenario as loaded (£4.2m a year)")
    assert any("95 % interval (bootstrap over 10 replications)" in m.value for m in app.markdown)
    table = frame_with(app, "At the answer")
    assert table["At the answer"].iloc[0] == "P(provider deficit over 2026/27 to 2027/28)"

    # a higher tolerated chance of a deficit needs a smaller block (compared in £000, the finer basis)
    app.radio(key="money_unit").set_value("£000").run()
    answer = metrics(app)["Block value"]
    app.slider(key="design-target").set_value(30).run()
    assert any("earlier goal or inputs" in w.value for w in app.warning)
    button(app, "Find the value").click().run()
    no_problems(app)
    smaller = metrics(app)["Block value"][0]

    def pounds(text: str) -> float:
        return float(text.removeprefix("£").removesuffix("k a year").replace(",", ""))

    assert pounds(smaller) < pounds(answer[0])


def test_contract_design_of_the_blended_marginal_rate(monkeypatch):
    app = start(monkeypatch, engine="vector", reps=100)  # the worst 5 % of 10 runs is a single run: too few
    app.selectbox(key="design-choice").set_value("blended-equal-shortfall").run()
    assert not [s for s in app.slider if s.key == "design-target"]  # no target: the shortfalls are equal
    button(app, "Find the value").click().run()
    no_problems(app)
    value, delta = metrics(app)["Blended marginal rate (above and below plan)"]
    assert value.endswith(" %") and "percentage points from the scenario as loaded (50.0 %)" in delta


def test_a_goal_that_cannot_be_met_is_explained(app, monkeypatch):
    from paysim import app_support
    from paysim.analysis.design import DesignError

    def broken(*args):
        raise DesignError("no value between 0 and 1 meets the goal (...); give other bounds with --low/--high")

    monkeypatch.setattr(app_support, "run_design", broken)
    button(app, "Find the value").click().run()
    assert not app.exception
    message = app.error[0].value
    assert message.startswith("No answer: no value between 0 and 1 meets the goal (...). With few replications")
    assert "--low" not in message
