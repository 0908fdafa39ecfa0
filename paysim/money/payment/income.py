"""The result of a payment rule: named parts of income, each ``[replication, month]`` in GBP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from paysim.money.payment.corridor import risk_share
from paysim.money.payment.outcomes import outcome_payment


@dataclass(frozen=True)
class Payment:
    """What one rule pays the provider.

    Attributes
    ----------
    parts : mapping of str to ndarray
        Parts of income (``"fixed"``, ``"variable"``, ``"outcome"``, ``"risk_share"``, ``"block"``,
        ``"inpatient.bed_day"``, ...), each GBP per month, ``[replication, month]``; they sum to the income.
    contract_value : ndarray
        The value the contract is set at, GBP per contract year, ``[replication, year]`` (the base of
        outcome shares and corridors; for activity payment, the priced activity).
    """

    parts: Mapping[str, np.ndarray]
    contract_value: np.ndarray

    @property
    def income(self) -> np.ndarray:
        """Total income, GBP per month, ``[replication, month]``."""
        parts = list(self.parts.values())
        total = np.zeros_like(parts[0], dtype=float)
        for part in parts:
            total = total + part
        return total


def with_outcomes_and_risk_share(
    rule: str,
    terms: Any,
    parts: dict[str, np.ndarray],
    contract_value: np.ndarray,
    measures: Mapping[str, np.ndarray] | None,
    month_days: np.ndarray | None,
    cost: np.ndarray | None,
) -> Payment:
    """Add a rule's optional outcome element and risk-share corridor to its other parts.

    Parameters
    ----------
    rule : str
        ``"blended"`` or ``"capitation"`` (names the terms in error messages).
    terms : BlendedTerms or CapitationTerms
        Their ``outcomes`` and ``corridor`` (either may be None).
    parts : dict of str to ndarray
        The parts so far, GBP per month ``[replication, month]``; the corridor shares the deficit after them.
    contract_value : ndarray
        GBP per contract year ``[replication, year]``: the base of the outcome share and of the corridor.
    measures, month_days, cost
        Activity measures ``[replication, month]`` and days per month (for outcomes); provider cost, GBP
        per month ``[replication, month]`` (for the corridor).
    """
    if terms.outcomes is not None:
        if measures is None or month_days is None:
            raise ValueError(f"{rule}.outcomes: the activity measures are needed for outcome indicators")
        parts["outcome"] = outcome_payment(terms.outcomes, contract_value, measures, month_days)
    if terms.corridor is not None:
        if cost is None:
            raise ValueError(f"{rule}.corridor: the provider's cost is needed for the risk share")
        parts["risk_share"] = risk_share(terms.corridor, cost, sum(parts.values()), contract_value)
    return Payment(parts, np.array(contract_value))
