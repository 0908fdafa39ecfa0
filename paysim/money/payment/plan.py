"""Payment on planned activity, shared by the blended rule (the 2019/20 design) and API (since 2022/23).

For each priced currency ``c`` with unit price ``p_c`` (x the uplift index of the contract year) and planned
units ``plan_c`` per contract year (:func:`planned_units`):

* the **fixed payment** is ``F = sum_c plan_c x p_c`` per year (:func:`plan_value`), paid in twelfths
  (:func:`fixed_element`);
* the **variable element** (:func:`variable_element`) is settled monthly on the year to date: after ``k``
  months the plan to date is ``plan_c x k / 12`` and the band ``dead_band x plan_c x k / 12``, and::

      d = actual to date - plan to date
      paid to date = p_c x (rate_above x max(d - band, 0) - rate_below x max(-d - band, 0))

  each month paying the change in ``paid to date``, so the year's total is the formula on the year.

A plan is ``[year]`` (the same for every replication: ``expected`` and ``fixed`` baselines) or
``[replication, year]`` (``last_year``: each replication's own outturn); every function here takes either.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from paysim.model.terms import Baseline, VariableElement
from paysim.money.payment.schedule import (
    contract_year,
    from_year_to_date,
    growth_index,
    in_twelfths,
    year_to_date,
    yearly_totals,
)


def planned_units(
    baseline: Baseline,
    keys: list[str],
    units: Mapping[str, np.ndarray],
    years: int,
    level: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Planned units per contract year for each currency key, ``{key: [year]}`` or ``{key: [R, year]}``.

    Parameters
    ----------
    baseline : Baseline
        Source (``expected``, ``fixed`` or ``last_year``), error and growth.
    keys : list of str
        Currency keys ``"<line>.<currency>"``.
    units : mapping of str to ndarray
        Units per month of every key, ``[replication, month]`` (the actual activity).
    years : int
        Contract years.
    level : mapping of str to ndarray, optional
        The expected level, mean units per contract year over the whole run, ``{key: [year]}`` (before the
        error); default: the mean over the rows of ``units``. A run priced in pieces passes the whole run's.

    Returns
    -------
    dict of str to ndarray
        ``expected``: ``level x (1 + error)``, ``[year]``. ``fixed``: ``units x (1 + growth) ** year x
        (1 + error)``, ``[year]``. ``last_year``: ``[R, year]``, year 1 ``level x (1 + error)`` and year
        ``y`` the replication's outturn of year ``y - 1`` x ``(1 + growth)``.

    Example: a ``last_year`` baseline with growth 2 % on an expected year 1 of 60,000 bed days; a replication
    with 63,000 in year 1 is planned 64,260 for year 2.
    """
    if baseline.source == "fixed":
        assert baseline.units is not None
        fixed = baseline.units.items()
        return {key: fixed[key] * growth_index(baseline.growth, years) * (1.0 + baseline.error) for key in keys}
    if level is None:
        level = {key: yearly_totals(units[key]).mean(axis=0) for key in keys}
    if baseline.source == "expected":
        return {key: np.asarray(level[key], dtype=float) * (1.0 + baseline.error) for key in keys}
    if baseline.source == "last_year":
        plan = {}
        for key in keys:
            outturn = yearly_totals(units[key])  # [R, year]
            rows = np.empty_like(outturn)
            rows[:, :1] = np.asarray(level[key], dtype=float)[0] * (1.0 + baseline.error)  # error [R, 1] per row
            rows[:, 1:] = outturn[:, :-1] * (1.0 + baseline.growth)
            plan[key] = rows
        return plan
    raise ValueError(f"baseline.source: unknown source {baseline.source!r}; use expected, fixed or last_year")


def plan_value(plan: Mapping[str, np.ndarray], prices: Mapping[str, float], index: np.ndarray) -> np.ndarray:
    """The fixed payment ``F = sum_c plan_c x price_c x index``, GBP per contract year, ``[year]`` or ``[R, year]``.

    ``index`` is the uplift index of each contract year, ``[year]``.
    """
    return sum(np.asarray(plan[key], dtype=float) * price * index for key, price in prices.items())


def fixed_element(value: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The fixed payment ``value`` (GBP per contract year, ``[year]`` or ``[R, year]``) in twelfths,
    GBP per month ``shape = [replication, month]``."""
    return np.broadcast_to(in_twelfths(value, shape[-1]), shape).copy()


def variable_element(
    variable: VariableElement,
    prices: Mapping[str, float],
    plan: Mapping[str, np.ndarray],
    units: Mapping[str, np.ndarray],
    index: np.ndarray,
) -> np.ndarray:
    """The variable element, GBP per month ``[replication, month]`` (see the module docstring).

    Parameters
    ----------
    variable : VariableElement
        Rates above and below plan and the dead band (shares of price and of plan).
    prices : mapping of str to float
        GBP per unit in year 1.
    plan : mapping of str to ndarray
        Planned units per contract year, ``[year]`` or ``[R, year]``.
    units : mapping of str to ndarray
        Actual units per month, ``[replication, month]``.
    index : ndarray
        Uplift index of each contract year, ``[year]``.
    """
    first = next(iter(prices))
    shape = np.shape(units[first])
    months = shape[-1]
    year = contract_year(months)
    paid = np.zeros(shape)
    for key, price in prices.items():
        plan_to_date = year_to_date(in_twelfths(np.asarray(plan[key], dtype=float), months))  # [month] or [R, month]
        variance = year_to_date(units[key]) - plan_to_date
        band = variable.dead_band * plan_to_date
        paid_to_date = (price * index[..., year]) * (
            variable.rate_above * np.maximum(variance - band, 0.0)
            - variable.rate_below * np.maximum(-variance - band, 0.0)
        )
        paid += from_year_to_date(paid_to_date)
    return paid
