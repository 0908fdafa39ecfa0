"""The **Activity** tab: what the simulation counted: bed occupancy by month and the activity table."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.app_tabs.page import Page, show_chart, show_table


def draw(page: Page) -> None:
    """Draw the Activity tab of ``page``."""
    run = page.run
    st.markdown(
        "What the simulation counted over the whole horizon (counts are totals; caseloads and occupancy are means)."
    )
    if "inpatient.occupancy_mean" in run.activity:
        show_chart(
            ui.activity_fan_chart(
                ui.measure_fan(run.activity, "inpatient.occupancy_mean", 100.0), "Local beds occupied (%)", "#4c78a8"
            ),
            width="stretch",
        )
    show_table(ui.activity_display(ui.activity_table(run.activity)))
