"""paysim sensitivity, design and report: decision analysis on common random numbers."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from paysim.activity import Activity
from paysim.analysis import board_pack
from paysim.analysis import design as dz
from paysim.analysis import report as rp
from paysim.analysis import sensitivity as sens
from paysim.calibrate.backtest import read_table as read_backtest
from paysim.calibrate.backtest import report_sheets as backtest_sheets
from paysim.calibrate.monthly import DataError
from paysim.cli.app import (
    BadInput,
    EngineOption,
    MeasureOption,
    ScenarioArg,
    SchedulerOption,
    SeedOption,
    SetOption,
    WorkersOption,
    app,
    bad_input,
    check_replications,
    check_workers,
    executor_for,
    load,
    machine_errors,
    progress_bar,
    resolve,
    say_engine,
)
from paysim.cli.display import format_value, money, unit
from paysim.model.scenario import Scenario
from paysim.runs.io import (
    SUMMARY_SUFFIXES,
    TABLE_SUFFIXES,
    atomic_path,
    check_output_folder,
    check_output_path,
    write_json,
    write_table,
)
from paysim.runs.montecarlo import (
    choose_engine,
    engine_run,
)
from paysim.runs.runner import Progress, RunSettings, simulate


@app.command()
def sensitivity(
    scenario: ScenarioArg,
    measure: MeasureOption,
    out: Annotated[
        Path | None,
        typer.Option(help="Table: .csv or .parquet (one row per parameter), or .json.", show_default=False),
    ] = None,
    method: Annotated[str, typer.Option(help="oneway (tornado, common random numbers) | sobol (SALib).")] = "oneway",
    reps: Annotated[
        int, typer.Option(help="Replications per run (one-way) or per parameter set (sobol).", show_default=False)
    ] = 0,
    interval: Annotated[
        float, typer.Option(help="One-way: central probability interval giving the low and high ends.")
    ] = 0.9,
    samples: Annotated[int, typer.Option(help="Sobol: base sample size N, a power of 2; N x (P + 2) runs.")] = 64,
    engine: EngineOption = "vector",
    seed: SeedOption = None,
    workers: WorkersOption = 1,
    scheduler: SchedulerOption = None,
    set_: SetOption = None,
) -> None:
    """Sensitivity of a results column to the scenario's uncertain parameters: a one-way (tornado) table
    on common random numbers, or Sobol indices (--method sobol)."""
    with bad_input():
        if method not in ("oneway", "sobol"):
            raise BadInput(f"--method {method!r}: use oneway or sobol")
        reps = reps or (200 if method == "oneway" else 4)
        requested, engine = engine, choose_engine(engine, reps)
        engine_run(engine)
        check_replications("--reps", reps)
        check_workers(workers, scheduler)
        if not 0 < interval < 1:
            raise BadInput(f"--interval: must be between 0 and 1 (exclusive), got {interval}")
        if method == "sobol" and (samples < 2 or samples & (samples - 1)):
            raise BadInput(f"--samples: must be a power of 2 (e.g. 64, 256), got {samples}")
        if out is not None:
            check_output_path(out, TABLE_SUFFIXES + SUMMARY_SUFFIXES, "--out")
        model = load(scenario, set_, seed)
        try:
            sens.check_uncertain(model)
            sens.check_measure(model, measure)
        except sens.SensitivityError as exc:
            raise BadInput(f"{resolve(scenario)}: {exc}") from None

    say_engine(requested, reps)
    errors = Console(stderr=True)
    with (
        machine_errors(),
        executor_for(scheduler, workers) as executor,
        progress_bar(errors, f"{model.name}: {method}", 1) as progress,
    ):
        if method == "oneway":
            result = sens.one_way(model, measure, reps, engine, workers, interval, progress, executor)
            rows, columns = result.rows, sens.TORNADO_COLUMNS
            meta = {"measure": measure, "method": method, "reps": reps, "interval": interval, "seed": model.seed}
        else:
            result = sens.sobol(model, measure, samples, reps, engine, workers, progress, executor)
            rows, columns = result.rows, sens.SOBOL_COLUMNS
            meta = {
                "measure": measure,
                "method": method,
                "reps": reps,
                "samples": samples,
                "evaluations": result.evaluations,
                "seed": model.seed,
                "notes": result.notes,
            }
    if out is not None:
        if out.suffix.lower() in SUMMARY_SUFFIXES:
            write_json({**meta, "rows": rows}, out)
        else:
            table = pa.Table.from_pylist(
                [{c: row[c] if c == "parameter" else float(row[c]) for c in columns} for row in rows]
            )
            write_table(table.replace_schema_metadata({f"paysim.{k}": str(v) for k, v in meta.items()}), out)

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    u = unit(measure)
    title = f"{model.name}: sensitivity of {measure} ({method}, {reps} replications, seed {model.seed})"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    if method == "oneway":
        table.caption = (
            f"ends: the {100 * (1 - interval) / 2:g}th and {100 * (1 + interval) / 2:g}th percentiles, others "
            f"central; mean at central values {format_value(result.value_central, u)}; same replications "
            "in every run (common random numbers)"
        )
        for heading in ("parameter", "low", "high", "value at low", "value at high", "swing", "swing se"):
            table.add_column(heading, justify="left" if heading == "parameter" else "right", no_wrap=True)
        for row in rows:
            table.add_row(
                row["parameter"],
                f"{row['low']:,.4g}",
                f"{row['high']:,.4g}",
                format_value(row["value_low"], u),
                format_value(row["value_high"], u),
                format_value(row["swing"], u),
                format_value(row["swing_se"], u),
            )
    else:
        table.caption = "; ".join(
            [f"{result.evaluations} parameter sets x {reps} replications; 95 % intervals", *result.notes]
        )
        for heading in ("parameter", "first order S1", "total ST"):
            table.add_column(heading, justify="left" if heading == "parameter" else "right", no_wrap=True)
        for row in rows:
            table.add_row(
                row["parameter"], f"{row['S1']:.3f} ± {row['S1_conf']:.3f}", f"{row['ST']:.3f} ± {row['ST_conf']:.3f}"
            )
    table.caption_justify = "left"
    console.print(table)
    if out is not None:
        console.print(f"wrote {out}", markup=False, highlight=False)


@app.command()
def design(
    scenario: ScenarioArg,
    goal: Annotated[
        str,
        typer.Option(
            help="p-deficit: P(provider deficit) = target; mean-surplus: mean surplus = target (GBP); "
            "equal-shortfall: provider's and commissioner's expected shortfall equal.",
            show_default=False,
        ),
    ],
    term: Annotated[
        list[str],
        typer.Option(
            "--term",
            metavar="KEY",
            help="Contract term to solve for (contracts.block.annual_value); repeat to set several to one value.",
            show_default=False,
        ),
    ],
    target: Annotated[
        float | None, typer.Option(help="Goal target (default 0.10 for p-deficit, 0 otherwise).", show_default=False)
    ] = None,
    low: Annotated[float | None, typer.Option(help="Lower end of the search.", show_default=False)] = None,
    high: Annotated[float | None, typer.Option(help="Upper end of the search.", show_default=False)] = None,
    reps: Annotated[int, typer.Option(help="Replications the answer rests on.")] = 1000,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the answer's uncertainty (0 = none).")] = 200,
    engine: EngineOption = "vector",
    seed: SeedOption = None,
    workers: WorkersOption = 1,
    scheduler: SchedulerOption = None,
    set_: SetOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Answer: .json (with the curve), or .csv/.parquet (one row).", show_default=False),
    ] = None,
) -> None:
    """Find the contract term that meets a goal on the same random numbers (scipy brentq), with a
    bootstrap interval."""
    with bad_input():
        requested, engine = engine, choose_engine(engine, reps)
        engine_run(engine)
        check_replications("--reps", reps)
        check_workers(workers, scheduler)
        if reps < 2:
            raise BadInput("--reps: a design needs at least 2 replications, got 1")
        if bootstrap < 0:
            raise BadInput(f"--bootstrap: must be >= 0, got {bootstrap}")
        if goal not in dz.GOALS:
            raise BadInput(f"--goal {goal!r}: use one of {', '.join(dz.GOALS)}")
        if (low is None) != (high is None):
            raise BadInput("--low and --high go together")
        if low is not None and high is not None and not low < high:
            raise BadInput(f"--low/--high: need low < high, got {low:g} and {high:g}")
        if goal == "p-deficit" and target is not None and not 0 < target < 1:
            raise BadInput(f"--target: a probability of deficit is between 0 and 1, got {target}")
        if out is not None:
            check_output_path(out, TABLE_SUFFIXES + SUMMARY_SUFFIXES, "--out")
        model = load(scenario, set_, seed)
        try:
            dz.check_terms(model, term)
        except dz.DesignError as exc:
            raise BadInput(f"{resolve(scenario)}: {exc}") from None

    say_engine(requested, reps)
    errors = Console(stderr=True)
    bounds = (low, high) if low is not None and high is not None else None
    with (
        machine_errors(),
        executor_for(scheduler, workers) as executor,
        progress_bar(errors, f"{model.name}: replications", reps) as progress,
    ):
        activity = simulated(model, reps, engine, workers, progress, executor)
    try:
        result = dz.design(model, goal, term, target=target, bounds=bounds, bootstrap=bootstrap, activity=activity)
    except dz.DesignError as exc:
        typer.echo(f"paysim: {resolve(scenario)}: {exc}", err=True)
        raise typer.Exit(1) from None
    if out is not None:
        if out.suffix.lower() in SUMMARY_SUFFIXES:
            write_json({**result.row(), "bounds": list(result.bounds), "curve": result.curve}, out)
        else:
            write_table(pa.Table.from_pylist([result.row()]), out)

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    in_gbp = not any(t.rsplit(".", 1)[-1] in dz.SHARE_NAMES for t in term)
    show = lambda v: money(v) if in_gbp else f"{v:.4g}"  # noqa: E731
    m = result.at_answer
    lines = [
        f"{model.name}: {goal} (target {result.target:g}) under the {result.rule} rule, {result.reps} replications, "
        f"seed {model.seed}",
        f"  {' = '.join(result.terms)} = {show(result.value)}",
        f"  Monte Carlo uncertainty (bootstrap, {result.bootstrap} resamples): se {show(result.se)}, "
        f"95 % interval {show(result.ci_low)} to {show(result.ci_high)}",
        f"  at the answer: P(deficit) {m['p_deficit']:.1%}, mean surplus {money(m['mean_surplus'])}, "
        f"provider shortfall {money(m['provider_shortfall'])}, commissioner shortfall "
        f"{money(m['commissioner_shortfall'])}, mean commissioner spend {money(m['mean_spend'])}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if out is not None:
        console.print(f"wrote {out}", markup=False, highlight=False)


@app.command()
def report(
    scenario: ScenarioArg,
    out: Annotated[
        Path,
        typer.Option(
            help="Excel workbook to write (.xlsx), or the two-page board pack (.pdf): I&E by financial year, who "
            "carries which risk, MHIS, OAPs, access standards and the assumptions with their sources.",
            show_default=False,
            dir_okay=False,
        ),
    ],
    tables: Annotated[
        Path | None,
        typer.Option(help="Folder to write the same tables to as Parquet files (<sheet>.parquet).", show_default=False),
    ] = None,
    measure: Annotated[
        str | None,
        typer.Option(
            help="Column the tornado ranks parameters on (default <first rule>.provider_surplus).", show_default=False
        ),
    ] = None,
    change: Annotated[
        list[str] | None,
        typer.Option(
            "--change",
            metavar="KEY=VALUE",
            help="Compare with the scenario with this change; repeatable.",
            show_default=False,
        ),
    ] = None,
    reps: Annotated[int, typer.Option(help="Replications of the main run and the comparison.")] = 200,
    tornado_reps: Annotated[int, typer.Option(help="Replications per tornado run.")] = 50,
    engine: EngineOption = "vector",
    seed: SeedOption = None,
    workers: WorkersOption = 1,
    set_: SetOption = None,
    backtest: Annotated[
        Path | None,
        typer.Option(
            help="A calibration's back-test table (paysim calibrate --check's <out>-backtest.csv): adds the sheets "
            "backtest_coverage and backtest.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Write a report workbook: inputs, summary per rule, risk measures, tornado, comparison and, with
    --backtest, a calibration's back-test. With --out NAME.pdf, write the two-page board pack instead."""
    with bad_input():
        requested, engine = engine, choose_engine(engine, reps)
        engine_run(engine)
        check_replications("--reps", reps)
        check_replications("--tornado-reps", tornado_reps)
        check_workers(workers)
        check_output_path(out, (".xlsx", ".pdf"), "--out")
        if out.suffix.lower() == ".pdf":
            given = [
                name
                for name, value in (
                    ("--tables", tables),
                    ("--change", change),
                    ("--backtest", backtest),
                    ("--measure", measure),
                )
                if value
            ]
            if given:
                raise BadInput(
                    f"{', '.join(given)}: {'options' if len(given) > 1 else 'an option'} of the workbook only; "
                    f"the board pack (--out {out.name}) "
                    "takes --reps, --engine, --seed, --workers and --set"
                )
            model = load(scenario, set_, seed)
    if out.suffix.lower() == ".pdf":
        write_board_pack(scenario, model, out, reps, requested, engine, workers)
        return
    with bad_input():
        if tables is not None:
            check_output_folder(tables, "--tables")
        model = load(scenario, set_, seed)
        if change:
            model.with_overrides(list(change))
        try:
            checked = read_backtest(backtest) if backtest is not None else None
        except DataError as exc:
            raise BadInput(str(exc)) from None
        if measure is not None:
            try:
                sens.check_measure(model, measure)
            except sens.SensitivityError as exc:
                raise BadInput(f"{resolve(scenario)}: {exc}") from None

    say_engine(requested, reps)
    errors = Console(stderr=True)
    with machine_errors(), progress_bar(errors, f"{model.name}: replications", reps) as progress:
        result = rp.report_tables(
            model, reps, measure, list(change or []), engine, workers, tornado_reps, progress=progress
        )
    if checked is not None:
        result.update(backtest_sheets(checked))
    rp.write_xlsx(result, out)
    typer.echo(f"wrote {out} (sheets: {', '.join(result)})")
    if tables is not None:
        for path in rp.write_parquet(result, tables):
            typer.echo(f"wrote {path}")


def write_board_pack(
    scenario: str, model: Scenario, out: Path, reps: int, requested: str, engine: str, workers: int
) -> None:
    """Simulate ``reps`` replications of the scenario at its central values and write its board pack (PDF)."""
    say_engine(requested, reps)
    errors = Console(stderr=True)
    with machine_errors(), progress_bar(errors, f"{model.name}: replications", reps) as progress:
        activity = simulated(model, reps, engine, workers, progress)
    pdf = board_pack.board_pack(model, activity, engine, resolve(scenario).read_text(encoding="utf-8"))
    with atomic_path(out) as path:
        Path(path).write_bytes(pdf)
    typer.echo(f"wrote {out} (board pack, 2 pages)")


def simulated(
    model: Scenario,
    reps: int,
    engine: str,
    workers: int,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> Activity:
    """The activity of ``reps`` replications of ``model`` at its central values (:func:`paysim.run`, not priced:
    ``design`` prices it at its trial terms, the board pack in its own pages)."""
    settings = RunSettings(
        reps=reps, engine=engine, workers=workers, progress=progress, executor=executor, uncertainty=False
    )
    return simulate(model, settings)
