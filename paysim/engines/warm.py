"""Compile the numba kernels ahead of a run (``paysim warm-up``), so no run waits for a compile.

The kernels are compiled with ``cache=True``: numba keeps the machine code on disk (next to the modules, in
``__pycache__``, or under ``NUMBA_CACHE_DIR``) and a later process loads it in a fraction of a second instead of
compiling again. :func:`compile_kernels` runs every kernel a run uses once, with the argument types a run
passes, by simulating a small trust that has every line, gatekeeping to the ward, step-downs and referral
outcomes, on one thread and on two (the threaded build).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from paysim.engines import vector
from paysim.engines.settings import numba_available, numba_max_threads, threads_set
from paysim.model.scenario import Scenario, scenario_from_dict


def warm_up_scenario() -> Scenario:
    """A small trust (about 1/20 of the default trust's volumes, one year, a short warm-up) that reaches every
    kernel: all four lines, crisis gatekeeping to a ward that overflows and readmits, step-downs to community,
    and referral outcomes and first appointments on talking therapies but not on community."""
    return scenario_from_dict(
        {
            "name": "warm-up",
            "years": 1,
            "seed": 1,
            "warmup_days": 30,
            "services": {
                "talking_therapies": {
                    "referrals_per_year": 1200,
                    "episode_days": {"dist": "lognormal", "mean": 75, "sd": 45},
                    "patience_days": 120,
                    "capacity": {"courses": 240},
                    "treated_share": 0.7,
                    "dropout_share": 0.4,
                    "recovery_share": 0.5,
                    "first_appointment_days": {"dist": "lognormal", "mean": 18, "sd": 30},
                },
                "community": {
                    "referrals_per_year": 500,
                    "episode_days": {"dist": "lognormal", "mean": 120, "sd": 100},
                    "patience_days": 200,
                    "capacity": {"staff_wte": 7, "caseload_per_wte": 30},
                },
                "crisis": {
                    "referrals_per_year": 300,
                    "episode_days": {"dist": "gamma", "mean": 21, "sd": 14},
                    "patience_days": 2,
                    "capacity": {"places": 16},
                    "admission_share": 0.2,
                    "admission_share_when_full": 0.5,
                },
                "inpatient": {
                    "admissions_per_year": 40,
                    "beds": 10,
                    "los_days": {"dist": "lognormal", "mean": 33, "sd": 40},
                    "readmission_share": 0.1,
                },
            },
        },
        source="<warm-up>",
    )


def compile_kernels(say: Callable[[str], None] = lambda _: None) -> dict[str, float]:
    """Compile (or load from numba's disk cache) every numba kernel a run uses.

    Parameters
    ----------
    say:
        Called with a line of progress per step.

    Returns
    -------
    dict
        Seconds each step took (``{"one thread": s, "two threads": s}``); empty without numba.
    """
    if not numba_available():
        say("numba is not installed: runs use the NumPy kernels, nothing to compile")
        return {}
    scenario = warm_up_scenario()
    seconds: dict[str, float] = {}
    steps = [("one thread", 1)] + ([("two threads", 2)] if numba_max_threads() > 1 else [])
    for label, n in steps:
        started = time.perf_counter()
        with threads_set(n):
            vector.run(scenario, range(2 * n), use_numba=True)  # 2 rows a thread: the threaded build runs
        seconds[label] = time.perf_counter() - started
        say(f"numba kernels, {label}: ready in {seconds[label]:.1f} s")
    return seconds
