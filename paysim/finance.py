"""Ledgers: Activity + costs + each payment rule -> the provider's and the commissioner's money.

For every rule in the scenario, on the *same* Activity (common random numbers), per replication and month
(GBP, ``[replication, month]``)::

    provider_income    = what the rule pays the provider
    provider_cost      = what the provider spends (paysim.costs; the same under every rule)
    provider_surplus   = provider_income - provider_cost
    commissioner_spend = provider_income + OAP spend the commissioner pays directly

A price per OAP bed day (activity and blended rules) pays for the OAP bed days the provider buys: all of them
when ``contracts.oap_paid_by`` is ``provider``, its share when ``shared``, none when the commissioner buys
them directly.

The **Mental Health Investment Standard** (:func:`mhis`) checks, per rule and contract year, that the
commissioner's qualifying spend grew at least as fast as its allocation, and splits that spend between core
services (community, crisis, inpatient including OAPs) and talking therapies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from paysim.activity import Activity
from paysim.costs import ProviderCosts, provider_costs
from paysim.payment import (
    Payment,
    activity_payment,
    blended_payment,
    block_payment,
    capitation_payment,
)
from paysim.payment.currencies import currency_units
from paysim.payment.schedule import by_year, yearly_totals
from paysim.terms import MHIS, RULES, Contracts, Costs

LEDGERS = ("provider_income", "provider_cost", "provider_surplus", "commissioner_spend")
"""Ledger names, the public contract for result columns ``<rule>.<ledger>``."""

CORE_SERVICES = ("community", "crisis", "inpatient")
"""Services counted as core for the MHIS split (talking therapies is the other part)."""


@dataclass(frozen=True)
class Ledger:
    """The money of one payment rule, GBP per month, ``[replication, month]``.

    Attributes
    ----------
    rule : str
        ``block``, ``activity``, ``blended`` or ``capitation``.
    provider_income, provider_cost, provider_surplus, commissioner_spend : ndarray
        GBP per month, ``[replication, month]``; surplus = income - cost.
    income_parts : mapping of str to ndarray
        The rule's parts of income (``fixed``, ``variable``, ``outcome``, ``risk_share``, ...), ``[R, M]``.
    contract_value : ndarray
        GBP per contract year the contract is set at, ``[replication, year]``.
    """

    rule: str
    provider_income: np.ndarray
    provider_cost: np.ndarray
    commissioner_spend: np.ndarray
    income_parts: Mapping[str, np.ndarray] = field(default_factory=dict)
    contract_value: np.ndarray | None = None
    provider_surplus: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # Row-major arrays, so that a replication's sums over months run along its row and do not depend on
        # which other replications share the array (a run priced chunk by chunk sums exactly as one priced whole).
        for name in ("provider_income", "provider_cost", "commissioner_spend"):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=float))
        object.__setattr__(self, "provider_surplus", self.provider_income - self.provider_cost)

    def __getitem__(self, name: str) -> np.ndarray:
        """One ledger by name, GBP per month ``[replication, month]``."""
        if name not in LEDGERS:
            raise KeyError(f"{name!r} is not a ledger; ledgers are {', '.join(LEDGERS)}")
        return getattr(self, name)

    @property
    def n_replications(self) -> int:
        return self.provider_income.shape[0]

    @property
    def n_months(self) -> int:
        return self.provider_income.shape[1]

    def total(self, name: str) -> np.ndarray:
        """One ledger over the whole horizon, GBP per replication, ``[replication]``."""
        return self[name].sum(axis=1)

    def yearly(self, name: str) -> np.ndarray:
        """One ledger per contract year, GBP, ``[replication, year]``."""
        return yearly_totals(self[name])

    def totals(self) -> dict[str, np.ndarray]:
        """Every ledger over the horizon, ``{name: [replication]}``."""
        return {name: self.total(name) for name in LEDGERS}


@dataclass(frozen=True)
class LedgerTotals:
    """What the risk measures need of one rule's ledger, without its months: GBP per replication.

    A run too large to hold ``[replication, month]`` ledgers (:mod:`paysim.batch`) keeps this instead; it
    answers :meth:`total` and :meth:`yearly` as :class:`Ledger` does, with the same numbers.

    Attributes
    ----------
    rule : str
        ``block``, ``activity``, ``blended`` or ``capitation``.
    totals : mapping of str to ndarray
        Every ledger of :data:`LEDGERS` over the horizon, GBP, ``{name: [replication]}``.
    years : mapping of str to ndarray
        ``provider_surplus`` and ``commissioner_spend`` per contract year, GBP, ``{name: [replication, year]}``.
    """

    rule: str
    totals: Mapping[str, np.ndarray]
    years: Mapping[str, np.ndarray]

    YEARLY = ("provider_surplus", "commissioner_spend")
    """The ledgers kept per contract year (what :func:`paysim.analysis.risk_table` reads)."""

    @classmethod
    def of(cls, ledger: Ledger) -> LedgerTotals:
        """The totals of a full ledger."""
        return cls(ledger.rule, ledger.totals(), {name: ledger.yearly(name) for name in cls.YEARLY})

    def total(self, name: str) -> np.ndarray:
        """One ledger over the whole horizon, GBP per replication, ``[replication]``."""
        if name not in self.totals:
            raise KeyError(f"{name!r} is not a ledger; ledgers are {', '.join(LEDGERS)}")
        return self.totals[name]

    def yearly(self, name: str) -> np.ndarray:
        """``provider_surplus`` or ``commissioner_spend`` per contract year, GBP, ``[replication, year]``."""
        if name not in self.years:
            raise KeyError(f"{name!r} is not kept per year; these are: {', '.join(self.years)}")
        return self.years[name]


def priced_units(
    prices: Mapping[str, float], contracts: Contracts, costs: Costs, activity: Activity
) -> dict[str, np.ndarray]:
    """Units per month of every currency in ``prices``, ``{key: [replication, month]}``; OAP bed days count
    only the share the provider buys (``contracts.oap_paid_by``)."""
    units = currency_units(prices.items(), activity.monthly, activity.month_days, costs.contacts_per_week.model_dump())
    if "inpatient.oap_bed_day" in units:  # a price pays only for the OAP bed days the provider buys
        units["inpatient.oap_bed_day"] = units["inpatient.oap_bed_day"] * contracts.provider_oap_share
    return units


def rule_payment(
    rule: str,
    contracts: Contracts,
    costs: Costs,
    activity: Activity,
    provider_cost: np.ndarray,
    plan: Mapping[str, np.ndarray] | None = None,
) -> Payment:
    """Income under one rule of ``contracts`` for an Activity, GBP per month ``[replication, month]``.
    ``plan`` sets a blended ``expected`` baseline (see :func:`ledgers`); other rules ignore it."""
    terms = getattr(contracts, rule)
    if terms is None:
        raise ValueError(f"contracts.{rule}: the scenario has no {rule} contract")
    replications, months = activity.n_replications, activity.n_months
    if rule == "block":
        return block_payment(terms, replications, months, provider_cost)
    if rule == "capitation":
        return capitation_payment(terms, replications, months, activity.monthly, activity.month_days, provider_cost)
    units = priced_units(terms.prices, contracts, costs, activity)
    if rule == "activity":
        return activity_payment(terms, units)
    return blended_payment(terms, units, activity.monthly, activity.month_days, provider_cost, plan=plan)


def ledgers(
    scenario,
    activity: Activity,
    costs: ProviderCosts | None = None,
    plan: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Ledger]:
    """One Ledger per payment rule in the scenario, all on the same Activity.

    Parameters
    ----------
    scenario : Scenario
        Its ``contracts`` say which rules run; its ``costs`` what the provider spends.
    activity : Activity
        Simulated activity, ``[replication, month]``. Blended baselines of source ``expected`` use the
        mean over these replications (unless ``plan`` is given), so pass every replication at once.
    costs : ProviderCosts, optional
        Precomputed provider costs (default: :func:`paysim.costs.provider_costs`).
    plan : mapping, optional
        The planned units of a blended ``expected`` baseline, ``{currency key: [year]}`` (error included),
        when it comes from more replications than these (:func:`paysim.psa.ledgers_by_replication`).

    Returns
    -------
    dict of str to Ledger
        In the order block, activity, blended, capitation; empty if the scenario has no contracts.
    """
    contracts = scenario.contracts
    if contracts is None:
        return {}
    if costs is None:
        costs = provider_costs(scenario, activity)
    cost = costs.total
    result = {}
    for rule in contracts.rules:
        payment = rule_payment(rule, contracts, scenario.costs or Costs(), activity, cost, plan=plan)
        income = payment.income
        result[rule] = Ledger(
            rule=rule,
            provider_income=income,
            provider_cost=cost,
            commissioner_spend=income + costs.commissioner_oap,
            income_parts=dict(payment.parts),
            contract_value=payment.contract_value,
        )
    return result


def money_columns(ledgers: Mapping[str, Ledger]) -> dict[str, np.ndarray]:
    """Result-table columns ``<rule>.<ledger>``: GBP over the whole horizon per replication, ``[replication]``.

    Example: ``{"block.provider_income": [...], "block.provider_cost": [...], ...}``, rules in the order
    block, activity, blended, capitation and ledgers in the order of :data:`LEDGERS`.
    """
    columns = {}
    for rule in sorted(ledgers, key=lambda r: RULES.index(r) if r in RULES else len(RULES)):
        for name in LEDGERS:
            columns[f"{rule}.{name}"] = ledgers[rule].total(name)
    return columns


# --- Mental Health Investment Standard ----------------------------------------------------------------


@dataclass(frozen=True)
class MHISCheck:
    """MHIS for one rule, per replication and contract year (GBP, ``[replication, year]``).

    Attributes
    ----------
    spend : ndarray
        The commissioner's qualifying spend (its spend with this provider, OAPs included).
    minimum : ndarray
        Last year's spend x (1 + allocation growth); NaN where not assessed (year 1 without a prior-year
        spend).
    shortfall : ndarray
        ``max(minimum - spend, 0)``; 0 where not assessed.
    core_spend, talking_therapies_spend : ndarray
        Spend reaching core services (community, crisis, inpatient, OAPs) and talking therapies.
    """

    spend: np.ndarray
    minimum: np.ndarray
    shortfall: np.ndarray
    core_spend: np.ndarray
    talking_therapies_spend: np.ndarray

    @property
    def assessed(self) -> np.ndarray:
        """Whether each year is assessed, ``[year]``."""
        return ~np.isnan(self.minimum[0])

    @property
    def met(self) -> np.ndarray:
        """Standard met (or not assessed), ``[replication, year]`` of bool."""
        return ~(self.shortfall > 0)

    def probability_met(self) -> np.ndarray:
        """Share of replications meeting the standard in each year, ``[year]`` (NaN where not assessed)."""
        return np.where(self.assessed, self.met.mean(axis=0), np.nan)

    @property
    def core_share(self) -> np.ndarray:
        """Share of the spend reaching core services, ``[replication, year]``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.core_spend / self.spend


def mhis_check(
    terms: MHIS, spend: np.ndarray, core_spend: np.ndarray | None = None, talking_therapies_spend=None
) -> MHISCheck:
    """The MHIS test on yearly spend (pure).

    Parameters
    ----------
    terms : MHIS
        Allocation growth per year and the prior-year spend (GBP).
    spend : ndarray
        Qualifying spend, GBP per contract year, ``[replication, year]``.
    core_spend, talking_therapies_spend : ndarray, optional
        The split of ``spend``, ``[replication, year]`` (default: all core).

    Example: allocation growth 5 %, prior-year spend 100m: the minimum is 105m; spending 104m fails by 1m.
    """
    spend = np.atleast_2d(np.asarray(spend, dtype=float))
    years = spend.shape[1]
    growth = by_year(terms.allocation_growth, years)
    prior = np.full((spend.shape[0], 1), np.nan if terms.prior_year_spend is None else terms.prior_year_spend)
    last_year = np.concatenate([prior, spend[:, :-1]], axis=1)
    minimum = last_year * (1.0 + growth)
    shortfall = np.where(np.isnan(minimum), 0.0, np.maximum(minimum - spend, 0.0))
    core = spend if core_spend is None else np.asarray(core_spend, dtype=float)
    talking = spend - core if talking_therapies_spend is None else np.asarray(talking_therapies_spend, dtype=float)
    return MHISCheck(spend, minimum, shortfall, core, talking)


def mhis(scenario, ledgers: Mapping[str, Ledger], costs: ProviderCosts) -> dict[str, MHISCheck]:
    """MHIS per rule (empty if the scenario has no ``contracts.mhis``).

    The commissioner's spend with the provider is split between core services and talking therapies in
    proportion to the provider's cost of each (overheads pro rata); OAP spend the commissioner pays directly
    is core.
    """
    contracts = scenario.contracts
    if contracts is None or contracts.mhis is None:
        return {}
    by_service = {name: yearly_totals(part) for name, part in costs.by_service().items()}
    core_cost = sum(by_service[name] for name in CORE_SERVICES)
    clinical = core_cost + by_service["talking_therapies"]
    with np.errstate(invalid="ignore", divide="ignore"):
        core_share = np.where(clinical > 0, core_cost / np.where(clinical > 0, clinical, 1.0), 1.0)
    direct_oap = yearly_totals(costs.commissioner_oap)
    checks = {}
    for rule, ledger in ledgers.items():
        spend = ledger.yearly("commissioner_spend")
        to_provider = spend - direct_oap
        core = to_provider * core_share + direct_oap
        checks[rule] = mhis_check(contracts.mhis, spend, core, spend - core)
    return checks
