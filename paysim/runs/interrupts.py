"""Stopping cleanly on SIGINT (Ctrl-C), SIGTERM and SIGHUP, and worker processes that never outlive the run.

What ``timeout``, ``kill``, schedulers and systemd send (SIGTERM), a closed terminal (SIGHUP) and Ctrl-C (SIGINT)
all end a ``paysim`` command the same way, at any phase (start-up, simulating, pricing, writing; with or without
workers): :func:`install` turns the first such signal into :class:`Interrupted`, raised in the main thread, so
every ``finally`` and ``with`` on the way out runs -- temporary files beside an output
(:func:`paysim.runs.io.atomic_path`) and spill folders (:class:`paysim.runs.batch.ChunkStore`) are removed, worker
processes are stopped (:func:`paysim.runs.montecarlo.stop_pool`) -- and the command prints one line and exits
with ``128 + the signal's number``: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP (:func:`exit_status`). A
second signal while cleaning up is ignored; the clean-up is short.

Worker processes take :func:`worker_start` as their initializer: they ignore SIGINT (a Ctrl-C reaches the whole
process group; the parent stops them) and die with their parent, even a parent killed with SIGKILL. They are
started with SIGINT ignored (:func:`ignoring_interrupts`), so they ignore it from their first instruction, before
their imports.

This module imports only the standard library, so the command can install its handlers before the seconds of
importing NumPy, numba and pydantic: a Ctrl-C during start-up is handled like any other.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that stop a command cleanly."""


class Interrupted(BaseException):
    """The command got ``signum`` (SIGINT, SIGTERM or SIGHUP): raised in the main thread by :func:`install`'s
    handler. A :class:`BaseException`, so ``except Exception`` on the way out does not swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """The signal's name: ``SIGINT``, ``SIGTERM``, ``SIGHUP``."""
        return signal.Signals(self.signum).name


def exit_status(signum: int) -> int:
    """A command stopped by ``signum`` exits with ``128 + signum``, as a shell reports a process killed by it."""
    return 128 + signum


def _stop(signum: int, _frame: object) -> None:
    for each in SIGNALS:  # cleaning up: a second signal must not cut the clean-up short
        signal.signal(each, signal.SIG_IGN)
    raise Interrupted(signum)


def install() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Interrupted` in this process (from the main thread only; a
    signal the process was started ignoring, as ``nohup`` ignores SIGHUP, stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for each in SIGNALS:
        if signal.getsignal(each) is not signal.SIG_IGN:
            signal.signal(each, _stop)


def message(stop: Interrupted, written: list[str] | tuple[str, ...] = ()) -> str:
    """The one line a stopped command prints: what stopped it, and what was written before (usually nothing)."""
    what = "Ctrl-C (SIGINT)" if stop.signum == signal.SIGINT else stop.name
    done = f"wrote only {', '.join(written)} before" if written else "nothing was written"
    return f"paysim: stopped by {what}; {done}, and no temporary file is left"


@contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """Ignore SIGINT in this block (in the main thread), so processes started in it ignore it from their start
    (an ignored signal stays ignored across ``exec``) and a Ctrl-C at the terminal reaches only the parent, which
    stops them. A Ctrl-C in the block itself is lost; keep the block to starting processes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def release_process_resources() -> None:
    """Before ``os._exit``: run multiprocessing's exit finalizers, as a normal exit does, so the semaphores of a
    stopped process pool's queues are unlinked and struck off the resource tracker's list. Without this the tracker
    (a process of its own, writing to the command's stderr) warns of "leaked semaphore objects" after the command's
    one line. Nothing to do if multiprocessing was never imported."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util._run_finalizers(0)  # what multiprocessing's own atexit hook runs first


def threads_left() -> list[threading.Thread]:
    """Threads other than the main one that a normal exit would wait for (not daemons), still running."""
    return [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]


PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process gets when its parent dies."""


def worker_start(parent: int) -> None:
    """Initializer of a worker process of ``parent`` (its process id): ignore SIGINT, and exit when the parent
    dies -- at once on Linux (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), else within a second (a watching thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="paysim-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
