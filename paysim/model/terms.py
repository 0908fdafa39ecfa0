"""Contract and cost terms of a scenario (the ``contracts:`` and ``costs:`` blocks).

These are plain validated data; the payment rules in :mod:`paysim.money.payment` and the cost model in
:mod:`paysim.money.costs` turn them, with an Activity, into money. Every model forbids unknown keys and is frozen.

Units: money in cash GBP of the first contract year (prices and costs are rolled forward by the uplift and
inflation terms); rates and shares as fractions (``0.05`` = 5 %); volumes per year unless said otherwise.

Ranges: every number has both bounds in its ``Field`` and, where a bound is a plausibility choice, the reason
(``json_schema_extra=why(maximum=...)``); money and rates use the shared types of :mod:`paysim.model.limits`
(``AnnualGBP``, ``UnitGBP``, ``BedDayGBP``, ``YearlyChange``, ``Share``, ...), so a new price or growth key gets
its range by its type. See :mod:`paysim.model.limits` for the convention and the reasons.

Currencies (units of activity that can carry a price or a unit cost), per service line:

* ``inpatient``: ``bed_day`` (occupied local bed day), ``oap_bed_day`` (out-of-area bed day the provider
  buys: all of them when it pays for OAPs, its share when ``shared``, none when the commissioner buys them
  directly), ``episode`` (local admission);
* ``talking_therapies``, ``community``, ``crisis``: ``contact`` (caseload days x contacts per week / 7),
  ``course`` (finished course or episode of care; dropouts not counted), ``episode`` (started episode of care).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, Field, create_model, model_validator

from paysim.model.limits import (
    MODEL_CONFIG,
    UNITS_PER_YEAR,
    AnnualGBP,
    BedDayGBP,
    Share,
    UnitGBP,
    Wte,
    YearlyChange,
    why,
)
from paysim.model.lines import REFERRAL_CURRENCIES, SERVICE_LINES, SERVICES, WARD_CURRENCIES, line_models
from paysim.model.lines import REFERRAL_LINES as REFERRAL_LINES  # re-exported: read from the line registry
from paysim.model.plugins import plugin_declarations as plugin_declarations  # re-exported for rule plugins

_Value = TypeVar("_Value", bound=float)
Trajectory = _Value | list[_Value]
"""One value for every contract year, or a list with one per year (the last value repeats); ``Trajectory[T]``
bounds each value as ``T`` does (``Trajectory[YearlyChange]``). A bare ``Trajectory`` is unbounded floats, which
``tests/test_limits_fuzz.py`` refuses."""

UnitsPerYear = Annotated[
    float,
    Field(
        ge=0,
        le=UNITS_PER_YEAR,
        json_schema_extra=why(maximum="100 million a year, about two for every person in England"),
    ),
]
"""Planned units of activity a year (bed days, contacts, courses, episodes)."""

LINE_CURRENCIES = tuple(REFERRAL_CURRENCIES)
"""A referral line's currencies (:data:`paysim.model.lines.REFERRAL_CURRENCIES`)."""
INPATIENT_CURRENCIES = tuple(WARD_CURRENCIES)
"""The ward's currencies (:data:`paysim.model.lines.WARD_CURRENCIES`)."""


class _Terms(BaseModel):
    model_config = MODEL_CONFIG


# --- currencies: prices and unit costs (GBP per unit) and planned volumes (units a year) share one shape ----


class LineCurrencies(_Terms):
    """GBP per unit of each currency of a referral line (a price or a unit cost, as the parent says)."""

    contact: UnitGBP | None = Field(None, description="per contact (caseload days x contacts per week / 7)")
    course: UnitGBP | None = Field(None, description="per finished course / episode of care (dropouts not counted)")
    episode: UnitGBP | None = Field(None, description="per started episode of care")


class InpatientCurrencies(_Terms):
    """GBP per unit of each inpatient currency (a price or a unit cost, as the parent says)."""

    bed_day: BedDayGBP | None = Field(None, description="per occupied local bed day")
    oap_bed_day: BedDayGBP | None = Field(
        None, description="per out-of-area placement bed day the provider pays for (see oap_paid_by)"
    )
    episode: UnitGBP | None = Field(None, description="per local admission")


class LineUnits(_Terms):
    """Planned units a year of each currency of a referral line."""

    contact: UnitsPerYear | None = Field(None, description="contacts a year")
    course: UnitsPerYear | None = Field(None, description="completed courses / episodes of care a year")
    episode: UnitsPerYear | None = Field(None, description="started episodes of care a year")


class InpatientUnits(_Terms):
    """Planned units a year of each inpatient currency."""

    bed_day: UnitsPerYear | None = Field(None, description="occupied local bed days a year")
    oap_bed_day: UnitsPerYear | None = Field(None, description="out-of-area bed days the provider pays for, a year")
    episode: UnitsPerYear | None = Field(None, description="local admissions a year")


class _ByLine(_Terms):
    """Amounts per service line and currency; ``items()`` gives ``{"line.currency": amount}``."""

    def items(self) -> dict[str, float]:
        """Every amount that is set, keyed ``"<line>.<currency>"`` (e.g. ``"inpatient.bed_day"``)."""
        out: dict[str, float] = {}
        for line in SERVICES:
            amounts = getattr(self, line)
            if amounts is None:
                continue
            for currency, value in dict(amounts).items():  # as held: arrays [R, 1] for rows priced at once
                if value is not None:
                    out[f"{line}.{currency}"] = value if isinstance(value, np.ndarray) else float(value)
        return out


def _by_line(name: str, doc: str, referral: type[_Terms], ward: type[_Terms]) -> type[_ByLine]:
    """A :class:`_ByLine` model with a field per service line (:data:`paysim.model.lines.SERVICE_LINES`): the
    ``referral`` model for a referral line, ``ward`` for the ward, after checking each model's keys are the line's
    currencies."""
    for model, currencies in ((referral, LINE_CURRENCIES), (ward, INPATIENT_CURRENCIES)):
        if tuple(model.model_fields) != currencies:
            raise ImportError(
                f"{model.__name__} has keys {tuple(model.model_fields)}, the lines' currencies are {currencies}"
            )
    fields: dict[str, Any] = {
        line.name: ((referral if line.kind == "referral" else ward) | None, None) for line in SERVICE_LINES
    }
    return create_model(name, __base__=_ByLine, __module__=__name__, __doc__=doc, **fields)


Currencies = _by_line(
    "Currencies",
    "GBP per unit, per service line and currency (prices, unit costs).",
    LineCurrencies,
    InpatientCurrencies,
)


PlannedUnits = _by_line(
    "PlannedUnits",
    "Units a year, per service line and currency (a blended contract's fixed baseline).",
    LineUnits,
    InpatientUnits,
)


# --- contract elements shared by rules ---------------------------------------------------------------

INDICATORS: dict[str, Literal["higher", "lower"]] = {
    "talking_therapies.started_within_standard_share": "higher",
    "talking_therapies.started_within_long_standard_share": "higher",
    "community.started_within_standard_share": "higher",
    "crisis.started_within_standard_share": "higher",
    "talking_therapies.recovery_share": "higher",
    "inpatient.oap_bed_days": "lower",
    "inpatient.occupancy_mean": "lower",
}
"""Outcome indicators that can be computed from an Activity, and which direction is better."""

IndicatorName = Literal[
    "talking_therapies.started_within_standard_share",
    "talking_therapies.started_within_long_standard_share",
    "community.started_within_standard_share",
    "crisis.started_within_standard_share",
    "talking_therapies.recovery_share",
    "inpatient.oap_bed_days",
    "inpatient.occupancy_mean",
]


IndicatorLevel = Annotated[
    float,
    Field(
        ge=0,
        le=1e6,
        json_schema_extra=why(maximum="a share is at most 1; England's OAP bed days were about 240,000 a year in 2021"),
    ),
]
"""An indicator's level: a share (0..1) or OAP bed days a year."""


def _as_list(value: Trajectory[float]) -> list[float]:
    return list(value) if isinstance(value, list) else [value]


def _check_indicator(measure: str, target: Trajectory, partial_from: Trajectory | None) -> None:
    """The checks every indicator's target and ``partial_from`` pass (raise ValueError naming the key)."""
    targets = _as_list(target)
    if not targets:
        raise ValueError("target: give a number or a non-empty list, one per contract year")
    if any(t < 0 for t in targets):
        raise ValueError(f"target: must be >= 0, got {target}")
    if measure.endswith("_share") or measure == "inpatient.occupancy_mean":
        if any(t > 1 for t in targets):
            raise ValueError(f"target: {measure} is a share, 0..1; got {target}")
    if partial_from is not None:
        partial = _as_list(partial_from)
        if not partial:
            raise ValueError("partial_from: give a number or a non-empty list, one per contract year")
        n = max(len(targets), len(partial))
        pairs = [(targets[min(i, len(targets) - 1)], partial[min(i, len(partial) - 1)]) for i in range(n)]
        higher = INDICATORS[measure] == "higher"
        bad = [p for t, p in pairs if (p > t if higher else p < t)]
        if bad:
            side = "<=" if higher else ">="
            raise ValueError(
                f"partial_from: for {measure} ({INDICATORS[measure]} is better) it must be "
                f"{side} the target; got partial_from {partial_from}, target {target}"
            )


class Indicator(_Terms):
    """One outcome indicator: full credit at ``target``, none at ``partial_from``, linear in between.

    ``*_started_within_*_share`` indicators are the share of starts within the line's waiting standard (0..1,
    higher is better); ``talking_therapies.recovery_share`` is the share of finished courses that ended in
    recovery (``recovered / completed``, higher is better); ``inpatient.oap_bed_days`` counts OAP bed days per
    contract year against a trajectory (lower is better); ``inpatient.occupancy_mean`` is the share of local
    beds occupied (lower is better).
    """

    measure: IndicatorName = Field(description="what is measured (see INDICATORS)")
    weight: float = Field(
        1.0,
        gt=0,
        le=1000,
        description="relative weight among the indicators (normalised to sum 1)",
        json_schema_extra=why(maximum="1,000 to 1 between indicators; schemes weight 6-15 indicators"),
    )
    target: Trajectory[IndicatorLevel] = Field(
        description="value that earns full credit; a list gives one per contract year (the last repeats); "
        "OAP bed days per year"
    )
    partial_from: Trajectory[IndicatorLevel] | None = Field(
        None,
        description="value that earns no credit, on the worse side of the target; credit is linear in "
        "between; null = all or nothing",
    )

    @model_validator(mode="after")
    def _sensible(self) -> Indicator:
        _check_indicator(self.measure, self.target, self.partial_from)
        return self

    @property
    def higher_is_better(self) -> bool:
        return INDICATORS[self.measure] == "higher"


class Outcomes(_Terms):
    """Outcome-linked payment: a share of the contract value earned by meeting indicators.

    ``withhold``: the share is held back from every monthly payment and released as indicators are met;
    ``bonus``: the share is paid on top as indicators are met. ``in_year`` pays monthly on the indicators
    measured year to date (recommended); ``year_end`` pays once, in the last month of the contract year.
    """

    share: Share = Field(description="share of the year's contract value at stake, e.g. 0.03 (2-4 % advised)")
    mode: Literal["withhold", "bonus"] = Field("withhold", description="withhold | bonus")
    paid: Literal["in_year", "year_end"] = Field("in_year", description="in_year | year_end")
    indicators: list[Indicator] = Field(min_length=1, description="the indicators and their weights")


class Corridor(_Terms):
    """Risk share: the provider's over- or underspend beyond a band is shared with the commissioner.

    Settled once a contract year (in its last month) on the provider's cost less its income before the
    share. All amounts are shares of the year's contract value.
    """

    band: Share = Field(0.0, description="dead band either side of break-even, share of contract value")
    overspend_share: Share = Field(
        description="share of an overspend beyond the band that the commissioner pays to the provider"
    )
    underspend_share: Share = Field(
        description="share of an underspend beyond the band that the provider returns to the commissioner"
    )
    cap: float | None = Field(
        None, ge=0, le=1, description="most the commissioner pays in a year, share of contract value; null = no cap"
    )
    collar: float | None = Field(
        None, ge=0, le=1, description="most the provider returns in a year, share of contract value; null = none"
    )


class Baseline(_Terms):
    """The planned activity a contract's fixed payment is set on (blended and API rules).

    ``expected``: the plan for each contract year and currency is the true expected activity (the mean
    over the simulated replications) times ``1 + error``. ``fixed``: the plan is ``units`` in year 1,
    growing by ``growth`` a year, times ``1 + error``. ``last_year``: year 1 is planned as ``expected``
    (times ``1 + error``); every later year's plan is each replication's own outturn of the year before times
    ``1 + growth``, the ratchet of practice that carries last year's luck and trend into the plan.
    """

    source: Literal["expected", "fixed", "last_year"] = Field("expected", description="expected | fixed | last_year")
    error: float = Field(
        0.0,
        gt=-1,
        le=1,
        description="baseline error: plan = (1 + error) x level; -0.05 = set 5 % too low (last_year: year 1 only)",
    )
    units: PlannedUnits | None = Field(None, description="planned units per year in year 1 (source: fixed)")
    growth: YearlyChange = Field(
        0.0, description="yearly growth of the plan: of the fixed plan (fixed), on last year's outturn (last_year)"
    )

    @model_validator(mode="after")
    def _units_when_fixed(self) -> Baseline:
        if self.source == "fixed" and (self.units is None or not self.units.items()):
            raise ValueError("units: a fixed baseline needs planned units per year for each priced currency")
        return self


def _check_plan(prices: Currencies, baseline: Baseline) -> None:
    """A rule paid on planned activity needs a price, and a fixed plan needs units for every price."""
    priced = prices.items()
    if not priced:
        raise ValueError("prices: give at least one price, e.g. prices: {inpatient: {bed_day: 575}}")
    if baseline.source == "fixed" and baseline.units is not None:
        missing = sorted(set(priced) - set(baseline.units.items()))
        if missing:
            raise ValueError(f"baseline.units: no planned units for priced currencies {missing}")


UPLIFT_DESCRIPTION = (
    "yearly change, net of efficiency; leave out to take contracts.roll_forward's yearly change (0 without one)"
)


# --- the rules ----------------------------------------------------------------------------------------


class BlockTerms(_Terms):
    """Block contract: a fixed annual sum paid in twelfths, rolled forward each year."""

    annual_value: AnnualGBP = Field(description="GBP per year in the first contract year")
    uplift: YearlyChange | None = Field(None, description=f"{UPLIFT_DESCRIPTION} (of the value)")
    rebase: bool = Field(
        False,
        description="from year 2, reset the value to last year's provider cost outturn (then apply uplift)",
    )


class ActivityTerms(_Terms):
    """Activity (cost per case): income = units x unit price, for every priced currency."""

    prices: Currencies = Field(description="GBP per unit in the first contract year")
    uplift: YearlyChange | None = Field(None, description=f"{UPLIFT_DESCRIPTION} (of every price)")

    @model_validator(mode="after")
    def _priced(self) -> ActivityTerms:
        if not self.prices.items():
            raise ValueError("prices: give at least one price, e.g. prices: {inpatient: {bed_day: 575}}")
        return self


class VariableElement(_Terms):
    """Marginal payment for activity away from plan, as a share of the unit price."""

    rate_above: Share = Field(description="share of the unit price paid per unit above plan (beyond the band)")
    rate_below: Share = Field(description="share of the unit price refunded per unit below plan (beyond the band)")
    dead_band: Share = Field(0.0, description="share of plan either side of it in which nothing moves")


class BlendedTerms(_Terms):
    """Blended payment, the 2019/20 design: fixed element on planned activity + variable element + outcomes +
    risk share."""

    prices: Currencies = Field(description="GBP per unit in the first contract year")
    uplift: YearlyChange | None = Field(None, description=f"{UPLIFT_DESCRIPTION} (of every price)")
    baseline: Baseline = Field(Baseline(), description="the planned activity and its error")
    variable: VariableElement = Field(description="marginal rates above and below plan, dead band")
    outcomes: Outcomes | None = Field(None, description="quality and outcome-linked payment")
    corridor: Corridor | None = Field(None, description="risk-share corridor")

    @model_validator(mode="after")
    def _plan_covers_prices(self) -> BlendedTerms:
        _check_plan(self.prices, self.baseline)
        return self


class CapitationTerms(_Terms):
    """Capitation: a rate per weighted head per year for a population, paid in twelfths."""

    population: float = Field(
        gt=0,
        le=60_000_000,
        description="people covered in the first contract year",
        json_schema_extra=why(maximum="England's population, 57 million"),
    )
    need_weight: float = Field(
        1.0,
        gt=0,
        le=10,
        description="weighted-capitation index of need (1 = England average): weighted heads / heads",
        json_schema_extra=why(maximum="ten times England-average need; area indices lie within about 0.6-1.6"),
    )
    rate_per_head: float = Field(
        ge=0,
        le=100_000,
        description="GBP per weighted head per year in the first contract year",
        json_schema_extra=why(maximum="half an adult acute bed for a year (575 x 365 = £210,000) for every head"),
    )
    uplift: YearlyChange | None = Field(None, description=f"{UPLIFT_DESCRIPTION} (of the rate)")
    population_growth: YearlyChange = Field(0.0, description="yearly growth of the population")
    outcomes: Outcomes | None = Field(None, description="outcome-contingent share of the value")
    corridor: Corridor | None = Field(None, description="optional gain/loss share (none: provider keeps all risk)")


CQUIN_MAX_INDICATORS = 5
"""A CQUIN scheme has at most 5 indicators, equally weighted (HFMA, 2022)."""


class CquinIndicator(_Terms):
    """One CQUIN indicator: full credit at ``target``, none at ``partial_from``, linear in between (as an
    outcome :class:`Indicator`, but CQUIN indicators are equally weighted, so there is no ``weight``)."""

    measure: IndicatorName = Field(description="what is measured (see INDICATORS)")
    target: Trajectory[IndicatorLevel] = Field(
        description="value that earns full credit; a list gives one per contract year (the last repeats); "
        "OAP bed days per year"
    )
    partial_from: Trajectory[IndicatorLevel] | None = Field(
        None,
        description="value that earns no credit, on the worse side of the target; credit is linear in "
        "between; null = all or nothing",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_weight(cls, data: Any) -> Any:
        if isinstance(data, dict) and "weight" in data:
            raise ValueError(
                f"weight: CQUIN indicators are equally weighted (at most {CQUIN_MAX_INDICATORS}); remove weight"
            )
        return data

    @model_validator(mode="after")
    def _sensible(self) -> CquinIndicator:
        _check_indicator(self.measure, self.target, self.partial_from)
        return self

    @property
    def higher_is_better(self) -> bool:
        return INDICATORS[self.measure] == "higher"


class CQUIN(_Terms):
    """Commissioning for Quality and Innovation under API: ``share`` of the fixed payment, paid in advance in
    twelfths and clawed back at year end for under-achievement (HFMA, Jan and Mar 2022)."""

    share: Share = Field(0.0125, description="share of the fixed payment, 0.0125 = 1.25 % (HFMA 2022)")
    indicators: list[CquinIndicator] = Field(description=f"1 to {CQUIN_MAX_INDICATORS} indicators, equally weighted")

    @model_validator(mode="after")
    def _how_many(self) -> CQUIN:
        n = len(self.indicators)
        if not 1 <= n <= CQUIN_MAX_INDICATORS:
            raise ValueError(
                f"indicators: a CQUIN scheme has 1 to {CQUIN_MAX_INDICATORS} indicators, equally weighted; got {n}"
            )
        return self


class ApiTerms(_Terms):
    """Aligned payment and incentive (API), the regime for mental health since 2022/23: a fixed payment on
    planned activity and cost, an optional CQUIN and an optional local variable element."""

    prices: Currencies = Field(description="GBP per unit in the first contract year (the plan is costed at these)")
    uplift: YearlyChange | None = Field(None, description=f"{UPLIFT_DESCRIPTION} (of every price)")
    baseline: Baseline = Field(Baseline(), description="the planned activity and its error")
    cquin: CQUIN | None = Field(None, description="CQUIN: a share of the fixed payment paid in advance, clawed back")
    variable: VariableElement | None = Field(
        None, description="local variable element on activity away from plan (none nationally for mental health)"
    )

    @model_validator(mode="after")
    def _plan_covers_prices(self) -> ApiTerms:
        _check_plan(self.prices, self.baseline)
        return self


class RollForward(_Terms):
    """How every contract value and price moves from one year to the next (NHS Payment Scheme).

    Yearly change = ``cost_uplift - efficiency + growth + pay_award_funded x pay_share x max(pay_inflation -
    pay_in_cost_uplift, 0)``, with ``pay_inflation`` the pay award actually paid (``costs.pay_inflation``).
    A rule that gives its own ``uplift`` keeps it.
    """

    cost_uplift: YearlyChange = Field(description="cost uplift factor, e.g. 0.029 (NHS Payment Scheme 2023/24)")
    pay_in_cost_uplift: YearlyChange = Field(0.0, description="the pay rise the cost uplift factor assumed, e.g. 0.021")
    efficiency: Share = Field(0.0, description="efficiency factor, e.g. 0.011 (NHS Payment Scheme 2023/24)")
    pay_award_funded: Share = Field(
        0.0, description="share of the pay award above pay_in_cost_uplift that commissioners fund, 0..1"
    )
    pay_share: Share | None = Field(
        None, description="share of the contract value that pays for staff (needed when pay_award_funded > 0)"
    )
    growth: YearlyChange = Field(0.0, description="agreed growth (activity or investment) per year")

    @model_validator(mode="after")
    def _pay_share_when_funded(self) -> RollForward:
        if self.cost_uplift - self.efficiency + self.growth <= -1:
            raise ValueError(
                "efficiency: cost_uplift - efficiency + growth must be > -1 (a value cannot fall below zero), got "
                f"{self.cost_uplift} - {self.efficiency} + {self.growth}"
            )
        if self.pay_award_funded > 0 and self.pay_share is None:
            raise ValueError(
                "pay_share: give the share of the contract value that pays for staff (e.g. 0.7) when "
                "pay_award_funded > 0"
            )
        return self


def _check_trajectory(name: str, value: Trajectory) -> None:
    """A trajectory is one number or a non-empty list (each value is bounded by its type)."""
    if not _as_list(value):
        raise ValueError(f"{name}: give a number or a non-empty list, one per year")


class OtherSpend(_Terms):
    """The ICB's qualifying mental-health spend outside this provider in the year before the horizon, GBP."""

    other_providers: AnnualGBP = Field(0.0, description="other NHS mental-health providers")
    independent_sector: AnnualGBP = Field(
        0.0,
        description="independent sector; OAPs the commissioner buys directly from the simulation are counted "
        "already, not here",
    )
    voluntary_sector: AnnualGBP = Field(0.0, description="voluntary and community sector")
    prescribing: AnnualGBP = Field(0.0, description="mental-health prescribing")
    continuing_healthcare: AnnualGBP = Field(0.0, description="mental-health continuing healthcare")

    @property
    def total(self) -> float:
        """All of it, GBP."""
        return (
            self.other_providers
            + self.independent_sector
            + self.voluntary_sector
            + self.prescribing
            + self.continuing_healthcare
        )


class MHIS(_Terms):
    """Mental Health Investment Standard, the ICB's test: its qualifying mental-health spend must grow at least
    as fast as its programme allocation plus a mental-health increment.

    Qualifying spend = ``(1 - excluded_share)`` x the commissioner's spend with and for this provider (OAPs
    it buys directly included) + the ICB's other qualifying spend, grown by ``other_spend_growth`` a year.
    """

    allocation_growth: Trajectory[YearlyChange] = Field(
        description="yearly growth of the commissioner's programme allocation; a list gives one per year"
    )
    mental_health_increment: Trajectory[YearlyChange] = Field(
        0.0, description="added to the allocation growth for the required growth; a list gives one per year"
    )
    prior_year_spend: AnnualGBP | None = Field(
        None,
        description="qualifying spend with this provider in the year before the horizon (after exclusions), GBP; "
        "null = year 1 is not assessed",
    )
    excluded_share: Share = Field(
        0.0,
        description="share of the spend with this provider that does not qualify (learning disability, autism, "
        "dementia, specialised commissioning)",
    )
    other_spend: OtherSpend = Field(
        OtherSpend(), description="the ICB's qualifying mental-health spend elsewhere in the prior year, GBP"
    )
    other_spend_growth: Trajectory[YearlyChange] = Field(
        0.0, description="yearly growth of that other spend; a list gives one per year"
    )

    @model_validator(mode="after")
    def _growths(self) -> MHIS:
        _check_trajectory("allocation_growth", self.allocation_growth)
        _check_trajectory("mental_health_increment", self.mental_health_increment)
        _check_trajectory("other_spend_growth", self.other_spend_growth)
        return self


@dataclass(frozen=True)
class ContractRule:
    """A payment rule's contract side, declared once: its key under ``contracts:`` and the model of its terms.

    Its module of money (``RULE``, a :class:`paysim.money.payment.rule.PaymentRule` of the same name) pays it; the
    two are the whole rule. Whether it is paid at prices (its terms have ``prices``) or on planned activity (a
    ``baseline``) is read from its terms, not declared again.

    Attributes
    ----------
    name : str
        The key under ``contracts:`` (``block``).
    terms : type
        The pydantic model of its terms (``extra="forbid"``, frozen, every key with a description and range).
    description : str, optional
        What ``contracts.<name>`` is, in the scenario's JSON Schema.
    design_terms : tuple of str
        Numeric terms, dotted under ``contracts.<name>``, that ``paysim design`` can set to meet a goal (the ones a
        contract is usually negotiated on), in the order suggested.
    """

    name: str
    terms: type[BaseModel]
    description: str | None = None
    design_terms: tuple[str, ...] = ()

    @property
    def priced(self) -> bool:
        """Whether it pays per unit at prices (its terms have ``prices``)."""
        return "prices" in self.terms.model_fields

    @property
    def planned(self) -> bool:
        """Whether it pays on planned activity (its terms have a ``baseline``)."""
        return "baseline" in self.terms.model_fields


CONTRACT_RULES_GROUP = "paysim.contract_terms"
"""Entry-point group of payment rules declared outside paysim (a plugin's :class:`ContractRule`, see README
*Extending paysim*)."""


CONTRACT_RULES: tuple[ContractRule, ...] = (
    ContractRule("block", BlockTerms, design_terms=("annual_value",)),
    ContractRule("activity", ActivityTerms),
    ContractRule("blended", BlendedTerms, design_terms=("variable.rate_above", "variable.rate_below")),
    ContractRule("capitation", CapitationTerms, design_terms=("rate_per_head",)),
    ContractRule(
        "api",
        ApiTerms,
        "aligned payment and incentive (in force since 2022/23)",
        design_terms=("baseline.error", "variable.rate_above", "variable.rate_below"),
    ),
    *plugin_declarations(CONTRACT_RULES_GROUP, ContractRule),
)
"""Every payment rule's contract side, in reporting order (paysim's, then installed plugins' by name)."""

RULES = tuple(rule.name for rule in CONTRACT_RULES)
"""Payment rule names, in reporting order (``blended`` is the 2019/20 design; ``api``, aligned payment and
incentive, the regime in force for mental health since 2022/23)."""
if len(set(RULES)) != len(RULES):
    raise ImportError(f"payment rules declared twice: {', '.join(sorted(n for n in RULES if RULES.count(n) > 1))}")

PLANNED_RULES = tuple(rule.name for rule in CONTRACT_RULES if rule.planned)
"""Rules paid on planned activity (a :class:`Baseline`)."""

PRICED_RULES = tuple(rule.name for rule in CONTRACT_RULES if rule.priced)
"""Rules paid per unit of activity at prices (their ``uplift`` moves prices; volume pays for growth)."""


def contract_rule(name: str) -> ContractRule:
    """The rule of that name; a ValueError naming the rules for any other."""
    for rule in CONTRACT_RULES:
        if rule.name == name:
            return rule
    raise ValueError(f"unknown payment rule {name!r}; the rules are {', '.join(RULES)}")


class _Contracts(_Terms):
    """The payment rules a scenario runs; every rule present is applied to the same Activity.

    Its fields: who pays for out-of-area placements, then one per rule of :data:`CONTRACT_RULES` (made by
    :data:`Contracts`), then ``roll_forward`` and ``mhis``.
    """

    oap_paid_by: Literal["provider", "commissioner", "shared"] = Field(
        "provider", description="who pays for out-of-area placement bed days: provider | commissioner | shared"
    )
    oap_provider_share: Share = Field(
        0.5, description="share of OAP spend the provider pays when oap_paid_by is shared"
    )

    @property
    def rules(self) -> list[str]:
        """Names of the rules present, in reporting order."""
        return [rule for rule in RULES if getattr(self, rule) is not None]

    @property
    def provider_oap_share(self) -> float:
        """Share of OAP spend that falls on the provider (1, 0 or ``oap_provider_share``)."""
        return {"provider": 1.0, "commissioner": 0.0}.get(self.oap_paid_by, self.oap_provider_share)


Contracts = create_model(
    "Contracts",
    __base__=_Contracts,
    __module__=__name__,
    __doc__="The payment rules a scenario runs; every rule present is applied to the same Activity.",
    **{rule.name: (rule.terms | None, Field(None, description=rule.description)) for rule in CONTRACT_RULES},
    roll_forward=(
        RollForward | None,
        Field(None, description="how contract values and prices move each year (for rules that leave out uplift)"),
    ),
    mhis=(MHIS | None, Field(None, description="Mental Health Investment Standard check")),
)
"""The ``contracts:`` block: a field per rule of :data:`CONTRACT_RULES` (``contracts.block``, ...), so a rule is
declared once, with its terms."""


# --- costs --------------------------------------------------------------------------------------------


COST_PER_WTE = 1_000_000
COST_PER_WTE_WHY = "ten times a band 6 nurse with overheads (£98,800); a consultant costs about a quarter of it"


class StaffGroup(_Terms):
    """A line's clinical staff: funded WTE, their cost, vacancies and agency cover."""

    wte: Wte = Field(description="funded whole-time-equivalent staff")
    cost_per_wte: float = Field(
        ge=0,
        le=COST_PER_WTE,
        description="GBP per substantive WTE per year, with on-costs (year-1 pay)",
        json_schema_extra=why(maximum=COST_PER_WTE_WHY),
    )
    vacancy_rate: Share = Field(0.0, description="share of funded WTE vacant, 0..1")
    agency_cover: Share = Field(0.0, description="share of vacancies filled by agency staff, 0..1")
    agency_premium: float = Field(
        0.5,
        ge=0,
        le=5,
        description="extra cost of an agency WTE over a substantive one (0.5 = 1.5 x)",
        json_schema_extra=why(maximum="agency staff at six times substantive pay"),
    )


class CommunityStaff(_Terms):
    """Community team pay; WTE, vacancies and agency cover come from services.community.capacity."""

    cost_per_wte: float = Field(
        ge=0,
        le=COST_PER_WTE,
        description="GBP per substantive WTE per year, with on-costs (year-1 pay)",
        json_schema_extra=why(maximum=COST_PER_WTE_WHY),
    )
    agency_premium: float = Field(
        0.5,
        ge=0,
        le=5,
        description="extra cost of an agency WTE over a substantive one (0.5 = 1.5 x)",
        json_schema_extra=why(maximum="agency staff at six times substantive pay"),
    )


BUILT_IN_STAFF: dict[str, type[_Terms]] = {
    "talking_therapies": StaffGroup,
    "community": CommunityStaff,
    "crisis": StaffGroup,
    "inpatient": StaffGroup,
}
"""The staff models of paysim's own lines; a line from a plugin names its own (:attr:`ServiceLine.staff`)."""

STAFF_MODELS: dict[str, type[BaseModel]] = line_models("staff", BUILT_IN_STAFF)
"""Every line's ``costs.staff.<line>`` model, by line name: with ``wte`` the line's own staff, without it the WTE,
vacancies and agency cover of ``services.<line>.capacity`` (:func:`paysim.money.costs.cost_of_activity`)."""

Staff = create_model(
    "Staff",
    __base__=_Terms,
    __module__=__name__,
    __doc__="Staff costed per line (a line left out has no staff cost).",
    **{name: (model | None, None) for name, model in STAFF_MODELS.items()},  # type: ignore[arg-type]
)
"""``costs.staff``: a block per service line (:data:`STAFF_MODELS`)."""


class Beds(_Terms):
    """Costs of adult acute beds, local and out of area."""

    fixed_per_bed_per_year: float = Field(
        0.0,
        ge=0,
        le=1_000_000,
        description="GBP per local bed per year that does not vary with occupancy (ward staff, estate)",
        json_schema_extra=why(maximum="five times a bed's whole cost for a year (575 x 365 = £210,000)"),
    )
    per_occupied_bed_day: BedDayGBP = Field(0.0, description="GBP per occupied local bed day (variable cost)")
    oap_per_bed_day: BedDayGBP = Field(0.0, description="GBP per out-of-area placement bed day (price paid)")


class _UnitCosts(_Terms):
    def items(self) -> dict[str, float]:
        """``{"<line>.<currency>": GBP per unit}`` for every unit cost that is set."""
        return Currencies.model_construct(**dict(self)).items()  # the same line models, validated already


UnitCosts = create_model(
    "UnitCosts",
    __base__=_UnitCosts,
    __module__=__name__,
    __doc__="Referral lines costed per unit (GBP per unit in year 1), on top of or instead of staff.",
    **{name: (LineCurrencies | None, None) for name in REFERRAL_LINES},  # type: ignore[arg-type]
)
"""``costs.unit_costs``: a block per referral line."""


ContactsPerWeek = Annotated[
    float,
    Field(ge=0, le=50, json_schema_extra=why(maximum="seven contacts a day; home treatment gives several a week")),
]
"""Contacts per person in treatment per week."""


ContactRates = create_model(
    "ContactRates",
    __base__=_Terms,
    __module__=__name__,
    __doc__="Contacts per person in treatment per week, by line: turns caseloads into contacts.",
    **{  # type: ignore[arg-type]
        line.name: (
            ContactsPerWeek,
            Field(line.contacts_per_week, description="contacts per person in treatment per week"),
        )
        for line in SERVICE_LINES
        if line.kind == "referral"
    },
)
"""``costs.contacts_per_week``: a rate per referral line, its default the line's
(:attr:`paysim.model.lines.ServiceLine.contacts_per_week`)."""


class Overheads(_Terms):
    """Corporate overheads: a fixed sum and a share of direct costs."""

    per_year: AnnualGBP = Field(0.0, description="GBP per year in year 1")
    share_of_direct: float = Field(0.0, ge=0, le=1, description="added on top of direct costs, e.g. 0.1")


class CostImprovement(_Terms):
    """The provider's cost-improvement programme (CIP), how it meets the efficiency factor.

    Net cost factor in contract year ``y`` (0 = first), on the costs the provider controls (everything but
    OAP bed days bought from other providers): ``f_y = (1 - p d) x prod_{j<y} (1 - p d r)`` with ``p`` the
    planned share, ``d`` the delivered share and ``r`` the recurrent share.
    """

    planned_share: Share = Field(
        description="share of the year's cost base the programme plans to save, e.g. 0.011 (cf. efficiency factor)"
    )
    delivered_share: Share = Field(1.0, description="share of the plan delivered, 0..1")
    recurrent_share: Share = Field(1.0, description="share of what is delivered that recurs in every later year")


class Costs(_Terms):
    """What the provider spends: staff, beds, OAP bed days, unit costs, overheads, with yearly inflation.

    Pay inflation applies to staff and fixed ward costs; price inflation to variable bed-day costs, OAP
    bed days, unit costs and fixed overheads. Both step up every April (financial years run April-March).
    A cost-improvement programme (``cip``) reduces every part but OAP bed days.
    """

    pay_inflation: YearlyChange = Field(
        0.0, description="yearly pay rise actually paid (the pay award), from each April"
    )
    price_inflation: YearlyChange = Field(0.0, description="yearly non-pay price rise, from each April")
    contacts_per_week: ContactRates = Field(ContactRates(), description="contacts per person per week in treatment")
    staff: Staff = Field(Staff(), description="staff costs per line")
    beds: Beds = Field(Beds(), description="local and out-of-area bed costs")
    unit_costs: UnitCosts = Field(UnitCosts(), description="GBP per unit for lines costed per unit")
    overheads: Overheads = Field(Overheads(), description="corporate overheads")
    cip: CostImprovement | None = Field(None, description="cost-improvement programme (none: no savings)")
