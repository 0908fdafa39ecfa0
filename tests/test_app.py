"""The Streamlit app through Streamlit's AppTest: widgets, errors shown in the page, results, stale state.

The app runs on tests/data/app-small.yaml (named by PAYSIM_SCENARIOS, so it is first in the picker) with
the patient-level engine and 10 replications, which keeps each script run to a second or two.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

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
        "Results (CSV)": True,
        "Results (Parquet)": True,
        "Workbook (Excel)": True,
    }
    tabs = [t.label for t in app.tabs]
    assert tabs[:6] == [
        "Risk",
        "Surplus by month",
        "Commissioner spend",
        "Out-of-area placements",
        "MHIS",
        "What your changes did",
    ]
    assert len(app.get("vega_lite_chart")) >= 6  # 4 histograms, fan, spend, OAP, occupancy
    risk = app.dataframe[0].value
    assert list(risk["Rule"]) == ["Block", "Activity", "Blended", "Capitation"]
    assert risk.iloc[0, 1].startswith(("£", "-£"))


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
        assert delta.endswith("a year vs the file")
    edits = next(d.value for d in app.dataframe if list(d.value.columns) == ["Key", "In the file", "Now"])
    assert "services.community.growth" in set(edits["Key"])
    assert set(edits["Now"]) == {"0.06"}
    changes = next(d.value for d in app.dataframe if "Change" in d.value.columns)
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
    assert metrics(app)["Block"][1] == "+£1,009,000 a year vs the file"
    assert metrics(app)["Activity"][1] == "£0 a year vs the file"


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
    assert any("no `contracts:` block" in i.value for i in app.info)
    activity = app.dataframe[-1].value
    assert "inpatient.oap_bed_days" in set(activity["Measure"])


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


def test_reset_puts_levers_back(app):
    widget(app, "slider", "Local adult acute beds").set_value(12).run()
    next(b for b in app.button if b.label.startswith("Reset the levers")).click().run()
    no_problems(app)
    assert widget(app, "slider", "Local adult acute beds").value == 8
    assert not any(delta for _, delta in metrics(app).values())


def test_years_and_seed_apply_to_both_runs(app):
    widget(app, "slider", "Years").set_value(3).run()
    no_problems(app)
    assert any("3 contract years" in c.value for c in app.caption)
    assert not any(delta for _, delta in metrics(app).values())  # the file is run for 3 years too
    mhis = next(d.value for d in app.dataframe if "MHIS" in d.value.columns)
    assert set(mhis["Contract year"]) == {"Year 1", "Year 2", "Year 3"}


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
    saving = next(d.value for d in app.dataframe if "Captured by the provider (surplus)" in d.value.columns)
    assert list(saving["Rule"]) == ["Block", "Activity", "Blended", "Capitation"]


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
