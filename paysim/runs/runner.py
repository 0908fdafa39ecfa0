"""One way to run a scenario: :func:`run` with :class:`RunSettings`, giving a :class:`~paysim.runs.results.Run`.

::

    from paysim import RunSettings, load_scenario, run

    if __name__ == "__main__":  # needed when workers > 1: worker processes re-import the script
        result = run(load_scenario("scenarios/default.yaml"), RunSettings(reps=200, workers=2))
        result.summary()["inpatient.oap_bed_days"]   # mean, sd, percentiles
        result.table                                  # one row per replication

A run goes one of two ways, with the same results table:

- by default chunk by chunk in bounded memory (:func:`paysim.runs.batch.run_batch`), keeping one value per replication
  and column and each rule's :class:`~paysim.money.finance.LedgerTotals`;
- with ``keep_months=True`` held whole (:func:`paysim.runs.psa.simulate`), keeping the activity ``[R, months]``, each
  rule's whole :class:`~paysim.money.finance.Ledger` and each replication's scenario (fan charts, the CIP table).

Errors in the settings are :class:`~paysim.runs.montecarlo.RunError` naming the parameter (``reps``, ``workers``, ...);
the command line names its own options.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from paysim.runs import batch, psa
from paysim.runs.montecarlo import ENGINES, MAX_REPS, RunError, choose_engine
from paysim.runs.results import Run

if TYPE_CHECKING:
    from paysim.activity import Activity
    from paysim.engines.reuse import LineCache
    from paysim.model.scenario import Scenario

Progress = Callable[[int, int], None]
"""Progress callback: ``progress(done_replications, total_replications)``."""


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """How to run a scenario (checked when made; nothing here changes a result, only ``reps``, ``engine`` and
    ``uncertainty`` choose what is run).

    Attributes
    ----------
    reps : int
        Replications ``0 .. reps - 1``, from 1 to :data:`~paysim.runs.montecarlo.MAX_REPS`.
    engine : str
        ``"vector"`` (default), ``"des"`` (the SimPy reference) or ``"auto"`` (des for a handful of replications).
    workers : int
        Local worker processes (1: this process). More than 1 starts them with ``spawn``, so a script must guard
        its top level with ``if __name__ == "__main__":``. Ignored when ``executor`` is given.
    executor : concurrent.futures.Executor, optional
        Where chunks run instead (a Dask client's ``get_executor()``, say); not shut down by the run.
    chunk_size : int, optional
        Replications per unit of work (default: the engine's).
    uncertainty : bool
        Draw each replication's parameter set from the scenario's ``uncertain:`` block (default); False runs at
        central values.
    progress : callable, optional
        ``progress(done, reps)`` as replications are simulated.
    keep_months : bool
        Hold the whole run: its activity, whole ledgers and each replication's scenario (memory grows with
        ``reps``); default False, a run in bounded memory.
    monthly : path, optional
        A ``.csv`` or ``.parquet`` file to write the monthly table to (bounded-memory runs).
    first : int
        The first replication (default 0): the run is replications ``first .. first + reps - 1``, so a run in pieces
        (the app's) joins bit for bit into the run whole (:meth:`paysim.activity.Activity.concat`, then
        :func:`price`). Only with ``keep_months``.
    money : bool
        Price the run (default). False simulates only (with ``keep_months``): ``run.activity`` and the measures'
        columns, no ledgers; for a caller that prices at trial terms of its own (``design``, ``sensitivity``)
        or joins pieces before pricing them.
    reuse : LineCache, optional
        Lines of earlier runs of the same replications (vector engine, chunks in this process, central values):
        only the lines whose inputs changed are simulated again; results are identical with or without it.
    memory_budget, spill_folder, pricing :
        As for :func:`paysim.runs.batch.run_batch` (bounded-memory runs).
    """

    reps: int
    engine: str = "vector"
    workers: int = 1
    executor: Executor | None = None
    chunk_size: int | None = None
    uncertainty: bool = True
    progress: Progress | None = None
    keep_months: bool = False
    monthly: str | Path | None = None
    memory_budget: int | None = None
    spill_folder: str | Path | None = None
    reuse: LineCache | None = None
    pricing: Progress | None = None
    first: int = 0
    money: bool = True

    def __post_init__(self) -> None:
        _check_count("reps", self.reps, MAX_REPS)
        _check_count("workers", self.workers)
        if self.chunk_size is not None:
            _check_count("chunk_size", self.chunk_size)
        if self.engine != "auto" and self.engine not in ENGINES:
            raise RunError(
                f"engine {self.engine!r}: unknown engine (available: auto, {', '.join(ENGINES)})", parameter="engine"
            )
        if isinstance(self.first, bool) or not isinstance(self.first, numbers.Integral) or self.first < 0:
            raise RunError(f"first: must be a whole number >= 0, got {self.first!r}", parameter="first")
        if self.first and not self.keep_months:
            raise RunError("first: a run from a replication other than 0 keeps its months (keep_months=True)")
        if not self.money and not self.keep_months:
            raise RunError("money: a run that is not priced keeps its months (keep_months=True)")
        if self.keep_months and self.monthly is not None:
            raise RunError("monthly: a run that keeps its months has them in run.activity; give one or the other")

    @property
    def chosen_engine(self) -> str:
        """The engine that runs (``auto`` resolved for ``reps``)."""
        return choose_engine(self.engine, self.reps)


def run(scenario: Scenario, settings: RunSettings | None = None, **settings_by_name: object) -> Run:
    """Run a scenario: simulate its replications and price them under every payment rule it has.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`paysim.load_scenario`).
    settings : RunSettings, optional
        How to run it; or give the settings by name instead, ``run(scenario, reps=200, workers=2)``.

    Returns
    -------
    paysim.runs.results.Run
        The results table, each rule's ledgers and the summary; the activity too with ``keep_months``. Identical
        whatever ``workers``, ``chunk_size``, ``executor`` or the memory budget.

    Raises
    ------
    paysim.runs.montecarlo.RunError
        On bad settings (naming the parameter), or :class:`~paysim.runs.montecarlo.RunTooLarge` before anything runs
        if the run cannot fit in the memory free.
    """
    if settings is None:
        settings = RunSettings(**settings_by_name)  # type: ignore[arg-type]
    elif settings_by_name:
        raise RunError(f"give the settings as RunSettings or by name, not both (got {', '.join(settings_by_name)})")
    engine = settings.chosen_engine
    shared = {"progress": settings.progress, "executor": settings.executor, "uncertainty": settings.uncertainty}
    if settings.keep_months:
        return psa.simulate(
            scenario,
            settings.reps,
            engine,
            settings.workers,
            **shared,
            first=settings.first,
            reuse=settings.reuse,
            chunk_size=settings.chunk_size,
            money=settings.money,
        )
    return batch.run_batch(
        scenario,
        settings.reps,
        engine,
        settings.workers,
        **shared,
        monthly=settings.monthly,
        chunk_size=settings.chunk_size,
        memory_budget=settings.memory_budget,
        spill_folder=settings.spill_folder,
        reuse=settings.reuse,
        pricing=settings.pricing,
    )


def simulate(scenario: Scenario, settings: RunSettings) -> Activity:
    """Simulate only: the activity ``[R, months]`` of :func:`run` with ``settings``, kept whole and not priced
    (``keep_months=True, money=False`` whatever ``settings`` says), for a caller that prices it itself (at trial
    terms, on a fixed plan, or once its pieces are joined: :func:`price`)."""
    activity = run(scenario, replace(settings, keep_months=True, money=False)).activity
    assert activity is not None  # a run that keeps its months has them
    return activity


def price(scenario: Scenario, activity: Activity, uncertainty: bool = True) -> Run:
    """The :class:`~paysim.runs.results.Run` of activity simulated from ``scenario`` without its money
    (``money=False``), such as a run's pieces joined with :meth:`~paysim.activity.Activity.concat`: bit for bit
    what :func:`run` with ``keep_months=True`` gives for the same replications (see :func:`paysim.runs.psa.price`)."""
    return psa.price(scenario, activity, uncertainty)


def _check_count(name: str, value: object, most: int | None = None) -> None:
    """A whole number from 1 (to ``most``), else a :class:`RunError` naming the parameter."""
    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not whole or value < 1 or (most is not None and value > most):  # type: ignore[operator]
        allowed = f"from 1 to {most:,}" if most is not None else ">= 1"
        raise RunError(f"{name}: must be a whole number {allowed}, got {value!r}", parameter=name)


__all__ = ["Progress", "Run", "RunSettings", "price", "run", "simulate"]
