"""Compile the fast engine's kernels in the background when the app's server starts, so the page is drawn at
once and the first run does not wait for a compiler it could have started on earlier.

The vector engine's numba kernels are compiled on their first call and kept in numba's on-disk cache, so only
the first start after an install pays for them (tens of seconds on 2 cores; later starts load them from disk
in about a second). :func:`start_warm_up` runs one replication of the engines' own warm-up trust
(:func:`paysim.engines.warm.warm_up_scenario`, which reaches every kernel) in a daemon thread from the server's
first page; the page draws its title, scenario and explanation
meanwhile, and the first run starts at once beside it: a kernel still compiling is waited for (numba compiles
each once, under its own lock), and :attr:`WarmUp.done` tells the page whether to say so. An engine already
warmed in this process (by ``paysim app``, which warms it before its server answers) is not warmed again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from paysim.engines.warm import warm_up_scenario
from paysim.runs.runner import RunSettings, simulate

logger = logging.getLogger(__name__)

_WARMED: set[str] = set()
"""Engines :func:`warm_up_engine` has warmed in this process (their kernels are loaded: nothing left to do)."""


@dataclass
class WarmUp:
    """A warm-up of the vector engine running in a daemon thread.

    Attributes
    ----------
    thread:
        The thread (None if the engine is not available, so there is nothing to warm up).
    started:
        ``time.perf_counter()`` when it started.
    seconds:
        How long it took, once done (None before).
    problem:
        Why it failed, if it did (the first real run then shows the problem itself).
    """

    thread: threading.Thread | None = None
    started: float = field(default_factory=time.perf_counter)
    seconds: float | None = None
    problem: str | None = None

    @property
    def done(self) -> bool:
        return self.thread is None or not self.thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the warm-up (at most ``timeout`` s); True once it is done."""
        if self.thread is not None:
            self.thread.join(timeout)
        return self.done


def warm_up_engine(engine: str = "vector") -> None:
    """Simulate one replication of the warm-up trust (the one ``paysim warm-up`` compiles with) on ``engine``,
    which compiles its kernels into numba's on-disk cache the first time and loads them from there after."""
    simulate(warm_up_scenario(), RunSettings(reps=1, engine=engine, uncertainty=False))
    _WARMED.add(engine)


def start_warm_up(engine: str = "vector") -> WarmUp:
    """Start :func:`warm_up_engine` in a daemon thread and return at once; a warm-up already done, with no
    thread and 0 seconds, if this process has warmed ``engine`` before."""
    if engine in _WARMED:
        return WarmUp(seconds=0.0)
    warm = WarmUp()

    def work() -> None:
        try:
            warm_up_engine(engine)
        except Exception as problem:  # the page's own run reports it; the log says why the warm-up failed
            warm.problem = str(problem)
            logger.exception("warming up the %s engine failed", engine)
        warm.seconds = time.perf_counter() - warm.started

    warm.thread = threading.Thread(target=work, name=f"paysim-warm-up-{engine}", daemon=True)
    warm.thread.start()
    return warm
