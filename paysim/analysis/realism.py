"""How realistic is a scenario: its simulated trust against published national figures, per head.

Each :class:`Benchmark` is one published figure (England, scaled to the scenario's ``population``), with its
source, the range it spans across the sources, and how to measure the same thing in a run. :func:`realism` runs
nothing itself: it takes the run's Activity and ledgers (:func:`paysim.money.finance.ledgers`) and returns one
:class:`Check` per benchmark the scenario can answer, for one contract year. ``paysim realism SCENARIO`` prints
them; the README's table "How realistic is the default trust" is its output.

Figures per million people use England's population of about 57 million; the sources are collected in
``docs/sources.md`` (its last section holds the 2026-11 corrections).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from paysim.activity import OAP_LENGTH_BANDS, Activity
from paysim.model.scenario import Scenario
from paysim.money.finance import Ledger

ENGLAND_MILLIONS = 57.0
"""England's population, millions (the divisor of the national figures below)."""

Measure = Callable[[Scenario, Activity, Mapping[str, Ledger], int], np.ndarray | None]
"""``measure(scenario, activity, ledgers, year)``: the figure per replication ``[replication]`` in contract year
``year`` (0 = first), or None when the scenario has no such thing (no ward, no block contract). Inputs of the
scenario (beds, prices) are the same in every replication."""


@dataclass(frozen=True)
class Benchmark:
    """A published figure and how to measure it in a run.

    Attributes
    ----------
    label : str
        What it is, for a table row.
    unit : str
        ``"a year"``, ``"days"``, ``"share"``, ``"people"``, ``"share of income"``.
    low, high : float
        The range the published figures span (per million people a year when ``per_million``).
    per_million : bool
        Scale the range by the scenario's population (millions).
    source : str
        Where the figures come from.
    measure : Measure
        The same figure in a run.
    """

    label: str
    unit: str
    low: float
    high: float
    per_million: bool
    source: str
    measure: Measure


def _yearly(name: str) -> Measure:
    def measure(scenario: Scenario, activity: Activity, ledgers: Mapping[str, Ledger], year: int):
        return activity.yearly(name)[:, year] if name in activity else None

    return measure


def _ratio(numerator: tuple[str, ...], denominator: tuple[str, ...]) -> Measure:
    """Sum of some measures over the sum of others, in the year (per replication)."""

    def measure(scenario: Scenario, activity: Activity, ledgers: Mapping[str, Ledger], year: int):
        if any(name not in activity for name in (*numerator, *denominator)):
            return None
        top = sum(activity.yearly(name)[:, year] for name in numerator)
        bottom = sum(activity.yearly(name)[:, year] for name in denominator)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)

    return measure


def _input(value: Callable[[Scenario], float | None]) -> Measure:
    """A figure the scenario gives (the same in every replication)."""

    def measure(scenario: Scenario, activity: Activity, ledgers: Mapping[str, Ledger], year: int):
        given = value(scenario)
        return None if given is None else np.full(activity.n_replications, float(given))

    return measure


def _beds(scenario: Scenario) -> float | None:
    return None if scenario.services.inpatient is None else scenario.services.inpatient.beds


def _mean_stay(scenario: Scenario) -> float | None:
    return None if scenario.services.inpatient is None else scenario.services.inpatient.los_days.mean


def _crisis_staff(scenario: Scenario) -> float | None:
    staff = scenario.costs.staff.crisis if scenario.costs is not None else None
    return None if staff is None or scenario.services.crisis is None else staff.wte


def _oap_price(scenario: Scenario) -> float | None:
    if scenario.costs is None or not scenario.costs.beds.oap_per_bed_day or scenario.services.inpatient is None:
        return None
    return scenario.costs.beds.oap_per_bed_day


def _active_on_an_average_day(scenario: Scenario, activity: Activity, ledgers: Mapping[str, Ledger], year: int):
    if "inpatient.oap_bed_days" not in activity:
        return None
    days = activity.month_days[12 * year : 12 * year + 12].sum()
    return activity.yearly("inpatient.oap_bed_days")[:, year] / days


def _block_margin(scenario: Scenario, activity: Activity, ledgers: Mapping[str, Ledger], year: int):
    """The provider's surplus as a share of its income under the block contract."""
    block = ledgers.get("block")
    if block is None:
        return None
    return block.yearly("provider_surplus")[:, year] / block.yearly("provider_income")[:, year]


BANDS = tuple(f"inpatient.{band}" for band in OAP_LENGTH_BANDS)

BENCHMARKS: dict[str, Benchmark] = {
    "beds": Benchmark(
        "adult acute beds",
        "beds",
        100,
        140,
        True,
        "NHS Benchmarking Network via Centre for Mental Health (2019): about 6,660 adult acute beds in England, "
        "about 12 per 100,000 of all ages (20 per 100,000 aged 18-64)",
        _input(_beds),
    ),
    "mean_stay": Benchmark(
        "adult acute mean length of stay",
        "days",
        32,
        34,
        False,
        "NHS Benchmarking Network via Centre for Mental Health (2019): 33 days (ambition 32)",
        _input(_mean_stay),
    ),
    "crisis_staff": Benchmark(
        "crisis resolution / home treatment staff",
        "WTE",
        80,
        110,
        True,
        "DH policy implementation guide: about one team of about 14 staff per 150,000 people (93 per million)",
        _input(_crisis_staff),
    ),
    "oap_price": Benchmark(
        "price of an out-of-area bed day",
        "GBP",
        577,
        690,
        False,
        "NHS Digital (577 average, Oct 2020); about 640-690 implied by 2023/24 OAP spend and days (Grant "
        "Thornton, NHS Confederation)",
        _input(_oap_price),
    ),
    "oap_started": Benchmark(
        "out-of-area placements started",
        "a year",
        75,
        140,
        True,
        "NHS Digital OAP return (Dec 2016: 366 adult acute placements started in the month); Grant Thornton "
        "2023 (4,235 inappropriate placements ended May 2022-Apr 2023)",
        _yearly("inpatient.oap_admissions"),
    ),
    "oap_mean_length": Benchmark(
        "mean length of an out-of-area placement",
        "days",
        28,
        60,
        False,
        "Little's law on NHS Digital's OAP return: Jan 2017, 11,319 OAP days / 398 started = 28; about 60 in "
        "2022/23 (days over placements)",
        _ratio(("inpatient.oap_bed_days",), ("inpatient.oap_ended",)),
    ),
    "oap_bed_days": Benchmark(
        "out-of-area bed days",
        "a year",
        2100,
        4500,
        True,
        "NHS Digital OAP return: 10,005 days in Dec 2016, 19,800 in Oct 2020, 58,700 in Oct-Dec 2021; "
        "£164m of 2023/24 OAP spend at about £650 a day (NHS Confederation)",
        _yearly("inpatient.oap_bed_days"),
    ),
    "oap_active": Benchmark(
        "out-of-area placements active on an average day",
        "people",
        5.8,
        12.3,
        True,
        "NHS Digital OAP return: 330 adult acute placements active at the end of Dec 2016; about 700 "
        "inappropriate placements at the end of June 2023 (Nuffield Trust)",
        _active_on_an_average_day,
    ),
    "oap_15_plus": Benchmark(
        "ended placements lasting 15 nights or more",
        "share",
        0.42,
        0.77,
        False,
        "NHS Digital OAP return Dec 2016 (153 of 365 ended; the collection began in Oct 2016, so long "
        "placements are undercounted); Grant Thornton 2022/23 (77 %)",
        _ratio(BANDS[2:], BANDS),
    ),
    "oap_31_plus": Benchmark(
        "ended placements lasting 31 nights or more",
        "share",
        0.13,
        0.46,
        False,
        "NHS Digital OAP return Dec 2016 (49 of 365 ended); Grant Thornton 2022/23 (46 %)",
        _ratio(BANDS[3:], BANDS),
    ),
    "oap_share_of_admissions": Benchmark(
        "out-of-area placements among all admissions",
        "share",
        0.04,
        0.12,
        False,
        "the placements started (above) against about 1,200-1,300 adult acute admissions a year per million "
        "(118 beds at 94-95 % occupancy and a 33-day mean stay, NHS Benchmarking Network)",
        _ratio(("inpatient.oap_admissions",), ("inpatient.oap_admissions", "inpatient.local_admissions")),
    ),
    "occupancy": Benchmark(
        "adult acute bed occupancy",
        "share",
        0.92,
        0.97,
        False,
        "NHS Benchmarking Network via Centre for Mental Health (2019): 94-95 % (102 % counting leave)",
        _yearly("inpatient.occupancy_mean"),
    ),
    "tt_referrals": Benchmark(
        "talking-therapies referrals",
        "a year",
        25000,
        33000,
        True,
        "NHS Talking Therapies monthly statistics: 1.4m (2015/16) to 1.83m (2023/24)",
        _yearly("talking_therapies.referrals"),
    ),
    "tt_entering": Benchmark(
        "talking-therapies referrals that start treatment",
        "share",
        0.62,
        0.72,
        False,
        "NHS Talking Therapies monthly statistics: 1.22-1.24m of 1.83m referrals enter treatment (about 67 %)",
        _ratio(("talking_therapies.started",), ("talking_therapies.referrals",)),
    ),
    "tt_finishing": Benchmark(
        "talking-therapies starters who finish a course",
        "share",
        0.50,
        0.60,
        False,
        "Nuffield Trust 2024 from NHS Talking Therapies statistics: about 55 % of starters finish",
        _ratio(("talking_therapies.completed",), ("talking_therapies.completed", "talking_therapies.dropped_out")),
    ),
    "tt_6_weeks": Benchmark(
        "talking-therapies starts within 6 weeks",
        "share",
        0.85,
        0.95,
        False,
        "NHS Talking Therapies monthly statistics: 90.3 % (April 2025; standard 75 %)",
        _ratio(("talking_therapies.started_within_standard",), ("talking_therapies.started",)),
    ),
    "tt_18_weeks": Benchmark(
        "talking-therapies starts within 18 weeks",
        "share",
        0.97,
        1.0,
        False,
        "NHS Talking Therapies monthly statistics: 98.5 % (April 2025; standard 95 %)",
        _ratio(("talking_therapies.started_within_long_standard",), ("talking_therapies.started",)),
    ),
    "tt_recovery": Benchmark(
        "talking-therapies finishers in reliable recovery",
        "share",
        0.46,
        0.50,
        False,
        "NHS Talking Therapies monthly statistics: 48.4 % (April 2025); 46 % earlier; ambition 50 %",
        _ratio(("talking_therapies.recovered",), ("talking_therapies.completed",)),
    ),
    "community_referrals": Benchmark(
        "referrals to core community teams",
        "a year",
        8000,
        11000,
        True,
        "NHS Benchmarking via Centre for Mental Health: about 625,000 a year to generic community teams (UK, "
        "2022/23, about 67m people)",
        _yearly("community.referrals"),
    ),
    "community_4_weeks": Benchmark(
        "community starts within 4 weeks",
        "share",
        0.20,
        0.40,
        False,
        "NHS Benchmarking 2021/22: 28 % of adults seen within 4 weeks (the standard is proposed, not in force)",
        _ratio(("community.started_within_standard",), ("community.started",)),
    ),
    "block_margin": Benchmark(
        "provider surplus under the block contract",
        "share of income",
        -0.01,
        0.01,
        False,
        "the sector reports roughly break-even (NHS provider accounts); the efficiency factor is met by CIP",
        _block_margin,
    ),
}
"""The published figures a scenario is checked against, by name."""


@dataclass(frozen=True)
class Check:
    """One benchmark measured in a run.

    Attributes
    ----------
    name, benchmark : str, Benchmark
    mean, se : float
        Mean over replications and its standard error (of the figure in the contract year).
    low, high : float
        The published range for this scenario (scaled to its population when per head).
    """

    name: str
    benchmark: Benchmark
    mean: float
    se: float
    low: float
    high: float

    @property
    def inside(self) -> bool:
        """Whether the simulated mean lies in the published range."""
        return self.low <= self.mean <= self.high


def realism(scenario: Scenario, activity: Activity, ledgers: Mapping[str, Ledger], year: int = 0) -> list[Check]:
    """Every benchmark the run can answer, measured in contract year ``year`` (0 = first).

    Parameters
    ----------
    scenario : Scenario
        The scenario run (its inputs, and ``population``, which scales the per-head ranges).
    activity : Activity
        The run's activity, ``[replication, month]``.
    ledgers : mapping of str to Ledger
        The run's ledgers (:func:`paysim.money.finance.ledgers`); benchmarks on money are left out without them.
    year : int
        Contract year to measure.
    """
    if not 0 <= year < activity.n_months // 12:
        raise ValueError(f"year: must be between 1 and {activity.n_months // 12}, got {year + 1}")
    if scenario.population is None:
        raise ValueError(
            f"{scenario.name}: population: the scenario does not say how many people the trust serves, so its "
            "figures cannot be compared per head; set population (e.g. 1000000)"
        )
    scale = scenario.population / 1e6
    checks = []
    for name, benchmark in BENCHMARKS.items():
        values = benchmark.measure(scenario, activity, ledgers, year)
        if values is None:
            continue
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        factor = scale if benchmark.per_million else 1.0
        se = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("nan")
        checks.append(Check(name, benchmark, float(values.mean()), se, benchmark.low * factor, benchmark.high * factor))
    return checks
