"""Aligned payment and incentive (API): how NHS mental-health providers have been paid since 2022/23.

Three parts (docs/sources.md, "Corrections and national figures added 2026-11"; HFMA, Jan and Mar 2022):

1. **fixed payment** agreed on planned activity and cost: ``F = sum_c plan_c x price_c`` per contract year
   (prices x the uplift index; the plan from ``baseline``, as for the blended rule), paid in twelfths;
2. **CQUIN** (optional): ``share`` of ``F`` (1.25 % nationally), on at most 5 equally weighted indicators,
   **paid in advance** (``share x F / 12`` every month) and **clawed back** for under-achievement in the last
   month of the contract year: ``- share x F x (1 - C)``, with ``C`` the year's credit (the mean of the
   indicator credits measured over the whole year, as in :mod:`paysim.money.payment.outcomes`);
3. **local variable element** (optional): activity away from plan paid or refunded at ``rate_above`` /
   ``rate_below`` of price beyond a ``dead_band``, settled monthly on the year to date (the blended rule's
   variable element). The national API variable element (75 % in 2022/23, 100 % from 2023/24) is for
   elective activity, not mental health, so a scenario without ``variable`` has none.

The fixed payment and the variable element are :mod:`paysim.money.payment.plan`, shared with the blended rule.

Worked example: plan 60,000 bed days a year at 575, so ``F`` = 34.5m (2,875,000 a month). CQUIN 1.25 %:
431,250 a year, paid in advance as 35,937.50 a month. Two indicators, one met in full (credit 1) and one half
met (0.5): ``C`` = 0.75, so 431,250 x 0.25 = 107,812.50 is clawed back in month 12. A local variable element
at 0.5 / 0.5 with a 2 % dead band (1,200 bed days): actual 63,000 pays 0.5 x 575 x 1,800 = 517,500. The
year's income: 34,500,000 + 431,250 - 107,812.50 + 517,500 = 35,340,937.50.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from paysim.model.terms import CQUIN, ApiTerms
from paysim.money.payment.income import Payment
from paysim.money.payment.outcomes import mean_credit
from paysim.money.payment.plan import fixed_element, plan_value, planned_units, variable_element
from paysim.money.payment.rule import PaymentRule, PricedActivity
from paysim.money.payment.schedule import at_year_end, growth_index, in_twelfths, uplift_of, years_of


def cquin_credit(cquin: CQUIN, measures: Mapping[str, np.ndarray], month_days: np.ndarray) -> np.ndarray:
    """The credit ``C`` (0..1) of each contract year: the mean of the indicator credits over the whole year,
    ``[replication, year]``."""
    weights = np.ones(len(cquin.indicators))
    return mean_credit(cquin.indicators, weights, measures, month_days)[..., 11::12]


def cquin_payment(
    cquin: CQUIN, fixed_value: np.ndarray, measures: Mapping[str, np.ndarray], month_days: np.ndarray
) -> np.ndarray:
    """CQUIN, GBP per month ``[replication, month]``: ``share x F / 12`` in advance every month, less
    ``share x F x (1 - C)`` clawed back in the last month of each contract year.

    Parameters
    ----------
    cquin : CQUIN
        Share of the fixed payment and the indicators.
    fixed_value : ndarray
        The fixed payment ``F``, GBP per contract year, ``[year]`` or ``[replication, year]``.
    measures : mapping of str to ndarray
        Activity measures, ``[replication, month]``.
    month_days : ndarray
        Days in each counted month, ``[month]``.
    """
    credit = cquin_credit(cquin, measures, month_days)  # [R, year]
    months = credit.shape[-1] * 12
    pot = cquin.share * np.asarray(fixed_value, dtype=float)  # GBP per year
    advance = np.broadcast_to(in_twelfths(pot, months), (credit.shape[0], months))
    return advance + at_year_end(-pot * (1.0 - credit), months)


def api_payment(
    terms: ApiTerms,
    units: Mapping[str, np.ndarray],
    measures: Mapping[str, np.ndarray] | None = None,
    month_days: np.ndarray | None = None,
    level: Mapping[str, np.ndarray] | None = None,
) -> Payment:
    """API income: parts ``"fixed"``, and ``"cquin"`` and ``"variable"`` when the terms have them.

    Parameters
    ----------
    terms : ApiTerms
        Its ``uplift`` as resolved by :func:`paysim.money.finance.contract_terms` (None counts as 0).
    units : mapping of str to ndarray
        Units per month of every priced currency, ``[replication, month]``.
    measures : mapping of str to ndarray, optional
        Activity measures ``[replication, month]``, needed for CQUIN indicators.
    month_days : ndarray, optional
        Days in each counted month ``[month]``, needed for CQUIN indicators.
    level : mapping of str to ndarray, optional
        The run's expected level ``{key: [year]}`` that ``expected`` and ``last_year`` baselines are set on
        (default: the mean over these rows).

    Returns
    -------
    Payment
        GBP per month ``[replication, month]``; ``contract_value`` is the fixed payment per year.
    """
    prices = terms.prices.items()
    keys = list(prices)
    shape = np.shape(units[keys[0]])
    years = years_of(shape[-1])
    index = growth_index(uplift_of(terms), years)
    plan = planned_units(terms.baseline, keys, units, years, level)
    value = plan_value(plan, prices, index)  # [year] or [R, year]
    parts = {"fixed": fixed_element(value, shape)}
    if terms.cquin is not None:
        if measures is None or month_days is None:
            raise ValueError("api.cquin: the activity measures are needed for CQUIN indicators")
        parts["cquin"] = cquin_payment(terms.cquin, value, measures, month_days)
    if terms.variable is not None:
        parts["variable"] = variable_element(terms.variable, prices, plan, units, index)
    return Payment(parts, np.broadcast_to(value, (shape[0], years)).copy())


def pay(terms: ApiTerms, priced: PricedActivity) -> Payment:
    """:func:`api_payment` as every rule is paid (:class:`~paysim.money.payment.rule.PaymentRule`)."""
    return api_payment(terms, priced.units, priced.measures, priced.month_days, level=priced.level)


RULE = PaymentRule(
    "api", pay, label="API", title="API (aligned payment and incentive, since 2022/23)", colour="#72b7b2"
)
