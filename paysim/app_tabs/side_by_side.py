"""The **Scenarios side by side** tab: two to four scenarios (shipped, uploaded or saved lever sets) on the same
replications, paired."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.app_tabs.cached import load_file, simulate
from paysim.app_tabs.page import Page
from paysim.model.scenario import ScenarioError, scenario_from_yaml


def draw(page: Page) -> None:
    """Draw the Scenarios side by side tab of ``page``."""
    shown = page.shown
    edited = page.edited
    unit = page.unit
    reps = page.reps
    engine = page.engine
    years = page.years
    seed = page.seed
    choices = page.choices
    chosen = page.chosen
    st.markdown(
        f"Pick two to four scenarios: shipped ones, an uploaded file, or lever settings you saved. Each runs the "
        f"same {reps:,} replications with seed {shown.seed} over {ui.horizon_text(shown)}, so the same patients "
        "arrive wherever the scenarios agree, and each is compared with the first on those same runs (a paired "
        "difference, with its 95 % interval)."
    )
    saved: dict[str, str] = st.session_state.setdefault("saved_levers", {})
    save_columns = st.columns([3, 1])
    save_name = save_columns[0].text_input(
        "Save the levers as", placeholder="e.g. plan + 10 beds", key="save-name", help="A name for the levers now set."
    )
    if save_columns[1].button("Save the levers", disabled=not save_name.strip(), width="stretch"):
        saved[save_name.strip()] = edited.to_yaml()
        st.toast(f"Saved the levers as {save_name.strip()!r}")
    options = [f"{ui.SAVED_PREFIX}{name}" for name in saved] + list(choices)
    picked = st.multiselect(
        "Scenarios to compare (the first is the one the others are compared with)",
        options,
        default=[name for name in (chosen, "more-beds") if name in options][:2],
        max_selections=ui.MAX_SCENARIOS,
        key="compare-picked",
    )
    if st.button("Compare the scenarios", type="primary", disabled=len(picked) < ui.MIN_SCENARIOS):
        try:
            named = {
                name: scenario_from_yaml(saved[name.removeprefix(ui.SAVED_PREFIX)], source=name)
                if name.startswith(ui.SAVED_PREFIX)
                else load_file(str(choices[name]), choices[name].stat().st_mtime)
                for name in picked
            }
            to_run = ui.comparable(named, years, seed)
            progress = st.progress(0.0, text="Simulating the scenarios...")
            compared = {}
            for i, (name, scenario) in enumerate(to_run.items()):
                progress.progress(i / len(to_run), text=f"Simulating {name} ({i + 1} of {len(to_run)})...")
                compared[name] = ui.run_money(scenario, simulate(ui.activity_yaml(scenario), 0, reps, engine))
            progress.empty()
            st.session_state["compared"] = {"key": ui.inputs_key(picked, years, seed, reps, engine), "runs": compared}
        except (ScenarioError, ValueError) as problem:
            st.error(f"The scenarios cannot be compared: {ui.problem_text(problem)}", icon=":material/error:")
    done_comparison = st.session_state.get("compared")
    if done_comparison is not None:
        if done_comparison["key"] != ui.inputs_key(picked, years, seed, reps, engine):
            st.warning("This comparison is for other scenarios or settings. Press **Compare the scenarios** to update.")
        st.table(ui.comparison_table(done_comparison["runs"], unit).set_index(["Rule", "Scenario"]))
