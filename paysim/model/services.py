"""The service lines of a scenario: each line's section under ``services:`` (demand, capacity, length of stay) and
:class:`Services`, which holds them. Loading a scenario file is :mod:`paysim.model.scenario`'s, which re-exports
every name here.

Time conventions (days; contract years of 365 days from the horizon's start) are those of
:mod:`paysim.model.scenario`.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, Field, create_model, model_validator

from paysim.model.distributions import Duration
from paysim.model.limits import (
    LONGEST_DAYS,
    MODEL_CONFIG,
    TEN_YEARS,
    Days,
    Share,
    Wte,
    YearlyChange,
    why,
)
from paysim.model.lines import REFERRAL_LINES, SERVICES, line_models, service_line

LINES = REFERRAL_LINES
"""Referral-based service lines, in the order they are reported (:data:`paysim.model.lines.REFERRAL_LINES`)."""


class _Model(BaseModel):
    model_config = MODEL_CONFIG


REFERRALS_PER_YEAR = 2_000_000
"""Most referrals a year on one line: above England's talking therapies referrals (1.83m in 2023/24), the largest
line nationally."""


class Seasonality(_Model):
    """Seasonal swing of demand: rate x (1 + amplitude x cos(2 pi (day - peak) / 365))."""

    amplitude: Share = Field(0.0, description="relative swing around the mean rate; 0 = flat")
    peak_month: int = Field(1, ge=1, le=12, description="calendar month of the peak (1 = January)")


class _Demand(_Model):
    growth: YearlyChange = Field(0.0, description="yearly growth of demand, e.g. 0.03")
    seasonality: Seasonality = Seasonality()


class ReferralLine(_Demand):
    """A community-based line: referrals wait FIFO for a free place, then have an episode of care."""

    referrals_per_year: float = Field(
        ge=0,
        le=REFERRALS_PER_YEAR,
        description="referrals per year at the start of the horizon",
        json_schema_extra=why(maximum="England's talking therapies referrals are 1.83m a year, the most of any line"),
    )
    episode_days: Duration
    standard_days: Days = Field(description="waiting standard, days from referral to start")
    patience_days: Days | None = Field(
        None,
        description="mean time (days, exponential) a person waits before leaving the list; null = never",
    )


class TreatmentLine(ReferralLine):
    """A line whose referrals are assessed before they join the list, whose first appointment may come some
    days after a place is allocated, and whose starters may leave early (talking therapies, community; not
    crisis, whose gatekeeping is its own). Step-downs from a ward into community are always treated, have their
    first appointment at once and never drop out."""

    treated_share: Share = Field(
        1.0,
        description="share of referrals that, after assessment, join the waiting list for treatment; the "
        "rest are assessed and not treated (signposted, declined), 0..1",
    )
    dropout_share: Share = Field(
        0.0,
        description="share of people starting treatment who leave before finishing; a dropout holds its place "
        "for a uniform fraction of its episode, 0..1",
    )
    first_appointment_days: Duration | None = Field(
        None,
        description="days from a place being allocated to the first treatment appointment (the place is held "
        "meanwhile); waits against the standards run to the first appointment; null = at once",
    )


YEAR_DAYS = 365
"""Days in a year of the model: contract year ``y`` (0 = first) is ``[365 y, 365 (y + 1))`` of the horizon, the
warm-up belonging to year 0."""

CapacityGrowth = Annotated[
    float,
    Field(
        ge=0,
        le=1,
        description="yearly growth of the team's capacity from the second contract year, e.g. 0.03: in contract "
        "year y (0 = first) the places are floor(first year's x (1 + growth) ** y), added at the start of each "
        "year; places are only added, never taken away",
        json_schema_extra=why(
            maximum="a team that doubles every year; mental-health investment (MHIS) grows about 4 % a year",
            minimum="places are only added: a place is never taken from someone in treatment",
        ),
    ),
]
"""Yearly growth of a team's places (staff or courses), 0..1; the places in each year are
:func:`grown_places`."""


def grown_places(amount: float) -> int:
    """Whole places from a number of places that may not be whole: rounded down, with a product that rounding
    leaves within 1e-9 below a whole number counting as that number (``2.9999999999`` -> 3)."""
    return int(amount + 1e-9)


def growth_factor(growth: float, year: int) -> float:
    """``(1 + growth) ** year``: how far a capacity growing by ``growth`` a year has grown in contract year
    ``year`` (0 = first, factor 1)."""
    return (1.0 + growth) ** year


class TalkingTherapiesCapacity(_Model):
    courses: int = Field(
        ge=0,
        le=500_000,
        description="courses of treatment that can run at once in the first contract year",
        json_schema_extra=why(maximum="England's 1.83m referrals a year keep about 400,000 courses running"),
    )
    growth: CapacityGrowth = 0.0

    def places_in(self, year: int) -> int:
        """Courses that can run at once in contract year ``year`` (0 = first):
        ``floor(courses x (1 + growth) ** year)``."""
        return grown_places(self.courses * growth_factor(self.growth, year))


class TalkingTherapies(TreatmentLine):
    standard_days: Days = Field(42.0, description="6-week standard, days")
    long_standard_days: Days = Field(126.0, description="18-week standard, days")
    capacity: TalkingTherapiesCapacity
    recovery_share: Share | None = Field(
        None,
        description="share of people finishing a course who reliably recover, 0..1; null = recovery not modelled",
    )


class CommunityCapacity(_Model):
    staff_wte: Wte = Field(description="funded whole-time-equivalent clinical staff")
    caseload_per_wte: float = Field(
        gt=0,
        le=100,
        description="people on the caseload per WTE",
        json_schema_extra=why(maximum="three times the largest caseloads audited (20-35 per care coordinator)"),
    )
    vacancy_rate: Share = Field(0.0, description="share of funded WTE vacant, 0..1")
    agency_cover: Share = Field(0.0, description="share of vacancies filled by agency staff, 0..1")
    growth: CapacityGrowth = 0.0

    @property
    def staffed_wte(self) -> float:
        """WTE actually working in the first contract year: funded less vacancies not covered by agency staff."""
        return self.staff_wte * (1.0 - self.vacancy_rate * (1.0 - self.agency_cover))

    def funded_wte(self, year: int) -> float:
        """Funded WTE in contract year ``year`` (0 = first): ``staff_wte x (1 + growth) ** year``."""
        return self.staff_wte * growth_factor(self.growth, year)

    def places_in(self, year: int) -> int:
        """Caseload capacity (people treated at once) in contract year ``year`` (0 = first):
        ``floor(staffed WTE x (1 + growth) ** year x caseload per WTE)``; vacancies and agency cover stay the
        same shares of the funded WTE as it grows."""
        return grown_places(self.staffed_wte * growth_factor(self.growth, year) * self.caseload_per_wte)

    @property
    def places(self) -> int:
        """Caseload capacity in the first contract year = floor(staffed WTE x caseload per WTE)."""
        return self.places_in(0)


class Community(TreatmentLine):
    standard_days: Days = Field(28.0, description="4-week standard, days")
    capacity: CommunityCapacity


class CrisisCapacity(_Model):
    places: int = Field(
        ge=0,
        le=20_000,
        description="open home-treatment episodes the team can hold at once",
        json_schema_extra=why(maximum="twice England's crisis teams' caseload: about 380 teams of 20-30 open cases"),
    )

    def places_in(self, year: int) -> int:
        """Open episodes the team can hold in contract year ``year``: the same every year (no growth key)."""
        return self.places


class Crisis(ReferralLine):
    standard_days: Days = Field(1.0, description="crisis waiting standard, days")
    capacity: CrisisCapacity
    admission_share: Share = Field(description="share of crisis referrals that need a bed")
    admission_share_when_full: Share | None = Field(
        None, description="share that need a bed when the team is full; default = admission_share"
    )

    @property
    def share_when_full(self) -> float:
        """Admission share when every team place is taken."""
        if self.admission_share_when_full is None:
            return self.admission_share
        return self.admission_share_when_full

    @model_validator(mode="after")
    def _full_share_not_lower(self) -> Crisis:
        if self.admission_share_when_full is not None and self.admission_share_when_full < self.admission_share:
            raise ValueError(
                "admission_share_when_full: must be >= admission_share "
                f"({self.admission_share}), got {self.admission_share_when_full}"
            )
        return self


class OutOfArea(_Model):
    """How the trust places patients out of area when its beds are full, and brings them back.

    A bed request that finds no free local bed waits locally (in the crisis team's care, A&E, a leave bed) for
    up to ``wait_days``; a bed that frees meanwhile goes to the longest-waiting such patient. Whoever is still
    waiting at the limit is placed out of area. With ``repatriate`` on, a placed patient comes back to a free
    local bed, first placed first back, once they have been out of area ``repatriate_after_days`` and only while
    at least ``repatriate_keep_free`` of the local beds stay free after they return; patients waiting locally
    always come first. A length of stay runs from the request, wherever it is spent.
    """

    wait_days: float = Field(
        0.0,
        ge=0,
        le=LONGEST_DAYS,
        json_schema_extra=why(maximum=TEN_YEARS),
        description="days a bed request may wait locally for a free bed before it is placed out of area; "
        "0 = placed at once",
    )
    repatriate: bool = Field(
        True, description="placed patients come back to a free local bed (first placed, first back); false = never"
    )
    repatriate_after_days: float = Field(
        0.0,
        ge=0,
        le=LONGEST_DAYS,
        json_schema_extra=why(maximum=TEN_YEARS),
        description="minimum days out of area before a patient is brought back (with repatriate)",
    )
    repatriate_keep_free: Share = Field(
        0.0,
        description="bring a patient back only while at least this share of local beds stays free after they "
        "return (0 = at the first free bed)",
    )

    def reserved_beds(self, beds: int) -> int:
        """Local beds a repatriation may not take: ``ceil(repatriate_keep_free x beds)``."""
        return math.ceil(self.repatriate_keep_free * beds - 1e-9)


class Inpatient(_Demand):
    """Adult acute beds; overflow goes to out-of-area placements (unlimited capacity)."""

    admissions_per_year: float = Field(
        ge=0,
        le=200_000,
        description="bed requests per year not coming via crisis",
        json_schema_extra=why(maximum="England admits about 70,000 a year to its 6,660 adult acute beds"),
    )
    beds: int = Field(
        ge=0,
        le=5000,
        description="local adult acute beds",
        json_schema_extra=why(maximum="a trust's adult acute beds; England has 6,660 in all"),
    )
    los_days: Duration
    readmission_share: Share = Field(0.0, description="share of discharges readmitted within the window")
    readmission_window_days: float = Field(
        30.0,
        gt=0,
        le=365,
        description="readmissions fall uniformly in this",
        json_schema_extra=why(maximum="a year; readmissions are counted within 30 days to two months"),
    )
    oap: OutOfArea = OutOfArea()


def places_by_year(line: TalkingTherapies | Community | Crisis, years: int) -> tuple[int, ...]:
    """Places of a referral line in each contract year ``0 .. years - 1``: talking therapies' courses, community's
    caseload capacity, crisis places (the same every year). Non-decreasing: the places added at the start of
    contract year ``y`` (day ``365 y`` of the horizon) are ``places[y] - places[y - 1]``. The costs' funded WTE,
    the description and the memory estimate take the places from here; the engines from :func:`place_openings`,
    which adds the warm-up's years."""
    return tuple(line.capacity.places_in(year) for year in range(years))


def place_openings(
    line: TalkingTherapies | Community | Crisis, warmup_days: int, years: int
) -> tuple[tuple[float, int], ...]:
    """When a referral line's places change over the simulated time: ``((day, places from that day), ...)``, the
    first day ``-inf`` (the start of the warm-up), then day ``365 y`` for each later contract year ``y``.

    The warm-up's days belong to the contract years before the first (``y < 0``), whose places are the
    capacity's growth run backwards, ``places_in(y)``: a team whose capacity grows as fast as its demand then
    starts the counted horizon as loaded as it will stay, not with the short list of a warm-up run at the first
    year's places against the lower demand before it. Both engines take a team's places from here."""
    first = -math.ceil(warmup_days / YEAR_DAYS)  # the contract year holding the warm-up's first day
    openings = [(-math.inf, line.capacity.places_in(first))]
    openings += [(float(YEAR_DAYS * year), line.capacity.places_in(year)) for year in range(first + 1, years)]
    return tuple(openings)


class _Services(_Model):
    """The service lines of a scenario: one optional block per line of :data:`paysim.model.lines.SERVICE_LINES`
    (made by :data:`Services`)."""

    @model_validator(mode="after")
    def _consistent(self) -> _Services:
        if all(getattr(self, name) is None for name in SERVICES):
            raise ValueError(f"at least one service line is needed ({', '.join(SERVICES)})")
        crisis = getattr(self, "crisis", None)
        if crisis is not None and getattr(self, "inpatient", None) is None and crisis.share_when_full > 0:
            raise ValueError("crisis.admission_share: crisis admissions need services.inpatient")
        return self


BUILT_IN_SECTIONS: dict[str, type[_Model]] = {
    "talking_therapies": TalkingTherapies,
    "community": Community,
    "crisis": Crisis,
    "inpatient": Inpatient,
}
"""The models of paysim's own lines' blocks; a line from a plugin names its own (:attr:`ServiceLine.section`)."""

SECTIONS: dict[str, type[BaseModel]] = line_models("section", BUILT_IN_SECTIONS)
"""Every line's block model, by line name, in reporting order."""
for _name, _section in SECTIONS.items():
    if service_line(_name).kind == "referral" and not issubclass(_section, ReferralLine):
        raise ImportError(f"service line {_name!r}: its section {_section.__name__} is not a ReferralLine")

Services = create_model(
    "Services",
    __base__=_Services,
    __module__=__name__,
    **{name: (section | None, None) for name, section in SECTIONS.items()},  # type: ignore[arg-type]
)
"""A scenario's ``services:`` block: a field per service line (:data:`SECTIONS`), unknown keys refused."""
