"""The app's "Start from your data" through Streamlit's AppTest: a monthly table fitted to the chosen scenario, the
fitted values beside the base's, the back-test, and the calibrated scenario used by every lever and tab.

The data are 24 months of tests/data/app-small.yaml with more talking-therapies referrals, simulated once.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from paysim.app_support import fit_upload, fitted_table
from paysim.calibrate.monthly import month_after
from paysim.model.scenario import load_scenario
from paysim.model.uncertainty import central
from paysim.runs.runner import RunSettings, simulate

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
SMALL = Path(__file__).parent / "data" / "app-small.yaml"
TIMEOUT = 180
MEASURES = (
    "talking_therapies.referrals",
    "community.referrals",
    "crisis.referrals",
    "crisis.admissions",
    "inpatient.bed_requests",
    "inpatient.readmissions",
    "inpatient.discharges",
    "inpatient.local_bed_days",
    "inpatient.oap_bed_days",
    "inpatient.oap_admissions",
    "inpatient.occupancy_mean",
)


@pytest.fixture(scope="module")
def history() -> bytes:
    """24 months (April 2023 on) of the small trust with 900 talking-therapies referrals a year, as wide CSV."""
    truth = central(load_scenario(SMALL)).with_overrides({"services.talking_therapies.referrals_per_year": 900})
    activity = simulate(truth, RunSettings(reps=1))
    columns = {"month": [month_after("2023-04", i) for i in range(activity.n_months)]}
    columns.update({name: activity[name][0].tolist() for name in MEASURES})
    sink = io.BytesIO()
    pacsv.write_csv(pa.table(columns), sink)
    return sink.getvalue()


def start(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PAYSIM_SCENARIOS", str(SMALL))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["engine"] = "vector"
    at.session_state["reps-vector"] = 20
    at.run()
    return at


@pytest.fixture(autouse=True)
def _clear_cache():
    yield
    st.cache_data.clear()


def data_uploader(at: AppTest):
    found = [u for u in at.file_uploader if u.label.startswith("Your trust's monthly figures")]
    assert len(found) == 1
    return found[0]


def test_fit_upload_fits_and_back_tests(history):
    fit = fit_upload("history.csv", history, central(load_scenario(SMALL)), reps=6, check_reps=20)
    table = fitted_table(fit.calibration)
    referrals = table[table["key"] == "services.talking_therapies.referrals_per_year"].iloc[0]
    assert referrals["base"] == "600"
    assert 700 < float(referrals["fitted"].replace(",", "")) < 1200
    assert fit.check.holdout == 12 and fit.check.reps == 20
    assert fit.scenario.start_month == 4 and fit.calibration.start == "2025-04"


def test_the_app_uses_the_calibrated_scenario_everywhere(monkeypatch, history):
    at = start(monkeypatch)
    assert not at.exception
    data_uploader(at).set_value(("history.csv", history, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("app-small-calibrated" in c.value for c in at.caption)
    assert any(e.label.startswith("Fitted to your data: 2023-04..2025-03") for e in at.expander)
    keys = set(at.dataframe[0].value["key"])
    assert "services.talking_therapies.referrals_per_year" in keys
    assert any("Back-test" in m.value for m in at.markdown)
    # the levers start at the calibrated scenario's values (the same fit as the app's: same data and seed)
    fitted = fit_upload("history.csv", history, central(load_scenario(SMALL))).scenario
    stay = [w for w in [*at.slider, *at.number_input] if w.label.startswith("Mean length of stay")]
    assert len(stay) == 1
    assert stay[0].value == pytest.approx(fitted.services.inpatient.los_days.mean)
    assert fitted.services.inpatient.los_days.mean != 30
    assert at.metric  # the results of the run on the calibrated scenario
    data_uploader(at).set_value(None).run()
    assert not at.exception
    assert not any("app-small-calibrated" in c.value for c in at.caption)


def test_bad_data_is_shown_in_the_page(monkeypatch):
    at = start(monkeypatch)
    bad = b"month,crisis.referals\n2024-01,3\n"
    data_uploader(at).set_value(("history.csv", bad, "text/csv")).run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any("row 1, column 'crisis.referals'" in m and "did you mean 'crisis.referrals'" in m for m in messages)
