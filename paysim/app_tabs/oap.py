"""The **Out-of-area placements** tab: out-of-area placement bed days by month and their cost by financial year."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.app_tabs.page import Page, show_chart, show_table


def draw(page: Page) -> None:
    """Draw the Out-of-area placements tab of ``page``."""
    run = page.run
    shown = page.shown
    unit = page.unit
    if shown.services.inpatient is not None:
        paid_by = shown.contracts.oap_paid_by if shown.contracts is not None else "provider"
        price = shown.costs.beds.oap_per_bed_day if shown.costs is not None else 0.0
        st.markdown(
            f"When every local bed is full, a patient goes to an out-of-area placement at "
            f"**{ui.gbp(price)} a bed day**, paid by the **{paid_by}**. Bed days by month:"
        )
        show_chart(
            ui.activity_fan_chart(ui.measure_fan(run.activity, "inpatient.oap_bed_days"), "OAP bed days in the month"),
            width="stretch",
        )
        show_table(ui.oap_display(ui.oap_table(run), unit, shown.start_month))
        priced = ui.oap_priced_by(run)
        if priced:
            st.caption(
                f"{' and '.join(priced)} contracts also pay the provider a price per OAP bed day, so under them "
                "the commissioner refunds OAP spend through the provider's income."
            )
    else:
        st.info("This scenario has no adult acute beds, so no out-of-area placements.")
