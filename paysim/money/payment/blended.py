"""Blended payment, the 2019/20 design: fixed element + variable element + outcome element + risk share.

(Since 2022/23 mental-health providers are paid under aligned payment and incentive, :mod:`paysim.money.payment.api`,
which shares the fixed payment and the variable element with this rule: :mod:`paysim.money.payment.plan`.)

For each priced currency ``c`` with unit price ``p_c`` (uplifted each contract year) and planned units
``plan_c`` per contract year (see :func:`paysim.money.payment.plan.planned_units`):

1. **fixed element**: ``F = sum_c plan_c x p_c`` per year, paid in twelfths; ``F`` is the contract value.
2. **variable element**, settled monthly on the year to date (after ``k`` months the plan to date is
   ``plan_c x k / 12``, the band ``dead_band x plan_c x k / 12``)::

       d = actual to date - plan to date
       paid to date = p_c x (rate_above x max(d - band, 0) - rate_below x max(-d - band, 0))

   and each month pays the change in ``paid to date``, so the year's total is the formula on the year's
   activity.
3. **outcome element** on ``share x F`` (:mod:`paysim.money.payment.outcomes`).
4. **risk share** (:mod:`paysim.money.payment.corridor`) on the provider's deficit after 1-3, settled at year end.

Rates of 1 on both sides, no band, no outcomes and no corridor reproduce activity payment; rates of 0
reproduce a block of value ``F``.

Example: plan 60,000 bed days a year at 575 (``F`` = 34.5m, 2.875m a month), rate above 0.5, below 0.5,
dead band 2 % (1,200 bed days). Actual 63,000: variance 3,000, 1,800 beyond the band, paid
0.5 x 575 x 1,800 = 517,500; actual 59,000: inside the band, nothing moves.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from paysim.model.terms import BlendedTerms
from paysim.money.payment.income import Payment, with_outcomes_and_risk_share
from paysim.money.payment.plan import fixed_element, plan_value, planned_units, variable_element
from paysim.money.payment.rule import PaymentRule, PricedActivity
from paysim.money.payment.schedule import growth_index, uplift_of, years_of


def blended_payment(
    terms: BlendedTerms,
    units: Mapping[str, np.ndarray],
    measures: Mapping[str, np.ndarray] | None = None,
    month_days: np.ndarray | None = None,
    cost: np.ndarray | None = None,
    plan: Mapping[str, np.ndarray] | None = None,
    level: Mapping[str, np.ndarray] | None = None,
) -> Payment:
    """Blended income: parts ``"fixed"``, ``"variable"``, and ``"outcome"``, ``"risk_share"`` if present.

    Parameters
    ----------
    terms : BlendedTerms
        Its ``uplift`` as resolved by :func:`paysim.money.finance.contract_terms` (None counts as 0).
    units : mapping of str to ndarray
        Units per month of every priced currency, ``[replication, month]``.
    measures : mapping of str to ndarray, optional
        Activity measures ``[replication, month]``, needed for outcome indicators.
    month_days : ndarray, optional
        Days in each counted month ``[month]``, needed for outcome indicators.
    cost : ndarray, optional
        Provider cost, GBP per month ``[replication, month]``, needed for a corridor.
    plan : mapping of str to ndarray, optional
        Planned units per contract year ``{key: [year]}`` or ``{key: [R, year]}``; default from
        ``terms.baseline`` (:func:`paysim.money.payment.plan.planned_units`).
    level : mapping of str to ndarray, optional
        The run's expected level ``{key: [year]}`` that ``expected`` and ``last_year`` baselines are set on
        (default: the mean over these rows).

    Returns
    -------
    Payment
        GBP per month ``[replication, month]``; ``contract_value`` is the fixed element per year.
    """
    prices = terms.prices.items()
    keys = list(prices)
    shape = np.shape(units[keys[0]])
    years = years_of(shape[-1])
    index = growth_index(uplift_of(terms), years)
    if plan is None:
        plan = planned_units(terms.baseline, keys, units, years, level)

    value = plan_value(plan, prices, index)  # [year] or [R, year]
    parts = {
        "fixed": fixed_element(value, shape),
        "variable": variable_element(terms.variable, prices, plan, units, index),
    }
    contract_value = np.broadcast_to(value, (shape[0], years))
    return with_outcomes_and_risk_share("blended", terms, parts, contract_value, measures, month_days, cost)


def pay(terms: BlendedTerms, priced: PricedActivity) -> Payment:
    """:func:`blended_payment` as every rule is paid (:class:`~paysim.money.payment.rule.PaymentRule`)."""
    return blended_payment(
        terms, priced.units, priced.measures, priced.month_days, priced.provider_cost, level=priced.level
    )


RULE = PaymentRule("blended", pay, label="Blended", title="blended (the 2019/20 design)", colour="#54a24b")
