"""What the page holds once a run is on it (:class:`Page`), and how tables and charts are drawn on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from paysim import app_support as ui
from paysim.model.scenario import Scenario


@dataclass(frozen=True)
class Page:
    """The inputs and the run a page shows, for the tabs to draw from.

    Attributes
    ----------
    results:
        The page's run (a first look, or every replication).
    edited:
        The scenario file with the run settings and the levers applied (the current inputs).
    unit:
        The page's money basis, ``"£m"`` or ``"£000"`` (:data:`paysim.app_support.MONEY_UNITS`).
    reps, engine, years, seed:
        The run settings in the sidebar.
    prefix:
        The fingerprint of the scenario file that the levers' widget keys start with.
    choices, chosen:
        The scenario files offered (name -> path) and the one picked (None if an upload is used).
    """

    results: ui.PieceRun
    edited: Scenario
    unit: str
    reps: int
    engine: str
    years: int
    seed: int
    prefix: str
    choices: dict[str, Path]
    chosen: str | None

    @property
    def run(self) -> ui.Run:
        """The edited scenario's money on the replications in so far."""
        return self.results.edited

    @property
    def base(self) -> ui.Run:
        """The scenario file's money on the same replications."""
        return self.results.base

    @property
    def shown(self) -> Scenario:
        """The scenario the results are for (the inputs, or earlier ones while the results are stale)."""
        return self.run.scenario

    @property
    def n(self) -> int:
        """Replications on the page."""
        return self.run.activity.n_replications

    @property
    def edited_anything(self) -> bool:
        """Whether the levers change the scenario file."""
        return bool(ui.edited_keys(self.base.scenario, self.shown))


def show_chart(chart: Any, **kwargs: Any) -> None:
    """Draw an Altair chart (converted by :func:`paysim.app_support.vega_spec`, without a schema check)."""
    st.vega_lite_chart(spec=ui.vega_spec(chart), **kwargs)


def show_table(frame: Any) -> None:
    """A table drawn whole (every row, and it prints), indexed by its first column."""
    st.table(frame.set_index(frame.columns[0]))
