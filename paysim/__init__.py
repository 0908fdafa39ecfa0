"""paysim: simulate the finances of English mental-health providers under block, activity, blended (the 2019/20
design), capitation and API (aligned payment and incentive, in force for mental health since 2022/23) payment.

The pipeline runs one way: scenario file -> :class:`~paysim.scenario.Scenario` -> engine (``des`` or
``vector``) -> :class:`~paysim.activity.Activity` -> costs + payment rules -> ledgers -> analysis.
"""

from paysim.activity import Activity
from paysim.scenario import Scenario, ScenarioError, load_scenario

# isort: split
from paysim import calibrate  # a callable package: paysim.calibrate(DATA, base=...) -> Calibration

__all__ = ["Activity", "Scenario", "ScenarioError", "calibrate", "load_scenario"]
__version__ = "0.1.0"
