"""The result of a payment rule: named parts of income, each ``[replication, month]`` in GBP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


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
