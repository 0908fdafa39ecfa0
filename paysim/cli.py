"""The ``paysim`` command: run a scenario, validate a scenario file, print the scenario JSON Schema.

::

    paysim run SCENARIO.yaml [--engine des|vector] [--reps N] [--seed S] [--workers W]
                             [--set KEY=VALUE ...] [--out FILE] [--monthly FILE]
    paysim validate SCENARIO.yaml [--set KEY=VALUE ...]
    paysim schema

``SCENARIO`` is a file or the name of a scenario shipped with paysim (``default``, ``oap-pressure``,
``growth``). Bad input (an invalid scenario or ``--set``, an unknown engine, ``--reps 0``, an output file
type paysim cannot write, a missing folder) stops with exit status 2 and a message naming the file and
key, before anything is simulated or written.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from paysim import __version__, analysis, finance
from paysim.compare import Comparison, compare_scenarios
from paysim.demand import MONTH_NAMES
from paysim.io import (
    SUMMARY_SUFFIXES,
    TABLE_SUFFIXES,
    OutputError,
    check_output_path,
    monthly_table,
    results_table,
    summary,
    write_json,
    write_table,
)
from paysim.montecarlo import (
    AUTO_DES_MAX_REPS,
    ENGINES,
    RunError,
    choose_engine,
    dask_executor,
    engine_run,
    run_replications,
)
from paysim.scenario import Scenario, ScenarioError, bundled_scenarios, json_schema, load_scenario
from paysim.uncertainty import central as uncertainty_central
from paysim.uncertainty import simulate

EXIT_BAD_INPUT = 2
"""Exit status for bad input (as click uses for usage errors)."""

app = typer.Typer(
    name="paysim",
    help="Simulate the finances of English mental-health providers under different payment rules.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ScenarioArg = Annotated[
    str,
    typer.Argument(
        metavar="SCENARIO",
        help="Scenario YAML file, or the name of a bundled scenario (default, oap-pressure, growth).",
        show_default=False,
    ),
]
EngineOption = Annotated[
    str,
    typer.Option(
        help=f"Simulation engine: auto | {' | '.join(ENGINES)}; auto runs the SimPy model for up to "
        f"{AUTO_DES_MAX_REPS} replications and the vector engine above that.",
    ),
]
WorkersOption = Annotated[
    int, typer.Option(help="Processes running replications in parallel (local pool, or local Dask workers).")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="Run on Dask: 'local' starts a local cluster of --workers processes, or give a scheduler "
        "address such as tcp://10.0.0.5:8786 (needs the cluster extra).",
        show_default=False,
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a scenario key, value written as in YAML (--set services.inpatient.beds=40); repeatable.",
        show_default=False,
    ),
]


class BadInput(Exception):
    """Input the user must fix; the message is shown as it is, with exit status 2."""


def main() -> None:
    """Entry point of the ``paysim`` console script."""
    app()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"paysim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the paysim version and exit."),
    ] = None,
) -> None:
    """Simulate the finances of English mental-health providers under block, activity, blended and
    capitation payment."""


# --- commands -----------------------------------------------------------------------------------------


@app.command()
def run(
    scenario: ScenarioArg,
    engine: EngineOption = "auto",
    reps: Annotated[int, typer.Option(help="Number of replications (Monte Carlo runs).")] = 20,
    seed: Annotated[
        int | None, typer.Option(help="Root random seed; overrides the scenario's seed.", show_default=False)
    ] = None,
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
    with _bad_input():
        engine = choose_engine(engine, reps)
        engine_run(engine)
        _check_count("--reps", reps)
        _check_count("--workers", workers)
        if out is not None:
            check_output_path(out, TABLE_SUFFIXES + SUMMARY_SUFFIXES, "--out")
        if monthly is not None:
            check_output_path(monthly, TABLE_SUFFIXES, "--monthly")
            if out is not None and out.resolve() == monthly.resolve():
                raise BadInput(f"--out and --monthly are the same file ({out}); give two different files")
        overrides = list(set_ or [])
        if seed is not None:
            overrides.append(f"seed={seed}")
        model = _load(scenario, overrides)

    errors = Console(stderr=True)
    started = time.perf_counter()
    with _executor(scheduler, workers) as executor, _progress(errors, f"{model.name}: replications", reps) as progress:
        psa = simulate(
            model, reps, engine, workers, progress=progress, executor=executor, uncertainty=not no_uncertainty
        )
    elapsed = time.perf_counter() - started

    activity, ledgers = psa.activity, psa.ledgers
    table = results_table(activity, money={**finance.money_columns(ledgers), **psa.params}, scenario=model)
    stats = summary(table)
    if out is not None:
        if out.suffix.lower() in SUMMARY_SUFFIXES:
            write_json(stats, out)
        else:
            write_table(table, out)
    if monthly is not None:
        write_table(monthly_table(activity, scenario=model), monthly)

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    measures = {name: values for name, values in stats.items() if name.split(".")[0] not in ledgers}
    console.print(_summary_table(model, measures, engine, reps, elapsed))
    if ledgers:
        console.print(money_table(ledgers))
    for path in (out, monthly):
        if path is not None:
            console.print(f"wrote {path}", markup=False, highlight=False)


@app.command()
def validate(scenario: ScenarioArg, set_: SetOption = None) -> None:
    """Check a scenario file (with any --set overrides) and describe it."""
    with _bad_input():
        model = _load(scenario, list(set_ or []))
    typer.echo(f"ok: {_resolve(scenario)}")
    for line in describe(model):
        typer.echo(f"  {line}")


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
    with _bad_input():
        engine = choose_engine(engine, reps)
        engine_run(engine)
        _check_count("--reps", reps)
        _check_count("--workers", workers)
        if reps < 2:
            raise BadInput("--reps: a paired comparison needs at least 2 replications, got 1")
        if out is not None:
            check_output_path(out, TABLE_SUFFIXES + SUMMARY_SUFFIXES, "--out")
        if other is None and not change:
            raise BadInput("compare needs OTHER or at least one --change KEY=VALUE for the other scenario")
        shared = list(set_ or [])
        if seed is not None:
            shared.append(f"seed={seed}")
        base_model = _load(base, shared)
        other_model = _load(other if other is not None else base, [*shared, *(change or [])])

    errors = Console(stderr=True)
    with (
        _executor(scheduler, workers) as executor,
        _progress(errors, f"{base_model.name} vs {other_model.name}", 2 * reps) as progress,
    ):
        result = compare_scenarios(
            base_model, other_model, reps, engine=engine, workers=workers, progress=progress, executor=executor
        )
    if out is not None:
        if out.suffix.lower() in SUMMARY_SUFFIXES:
            write_json({"comparison": result.rows, "saving_split": result.saving_split}, out)
        else:
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


# --- helpers ------------------------------------------------------------------------------------------


@contextmanager
def _executor(scheduler: str | None, workers: int) -> Iterator[Executor | None]:
    """The Dask executor asked for with --scheduler (None: a local process pool of --workers)."""
    if scheduler is None:
        yield None
        return
    with _bad_input():
        context = dask_executor(scheduler, workers)
        executor = context.__enter__()
    try:
        yield executor
    finally:
        context.__exit__(None, None, None)


@contextmanager
def _progress(console: Console, description: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (shown on a terminal only); yields the runner's progress callback.
    Ctrl-C stops the run with exit status 130 and nothing written."""
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
            transient=True,
        ) as bar:
            task = bar.add_task(description, total=total)

            def progress(done: int, of: int) -> None:
                bar.update(task, completed=done, total=of)

            yield progress
    except KeyboardInterrupt:
        typer.echo("paysim: interrupted; nothing was written", err=True)
        raise typer.Exit(130) from None


@contextmanager
def _bad_input() -> Iterator[None]:
    """Turn the errors a user can fix into a message on stderr and exit status 2 (never a traceback)."""
    try:
        yield
    except (ScenarioError, OutputError, RunError, BadInput) as exc:
        message = str(exc)
    except (ValueError, RecursionError) as exc:  # a YAML value that cannot be constructed, say
        message = f"the scenario cannot be read: {exc}"
    else:
        return
    typer.echo(f"paysim: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _check_count(option: str, value: int) -> None:
    if value < 1:
        raise BadInput(f"{option}: must be >= 1, got {value}")


def _resolve(scenario: str) -> Path:
    """A scenario argument as a file: the path itself, or a bundled scenario of that name."""
    path = Path(scenario)
    if path.exists():
        return path
    bundled = bundled_scenarios()
    if scenario in bundled:
        return bundled[scenario]
    names = ", ".join(bundled) or "none"
    raise ScenarioError(f"{scenario}: no such scenario file (bundled scenarios: {names})")


def _load(scenario: str, overrides: list[str]) -> Scenario:
    path = _resolve(scenario)
    try:
        return load_scenario(path, overrides)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"{path}: cannot be read as a scenario: {exc}") from None


def describe(scenario: Scenario) -> list[str]:
    """A few lines describing a scenario: horizon, seed, each service line's demand and capacity, contracts."""
    s = scenario.services
    lines = [f"name: {scenario.name}"]
    if scenario.description:
        lines.append(f"description: {' '.join(scenario.description.split())}")
    horizon = f"{scenario.years} year{'s' if scenario.years > 1 else ''} from {MONTH_NAMES[scenario.start_month - 1]}"
    if scenario.warmup_days:
        horizon += f", after {scenario.warmup_days} warm-up days"
    lines.append(f"horizon: {horizon}; seed {scenario.seed}")
    if s.talking_therapies is not None:
        tt = s.talking_therapies
        lines.append(f"talking_therapies: {_demand(tt.referrals_per_year, tt.growth)}, {tt.capacity.courses:,} courses")
    if s.community is not None:
        c = s.community.capacity
        lines.append(
            f"community: {_demand(s.community.referrals_per_year, s.community.growth)}, {c.places:,} places "
            f"({c.staff_wte:g} WTE x {c.caseload_per_wte:g}, {c.vacancy_rate:.0%} vacant, "
            f"{c.agency_cover:.0%} of vacancies agency-covered)"
        )
    if s.crisis is not None:
        cr = s.crisis
        bed = f"{cr.admission_share:.0%} need a bed" if s.inpatient is not None else "no beds"
        if s.inpatient is not None and cr.share_when_full != cr.admission_share:
            bed += f" ({cr.share_when_full:.0%} when the team is full)"
        lines.append(f"crisis: {_demand(cr.referrals_per_year, cr.growth)}, {cr.capacity.places:,} places, {bed}")
    if s.inpatient is not None:
        ip = s.inpatient
        los = ip.los_days
        lines.append(
            f"inpatient: {ip.beds:,} beds, {_demand(ip.admissions_per_year, ip.growth, 'admissions')}, "
            f"length of stay {los.dist} mean {los.mean:g} sd {los.std:g} days, "
            f"{ip.readmission_share:.0%} readmitted, repatriation {'on' if ip.oap.repatriate else 'off'}"
        )
    if scenario.contracts is not None:
        k = scenario.contracts
        parts = [f"OAP paid by {k.oap_paid_by}"]
        if k.block is not None:
            parts.insert(0, f"block {_money(k.block.annual_value)} a year ({k.block.uplift:+.1%} a year)")
        lines.append("contracts: " + "; ".join(parts))
    return lines


def _demand(per_year: float, growth: float, what: str = "referrals") -> str:
    text = f"{per_year:,.0f} {what}/yr"
    if growth:
        text += f" ({growth:+.1%}/yr)"
    return text


# --- the summary table --------------------------------------------------------------------------------

_UNITS = {
    "bed_requests": "requests",
    "oap_admissions": "admissions",
    "local_admissions": "admissions",
    "local_bed_days": "bed days",
    "oap_bed_days": "bed days",
    "repatriations": "patients",
    "readmissions": "admissions",
    "occupancy_mean": "% beds",
    "referrals": "referrals",
    "started": "people",
    "started_within_standard": "people",
    "caseload_mean": "people",
    "waiting_end": "people",
    "wait_days_mean": "days",
}
_MONEY = (*finance.LEDGERS, "system_cost")


def unit(column: str) -> str:
    """Unit of a results column, as shown in the summary table."""
    last = column.rsplit(".", 1)[-1]
    if last in _MONEY:
        return "GBP"
    return _UNITS.get(last, "")


def format_value(value: float | int | None, column_unit: str) -> str:
    """A number for the summary table: percentages for shares, GBP in millions, thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if column_unit == "% beds":
        return f"{100 * value:.1f} %"
    if column_unit == "GBP":
        return _money(value)
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    return f"{value:.2f}"


def _money(value: float) -> str:
    """GBP for display: ``£1.25m``, ``-£403,901``."""
    if math.isnan(value):
        return "-"
    sign = "-" if value < 0 else ""
    if abs(value) >= 1e6:
        return f"{sign}£{abs(value) / 1e6:,.2f}m"
    return f"{sign}£{abs(value):,.0f}"


def _summary_table(
    scenario: Scenario, stats: dict[str, dict[str, float | int | None]], engine: str, reps: int, elapsed: float
) -> Table:
    month = MONTH_NAMES[scenario.start_month - 1]
    years = f"{scenario.years} year{'s' if scenario.years > 1 else ''}"
    title = f"{scenario.name}: {reps} x {years} from {month}, engine {engine}, seed {scenario.seed}, {elapsed:.1f} s"
    table = Table(
        title=title,
        title_justify="left",
        caption="totals over the counted horizon; *_mean rows are means; 5th/95th: percentiles over replications",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("measure", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for heading in ("mean", "sd", "5th", "95th"):
        table.add_column(heading, justify="right", no_wrap=True)
    section = None
    for column, values in stats.items():
        group, _, measure = column.partition(".")
        if group != section:
            table.add_row(Text(group, style="bold"))
            section = group
        u = unit(column)
        table.add_row(f"  {measure}", u, *(format_value(values[k], u) for k in ("mean", "sd", "p5", "p95")))
    return table


def money_table(ledgers: dict[str, finance.Ledger]) -> Table:
    """Every payment rule side by side: provider income, cost, surplus and its risk, commissioner spend."""
    risk = {row["rule"]: row for row in analysis.risk_table(ledgers)}
    table = Table(
        title="money over the counted horizon, every rule on the same replications (GBP)",
        title_justify="left",
        caption="P(deficit): share of replications with a surplus below 0; expected shortfall: mean of the "
        "worst 5 % of surpluses",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("", no_wrap=True)
    for rule in ledgers:
        table.add_column(rule, justify="right", no_wrap=True)

    def mean(name: str):
        return [_money(float(ledger.total(name).mean())) for ledger in ledgers.values()]

    table.add_row("provider income, mean", *mean("provider_income"))
    table.add_row("provider cost, mean", *mean("provider_cost"))
    table.add_row("provider surplus, mean", *mean("provider_surplus"))
    table.add_row("surplus, 5th percentile", *(_money(risk[r]["surplus_p5"]) for r in ledgers))
    table.add_row("expected shortfall", *(_money(risk[r]["expected_shortfall"]) for r in ledgers))
    table.add_row("P(deficit) over the horizon", *(f"{risk[r]['p_deficit']:.0%}" for r in ledgers))
    table.add_row("P(deficit) in any year", *(f"{risk[r]['p_deficit_any_year']:.0%}" for r in ledgers))
    table.add_row("commissioner spend, mean", *mean("commissioner_spend"))
    table.add_row("commissioner spend, sd", *(_money(risk[r]["spend_sd"]) for r in ledgers))
    return table


def comparison_table(result: Comparison, note: str = "") -> Table:
    """Paired differences OTHER - BASE with 95 % intervals, one row per results column."""
    title = (
        f"{result.other.name} - {result.base.name}: {result.reps} paired replications, seed {result.base.seed}{note}"
    )
    table = Table(
        title=title,
        title_justify="left",
        caption="difference = OTHER - BASE, replication by replication on the same random numbers; 95 % t interval",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("column", no_wrap=True)
    for heading in ("base", "other", "difference", "95 % interval"):
        table.add_column(heading, justify="right", no_wrap=True)
    for row in result.rows:
        u = unit(row["column"])
        value = partial(format_value, column_unit=u)
        interval = f"{value(row['ci_low'])} to {value(row['ci_high'])}"
        table.add_row(
            row["column"], value(row["mean_base"]), value(row["mean_other"]), value(row["mean_difference"]), interval
        )
    return table


def saving_table(result: Comparison) -> Table:
    """Per rule: the change in system cost and who captures it (GBP over the horizon, means)."""
    table = Table(
        title="who captures the saving in system cost (provider cost + OAP spend paid by the commissioner)",
        title_justify="left",
        caption="saving = BASE - OTHER system cost = provider's gain in surplus + commissioner's fall in spend",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for heading in ("rule", "saving", "to the provider", "to the commissioner", "provider's share"):
        table.add_column(heading, justify="right" if heading != "rule" else "left", no_wrap=True)
    for row in result.saving_split:
        share = row["provider_share"]
        table.add_row(
            row["rule"],
            _money(row["saving"]),
            _money(row["provider"]),
            _money(row["commissioner"]),
            "-" if math.isnan(share) else f"{share:.0%}",
        )
    return table


# --- decision analysis: sensitivity, contract design, reports -----------------------------------------

MeasureOption = Annotated[
    str,
    typer.Option(
        help="Results column to analyse, e.g. blended.provider_surplus (GBP over the horizon) or "
        "inpatient.oap_bed_days.",
        show_default=False,
    ),
]


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
    seed: Annotated[
        int | None, typer.Option(help="Root random seed; overrides the scenario's seed.", show_default=False)
    ] = None,
    workers: WorkersOption = 1,
    scheduler: SchedulerOption = None,
    set_: SetOption = None,
) -> None:
    """Sensitivity of a results column to the scenario's uncertain parameters: a one-way (tornado) table
    on common random numbers, or Sobol indices (--method sobol)."""
    from paysim import sensitivity as sens

    with _bad_input():
        if method not in ("oneway", "sobol"):
            raise BadInput(f"--method {method!r}: use oneway or sobol")
        reps = reps or (200 if method == "oneway" else 4)
        engine = choose_engine(engine, reps)
        engine_run(engine)
        _check_count("--reps", reps)
        _check_count("--workers", workers)
        if not 0 < interval < 1:
            raise BadInput(f"--interval: must be between 0 and 1 (exclusive), got {interval}")
        if method == "sobol" and (samples < 2 or samples & (samples - 1)):
            raise BadInput(f"--samples: must be a power of 2 (e.g. 64, 256), got {samples}")
        if out is not None:
            check_output_path(out, TABLE_SUFFIXES + SUMMARY_SUFFIXES, "--out")
        overrides = list(set_ or [])
        if seed is not None:
            overrides.append(f"seed={seed}")
        model = _load(scenario, overrides)
        try:
            sens.check_uncertain(model)
            sens.check_measure(model, measure)
        except sens.SensitivityError as exc:
            raise BadInput(f"{_resolve(scenario)}: {exc}") from None

    errors = Console(stderr=True)
    with _executor(scheduler, workers) as executor, _progress(errors, f"{model.name}: {method}", 1) as progress:
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
    seed: Annotated[
        int | None, typer.Option(help="Root random seed; overrides the scenario's seed.", show_default=False)
    ] = None,
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
    from paysim import design as dz

    with _bad_input():
        engine = choose_engine(engine, reps)
        engine_run(engine)
        _check_count("--reps", reps)
        _check_count("--workers", workers)
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
        overrides = list(set_ or [])
        if seed is not None:
            overrides.append(f"seed={seed}")
        model = _load(scenario, overrides)
        try:
            dz.check_terms(model, term)
        except dz.DesignError as exc:
            raise BadInput(f"{_resolve(scenario)}: {exc}") from None

    errors = Console(stderr=True)
    bounds = (low, high) if low is not None and high is not None else None
    with _executor(scheduler, workers) as executor, _progress(errors, f"{model.name}: replications", reps) as progress:
        activity = run_replications(
            uncertainty_central(model), reps, engine, workers, progress=progress, executor=executor
        )
    try:
        result = dz.design(model, goal, term, target=target, bounds=bounds, bootstrap=bootstrap, activity=activity)
    except dz.DesignError as exc:
        typer.echo(f"paysim: {_resolve(scenario)}: {exc}", err=True)
        raise typer.Exit(1) from None
    if out is not None:
        if out.suffix.lower() in SUMMARY_SUFFIXES:
            write_json({**result.row(), "bounds": list(result.bounds), "curve": result.curve}, out)
        else:
            write_table(pa.Table.from_pylist([result.row()]), out)

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    money = not any(t.rsplit(".", 1)[-1] in dz.SHARE_NAMES for t in term)
    show = lambda v: _money(v) if money else f"{v:.4g}"  # noqa: E731
    m = result.at_answer
    lines = [
        f"{model.name}: {goal} (target {result.target:g}) under the {result.rule} rule, {result.reps} replications, "
        f"seed {model.seed}",
        f"  {' = '.join(result.terms)} = {show(result.value)}",
        f"  Monte Carlo uncertainty (bootstrap, {result.bootstrap} resamples): se {show(result.se)}, "
        f"95 % interval {show(result.ci_low)} to {show(result.ci_high)}",
        f"  at the answer: P(deficit) {m['p_deficit']:.1%}, mean surplus {_money(m['mean_surplus'])}, "
        f"provider shortfall {_money(m['provider_shortfall'])}, commissioner shortfall "
        f"{_money(m['commissioner_shortfall'])}, mean commissioner spend {_money(m['mean_spend'])}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if out is not None:
        console.print(f"wrote {out}", markup=False, highlight=False)


@app.command()
def report(
    scenario: ScenarioArg,
    out: Annotated[Path, typer.Option(help="Excel workbook to write (.xlsx).", show_default=False, dir_okay=False)],
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
    seed: Annotated[
        int | None, typer.Option(help="Root random seed; overrides the scenario's seed.", show_default=False)
    ] = None,
    workers: WorkersOption = 1,
    set_: SetOption = None,
) -> None:
    """Write a report workbook: inputs, summary per rule, risk measures, tornado and comparison."""
    from paysim import report as rp
    from paysim import sensitivity as sens

    with _bad_input():
        engine = choose_engine(engine, reps)
        engine_run(engine)
        _check_count("--reps", reps)
        _check_count("--tornado-reps", tornado_reps)
        _check_count("--workers", workers)
        check_output_path(out, (".xlsx",), "--out")
        if tables is not None and not tables.is_dir():
            raise BadInput(f"--tables {tables}: the folder does not exist")
        overrides = list(set_ or [])
        if seed is not None:
            overrides.append(f"seed={seed}")
        model = _load(scenario, overrides)
        if change:
            model.with_overrides(list(change))
        if measure is not None:
            try:
                sens.check_measure(model, measure)
            except sens.SensitivityError as exc:
                raise BadInput(f"{_resolve(scenario)}: {exc}") from None

    errors = Console(stderr=True)
    with _progress(errors, f"{model.name}: replications", reps) as progress:
        result = rp.report_tables(
            model, reps, measure, list(change or []), engine, workers, tornado_reps, progress=progress
        )
    rp.write_xlsx(result, out)
    typer.echo(f"wrote {out} (sheets: {', '.join(result)})")
    if tables is not None:
        for path in rp.write_parquet(result, tables):
            typer.echo(f"wrote {path}")
