"""The steady-state start (``initial_state: steady``): the people each line holds when the warm-up starts.

With ``initial_state: empty`` every line starts the warm-up (day ``-warmup_days``) with nobody in treatment and
nobody in a bed, so the warm-up must be long enough for caseloads of six-month episodes to build up. With
``steady``, each line starts where a stationary system **without queues** (infinitely many places: M/G/inf)
would be at that day's demand, so a short warm-up only has to settle the queues:

* a **team** holds ``n ~ Poisson(sum over its inflows of rate x E[H])`` people, where ``rate`` is the inflow's
  referrals per day at the warm-up's first day (:meth:`paysim.model.demand.DemandCurve.rate`) and ``H`` the days
  a referral holds a place, outcomes included (:mod:`paysim.engines.referral_outcomes`: assessed and not treated
  hold none, a dropout part of its episode, the days to the first appointment come first). Its inflows: the
  external referrals (the crisis team's less the share it gatekeeps into a bed, ``admission_share``), and for
  the community team with a ward, the ward's discharges (step-downs, plain episodes at the ward's request rate);
* the **ward** holds ``n ~ Poisson(request rate x E[length of stay])`` in-patients, the request rate being the
  direct admissions, the crisis team's gatekept referrals (``admission_share``) and the readmissions they bring,
  ``/ (1 - readmission_share)``;
* each person's **remaining** days follow the equilibrium law of ``H``: a length-biased draw of ``H`` (density
  ``h f(h) / E[H]``) times an independent uniform, whose mean is ``E[H^2] / (2 E[H])``.

The length-biased draw is **sampling-importance-resampling** from a pool of referrals drawn as the line draws
them (episode, outcomes, first appointment): pick ``n`` of a pool of ``max(8 n, 1024)`` with probability
proportional to their held days. Closed forms exist for a plain lognormal (same cv, mean x (1 + cv^2)) or
gamma (shape + 1), but not for the mixtures the outcome keys make (a dropout's share of its episode plus the
days to a first appointment), nor for a plugin's line: one method serves every line. Each picked person keeps its
referral's outcome (a dropout leaves as a dropout, a finished course may recover), so the counted completions and
dropouts of the first months do not lean either way. The pool's finite size makes the law exact only as the pool
grows; eight candidates a person keeps the resampled law within about 1/sqrt(8 n) of it (the warm-up absorbs the
rest, ``tests/test_warmup_steady.py``).

This is a start near the steady state, not on it: a team that is full (more people than places) starts with the
excess on its waiting list (never leaving it: they are in treatment, not waiting to be seen), and the crisis
team's extra admissions when full (``admission_share_when_full``) are not in the ward's start. The warm-up
(``warmup_days``) settles the queues from there.

**Draws.** Every number comes from the line's own stream ``<line>.initial``, in this order: for each inflow in
turn, its Poisson count, its pool (the line's episode sampler, then one uniform per referral for each outcome
key in use, then the first appointments, exactly as :func:`~paysim.engines.referral_outcomes.draw_outcomes`
takes them), its picks, its uniforms; then one permutation that sets the order in which the people join (the
first ones get the places). Both engines join them at day ``-warmup_days`` in that order before any referral of
the run: each team's people as referrals that hold their place for their remaining days with no patience limit
(and, at the ward, as bed requests whose stay is the remaining days, then readmissions and step-downs as anyone
else's), so the SimPy model and the vector engine take the same draws and agree replication by replication.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from paysim.engines.referral_outcomes import draw_outcomes
from paysim.model import streams as st
from paysim.model.demand import DemandCurve
from paysim.model.distributions import Duration
from paysim.model.lines import line_stream
from paysim.model.scenario import Crisis, ReferralLine, Scenario, TreatmentLine
from paysim.model.streams import stream

POOL_FACTOR = 8
"""Candidates drawn per person for the sampling-importance-resampling of the held days."""
MIN_POOL = 1024
"""Fewest candidates drawn for an inflow (a line of a few people still resamples from a broad pool)."""


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
    """

    remaining: np.ndarray
    dropped_out: np.ndarray
    recovers: np.ndarray

    @property
    def count(self) -> int:
        return int(self.remaining.size)


Pool = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""``pool(rng, k)``: ``k`` referrals' held days and their dropout and recovery flags (``[k]`` each)."""


@dataclass(frozen=True)
class Inflow:
    """One way people come to hold a place: referrals per day at the warm-up's first day, mean held days, and
    how to draw referrals (:data:`Pool`)."""

    rate: float
    mean_held: float
    pool: Pool

    @property
    def mean_count(self) -> float:
        """Expected people held from this inflow in a stationary system without queues (Little's law)."""
        return self.rate * self.mean_held


def steady(scenario: Scenario) -> bool:
    """Whether the scenario starts its lines near their steady state."""
    return scenario.initial_state == "steady"


def mean_held(line: ReferralLine) -> float:
    """Expected days an external referral of ``line`` holds a place (0 for one assessed and not treated):
    ``treated_share x (E[first appointment] + E[episode] x (1 - dropout_share / 2))``, a dropout staying a
    uniform share of its episode (:mod:`paysim.engines.referral_outcomes`)."""
    episode = line.episode_days.mean
    if not isinstance(line, TreatmentLine):
        return episode
    first = 0.0 if line.first_appointment_days is None else line.first_appointment_days.mean
    return line.treated_share * (first + episode * (1.0 - line.dropout_share / 2.0))


def ward_request_rate(scenario: Scenario) -> float:
    """The ward's bed requests per day at the warm-up's first day in a stationary system: direct admissions plus
    the crisis team's gatekept referrals (at ``admission_share``), with the readmissions they bring."""
    services = scenario.services
    inpatient = services.inpatient
    start = -scenario.warmup_days
    rate = _rate(inpatient, scenario, start)
    if services.crisis is not None:
        rate += _rate(services.crisis, scenario, start) * services.crisis.admission_share
    return rate / (1.0 - inpatient.readmission_share)


def team_inflows(scenario: Scenario, name: str) -> list[Inflow]:
    """The inflows of team ``name`` in the order they are drawn: its external referrals, then (community, with a
    ward) the ward's step-downs."""
    services = scenario.services
    line = getattr(services, name)
    start = -scenario.warmup_days
    rate = _rate(line, scenario, start)
    if isinstance(line, Crisis) and services.inpatient is not None:
        rate *= 1.0 - line.admission_share  # the gatekept referrals go to a bed, not the team
    inflows = [Inflow(rate, mean_held(line), _referrals(name, line))]
    if name == "community" and services.inpatient is not None:
        inflows.append(Inflow(ward_request_rate(scenario), line.episode_days.mean, _plain(line.episode_days)))
    return inflows


def team_people(scenario: Scenario, name: str, rng: np.random.Generator) -> InitialPeople:
    """The people team ``name`` holds at the start of the warm-up, drawn from ``rng`` (stream
    ``<name>.initial``) as the module docstring says."""
    parts = [_equilibrium(rng, inflow) for inflow in team_inflows(scenario, name)]
    remaining, dropped_out, recovers = (np.concatenate([part[i] for part in parts]) for i in range(3))
    order = rng.permutation(remaining.size)
    return InitialPeople(remaining[order], dropped_out[order], recovers[order])


def ward_stays(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Remaining days of stay of the in-patients the ward holds at the start of the warm-up (``[n]``, in the
    order they request a bed), drawn from ``rng`` (stream ``inpatient.initial``)."""
    los = scenario.services.inpatient.los_days
    remaining, _, _ = _equilibrium(rng, Inflow(ward_request_rate(scenario), los.mean, _plain(los)))
    return remaining[rng.permutation(remaining.size)]


def team_people_of(scenario: Scenario, name: str, replication: int) -> InitialPeople:
    """:func:`team_people` from replication ``replication``'s stream ``<name>.initial``."""
    return team_people(scenario, name, stream(scenario.seed, replication, line_stream(name, st.INITIAL)))


def ward_stays_of(scenario: Scenario, replication: int) -> np.ndarray:
    """:func:`ward_stays` from replication ``replication``'s stream ``inpatient.initial``."""
    return ward_stays(scenario, stream(scenario.seed, replication, line_stream("inpatient", st.INITIAL)))


# --- draws --------------------------------------------------------------------------------------------


def _equilibrium(rng: np.random.Generator, inflow: Inflow) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n ~ Poisson(rate x E[H])`` people of one inflow with remaining days from the equilibrium law of ``H``
    (length-biased by resampling a pool, times a uniform), and their flags."""
    n = int(rng.poisson(inflow.mean_count))
    held, dropped_out, recovers = inflow.pool(rng, max(POOL_FACTOR * n, MIN_POOL))
    total = float(held.sum())
    if n == 0 or total <= 0.0:
        none = np.zeros(0)
        return none, none.astype(bool), none.astype(bool)
    cumulative = np.cumsum(held)
    picks = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    picks = np.minimum(picks, held.size - 1)
    remaining = held[picks] * rng.random(n)
    return remaining, dropped_out[picks], recovers[picks]


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


def _rate(line, scenario: Scenario, day: float) -> float:
    """Referrals (or admissions) per day of ``line`` at ``day``."""
    return float(DemandCurve.for_line(line, scenario.start_month).rate(day))


__all__ = [
    "Inflow",
    "InitialPeople",
    "mean_held",
    "steady",
    "team_inflows",
    "team_people",
    "team_people_of",
    "ward_request_rate",
    "ward_stays",
    "ward_stays_of",
]
