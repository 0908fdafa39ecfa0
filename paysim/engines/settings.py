"""Run settings of the vector engine: which kernel set runs and on how many threads.

Neither changes a result (the NumPy and numba kernels agree bit for bit, and every replication has its own
random streams); they change only how fast a run goes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_THREADS: int | None = None


def threads() -> int:
    """Threads one run of the vector engine uses (numba kernels and the per-replication draws).

    :func:`set_threads` if it was called, else the environment variable ``PAYSIM_THREADS``, else numba's
    ``NUMBA_NUM_THREADS`` (the machine's cores unless that variable says otherwise; 1 without numba).
    Results do not depend on it.
    """
    if _THREADS is not None:
        return _THREADS
    value = os.environ.get("PAYSIM_THREADS", "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"PAYSIM_THREADS must be a whole number >= 1, got {value!r}") from None
    return numba_max_threads()


def set_threads(n: int | None) -> None:
    """Use ``n`` threads per run in this process from now on (None: back to :func:`threads`' default).
    Worker processes of a Monte Carlo run set 1, so processes and threads do not oversubscribe."""
    global _THREADS
    if n is not None and (isinstance(n, bool) or int(n) < 1):
        raise ValueError(f"threads must be >= 1, got {n!r}")
    _THREADS = None if n is None else int(n)


@contextmanager
def threads_set(n: int | None) -> Iterator[None]:
    """:func:`set_threads` ``n`` inside the block, and back to the previous setting after it."""
    global _THREADS
    previous = _THREADS
    set_threads(n)
    try:
        yield
    finally:
        _THREADS = previous


def numba_max_threads() -> int:
    """numba's thread count (``NUMBA_NUM_THREADS``), 1 if numba is missing."""
    try:
        import numba
    except ImportError:
        return 1
    return int(numba.config.NUMBA_NUM_THREADS)


def numba_available() -> bool:
    """True if numba can be imported."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def numba_chosen(use_numba: bool | None = None) -> bool:
    """Whether the numba kernels run: ``use_numba`` if given, else numba if it is importable and the
    environment variable ``PAYSIM_NUMBA`` is not ``0``."""
    if use_numba is not None:
        return bool(use_numba)
    return os.environ.get("PAYSIM_NUMBA", "1").strip() not in ("0", "false", "no", "off") and numba_available()
