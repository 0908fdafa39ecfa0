"""paysim realism: a scenario's simulated trust against published national figures per head."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from paysim.analysis.realism import Check, realism
from paysim.cli.app import (
    ScenarioArg,
    SeedOption,
    SetOption,
    WorkersOption,
    app,
    bad_input,
    check_count,
    check_replications,
    check_workers,
    load,
)
from paysim.model.uncertainty import central
from paysim.runs.runner import RunSettings, run


@app.command(name="realism")
def realism_command(
    scenario: ScenarioArg,
    reps: Annotated[int, typer.Option(help="Replications (at the scenario's central values).")] = 200,
    year: Annotated[int, typer.Option(help="Contract year to measure (1 = the first).")] = 1,
    seed: SeedOption = None,
    workers: WorkersOption = 1,
    set_: SetOption = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table (as in the README).")] = False,
) -> None:
    """Compare a scenario's trust with published national figures, scaled to its population."""
    with bad_input():
        check_replications("--reps", reps)
        check_count("--year", year)
        check_workers(workers)
        model = central(load(scenario, set_, seed))
        if year > model.years:
            raise ValueError(f"--year: the scenario runs {model.years} years, got {year}")
        if model.population is None:
            raise ValueError(f"{scenario}: population: not given, so figures cannot be compared per head")
    result = run(model, RunSettings(reps=reps, engine="vector", workers=workers, keep_months=True, uncertainty=False))
    assert result.activity is not None  # keep_months
    checks = realism(model, result.activity, result.ledgers, year - 1)
    console = Console()
    if markdown:
        typer.echo(markdown_table(checks))
        return
    if not console.is_terminal:
        console.width = max(console.width, 160)
    table = Table(box=box.SIMPLE_HEAD, title=f"{model.name}: year {year}, {reps} replications at central values")
    for heading in ("figure", "simulated", "published", "", "source"):
        table.add_column(heading, justify="right" if heading in ("simulated", "published") else "left")
    for check in checks:
        table.add_row(
            f"{check.benchmark.label} ({check.benchmark.unit})",
            simulated(check),
            published(check),
            "yes" if check.inside else "NO",
            check.benchmark.source,
        )
    console.print(table)
    outside = [c.benchmark.label for c in checks if not c.inside]
    console.print(f"{len(checks) - len(outside)} of {len(checks)} inside the published range", highlight=False)


def _number(value: float, unit: str) -> str:
    if unit.startswith("share"):
        return f"{value:.1%}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def simulated(check: Check) -> str:
    """The run's mean and its standard error, in the figure's unit."""
    unit = check.benchmark.unit
    text = _number(check.mean, unit)
    if check.se == check.se and check.se > 0:  # not NaN, not an input
        text += f" ± {_number(check.se, unit)}"
    return text


def published(check: Check) -> str:
    """The published range, scaled to the scenario's population."""
    unit = check.benchmark.unit
    return f"{_number(check.low, unit)} - {_number(check.high, unit)}"


def markdown_table(checks: list[Check]) -> str:
    """The checks as a Markdown table."""
    rows = ["| figure | default trust | published | inside | source |", "| --- | ---: | ---: | --- | --- |"]
    for check in checks:
        label = f"{check.benchmark.label} ({check.benchmark.unit})"
        inside = "yes" if check.inside else "**no**"
        rows.append(f"| {label} | {simulated(check)} | {published(check)} | {inside} | {check.benchmark.source} |")
    return "\n".join(rows)
