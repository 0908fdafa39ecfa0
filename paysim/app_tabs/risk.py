"""The **Risk** tab: how the provider's surplus in one year is spread over the runs, per rule; expected
shortfall; cost improvement."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.app_tabs.page import Page, show_chart, show_table


def draw(page: Page) -> None:
    """Draw the Risk tab of ``page``."""
    run = page.run
    shown = page.shown
    unit = page.unit
    if run.rules:
        st.markdown(
            "How the provider's surplus in one contract year is spread over the runs. The solid line is the "
            "mean, the dashed lines the 5th and 95th percentiles; the red line is break-even. A wide "
            "histogram means the provider carries the risk; a narrow one that the rule passes it on."
        )
        year = st.selectbox(
            "Financial year",
            list(range(1, run.years + 1)),
            index=run.years - 1,
            format_func=lambda y: ui.financial_year(y, shown.start_month),
            key=f"risk_year-{run.years}",
        )
        table = ui.yearly_surplus(run)
        chosen_year = table[table["year"] == year]
        domain = ui.nice_domain(chosen_year["surplus"].to_numpy())
        for rule in run.rules:
            values_of_rule = chosen_year[chosen_year["rule"] == ui.RULE_LABELS[rule]]["surplus"].to_numpy()
            show_chart(
                ui.risk_histogram(values_of_rule, rule, ui.financial_year(year, shown.start_month), domain, unit),
                width="stretch",
            )
        st.markdown(
            "**Expected shortfall** is the average surplus of the worst 5 % of runs: what a bad outcome "
            "looks like, not just how often it happens."
        )
        st.table(ui.risk_display(ui.risk_table(run), run.years, unit).set_index("Rule"))
        if run.costs.cip is not None:
            st.markdown(
                "**Cost improvement.** The programme saves a share of the cost the provider controls (all but "
                "OAP bed days bought from other providers) every year; what it delivers and recurs compounds. "
                "The same savings lower the cost under every rule."
            )
            show_table(ui.cip_display(ui.cip_table(run), unit, shown.start_month))
