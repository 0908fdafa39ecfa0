"""The app's caches, shared by every session of a server: simulations, analyses, scenario files and fits.

Each is a Streamlit cache around a function of :mod:`paysim.app_support`, looked up on the module at call time
(so a test can replace the function underneath).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from paysim import app_support as ui
from paysim.activity import Activity
from paysim.analysis.design import Design
from paysim.analysis.risk import RiskAttribution
from paysim.analysis.sensitivity import SobolResult, Tornado
from paysim.model.scenario import Scenario, scenario_from_yaml


@st.cache_data(max_entries=128, max_size="1GB", show_spinner=False)
def simulate(activity_text: str, first: int, stop: int, engine: str) -> Activity:
    """Replications ``first .. stop - 1`` of a scenario (its engine-facing YAML), shared by every session."""
    return ui.simulate(activity_text, first, stop, engine)


@st.cache_data(max_entries=16, show_spinner=False)
def tornado(scenario_yaml: str, measure: str, reps: int, engine: str) -> Tornado:
    """One-way sensitivity of a scenario (its YAML) on common random numbers, shared by every session."""
    return ui.run_tornado(scenario_yaml, measure, reps, engine)


@st.cache_data(max_entries=8, show_spinner=False)
def sobol(scenario_yaml: str, measure: str, samples: int, reps: int, engine: str) -> SobolResult:
    """Sobol indices of a scenario (its YAML), shared by every session."""
    return ui.run_sobol(scenario_yaml, measure, samples, reps, engine)


@st.cache_data(max_entries=32, show_spinner=False)
def contract_design(results_key: str, choice: str, target: float | None, _run: ui.Run) -> Design:
    """A design answer on the run the page shows (``results_key`` fingerprints its inputs and activity)."""
    return ui.run_design(_run, next(c for c in ui.DESIGN_CHOICES if c.name == choice), target)


@st.cache_data(max_entries=8, show_spinner=False)
def fit_data(name: str, content: bytes, base_yaml: str) -> ui.AppCalibration:
    """A scenario (its YAML) fitted to an uploaded monthly table, with its back-test, shared by every session."""
    return ui.fit_upload(name, content, scenario_from_yaml(base_yaml, source="the chosen scenario"))


@st.cache_data(max_entries=32, show_spinner=False)
def load_file(path: str, modified: float) -> Scenario:
    """A scenario file offered in the picker (reloaded when the file changes)."""
    return ui.load_choice(Path(path))


@st.cache_data(max_entries=32, show_spinner=False)
def risk_attribution(results_key: str, _run: ui.Run) -> RiskAttribution:
    """Who carries which risk on the run the page shows (``results_key`` fingerprints its inputs and activity)."""
    return ui.attribution(_run)
