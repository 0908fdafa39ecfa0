"""Ledgers: Activity + costs + each payment rule -> the provider's and the commissioner's money.

For every rule in the scenario, on the *same* Activity (common random numbers), per replication and month
(GBP, ``[replication, month]``)::

    provider_income    = what the rule pays the provider
    provider_cost      = what the provider spends (paysim.money.costs; the same under every rule)
    provider_surplus   = provider_income - provider_cost
    commissioner_spend = provider_income + OAP spend the commissioner pays directly

A price per OAP bed day (activity, blended and API rules) pays for the OAP bed days the provider buys: all of
them when ``contracts.oap_paid_by`` is ``provider``, its share when ``shared``, none when the commissioner buys
them directly.

**Contract terms as applied** (:func:`contract_terms`): a rule that gives its own ``uplift`` uses it; a rule
that leaves it out takes ``contracts.roll_forward``'s yearly change (:func:`paysim.money.payment.yearly_change`,
with the pay award ``costs.pay_inflation``), or 0 without a roll-forward. This is the one place uplifts are
resolved; the payment functions read the resolved terms.

The **Mental Health Investment Standard** (:func:`mhis`) is the ICB's test: per rule and contract year, its
qualifying mental-health spend -- the spend with and for this provider less exclusions, plus its other
qualifying spend -- must grow at least as fast as its allocation plus the mental-health increment. The check
keeps the provider-level figures (the spend with this provider alone, the proxy used before the ICB's other
spend is known) and splits the spend with the provider between core services (community, crisis, inpatient
including OAPs) and talking therapies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from paysim.activity import Activity, measure_kinds
from paysim.model.lines import CORE_SERVICES
from paysim.model.terms import MHIS, PRICED_RULES, RULES, Contracts, Costs
from paysim.money.costs import ProviderCosts, provider_costs
from paysim.money.payment import Payment, PricedActivity, payment_rule, yearly_change
from paysim.money.payment.currencies import currency_units, measure_for
from paysim.money.payment.outcomes import indicator_measures
from paysim.money.payment.schedule import by_year, yearly_totals

LEDGERS = ("provider_income", "provider_cost", "provider_surplus", "commissioner_spend")
"""Ledger names, the public contract for result columns ``<rule>.<ledger>``."""


@dataclass(frozen=True)
class Ledger:
    """The money of one payment rule, GBP per month, ``[replication, month]``.

    Attributes
    ----------
    rule : str
        ``block``, ``activity``, ``blended``, ``capitation`` or ``api``.
    provider_income, provider_cost, provider_surplus, commissioner_spend : ndarray
        GBP per month, ``[replication, month]``; surplus = income - cost.
    income_parts : mapping of str to ndarray
        The rule's parts of income (``fixed``, ``variable``, ``outcome``, ``risk_share``, ``cquin``, ...),
        ``[R, M]``.
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

    A run too large to hold ``[replication, month]`` ledgers (:mod:`paysim.runs.batch`) keeps this instead; it
    answers :meth:`total` and :meth:`yearly` as :class:`Ledger` does, with the same numbers.

    Attributes
    ----------
    rule : str
        ``block``, ``activity``, ``blended``, ``capitation`` or ``api``.
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


def priced_units(keys: Iterable[str], contracts: Contracts, costs: Costs, activity: Activity) -> dict[str, np.ndarray]:
    """Units per month of every currency key (``"inpatient.bed_day"``, ...), ``{key: [replication, month]}``;
    OAP bed days count only the share the provider buys (``contracts.oap_paid_by``)."""
    units = currency_units(keys, activity.monthly, activity.month_days, dict(costs.contacts_per_week))
    if "inpatient.oap_bed_day" in units:  # a price pays only for the OAP bed days the provider buys
        units["inpatient.oap_bed_day"] = units["inpatient.oap_bed_day"] * contracts.provider_oap_share
    return units


def resolved_uplift(contracts: Contracts, costs: Costs, rule: str) -> float:
    """The yearly change a rule's values and prices move by: its own ``uplift`` if given, else
    ``contracts.roll_forward``'s yearly change with the pay award ``costs.pay_inflation`` (without the agreed
    growth for a rule paid at prices, :data:`~paysim.model.terms.PRICED_RULES`), else 0 (0 too for a rule whose
    terms have no ``uplift``)."""
    terms = getattr(contracts, rule)
    if terms is None:
        raise ValueError(f"contracts.{rule}: the scenario has no {rule} contract")
    if "uplift" not in type(terms).model_fields:  # a rule whose terms do not move
        return 0.0
    if terms.uplift is not None:
        return terms.uplift + 0.0  # a float (or one per row, [R, 1])
    if contracts.roll_forward is not None:
        return yearly_change(contracts.roll_forward, costs.pay_inflation, prices=rule in PRICED_RULES)
    return 0.0


def contract_terms(contracts: Contracts, costs: Costs) -> Contracts:
    """The contracts as applied: every rule's ``uplift`` resolved (:func:`resolved_uplift`).

    Example: ``roll_forward: {cost_uplift: 0.029, efficiency: 0.011}`` and a block without ``uplift``: the
    block rolls forward by 1.8 % a year; a block with ``uplift: 0.02`` keeps 2 %.
    """
    resolved = {}
    for rule in contracts.rules:
        terms = getattr(contracts, rule)
        if "uplift" in type(terms).model_fields and terms.uplift is None:
            resolved[rule] = terms.model_copy(update={"uplift": resolved_uplift(contracts, costs, rule)})
    return contracts.model_copy(update=resolved) if resolved else contracts


def missing_measures(scenario) -> list[str]:
    """What a scenario prices or measures that the engines do not count for it, one problem per key.

    Every price, unit cost and outcome or CQUIN indicator needs Activity measures
    (:func:`paysim.money.payment.currencies.measure_for`, :func:`paysim.money.payment.outcomes.indicator_measures`);
    a line left out of ``services`` has none, and a measure the engines do not count (``talking_therapies.recovered``
    for the recovery indicator, until they count recoveries) is missing whatever the lines.

    Returns
    -------
    list of str
        ``"<dotted key>: <what> needs <measure>, which the engines do not count yet"`` or ``"..., and the
        scenario has no services.<line>"``; empty when everything can be priced.
    """
    lines = scenario.lines()
    inpatient = scenario.services.inpatient is not None
    counted = measure_kinds(lines, inpatient)
    problems = []

    def need(key: str, what: str, names: Iterable[str]) -> None:
        for name in names:
            if name not in counted:
                line = name.split(".")[0]
                present = line in lines or (line == "inpatient" and inpatient)
                why = "which the engines do not count yet" if present else f"and the scenario has no services.{line}"
                problems.append(f"{key}: {what} needs {name}, {why}")
                return

    contracts = scenario.contracts
    for rule in contracts.rules if contracts is not None else ():
        terms = getattr(contracts, rule)
        prices = getattr(terms, "prices", None)
        for key in prices.items() if prices is not None else ():
            need(f"contracts.{rule}.prices.{key}", key, [measure_for(key)])
        for element in ("outcomes", "cquin"):
            block = getattr(terms, element, None)
            for i, indicator in enumerate(block.indicators if block is not None else ()):
                need(
                    f"contracts.{rule}.{element}.indicators.{i}.measure",
                    indicator.measure,
                    indicator_measures(indicator.measure),
                )
    if scenario.costs is not None:
        for key in scenario.costs.unit_costs.items():
            need(f"costs.unit_costs.{key}", key, [measure_for(key)])
    return problems


def rule_payment(
    rule: str,
    contracts: Contracts,
    costs: Costs,
    activity: Activity,
    provider_cost: np.ndarray,
    level: Mapping[str, np.ndarray] | None = None,
) -> Payment:
    """Income under one rule of ``contracts`` for an Activity, GBP per month ``[replication, month]``.

    ``level`` is the run's expected level ``{currency key: [year]}`` that blended and API baselines of source
    ``expected`` or ``last_year`` are set on (see :func:`ledgers`); other rules ignore it. Uplifts are
    resolved here (:func:`contract_terms`).

    Raises
    ------
    ValueError
        For a rule that is not one of :data:`paysim.model.terms.RULES`, or that the scenario does not have.
    """
    spec = payment_rule(rule)
    if getattr(contracts, rule) is None:
        raise ValueError(f"contracts.{rule}: the scenario has no {rule} contract")
    terms = getattr(contract_terms(contracts, costs), rule)
    units = priced_units(terms.prices.items(), contracts, costs, activity) if spec.priced else {}
    return spec.pay(terms, PricedActivity(activity.monthly, activity.month_days, provider_cost, units, level))


def ledgers(
    scenario,
    activity: Activity,
    costs: ProviderCosts | None = None,
    level: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Ledger]:
    """One Ledger per payment rule in the scenario, all on the same Activity.

    Parameters
    ----------
    scenario : Scenario
        Its ``contracts`` say which rules run; its ``costs`` what the provider spends.
    activity : Activity
        Simulated activity, ``[replication, month]``. Blended and API baselines of source ``expected`` (and
        year 1 of ``last_year``) use the mean over these replications (unless ``level`` is given), so pass
        every replication at once.
    costs : ProviderCosts, optional
        Precomputed provider costs (default: :func:`paysim.money.costs.provider_costs`).
    level : mapping, optional
        The expected level those baselines are set on, mean units per contract year ``{currency key: [year]}``
        (before each rule's baseline error), when it comes from more replications than these
        (:func:`paysim.runs.psa.ledgers_by_replication`).

    Returns
    -------
    dict of str to Ledger
        In the order block, activity, blended, capitation, api; empty if the scenario has no contracts.
    """
    contracts = scenario.contracts
    if contracts is None:
        return {}
    if costs is None:
        costs = provider_costs(scenario, activity)
    cost = costs.total
    result = {}
    for rule in contracts.rules:
        payment = rule_payment(rule, contracts, scenario.costs or Costs(), activity, cost, level=level)
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
    block, activity, blended, capitation, api and ledgers in the order of :data:`LEDGERS`.
    """
    columns = {}
    for rule in sorted(ledgers, key=lambda r: RULES.index(r) if r in RULES else len(RULES)):
        for name in LEDGERS:
            columns[f"{rule}.{name}"] = ledgers[rule].total(name)
    return columns


def system_cost(ledger: Ledger | LedgerTotals) -> np.ndarray:
    """A ledger identity: what the provider spends plus the out-of-area spend the commissioner pays directly,
    GBP over the horizon, ``[replication]``::

        system_cost = provider_cost + (commissioner_spend - provider_income)
    """
    return ledger.total("provider_cost") + ledger.total("commissioner_spend") - ledger.total("provider_income")


def system_cost_columns(ledgers: Mapping[str, Ledger | LedgerTotals]) -> dict[str, np.ndarray]:
    """``{"<rule>.system_cost": [replication]}`` for every rule, in the ledgers' order (GBP over the horizon)."""
    return {f"{rule}.system_cost": system_cost(ledger) for rule, ledger in ledgers.items()}


# --- Mental Health Investment Standard ----------------------------------------------------------------


@dataclass(frozen=True)
class MHISCheck:
    """MHIS for one rule, per replication and contract year (GBP, ``[replication, year]``).

    The test is the ICB's (``spend``, ``minimum``, ``shortfall``, ``met``); the provider-level figures
    (``provider_*``) are the part of it this provider accounts for, the proxy a trust sees: with no other
    spend, no exclusions and no increment they are the ICB-level figures.

    Attributes
    ----------
    spend : ndarray
        The ICB's qualifying mental-health spend: ``provider_spend + other_spend``.
    minimum : ndarray
        Last year's qualifying spend x (1 + allocation growth + mental-health increment); NaN where not
        assessed (year 1 without a prior-year spend).
    shortfall : ndarray
        ``max(minimum - spend, 0)``; 0 where not assessed.
    core_spend, talking_therapies_spend : ndarray
        The qualifying spend with this provider that reaches core services (community, crisis, inpatient,
        OAPs) and talking therapies.
    provider_spend : ndarray
        Qualifying spend with and for this provider: ``(1 - excluded_share) x`` the commissioner's spend
        with it, OAPs it buys directly included.
    provider_minimum, provider_shortfall : ndarray
        The same test on ``provider_spend`` alone (last year's ``provider_spend``, year 1 ``prior_year_spend``).
    other_spend : ndarray
        The ICB's qualifying spend outside this provider, grown from the prior year, ``[year]``.
    """

    spend: np.ndarray
    minimum: np.ndarray
    shortfall: np.ndarray
    core_spend: np.ndarray
    talking_therapies_spend: np.ndarray
    provider_spend: np.ndarray
    provider_minimum: np.ndarray
    provider_shortfall: np.ndarray
    other_spend: np.ndarray

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
    def provider_met(self) -> np.ndarray:
        """The provider-level proxy met (or not assessed), ``[replication, year]`` of bool."""
        return ~(self.provider_shortfall > 0)

    @property
    def core_share(self) -> np.ndarray:
        """Share of the qualifying spend with this provider reaching core services, ``[replication, year]``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.core_spend / self.provider_spend


def mhis_check(
    terms: MHIS, spend: np.ndarray, core_spend: np.ndarray | None = None, talking_therapies_spend=None
) -> MHISCheck:
    """The MHIS test on yearly spend (pure).

    Parameters
    ----------
    terms : MHIS
        Allocation growth and mental-health increment per year, the prior-year qualifying spend with this
        provider, the excluded share, and the ICB's other qualifying spend and its growth (GBP).
    spend : ndarray
        The commissioner's spend with and for this provider (OAPs it buys directly included), GBP per contract
        year, ``[replication, year]``.
    core_spend, talking_therapies_spend : ndarray, optional
        The split of ``spend``, ``[replication, year]`` (default: all core).

    The ICB's qualifying spend in year ``y`` is ``(1 - excluded_share) x spend_y + other_y``, with ``other_y``
    the other spend grown ``y + 1`` years; its minimum is last year's qualifying spend x (1 + allocation
    growth + increment), year 1's last year being ``prior_year_spend + other spend``.

    Examples: allocation growth 5 %, prior-year spend 100m: the minimum is 105m; spending 104m fails by 1m.
    At ICB level, with 400m of other spend growing 4 %, a 1 % increment and 10 % of the provider's spend
    excluded: last year 90m + 400m = 490m, minimum 490m x 1.06 = 519.4m; a provider spend of 104m qualifies
    93.6m, and 93.6m + 416m = 509.6m fails by 9.8m.
    """
    spend = np.atleast_2d(np.asarray(spend, dtype=float))
    years = spend.shape[1]
    growth = by_year(terms.allocation_growth, years) + by_year(terms.mental_health_increment, years)
    kept = 1.0 - terms.excluded_share
    other_prior = terms.other_spend.total
    other = other_prior * np.cumprod(1.0 + by_year(terms.other_spend_growth, years))  # [year]
    provider = kept * spend
    qualifying = provider + other
    prior = np.nan if terms.prior_year_spend is None else terms.prior_year_spend
    minimum = _minimum(qualifying, prior + other_prior, growth)
    provider_minimum = _minimum(provider, prior, growth)
    core = spend if core_spend is None else np.asarray(core_spend, dtype=float)
    talking = spend - core if talking_therapies_spend is None else np.asarray(talking_therapies_spend, dtype=float)
    return MHISCheck(
        spend=qualifying,
        minimum=minimum,
        shortfall=_shortfall(minimum, qualifying),
        core_spend=kept * core,
        talking_therapies_spend=kept * talking,
        provider_spend=provider,
        provider_minimum=provider_minimum,
        provider_shortfall=_shortfall(provider_minimum, provider),
        other_spend=other,
    )


def _minimum(spend: np.ndarray, prior: float, growth: np.ndarray) -> np.ndarray:
    """Last year's spend (``prior`` for year 1) x (1 + growth), ``[replication, year]``."""
    last_year = np.concatenate([np.full((spend.shape[0], 1), prior), spend[:, :-1]], axis=1)
    return last_year * (1.0 + growth)


def _shortfall(minimum: np.ndarray, spend: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(minimum), 0.0, np.maximum(minimum - spend, 0.0))


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
