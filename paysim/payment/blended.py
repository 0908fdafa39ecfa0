"""Blended payment: fixed element + variable element + outcome element + risk-share corridor.

For each priced currency ``c`` with unit price ``p_c`` (uplifted each contract year) and planned units
``plan_c`` per contract year (see :func:`planned_units`):

1. **fixed element**: ``F = sum_c plan_c x p_c`` per year, paid in twelfths; ``F`` is the contract value.
2. **variable element**, settled monthly on the year to date (after ``k`` months the plan to date is
   ``plan_c x k / 12``, the band ``dead_band x plan_c x k / 12``)::

       d = actual to date - plan to date
       paid to date = p_c x (rate_above x max(d - band, 0) - rate_below x max(-d - band, 0))

   and each month pays the change in ``paid to date``, so the year's total is the formula on the year's
   activity.
3. **outcome element** on ``share x F`` (:mod:`paysim.payment.outcomes`).
4. **risk share** (:mod:`paysim.payment.corridor`) on the provider's deficit after 1-3, settled at year end.

Rates of 1 on both sides, no band, no outcomes and no corridor reproduce activity payment; rates of 0
reproduce a block of value ``F``.

Example: plan 60,000 bed days a year at 575 (``F`` = 34.5m, 2.875m a month), rate above 0.5, below 0.5,
dead band 2 % (1,200 bed days). Actual 63,000: variance 3,000, 1,800 beyond the band, paid
0.5 x 575 x 1,800 = 517,500; actual 59,000: inside the band, nothing moves.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from paysim.payment.income import Payment, with_outcomes_and_risk_share
from paysim.payment.schedule import (
    contract_year,
    from_year_to_date,
    growth_index,
    in_twelfths,
    year_to_date,
    yearly_totals,
    years_of,
)
from paysim.terms import Baseline, BlendedTerms


def planned_units(
    baseline: Baseline, keys: list[str], units: Mapping[str, np.ndarray], years: int
) -> dict[str, np.ndarray]:
    """Planned units per contract year for each currency key, ``{key: [year]}``.

    ``expected``: the mean over replications of each year's units (the true expected level, as far as the
    run can tell) x ``(1 + error)``. ``fixed``: ``units x (1 + growth) ** year x (1 + error)``.
    """
    if baseline.source == "expected":
        return {key: yearly_totals(units[key]).mean(axis=0) * (1.0 + baseline.error) for key in keys}
    assert baseline.units is not None
    fixed = baseline.units.items()
    return {key: fixed[key] * growth_index(baseline.growth, years) * (1.0 + baseline.error) for key in keys}


def blended_payment(
    terms: BlendedTerms,
    units: Mapping[str, np.ndarray],
    measures: Mapping[str, np.ndarray] | None = None,
    month_days: np.ndarray | None = None,
    cost: np.ndarray | None = None,
    plan: Mapping[str, np.ndarray] | None = None,
) -> Payment:
    """Blended income: parts ``"fixed"``, ``"variable"``, and ``"outcome"``, ``"risk_share"`` if present.

    Parameters
    ----------
    terms : BlendedTerms
    units : mapping of str to ndarray
        Units per month of every priced currency, ``[replication, month]``.
    measures : mapping of str to ndarray, optional
        Activity measures ``[replication, month]``, needed for outcome indicators.
    month_days : ndarray, optional
        Days in each counted month ``[month]``, needed for outcome indicators.
    cost : ndarray, optional
        Provider cost, GBP per month ``[replication, month]``, needed for a corridor.
    plan : mapping of str to ndarray, optional
        Planned units per contract year ``{key: [year]}``; default from ``terms.baseline``.

    Returns
    -------
    Payment
        GBP per month ``[replication, month]``; ``contract_value`` is the fixed element per year.
    """
    prices = terms.prices.items()
    keys = list(prices)
    shape = np.shape(units[keys[0]])
    months = shape[-1]
    years = years_of(months)
    year = contract_year(months)
    index = growth_index(terms.uplift, years)
    if plan is None:
        plan = planned_units(terms.baseline, keys, units, years)

    value = sum(np.asarray(plan[key], dtype=float) * prices[key] * index for key in keys)  # [year]
    fixed = np.broadcast_to(in_twelfths(value, months), shape).copy()

    variable = np.zeros(shape)
    v = terms.variable
    for key in keys:
        plan_to_date = year_to_date(in_twelfths(np.asarray(plan[key], dtype=float), months))  # [month]
        variance = year_to_date(units[key]) - plan_to_date
        band = v.dead_band * plan_to_date
        paid_to_date = (prices[key] * index[year]) * (
            v.rate_above * np.maximum(variance - band, 0.0) - v.rate_below * np.maximum(-variance - band, 0.0)
        )
        variable += from_year_to_date(paid_to_date)

    parts = {"fixed": fixed, "variable": variable}
    contract_value = np.broadcast_to(value, (shape[0], years))
    return with_outcomes_and_risk_share("blended", terms, parts, contract_value, measures, month_days, cost)
