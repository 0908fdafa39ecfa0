"""Batch Monte Carlo runs: many replications of one scenario, in chunks, on one or many processes.

Replication ``r`` draws every random number from streams seeded with ``(scenario.seed, r, stream name)``
(see :mod:`paysim.model.streams`), so a replication's result does not depend on which process runs it or on
which other replications share its chunk. :func:`simulate` (the simulating half of :func:`paysim.run`) splits
``0 .. reps - 1`` into chunks, runs them (in this process, in a local process pool, or on any
:class:`concurrent.futures.Executor` such as a Dask client's ``client.get_executor()``) and joins the chunks back
in replication order: the result is bit-identical for any number of workers and any chunk size.

Engines are looked up by name in :data:`ENGINES`; an engine is a module with a function
``run(scenario, replications) -> Activity``.

Before anything runs, :func:`check_memory` estimates the run's peak memory (:mod:`paysim.runs.footprint`) and stops a
run that cannot fit in the memory this machine has free with :class:`RunTooLarge`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import math
import multiprocessing
import numbers
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paysim.activity import Activity
from paysim.engines._kernels import set_threads
from paysim.model.scenario import Scenario
from paysim.runs import footprint, interrupts

if TYPE_CHECKING:
    from paysim.engines.reuse import LineCache

Progress = Callable[[int, int], None]
"""Progress callback: ``progress(done_replications, total_replications)``."""
ChunkRunner = Callable[[Scenario, Sequence[int], str], Activity]
"""Runs one chunk: ``run_chunk(scenario, replications, engine) -> Activity``."""


@dataclass(frozen=True)
class EngineInfo:
    """Where an engine lives and how much work suits one chunk of it.

    Attributes
    ----------
    module:
        Importable module with ``run(scenario, replications) -> Activity``.
    chunk_size:
        Preferred replications per chunk: 1 for the patient-level DES (a replication takes seconds, so
        small chunks give a smooth progress bar at no cost), more for engines vectorised over
        replications.
    """

    module: str
    chunk_size: int


ENGINES: dict[str, EngineInfo] = {
    "des": EngineInfo("paysim.engines.des", chunk_size=1),
    "vector": EngineInfo("paysim.engines.vector", chunk_size=256),
}
"""Engines by name. Adding an engine is one line here."""


AUTO_DES_MAX_REPS = 5
"""``engine="auto"`` runs the patient-level DES up to this many replications, the vector engine above it."""


class RunError(ValueError):
    """Bad arguments to a batch run (unknown engine, reps < 1, ...); the message is ready to show.

    ``parameter`` names the argument at fault when there is one; the message then starts with it (``reps: must
    be ...``), so that a front end can put its own name for it there (the command line's ``--reps``).
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class RunTooLarge(RunError):
    """A run whose peak memory would exceed the memory this machine has free; the message (one paragraph) says
    how much it needs, what drives it and which scenario keys to lower."""


def choose_engine(engine: str, reps: int) -> str:
    """Resolve ``"auto"``: the SimPy reference for a handful of replications (each takes seconds),
    the vector engine (identical model, vectorised) for more."""
    if engine != "auto":
        return engine
    return "des" if reps <= AUTO_DES_MAX_REPS else "vector"


def why_engine(reps: int) -> str:
    """Why ``engine="auto"`` chose the engine it did for ``reps`` replications, as the command line says it."""
    if reps <= AUTO_DES_MAX_REPS:
        return (
            f"the SimPy reference model (des) for {reps} replication{'s' if reps != 1 else ''}, as auto does for up "
            f"to {AUTO_DES_MAX_REPS}; --engine vector gives the same results far faster"
        )
    return f"the vector engine for {reps:,} replications, as auto does above {AUTO_DES_MAX_REPS}"


MAX_REPS = 1_000_000
"""Most replications one run may have: a million replications of the default keep about 1.3 GiB of results and
estimate a mean to a thousandth of its spread; more is a slip (an extra digit or two)."""


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system says, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@contextmanager
def dask_executor(scheduler: str, workers: int = 1, timeout: str = "10s") -> Iterator[Executor]:
    """A ``concurrent.futures`` executor on a Dask cluster, for :func:`paysim.run` (its ``executor``).

    Parameters
    ----------
    scheduler:
        ``"local"`` starts a local cluster of ``workers`` single-threaded processes for the run;
        otherwise the address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    workers:
        Worker processes of a local cluster (ignored for a remote scheduler).
    timeout:
        How long to keep trying to reach a remote scheduler.

    Raises
    ------
    RunError
        If the ``cluster`` extra (dask.distributed) is not installed, or the scheduler cannot be reached.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise RunError(
            "scheduler: Dask is not installed; install the cluster extra: pip install 'paysim[cluster]'",
            parameter="scheduler",
        ) from None
    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=timeout)
    except (OSError, RuntimeError) as exc:  # unreachable address, or workers that failed to start
        if cluster is not None:
            cluster.close()
        raise RunError(
            f"scheduler {scheduler!r}: cannot connect to the Dask scheduler ({exc})", parameter="scheduler"
        ) from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def engine_run(engine: str) -> Callable[[Scenario, Sequence[int]], Activity]:
    """The ``run(scenario, replications)`` function of a named engine.

    Raises
    ------
    RunError
        If the name is not in :data:`ENGINES` or its module cannot be imported yet.
    """
    info = ENGINES.get(engine)
    if info is None:
        raise RunError(f"engine {engine!r}: unknown engine (available: {', '.join(ENGINES)})", parameter="engine")
    try:
        module = importlib.import_module(info.module)
    except ModuleNotFoundError as exc:
        if exc.name != info.module:
            raise
        raise RunError(
            f"engine {engine!r}: this engine is not available in this version of paysim", parameter="engine"
        ) from None
    return module.run


def run_chunk(
    scenario: Scenario,
    replications: Sequence[int],
    engine: str = "des",
    reuse: LineCache | None = None,
    scenarios: Sequence[Scenario] | None = None,
) -> Activity:
    """Run one chunk of replications with a named engine (the unit of work sent to a worker).

    Parameters
    ----------
    scenario:
        The validated scenario (a picklable pydantic model).
    replications:
        Replication numbers, each seeding its own random streams.
    engine:
        A name in :data:`ENGINES`.
    reuse:
        For the vector engine, a :class:`~paysim.engines.reuse.LineCache` of lines of earlier runs.
    scenarios:
        For the vector engine, each replication's own scenario (see :func:`paysim.engines.vector.run`).

    Returns
    -------
    Activity
        Rows in the order of ``replications``; arrays ``[len(replications), months]``.
    """
    if multiprocessing.parent_process() is not None:  # a worker process: the workers share the cores
        set_threads(1)
    options = {}
    if engine == "vector":  # the engine that takes a cache and per-row scenarios
        options = {key: value for key, value in (("reuse", reuse), ("scenarios", scenarios)) if value is not None}
    elif scenarios is not None:
        raise RunError(f"engine {engine!r}: runs one scenario for every replication of a chunk", parameter="engine")
    return engine_run(engine)(scenario, list(replications), **options)


def chunk_replications(reps: int, chunk_size: int, first: int = 0) -> list[range]:
    """Split replications ``first .. first + reps - 1`` into consecutive ranges of at most ``chunk_size``."""
    stop = first + reps
    return [range(start, min(start + chunk_size, stop)) for start in range(first, stop, chunk_size)]


def default_chunk_size(reps: int, workers: int, engine: str = "des") -> int:
    """The engine's preferred chunk size, made smaller when that would leave workers idle."""
    preferred = ENGINES[engine].chunk_size if engine in ENGINES else 1
    return max(1, min(preferred, math.ceil(reps / workers)))


def simulate(
    scenario: Scenario,
    reps: int,
    engine: str = "des",
    workers: int = 1,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    chunk_runner: ChunkRunner | None = None,
    reuse: LineCache | None = None,
    first: int = 0,
) -> Activity:
    """Simulate replications ``first .. first + reps - 1`` of a scenario and return them as one Activity (the
    simulating half of :func:`paysim.run`, which front ends call instead).

    Parameters
    ----------
    scenario:
        The validated scenario; its ``seed`` roots every random stream.
    reps:
        Number of replications, at least 1.
    engine:
        Engine name, a key of :data:`ENGINES` (``"des"`` or ``"vector"``).
    workers:
        Local processes. 1 runs in this process; more uses a :class:`ProcessPoolExecutor` started with
        the ``spawn`` method (so a script that calls this must guard its entry point with
        ``if __name__ == "__main__":``). Ignored when ``executor`` is given.
    chunk_size:
        Replications per unit of work; default :func:`default_chunk_size`. Has no effect on results.
    progress:
        Called as ``progress(done, reps)`` once before the first chunk and after each finished chunk
        (in the calling process).
    executor:
        Any :class:`concurrent.futures.Executor` to submit chunks to instead of a local pool, for
        example ``dask.distributed.Client(...).get_executor()``. It is not shut down here.
    chunk_runner:
        What runs one chunk, ``chunk_runner(scenario, replications, engine) -> Activity`` (a module-level
        function, so that it can be sent to a worker); default :func:`run_chunk`. The parameter
        uncertainty analysis passes one that gives each replication its own parameter set.
    reuse:
        A :class:`~paysim.engines.reuse.LineCache` for the vector engine: lines whose inputs did not change
        since an earlier run of the same replications are taken from it, not simulated again (more beds:
        only the ward is simulated). Used only when chunks run in this process (``workers`` 1, no
        ``executor``, the default ``chunk_runner``). Results are identical with or without it.
    first:
        The first replication (0 or more): a run in pieces (the app's) simulates ``first .. first + reps - 1``
        piece by piece, and :meth:`~paysim.activity.Activity.concat` of the pieces is bit for bit the run whole.

    Returns
    -------
    Activity
        Arrays ``[reps, months]`` with rows in replication order ``first .. first + reps - 1``, identical for any
        ``workers``, ``chunk_size`` or ``executor``.

    Raises
    ------
    RunError
        On an unknown engine, ``reps``, ``workers`` or ``chunk_size`` below 1, or ``first`` below 0.
    """
    keeps = footprint.activity_bytes(scenario)
    chunks = iter_chunks(
        scenario, reps, engine, workers, chunk_size, progress, executor, chunk_runner, reuse, keeps, first
    )
    with closing(chunks):
        parts = dict(chunks)
    return Activity.concat([parts[index] for index in sorted(parts)])


def run_replications(
    scenario: Scenario,
    reps: int,
    engine: str = "des",
    workers: int = 1,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    chunk_runner: ChunkRunner | None = None,
    reuse: LineCache | None = None,
) -> Activity:
    """Deprecated: simulated activity of replications ``0 .. reps - 1``; use :func:`paysim.run` (with
    ``keep_months=True``, the activity is ``run.activity``) or :func:`paysim.runs.runner.simulate`. Kept for one
    release; warns when called."""
    warnings.warn(
        "paysim.runs.montecarlo.run_replications is deprecated and will be removed in the next release; use "
        "paysim.run(scenario, RunSettings(reps=..., keep_months=True)).activity, or "
        "paysim.runs.runner.simulate(scenario, RunSettings(reps=...))",
        DeprecationWarning,
        stacklevel=2,
    )
    return simulate(scenario, reps, engine, workers, chunk_size, progress, executor, chunk_runner, reuse)


def iter_chunks(
    scenario: Scenario,
    reps: int,
    engine: str = "des",
    workers: int = 1,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    chunk_runner: ChunkRunner | None = None,
    reuse: LineCache | None = None,
    keeps: float = 0.0,
    first: int = 0,
) -> Iterator[tuple[int, Activity]]:
    """Simulate replications ``first .. first + reps - 1`` chunk by chunk, yielding ``(chunk number, Activity)`` as each
    chunk finishes (in any order when chunks run in parallel), so that a caller can use each chunk and let it
    go: :mod:`paysim.runs.batch` runs 100,000 replications this way without holding them all.

    Chunk ``k`` holds the ``k``-th consecutive range of replications (rows in replication order); joining
    the chunks in chunk order gives :func:`simulate`. Parameters are as for
    :func:`simulate`, and are checked before anything runs, the run's memory included
    (:func:`check_memory`; ``keeps``: bytes the caller keeps per replication it is given).

    Raises
    ------
    RunError
        On bad arguments; :class:`RunTooLarge` if the run cannot fit in the memory this machine has free.
    """
    _check_count("reps", reps)
    _check_count("workers", workers)
    if chunk_size is not None:
        _check_count("chunk_size", chunk_size)
    if isinstance(first, bool) or not isinstance(first, numbers.Integral) or first < 0:
        raise RunError(f"first: must be a whole number >= 0, got {first!r}", parameter="first")
    engine_run(engine)  # fail early, in this process, on an unknown engine
    size = chunk_size if chunk_size is not None else default_chunk_size(reps, workers, engine)
    check_memory(scenario, reps, engine, workers, size, executor, keeps)
    chunks = chunk_replications(reps, size, first)
    return _chunks(scenario, chunks, engine, workers, progress, executor, chunk_runner, reuse)


def check_memory(
    scenario: Scenario,
    reps: int,
    engine: str = "des",
    workers: int = 1,
    chunk_size: int | None = None,
    executor: Executor | None = None,
    keeps: float = 0.0,
) -> footprint.Footprint:
    """Check a run fits in the memory this machine has free, before it starts (see :mod:`paysim.runs.footprint`).

    Parameters are as for :func:`iter_chunks`: ``min(workers, chunks)`` chunks of ``chunk_size`` replications
    run at once (so many processes), and the caller keeps ``keeps`` bytes per replication. An ``executor``'s
    workers are taken to share this machine too (a local Dask cluster).

    Returns
    -------
    footprint.Footprint
        The estimate, when the run fits (or the system does not say how much memory is free).

    Raises
    ------
    RunTooLarge
        If the estimated peak exceeds :func:`paysim.runs.footprint.available_memory`.
    RunError
        On ``reps``, ``workers`` or ``chunk_size`` below 1.
    """
    _check_count("reps", reps)
    _check_count("workers", workers)
    if chunk_size is not None:
        _check_count("chunk_size", chunk_size)
    size = chunk_size if chunk_size is not None else default_chunk_size(reps, workers, engine)
    chunks = math.ceil(reps / size)
    processes = 1 if executor is None and (workers == 1 or chunks == 1) else min(workers, chunks)
    per_chunk = 64.0 / size  # the list of chunks itself
    estimate = footprint.run_footprint(scenario, reps, engine, min(size, reps), processes, keeps + per_chunk)
    available = footprint.available_memory()
    if available is not None and estimate.total > available:
        raise RunTooLarge(estimate.explain(scenario.name, available))
    return estimate


def _chunks(
    scenario: Scenario,
    chunks: list[range],
    engine: str,
    workers: int,
    progress: Progress | None,
    executor: Executor | None,
    chunk_runner: ChunkRunner | None,
    reuse: LineCache | None,
) -> Iterator[tuple[int, Activity]]:
    """The work of :func:`iter_chunks`, after its checks (a generator runs nothing until first asked)."""
    reps = sum(len(chunk) for chunk in chunks)
    report = progress if progress is not None else no_progress
    report(0, reps)
    runner = chunk_runner if chunk_runner is not None else run_chunk
    in_process = executor is None and (workers == 1 or len(chunks) == 1)
    if reuse is not None and chunk_runner is None and in_process:
        runner = functools.partial(run_chunk, reuse=reuse)
    if executor is not None:
        yield from _run_on(executor, runner, scenario, chunks, engine, report, reps)
    elif in_process:
        done = 0
        for index, chunk in enumerate(chunks):
            part = runner(scenario, chunk, engine)
            done += len(chunk)
            report(done, reps)
            yield index, part
    else:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(chunks)),
            mp_context=context,
            initializer=interrupts.worker_start,
            initargs=(os.getpid(),),
        )
        try:
            yield from _run_on(pool, runner, scenario, chunks, engine, report, reps, own=True)
        except BaseException:
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)


@contextmanager
def closing(chunks: Iterator[tuple[int, Activity]]) -> Iterator[Iterator[tuple[int, Activity]]]:
    """Close the chunks (:func:`iter_chunks`) when the block ends, on an error or a signal too, so that their
    worker processes stop then (:func:`stop_pool`), not when the generator is collected; any iterator will do."""
    try:
        yield chunks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def stop_pool(pool: ProcessPoolExecutor, wait: float = 10.0) -> None:
    """Stop a local pool at once (Ctrl-C, SIGTERM, an error): end its worker processes, then let it go, waiting
    at most ``wait`` seconds in all (a worker that does not end on SIGTERM is killed).

    Its futures are not cancelled one by one: the pool's own thread marks each unfinished one failed when it
    sees the workers gone, and a future cancelled under it makes that thread fail and ``shutdown`` wait forever
    (Python 3.11's ``terminate_broken`` sets an exception on every pending future). The workers are reached
    through the pool's ``_processes``, the only handle it has on them.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):  # already gone
            process.terminate()
    deadline = time.monotonic() + wait
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:  # it ends once it sees the workers gone; then shutdown only tidies up
        manager.join(max(0.1, deadline - time.monotonic()))
    pool.shutdown(wait=manager is None or not manager.is_alive())


def _run_on(
    executor: Executor,
    runner: ChunkRunner,
    scenario: Scenario,
    chunks: list[range],
    engine: str,
    report: Progress,
    reps: int,
    own: bool = False,
) -> Iterator[tuple[int, Activity]]:
    """Submit every chunk; yield ``(chunk number, Activity)`` and report progress as they finish.

    ``own``: the executor is this run's local pool, whose workers start ignoring SIGINT
    (:func:`paysim.runs.interrupts.ignoring_interrupts`) and which :func:`stop_pool` stops on an error; another
    executor's pending chunks are cancelled instead.
    """
    with interrupts.ignoring_interrupts() if own else contextlib.nullcontext():
        futures: dict[Future[Activity], int] = {
            executor.submit(runner, scenario, chunk, engine): index for index, chunk in enumerate(chunks)
        }
    done = 0
    try:
        for future in as_completed(futures):
            index = futures.pop(future)
            try:
                part = future.result()
            except BrokenProcessPool:
                raise RunError(
                    "a worker process stopped before its replications were done (killed, or out of memory); "
                    "nothing was written"
                ) from None
            done += len(chunks[index])
            report(done, reps)
            yield index, part
    except BaseException:
        if not own:
            for future in futures:
                future.cancel()
        raise


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise RunError(f"{name}: must be a whole number >= 1, got {value!r}", parameter=name)


def no_progress(done: int, total: int) -> None:
    """Progress callback that does nothing."""
