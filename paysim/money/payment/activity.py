"""Activity payment (episodic / cost per case): every priced unit of activity is paid at its price.

``income[r, m] = sum over currencies c of units[c][r, m] x price[c] x (1 + uplift) ** year(m)``

Example: 6,000 local bed days in a month at 575 and 2,000 community contacts at 280:
3,450,000 + 560,000 = 4,010,000 GBP.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from paysim.model.terms import ActivityTerms
from paysim.money.payment.income import Payment
from paysim.money.payment.rule import PaymentRule, PricedActivity
from paysim.money.payment.schedule import contract_year, growth_index, uplift_of, yearly_totals, years_of


def priced_units(prices: Mapping[str, float], uplift: float, units: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Units times price (uplifted each contract year), GBP per month, per currency ``{key: [R, M]}``."""
    out = {}
    for key, price in prices.items():
        values = np.asarray(units[key], dtype=float)
        months = values.shape[-1]
        index = growth_index(uplift, years_of(months))[..., contract_year(months)]  # [M], or [R, M] per row
        out[key] = values * price * index
    return out


def activity_payment(terms: ActivityTerms, units: Mapping[str, np.ndarray]) -> Payment:
    """Activity income, one part per priced currency, GBP per month ``[replication, month]``.

    Parameters
    ----------
    terms : ActivityTerms
    units : mapping of str to ndarray
        Units per month of every priced currency, ``[replication, month]`` (see
        :func:`paysim.money.payment.currencies.currency_units`).
    """
    parts = priced_units(terms.prices.items(), uplift_of(terms), units)
    value = yearly_totals(sum(parts.values()))
    return Payment(parts, value)


def pay(terms: ActivityTerms, priced: PricedActivity) -> Payment:
    """:func:`activity_payment` as every rule is paid (:class:`~paysim.money.payment.rule.PaymentRule`)."""
    return activity_payment(terms, priced.units)


RULE = PaymentRule("activity", pay, label="Activity", title="activity", colour="#f58518")
