"""Who carries which risk: each risk type's share of the variance of each party's yearly position, per rule.

A party's **position** in a contract year is the provider's surplus (income less cost) or the commissioner's
spend (what it pays the provider plus the OAP bed days it pays directly), GBP per replication. Its variance
has two sources, and this module measures both on one Activity:

* **From run to run** (the random patients of the simulation). Each party's position is a sum of parts
  (income parts of the rule, the provider's cost parts, the OAP spend the commissioner pays directly); each
  part belongs to one risk type (:data:`PART_RISKS`): an outcome payment or CQUIN to the outcome element, a
  fixed payment that moves with last year's outturn or a plan error to the baseline, OAP bed days (cost or
  price) to OAPs, everything else that moves with volume to demand. A risk's variance from run to run is the
  variance over the replications of the sum of its parts.
* **From the assumptions** that only move the money: the pay award and cost inflation, the CIP delivered,
  the OAP price and the baseline error (:data:`ASSUMPTIONS`). Each is priced again at the 5th and 95th
  percentile of its range on the *same* Activity (so the difference is the assumption alone); the slope times
  the assumption's standard deviation, squared, is its variance (a first-order approximation). The range is
  the scenario's ``uncertain:`` entry for the key where it has one, else the modelling-choice range given here.

A risk's **share** is its variance over the sum of the risks' variances (covariances between risks are left
out, so shares are between 0 and 1 and add up to 1 for each rule, party and year). Assumptions that move the
activity itself (demand growth, lengths of stay) would need new simulations and are not counted: their effect
shows in the sensitivity tornado.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from paysim.activity import Activity
from paysim.model.fiscal import financial_year
from paysim.model.scenario import Scenario
from paysim.model.terms import RULES
from paysim.model.uncertainty import central, central_value
from paysim.money.costs import ProviderCosts, provider_costs
from paysim.money.finance import Ledger, ledgers
from paysim.money.payment.schedule import yearly_totals

RISKS = ("demand", "cost_inflation", "oap", "outcome", "baseline", "cip")
"""Risk types, in the order the risk matrix shows them."""

RISK_LABELS = {
    "demand": "Demand and volume",
    "cost_inflation": "Cost inflation and pay award",
    "oap": "Out-of-area placements",
    "outcome": "Outcome element",
    "baseline": "Baseline error",
    "cip": "CIP delivery",
}
"""How each risk type is named on screen and in the board pack."""

PARTIES = ("provider", "commissioner")
"""The two parties: the provider (its surplus) and the commissioner (its spend)."""

PARTY_LABELS = {"provider": "Provider", "commissioner": "Commissioner"}

PART_RISKS = {
    "fixed": "baseline",
    "outcome": "outcome",
    "cquin": "outcome",
    "inpatient.oap": "oap",
    "inpatient.oap_bed_day": "oap",
    "commissioner_oap": "oap",
}
"""The risk type of each part of a position whose variation is not demand and volume (parts not named here,
such as a variable payment, a price per unit or a ward's cost, move with volume)."""


@dataclass(frozen=True)
class Assumption:
    """An assumption that moves only the money, with the range used where the scenario has no ``uncertain:``
    entry for it.

    Attributes
    ----------
    key:
        Dotted scenario key.
    risk:
        Its risk type (one of :data:`RISKS`).
    spread:
        Half-width of the uniform range around the scenario's value (in the key's own unit).
    source:
        Where the range comes from.
    bounds:
        The values the key allows (the range is cut to them).
    """

    key: str
    risk: str
    spread: float
    source: str
    bounds: tuple[float, float] = (0.0, math.inf)


ASSUMPTIONS = (
    Assumption(
        "costs.pay_inflation",
        "cost_inflation",
        0.01,
        "Agenda for Change awards were 5 %, 5.5 % and 3.6 % in 2023/24 to 2025/26: +/- 1 point",
    ),
    Assumption("costs.price_inflation", "cost_inflation", 0.01, "modelling choice: non-pay inflation +/- 1 point"),
    Assumption("costs.cip.delivered_share", "cip", 0.25, "modelling choice: a quarter of the plan either way", (0, 1)),
    Assumption("costs.beds.oap_per_bed_day", "oap", 50.0, "about 640-690 a day implied by 2023/24 spend: +/- 50"),
    Assumption("contracts.blended.baseline.error", "baseline", 0.05, "modelling choice: a plan 5 % out", (-0.5, 0.5)),
    Assumption("contracts.api.baseline.error", "baseline", 0.05, "modelling choice: a plan 5 % out", (-0.5, 0.5)),
)
"""Assumptions priced again on the same Activity to measure their risk."""

INTERVAL = (0.05, 0.95)
"""Probabilities of the ends each assumption is priced at (and of a party's bad year)."""


@dataclass(frozen=True)
class RiskAttribution:
    """Each risk type's share of the variance of each party's yearly position, per rule.

    Attributes
    ----------
    rules:
        Rules, in reporting order.
    variance:
        GBP², ``[rule, party, risk, year]`` (parties :data:`PARTIES`, risks :data:`RISKS`).
    """

    rules: tuple[str, ...]
    variance: np.ndarray

    @property
    def shares(self) -> np.ndarray:
        """Each risk's share of its rule's, party's and year's variance, 0..1, ``[rule, party, risk, year]``
        (0 where a party's position does not vary at all)."""
        total = self.variance.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.variance / np.where(total > 0, total, 1.0), 0.0)

    def over_horizon(self) -> np.ndarray:
        """Shares of the variance summed over the years, 0..1, ``[rule, party, risk]``."""
        variance = self.variance.sum(axis=3)
        total = variance.sum(axis=2, keepdims=True)
        return np.where(total > 0, variance / np.where(total > 0, total, 1.0), 0.0)

    def rows(self) -> list[dict[str, Any]]:
        """The matrix over the horizon as records: ``rule``, ``party``, ``risk``, ``share`` (0..1)."""
        shares = self.over_horizon()
        return [
            {"rule": rule, "party": party, "risk": risk, "share": float(shares[i, j, k])}
            for i, rule in enumerate(self.rules)
            for j, party in enumerate(PARTIES)
            for k, risk in enumerate(RISKS)
        ]

    def spread(self) -> np.ndarray:
        """Each risk's standard deviation of a party's position in an average year, GBP, ``[rule, party, risk]``
        (the square root of its variance averaged over the years): how much money each risk moves."""
        return np.sqrt(self.variance.mean(axis=3))

    def party_spread(self) -> np.ndarray:
        """The standard deviation of each party's position in an average year from all the risks together
        (covariances left out), GBP, ``[rule, party]``."""
        return np.sqrt(self.variance.sum(axis=2).mean(axis=2))

    def largest(self, rule: str, party: str) -> tuple[str, float]:
        """The risk type with the largest share of a party's variance under a rule, and its share."""
        shares = self.over_horizon()[self.rules.index(rule), PARTIES.index(party)]
        k = int(np.argmax(shares))
        return RISKS[k], float(shares[k])


def priced(scenario: Scenario, activity: Activity) -> tuple[ProviderCosts, dict[str, Ledger]]:
    """The provider's costs and every rule's ledger of a scenario on an Activity (money only, at central values)."""
    scenario = central(scenario)
    costs = provider_costs(scenario, activity)
    return costs, dict(ledgers(scenario, activity, costs))


def position_parts(ledger: Ledger, costs: ProviderCosts, party: str) -> dict[str, np.ndarray]:
    """The parts that add up to a party's position, GBP per month ``[replication, month]``: the rule's income
    parts (less the provider's cost parts, for the provider), plus the OAP spend the commissioner pays directly
    (for the commissioner)."""
    parts = {name: np.asarray(value, dtype=float) for name, value in ledger.income_parts.items()}
    if party == "provider":
        for name, cost in costs.parts.items():
            parts[f"cost:{name}"] = -np.asarray(cost, dtype=float)
    elif party == "commissioner":
        parts["commissioner_oap"] = np.asarray(costs.commissioner_oap, dtype=float)
    else:
        raise ValueError(f"{party!r} is not a party; parties are {', '.join(PARTIES)}")
    return parts


def risk_of_part(name: str) -> str:
    """The risk type of a part of a position (``cost:`` prefixes a provider's cost part).

    >>> risk_of_part("cquin"), risk_of_part("cost:inpatient.oap"), risk_of_part("community.contact")
    ('outcome', 'oap', 'demand')
    """
    return PART_RISKS.get(name.removeprefix("cost:"), "demand")


def position(ledger: Ledger, party: str) -> np.ndarray:
    """A party's position per contract year, GBP ``[replication, year]``: provider surplus or commissioner spend."""
    if party == "provider":
        return ledger.yearly("provider_surplus")
    if party == "commissioner":
        return ledger.yearly("commissioner_spend")
    raise ValueError(f"{party!r} is not a party; parties are {', '.join(PARTIES)}")


def run_variance(ledger: Ledger, costs: ProviderCosts, party: str) -> np.ndarray:
    """Each risk's variance from run to run of a party's yearly position, GBP², ``[risk, year]``."""
    years = ledger.n_months // 12
    grouped = {risk: np.zeros((ledger.n_replications, years)) for risk in RISKS}
    for name, part in position_parts(ledger, costs, party).items():
        grouped[risk_of_part(name)] += yearly_totals(part)
    if ledger.n_replications < 2:
        return np.zeros((len(RISKS), years))
    return np.stack([grouped[risk].var(axis=0, ddof=1) for risk in RISKS])


def assumption_range(scenario: Scenario, assumption: Assumption) -> tuple[float, float, float] | None:
    """An assumption's ends (:data:`INTERVAL`) and standard deviation, or None if the scenario does not use it.

    The scenario's ``uncertain:`` entry for the key gives them where there is one; else a uniform range of
    ``spread`` either side of the scenario's value, cut to the key's ``bounds``."""
    try:
        value = central_value(scenario, assumption.key)
    except (KeyError, AttributeError, TypeError, ValueError):
        return None
    spec = scenario.uncertain.parameters.get(assumption.key) if scenario.uncertain is not None else None
    if spec is not None:
        low, high = (float(v) for v in spec.ppf(np.array(INTERVAL)))
        return low, high, float(spec.frozen().std())
    lowest, highest = assumption.bounds
    bottom = max(value - assumption.spread, lowest)
    top = min(value + assumption.spread, highest)
    if not top > bottom:
        return None
    law = stats.uniform(bottom, top - bottom)
    low, high = (float(v) for v in law.ppf(np.array(INTERVAL)))
    return low, high, float(law.std())


def assumption_variance(
    scenario: Scenario, activity: Activity, rules: Sequence[str], assumptions: Sequence[Assumption] = ASSUMPTIONS
) -> np.ndarray:
    """Each risk's variance from the money-only assumptions, GBP², ``[rule, party, risk, year]``: the mean yearly
    position priced at each end of the assumption's range on the same Activity, its slope times the
    assumption's standard deviation, squared."""
    years = activity.n_months // 12
    out = np.zeros((len(rules), len(PARTIES), len(RISKS), years))
    for assumption in assumptions:
        found = assumption_range(scenario, assumption)
        if found is None:
            continue
        low, high, sd = found
        if not high > low:
            continue
        ends = []
        for value in (low, high):
            _, books = priced(central(scenario).with_overrides({assumption.key: value}), activity)
            ends.append(books)
        k = RISKS.index(assumption.risk)
        for i, rule in enumerate(rules):
            for j, party in enumerate(PARTIES):
                at_low = position(ends[0][rule], party).mean(axis=0)
                at_high = position(ends[1][rule], party).mean(axis=0)
                out[i, j, k] += ((at_high - at_low) / (high - low) * sd) ** 2
    return out


def attribute(
    scenario: Scenario,
    activity: Activity,
    books: Mapping[str, Ledger] | None = None,
    costs: ProviderCosts | None = None,
    assumptions: Sequence[Assumption] = ASSUMPTIONS,
) -> RiskAttribution:
    """Each risk type's share of each party's yearly position, per rule, on one simulated Activity.

    Parameters
    ----------
    scenario:
        The scenario the Activity was simulated from (priced at its central values).
    activity:
        Simulated activity, ``[replication, month]``.
    books, costs:
        The scenario's ledgers and costs on this Activity, if already priced (else priced here).
    assumptions:
        The money-only assumptions to price again (default :data:`ASSUMPTIONS`).

    Returns
    -------
    RiskAttribution
        Variances ``[rule, party, risk, year]`` for the rules the scenario's contracts set.
    """
    if books is None or costs is None:
        costs, books = priced(scenario, activity)
    rules = tuple(rule for rule in RULES if rule in books)
    years = activity.n_months // 12
    variance = np.zeros((len(rules), len(PARTIES), len(RISKS), years))
    for i, rule in enumerate(rules):
        for j, party in enumerate(PARTIES):
            variance[i, j] = run_variance(books[rule], costs, party)
    if rules:
        variance += assumption_variance(scenario, activity, rules, assumptions)
    return RiskAttribution(rules, variance)


# --- positions by financial year -----------------------------------------------------------------------


def bad_year(values: np.ndarray, party: str) -> np.ndarray:
    """A party's bad year over the replications (axis 0): the provider's 5th percentile surplus, the
    commissioner's 95th percentile spend, GBP."""
    q = INTERVAL[0] if party == "provider" else INTERVAL[1]
    return np.quantile(values, q, axis=0)


def positions(books: Mapping[str, Ledger], start_month: int = 4) -> list[dict[str, Any]]:
    """Each rule's and party's expected and bad-year position per financial year, GBP.

    Returns
    -------
    list of dict
        ``rule``, ``party``, ``year`` (1-based), ``financial_year`` (label), ``expected`` (mean, GBP) and
        ``bad_year`` (:func:`bad_year`, GBP), in rule, party, year order.
    """
    rows = []
    for rule in (r for r in RULES if r in books):
        for party in PARTIES:
            values = position(books[rule], party)
            expected, worst = values.mean(axis=0), bad_year(values, party)
            for y in range(values.shape[1]):
                rows.append(
                    {
                        "rule": rule,
                        "party": party,
                        "year": y + 1,
                        "financial_year": financial_year(y + 1, start_month),
                        "expected": float(expected[y]),
                        "bad_year": float(worst[y]),
                    }
                )
    return rows


def carrier_sentence(attribution: RiskAttribution, rule: str, rule_label: str) -> str:
    """One plain sentence on who carries the risk under a rule, and which risk it mostly is.

    The party whose position varies more carries most of the risk; the sentence gives each party's standard
    deviation in an average year in £m and the largest risk of the one that carries it.
    """
    i = attribution.rules.index(rule)
    spreads = attribution.party_spread()[i]
    carrier = int(np.argmax(spreads))
    other = 1 - carrier
    if spreads.max() == 0:
        return f"Under {rule_label} neither party's position moves: every run gives the same money."
    biggest, share = attribution.largest(rule, PARTIES[carrier])
    carrier_text = "the provider" if PARTIES[carrier] == "provider" else "the commissioner"
    other_text = "the commissioner's spend" if PARTIES[other] == "commissioner" else "the provider's surplus"
    what = "surplus" if PARTIES[carrier] == "provider" else "spend"
    if spreads[other] == 0:
        rest = f"{other_text} does not move"
    elif spreads[other] < 50_000:
        rest = f"{other_text} moves by less than £0.1m"
    else:
        rest = f"{other_text} moves by about {millions(spreads[other])}"
    return (
        f"Under {rule_label} {carrier_text} carries most of the risk: its {what} moves by about "
        f"{millions(spreads[carrier])} in a typical year (one standard deviation), "
        f"{100 * share:.0f} % of it from {RISK_LABELS[biggest].lower()}; {rest}."
    )


def millions(value: float, decimals: int = 1) -> str:
    """GBP as £m with one decimal (``£1.2m``, ``-£0.3m``); ``-`` if missing.

    >>> millions(1_234_567), millions(-260_000), millions(40_000, 2)
    ('£1.2m', '-£0.3m', '£0.04m')
    """
    if value is None or not np.isfinite(value):
        return "-"
    text = f"£{abs(value) / 1e6:,.{decimals}f}m"
    return "-" + text if round(value / 1e6, decimals) < 0 else text
