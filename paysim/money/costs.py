"""What the provider spends, per replication and month, from Activity and the scenario's ``costs:`` terms.

Cost parts (each GBP per month, ``[replication, month]``), named ``<service>.<item>``:

============================  ====================================================================
``<line>.staff``              funded WTE x cost per WTE / 12 x ((1 - v) + v x a x (1 + premium)) x pay index,
                              with vacancy rate ``v`` and agency cover ``a``: vacancies save pay, agency cover
                              costs a premium (for community, and any line whose staff model has no
                              ``wte``, the WTE, ``v`` and ``a`` come from services.<line>.capacity;
                              its funded WTE grows with ``capacity.growth``: ``staff_wte x (1 + growth) ** y``
                              in contract year ``y``)
``inpatient.ward``            local beds x fixed cost per bed per year / 12 x pay index
``inpatient.bed_days``        occupied local bed days x variable cost per bed day x price index
``inpatient.oap``             OAP bed days x OAP price x price index x the provider's share of OAP spend
``<line>.<currency>``         units x unit cost x price index, for lines costed per unit
``overheads``                 per year / 12 x price index + share of direct costs x the direct costs
============================  ====================================================================

**Cost-improvement programme** (``costs.cip``, planned share ``p``, delivered share ``d``, recurrent share
``r``): in contract year ``y`` (0 = first) every part the provider controls -- all but ``inpatient.oap``, the
bed days it buys from other providers -- is multiplied by the net cost factor

    f_y = (1 - p d) x (1 - p d r) ** y

this year's delivered saving ``p d`` in full, and the recurrent part ``p d r`` of every earlier year's saving,
compounding (:func:`cip_factor`). Overheads' share of direct costs is taken on the direct costs after CIP.
Example: ``p`` 2 %, ``d`` 50 %: with ``r`` 1 the factor is 0.99, 0.9801, 0.970299 in years 1-3 (savings
compound); with ``r`` 0 it is 0.99 every year (nothing recurs, so the saving must be found again each year).

Fixed costs (staff, wards, overheads per year) fall in twelfths. Pay and price indices step up by the
yearly inflation at the start of every financial year (April) after the first month of the horizon:
with ``start_month: 4`` they step each contract year; with ``start_month: 1`` the first step is in the
fourth month. OAP bed days the commissioner pays for (``contracts.oap_paid_by``) are not a provider cost;
they are returned as ``commissioner_oap``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from paysim.activity import Activity
from paysim.model.lines import REFERRAL_LINES, SERVICES
from paysim.model.terms import CostImprovement, Costs
from paysim.money.payment.currencies import currency_units
from paysim.money.payment.schedule import contract_year

BOUGHT_IN = ("inpatient.oap",)
"""Cost parts the provider buys from other providers at their price: a cost-improvement programme does not
reach them."""


def financial_year(start_month: int, months: int) -> np.ndarray:
    """NHS financial year (April-March) of each counted month, 0 for the year holding the first month.

    Parameters
    ----------
    start_month : int
        Calendar month the horizon starts (1 = January, 4 = April).
    months : int
        Number of counted months.

    Returns
    -------
    ndarray of int, ``[months]``
    """
    calendar = (np.arange(months) + start_month - 1) % 12 + 1
    april = (calendar == 4) & (np.arange(months) > 0)
    return np.cumsum(april)


def inflation_index(rate: float, start_month: int, months: int) -> np.ndarray:
    """``(1 + rate) ** financial_year`` for each counted month, ``[months]``."""
    return (1.0 + rate) ** financial_year(start_month, months).astype(float)


def staff_cost_per_year(
    wte: float | np.ndarray, cost_per_wte: float, vacancy_rate: float, agency_cover: float, agency_premium: float
) -> float | np.ndarray:
    """Yearly pay bill of a staff group, GBP per year (before inflation); ``wte`` may be an array (the funded WTE
    of each month, when it grows), giving the bill at each.

    Filled posts cost ``cost_per_wte``; vacant posts cost nothing unless covered by agency staff, who cost
    ``cost_per_wte x (1 + agency_premium)``. Example: 100 WTE at 50,000, 10 % vacant, half covered,
    premium 50 %: 90 x 50,000 + 5 x 75,000 = 4,875,000.
    """
    covered = vacancy_rate * agency_cover
    return wte * cost_per_wte * ((1.0 - vacancy_rate) + covered * (1.0 + agency_premium))


def cip_factor(cip: CostImprovement, months: int) -> np.ndarray:
    """Net cost factor of the controllable costs in each counted month, ``[month]``:
    ``f_y = (1 - p d) x (1 - p d r) ** y`` in contract year ``y`` (0 = first).

    Example: ``p`` 0.02, ``d`` 0.5, ``r`` 1: 0.99 in year 1, 0.9801 in year 2.
    """
    delivered = cip.planned_share * cip.delivered_share
    recurrent = delivered * cip.recurrent_share
    return (1.0 - delivered) * (1.0 - recurrent) ** contract_year(months).astype(float)


@dataclass(frozen=True)
class CIPSavings:
    """What a cost-improvement programme saves, GBP per month ``[replication, month]``.

    With ``G`` the controllable cost before any CIP and ``y`` the contract year, the cost base this year's
    programme works on is ``G x (1 - p d r) ** y`` (after the savings that recur from earlier years).

    Attributes
    ----------
    planned : ndarray
        This year's plan: ``p x`` that base.
    delivered : ndarray
        This year's delivered savings: ``p d x`` that base.
    recurrent : ndarray
        Savings recurring from earlier years' programmes: ``G x (1 - (1 - p d r) ** y)``.
    """

    planned: np.ndarray
    delivered: np.ndarray
    recurrent: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """Cost saved against no programme at all, ``delivered + recurrent = G x (1 - f_y)``, ``[R, M]``."""
        return self.delivered + self.recurrent


def cost_improvement(
    cip: CostImprovement,
    parts: Mapping[str, np.ndarray],
    shape: tuple[int, int],
    fixed_overheads: np.ndarray | None = None,
    share_of_direct: float = 0.0,
) -> tuple[dict[str, np.ndarray], CIPSavings]:
    """Apply a cost-improvement programme to cost parts (pure).

    Parameters
    ----------
    cip : CostImprovement
    parts : mapping of str to ndarray
        Direct cost parts before CIP, GBP per month ``[replication, month]`` (no ``overheads``).
    shape : (int, int)
        ``[replication, month]``.
    fixed_overheads : ndarray, optional
        Fixed overheads before CIP, GBP per month (``per_year / 12 x price index``), ``[month]``.
    share_of_direct : float
        Overheads' share of direct costs.

    Returns
    -------
    (dict of str to ndarray, CIPSavings)
        The parts after CIP -- every part but :data:`BOUGHT_IN` times :func:`cip_factor`, and ``overheads`` =
        ``f x fixed + share x direct after CIP`` when there are overheads -- and the savings.
    """
    months = shape[-1]
    factor = cip_factor(cip, months)
    zeros = np.zeros(shape)
    fixed = zeros if fixed_overheads is None else zeros + fixed_overheads
    out = {name: part if name in BOUGHT_IN else part * factor for name, part in parts.items()}
    if fixed_overheads is not None or np.any(share_of_direct):
        out["overheads"] = fixed * factor + share_of_direct * sum(out.values(), zeros)
    controllable = sum((part for name, part in parts.items() if name not in BOUGHT_IN), zeros)
    gross = controllable * (1.0 + share_of_direct) + fixed  # what the programme works on, before any CIP
    delivered_share = cip.planned_share * cip.delivered_share
    carried = (1.0 - delivered_share * cip.recurrent_share) ** contract_year(months).astype(float)
    base = gross * carried
    savings = CIPSavings(
        planned=cip.planned_share * base,
        delivered=delivered_share * base,
        recurrent=gross * (1.0 - carried),
    )
    return out, savings


@dataclass(frozen=True)
class ProviderCosts:
    """The provider's costs by part, and the OAP spend that falls on the commissioner instead.

    Attributes
    ----------
    parts : mapping of str to ndarray
        GBP per month ``[replication, month]``, named ``<service>.<item>`` or ``overheads``.
    commissioner_oap : ndarray
        OAP spend paid directly by the commissioner, GBP per month ``[replication, month]``.
    cip : CIPSavings or None
        What the cost-improvement programme saved (None without ``costs.cip``); ``parts`` are net of it.
    """

    parts: Mapping[str, np.ndarray]
    commissioner_oap: np.ndarray
    cip: CIPSavings | None = None

    @property
    def cip_savings(self) -> np.ndarray:
        """Cost saved by the cost-improvement programme against none, GBP per month ``[replication, month]``
        (zeros without ``costs.cip``)."""
        return np.zeros_like(self.commissioner_oap) if self.cip is None else self.cip.total

    @property
    def total(self) -> np.ndarray:
        """Total provider cost, GBP per month, ``[replication, month]``."""
        total = np.zeros_like(self.commissioner_oap)
        for part in self.parts.values():
            total = total + part
        return total

    def by_service(self) -> dict[str, np.ndarray]:
        """Cost per service (``talking_therapies``, ``community``, ``crisis``, ``inpatient``, ``overheads``),
        GBP per month ``[replication, month]``."""
        out = {name: np.zeros_like(self.commissioner_oap) for name in (*SERVICES, "overheads")}
        for name, part in self.parts.items():
            out[name.split(".")[0]] = out[name.split(".")[0]] + part
        return out


def cost_of_activity(
    costs: Costs,
    measures: Mapping[str, np.ndarray],
    month_days: np.ndarray,
    start_month: int,
    beds: int = 0,
    capacities: Mapping[str, Any] | None = None,
    oap_provider_share: float = 1.0,
) -> ProviderCosts:
    """Provider costs from activity measures and cost terms (pure; see the module docstring).

    Parameters
    ----------
    costs : Costs
        The scenario's cost terms.
    measures : mapping of str to ndarray
        Activity measures, ``[replication, month]``.
    month_days : ndarray
        Days in each counted month, ``[month]``.
    start_month : int
        Calendar month the horizon starts (for April inflation steps).
    beds : int
        Local adult acute beds (for the fixed ward cost).
    capacities : mapping of str to capacity, optional
        ``services.<line>.capacity`` of each line in the scenario, by line: for a line whose staff model has no
        ``wte`` (community's, :data:`paysim.model.terms.STAFF_MODELS`) its funded WTE and their yearly growth,
        vacancy rate and agency cover (``funded_wte``, ``vacancy_rate``, ``agency_cover``).
    oap_provider_share : float
        Share of OAP spend the provider pays (1 provider, 0 commissioner).

    Returns
    -------
    ProviderCosts
    """
    shape = np.shape(next(iter(measures.values())))
    months = shape[-1]
    pay = inflation_index(costs.pay_inflation, start_month, months)
    price = inflation_index(costs.price_inflation, start_month, months)
    zeros = np.zeros(shape)
    parts: dict[str, np.ndarray] = {}

    for line in SERVICES:
        group = getattr(costs.staff, line)
        if group is None:
            continue
        if "wte" not in type(group).model_fields:  # staffed from the line's capacity
            c = (capacities or {}).get(line)
            if c is None:
                raise ValueError(f"costs.staff.{line}: the scenario has no services.{line} to staff")
            by_year = [np.atleast_1d(c.funded_wte(year)) for year in range(months // 12)]  # each [1] or [R, 1]
            funded = np.concatenate(by_year, axis=-1)[..., contract_year(months)]  # [month], or [R, month]
            yearly = staff_cost_per_year(
                funded, group.cost_per_wte, c.vacancy_rate, c.agency_cover, group.agency_premium
            )
        else:
            yearly = staff_cost_per_year(
                group.wte, group.cost_per_wte, group.vacancy_rate, group.agency_cover, group.agency_premium
            )
        parts[f"{line}.staff"] = zeros + yearly / 12.0 * pay

    bed_terms = costs.beds
    if np.any(beds) and np.any(bed_terms.fixed_per_bed_per_year):  # (any row's, for terms per row)
        parts["inpatient.ward"] = zeros + beds * bed_terms.fixed_per_bed_per_year / 12.0 * pay
    if np.any(bed_terms.per_occupied_bed_day) and "inpatient.local_bed_days" in measures:
        parts["inpatient.bed_days"] = measures["inpatient.local_bed_days"] * bed_terms.per_occupied_bed_day * price
    commissioner_oap = zeros.copy()
    if np.any(bed_terms.oap_per_bed_day) and "inpatient.oap_bed_days" in measures:
        oap = measures["inpatient.oap_bed_days"] * bed_terms.oap_per_bed_day * price
        parts["inpatient.oap"] = oap * oap_provider_share
        commissioner_oap = oap * (1.0 - oap_provider_share)

    unit_costs = costs.unit_costs.items()
    units = currency_units(unit_costs, measures, month_days, dict(costs.contacts_per_week))
    for key, unit_cost in unit_costs.items():
        parts[key] = units[key] * unit_cost * price

    overheads = costs.overheads
    if costs.cip is not None:
        fixed = overheads.per_year / 12.0 * price if np.any(overheads.per_year) else None
        parts, savings = cost_improvement(costs.cip, parts, shape, fixed, overheads.share_of_direct)
        return ProviderCosts(parts, commissioner_oap, savings)
    direct = sum(parts.values(), zeros)
    if np.any(overheads.per_year) or np.any(overheads.share_of_direct):
        parts["overheads"] = overheads.per_year / 12.0 * price + overheads.share_of_direct * direct
    return ProviderCosts(parts, commissioner_oap)


def provider_costs(scenario, activity: Activity) -> ProviderCosts:
    """The provider's costs for a scenario's Activity (no ``costs:`` block: every part is zero).

    Parameters
    ----------
    scenario : Scenario
    activity : Activity
        Simulated activity, ``[replication, month]``.
    """
    costs = scenario.costs or Costs()
    services = scenario.services
    contracts = scenario.contracts
    return cost_of_activity(
        costs,
        activity.monthly,
        activity.month_days,
        activity.start_month,
        beds=services.inpatient.beds if services.inpatient is not None else 0,
        capacities={
            line: getattr(services, line).capacity for line in REFERRAL_LINES if getattr(services, line) is not None
        },
        oap_provider_share=contracts.provider_oap_share if contracts is not None else 1.0,
    )
