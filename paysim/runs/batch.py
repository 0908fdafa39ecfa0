"""A run of many replications in bounded memory: simulated chunk by chunk, priced chunk by chunk.

:func:`paysim.runs.psa.simulate` holds a whole run's activity and ledgers as ``[replication, month]`` arrays,
which suits the app and reports (fan charts need the months) but grows with the number of replications.
:func:`run_batch` gives the same results table and risk measures while holding only what they need:
one value per replication and column (``[R]``), contract-year sums of surplus and spend (``[R, year]``)
and one chunk's months at a time.

One thing has to be known about the whole run before any replication can be priced: a blended or API contract
whose baseline is ``expected`` (or ``last_year``, whose year 1 is) is planned on the mean yearly activity over
*all* replications. So a run goes twice over its chunks:

1. **simulate** every chunk (in this process, a process pool or a Dask cluster, as
   :func:`paysim.runs.montecarlo.iter_chunks` runs them), put its Activity in a :class:`ChunkStore` (kept in
   memory up to a budget, beyond it in files in a temporary folder) and keep its rows' yearly planned
   units ``[rows, year]`` (:func:`paysim.runs.psa.yearly_units`);
2. set the plan's level from those units (:func:`paysim.runs.psa.level_of`, summed in the same order as for a
   run held whole), then **price** the chunks in replication order: results columns, ledger totals and,
   if asked for, the monthly table streamed to its file.

The results are bit-identical to pricing the whole run at once, for any chunk size or number of workers
(every per-replication sum runs along the row, so it does not depend on which rows share a chunk; a
``last_year`` plan's later years are each row's own outturn, priced with its row).
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from paysim.model.uncertainty import central, param_columns, sampled_scenarios
from paysim.money import finance
from paysim.runs import footprint, montecarlo, psa
from paysim.runs.io import monthly_table, run_columns, run_metadata, table_writer
from paysim.runs.montecarlo import RunError, closing, iter_chunks, no_progress
from paysim.runs.results import Run, table_of

if TYPE_CHECKING:
    from paysim.activity import Activity
    from paysim.engines.reuse import LineCache
    from paysim.model.scenario import Scenario

MEMORY_BUDGET = 128 * 2**20
"""Bytes of simulated months a run keeps in memory between its two passes; beyond this, chunks wait in files."""


class ChunkStore:
    """Chunks of a run between its two passes: in memory up to ``budget`` bytes, then in a temporary folder.

    Parameters
    ----------
    budget:
        Bytes of monthly arrays to keep in memory; 0 sends every chunk to disk.
    folder:
        Where the temporary folder goes (default: the system's, which ``TMPDIR`` sets).
    """

    def __init__(self, budget: int = MEMORY_BUDGET, folder: str | Path | None = None) -> None:
        self.budget = budget
        self.folder = folder
        self.held = 0
        self.spilled = 0
        self._memory: dict[int, Activity] = {}
        self._files: dict[int, Path] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def put(self, key: int, activity: Activity) -> None:
        """Keep one chunk (in memory while within the budget, else on disk)."""
        size = _months_bytes(activity)
        if self.held + size <= self.budget:
            self._memory[key] = activity
            self.held += size
            return
        try:
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="paysim-chunks-", dir=self.folder)
            path = Path(self._tmp.name) / f"{key}.pickle"
            with path.open("wb") as file:
                pickle.dump(activity, file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            where = self.folder or tempfile.gettempdir()
            raise RunError(
                f"cannot keep simulated chunks in {where} ({exc.strerror or exc}); a run of this size keeps "
                f"about {size / 2**20:,.1f} MiB per chunk there: set TMPDIR to a folder with room"
            ) from None
        self._files[key] = path
        self.spilled += size

    def take(self, key: int) -> Activity:
        """Give back one chunk and forget it."""
        if key in self._memory:
            activity = self._memory.pop(key)
            self.held -= _months_bytes(activity)
            return activity
        path = self._files.pop(key)
        with path.open("rb") as file:
            activity = pickle.load(file)  # our own file, written above
        path.unlink()
        return activity

    def __len__(self) -> int:
        """Chunks held."""
        return len(self._memory) + len(self._files)

    def close(self) -> None:
        """Drop every chunk and remove the temporary folder."""
        self._memory.clear()
        self._files.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ChunkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _months_bytes(activity: Activity) -> int:
    """Bytes of a chunk's monthly arrays (what the store's budget counts)."""
    return sum(values.nbytes for values in activity.monthly.values())


BatchRun = Run
"""The results of :func:`run_batch`: a :class:`paysim.runs.results.Run` (its ledgers are
:class:`~paysim.money.finance.LedgerTotals`; no activity is kept). The old name, for one release."""


def run_batch(
    scenario: Scenario,
    reps: int,
    engine: str = "vector",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    uncertainty: bool = True,
    monthly: str | Path | None = None,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    spill_folder: str | Path | None = None,
    reuse: LineCache | None = None,
    pricing: Callable[[int, int], None] | None = None,
) -> Run:
    """Simulate and price a run in bounded memory: the results table and risk of :func:`paysim.runs.psa.simulate`.

    Parameters
    ----------
    scenario, reps, engine, workers, progress, executor, uncertainty:
        As for :func:`paysim.runs.psa.simulate` (a PSA if the scenario has an ``uncertain:`` block and
        ``uncertainty``; else at central values).
    monthly:
        A ``.csv`` or ``.parquet`` file to stream the monthly table into (one row per replication and month,
        as :func:`paysim.runs.io.monthly_table`); written atomically, once the whole run has been priced.
    chunk_size:
        Replications per unit of work (default: the engine's); has no effect on results.
    memory_budget:
        Bytes of simulated months kept in memory between the two passes (see :class:`ChunkStore`); default
        :data:`MEMORY_BUDGET`.
    spill_folder:
        Where chunks beyond the budget wait (default: the system's temporary folder).
    reuse:
        A :class:`~paysim.engines.reuse.LineCache` of lines of earlier runs of the same replications (vector
        engine, chunks in this process; see :func:`paysim.runs.montecarlo.run_replications`).
    pricing:
        Progress of the second pass, ``pricing(priced, reps)``: once with 0 when it starts, then after each
        chunk (``progress`` reports the first).

    Returns
    -------
    paysim.runs.results.Run
        The results table and each rule's :class:`~paysim.money.finance.LedgerTotals` (no activity); identical
        whatever ``workers``, ``chunk_size``, ``executor`` or ``memory_budget``.
    """
    plan_on_expected = psa.plans_on_expected(central(scenario))
    uncertain = uncertainty and scenario.uncertain is not None
    model, runner = _plan(scenario, uncertain)

    def scenarios_of(activity: Activity) -> list[Scenario]:
        """Each row's scenario: its own parameter set under uncertainty, else one shared central scenario."""
        if uncertain:
            return sampled_scenarios(scenario, activity.replications)
        return [model] * activity.n_replications

    keeps = footprint.table_bytes(scenario)
    chunks = iter_chunks(model, reps, engine, workers, chunk_size, progress, executor, runner, reuse, keeps)
    budget = MEMORY_BUDGET if memory_budget is None else memory_budget
    # closing: a failure or a signal while a chunk is stored stops the chunks' workers here, not when the
    # generator is collected
    with ChunkStore(budget, spill_folder) as store, closing(chunks):
        units: dict[int, dict[str, np.ndarray]] = {}
        built: dict[int, list[Scenario]] = {}
        for index, activity in chunks:  # pass 1: simulate, keep each chunk and its rows' yearly planned units
            if plan_on_expected:
                built[index] = scenarios_of(activity)  # kept for pass 2: each row's scenario is built once
                units[index] = psa.yearly_units(built[index], activity)
            store.put(index, activity)
            engine_name = activity.engine
        level = _level(units, reps, shared=not uncertain) if plan_on_expected else None
        metadata = run_metadata(scenario, engine_name, reps)

        def chunk_priced(index: int) -> _Priced:
            activity = store.take(index)
            return _price(activity, built.pop(index) if index in built else scenarios_of(activity), level)

        priced = (chunk_priced(index) for index in range(len(store)))
        report = pricing if pricing is not None else no_progress
        report(0, reps)
        if monthly is None:
            columns, totals = _collect(priced, reps, None, metadata, report)
        else:
            with table_writer(monthly) as write:
                columns, totals = _collect(priced, reps, write, metadata, report)
        spilled = store.spilled
    if uncertain:
        columns.update(param_columns(scenario, columns["replication"]))
    return Run(scenario, engine_name, table_of(columns, metadata), totals, spilled_bytes=spilled)


def check_memory(
    scenario: Scenario,
    reps: int,
    engine: str = "vector",
    workers: int = 1,
    executor: Executor | None = None,
    uncertainty: bool = True,
    chunk_size: int | None = None,
) -> footprint.Footprint:
    """Check that :func:`run_batch` with these arguments fits in the memory this machine has free, without
    running it (:func:`paysim.runs.montecarlo.check_memory`; :func:`run_batch` checks too, as it starts).

    Raises
    ------
    paysim.runs.montecarlo.RunTooLarge
        If it would not fit.
    """
    uncertain = uncertainty and scenario.uncertain is not None
    model, _ = _plan(scenario, uncertain)
    return montecarlo.check_memory(model, reps, engine, workers, chunk_size, executor, footprint.table_bytes(scenario))


def _plan(
    scenario: Scenario, uncertain: bool
) -> tuple[Scenario, Callable[[Scenario, list[int], str], Activity] | None]:
    """The scenario to simulate and the chunk runner (each replication's own parameter set under uncertainty; see
    :func:`paysim.runs.psa.uncertain_plan`)."""
    if uncertain:
        return psa.uncertain_plan(scenario)
    return central(scenario), None


def _level(units: dict[int, dict[str, np.ndarray]], reps: int, shared: bool) -> dict[str, np.ndarray]:
    """The planned baselines' level from every chunk's yearly units, summed as :func:`paysim.runs.psa.expected_level`
    sums a whole run: all rows at once when they share one scenario, else row by row."""
    yearly = {key: np.concatenate([units[i][key] for i in sorted(units)]) for key in units[0]}
    groups = [np.arange(reps)] if shared else [np.array([row]) for row in range(reps)]
    return psa.level_of(yearly, groups)


@dataclass(frozen=True)
class _Priced:
    """One chunk priced: its results columns ``{name: [rows]}``, each rule's totals, and its activity (for
    the monthly table)."""

    columns: dict[str, np.ndarray]
    totals: dict[str, finance.LedgerTotals]
    activity: Activity


def _price(activity: Activity, scenarios: list[Scenario], level) -> _Priced:
    """Price one chunk, row ``i`` with ``scenarios[i]``, with the run's planned baselines' ``level``
    (``{key: [year]}`` units, or None)."""
    ledgers = psa.ledgers_by_replication(scenarios, activity, level)
    columns = {"replication": np.asarray(activity.replications, dtype=np.int64)}
    columns.update(run_columns(activity, ledgers))
    totals = {rule: finance.LedgerTotals.of(ledger) for rule, ledger in ledgers.items()}
    return _Priced(columns, totals, activity)


def _collect(
    priced: Iterable[_Priced],
    reps: int,
    write: Callable[[pa.Table], None] | None,
    metadata: dict[str, str],
    report: Callable[[int, int], None],
) -> tuple[dict[str, np.ndarray], dict[str, finance.LedgerTotals]]:
    """Fill the priced chunks into arrays of the run's length (replication ``r`` in row ``r``, no joining
    copies); stream each chunk's monthly table to ``write`` if given; ``report(priced, reps)`` after each."""
    columns: dict[str, np.ndarray] = {}
    totals: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = {}
    done = 0
    for piece in priced:
        rows = piece.columns["replication"]
        _fill(columns, rows, piece.columns, reps)
        for rule, part in piece.totals.items():
            horizon, years = totals.setdefault(rule, ({}, {}))
            _fill(horizon, rows, part.totals, reps)
            _fill(years, rows, part.years, reps)
        if write is not None:
            write(monthly_table(piece.activity).replace_schema_metadata(metadata))
        done += len(rows)
        report(done, reps)
    return columns, {rule: finance.LedgerTotals(rule, *parts) for rule, parts in totals.items()}


def _fill(target: dict[str, np.ndarray], rows: np.ndarray, part: Mapping[str, np.ndarray], reps: int) -> None:
    """Put one chunk's arrays ``{name: [rows, ...]}`` into the run's ``{name: [reps, ...]}``, made on first use."""
    for name, values in part.items():
        if name not in target:
            target[name] = np.empty((reps, *values.shape[1:]), dtype=values.dtype)
        target[name][rows] = values


__all__ = ["MEMORY_BUDGET", "BatchRun", "ChunkStore", "check_memory", "run_batch"]
