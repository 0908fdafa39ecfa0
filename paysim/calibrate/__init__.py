"""Calibrating a scenario to a trust's own monthly figures, with a back-test.

``paysim calibrate DATA --base SCENARIO --out FILE.yaml [--check]`` (and :func:`calibrate` from Python) fits a
trust's monthly history — and, with ``--oap-return FILE ... --provider CODE``, NHS Digital's published OAP return
— to the base scenario's own model, and writes the base with the fitted values, each commented with the data and
months it came from, and an ``uncertain:`` block from the fit so ``paysim run`` carries the calibration's
uncertainty into the money. One concept a module:

* :mod:`.monthly`: reading and checking the monthly table (long or wide; CSV, Parquet, Excel);
* :mod:`.oap_return`: the published OAP return, in each of its layouts;
* :mod:`.demand_fit`: referral rate, growth and seasonality on the demand curve (Poisson / negative binomial);
* :mod:`.flows`: shares, lengths of stay (Little's law) and their spread, beds, episodes, in closed form;
* :mod:`.roots`: keys that need the simulation (OAP policy, capacity), on common random numbers;
* :mod:`.calibration`: the fits in order, and :func:`calibrate`;
* :mod:`.writer`: the commented scenario YAML;
* :mod:`.backtest`: the fitted scenario simulated over the data's months, against the data.

The package itself is callable: ``paysim.calibrate(data, base="default", ...)`` is :func:`calibrate`, and its
modules stay importable by their full names (``paysim.calibrate.monthly``).
"""

import sys
import types
from typing import Any

from paysim.calibrate.calibration import Calibration, calibrate
from paysim.calibrate.monthly import DataError, MonthlyData, read_monthly
from paysim.calibrate.oap_return import OapReturn, read_oap_return

__all__ = ["Calibration", "DataError", "MonthlyData", "OapReturn", "calibrate", "read_monthly", "read_oap_return"]


class _CallablePackage(types.ModuleType):
    """This package, callable as :func:`calibrate` (``paysim.calibrate(...)``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Calibration:
        return calibrate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
