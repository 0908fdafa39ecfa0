"""Monthly tallies of event times and of piecewise-constant levels (occupancy, caseload, list size).

Month ``m`` covers days ``[edges[m], edges[m + 1])``. A level is described by the times at which it
changed and its value after each change (it is 0 before the first change); its monthly area is the exact
integral of that step function over the month (bed days, patient days).
"""

from __future__ import annotations

import numpy as np


def count_by_month(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Number of events per month, ``[months]``; events outside ``[edges[0], edges[-1])`` are dropped."""
    return sum_by_month(times, None, edges)


def sum_by_month(times: np.ndarray, values: np.ndarray | None, edges: np.ndarray) -> np.ndarray:
    """Sum of ``values`` of the events falling in each month (counts when ``values`` is None)."""
    times = np.asarray(times, dtype=float)
    months = len(edges) - 1
    index = np.searchsorted(edges, times, side="right") - 1
    inside = (index >= 0) & (index < months)
    weights = None if values is None else np.asarray(values, dtype=float)[inside]
    return np.bincount(index[inside], weights=weights, minlength=months).astype(float)


def level_at(change_times: np.ndarray, levels: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Value of the step function at ``points`` (changes at a point already applied)."""
    index = np.searchsorted(change_times, points, side="right") - 1
    padded = np.concatenate([[0.0], np.asarray(levels, dtype=float)])
    return padded[index + 1]


def area_by_month(change_times: np.ndarray, levels: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Integral of the step function over each month (level x days), ``[months]``."""
    t = np.asarray(change_times, dtype=float)
    level = np.asarray(levels, dtype=float)
    if len(t) == 0:
        return np.zeros(len(edges) - 1)
    # cumulative area from the first change up to each change time
    cumulative = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(t))])
    index = np.searchsorted(t, edges, side="right") - 1
    before = index < 0
    safe = np.maximum(index, 0)
    area_to_edge = np.where(before, 0.0, cumulative[safe] + level[safe] * (edges - t[safe]))
    return np.diff(area_to_edge)
