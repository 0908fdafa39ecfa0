"""Capitation: a rate per weighted head per year for a defined population, paid in twelfths.

``value[y] = rate_per_head x (1 + uplift) ** y x population x need_weight x (1 + population_growth) ** y``

The provider keeps all activity risk: income depends on activity only through the optional outcome
element (a share of the value withheld or paid as a bonus on indicators) and the optional gain/loss share.

Example: 1,000,000 people, need weight 1.05, 100 GBP per weighted head: 105m in year 1; with uplift
1.8 % and population growth 0.5 %, year 2 is 105m x 1.018 x 1.005 = 107,424,450.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from paysim.model.terms import CapitationTerms
from paysim.money.payment.income import Payment, with_outcomes_and_risk_share
from paysim.money.payment.rule import PaymentRule, PricedActivity
from paysim.money.payment.schedule import growth_index, in_twelfths, uplift_of, years_of


def capitation_value(terms: CapitationTerms, years: int) -> np.ndarray:
    """Contract value, GBP per contract year, ``[year]``."""
    heads = terms.population * terms.need_weight * growth_index(terms.population_growth, years)
    return terms.rate_per_head * growth_index(uplift_of(terms), years) * heads


def capitation_payment(
    terms: CapitationTerms,
    replications: int,
    months: int,
    measures: Mapping[str, np.ndarray] | None = None,
    month_days: np.ndarray | None = None,
    cost: np.ndarray | None = None,
) -> Payment:
    """Capitation income: parts ``"capitation"``, and ``"outcome"``, ``"risk_share"`` when the terms have them.

    Parameters
    ----------
    terms : CapitationTerms
    replications, months : int
        Shape of the result, ``[replication, month]``.
    measures : mapping of str to ndarray, optional
        Activity measures ``[replication, month]``, needed for outcome indicators.
    month_days : ndarray, optional
        Days in each counted month ``[month]``, needed for outcome indicators.
    cost : ndarray, optional
        Provider cost, GBP per month ``[replication, month]``, needed for a corridor.
    """
    years = years_of(months)
    value = np.broadcast_to(capitation_value(terms, years), (replications, years))
    parts = {"capitation": np.broadcast_to(in_twelfths(value, months), (replications, months)).copy()}
    return with_outcomes_and_risk_share("capitation", terms, parts, value, measures, month_days, cost)


def pay(terms: CapitationTerms, priced: PricedActivity) -> Payment:
    """:func:`capitation_payment` as every rule is paid (:class:`~paysim.money.payment.rule.PaymentRule`)."""
    return capitation_payment(terms, *priced.shape, priced.measures, priced.month_days, priced.provider_cost)


RULE = PaymentRule("capitation", pay, label="Capitation", title="capitation", colour="#b279a2")
