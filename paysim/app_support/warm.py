"""Compile the fast engine's kernels in the background when the app's server starts, so the page is drawn at
once and the first run does not wait for a compiler it could have started on earlier.

The vector engine's numba kernels are compiled on their first call and kept in numba's on-disk cache, so only
the first start after an install pays for them (tens of seconds on 2 cores; later starts load them from disk
in about a second). :func:`start_warm_up` runs one replication of a shrunk default trust in a daemon thread
(every kernel the engine has) from the server's first page; the page draws its title, scenario and explanation
meanwhile, and the first run starts at once beside it: a kernel still compiling is waited for (numba compiles
each once, under its own lock), and :attr:`WarmUp.done` tells the page whether to say so.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from paysim.model.scenario import bundled_scenarios, load_scenario
from paysim.runs.montecarlo import run_chunk

logger = logging.getLogger(__name__)

WARM_UP_SCENARIO = "default"
"""The bundled scenario whose first replication warms the kernels up (it has every service line)."""


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


WARM_UP_SIZE = {
    "years": 1,
    "warmup_days": 30,
    "services.talking_therapies.referrals_per_year": 200,
    "services.community.referrals_per_year": 100,
    "services.crisis.referrals_per_year": 100,
    "services.inpatient.admissions_per_year": 20,
}
"""The warm-up's scenario: the default trust shrunk to a few hundred people in one year, so every kernel runs
(and compiles, the first time) but a warm start spends milliseconds on it, not the first run's CPU."""


def warm_up_engine(engine: str = "vector") -> None:
    """Simulate one replication of a shrunk default trust (:data:`WARM_UP_SIZE`) on ``engine``, which compiles
    its kernels into numba's on-disk cache the first time and loads them from there after."""
    scenario = load_scenario(bundled_scenarios()[WARM_UP_SCENARIO]).with_overrides(WARM_UP_SIZE)
    run_chunk(scenario, range(1), engine=engine)


def start_warm_up(engine: str = "vector") -> WarmUp:
    """Start :func:`warm_up_engine` in a daemon thread and return at once."""
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
