"""Helpers of the vector engine over a chunk's replications: one generator per row, ragged rows as padded
``[R, n]`` arrays, and the samplers the engine draws with.

Every replication has its own random streams, so :func:`per_row` may run rows on several threads and each row
still gets exactly the draws it gets on one thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from paysim.engines.settings import threads
from paysim.engines.slots import INF

Sampler = Callable[[np.random.Generator, int], np.ndarray]
"""``sampler(rng, n)``: ``n`` draws from one replication's generator."""

_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0


def per_row(fn: Callable, *columns: Sequence) -> list:
    """``[fn(*row) for row in zip(*columns)]``, the rows split into :func:`threads` contiguous slices run
    on as many threads (numpy's generators release the GIL while they draw). Each row uses its own
    generators, so every replication gets exactly the draws it gets on one thread."""
    global _POOL, _POOL_SIZE
    rows = list(zip(*columns, strict=True))
    n = min(threads(), len(rows) // 8)  # a few rows are not worth a hand-off
    if n <= 1:
        return [fn(*row) for row in rows]
    if _POOL is None or _POOL_SIZE < n - 1:
        _POOL = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="paysim-draws")
        _POOL_SIZE = n - 1
    cuts = np.linspace(0, len(rows), n + 1).astype(int)

    def run(i: int) -> list:
        return [fn(*row) for row in rows[cuts[i] : cuts[i + 1]]]

    futures = [_POOL.submit(run, i) for i in range(1, n)]
    out = run(0)  # the first slice on this thread
    for future in futures:
        out.extend(future.result())
    return out


def by_row(value: float | np.ndarray, rows: int, dtype: type = float) -> np.ndarray:
    """A per-row figure as ``[rows]`` (a scalar is every row's; an ``[rows]`` array is kept), read-only."""
    return np.broadcast_to(np.asarray(value, dtype=dtype), (rows,))


def pad(rows: list[np.ndarray], fill: float, width: int | None = None) -> np.ndarray:
    """Stack 1-d arrays of different lengths into ``[len(rows), width]`` (default: the longest's), padded with
    ``fill``."""
    if width is None:
        width = max((r.size for r in rows), default=0)
    out = np.full((len(rows), width), fill)
    for i, r in enumerate(rows):
        out[i, : r.size] = r
    return out


def compact(values: np.ndarray, keep: np.ndarray, fill: float) -> np.ndarray:
    """Move the kept entries of each row to its front (order kept), pad with ``fill``: ``[R, max kept]``."""
    width = int(keep.sum(axis=1).max(initial=0))
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
    taken = np.take_along_axis(values, order, axis=1)
    return np.where(np.take_along_axis(keep, order, axis=1), taken, fill)


def merge_sorted(t1: np.ndarray, t2: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge two row-sorted ``+inf``-padded time arrays (with a value each) into one, in time order."""
    times = np.concatenate([t1, t2], axis=1)
    values = np.concatenate([v1, v2], axis=1)
    order = np.argsort(times, axis=1, kind="stable")
    times = np.take_along_axis(times, order, axis=1)
    width = max(int(np.isfinite(times).sum(axis=1).max(initial=0)), 0)
    return times[:, :width], np.take_along_axis(values, order, axis=1)[:, :width]


def merge_rows(
    first: np.ndarray, second: np.ndarray, first_values: list[np.ndarray], second_values: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Merge two row-sorted time arrays ``[R, K1]``, ``[R, K2]`` (with values of the same shapes) into
    ``[R, K1 + K2]`` sorted rows; on equal times entries of ``first`` come first (a stable merge)."""
    times = np.concatenate([first, second], axis=1)
    order = np.argsort(times, axis=1, kind="stable")
    merged = [
        np.take_along_axis(np.concatenate([a, b], axis=1), order, axis=1)
        for a, b in zip(first_values, second_values, strict=True)
    ]
    return np.take_along_axis(times, order, axis=1), merged


def arrange_days(uniforms: list[np.ndarray], counts: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Arrival times from per-day counts and one uniform per arrival, as :meth:`DemandCurve.arrivals`
    builds them: row r is ``sort(repeat(days, counts[r]) + uniforms[r])``, ``[R, K]``, ``+inf`` padding."""
    rows = []
    for u, per_day in zip(uniforms, counts, strict=True):
        times = np.repeat(days, per_day) + u
        times.sort()
        rows.append(times)
    return pad(rows, INF)


def day_month(edges: np.ndarray) -> np.ndarray:
    """Month index of each whole day of the horizon (edges are whole days from 0), int64."""
    return np.repeat(np.arange(edges.size - 1), np.diff(edges).astype(np.int64)).astype(np.int64)


def uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.random(n)


def exponential(mean: float) -> Sampler:
    return lambda rng, n: rng.exponential(mean, n)


def never(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.full(n, INF)


def patience_sampler(patience_days: float | None) -> Sampler:
    """Days a referral waits on a list before leaving it: exponential with mean ``patience_days``, or never
    (``+inf``) when it is None."""
    return never if patience_days is None else exponential(patience_days)
