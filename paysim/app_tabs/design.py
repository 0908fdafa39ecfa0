"""The **Contract design** tab: which contract term meets a goal, solved on the replications the page shows."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.analysis.design import Design, DesignError
from paysim.app_tabs.cached import contract_design
from paysim.app_tabs.page import Page, show_chart, show_table
from paysim.model.scenario import Scenario, ScenarioError


def draw(page: Page) -> None:
    """Draw the Contract design tab of ``page``."""
    run = page.run
    shown = page.shown
    unit = page.unit
    results = page.results
    n = page.n
    design_options = {choice.name: choice for choice in ui.design_choices(shown)}
    if not design_options:
        st.info("This scenario has no block, capitation, blended or API contract whose terms can be designed here.")
    else:
        st.markdown(
            f"Which contract term meets a goal? The answer is found on the {n:,} replications this page "
            "simulated: only the money is recomputed at each trial value, so it takes seconds. Its 95 % interval "
            "is a bootstrap over the replications (Monte Carlo uncertainty, not uncertainty in the inputs). "
            "A **10 % chance of a deficit** means the provider breaks even in 9 runs out of 10; **equal "
            "expected shortfall** means the provider's worst 5 % of outcomes (below its mean surplus) and the "
            "commissioner's (above its mean spend) are the same size."
        )
        controls = st.columns([2, 1])
        choice_name = controls[0].selectbox(
            "Goal",
            list(design_options),
            format_func=lambda name: design_options[name].label,
            key="design-choice",
            help="The contract term to solve for and the goal it must meet, over the whole horizon.",
        )
        choice = design_options[choice_name]
        target = None
        if choice.goal == "p-deficit":
            target = (
                controls[1].slider(
                    "Chance of a deficit over the horizon (%)",
                    1,
                    50,
                    value=10,
                    key="design-target",
                    help="The share of runs in which the provider ends the horizon in deficit.",
                )
                / 100
            )
        shown_key = ui.inputs_key(results.key, n)  # the inputs, and how many of the run's replications are in
        design_key = ui.inputs_key(shown_key, choice_name, target)
        if st.button("Find the value", type="primary", help="Solve for the term on the replications shown."):
            with st.spinner("Solving...", show_time=True):
                try:
                    st.session_state["design"] = {
                        "key": design_key,
                        "result": contract_design(shown_key, choice_name, target, run),
                        "scenario": shown,
                    }
                except (DesignError, ScenarioError, ValueError) as problem:
                    st.error(
                        f"No answer: {ui.problem_text(problem)}. With few replications the worst 5 % is a "
                        "handful of runs: more replications, or another goal, may give one.",
                        icon=":material/error:",
                    )
        answered = st.session_state.get("design")
        if answered is not None:
            if answered["key"] != design_key:
                st.warning("This answer is for an earlier goal or inputs. Press **Find the value** to update it.")
            found: Design = answered["result"]
            answer = ui.design_answer(found, answered["scenario"], unit)
            st.metric(
                answer["term"],
                answer["value"],
                delta=f"{answer['change']} from the scenario as loaded ({answer['current']})",
                delta_color="off",
                help="The contract term that meets the goal on the replications shown.",
            )
            st.markdown(
                f"95 % interval (bootstrap over {found.reps:,} replications): **{answer['interval']}**. Set "
                f"**{answer['term']}** to it with the levers on the left to see every tab at the answer."
            )
            show_chart(ui.design_chart(found, unit), width="stretch")
            asked: Scenario = answered["scenario"]
            show_table(ui.design_display(found, unit, asked.years, asked.start_month))
