"""The back-test: the calibrated scenario simulated over the data's own months, against the data.

The fitted scenario is run from the data's first month (its start month), for as many months as the data, with the
base's warm-up, each replication drawing its own parameter set from the fit's ``uncertain:`` block
(:func:`paysim.run`), so the bands hold both the trust's month-to-month randomness and the fit's
uncertainty. For every measure given and every month: the simulated median, the 50 % and 90 % bands (25-75th and
5-95th percentiles over replications), and whether the observed value lies inside the 90 % band. The share of
observed months inside it should be about 90 % for a trust the model describes well.

**Hold-out.** :func:`holdout_backtest` fits on all but the last ``holdout`` months (12 by default) and checks the
fitted scenario on those last months only: the honest test, since the model never saw them.

The chart (:func:`chart`) draws the bands, the median and the observed months, one panel a measure, and is saved as
PNG with vl-convert (no browser); :func:`table` is the data behind it. :func:`read_table` reads that table back,
and :func:`report_sheets` makes it the back-test section of ``paysim report --backtest FILE``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from paysim.calibrate.calibration import Calibration, calibrate
from paysim.calibrate.monthly import DataError, MonthlyData
from paysim.runs.io import atomic_path, write_table
from paysim.runs.runner import RunSettings, simulate

DEFAULT_REPS = 200
"""Replications of the back-test."""
DEFAULT_HOLDOUT = 12
"""Months held out by default."""
PERCENTILES = (5, 25, 50, 75, 95)
"""Percentiles of the bands (and the median)."""


@dataclass(frozen=True)
class Backtest:
    """Observed against simulated, per measure and month.

    Attributes
    ----------
    rows:
        One row per measure and month: ``measure``, ``month`` (``YYYY-MM``), ``observed``, ``p5``, ``p25``,
        ``p50``, ``p75``, ``p95``, ``inside_50``, ``inside_90`` (booleans), ``checked`` (the month counts in
        the coverage: all months, or the held-out ones).
    holdout:
        Months held out (0: an in-sample check of every month).
    reps:
        Replications simulated.
    scenario_name:
        The scenario simulated.
    """

    rows: list[dict[str, Any]]
    holdout: int
    reps: int
    scenario_name: str
    measures: list[str] = field(default_factory=list)

    def coverage(self) -> dict[str, dict[str, float]]:
        """Per measure: ``months`` checked, share ``inside_50`` and ``inside_90``, mean ``observed`` and mean
        simulated median ``p50`` over the checked months."""
        out = {}
        for measure in self.measures:
            rows = [r for r in self.rows if r["measure"] == measure and r["checked"] and r["observed"] == r["observed"]]
            if not rows:
                continue
            out[measure] = {
                "months": len(rows),
                "inside_50": float(np.mean([r["inside_50"] for r in rows])),
                "inside_90": float(np.mean([r["inside_90"] for r in rows])),
                "observed": float(np.mean([r["observed"] for r in rows])),
                "p50": float(np.mean([r["p50"] for r in rows])),
            }
        return out

    def overall(self) -> float:
        """Share of all checked observed months (every measure) inside the 90 % band."""
        inside = [r["inside_90"] for r in self.rows if r["checked"] and r["observed"] == r["observed"]]
        return float(np.mean(inside)) if inside else float("nan")


def backtest(
    calibration: Calibration, data: MonthlyData | None = None, holdout: int = 0, reps: int = DEFAULT_REPS
) -> Backtest:
    """Simulate the data's months with the calibrated scenario and compare (see the module docstring).

    Parameters
    ----------
    calibration:
        The fit (on ``data``, or on its first months for a hold-out check).
    data:
        The months to compare with (default: those fitted to); must start where the fit's data start.
    holdout:
        The last ``holdout`` months are the ones checked (0: every month).
    reps:
        Replications.
    """
    data = calibration.data if data is None else data
    if data.first != calibration.data.first:
        raise DataError(f"the back-test's months must start where the fit's do ({calibration.data.first})")
    if not 0 <= holdout < data.n_months:
        raise DataError(f"--holdout: must be between 0 and {data.n_months - 1} months, got {holdout}")
    years = math.ceil(data.n_months / 12)
    scenario = calibration.scenario_at(data.first, years=years)
    activity = simulate(scenario, RunSettings(reps=reps, engine="vector"))
    months = data.n_months
    rows = []
    measures = [m for m in data.values if m in activity]
    for measure in measures:
        simulated = np.asarray(activity[measure])[:, :months]
        bands = np.percentile(simulated, PERCENTILES, axis=0)
        for i, month in enumerate(data.months):
            observed = float(data[measure][i])
            p5, p25, p50, p75, p95 = (float(b[i]) for b in bands)
            rows.append(
                {
                    "measure": measure,
                    "month": month,
                    "observed": observed,
                    "p5": p5,
                    "p25": p25,
                    "p50": p50,
                    "p75": p75,
                    "p95": p95,
                    "inside_50": bool(p25 <= observed <= p75),
                    "inside_90": bool(p5 <= observed <= p95),
                    "checked": i >= months - holdout if holdout else True,
                }
            )
    return Backtest(rows, holdout, reps, scenario.name, measures)


def holdout_backtest(
    data: MonthlyData,
    base: Any = "default",
    holdout: int = DEFAULT_HOLDOUT,
    reps: int = DEFAULT_REPS,
    fit_options: dict[str, Any] | None = None,
) -> tuple[Calibration, Backtest]:
    """Fit on all but the last ``holdout`` months and check the fit on those (``fit_options`` go to
    :func:`paysim.calibrate.calibrate`)."""
    if not 0 < holdout < data.n_months:
        raise DataError(f"--holdout: must be between 1 and {data.n_months - 1} months, got {holdout}")
    fitted = calibrate(data.head(data.n_months - holdout), base, **(fit_options or {}))
    return fitted, backtest(fitted, data, holdout, reps)


# --- outputs ------------------------------------------------------------------------------------------


def table(result: Backtest) -> pa.Table:
    """The data behind the chart: one row per measure and month (see :class:`Backtest`)."""
    return pa.Table.from_pylist(result.rows)


def chart(result: Backtest, columns: int = 3) -> Any:
    """Bands, median and observed months, one panel a measure (independent y scales): an Altair facet chart.

    Altair is imported here, not with the module, so that every ``paysim`` command does not pay for it.
    """
    import altair as alt

    values = [
        dict(r, date=f"{r['month']}-01", where="inside 90 %" if r["inside_90"] else "outside") for r in result.rows
    ]
    base = alt.Chart().encode(x=alt.X("date:T", title=None))
    y = alt.Y("p5:Q", title=None, scale=alt.Scale(zero=False))
    band90 = base.mark_area(opacity=0.25, color="#4c78a8").encode(y=y, y2="p95:Q")
    band50 = base.mark_area(opacity=0.45, color="#4c78a8").encode(y="p25:Q", y2="p75:Q")
    median = base.mark_line(color="#1f3b73").encode(y="p50:Q")
    observed = base.mark_point(filled=True, size=28).encode(
        y="observed:Q",
        color=alt.Color(
            "where:N",
            scale=alt.Scale(domain=["inside 90 %", "outside"], range=["#222222", "#d62728"]),
            legend=alt.Legend(title="observed"),
        ),
        tooltip=["measure:N", "month:N", "observed:Q", "p5:Q", "p50:Q", "p95:Q"],
    )
    layers = [band90, band50, median, observed]
    if result.holdout:
        first = next(r["month"] for r in result.rows if r["checked"])
        rule = alt.Chart().mark_rule(strokeDash=[4, 3], color="#888888").encode(x="start:T")
        rule = rule.transform_filter(alt.datum.month == first).transform_calculate(start="datum.date")
        layers.append(rule)
    title = f"{result.scenario_name}: observed months against the simulated median, 50 % and 90 % bands"
    if result.holdout:
        title += f" (last {result.holdout} months held out of the fit: right of the dashed line)"
    return (
        alt.layer(*layers, data=alt.Data(values=values))
        .properties(width=260, height=150)
        .facet(facet=alt.Facet("measure:N", title=None, sort=result.measures), columns=columns)
        .resolve_scale(y="independent")
        .properties(title=title)
    )


def save_chart(result: Backtest, path: str | Path, scale: float = 2.0) -> Path:
    """Render :func:`chart` to a PNG file atomically (vl-convert, no browser)."""
    import vl_convert

    spec = json.dumps(chart(result).to_dict())
    png = vl_convert.vegalite_to_png(spec, scale=scale)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
    return path


def save_table(result: Backtest, path: str | Path) -> Path:
    """Write :func:`table` as CSV or Parquet, atomically."""
    return write_table(table(result), path)


COLUMNS = ("measure", "month", "observed", "p5", "p25", "p50", "p75", "p95", "inside_50", "inside_90", "checked")
"""The columns of the back-test's table (:func:`table`), in order."""


def read_table(path: str | Path) -> Backtest:
    """A back-test table written by :func:`save_table` (``--check``'s ``<out>-backtest.csv``), read back.

    Raises
    ------
    DataError
        If the file cannot be read or lacks a column of :data:`COLUMNS`.
    """
    path = Path(path)
    try:
        data = pacsv.read_csv(path) if path.suffix.lower() == ".csv" else pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"--backtest {path}: cannot be read as a back-test table ({exc})") from None
    missing = [c for c in COLUMNS if c not in data.column_names]
    if missing:
        raise DataError(
            f"--backtest {path}: row 1: no column {', '.join(repr(c) for c in missing)}; give the table paysim "
            "calibrate --check writes (<out>-backtest.csv)"
        )
    rows = data.select(list(COLUMNS)).to_pylist()
    measures = list(dict.fromkeys(r["measure"] for r in rows))
    checked = [r for r in rows if r["checked"]]
    holdout = 0 if len(checked) == len(rows) else len(checked) // max(len(measures), 1)
    return Backtest(rows, holdout, 0, path.stem, measures)


def report_sheets(result: Backtest) -> dict[str, list[dict[str, Any]]]:
    """The back-test as report sheets: ``backtest_coverage`` (one row per measure: months checked, observed and
    simulated means, shares inside the 50 % and 90 % bands) and ``backtest`` (every measure and month)."""
    coverage = [{"measure": m, **c} for m, c in result.coverage().items()]
    return {"backtest_coverage": coverage, "backtest": [dict(r) for r in result.rows]}
