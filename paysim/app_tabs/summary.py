"""The top of the results: each rule's provider surplus a year (the first figures), then who carries the risk:
one sentence a rule, each party's position by financial year, the risk matrix, income and expenditure and a
worked example of each rule's payment."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.analysis.risk import RiskAttribution
from paysim.app_tabs.cached import risk_attribution
from paysim.app_tabs.page import Page


def draw(page: Page) -> None:
    """Draw the headline and who carries the risk (or, without contracts, say there is no money to show)."""
    run, base, results, unit, n = page.run, page.base, page.results, page.unit, page.n
    if run.rules:
        st.subheader("Provider surplus a year (mean over the runs)")
        columns = st.columns(len(run.rules))
        for column, row in zip(columns, ui.headline(run, base if page.edited_anything else None), strict=True):
            change = row["change_a_year"]
            column.metric(
                row["label"],
                ui.money(row["surplus_a_year"], unit),
                delta=None if change is None else f"{ui.money(change, unit, sign=True)} a year from your changes",
                help="Mean provider surplus (income less cost) per contract year; the change is the mean paired "
                "difference from the scenario as loaded, on the same random patients.",
            )
            column.caption(
                f"Chance of a deficit over the {run.years} years **{ui.percent(row['p_deficit'])}** · "
                f"in at least one year {ui.percent(row['p_deficit_any_year'])}"
            )
        if not run.has_costs:
            st.warning("This scenario has no costs, so the provider's cost is zero and its surplus is its income.")

        st.subheader("Who carries the risk")
        found: RiskAttribution = risk_attribution(ui.inputs_key(results.key, n), run)
        for sentence in ui.rule_sentences(found):
            st.markdown(f"- {sentence}")
        st.markdown(
            "**Each party's position by financial year.** *Expected* is the mean over the runs; the *bad year* is "
            "the provider's surplus in its worst year in 20 (5th percentile) and the commissioner's spend in its "
            "worst year in 20 (95th percentile). A minus sign is a deficit."
        )
        st.table(ui.position_table(run, unit).set_index(["Rule", "Position"]))
        st.markdown(
            "**The risk matrix.** How much each risk moves each party's position in a typical year (one standard "
            "deviation), and its share of all the movement of that party's position under that rule. Demand, "
            "out-of-area placements, outcome payments and baseline plans set on last year's outturn move from run "
            "to run; the pay award, cost inflation, CIP delivery, the OAP price and a baseline error are "
            "assumptions, each priced again at both ends of its range on the same runs."
        )
        st.table(ui.risk_matrix(found, unit).set_index(["Rule", "Party"]))
        with st.expander("Income and expenditure by financial year", expanded=False):
            st.markdown(
                "The provider's income, expenditure and surplus under each rule: the median run (P50) of each line, "
                "and the surplus in a bad year (1 in 20). Medians need not add up: each line is its own median."
            )
            st.table(ui.income_and_expenditure_table(run, unit))
        with st.expander("How each rule pays: a worked example in £", expanded=False):
            for rule in run.rules:
                st.markdown(ui.worked_example(run, rule, unit))
    else:
        st.info(
            "This scenario has no contracts, so there is no money to show: the tabs below show the simulated "
            "activity only. Add contracts and costs to the scenario file to compare payment rules."
        )
