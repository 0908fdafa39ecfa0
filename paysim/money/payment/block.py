"""Block payment: a fixed annual sum paid in twelfths, whatever the activity.

The value in contract year ``y`` (0 = first) is ``annual_value x (1 + uplift) ** y``, paid as twelve equal
monthly parts. With ``rebase`` on, from the second year the value is last year's provider cost outturn
rolled forward one year: ``cost[y - 1] x (1 + uplift)`` (so it varies by replication).

Example: 120m a year, uplift 1.8 %: 10m a month in year 1, 10.18m a month in year 2.
"""

from __future__ import annotations

import numpy as np

from paysim.model.terms import BlockTerms
from paysim.money.payment.income import Payment
from paysim.money.payment.rule import PaymentRule, PricedActivity
from paysim.money.payment.schedule import growth_index, in_twelfths, uplift_of, yearly_totals, years_of


def block_value(terms: BlockTerms, replications: int, months: int, cost: np.ndarray | None = None) -> np.ndarray:
    """Block value, GBP per contract year, ``[replication, year]``.

    ``cost`` (provider cost, GBP per month ``[replication, month]``) is needed only with ``rebase``.
    """
    years = years_of(months)
    uplift = uplift_of(terms)
    value = np.broadcast_to(terms.annual_value * growth_index(uplift, years), (replications, years)).copy()
    if terms.rebase and years > 1:
        if cost is None:
            raise ValueError("block.rebase: the provider's cost outturn is needed to rebase the block value")
        outturn = yearly_totals(cost)
        value[:, 1:] = outturn[:, :-1] * (1.0 + uplift)
    return value


def block_payment(terms: BlockTerms, replications: int, months: int, cost: np.ndarray | None = None) -> Payment:
    """Block income, one part ``"block"``, GBP per month ``[replication, month]``.

    Parameters
    ----------
    terms : BlockTerms
    replications, months : int
        Shape of the result.
    cost : ndarray, optional
        Provider cost, GBP per month ``[replication, month]``; used only when ``terms.rebase``.
    """
    value = block_value(terms, replications, months, cost)
    return Payment({"block": in_twelfths(value, months)}, value)


def pay(terms: BlockTerms, priced: PricedActivity) -> Payment:
    """:func:`block_payment` as every rule is paid (:class:`~paysim.money.payment.rule.PaymentRule`)."""
    return block_payment(terms, *priced.shape, priced.provider_cost)


RULE = PaymentRule("block", pay, label="Block", title="block", colour="#4c78a8")
