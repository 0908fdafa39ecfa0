"""The Typer app, the options several commands share, input checks and the progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from paysim import __main__ as entry
from paysim import __version__
from paysim.model.limits import number, shown_name
from paysim.model.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario
from paysim.money.finance import missing_measures
from paysim.runs.footprint import Footprint, duration, run_seconds, size
from paysim.runs.io import (
    OutputError,
)
from paysim.runs.montecarlo import (
    AUTO_DES_MAX_REPS,
    ENGINES,
    MAX_REPS,
    RunError,
    RunTooLarge,
    available_cores,
    dask_executor,
    why_engine,
)

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
        help=f"Scenario YAML file, or the name of a bundled scenario ({', '.join(bundled_scenarios())}; "
        "'paysim scenarios' describes each).",
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
SeedOption = Annotated[
    int | None, typer.Option(help="Root random seed; overrides the scenario's seed.", show_default=False)
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
    """The ``paysim`` command, with SIGINT, SIGTERM and SIGHUP handled (:func:`paysim.__main__.main`, the console
    script's entry point, which installs the handlers before these modules are imported)."""
    entry.main()


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
    """Simulate the finances of English mental-health providers under block, activity, blended (the 2019/20
    design), capitation and API (aligned payment and incentive, in force since 2022/23) payment."""


# --- helpers ------------------------------------------------------------------------------------------


@contextmanager
def executor_for(scheduler: str | None, workers: int) -> Iterator[Executor | None]:
    """The Dask executor asked for with --scheduler (None: a local process pool of --workers)."""
    if scheduler is None:
        yield None
        return
    with bad_input():
        context = dask_executor(scheduler, workers)
        executor = context.__enter__()
    try:
        yield executor
    finally:
        context.__exit__(None, None, None)


@contextmanager
def progress_bar(console: Console, description: str, total: int) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr (shown on a terminal only); yields the runner's progress callback,
    ``progress(done, total)``, or ``progress(done, total, label)`` to start a new phase under a new label.
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
            phase = [description]

            def progress(done: int, of: int, label: str | None = None) -> None:
                """Move the bar; a new ``label`` starts a new phase (a run's pricing after its simulation)."""
                if label is not None and label != phase[0]:
                    phase[0] = label
                    bar.reset(task, total=of, completed=done, description=label)
                else:
                    bar.update(task, completed=done, total=of)

            yield progress
    except KeyboardInterrupt:
        typer.echo("paysim: interrupted; nothing was written", err=True)
        raise typer.Exit(130) from None


@contextmanager
def bad_input() -> Iterator[None]:
    """Turn the errors a user can fix into a message on stderr and exit status 2 (never a traceback)."""
    try:
        yield
    except RunError as exc:
        message = flag_message(exc)
    except (ScenarioError, OutputError, BadInput) as exc:
        message = str(exc)
    except OSError as exc:  # a file name the system refuses (too long, say) that no check above caught
        where = f"{shown_name(exc.filename)}: " if exc.filename else ""
        message = f"{where}{exc.strerror or exc}"
    except (ValueError, RecursionError) as exc:  # a YAML value that cannot be constructed, say
        message = f"the scenario cannot be read: {exc}"
    else:
        return
    typer.echo(f"paysim: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def machine_errors() -> Iterator[None]:
    """Turn what stops a valid run on this machine (a full disk, a folder gone mid-run) into a message on
    stderr and exit status 1, never a traceback; files being written are left untouched (atomic writes).
    A run too large for the memory free is bad input (exit status 2): it is refused before anything runs."""
    try:
        yield
    except RunTooLarge as exc:
        typer.echo(f"paysim: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except RunError as exc:
        typer.echo(f"paysim: {flag_message(exc)}", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"paysim: {exc}", err=True)
        raise typer.Exit(1) from None


def flag_message(exc: RunError) -> str:
    """A run's error as the command line says it: the parameter at fault named by its option (``reps`` ->
    ``--reps``, ``chunk_size`` -> ``--chunk-size``)."""
    message = str(exc)
    if exc.parameter and message.startswith(exc.parameter):
        return f"--{exc.parameter.replace('_', '-')}{message[len(exc.parameter) :]}"
    return message


def check_count(option: str, value: int) -> None:
    if value < 1:
        raise BadInput(f"{option}: must be >= 1, got {value}")


def check_replications(option: str, reps: int) -> None:
    """``--reps`` (or another count of replications) from 1 to :data:`~paysim.runs.montecarlo.MAX_REPS`."""
    check_count(option, reps)
    if reps > MAX_REPS:
        raise BadInput(
            f"{option}: must be <= {MAX_REPS:,} (a million replications estimate a mean to a thousandth of its "
            f"spread), got {number(reps)}"
        )


REMOTE_WORKERS = 4096
"""Most ``--workers`` with a remote Dask scheduler, where the count only sizes the chunks sent to the cluster."""


def check_workers(workers: int, scheduler: str | None = None) -> None:
    """``--workers`` from 1 to the cores this process may use (:func:`~paysim.runs.montecarlo.available_cores`):
    worker processes run on this machine, and more of them than cores run no faster, each holding 120-250 MiB.
    With a remote scheduler (``--scheduler tcp://...``) the workers are the cluster's: at most
    :data:`REMOTE_WORKERS`."""
    check_count("--workers", workers)
    if scheduler is not None and scheduler != "local":
        if workers > REMOTE_WORKERS:
            raise BadInput(f"--workers: must be <= {REMOTE_WORKERS:,} with a remote scheduler, got {number(workers)}")
        return
    cores = available_cores()
    if workers > cores:
        raise BadInput(
            f"--workers: must be <= {cores}, the cores paysim may use on this machine (more worker processes than "
            f"cores run no faster, and each holds 120-250 MiB), got {number(workers)}"
        )


LARGE_RUN_SECONDS = 60.0
"""A run estimated to take longer than this (or :data:`LARGE_RUN_BYTES`) is announced before it starts."""
LARGE_RUN_BYTES = 2**30


def announce(requested: str, engine: str, model: Scenario, reps: int, workers: int, estimate: Footprint) -> None:
    """Say on stderr, before a run starts, which engine ``--engine auto`` chose and why (:func:`say_engine`),
    and, for a large run, its estimated memory and time (:func:`paysim.runs.footprint.run_seconds`), so a run of hours
    is not a surprise."""
    say_engine(requested, reps)
    seconds = run_seconds(model, reps, engine, min(workers, reps))
    if seconds > LARGE_RUN_SECONDS or estimate.total > LARGE_RUN_BYTES:
        typer.echo(
            f"paysim: a large run: about {size(estimate.total)} of memory at its peak and roughly {duration(seconds)} "
            f"on {engine} (a guide from the development machine's speed); Ctrl-C stops it with nothing written",
            err=True,
        )


def say_engine(requested: str, reps: int) -> None:
    """With ``--engine auto``, say on stderr which engine it chose for ``reps`` replications, and why."""
    if requested == "auto":
        typer.echo(f"paysim: --engine auto chose {why_engine(reps)}", err=True)


def resolve(scenario: str) -> Path:
    """A scenario argument as a file: the path itself, or a bundled scenario of that name."""
    path = Path(scenario)
    try:
        exists = path.exists()
    except (OSError, ValueError) as exc:  # a name the system cannot take: too long, a NUL character
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(f"{shown_name(scenario)}: not a usable file name ({reason})") from None
    if exists:
        return path
    bundled = bundled_scenarios()
    if scenario in bundled:
        return bundled[scenario]
    names = ", ".join(bundled) or "none"
    raise ScenarioError(f"{shown_name(scenario)}: no such scenario file (bundled scenarios: {names})")


def load(scenario: str, overrides: list[str] | None, seed: int | None = None) -> Scenario:
    """Load a scenario file or bundled name with ``--set`` overrides; ``--seed``, if given, wins over both."""
    path = resolve(scenario)
    overrides = [*(overrides or []), *([f"seed={seed}"] if seed is not None else [])]
    try:
        model = load_scenario(path, overrides)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"{path}: cannot be read as a scenario: {exc}") from None
    problems = missing_measures(model)
    if problems:  # found before anything is simulated, not as a traceback after
        head = f"{len(problems)} problems in the scenario:\n" if len(problems) > 1 else ""
        raise ScenarioError(head + "\n".join(f"{path}: {problem}" for problem in problems))
    return model


MeasureOption = Annotated[
    str,
    typer.Option(
        help="Results column to analyse, e.g. blended.provider_surplus (GBP over the horizon) or "
        "inpatient.oap_bed_days.",
        show_default=False,
    ),
]
