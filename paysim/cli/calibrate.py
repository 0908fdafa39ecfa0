"""paysim calibrate: a trust's monthly history (and its OAP return) -> a calibrated scenario, with a back-test.

::

    paysim calibrate DATA --base SCENARIO [--set KEY=VALUE ...] --out FILE.yaml [--check] [--holdout N]
                     [--start YYYY-MM]
    paysim calibrate --oap-return FILE [FILE ...] --provider CODE --base SCENARIO --out FILE.yaml

``--set`` changes the base before the fit (its beds, say). Files after ``--oap-return`` (or given with it as
arguments) that are NHS Digital OAP open-data files are read as the OAP return; at most one other file is the
monthly table. ``--check`` fits on all but the last ``--holdout`` months (12 by default; 0 checks the full fit on
every month), simulates the data's months and writes the chart ``<out>-backtest.png`` and its data
``<out>-backtest.csv`` beside ``--out``. Nothing is written unless every step succeeds; bad data stops with exit
status 2 and a message naming the file, row and column.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from paysim.calibrate import Calibration, calibrate
from paysim.calibrate.backtest import (
    DEFAULT_HOLDOUT,
    DEFAULT_REPS,
    Backtest,
    backtest,
    holdout_backtest,
    save_chart,
    save_table,
)
from paysim.calibrate.monthly import DataError
from paysim.calibrate.oap_return import LAYOUTS
from paysim.calibrate.roots import DEFAULT_REPS as FIT_REPS
from paysim.calibrate.writer import write_scenario
from paysim.cli.app import BadInput, SetOption, app, bad_input, check_replications, load, machine_errors
from paysim.model.limits import shown_name
from paysim.model.scenario import Scenario
from paysim.runs.io import check_output_path

SCENARIO_SUFFIXES = (".yaml", ".yml")


def chart_paths(out: Path) -> tuple[Path, Path]:
    """Where ``--check`` writes the back-test's chart and data: beside ``--out``."""
    stem = out.with_suffix("")
    return stem.with_name(f"{stem.name}-backtest.png"), stem.with_name(f"{stem.name}-backtest.csv")


def _is_oap_file(path: Path) -> bool:
    """Whether a file starts with the header of a published OAP open-data layout."""
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace") as file:
            first = file.readline()
    except OSError:
        return False
    header = tuple(cell.strip().strip('"') for cell in first.strip().split(","))
    return any(header == layout.header for layout in LAYOUTS)


@app.command(name="calibrate")
def calibrate_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[DATA]",
            help="The trust's monthly table (CSV, Parquet or Excel; long: month, measure, value; or wide: month and "
            "one column per measure), and any further OAP files of --oap-return.",
            show_default=False,
        ),
    ] = None,
    base: Annotated[
        str, typer.Option(help="Scenario whose other values are kept: a file or a bundled name.")
    ] = "default",
    set_: SetOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="The calibrated scenario, .yaml.", show_default=False, dir_okay=False),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Back-test: simulate the data's months with the fitted scenario and compare."),
    ] = False,
    holdout: Annotated[
        int,
        typer.Option(help="With --check: months held out of the fit and checked (0: check the full fit in-sample)."),
    ] = DEFAULT_HOLDOUT,
    start: Annotated[
        str | None,
        typer.Option(
            help="First month of the calibrated scenario, YYYY-MM (default: the month after the data).",
            show_default=False,
        ),
    ] = None,
    oap_return: Annotated[
        list[Path] | None,
        typer.Option(
            "--oap-return",
            metavar="FILE",
            help="NHS Digital OAP open-data file(s), one month each, as published (further files may follow).",
            show_default=False,
        ),
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="Sending provider code in the OAP files, e.g. RW1.", show_default=False)
    ] = None,
    seasonality: Annotated[
        bool, typer.Option("--seasonality/--no-seasonality", help="Fit seasonality (needs 12 or more months).")
    ] = True,
    reps: Annotated[int, typer.Option(help="Replications of each simulated fit.")] = FIT_REPS,
    check_reps: Annotated[int, typer.Option(help="Replications of the back-test.")] = DEFAULT_REPS,
    name: Annotated[
        str | None, typer.Option(help="Name of the calibrated scenario (default: the --out file's name).")
    ] = None,
) -> None:
    """Calibrate a scenario to a trust's monthly figures (and its OAP return), with a back-test."""
    with bad_input():
        if out is None:
            raise BadInput("--out: give the file to write the calibrated scenario to, e.g. --out our-trust.yaml")
        check_output_path(out, SCENARIO_SUFFIXES, "--out")
        check_replications("--reps", reps)
        check_replications("--check-reps", check_reps)
        if holdout < 0:
            raise BadInput(f"--holdout: must be >= 0, got {holdout}")
        oap_files = list(oap_return or [])
        data_files = []
        for path in files or []:
            (oap_files if oap_files and _is_oap_file(path) else data_files).append(path)
        if len(data_files) > 1:
            raise BadInput(
                f"give one monthly table, got {', '.join(shown_name(p) for p in data_files)} (OAP files go after "
                "--oap-return)"
            )
        base_model = load(base, set_)
        try:
            fit = calibrate(
                data_files[0] if data_files else None,
                base_model,
                oap_return=oap_files,
                provider=provider,
                start=start,
                seasonal=seasonality,
                reps=reps,
                name=name or out.stem,
            )
            result = _check(fit, holdout, check_reps, seasonality, reps, base_model) if check else None
        except DataError as exc:
            raise BadInput(str(exc)) from None

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 140)
    console.print(fitted_table(fit))
    for part, why in fit.kept:
        console.print(f"kept from {fit.base.name}: {part}: {why}", highlight=False, markup=False)
    for note in fit.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    if result is not None:
        console.print(coverage_table(result))
    with machine_errors():
        write_scenario(fit, out)
        written = [out]
        if result is not None:
            chart, data = chart_paths(out)
            save_chart(result, chart)
            save_table(result, data)
            written += [chart, data]
    for path in written:
        console.print(f"wrote {path}", markup=False, highlight=False)


def _check(
    fit: Calibration,
    holdout: int,
    reps: int,
    seasonal: bool,
    fit_reps: int,
    base: Scenario,
) -> Backtest:
    """The back-test asked for: in-sample (``holdout`` 0) or a fit on the first months checked on the rest."""
    data = fit.data
    if holdout == 0:
        return backtest(fit, data, 0, reps)
    if holdout >= data.n_months:
        raise DataError(f"--holdout {holdout}: the data have {data.n_months} months; hold out fewer")
    left = data.n_months - holdout
    if seasonal and left < 12:
        raise DataError(
            f"--holdout {holdout}: leaves {left} months ({data.first} on) to fit, and a seasonal fit needs 12; hold "
            f"out at most {data.n_months - 12}, use --holdout 0 to check the full fit in-sample, or --no-seasonality"
        )
    options = {"seasonal": seasonal, "reps": fit_reps, "name": fit.name}
    _, result = holdout_backtest(data, base, holdout, reps, options)
    return result


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def fitted_table(fit: Calibration) -> Table:
    """The fitted values beside the base's, at the calibrated start."""
    table = Table(
        box=box.SIMPLE_HEAD,
        title=f"{fit.name}: fitted to {fit.data.source}, {fit.data.span()}; starts {fit.start}",
    )
    for heading in ("key", "base", "fitted", "se", "how"):
        table.add_column(heading, justify="right" if heading in ("base", "fitted", "se") else "left")
    for row in fit.rows():
        table.add_row(row["key"], _number(row["base"]), _number(row["fitted"]), _number(row["se"]), row["method"])
    return table


def coverage_table(result: Backtest) -> Table:
    """Per measure: months checked, observed and simulated means, shares inside the 50 % and 90 % bands."""
    which = f"the last {result.holdout} months, held out of the fit" if result.holdout else "every month, in-sample"
    table = Table(
        box=box.SIMPLE_HEAD,
        title=f"back-test, {result.reps} replications: {which}; {result.overall():.0%} of observed months inside "
        "the 90 % band",
    )
    for heading in ("measure", "months", "observed mean", "simulated median", "inside 50 %", "inside 90 %"):
        table.add_column(heading, justify="left" if heading == "measure" else "right")
    for measure, c in result.coverage().items():
        table.add_row(
            measure,
            str(c["months"]),
            _number(c["observed"]),
            _number(c["p50"]),
            f"{c['inside_50']:.0%}",
            f"{c['inside_90']:.0%}",
        )
    return table
