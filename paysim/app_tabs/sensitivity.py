"""The **Sensitivity** tab: the tornado (one-way sensitivity) and Sobol indices of the scenario's uncertain
assumptions."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.analysis.sensitivity import SensitivityError, Tornado
from paysim.app_tabs.cached import sobol, tornado
from paysim.app_tabs.page import Page, show_chart, show_table
from paysim.model.scenario import ScenarioError


def draw(page: Page) -> None:
    """Draw the Sensitivity tab of ``page``."""
    edited = page.edited
    engine = page.engine
    prefix = page.prefix
    st.markdown(
        "Which uncertain assumptions move the results most? Each assumption the scenario gives a range for "
        "is set in turn to the low and the high end of its range, every other parameter at its central value "
        "(the value in the file, or the one your levers set: a key set by a lever is pinned and not varied)."
    )
    if edited.uncertain is None:
        st.info(
            "This scenario gives no ranges for its assumptions, so there is nothing to rank. Add an `uncertain:` "
            "section to the scenario file (see *Parameter uncertainty* in the README) and upload it to see its "
            "tornado here.",
            icon=":material/info:",
        )
    else:
        scenario_yaml = edited.to_yaml()
        measures = ui.sensitivity_measures(edited)
        controls = st.columns([2, 1])
        measure = controls[0].selectbox(
            "Results column",
            measures,
            index=measures.index(ui.default_measure(edited)),
            format_func=ui.measure_label,
            key=f"{prefix}:sensitivity-measure",
            help="The result whose mean the parameters are ranked by. Money is over the whole horizon, in £m or £000.",
        )
        tornado_reps_key = f"tornado-reps-{engine}"
        if tornado_reps_key not in st.session_state:
            st.session_state[tornado_reps_key] = ui.default_tornado_replications(engine)
        tornado_reps = controls[1].select_slider(
            "Replications of each run",
            options=[10, 20, 50, 100, 200, 500],
            key=tornado_reps_key,
            help="Every run uses the same replications (the same random patients), so few are needed.",
        )
        runs = ui.tornado_simulations(edited)
        tornado_key = ui.inputs_key(scenario_yaml, measure, tornado_reps, engine)
        if st.button(
            "Run the tornado",
            type="primary",
            help=f"{runs} simulations of {tornado_reps:,} replications (a contract or cost parameter only "
            "re-prices the central simulation).",
        ):
            with st.spinner(f"Running {runs} simulations of {tornado_reps:,} replications...", show_time=True):
                try:
                    st.session_state["tornado"] = {
                        "key": tornado_key,
                        "result": tornado(scenario_yaml, measure, tornado_reps, engine),
                    }
                except (SensitivityError, ScenarioError, ValueError) as problem:
                    st.error(f"The tornado cannot be run: {ui.problem_text(problem)}", icon=":material/error:")
        done = st.session_state.get("tornado")
        if done is None:
            st.caption(f"The tornado takes {runs} simulations of {tornado_reps:,} replications on the {engine} engine.")
        else:
            result: Tornado = done["result"]
            stale = done["key"] != tornado_key
            if stale:
                st.warning("This tornado is for earlier inputs. Press **Run the tornado** to update it.")
            ends = ui.tornado_ends(result)
            basis = ui.tornado_unit(result, page.unit)
            label = ui.measure_phrase(result.measure)
            st.markdown(
                f"A parameter's **swing** is how far the mean {label} over the horizon moves when that parameter "
                f"goes from its {ends['low']} to its {ends['high']}. Every run uses the same "
                f"{result.reps:,} replications (the same random patients), so a swing is the parameter's effect, "
                "not noise; its standard error says how precisely it is known. The longest bars are the "
                "assumptions most worth pinning down; a short bar means the result hardly depends on it."
            )
            show_chart(ui.tornado_chart(result, unit=page.unit), width="stretch")
            st.caption(
                f"Mean at central values (the black line): "
                f"**{ui.measure_text(result.value_central, ui.is_money(result.measure), basis)}**; "
                f"{result.reps:,} replications per run; each bar is labelled with the parameter's value."
            )
            show_table(ui.tornado_display(result, page.unit))
            st.download_button(
                "Tornado table (CSV)",
                ui.tornado_csv(result),
                file_name=f"{edited.name}-tornado.csv",
                mime="text/csv",
                disabled=stale,
                on_click="ignore",
                key=f"download-tornado-{'stale' if stale else 'ready'}",
            )

        st.markdown(
            "#### Sobol indices (optional)\n"
            "A global view: all parameters vary together. The **first-order** index is the share of the "
            "variance of the mean that a parameter explains alone; the **total** index adds its interactions "
            "with the others. A small sample gives rough estimates (the ± column); correlations between "
            "parameters are ignored."
        )
        sobol_controls = st.columns([2, 1])
        samples = sobol_controls[1].select_slider(
            "Base sample",
            options=[8, 16, 32, 64, 128],
            value=16,
            key="sobol-samples",
            help="Parameter sets drawn = base sample x (parameters + 2), each run for 4 replications.",
        )
        sets = ui.sobol_simulations(edited, samples)
        sobol_key = ui.inputs_key(scenario_yaml, measure, samples, engine)
        sobol_controls[0].caption(f"{sets:,} parameter sets of 4 replications each on the {engine} engine.")
        if st.button("Run the Sobol analysis", help=f"{sets:,} parameter sets of 4 replications each."):
            with st.spinner(f"Running {sets:,} parameter sets...", show_time=True):
                try:
                    st.session_state["sobol"] = {
                        "key": sobol_key,
                        "result": sobol(scenario_yaml, measure, samples, 4, engine),
                    }
                except (SensitivityError, ScenarioError, ValueError) as problem:
                    st.error(f"The Sobol analysis cannot be run: {ui.problem_text(problem)}", icon=":material/error:")
        indices = st.session_state.get("sobol")
        if indices is not None:
            if indices["key"] != sobol_key:
                st.warning("These Sobol indices are for earlier inputs. Press **Run the Sobol analysis** to update.")
            show_chart(ui.sobol_chart(indices["result"]), width="stretch")
            show_table(ui.sobol_display(indices["result"]))
            for note in indices["result"].notes:
                st.caption(f"Note: {note}.")
