"""paysim: simulate the finances of English mental-health providers under block, activity, blended (the 2019/20
design), capitation and API (aligned payment and incentive, in force for mental health since 2022/23) payment.

The pipeline runs one way: scenario file -> :class:`~paysim.scenario.Scenario` -> engine (``des`` or
``vector``) -> :class:`~paysim.activity.Activity` -> costs + payment rules -> ledgers -> analysis.

Running it
----------
From a shell (the README's *Running scenarios from the command line*)::

    paysim scenarios                                   # the bundled scenarios, one line each
    paysim run default --reps 50 --out results.csv     # or: python -m paysim run ...

From Python, one way (:mod:`paysim.runner`; guard the top level with ``if __name__ == "__main__":`` when
``workers > 1``)::

    from paysim import RunSettings, load_scenario, run

    result = run(load_scenario("scenarios/default.yaml"), RunSettings(reps=200))   # vector engine
    result.summary()["inpatient.oap_bed_days"]                                      # mean, sd, percentiles
    result.table                                                                    # one row per replication
    result.ledgers                                                                  # per-rule money

``Activity``, ``Run``, ``RunSettings``, ``Scenario``, ``ScenarioError``, ``load_scenario`` and ``run`` are imported
from here on first use, so that ``python -m paysim`` can install its signal handlers (:mod:`paysim.interrupts`)
before the heavy imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paysim.activity import Activity
    from paysim.results import Run
    from paysim.runner import RunSettings, run
    from paysim.scenario import Scenario, ScenarioError, load_scenario

# isort: split
from paysim import calibrate  # a callable package: paysim.calibrate(DATA, base=...) -> Calibration

__all__ = ["Activity", "Run", "RunSettings", "Scenario", "ScenarioError", "calibrate", "load_scenario", "run"]
__version__ = "0.1.0"

_HOMES = {"Activity": "paysim.activity", "Scenario": "paysim.scenario", "ScenarioError": "paysim.scenario"}
_HOMES |= {"load_scenario": "paysim.scenario", "Run": "paysim.results", "RunSettings": "paysim.runner"}
_HOMES["run"] = "paysim.runner"


def __getattr__(name: str) -> Any:
    """``paysim.Scenario`` and the rest of :data:`__all__`, imported when first asked for."""
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'paysim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
