"""Payment rules: pure functions from activity (units per month) and contract terms to provider income.

One module per rule -- :mod:`~paysim.payment.block`, :mod:`~paysim.payment.activity`,
:mod:`~paysim.payment.blended`, :mod:`~paysim.payment.capitation` -- and shared parts: currencies
(units of activity), outcomes (outcome-linked payment), corridor (risk share) and schedule (contract years,
twelfths, year-to-date settlement). Rules never touch an engine: they read ``[replication, month]`` arrays.
"""

from paysim.payment.activity import activity_payment
from paysim.payment.blended import blended_payment, planned_units
from paysim.payment.block import block_payment
from paysim.payment.capitation import capitation_payment
from paysim.payment.income import Payment
from paysim.terms import RULES

__all__ = [
    "RULES",
    "Payment",
    "activity_payment",
    "blended_payment",
    "block_payment",
    "capitation_payment",
    "planned_units",
]
