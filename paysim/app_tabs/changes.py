"""The **What your changes did** tab: the levers' changes against the scenario file, paired on the same runs,
and who captures a saving."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.app_tabs.page import Page, show_chart, show_table


def draw(page: Page) -> None:
    """Draw the What your changes did tab of ``page``."""
    run = page.run
    base = page.base
    shown = page.shown
    unit = page.unit
    edited_anything = page.edited_anything
    if not edited_anything:
        st.info("Move a lever to see what it does: each change is compared with the scenario file on the same runs.")
    else:
        st.markdown(
            "Your changes against the scenario file, run on the same random patients (paired), so the "
            "differences are the effect of the changes alone. The interval is a 95 % interval of the mean change."
        )
        show_table(ui.edits_display(base.scenario, shown))
        table = ui.changes_table(base, run)
        if (table["unit"] == "GBP").any():
            show_chart(ui.changes_chart(table, unit))
        show_table(ui.changes_display(table, run.years, unit, shown.start_month))
        if run.rules:
            st.markdown(
                "**Who captures the saving.** The system cost is what the provider spends plus the OAP spend the "
                "commissioner pays directly. A fall in it (a saving; negative: an extra cost) is shared between a "
                "higher provider surplus and lower commissioner spend, and the payment rule decides the split."
            )
            st.table(ui.saving_display(ui.saving_table(base, run), run.years, unit).set_index("Rule"))
