"""Contract and cost terms of a scenario (the ``contracts:`` and ``costs:`` blocks).

These are plain validated data; the payment rules in :mod:`paysim.payment` and the cost model in
:mod:`paysim.costs` turn them, with an Activity, into money. Every model forbids unknown keys and is frozen.

Units: money in cash GBP of the first contract year (prices and costs are rolled forward by the uplift and
inflation terms); rates and shares as fractions (``0.05`` = 5 %); volumes per year unless said otherwise.

Currencies (units of activity that can carry a price or a unit cost), per service line:

* ``inpatient``: ``bed_day`` (occupied local bed day), ``oap_bed_day`` (out-of-area bed day the provider
  buys: all of them when it pays for OAPs, its share when ``shared``, none when the commissioner buys them
  directly), ``episode`` (local admission);
* ``talking_therapies``, ``community``, ``crisis``: ``contact`` (caseload days x contacts per week / 7),
  ``course`` (finished course or episode of care; dropouts not counted), ``episode`` (started episode of care).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Share = Annotated[float, Field(ge=0, le=1)]
YearlyChange = Annotated[float, Field(gt=-1, le=1)]
Trajectory = float | list[float]
"""One value for every contract year, or a list with one per year (the last value repeats)."""

REFERRAL_LINES = ("talking_therapies", "community", "crisis")
LINE_CURRENCIES = ("contact", "course", "episode")
INPATIENT_CURRENCIES = ("bed_day", "oap_bed_day", "episode")


class _Terms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- currencies: prices, unit costs and planned volumes share one shape ------------------------------


class LineCurrencies(_Terms):
    """Amounts per currency of a referral line (GBP per unit, or units per year, as the parent says)."""

    contact: float | None = Field(None, ge=0, description="per contact (caseload days x contacts per week / 7)")
    course: float | None = Field(None, ge=0, description="per finished course / episode of care (dropouts not counted)")
    episode: float | None = Field(None, ge=0, description="per started episode of care")


class InpatientCurrencies(_Terms):
    """Amounts per inpatient currency (GBP per unit, or units per year, as the parent says)."""

    bed_day: float | None = Field(None, ge=0, description="per occupied local bed day")
    oap_bed_day: float | None = Field(
        None, ge=0, description="per out-of-area placement bed day the provider pays for (see oap_paid_by)"
    )
    episode: float | None = Field(None, ge=0, description="per local admission")


class Currencies(_Terms):
    """Amounts per service line and currency; ``items()`` gives ``{"line.currency": amount}``."""

    talking_therapies: LineCurrencies | None = None
    community: LineCurrencies | None = None
    crisis: LineCurrencies | None = None
    inpatient: InpatientCurrencies | None = None

    def items(self) -> dict[str, float]:
        """Every amount that is set, keyed ``"<line>.<currency>"`` (e.g. ``"inpatient.bed_day"``)."""
        out: dict[str, float] = {}
        for line in (*REFERRAL_LINES, "inpatient"):
            amounts = getattr(self, line)
            if amounts is None:
                continue
            for currency, value in amounts.model_dump().items():
                if value is not None:
                    out[f"{line}.{currency}"] = float(value)
        return out


# --- contract elements shared by rules ---------------------------------------------------------------

INDICATORS: dict[str, Literal["higher", "lower"]] = {
    "talking_therapies.started_within_standard_share": "higher",
    "talking_therapies.started_within_long_standard_share": "higher",
    "community.started_within_standard_share": "higher",
    "crisis.started_within_standard_share": "higher",
    "inpatient.oap_bed_days": "lower",
    "inpatient.occupancy_mean": "lower",
}
"""Outcome indicators that can be computed from an Activity, and which direction is better."""

IndicatorName = Literal[
    "talking_therapies.started_within_standard_share",
    "talking_therapies.started_within_long_standard_share",
    "community.started_within_standard_share",
    "crisis.started_within_standard_share",
    "inpatient.oap_bed_days",
    "inpatient.occupancy_mean",
]


def _as_list(value: Trajectory) -> list[float]:
    return list(value) if isinstance(value, list) else [value]


class Indicator(_Terms):
    """One outcome indicator: full credit at ``target``, none at ``partial_from``, linear in between.

    ``*_share`` indicators are the share of starts within the line's waiting standard (0..1, higher is
    better); ``inpatient.oap_bed_days`` counts OAP bed days per contract year against a trajectory (lower is
    better); ``inpatient.occupancy_mean`` is the share of local beds occupied (lower is better).
    """

    measure: IndicatorName = Field(description="what is measured (see INDICATORS)")
    weight: float = Field(1.0, gt=0, description="relative weight among the indicators (normalised to sum 1)")
    target: Trajectory = Field(
        description="value that earns full credit; a list gives one per contract year (the last repeats); "
        "OAP bed days per year"
    )
    partial_from: Trajectory | None = Field(
        None,
        description="value that earns no credit, on the worse side of the target; credit is linear in "
        "between; null = all or nothing",
    )

    @model_validator(mode="after")
    def _sensible(self) -> Indicator:
        targets = _as_list(self.target)
        if not targets:
            raise ValueError("target: give a number or a non-empty list, one per contract year")
        if any(t < 0 for t in targets):
            raise ValueError(f"target: must be >= 0, got {self.target}")
        if self.measure.endswith("_share") or self.measure == "inpatient.occupancy_mean":
            if any(t > 1 for t in targets):
                raise ValueError(f"target: {self.measure} is a share, 0..1; got {self.target}")
        if self.partial_from is not None:
            partial = _as_list(self.partial_from)
            if not partial:
                raise ValueError("partial_from: give a number or a non-empty list, one per contract year")
            n = max(len(targets), len(partial))
            pairs = [(targets[min(i, len(targets) - 1)], partial[min(i, len(partial) - 1)]) for i in range(n)]
            higher = INDICATORS[self.measure] == "higher"
            bad = [p for t, p in pairs if (p > t if higher else p < t)]
            if bad:
                side = "<=" if higher else ">="
                raise ValueError(
                    f"partial_from: for {self.measure} ({INDICATORS[self.measure]} is better) it must be "
                    f"{side} the target; got partial_from {self.partial_from}, target {self.target}"
                )
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
    """The planned activity a blended contract is set on.

    ``expected``: the plan for each contract year and currency is the true expected activity (the mean
    over the simulated replications) times ``1 + error``. ``fixed``: the plan is ``units`` in year 1,
    growing by ``growth`` a year, times ``1 + error``.
    """

    source: Literal["expected", "fixed"] = Field("expected", description="expected | fixed")
    error: float = Field(
        0.0, gt=-1, le=1, description="baseline error: plan = (1 + error) x level; -0.05 = set 5 % too low"
    )
    units: Currencies | None = Field(None, description="planned units per year in year 1 (source: fixed)")
    growth: YearlyChange = Field(0.0, description="yearly growth of the fixed plan (source: fixed)")

    @model_validator(mode="after")
    def _units_when_fixed(self) -> Baseline:
        if self.source == "fixed" and (self.units is None or not self.units.items()):
            raise ValueError("units: a fixed baseline needs planned units per year for each priced currency")
        return self


# --- the four rules -----------------------------------------------------------------------------------


class BlockTerms(_Terms):
    """Block contract: a fixed annual sum paid in twelfths, rolled forward each year."""

    annual_value: float = Field(ge=0, description="GBP per year in the first contract year")
    uplift: YearlyChange = Field(0.0, description="yearly change of the value, net of efficiency")
    rebase: bool = Field(
        False,
        description="from year 2, reset the value to last year's provider cost outturn (then apply uplift)",
    )


class ActivityTerms(_Terms):
    """Activity (cost per case): income = units x unit price, for every priced currency."""

    prices: Currencies = Field(description="GBP per unit in the first contract year")
    uplift: YearlyChange = Field(0.0, description="yearly change of every price, net of efficiency")

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
    """Blended payment: fixed element on planned activity + variable element + outcomes + risk share."""

    prices: Currencies = Field(description="GBP per unit in the first contract year")
    uplift: YearlyChange = Field(0.0, description="yearly change of every price, net of efficiency")
    baseline: Baseline = Field(Baseline(), description="the planned activity and its error")
    variable: VariableElement = Field(description="marginal rates above and below plan, dead band")
    outcomes: Outcomes | None = Field(None, description="quality and outcome-linked payment")
    corridor: Corridor | None = Field(None, description="risk-share corridor")

    @model_validator(mode="after")
    def _plan_covers_prices(self) -> BlendedTerms:
        priced = self.prices.items()
        if not priced:
            raise ValueError("prices: give at least one price, e.g. prices: {inpatient: {bed_day: 575}}")
        if self.baseline.source == "fixed" and self.baseline.units is not None:
            missing = sorted(set(priced) - set(self.baseline.units.items()))
            if missing:
                raise ValueError(f"baseline.units: no planned units for priced currencies {missing}")
        return self


class CapitationTerms(_Terms):
    """Capitation: a rate per weighted head per year for a population, paid in twelfths."""

    population: float = Field(gt=0, description="people covered in the first contract year")
    need_weight: float = Field(
        1.0, gt=0, description="weighted-capitation index of need (1 = England average): weighted heads / heads"
    )
    rate_per_head: float = Field(ge=0, description="GBP per weighted head per year in the first contract year")
    uplift: YearlyChange = Field(0.0, description="yearly change of the rate, net of efficiency")
    population_growth: YearlyChange = Field(0.0, description="yearly growth of the population")
    outcomes: Outcomes | None = Field(None, description="outcome-contingent share of the value")
    corridor: Corridor | None = Field(None, description="optional gain/loss share (none: provider keeps all risk)")


class MHIS(_Terms):
    """Mental Health Investment Standard: qualifying spend must grow at least as fast as the allocation."""

    allocation_growth: Trajectory = Field(
        description="yearly growth of the commissioner's programme allocation; a list gives one per year"
    )
    prior_year_spend: float | None = Field(
        None,
        ge=0,
        description="qualifying spend with this provider in the year before the horizon, GBP; null = year 1 "
        "is not assessed",
    )

    @model_validator(mode="after")
    def _growths(self) -> MHIS:
        growth = _as_list(self.allocation_growth)
        if not growth or any(g <= -1 or g > 1 for g in growth):
            raise ValueError(f"allocation_growth: each must be > -1 and <= 1, got {self.allocation_growth}")
        return self


RULES = ("block", "activity", "blended", "capitation")
"""Payment rule names, in reporting order."""


class Contracts(_Terms):
    """The payment rules a scenario runs; every rule present is applied to the same Activity."""

    oap_paid_by: Literal["provider", "commissioner", "shared"] = Field(
        "provider", description="who pays for out-of-area placement bed days: provider | commissioner | shared"
    )
    oap_provider_share: Share = Field(
        0.5, description="share of OAP spend the provider pays when oap_paid_by is shared"
    )
    block: BlockTerms | None = None
    activity: ActivityTerms | None = None
    blended: BlendedTerms | None = None
    capitation: CapitationTerms | None = None
    mhis: MHIS | None = Field(None, description="Mental Health Investment Standard check")

    @property
    def rules(self) -> list[str]:
        """Names of the rules present, in reporting order."""
        return [rule for rule in RULES if getattr(self, rule) is not None]

    @property
    def provider_oap_share(self) -> float:
        """Share of OAP spend that falls on the provider (1, 0 or ``oap_provider_share``)."""
        return {"provider": 1.0, "commissioner": 0.0}.get(self.oap_paid_by, self.oap_provider_share)


# --- costs --------------------------------------------------------------------------------------------


class StaffGroup(_Terms):
    """A line's clinical staff: funded WTE, their cost, vacancies and agency cover."""

    wte: float = Field(ge=0, description="funded whole-time-equivalent staff")
    cost_per_wte: float = Field(ge=0, description="GBP per substantive WTE per year, with on-costs (year-1 pay)")
    vacancy_rate: Share = Field(0.0, description="share of funded WTE vacant, 0..1")
    agency_cover: Share = Field(0.0, description="share of vacancies filled by agency staff, 0..1")
    agency_premium: float = Field(
        0.5, ge=0, le=5, description="extra cost of an agency WTE over a substantive one (0.5 = 1.5 x)"
    )


class CommunityStaff(_Terms):
    """Community team pay; WTE, vacancies and agency cover come from services.community.capacity."""

    cost_per_wte: float = Field(ge=0, description="GBP per substantive WTE per year, with on-costs (year-1 pay)")
    agency_premium: float = Field(
        0.5, ge=0, le=5, description="extra cost of an agency WTE over a substantive one (0.5 = 1.5 x)"
    )


class Staff(_Terms):
    """Staff costed per line (a line left out has no staff cost)."""

    talking_therapies: StaffGroup | None = None
    community: CommunityStaff | None = None
    crisis: StaffGroup | None = None
    inpatient: StaffGroup | None = None


class Beds(_Terms):
    """Costs of adult acute beds, local and out of area."""

    fixed_per_bed_per_year: float = Field(
        0.0, ge=0, description="GBP per local bed per year that does not vary with occupancy (ward staff, estate)"
    )
    per_occupied_bed_day: float = Field(0.0, ge=0, description="GBP per occupied local bed day (variable cost)")
    oap_per_bed_day: float = Field(0.0, ge=0, description="GBP per out-of-area placement bed day (price paid)")


class UnitCosts(_Terms):
    """Referral lines costed per unit (GBP per unit in year 1), on top of or instead of staff."""

    talking_therapies: LineCurrencies | None = None
    community: LineCurrencies | None = None
    crisis: LineCurrencies | None = None

    def items(self) -> dict[str, float]:
        """``{"<line>.<currency>": GBP per unit}`` for every unit cost that is set."""
        return Currencies(**self.model_dump()).items()


class ContactRates(_Terms):
    """Contacts per person in treatment per week, by line: turns caseloads into contacts."""

    talking_therapies: float = Field(1.0, ge=0, description="contacts per person in treatment per week")
    community: float = Field(0.5, ge=0, description="contacts per person in treatment per week")
    crisis: float = Field(3.0, ge=0, description="contacts per person in treatment per week")


class Overheads(_Terms):
    """Corporate overheads: a fixed sum and a share of direct costs."""

    per_year: float = Field(0.0, ge=0, description="GBP per year in year 1")
    share_of_direct: float = Field(0.0, ge=0, le=1, description="added on top of direct costs, e.g. 0.1")


class Costs(_Terms):
    """What the provider spends: staff, beds, OAP bed days, unit costs, overheads, with yearly inflation.

    Pay inflation applies to staff and fixed ward costs; price inflation to variable bed-day costs, OAP
    bed days, unit costs and fixed overheads. Both step up every April (financial years run April-March).
    """

    pay_inflation: YearlyChange = Field(0.0, description="yearly pay rise, from each April")
    price_inflation: YearlyChange = Field(0.0, description="yearly non-pay price rise, from each April")
    contacts_per_week: ContactRates = Field(ContactRates(), description="contacts per person per week in treatment")
    staff: Staff = Field(Staff(), description="staff costs per line")
    beds: Beds = Field(Beds(), description="local and out-of-area bed costs")
    unit_costs: UnitCosts = Field(UnitCosts(), description="GBP per unit for lines costed per unit")
    overheads: Overheads = Field(Overheads(), description="corporate overheads")
