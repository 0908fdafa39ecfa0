"""The app's "Start from your data": an uploaded monthly table fitted to the chosen scenario, with a back-test.

:func:`fit_upload` reads the upload (CSV, Parquet or Excel, as ``paysim calibrate`` reads it), calibrates the
scenario the page has chosen (:func:`paysim.calibrate.calibrate`) and back-tests the fit: on the last 12 months
held out when the data have 24 or more, else on every month in-sample. :func:`fitted_table` sets the fitted
values beside the base's; :func:`backtest_chart` is the back-test's chart. The calibrated scenario
(``Calibration.scenario``) then stands in for the chosen one, so every lever and tab works on it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from paysim.calibrate import Calibration, calibrate
from paysim.calibrate.backtest import Backtest, backtest, chart, holdout_backtest
from paysim.calibrate.monthly import SUFFIXES, read_monthly
from paysim.model.scenario import Scenario

APP_FIT_REPS = 20
"""Replications of each simulated fit in the app (the command's default is 40)."""
APP_CHECK_REPS = 100
"""Replications of the app's back-test."""
HOLDOUT_FROM = 24
"""Data of at least this many months are back-tested on their last 12 months, held out of the fit."""


@dataclass(frozen=True)
class AppCalibration:
    """A fit for the page: the calibration and its back-test."""

    calibration: Calibration
    check: Backtest

    @property
    def scenario(self) -> Scenario:
        """The calibrated scenario (starts the month after the data)."""
        return self.calibration.scenario


def fit_upload(
    name: str, content: bytes, base: Scenario, reps: int = APP_FIT_REPS, check_reps: int = APP_CHECK_REPS
) -> AppCalibration:
    """Calibrate ``base`` to an uploaded monthly table and back-test the fit.

    Raises
    ------
    paysim.calibrate.DataError
        If the upload is not a usable monthly table (the message names the row and column).
    """
    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(name).name if suffix in SUFFIXES else f"{Path(name).name}.csv")
        path.write_bytes(content)
        data = read_monthly(path)
    data = type(data)(data.months, data.values, name)
    fit = calibrate(data, base, reps=reps, name=f"{base.name}-calibrated")
    if data.n_months >= HOLDOUT_FROM:
        _, result = holdout_backtest(data, base, 12, check_reps, {"reps": reps, "name": fit.name})
    else:
        result = backtest(fit, data, 0, check_reps)
    return AppCalibration(fit, result)


def fitted_table(fit: Calibration) -> pd.DataFrame:
    """The fitted values beside the base's (rates at the calibrated start): key, base, fitted, se, how."""
    rows = [
        {
            "key": r["key"],
            "base": _shown(r["base"]),
            "fitted": _shown(r["fitted"]),
            "se": _shown(r["se"]),
            "how": r["method"],
        }
        for r in fit.rows()
    ]
    return pd.DataFrame(rows, columns=["key", "base", "fitted", "se", "how"])


def kept_lines(fit: Calibration) -> list[str]:
    """What was kept from the base, and why; and the fit's notes."""
    return [f"kept: {part}: {why}" for part, why in fit.kept] + [f"note: {n}" for n in fit.notes]


def backtest_chart(result: Backtest, columns: int = 3) -> Any:
    """The back-test's chart (bands, median, observed months; one panel a measure)."""
    return chart(result, columns)


def coverage_table(result: Backtest) -> pd.DataFrame:
    """Per measure: months checked, observed and simulated means, shares inside the 50 % and 90 % bands."""
    rows = [
        {
            "measure": m,
            "months": c["months"],
            "observed mean": round(c["observed"], 1),
            "simulated median": round(c["p50"], 1),
            "inside 50 %": f"{c['inside_50']:.0%}",
            "inside 90 %": f"{c['inside_90']:.0%}",
        }
        for m, c in result.coverage().items()
    ]
    return pd.DataFrame(rows)


def _shown(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if value != value:
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"
