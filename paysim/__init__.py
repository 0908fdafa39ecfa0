"""paysim: simulate the finances of English mental-health providers under block, activity, blended (the 2019/20
design), capitation and API (aligned payment and incentive, in force for mental health since 2022/23) payment.

The pipeline runs one way: scenario file -> :class:`~paysim.scenario.Scenario` -> engine (``des`` or
``vector``) -> :class:`~paysim.activity.Activity` -> costs + payment rules -> ledgers -> analysis.

Running it
----------
From a shell (the README's *Running scenarios from the command line*)::

    paysim scenarios                                   # the bundled scenarios, one line each
    paysim run default --reps 50 --out results.csv     # or: python -m paysim run ...

From Python (guard the top level with ``if __name__ == "__main__":`` when ``workers > 1``)::

    from paysim import load_scenario
    from paysim.batch import run_batch

    run = run_batch(load_scenario("scenarios/default.yaml"), 200)   # vector engine
    run.summary()["inpatient.oap_bed_days"]                          # mean, sd, percentiles
    run.ledgers                                                      # per-rule money, by replication

``Activity``, ``Scenario``, ``ScenarioError`` and ``load_scenario`` are imported from here on first use, so that
``python -m paysim`` can install its signal handlers (:mod:`paysim.interrupts`) before the heavy imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paysim.activity import Activity
    from paysim.scenario import Scenario, ScenarioError, load_scenario

# isort: split
from paysim import calibrate  # a callable package: paysim.calibrate(DATA, base=...) -> Calibration

__all__ = ["Activity", "Scenario", "ScenarioError", "calibrate", "load_scenario"]
__version__ = "0.1.0"

_HOMES = {"Activity": "paysim.activity", "Scenario": "paysim.scenario", "ScenarioError": "paysim.scenario"}
_HOMES["load_scenario"] = "paysim.scenario"


def __getattr__(name: str) -> Any:
    """``paysim.Scenario`` and the rest of :data:`__all__`, imported when first asked for."""
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'paysim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
