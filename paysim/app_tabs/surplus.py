"""The **Surplus by month** tab: the provider's surplus by month (year to date, each month or running total),
median and bands."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.app_tabs.page import Page, show_chart


def draw(page: Page) -> None:
    """Draw the Surplus by month tab of ``page``."""
    run = page.run
    if run.rules:
        views = {
            "Year to date": ("Provider surplus, year to date", "Surplus, year to date", {"year_to_date": True}),
            "Each month": ("Provider surplus in each month", "Surplus in the month", {}),
            "Running total from the start": (
                "Provider surplus, running total",
                "Surplus to date",
                {"cumulative": True},
            ),
        }
        view = st.radio("Show", list(views), horizontal=True, key="fan_view")
        st.markdown(
            "Months are numbered in each financial year (M1 is April). The line is the median run; the dark band "
            "holds the middle 50 % of runs and the light band 90 %. A rule paying at the year end (capitation's "
            "outcome payment) shows as a step in M12 of the year to date."
        )
        title, y_title, options = views[view]
        show_chart(ui.fan_chart(ui.fan_table(run, **options), title, y_title, page.unit))
