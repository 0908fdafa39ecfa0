"""paysim: simulate the finances of English mental-health providers under block, activity, blended (the 2019/20
design), capitation and API (aligned payment and incentive, in force for mental health since 2022/23) payment.

The pipeline runs one way: scenario file -> :class:`~paysim.model.scenario.Scenario` -> engine (``des`` or
``vector``) -> :class:`~paysim.activity.Activity` -> costs + payment rules -> ledgers -> analysis.

Running it
----------
From a shell (the README's *Running scenarios from the command line*)::

    paysim scenarios                                   # the bundled scenarios, one line each
    paysim run default --reps 50 --out results.csv     # or: python -m paysim run ...

From Python, one way (:mod:`paysim.runs.runner`; guard the top level with ``if __name__ == "__main__":`` when
``workers > 1``)::

    from paysim import RunSettings, load_scenario, run

    result = run(load_scenario("scenarios/default.yaml"), RunSettings(reps=200))   # vector engine
    result.summary()["inpatient.oap_bed_days"]                                      # mean, sd, percentiles
    result.table                                                                    # one row per replication
    result.ledgers                                                                  # per-rule money

``Activity``, ``Run``, ``RunSettings``, ``Scenario``, ``ScenarioError``, ``load_scenario`` and ``run`` are imported
from here on first use, so that ``python -m paysim`` can install its signal handlers (:mod:`paysim.runs.interrupts`)
before the heavy imports.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paysim.activity import Activity
    from paysim.model.scenario import Scenario, ScenarioError, load_scenario
    from paysim.runs.results import Run
    from paysim.runs.runner import RunSettings, run

# isort: split
from paysim import calibrate  # a callable package: paysim.calibrate(DATA, base=...) -> Calibration

__all__ = ["Activity", "Run", "RunSettings", "Scenario", "ScenarioError", "calibrate", "load_scenario", "run"]
__version__ = "0.1.0"

_HOMES = {"Activity": "paysim.activity", "Scenario": "paysim.model.scenario", "ScenarioError": "paysim.model.scenario"}
_HOMES |= {"load_scenario": "paysim.model.scenario", "Run": "paysim.runs.results", "RunSettings": "paysim.runs.runner"}
_HOMES["run"] = "paysim.runs.runner"


MOVED = {
    **{f"paysim.{name}": f"paysim.model.{name}" for name in ("scenario", "terms", "demand", "distributions")},
    **{f"paysim.{name}": f"paysim.model.{name}" for name in ("uncertainty", "limits", "streams")},
    **{f"paysim.{name}": f"paysim.money.{name}" for name in ("costs", "finance", "payment")},
    **{f"paysim.{name}": f"paysim.analysis.{name}" for name in ("compare", "sensitivity", "design", "report")},
    **{f"paysim.{name}": f"paysim.analysis.{name}" for name in ("realism", "queueing")},
    **{f"paysim.{name}": f"paysim.runs.{name}" for name in ("montecarlo", "batch", "psa", "footprint", "io")},
    "paysim.interrupts": "paysim.runs.interrupts",
}
"""Modules that moved into the layer folders, old path to new: the old paths keep working for one release
(``import paysim.finance`` gives the module ``paysim.money.finance`` itself) with a DeprecationWarning."""


def _moved(name: str) -> str | None:
    """Where a module of an old path (``paysim.payment.block`` too) lives now; None if it did not move."""
    for old, new in MOVED.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old) :]
    return None


def _warn(old: str, new: str) -> None:
    warnings.warn(f"{old} is now {new}; the old path goes in the next release", DeprecationWarning, stacklevel=3)


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of a moved module's old path give the module at its new path (the same object, not a copy)."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec:
        if not fullname.startswith("paysim.") or _moved(fullname) is None:
            return None  # type: ignore[return-value]
        return importlib.util.spec_from_loader(fullname, self)  # type: ignore[return-value]

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        new = _moved(spec.name)
        assert new is not None
        _warn(spec.name, new)
        module = importlib.import_module(new)
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # the import system stamped the old path's spec on the module: give it back its own
        module.__spec__ = self._specs.pop(module.__spec__.name if module.__spec__ else "", module.__spec__)


if not any(isinstance(finder, _OldPaths) for finder in sys.meta_path):
    sys.meta_path.insert(0, _OldPaths())  # first: else ``paysim.payment.block`` would load a second copy


def __getattr__(name: str) -> Any:
    """``paysim.Scenario`` and the rest of :data:`__all__`, imported when first asked for (and a moved module by
    its old name, ``paysim.finance``, for one release)."""
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    new = MOVED.get(f"paysim.{name}")
    if new is not None:
        _warn(f"paysim.{name}", new)
        return importlib.import_module(new)
    raise AttributeError(f"module 'paysim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
