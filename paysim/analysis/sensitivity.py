"""Sensitivity of any results column to the uncertain parameters: one-way (tornado) and Sobol indices.

**One-way (tornado).** For each parameter of the scenario's ``uncertain:`` block, every other parameter at
its central value (the scenario's own value), the parameter is set to the lower and the upper end of its
central ``interval`` (default the 5th and 95th percentiles of its distribution) and the *same* replications
``0..reps-1`` are run with the same seed (common random numbers). The table reports the mean of the measure
at each end; ``swing = |value_high - value_low|`` with the standard error of the paired difference, so a
swing is signal, not noise. A parameter that changes only money (``contracts.*``, ``costs.*``) reuses the
central run's activity. A blended or API baseline of source ``expected`` stays at the central run's expected
activity while a parameter moves (the plan is set before the truth is known).

**Sobol (global, variance-based).** Saltelli/Jansen estimators from SALib on a scrambled Sobol sample of
``samples x (P + 2)`` parameter sets drawn through each parameter's quantile function. Each set is
evaluated as the mean of the measure over the same replications ``0..reps-1`` (common random numbers), so
the indices decompose the variance of the conditional mean ``E[measure | parameters]``. Sobol indices assume
independent inputs: correlations in the ``uncertain:`` block are ignored here (and reported as a note).

Pure helpers for charts: :func:`tornado_chart_data` and :func:`sobol_chart_data`.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paysim.activity import Activity, measure_kinds
from paysim.analysis import paired_difference
from paysim.engines.reuse import LineCache
from paysim.model import uncertainty
from paysim.model.scenario import Scenario
from paysim.money import finance
from paysim.runs import psa
from paysim.runs.io import run_columns
from paysim.runs.runner import RunSettings, simulate

TORNADO_COLUMNS = (
    "parameter",
    "low",
    "high",
    "value_low",
    "value_high",
    "swing",
    "swing_se",
    "central",
    "value_central",
)
"""Columns of the one-way table, in order."""

SOBOL_COLUMNS = ("parameter", "S1", "S1_conf", "ST", "ST_conf")
"""Columns of the Sobol table (``*_conf``: half-width of SALib's 95 % bootstrap interval)."""


class SensitivityError(ValueError):
    """Bad input to a sensitivity analysis (no uncertain block, unknown measure); ready to show a user."""


def column_names(scenario: Scenario) -> list[str]:
    """Every results column a run of ``scenario`` has: public measures, ``<rule>.<ledger>``, ``<rule>.system_cost``.

    Known without simulating, so a measure can be checked before any work is done.
    """
    lines = scenario.lines()
    names = list(measure_kinds(lines, scenario.services.inpatient is not None, public_only=True))
    if scenario.contracts is not None:
        for rule in scenario.contracts.rules:
            names += [f"{rule}.{ledger}" for ledger in finance.LEDGERS] + [f"{rule}.system_cost"]
    return names


def check_measure(scenario: Scenario, measure: str) -> None:
    """Raise :class:`SensitivityError` (with did-you-mean) unless ``measure`` is a results column of ``scenario``."""
    import difflib

    names = column_names(scenario)
    if measure not in names:
        hint = difflib.get_close_matches(measure, names, n=1, cutoff=0.6)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        raise SensitivityError(
            f"--measure {measure!r}: not a results column of scenario {scenario.name!r}{extra} "
            f"(e.g. {', '.join(n for n in names if n.endswith('provider_surplus')) or names[0]})"
        )


def check_uncertain(scenario: Scenario) -> None:
    """Raise :class:`SensitivityError` if the scenario has no ``uncertain:`` block."""
    if scenario.uncertain is None:
        raise SensitivityError(
            f"scenario {scenario.name!r} has no uncertain: block; add one with the parameters to vary "
            "(see README, Parameter uncertainty)"
        )


# --- evaluating one parameter set on common random numbers ---------------------------------------------


@dataclass
class Evaluator:
    """Runs parameter sets of a scenario on the same replications and returns results columns.

    Activity is cached by the simulated part of the scenario (everything but ``contracts`` and ``costs``),
    so parameter sets that differ only in money reuse one simulation.
    """

    scenario: Scenario
    reps: int
    engine: str = "vector"
    workers: int = 1
    executor: Executor | None = None
    level: Mapping[str, np.ndarray] | None = None
    _cache: dict[str, Activity] = field(default_factory=dict)
    _lines: LineCache = field(default_factory=LineCache)  # lines a one-way change does not reach

    def activity(self, scenario: Scenario) -> Activity:
        """The Activity of replications ``0..reps-1`` (cached by the simulated part of the scenario)."""
        key = json.dumps(
            scenario.model_dump(mode="json", exclude={"contracts", "costs", "name", "description"}), sort_keys=True
        )
        if key not in self._cache:
            settings = RunSettings(
                reps=self.reps,
                engine=self.engine,
                workers=self.workers,
                executor=self.executor,
                reuse=self._lines,
                uncertainty=False,
            )
            self._cache[key] = simulate(scenario, settings)
        return self._cache[key]

    def columns(self, overrides: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Every results column ``{name: [reps]}`` with ``overrides`` applied to the central scenario."""
        scenario = self.scenario.with_overrides(dict(overrides)) if overrides else self.scenario
        activity = self.activity(scenario)
        if self.level is None:
            self.level = psa.expected_level([scenario] * self.reps, activity)
        ledgers = psa.ledgers_by_replication([scenario] * self.reps, activity, self.level)
        return run_columns(activity, ledgers)


def _value(scenario: Scenario, key: str, value: float) -> float | int:
    return int(np.rint(value)) if uncertainty.is_whole(scenario, key) else float(value)


# --- one-way -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tornado:
    """Result of :func:`one_way`: ``rows`` (see :data:`TORNADO_COLUMNS`), sorted by swing, largest first."""

    measure: str
    reps: int
    interval: float
    value_central: float
    rows: list[dict[str, Any]]


def one_way(
    scenario: Scenario,
    measure: str,
    reps: int,
    engine: str = "vector",
    workers: int = 1,
    interval: float = 0.9,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> Tornado:
    """One-way sensitivity of the mean of ``measure`` to each uncertain parameter, on common random numbers.

    Parameters
    ----------
    scenario : Scenario
        With an ``uncertain:`` block; its own values are the central values.
    measure : str
        A results column (:func:`column_names`), e.g. ``"blended.provider_surplus"`` (GBP over the horizon)
        or ``"inpatient.oap_bed_days"``.
    reps : int
        Replications per run (the same ``0..reps-1`` in every run).
    interval : float
        Central probability interval giving the ends, 0..1 (0.9: the 5th and 95th percentiles).

    Returns
    -------
    Tornado
        One row per parameter: ``low``/``high`` (the parameter's ends), ``value_low``/``value_high`` (mean of
        the measure), ``swing`` = ``|value_high - value_low|``, ``swing_se`` (paired standard error),
        ``central`` and ``value_central``.
    """
    check_uncertain(scenario)
    check_measure(scenario, measure)
    if not 0 < interval < 1:
        raise SensitivityError(f"--interval: must be between 0 and 1 (exclusive), got {interval}")
    assert scenario.uncertain is not None
    base = uncertainty.central(scenario)
    evaluator = Evaluator(base, reps, engine, workers, executor)
    report = progress or (lambda done, total: None)
    specs = scenario.uncertain.parameters
    total = 1 + 2 * len(specs)
    report(0, total)
    central_values = evaluator.columns({})[measure]
    done = 1
    report(done, total)
    rows = []
    q = np.array([(1 - interval) / 2, (1 + interval) / 2])
    for key, spec in specs.items():
        low, high = (_value(base, key, v) for v in spec.ppf(q))
        at = []
        for value in (low, high):
            at.append(evaluator.columns({key: value})[measure])
            done += 1
            report(done, total)
        difference = paired_difference(at[0], at[1]) if reps > 1 else None
        rows.append(
            {
                "parameter": key,
                "low": low,
                "high": high,
                "value_low": float(np.nanmean(at[0])),
                "value_high": float(np.nanmean(at[1])),
                "swing": float(abs(np.nanmean(at[1]) - np.nanmean(at[0]))),
                "swing_se": float(difference.se) if difference is not None else float("nan"),
                "central": uncertainty.central_value(base, key),
                "value_central": float(np.nanmean(central_values)),
            }
        )
    rows.sort(key=lambda row: -row["swing"])
    return Tornado(measure, reps, interval, float(np.nanmean(central_values)), rows)


def tornado_chart_data(tornado: Tornado | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Bars for a tornado chart (pure): one per parameter and end, largest swing first.

    Returns rows ``{"parameter", "end": "low" | "high", "setting", "value", "start", "stop", "order"}``:
    each bar runs from the central value (``start``) to the mean at that end (``stop``); ``order`` ranks
    parameters by swing (0 = largest). Suits Altair: ``x="start"``, ``x2="stop"``, ``y="parameter"`` sorted by
    ``order``, colour by ``end``.
    """
    rows = tornado.rows if isinstance(tornado, Tornado) else list(tornado)
    bars = []
    for order, row in enumerate(sorted(rows, key=lambda r: -r["swing"])):
        for end in ("low", "high"):
            bars.append(
                {
                    "parameter": row["parameter"],
                    "end": end,
                    "setting": row[end],
                    "value": row[f"value_{end}"],
                    "start": row["value_central"],
                    "stop": row[f"value_{end}"],
                    "order": order,
                }
            )
    return bars


# --- Sobol ---------------------------------------------------------------------------------------------


def sobol_indices(
    model: Callable[[np.ndarray], np.ndarray],
    specs: Sequence[Any],
    names: Sequence[str],
    samples: int = 256,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """First-order and total Sobol indices of ``model`` for independent inputs (SALib).

    Parameters
    ----------
    model : callable
        ``model(X)`` with ``X`` of shape ``[n, P]`` (parameter values) returning ``[n]`` outputs.
    specs : sequence of distributions
        One per input, each with ``ppf(u)`` (the classes of :mod:`paysim.model.uncertainty`, or frozen scipy
        distributions).
    names : sequence of str
        Input names, in the order of ``specs``.
    samples : int
        Base sample size ``N`` (a power of 2); the model is evaluated at ``N (P + 2)`` points.
    seed : int
        Seed of the scrambled Sobol sequence and of SALib's bootstrap intervals.

    Returns
    -------
    list of dict
        ``parameter, S1, S1_conf, ST, ST_conf`` per input (``*_conf``: 95 % interval half-width).
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sampler

    if samples < 2 or samples & (samples - 1):
        raise SensitivityError(f"--samples: must be a power of 2 (e.g. 64, 256), got {samples}")
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    u = sampler.sample(problem, samples, calc_second_order=False, seed=seed)
    u = np.clip(u, 1e-12, 1 - 1e-12)
    x = np.column_stack([np.asarray(spec.ppf(u[:, i]), dtype=float) for i, spec in enumerate(specs)])
    y = np.asarray(model(x), dtype=float)
    result = analyze.analyze(problem, y, calc_second_order=False, print_to_console=False, seed=seed)
    return [
        {
            "parameter": name,
            "S1": float(result["S1"][i]),
            "S1_conf": float(result["S1_conf"][i]),
            "ST": float(result["ST"][i]),
            "ST_conf": float(result["ST_conf"][i]),
        }
        for i, name in enumerate(names)
    ]


def _means_of_points(
    scenario: Scenario,
    points: list[dict[str, Any]],
    reps: int,
    engine: str,
    measure: str,
    level: Mapping[str, np.ndarray] | None,
) -> list[float]:
    """Mean of ``measure`` at each parameter set (the unit of work sent to a worker)."""
    evaluator = Evaluator(scenario, reps, engine, level=level)
    return [float(np.nanmean(evaluator.columns(point)[measure])) for point in points]


@dataclass(frozen=True)
class SobolResult:
    """Result of :func:`sobol`: ``rows`` (see :data:`SOBOL_COLUMNS`) and notes for the reader."""

    measure: str
    samples: int
    reps: int
    evaluations: int
    rows: list[dict[str, Any]]
    notes: list[str]


def sobol(
    scenario: Scenario,
    measure: str,
    samples: int = 64,
    reps: int = 4,
    engine: str = "vector",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> SobolResult:
    """Sobol indices of the mean of ``measure`` (over replications ``0..reps-1``) to the uncertain parameters.

    The model is run at ``samples x (P + 2)`` parameter sets, each for ``reps`` replications; spread over
    ``workers`` processes (or ``executor``) in chunks of parameter sets.
    """
    check_uncertain(scenario)
    check_measure(scenario, measure)
    assert scenario.uncertain is not None
    base = uncertainty.central(scenario)
    names = scenario.uncertain.names
    specs = list(scenario.uncertain.parameters.values())
    notes = []
    if scenario.uncertain.correlations:
        notes.append("correlations in the uncertain: block are ignored (Sobol indices assume independent inputs)")
    central_evaluator = Evaluator(base, reps, engine)
    central_evaluator.columns({})
    level = central_evaluator.level
    report = progress or (lambda done, total: None)
    count = [0]

    def model(x: np.ndarray) -> np.ndarray:
        points = [{key: _value(base, key, v) for key, v in zip(names, row, strict=True)} for row in x]
        total = len(points)
        report(0, total)
        chunk = max(1, min(32, -(-total // max(workers, 1))))
        chunks = [points[i : i + chunk] for i in range(0, total, chunk)]
        results: list[list[float]] = []
        if executor is None and workers == 1:
            for part in chunks:
                results.append(_means_of_points(base, part, reps, engine, measure, level))
                count[0] += len(part)
                report(count[0], total)
        else:
            pool = executor or ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            try:
                futures = [pool.submit(_means_of_points, base, part, reps, engine, measure, level) for part in chunks]
                for future, part in zip(futures, chunks, strict=True):
                    results.append(future.result())
                    count[0] += len(part)
                    report(count[0], total)
            finally:
                if executor is None:
                    pool.shutdown(wait=True, cancel_futures=True)
        return np.concatenate([np.asarray(r) for r in results])

    rows = sobol_indices(model, specs, names, samples, seed=scenario.seed % 2**32)
    rows.sort(key=lambda row: -row["ST"])
    return SobolResult(measure, samples, reps, samples * (len(names) + 2), rows, notes)


def sobol_chart_data(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Bars for a Sobol chart (pure): per parameter, ``index`` ``"first order"`` (S1) and ``"total"`` (ST),
    with ``value``, ``low`` and ``high`` (95 % interval); ``order`` ranks parameters by ST (0 = largest)."""
    bars = []
    for order, row in enumerate(sorted(rows, key=lambda r: -r["ST"])):
        for index, key in (("first order", "S1"), ("total", "ST")):
            bars.append(
                {
                    "parameter": row["parameter"],
                    "index": index,
                    "value": row[key],
                    "low": row[key] - row[f"{key}_conf"],
                    "high": row[key] + row[f"{key}_conf"],
                    "order": order,
                }
            )
    return bars
