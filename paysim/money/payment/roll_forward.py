"""How contract values and prices roll forward from one contract year to the next.

The NHS Payment Scheme moves prices and contract values each year by a **cost uplift factor** less an
**efficiency factor** (2023/24: 2.9 % and 1.1 %). The cost uplift assumes a pay rise; the 2023/24 and 2024/25
Agenda for Change awards went above it and were funded separately (NHSE pay-award finance guidance). So the
yearly change of every value and price under ``contracts.roll_forward`` is::

    change = cost_uplift - efficiency + growth
             + pay_award_funded x pay_share x max(pay_inflation - pay_in_cost_uplift, 0)

with ``pay_inflation`` the pay award actually paid (``costs.pay_inflation``) and ``pay_share`` the share of
the contract value that pays for staff. The agreed ``growth`` moves a **contract value** (block, capitation);
a **price** (activity, blended, API: :data:`paysim.model.terms.PRICED_RULES`) moves without it, since a rule that pays
per unit is paid for more activity through the units (a planned rule's plan grows by its ``baseline.growth``).
A rule's own ``uplift``, when given, is used instead (:func:`paysim.money.finance.contract_terms` resolves this once
for every rule).

Example: cost uplift 2.9 %, efficiency 1.1 %, no growth: 1.8 % a year. With a 5 % pay award against the 2.1 %
the cost uplift assumed, funded in full on a 70 % pay share: 1.8 % + 0.7 x 2.9 % = 3.83 % a year.
"""

from __future__ import annotations

import numpy as np

from paysim.model.terms import RollForward


def yearly_change(roll_forward: RollForward, pay_inflation: float, prices: bool = False) -> float | np.ndarray:
    """The yearly change of a contract value, or of prices (0.018 = +1.8 % a year).

    Parameters
    ----------
    roll_forward : RollForward
        The scenario's ``contracts.roll_forward``.
    pay_inflation : float
        The pay award actually paid each year, ``costs.pay_inflation`` (0.05 = 5 %).
    prices : bool
        True for the prices of a rule paid per unit: the agreed ``growth`` is left out (see the module docstring).
    """
    r = roll_forward
    pay_top_up = 0.0  # pay_share is required by validation when pay_award_funded > 0
    if r.pay_share is not None:  # (numbers or, for a chunk of rows with their own terms, arrays [R, 1])
        pay_top_up = r.pay_award_funded * r.pay_share * np.maximum(pay_inflation - r.pay_in_cost_uplift, 0.0)
    growth = 0.0 if prices else r.growth
    return r.cost_uplift - r.efficiency + growth + pay_top_up
