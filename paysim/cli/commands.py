"""paysim run, validate, schema and compare."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich.console import Console

from paysim.analysis.compare import check_comparable, compare_scenarios
from paysim.cli.app import (
    BadInput,
    EngineOption,
    ScenarioArg,
    SchedulerOption,
    SeedOption,
    SetOption,
    WorkersOption,
    announce,
    app,
    bad_input,
    check_replications,
    check_workers,
    executor_for,
    load,
    machine_errors,
    progress_bar,
    resolve,
)
from paysim.cli.display import comparison_table, describe, money_table, one_line, saving_table, summary_table
from paysim.model.limits import shown_name
from paysim.model.scenario import bundled_scenarios, json_schema, load_scenario
from paysim.runs import runner
from paysim.runs.batch import check_memory
from paysim.runs.io import (
    SUMMARY_SUFFIXES,
    TABLE_SUFFIXES,
    check_output_path,
    write_json,
    write_table,
)
from paysim.runs.montecarlo import (
    choose_engine,
    engine_run,
)

# --- commands -----------------------------------------------------------------------------------------


@app.command()
def run(
    scenario: ScenarioArg,
    engine: EngineOption = "auto",
    reps: Annotated[int, typer.Option(help="Number of replications (Monte Carlo runs).")] = 20,
    seed: SeedOption = None,
    workers: WorkersOption = 1,
    scheduler: SchedulerOption = None,
    set_: SetOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Results file: .csv or .parquet (one row per replication) or .json (summary).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    monthly: Annotated[
        Path | None,
        typer.Option(
            help="Monthly detail file, .csv or .parquet (one row per replication and month).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    no_uncertainty: Annotated[
        bool,
        typer.Option(
            "--no-uncertainty",
            help="Run at central values, ignoring the scenario's uncertain: block (default: each replication "
            "draws its own parameter set, recorded as param.* columns).",
        ),
    ] = False,
) -> None:
    """Simulate replications of a scenario and summarise every measure."""
    with bad_input():
        requested, engine = engine, choose_engine(engine, reps)
        engine_run(engine)
        check_replications("--reps", reps)
        check_workers(workers, scheduler)
        if out is not None:
            check_output_path(out, TABLE_SUFFIXES + SUMMARY_SUFFIXES, "--out")
        if monthly is not None:
            check_output_path(monthly, TABLE_SUFFIXES, "--monthly")
            if out is not None and out.resolve() == monthly.resolve():
                raise BadInput(f"--out and --monthly are the same file ({out}); give two different files")
        model = load(scenario, set_, seed)
        estimate = check_memory(model, reps, engine, workers, uncertainty=not no_uncertainty)
    announce(requested, engine, model, reps, workers, estimate)

    errors = Console(stderr=True)
    started = time.perf_counter()
    with (
        machine_errors(),
        executor_for(scheduler, workers) as executor,
        progress_bar(errors, f"{model.name}: replications", reps) as progress,
    ):
        settings = runner.RunSettings(
            reps=reps,
            engine=engine,
            workers=workers,
            progress=progress,
            executor=executor,
            uncertainty=not no_uncertainty,
            monthly=monthly,
            pricing=lambda done, total: progress(done, total, f"{model.name}: pricing"),
        )
        result = runner.run(model, settings)
    elapsed = time.perf_counter() - started

    stats = result.summary()
    with machine_errors():
        if out is not None and out.suffix.lower() in SUMMARY_SUFFIXES:
            write_json(stats, out)
        elif out is not None:
            write_table(result.table, out)

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    measures = {name: values for name, values in stats.items() if name.split(".")[0] not in result.ledgers}
    console.print(summary_table(model, measures, engine, reps, elapsed))
    if result.ledgers:
        console.print(money_table(result.ledgers))
    for path in (out, monthly):
        if path is not None:
            console.print(f"wrote {path}", markup=False, highlight=False)


@app.command()
def validate(scenario: ScenarioArg, set_: SetOption = None) -> None:
    """Check a scenario file (with any --set overrides) and describe it."""
    with bad_input():
        model = load(scenario, list(set_ or []))
    typer.echo(f"ok: {resolve(scenario)}")
    for line in describe(model):
        typer.echo(f"  {line}")


@app.command()
def scenarios() -> None:
    """List the bundled scenarios, each with its one-line description; give a name as SCENARIO."""
    bundled = bundled_scenarios()
    width = max(map(len, bundled), default=0)
    for name, path in bundled.items():
        with bad_input():
            typer.echo(f"{name:<{width}}  {one_line(load_scenario(path).description)}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of a scenario file."""
    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
def compare(
    base: ScenarioArg,
    other: Annotated[
        str | None,
        typer.Argument(
            metavar="[OTHER]",
            help="Second scenario file or bundled name; leave out to compare BASE with BASE plus --change.",
            show_default=False,
        ),
    ] = None,
    change: Annotated[
        list[str] | None,
        typer.Option(
            "--change",
            metavar="KEY=VALUE",
            help="Override applied to the other scenario only (--change services.inpatient.beds=210); repeatable.",
            show_default=False,
        ),
    ] = None,
    set_: SetOption = None,
    engine: EngineOption = "auto",
    reps: Annotated[int, typer.Option(help="Number of replications of each scenario.")] = 1000,
    seed: Annotated[
        int | None, typer.Option(help="Root random seed for both; default: BASE's seed.", show_default=False)
    ] = None,
    workers: WorkersOption = 1,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Paired differences: .csv or .parquet (one row per column), or .json (with the saving split).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Compare two scenarios on the same random numbers: paired differences of every measure and ledger,
    and who captures a change in system cost under each rule."""
    with bad_input():
        requested, engine = engine, choose_engine(engine, reps)
        engine_run(engine)
        check_replications("--reps", reps)
        check_workers(workers, scheduler)
        if reps < 2:
            raise BadInput("--reps: a paired comparison needs at least 2 replications, got 1")
        if out is not None:
            check_output_path(out, TABLE_SUFFIXES + SUMMARY_SUFFIXES, "--out")
        if other is None and not change:
            raise BadInput("compare needs OTHER or at least one --change KEY=VALUE for the other scenario")
        base_model = load(base, set_, seed)
        other_model = load(other if other is not None else base, [*(set_ or []), *(change or [])], seed)
        other_name = shown_name(other) if other is not None else f"{shown_name(base)} with --change"
        check_comparable(base_model, other_model, (shown_name(base), other_name))
        estimates = [
            check_memory(model, reps, engine, workers, uncertainty=False) for model in (base_model, other_model)
        ]
    announce(requested, engine, base_model, 2 * reps, workers, max(estimates, key=lambda estimate: estimate.total))

    errors = Console(stderr=True)
    with (
        machine_errors(),
        executor_for(scheduler, workers) as executor,
        progress_bar(errors, f"{base_model.name} vs {other_model.name}", 2 * reps) as progress,
    ):
        result = compare_scenarios(
            base_model, other_model, reps, engine=engine, workers=workers, progress=progress, executor=executor
        )
    with machine_errors():
        if out is not None and out.suffix.lower() in SUMMARY_SUFFIXES:
            write_json({"comparison": result.rows, "saving_split": result.saving_split}, out)
        elif out is not None:
            write_table(pa.Table.from_pylist(result.rows), out)

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    note = "" if other_model.seed == base_model.seed else " (OTHER run on BASE's seed)"
    console.print(comparison_table(result, note))
    if result.saving_split:
        console.print(saving_table(result))
    if out is not None:
        console.print(f"wrote {out}", markup=False, highlight=False)
