"""What a payment rule declares, once: its name, how it is shown, and one ``pay`` function.

Each rule's module ends with a :class:`PaymentRule` named ``RULE``; :mod:`paysim.money.payment` finds them, checks them
against the rules the contracts know (:data:`paysim.model.terms.CONTRACT_RULES`, each rule's terms) and serves them
by name (:func:`paysim.money.payment.payment_rule`). A rule is those two declarations: its terms and its module.
Every ``pay`` takes the rule's terms (uplifts resolved) and a :class:`PricedActivity`, and returns a
:class:`~paysim.money.payment.income.Payment`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from paysim.model.terms import ContractRule, contract_rule
from paysim.money.payment.income import Payment


@dataclass(frozen=True)
class PricedActivity:
    """What a rule may be paid on, ``[replication, month]`` arrays.

    Attributes
    ----------
    measures : mapping of str to ndarray
        Every simulated measure per month (an Activity's ``monthly``).
    month_days : ndarray
        Days in each month, ``[month]``.
    provider_cost : ndarray
        The provider's cost, GBP per month.
    units : mapping of str to ndarray
        Units per month of each currency the rule prices (``{"inpatient.bed_day": ...}``); empty for a rule
        without prices.
    level : mapping of str to ndarray, optional
        The run's expected yearly units ``{currency key: [year]}`` that planned baselines are set on.
    """

    measures: Mapping[str, np.ndarray]
    month_days: np.ndarray
    provider_cost: np.ndarray
    units: Mapping[str, np.ndarray]
    level: Mapping[str, np.ndarray] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(replications, months)``."""
        return self.provider_cost.shape  # type: ignore[return-value]


@dataclass(frozen=True)
class PaymentRule:
    """One payment rule, declared in its own module.

    Attributes
    ----------
    name : str
        The key under ``contracts:`` and the first part of its results columns (``blended.provider_income``).
    pay : callable
        ``pay(terms, priced) -> Payment``: the rule's income for a :class:`PricedActivity`.
    label : str
        How the app names it (``"API"``).
    title : str
        How ``paysim validate`` names it (``"API (aligned payment and incentive, since 2022/23)"``).
    colour : str
        Its colour in every chart.
    """

    name: str
    pay: Callable[[Any, PricedActivity], Payment]
    label: str
    title: str
    colour: str

    @property
    def contract(self) -> ContractRule:
        """Its contract side: its terms' model and design terms (:data:`paysim.model.terms.CONTRACT_RULES`)."""
        return contract_rule(self.name)

    @property
    def priced(self) -> bool:
        """Whether it pays per unit at prices (its terms have ``prices``; :attr:`PricedActivity.units` is filled)."""
        return self.contract.priced


__all__ = ["PaymentRule", "PricedActivity"]
