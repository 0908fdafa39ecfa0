"""The **Commissioner spend** tab: what the commissioner pays each year under each rule, median and 5th-95th
percentiles."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.app_tabs.page import Page, show_chart, show_table


def draw(page: Page) -> None:
    """Draw the Commissioner spend tab of ``page``."""
    run = page.run
    shown = page.shown
    unit = page.unit
    if run.rules:
        st.markdown(
            "What the commissioner pays each year under each rule (including OAP bed days it pays directly): "
            "the dot is the median run, the bar runs from the 5th to the 95th percentile. A long bar means "
            "the commissioner carries the volume risk."
        )
        spend = ui.spend_table(run)
        show_chart(ui.spend_chart(spend, unit))
        show_table(ui.spend_display(spend, unit, shown.start_month))
