"""The steady-state start (``initial_state: steady``): the people each line holds when the warm-up starts.

With ``initial_state: empty`` every line starts the warm-up (day ``t0 = -warmup_days``) with nobody in treatment
and nobody in a bed, so the warm-up must be long enough for caseloads of six-month episodes and their lists to
build up. With ``steady``, each line starts holding the people a system **without queues** (infinitely many
places: M/G/inf) fed by the same demand would hold at ``t0``, so a short warm-up only has to settle the queues:

* a **team**'s inflows are its external referrals (the crisis team's less the share it gatekeeps into a bed,
  ``admission_share``) and, for the community team with a ward, the ward's discharges (step-downs: plain
  episodes, at the ward's request rate). A referral holds a place for ``H`` days, its outcome included
  (:mod:`paysim.engines.referral_outcomes`: one assessed and not treated holds none, a dropout part of its
  episode, the days to the first appointment come first);
* the **ward**'s inflow is its bed requests: direct admissions, the crisis team's gatekept referrals
  (``admission_share``) and the readmissions they bring, ``/ (1 - readmission_share)``; ``H`` is the length
  of stay;
* a referral of an inflow with arrival rate ``lambda(t)`` (:class:`~paysim.model.demand.DemandCurve`: growth and
  seasonality) is still held at ``t0`` if it came ``a < H`` days before, so the people held number
  ``n ~ Poisson(E[Lambda(t0 - H, t0)])`` (``Lambda(u, v)``: expected arrivals in ``[u, v)``; ``lambda x E[H]``
  when the rate is flat), and each has ``H`` drawn with density ``f(h) Lambda(t0 - h, t0) / E[...]`` (length-biased
  when the rate is flat) and its age ``a`` within ``[0, H)`` with density ``lambda(t0 - a)`` (uniform when flat);
  its **remaining** days are ``H - a``, whose mean is ``E[H^2] / (2 E[H])`` when the rate is flat;
* a team's people join in a random order; when they are more than its places (a full team), those beyond wait
  on its list: ``Poisson(patience x (joiners per day - places / E[held days of a joiner]))`` of them (the
  surplus of the fluid model of a full team whose list is left at an exponential rate; all the surplus without
  ``patience_days``), each a fresh referral (its whole held days to come) with a patience drawn as a referral's
  (exponential, so what is left of a wait already begun has the same law).

The weighted draw of ``H`` is **sampling-importance-resampling** from a pool of ``max(2 x the expected people,
4096)`` (:data:`MIN_POOL`) referrals drawn as the line draws them (episode, outcomes, first appointment), picked
with probability proportional to ``Lambda(t0 - h, t0)``; the same pool gives ``E[Lambda(t0 - H, t0)]`` as the exact
``E[H]`` x the pool's ratio of ``Lambda(t0 - h, t0)`` to ``h``. Closed forms exist for a plain lognormal (same cv,
mean x (1 + cv^2)) or gamma (shape + 1) at a flat rate, but not for the mixtures the outcome keys make (a dropout's
share of its episode plus the days to a first appointment), nor with growth and seasonality, nor for a plugin's
line: one method serves every line. Each picked person keeps its referral's outcome (a dropout leaves as a dropout,
a finished course may recover), so the counted completions and dropouts of the first months do not lean either way.
Each replication draws its own pool: the resampled law is exact on average over replications and off by about ``1 /
sqrt(pool)`` in each, which the warm-up absorbs with the rest (``tests/test_warmup_steady.py``); a pool shared by
every replication was tried and measured worse (its error is the same in every replication).

This is a start near the steady state, not on it: the list of a full team is the fluid model's, and the crisis
team's extra admissions when full (``admission_share_when_full``) are not in the ward's start. The warm-up
(``warmup_days``) settles the queues from there.

**Draws.** Every number comes from the line's own stream ``<line>.initial``, in this order: the pools, inflow by
inflow (the line's episode sampler, then one uniform per referral for each outcome key in use, then the first
appointments, exactly as :func:`~paysim.engines.referral_outcomes.draw_outcomes` takes them); for each inflow in
turn, its Poisson count, its picks, its ages; then one permutation that sets the order in which the people join
(the first ones get the places); then, for a full team, the size of its list, each waiting person's inflow and
pick, and their patience. Both engines join them at day ``t0`` in that order before any referral of the run: each
team's people as referrals that hold their place for their remaining days, the ward's as bed requests whose stay
is the remaining days (then readmissions and step-downs as anyone else's), so the SimPy model and the vector
engine take the same draws and agree replication by replication.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from paysim.engines.referral_outcomes import draw_outcomes
from paysim.model import streams as st
from paysim.model.demand import DemandCurve
from paysim.model.distributions import Duration
from paysim.model.lines import line_stream
from paysim.model.scenario import Crisis, ReferralLine, Scenario, TreatmentLine, place_openings
from paysim.model.streams import stream

POOL_FACTOR = 2
"""Candidates drawn per expected person for the sampling-importance-resampling of the held days."""
MIN_POOL = 4096
"""Fewest candidates drawn for an inflow: a line of a few people still resamples from a broad pool (with 256, the
ward's ~140 in-patients, drawn with replacement and by length, could share one very long stay many times)."""


@dataclass(frozen=True)
class InitialPeople:
    """The people one team holds at the start of the warm-up, in the order they join it.

    Attributes
    ----------
    remaining:
        ``[n]`` days each still holds its place (from the warm-up's first day).
    dropped_out:
        ``[n]`` bool: leaves as a dropout (``<line>.dropped_out``), not a finished course.
    recovers:
        ``[n]`` bool: finishes and reliably recovers (``talking_therapies.recovered``).
    patience:
        ``[n]`` days a person who finds every place taken waits on the list before leaving it (``+inf`` without
        ``patience_days``); one who gets a place at once never uses it.
    """

    remaining: np.ndarray
    dropped_out: np.ndarray
    recovers: np.ndarray
    patience: np.ndarray

    @property
    def count(self) -> int:
        return int(self.remaining.size)


Pool = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""``pool(rng, k)``: ``k`` referrals' held days and their dropout and recovery flags (``[k]`` each)."""


@dataclass(frozen=True)
class Demand:
    """Arrivals to a line: a sum of demand curves, each scaled (``(curve, factor), ...``)."""

    parts: tuple[tuple[DemandCurve, float], ...]

    def rate(self, t: float) -> float:
        """Arrivals per day at day ``t``."""
        return float(sum(factor * float(curve.rate(t)) for curve, factor in self.parts))

    def expected(self, start: np.ndarray, end: float) -> np.ndarray:
        """Expected arrivals in ``[start, end)`` (days), elementwise over ``start``."""
        return sum(factor * curve.expected(start, end) for curve, factor in self.parts)


@dataclass(frozen=True)
class Inflow:
    """One way people come to hold a place: their demand, the mean days a referral holds a place (0 for one
    assessed and not treated), the share that joins the list (is treated), and how to draw referrals
    (:data:`Pool`)."""

    demand: Demand
    mean_held: float
    pool: Pool
    joining: float = 1.0


def steady(scenario: Scenario) -> bool:
    """Whether the scenario starts its lines near their steady state: ``initial_state: steady`` with a warm-up
    (``warmup_days: 0`` means a service that opens empty on day 0, the public contract's meaning; the people held at
    the start join on the warm-up's first day, so they are never counted as referrals or starts)."""
    return scenario.initial_state == "steady" and scenario.warmup_days > 0


def mean_held(line: ReferralLine) -> float:
    """Expected days an external referral of ``line`` holds a place (0 for one assessed and not treated):
    ``treated_share x (E[first appointment] + E[episode] x (1 - dropout_share / 2))``, a dropout staying a
    uniform share of its episode (:mod:`paysim.engines.referral_outcomes`)."""
    episode = line.episode_days.mean
    if not isinstance(line, TreatmentLine):
        return episode
    first = 0.0 if line.first_appointment_days is None else line.first_appointment_days.mean
    return line.treated_share * (first + episode * (1.0 - line.dropout_share / 2.0))


def ward_demand(scenario: Scenario) -> Demand:
    """The ward's bed requests in a system without queues: direct admissions plus the crisis team's gatekept
    referrals (at ``admission_share``), with the readmissions they bring (``/ (1 - readmission_share)``)."""
    services = scenario.services
    inpatient = services.inpatient
    scale = 1.0 / (1.0 - inpatient.readmission_share)
    parts = [(_curve(inpatient, scenario), scale)]
    if services.crisis is not None:
        parts.append((_curve(services.crisis, scenario), services.crisis.admission_share * scale))
    return Demand(tuple(parts))


def team_inflows(scenario: Scenario, name: str) -> list[Inflow]:
    """The inflows of team ``name`` in the order they are drawn: its external referrals, then (community, with a
    ward) the ward's step-downs."""
    services = scenario.services
    line = getattr(services, name)
    factor = 1.0
    if isinstance(line, Crisis) and services.inpatient is not None:
        factor = 1.0 - line.admission_share  # the gatekept referrals go to a bed, not the team
    treated = line.treated_share if isinstance(line, TreatmentLine) else 1.0
    demand = Demand(((_curve(line, scenario), factor),))
    inflows = [Inflow(demand, mean_held(line), _referrals(name, line), treated)]
    if name == "community" and services.inpatient is not None:
        episode = line.episode_days
        inflows.append(Inflow(ward_demand(scenario), episode.mean, _plain(episode)))
    return inflows


def start_places(scenario: Scenario, name: str) -> int:
    """Places of team ``name`` on the warm-up's first day (:func:`~paysim.model.scenario.place_openings`)."""
    return place_openings(getattr(scenario.services, name), scenario.warmup_days, scenario.years)[0][1]


def mean_list(scenario: Scenario, name: str) -> float:
    """Expected people on team ``name``'s list at the start when a system without queues would hold more people
    than it has places (at the first day's rates): ``patience x (joiners per day - places / E[held days of a
    joiner])``, the surplus of the fluid model of a full team whose list is left at an exponential rate (all the
    surplus, ``inf``, without ``patience_days``); 0 otherwise."""
    return _mean_list(scenario, name, team_inflows(scenario, name), start_places(scenario, name))


def _mean_list(scenario: Scenario, name: str, inflows: list[Inflow], places: int) -> float:
    """:func:`mean_list` for the team's ``inflows`` and its ``places`` on the first day, already known."""
    start = -scenario.warmup_days
    held = sum(inflow.demand.rate(start) * inflow.mean_held for inflow in inflows)
    joining = sum(inflow.demand.rate(start) * inflow.joining for inflow in inflows)
    if held <= places:
        return 0.0
    patience = getattr(scenario.services, name).patience_days
    return np.inf if patience is None else patience * joining * (1.0 - places / held)


def team_people(scenario: Scenario, name: str, rng: np.random.Generator) -> InitialPeople:
    """The people team ``name`` holds at the start of the warm-up, drawn from ``rng`` (stream
    ``<name>.initial``) as the module docstring says: those in treatment first, then those on the list."""
    start = float(-scenario.warmup_days)
    inflows = team_inflows(scenario, name)
    pools = _pools(rng, inflows, start)
    parts = [_held_at(rng, pool, inflow, start) for pool, inflow in zip(pools, inflows, strict=True)]
    remaining, dropped_out, recovers = (np.concatenate([part[i] for part in parts]) for i in range(3))
    order = rng.permutation(remaining.size)
    places = start_places(scenario, name)
    treated = order[:places]
    people = [remaining[treated], dropped_out[treated], recovers[treated]]
    waiting = 0
    if order.size > places:  # a full team: its list
        surplus = order.size - places
        expected = _mean_list(scenario, name, inflows, places)
        waiting = surplus if np.isinf(expected) else min(surplus, int(rng.poisson(expected)))
    if waiting:
        people = [
            np.concatenate([a, b]) for a, b in zip(people, _fresh(rng, inflows, pools, start, waiting), strict=True)
        ]
    patience_days = getattr(scenario.services, name).patience_days
    patience = np.full(people[0].size, np.inf)
    if waiting and patience_days is not None:
        patience[people[0].size - waiting :] = rng.exponential(patience_days, waiting)
    return InitialPeople(*people, patience)


def ward_stays(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Remaining days of stay of the in-patients the ward holds at the start of the warm-up (``[n]``, in the
    order they request a bed), drawn from ``rng`` (stream ``inpatient.initial``)."""
    los = scenario.services.inpatient.los_days
    start = float(-scenario.warmup_days)
    inflow = Inflow(ward_demand(scenario), los.mean, _plain(los))
    (pool,) = _pools(rng, [inflow], start)
    remaining, _, _ = _held_at(rng, pool, inflow, start)
    return remaining[rng.permutation(remaining.size)]


def team_people_of(scenario: Scenario, name: str, replication: int) -> InitialPeople:
    """:func:`team_people` from replication ``replication``'s stream ``<name>.initial``."""
    return team_people(scenario, name, stream(scenario.seed, replication, line_stream(name, st.INITIAL)))


def ward_stays_of(scenario: Scenario, replication: int) -> np.ndarray:
    """:func:`ward_stays` from replication ``replication``'s stream ``inpatient.initial``."""
    return ward_stays(scenario, stream(scenario.seed, replication, line_stream("inpatient", st.INITIAL)))


# --- draws --------------------------------------------------------------------------------------------

Drawn = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Held (or remaining) days and the dropout and recovery flags of some people, ``[n]`` each."""


def pool_size(inflow: Inflow, start: float) -> int:
    """Candidates drawn for an inflow's resampling: :data:`POOL_FACTOR` per expected person at the first day's
    rate, at least :data:`MIN_POOL`."""
    return max(POOL_FACTOR * int(np.ceil(inflow.demand.rate(start) * inflow.mean_held)), MIN_POOL)


@dataclass(frozen=True)
class _Pool:
    """One inflow's candidates (held days and flags, ``[k]``), each weighted by the expected arrivals still held at
    the start (``weight``, cumulated in ``cumulative``), the expected people held (``mean_count``), and the table
    of expected arrivals by whole days back from the start (``days``, ``arrived``)."""

    held: np.ndarray
    dropped_out: np.ndarray
    recovers: np.ndarray
    weight: np.ndarray
    cumulative: np.ndarray
    mean_count: float
    ages: np.ndarray
    """``ages[j]``: the days back from the start within which ``j x step`` arrivals are expected (the inverse of the
    table of expected arrivals, on an even grid: an age is found by indexing, not searching)."""
    step: float


def _pools(rng: np.random.Generator, inflows: list[Inflow], start: float) -> tuple[_Pool, ...]:
    """The pools of a line's inflows, drawn from the replication's own stream (a pool shared by every replication
    would carry its sampling error into all of them alike: 2 % on the mean remaining days of talking therapies, whose
    first appointments have a coefficient of variation of 2, at 36,000 candidates)."""
    return tuple(_weighed(inflow, inflow.pool(rng, pool_size(inflow, start)), start) for inflow in inflows)


def _weighed(inflow: Inflow, drawn: Drawn, start: float) -> _Pool:
    """An inflow's candidates with their weights: the expected arrivals in the ``h`` days before ``start`` (0 for one
    that holds no place), and ``E[people held] = E[H] x (sum of weights / sum of h)``."""
    held, dropped_out, recovers = drawn
    days, arrived = _arrived(inflow.demand, start, float(held.max(initial=0.0)))
    whole = np.minimum(held.astype(np.int64), days.size - 2)  # the table's steps are whole days: index directly
    weight = arrived[whole] + (held - whole) * (arrived[whole + 1] - arrived[whole])  # expected arrivals still held
    weight = np.where(held > 0.0, weight, 0.0)
    total = float(weight.sum())
    mean_count = inflow.mean_held * total / float(held.sum()) if total > 0.0 else 0.0
    step = float(arrived[-1]) / (days.size - 1) if arrived[-1] > 0 else 1.0
    ages = np.interp(np.arange(days.size) * step, arrived, days)
    return _Pool(held, dropped_out, recovers, weight, np.cumsum(weight), mean_count, ages, step)


def _held_at(rng: np.random.Generator, pool: _Pool, inflow: Inflow, start: float) -> Drawn:
    """The people of one inflow held at ``start`` in a system without queues, in the order drawn: ``n ~
    Poisson(E[people held])``, each a candidate of ``pool`` picked in proportion to its weight, its remaining days
    its held days less an age (see the module docstring), and its flags."""
    n = int(rng.poisson(pool.mean_count))
    if n == 0:
        none = np.zeros(0)
        return none, none.astype(bool), none.astype(bool)
    cumulative, held = pool.cumulative, pool.held
    chosen = (
        np.sort(rng.random(n)) * cumulative[-1]
    )  # sorted: the search walks the pool once (the order is drawn later)
    picks = np.minimum(np.searchsorted(cumulative, chosen, side="right"), held.size - 1)
    # the age: expected arrivals since it came uniform below its weight, so its density is rate(start - age)
    position = rng.random(n) * pool.weight[picks] / pool.step
    cell = np.minimum(position.astype(np.int64), pool.ages.size - 2)
    age = pool.ages[cell] + (position - cell) * (pool.ages[cell + 1] - pool.ages[cell])
    return held[picks] - np.minimum(age, held[picks]), pool.dropped_out[picks], pool.recovers[picks]


def _arrived(demand: Demand, start: float, longest: float) -> tuple[np.ndarray, np.ndarray]:
    """Whole days ``k = 0, 1, ...`` back from ``start`` (at least ``longest`` of them) and the expected arrivals in
    ``[start - k, start)``, increasing: between whole days it is taken as linear (the rate moves by about 1e-4
    of itself within a day)."""
    days = 1 << max(int(np.ceil(np.log2(max(longest, 1.0) + 1.0))), 6)  # a power of two, so a run reuses it
    return _arrived_table(demand, start, days)


@functools.lru_cache(maxsize=64)
def _arrived_table(demand: Demand, start: float, days: int) -> tuple[np.ndarray, np.ndarray]:
    back = np.arange(days + 1, dtype=float)
    arrived = np.asarray(demand.expected(start - back, start), dtype=float)
    back.flags.writeable = False
    arrived.flags.writeable = False
    return back, arrived


def _fresh(rng: np.random.Generator, inflows: list[Inflow], pools: tuple[_Pool, ...], start: float, k: int) -> Drawn:
    """``k`` people on a full team's list: each from an inflow chosen in proportion to its joiners per day at
    ``start``, then a joiner (held days > 0) of that inflow's pool, its whole held days to come."""
    joiners = [np.flatnonzero(pool.held > 0.0) for pool in pools]
    rates = np.array(
        [
            inflow.demand.rate(start) * inflow.joining if index.size else 0.0
            for inflow, index in zip(inflows, joiners, strict=True)
        ]
    )
    which = np.minimum(np.searchsorted(np.cumsum(rates), rng.random(k) * rates.sum(), side="right"), len(inflows) - 1)
    pick = rng.random(k)
    drawn = (np.zeros(k), np.zeros(k, dtype=bool), np.zeros(k, dtype=bool))
    for i, index in enumerate(joiners):
        mine = which == i
        if mine.any():
            chosen = index[np.minimum((pick[mine] * index.size).astype(np.int64), index.size - 1)]
            pool = pools[i]
            for values, source in zip(drawn, (pool.held, pool.dropped_out, pool.recovers), strict=True):
                values[mine] = source[chosen]
    return drawn


def _referrals(name: str, line: ReferralLine) -> Pool:
    """External referrals of line ``name``: episode, then outcomes and first appointment as the line draws them;
    the held days of one assessed and not treated are 0."""

    def pool(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        episode = line.episode_days.sample(rng, k)
        outcomes = draw_outcomes(name, line, episode, lambda _: rng)
        held = np.asarray(outcomes.held, dtype=float)
        if outcomes.assessed_only is not None:
            held = np.where(outcomes.assessed_only, 0.0, held)
        no = np.zeros(k, dtype=bool)
        dropped_out = no if outcomes.dropped_out is None else outcomes.dropped_out
        recovers = no if outcomes.recovers is None else outcomes.recovers
        return held, dropped_out, recovers

    return pool


def _plain(duration: Duration) -> Pool:
    """Plain durations (a step-down's episode, a length of stay): no outcomes."""

    def pool(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        no = np.zeros(k, dtype=bool)
        return duration.sample(rng, k), no, no

    return pool


def _curve(line, scenario: Scenario) -> DemandCurve:
    """The demand curve of ``line`` (referrals, or a ward's direct admissions)."""
    return DemandCurve.for_line(line, scenario.start_month)


__all__ = [
    "Demand",
    "Inflow",
    "InitialPeople",
    "mean_held",
    "mean_list",
    "start_places",
    "steady",
    "team_inflows",
    "team_people",
    "team_people_of",
    "ward_demand",
    "ward_stays",
    "ward_stays_of",
]
