"""Payment rules: pure functions from activity (units per month) and contract terms to provider income.

One module per rule -- :mod:`~paysim.payment.block`, :mod:`~paysim.payment.activity`,
:mod:`~paysim.payment.blended` (the 2019/20 design), :mod:`~paysim.payment.capitation`,
:mod:`~paysim.payment.api` (aligned payment and incentive, in force for mental health since 2022/23) -- and
shared parts: currencies (units of activity), plan (payment on planned activity: fixed payment and variable
element), outcomes (outcome-linked payment and indicator credits), corridor (risk share), roll_forward (how
values and prices move each year) and schedule (contract years, twelfths, year-to-date settlement). Rules
never touch an engine: they read ``[replication, month]`` arrays.
"""

from paysim.payment.activity import activity_payment
from paysim.payment.api import api_payment
from paysim.payment.blended import blended_payment
from paysim.payment.block import block_payment
from paysim.payment.capitation import capitation_payment
from paysim.payment.income import Payment
from paysim.payment.plan import planned_units
from paysim.payment.roll_forward import yearly_change
from paysim.terms import RULES

__all__ = [
    "RULES",
    "Payment",
    "activity_payment",
    "api_payment",
    "blended_payment",
    "block_payment",
    "capitation_payment",
    "planned_units",
    "yearly_change",
]
