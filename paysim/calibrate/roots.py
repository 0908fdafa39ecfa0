"""Fits that need the simulation: a scenario key solved so the simulated mean of a measure meets the data.

The OAP placement policy's ``wait_days`` (given the beds, the demand and the stays) is solved so the simulated
out-of-area placements over the data's months equal the observed ones; with repatriation on,
``repatriate_after_days`` so the simulated OAP bed days do; a line's capacity (talking therapies ``courses``,
crisis ``places``, community ``caseload_per_wte``) so its simulated mean waiting list does.

Each trial value is simulated on the same replications, so on **common random numbers** (the same arrivals and
stays at every value: the gap between simulated and observed moves only with the key), with the vector engine
and its line cache (a trial of ``wait_days`` simulates only the ward again). The root is found with
:func:`scipy.optimize.brentq`, as :mod:`paysim.analysis.design` finds contract terms.

**Uncertainty.** The observed figure is one draw of the trust's own randomness: its standard error is the
replications' standard deviation of the simulated figure at the root (the same process, same months), and the
simulated mean adds its Monte Carlo error (that sd over ``sqrt(R)``). The key's standard error is that combined
error over the slope of the simulated mean at the root (a central difference): ``se = sqrt(sd^2 + sd^2 / R) /
|slope|``. It treats the other fitted values as known (their own uncertainty is sampled beside it in ``uncertain:``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from paysim.activity import Activity
from paysim.engines.reuse import LineCache
from paysim.model.scenario import Scenario, ScenarioError
from paysim.runs.runner import RunSettings, simulate

DEFAULT_REPS = 40
"""Replications each trial value is simulated on."""


@dataclass(frozen=True)
class Root:
    """A solved key.

    Attributes
    ----------
    value:
        The key's value meeting the data (rounded for whole-number keys), or the bound it stopped at.
    se:
        Its standard error (see the module docstring); NaN at a bound.
    target:
        The observed figure.
    simulated:
        The simulated mean at ``value``.
    sd:
        The replications' standard deviation of the simulated figure at ``value``.
    slope:
        d(simulated mean) / d(key) at ``value``.
    at_bound:
        ``"low"`` or ``"high"`` when no value in the bracket meets the data, else ``""``.
    evaluations:
        Trial values simulated.
    """

    value: float
    se: float
    target: float
    simulated: float
    sd: float
    slope: float
    at_bound: str
    evaluations: int


class Simulator:
    """The data's months simulated at trial values of one key, on common random numbers.

    Parameters
    ----------
    scenario:
        The scenario at the data's start (start month and horizon as the data).
    months:
        Number of data months (the first ``months`` simulated months are compared).
    reps:
        Replications per trial.
    cache:
        Lines simulated before (by another simulator of the same fit, say) to take unchanged lines from; a new
        one if not given. Results are identical either way.
    """

    def __init__(
        self, scenario: Scenario, months: int, reps: int = DEFAULT_REPS, cache: LineCache | None = None
    ) -> None:
        self.scenario = scenario
        self.months = months
        self.reps = reps
        self.cache = cache if cache is not None else LineCache()
        self.evaluations = 0

    def run(self, overrides: dict[str, object]) -> Activity:
        """Simulate the scenario with ``overrides`` (replications ``0..reps-1``, vector engine)."""
        try:
            model = self.scenario.with_overrides(overrides)
        except ScenarioError as exc:
            raise ValueError(f"a trial value is not a valid scenario: {exc}") from None
        self.evaluations += 1
        return simulate(model, RunSettings(reps=self.reps, engine="vector", reuse=self.cache, uncertainty=False))


def figure_of(activity: Activity, measure: str, months: int, mask: np.ndarray, how: str) -> np.ndarray:
    """The figure compared with the data, per replication ``[R]``: the sum (``how="sum"``) or mean
    (``"mean"``) of a measure over the data months where ``mask`` is true."""
    values = activity[measure][:, :months][:, mask]
    return values.sum(axis=1) if how == "sum" else values.mean(axis=1)


def solve(
    simulator: Simulator,
    key: str,
    measure: str,
    observed: np.ndarray,
    bracket: tuple[float, float],
    *,
    how: str = "sum",
    whole: bool = False,
    limits: tuple[float, float] = (0.0, math.inf),
    extra: Callable[[float], dict[str, object]] | None = None,
) -> Root:
    """Solve ``key`` so the simulated ``measure`` (summed or averaged over the data's months where ``observed``
    is given) equals the observed one.

    Parameters
    ----------
    simulator:
        The data's months, simulated on common random numbers.
    key:
        Dotted scenario key solved for.
    measure:
        Measure compared.
    observed:
        Observed values per month, ``[M]`` (NaN where not given).
    bracket:
        First bracket tried; widened (within ``limits``) until the gap changes sign.
    how:
        ``"sum"`` or ``"mean"`` over the months.
    whole:
        Round trial values (beds, places).
    extra:
        Further overrides at each trial value (e.g. a key that must follow this one).
    """
    observed = np.asarray(observed, dtype=float)[: simulator.months]
    mask = np.isfinite(observed)
    target = float(observed[mask].sum() if how == "sum" else observed[mask].mean())
    cache: dict[float, np.ndarray] = {}

    def trial(value: float) -> float:
        return float(round(value)) if whole else float(value)

    def simulated(value: float) -> np.ndarray:
        value = trial(value)
        if value not in cache:
            overrides: dict[str, object] = {key: int(value) if whole else value}
            if extra is not None:
                overrides.update(extra(value))
            cache[value] = figure_of(simulator.run(overrides), measure, simulator.months, mask, how)
        return cache[value]

    def gap(value: float) -> float:
        return float(simulated(value).mean() - target)

    low, high = bracket
    low, high = max(low, limits[0]), min(high, limits[1])
    g_low, g_high = gap(low), gap(high)
    tries = 0
    while np.sign(g_low) == np.sign(g_high) and g_low != 0 and tries < 6:
        width = high - low
        if abs(g_low) < abs(g_high):
            new = max(low - width, limits[0])
            if new == low:
                break
            low, g_low = new, gap(new)
        else:
            new = min(high + width, limits[1])
            if new == high:
                break
            high, g_high = new, gap(new)
        tries += 1
    at_bound = ""
    if g_low == 0:
        root = low
    elif g_high == 0:
        root = high
    elif np.sign(g_low) == np.sign(g_high):
        at_bound = "low" if abs(g_low) <= abs(g_high) else "high"
        root = low if at_bound == "low" else high
    else:
        xtol = 0.5 if whole else 1e-3 * max(1.0, abs(high - low))
        root = float(optimize.brentq(gap, low, high, xtol=xtol, maxiter=60))
    root = trial(root)
    at_root = simulated(root)
    sd = float(at_root.std(ddof=1)) if len(at_root) > 1 else float("nan")
    # the slope over a quarter of the bracket (or of the root) either side: wide enough that the replications'
    # common-random-number steps average out
    step = max(1.0, round(0.05 * abs(root))) if whole else max(0.25 * abs(root), 0.25 * (high - low), 1e-3)
    lo_x, hi_x = max(root - step, limits[0]), min(root + step, limits[1])
    slope = (gap(hi_x) - gap(lo_x)) / (trial(hi_x) - trial(lo_x)) if trial(hi_x) > trial(lo_x) else float("nan")
    if at_bound or not math.isfinite(slope) or slope == 0:
        se = float("nan")
    else:
        se = math.sqrt(sd**2 * (1 + 1 / simulator.reps)) / abs(slope)
    return Root(root, se, target, float(at_root.mean()), sd, float(slope), at_bound, len(cache))
