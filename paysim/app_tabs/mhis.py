"""The **MHIS** tab: the Mental Health Investment Standard per rule, by financial year."""

from __future__ import annotations

import streamlit as st

from paysim import app_support as ui
from paysim.app_tabs.page import Page, show_table


def draw(page: Page) -> None:
    """Draw the MHIS tab of ``page``."""
    run = page.run
    shown = page.shown
    unit = page.unit
    mhis = ui.mhis_table(run)
    if len(mhis):
        st.markdown(
            "The Mental Health Investment Standard is the ICB's test: all its qualifying mental-health spend "
            "(this provider's, less learning disability, autism, dementia and specialised services, plus its "
            "spend elsewhere: other providers, the independent and voluntary sectors, prescribing, continuing "
            "healthcare) must grow at least as fast as its allocation plus the mental-health increment. The "
            "verdict counts the runs that meet it; **Provider-level proxy** is the same test on the spend with "
            "this provider alone."
        )
        show_table(ui.mhis_display(mhis, unit, shown.start_month))
    else:
        st.info("This scenario does not describe the ICB's mental-health spend, so the standard is not checked.")
