"""The SimPy model: patient by patient, in continuous time (the reference engine).

One replication simulates ``[-warmup_days, 365 * years)`` days. Each referral line is a team with a fixed
number of places and a FIFO waiting list; the inpatient line is a ward of local beds that overflows to
out-of-area placements. The flows between them:

* **talking therapies, community, crisis**: a referral waits FIFO for a free place (or, with
  ``patience_days``, leaves the list after an exponential time), then holds the place for its episode.
  In talking therapies and community a share ``1 - treated_share`` of referrals is assessed and not
  treated (never on the list), and a share ``dropout_share`` of starters leaves part-way through its
  episode (see :mod:`paysim.engines.referral_outcomes`); the others finish (and in talking therapies a share
  ``recovery_share`` of them reliably recovers).
* **crisis -> bed**: each crisis referral needs a bed with probability ``admission_share``, or
  ``admission_share_when_full`` if every team place is taken when it arrives; it then goes to the ward
  instead of the team.
* **inpatient**: a bed request (direct admission, crisis admission or readmission) takes a free local bed,
  or else goes out of area (unlimited places). With ``oap.repatriate`` on, each local bed that frees goes to
  the longest-placed OAP patient, who finishes their stay locally. The length of stay is drawn once per
  request and does not depend on where it is spent.
* **after discharge**: the patient is referred to the community team (if the scenario has one) and, with
  probability ``readmission_share``, requests a bed again uniformly within ``readmission_window_days``.

Common random numbers: arrivals and per-arrival attributes (episode length, patience, bed need, length of
stay) come from streams named after the line and attribute; readmission and step-down attributes are
drawn in bed-request order. None of them depends on the number of beds or places.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

from paysim.activity import Activity, measure_kinds
from paysim.demand import DemandCurve, month_edges
from paysim.engines.referral_outcomes import Outcomes, outcome_streams, referral_outcomes
from paysim.monitors import area_by_month, count_by_month, level_at, sum_by_month
from paysim.scenario import Crisis, ReferralLine, Scenario, TalkingTherapies, TreatmentLine
from paysim.streams import Draws, stream

NEVER = float("inf")


# --- recording ----------------------------------------------------------------------------------------


class Level:
    """A piecewise-constant count (people in treatment, on a list, in a bed) and its history."""

    def __init__(self) -> None:
        self.value = 0
        self.times: list[float] = []
        self.values: list[int] = []

    def change(self, now: float, delta: int) -> None:
        self.value += delta
        self.times.append(now)
        self.values.append(self.value)

    def monthly_area(self, edges: np.ndarray) -> np.ndarray:
        """Level x days inside each month."""
        return area_by_month(np.array(self.times), np.array(self.values), edges)

    def at_month_ends(self, edges: np.ndarray) -> np.ndarray:
        """Level at the end of each month."""
        return level_at(np.array(self.times), np.array(self.values), edges[1:])


@dataclass
class Events:
    """Times (days) of one kind of event, optionally with a value each (a wait, in days)."""

    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def add(self, now: float, value: float = 0.0) -> None:
        self.times.append(now)
        self.values.append(value)

    def monthly_count(self, edges: np.ndarray) -> np.ndarray:
        return count_by_month(np.array(self.times), edges)

    def monthly_sum(self, edges: np.ndarray) -> np.ndarray:
        return sum_by_month(np.array(self.times), np.array(self.values), edges)


# --- referral lines -----------------------------------------------------------------------------------


class Waiting:
    """A person on a team's waiting list."""

    __slots__ = ("place", "referred", "withdrawn")

    def __init__(self, place: simpy.Event, referred: float) -> None:
        self.place = place
        self.referred = referred
        self.withdrawn = False


class Team:
    """A team with ``places`` people treated at once and a FIFO waiting list.

    A person's place is an event that succeeds when they reach the front of the list and a place is free.
    Someone whose patience runs out first is taken off the list; their event never succeeds.
    """

    def __init__(self, env: simpy.Environment, line: ReferralLine, places: int) -> None:
        self.env = env
        self.line = line
        self.places = places
        self.busy = 0
        self.queue: deque[Waiting] = deque()
        self.in_treatment = Level()
        self.waiting = Level()
        self.referrals = Events()
        self.assessed_only = Events()  # referrals assessed and not treated
        self.starts = Events()  # value: wait in days
        self.withdrawals = Events()
        self.completions = Events()  # finished courses
        self.dropouts = Events()
        self.recoveries = Events()  # finished courses that ended in reliable recovery

    @property
    def full(self) -> bool:
        """True when every place is taken (so a new referral would have to wait)."""
        return self.busy >= self.places

    def refer(self, patience_days: float) -> simpy.Event:
        """Join the list; the returned event succeeds (value: the wait in days) when treatment starts."""
        now = self.env.now
        person = Waiting(self.env.event(), now)
        self.referrals.add(now)
        self.waiting.change(now, +1)
        self.queue.append(person)
        if patience_days < NEVER:
            self.env.timeout(patience_days).callbacks.append(lambda _: self._withdraw(person))
        self._start_next()
        return person.place

    def assess_only(self) -> None:
        """A referral assessed and not treated: counted, never on the list."""
        now = self.env.now
        self.referrals.add(now)
        self.assessed_only.add(now)

    def release(self, dropped_out: bool = False, recovered: bool = False) -> None:
        """Someone leaves treatment (a finished course, or a dropout): the place goes to the next person on the
        list. ``recovered``: the course ended in reliable recovery."""
        now = self.env.now
        self.busy -= 1
        self.in_treatment.change(now, -1)
        if dropped_out:
            self.dropouts.add(now)
        else:
            self.completions.add(now)
            if recovered:
                self.recoveries.add(now)
        self._start_next()

    def _start_next(self) -> None:
        while self.busy < self.places and self.queue:
            person = self.queue.popleft()
            if person.withdrawn:
                continue
            now = self.env.now
            wait = now - person.referred
            self.busy += 1
            self.waiting.change(now, -1)
            self.in_treatment.change(now, +1)
            self.starts.add(now, wait)
            person.place.succeed(wait)

    def _withdraw(self, person: Waiting) -> None:
        if person.place.triggered:  # treatment has started
            return
        person.withdrawn = True
        now = self.env.now
        self.waiting.change(now, -1)
        self.withdrawals.add(now)

    def measures(self, edges: np.ndarray, name: str) -> dict[str, np.ndarray]:
        """Monthly measures of this line, keyed ``<name>.<measure>``."""
        days = np.diff(edges)
        starts = self.starts.monthly_count(edges)
        waits = np.array(self.starts.values)
        within = Events(self.starts.times, list((waits <= self.line.standard_days).astype(float)))
        with np.errstate(invalid="ignore", divide="ignore"):
            wait_mean = self.starts.monthly_sum(edges) / starts
        out = {
            "referrals": self.referrals.monthly_count(edges),
            "started": starts,
            "started_within_standard": within.monthly_sum(edges),
            "caseload_mean": self.in_treatment.monthly_area(edges) / days,
            "waiting_end": self.waiting.at_month_ends(edges),
            "wait_days_mean": np.where(starts > 0, wait_mean, np.nan),
            "withdrawn": self.withdrawals.monthly_count(edges),
            "completed": self.completions.monthly_count(edges),
            "in_treatment_end": self.in_treatment.at_month_ends(edges),
        }
        if isinstance(self.line, TreatmentLine):
            out["assessed_only"] = self.assessed_only.monthly_count(edges)
            out["dropped_out"] = self.dropouts.monthly_count(edges)
        if isinstance(self.line, TalkingTherapies):
            long_within = Events(self.starts.times, list((waits <= self.line.long_standard_days).astype(float)))
            out["started_within_long_standard"] = long_within.monthly_sum(edges)
            out["recovered"] = self.recoveries.monthly_count(edges)
        return {f"{name}.{key}": value for key, value in out.items()}


def referral(
    env: simpy.Environment,
    team: Team,
    held_days: float,
    patience_days: float,
    dropped_out: bool = False,
    recovers: bool = False,
):
    """One person referred to a team: waits FIFO for a place (unless they withdraw first), then holds the
    place for ``held_days`` (the episode, or a dropout's part of it) and leaves: dropped out, or a finished
    course (reliably recovered when ``recovers``)."""
    yield team.refer(patience_days)
    yield env.timeout(held_days)
    team.release(dropped_out, recovers)


def arrivals(env: simpy.Environment, times: np.ndarray, start: Callable[[int], None]):
    """Calls ``start(i)`` at each arrival time ``times[i]`` (sorted, days)."""
    for i, t in enumerate(times):
        yield env.timeout(t - env.now)
        start(i)


# --- inpatient ----------------------------------------------------------------------------------------


class Patient:
    """An inpatient stay: where it is spent now (``local`` or out of area) and whether it has ended."""

    __slots__ = ("discharged", "local")

    def __init__(self) -> None:
        self.local = False
        self.discharged = False


class Ward:
    """Local adult acute beds with overflow to out-of-area placements and FIFO repatriation."""

    def __init__(self, env: simpy.Environment, beds: int, repatriate: bool) -> None:
        self.env = env
        self.beds = beds
        self.repatriate = repatriate
        self.local = Level()
        self.oap = Level()
        self.placed_out: deque[Patient] = deque()  # OAP patients waiting to come back, first placed first
        self.requests = Events()
        self.local_admissions = Events()
        self.oap_admissions = Events()
        self.repatriations = Events()
        self.readmissions = Events()
        self.discharges = Events()

    def admit(self, patient: Patient) -> None:
        """A bed request: a free local bed if there is one, otherwise an out-of-area placement."""
        now = self.env.now
        self.requests.add(now)
        if self.local.value < self.beds:
            patient.local = True
            self.local.change(now, +1)
            self.local_admissions.add(now)
        else:
            self.oap.change(now, +1)
            self.oap_admissions.add(now)
            if self.repatriate:
                self.placed_out.append(patient)

    def discharge(self, patient: Patient) -> None:
        """End a stay; a freed local bed goes to the longest-placed OAP patient still out of area."""
        now = self.env.now
        patient.discharged = True
        self.discharges.add(now)
        if not patient.local:
            self.oap.change(now, -1)
            return
        self.local.change(now, -1)
        while self.placed_out:
            returning = self.placed_out.popleft()
            if not returning.discharged:
                returning.local = True
                self.oap.change(now, -1)
                self.local.change(now, +1)
                self.repatriations.add(now)
                break

    def measures(self, edges: np.ndarray) -> dict[str, np.ndarray]:
        days = np.diff(edges)
        local_bed_days = self.local.monthly_area(edges)
        with np.errstate(invalid="ignore", divide="ignore"):
            occupancy = local_bed_days / (self.beds * days) if self.beds else np.full(len(days), np.nan)
        out = {
            "bed_requests": self.requests.monthly_count(edges),
            "oap_admissions": self.oap_admissions.monthly_count(edges),
            "local_admissions": self.local_admissions.monthly_count(edges),
            "local_bed_days": local_bed_days,
            "oap_bed_days": self.oap.monthly_area(edges),
            "repatriations": self.repatriations.monthly_count(edges),
            "readmissions": self.readmissions.monthly_count(edges),
            "occupancy_mean": occupancy,
            "discharges": self.discharges.monthly_count(edges),
            "local_end": self.local.at_month_ends(edges),
            "oap_end": self.oap.at_month_ends(edges),
        }
        return {f"inpatient.{key}": value for key, value in out.items()}


# --- one replication ----------------------------------------------------------------------------------


class TrustModel:
    """One replication of a scenario: the SimPy environment, the teams, the ward and their random streams."""

    def __init__(self, scenario: Scenario, replication: int) -> None:
        self.scenario = scenario
        self.replication = replication
        self.env = simpy.Environment(initial_time=-scenario.warmup_days)
        self.teams: dict[str, Team] = {}
        self.ward: Ward | None = None
        self.crisis_admissions = Events()  # crisis referrals sent to a bed
        self.stepdowns = Events()  # discharged inpatients referred to the community team
        services = scenario.services
        for name in scenario.lines():
            line = getattr(services, name)
            places = line.capacity.courses if name == "talking_therapies" else line.capacity.places
            self.teams[name] = Team(self.env, line, places)
        if services.inpatient is not None:
            self.ward = Ward(self.env, services.inpatient.beds, services.inpatient.oap.repatriate)
            self._after_stay = self._after_stay_draws()
        for name, team in self.teams.items():
            self._start_line(name, team)
        if services.inpatient is not None:
            self._start_direct_admissions()

    def _rng(self, name: str) -> np.random.Generator:
        return stream(self.scenario.seed, self.replication, name)

    def _arrival_times(self, name: str, line) -> np.ndarray:
        curve = DemandCurve.for_line(line, self.scenario.start_month)
        start, end = -self.scenario.warmup_days, self.scenario.horizon_days
        return curve.arrivals(self._rng(f"{name}.arrivals"), start, end)

    def _patience(self, name: str, line: ReferralLine, n: int) -> np.ndarray:
        if line.patience_days is None:
            return np.full(n, NEVER)
        return self._rng(f"{name}.patience").exponential(line.patience_days, n)

    def _start_line(self, name: str, team: Team) -> None:
        line = team.line
        times = self._arrival_times(name, line)
        n = len(times)
        episode = line.episode_days.sample(self._rng(f"{name}.episode_days"), n)
        patience = self._patience(name, line, n)
        env = self.env
        if isinstance(line, Crisis) and self.ward is not None:
            bed_need = self._rng("crisis.bed_need").random(n)
            los = self.scenario.services.inpatient.los_days.sample(self._rng("crisis.los"), n)

            def start(i: int) -> None:
                share = line.share_when_full if team.full else line.admission_share
                if bed_need[i] < share:  # a referral the team gatekeeps straight into a bed
                    team.referrals.add(env.now)
                    self.crisis_admissions.add(env.now)
                    env.process(self.stay(los[i]))
                else:
                    env.process(referral(env, team, episode[i], patience[i]))
        elif outcome_streams(name, line):
            outcomes = self._outcomes(name, line, episode)
            no = np.zeros(n, dtype=bool)
            assessed_only = no if outcomes.assessed_only is None else outcomes.assessed_only
            dropped_out = no if outcomes.dropped_out is None else outcomes.dropped_out
            recovers = no if outcomes.recovers is None else outcomes.recovers

            def start(i: int) -> None:
                if assessed_only[i]:
                    team.assess_only()
                else:
                    held = outcomes.held[i]
                    env.process(referral(env, team, held, patience[i], dropped_out[i], recovers[i]))
        else:

            def start(i: int) -> None:
                env.process(referral(env, team, episode[i], patience[i]))

        env.process(arrivals(env, times, start))

    def _outcomes(self, name: str, line: ReferralLine, episode: np.ndarray) -> Outcomes:
        """What becomes of each external referral (assessment, dropout, recovery), from one draw per referral
        of each stream in use (:mod:`paysim.engines.referral_outcomes`)."""
        n = len(episode)
        draws = {key: self._rng(stream_name).random(n) for key, stream_name in outcome_streams(name, line).items()}
        return referral_outcomes(line, episode, draws)

    def _start_direct_admissions(self) -> None:
        inpatient = self.scenario.services.inpatient
        times = self._arrival_times("inpatient", inpatient)
        los = inpatient.los_days.sample(self._rng("inpatient.los"), len(times))
        self.env.process(arrivals(self.env, times, lambda i: self.env.process(self.stay(los[i]))))

    def _after_stay_draws(self) -> Callable[[], tuple[bool, float, float, float, float]]:
        """Per bed request, in request order: (readmitted?, days to readmission, its length of stay,
        community step-down episode days, step-down patience days)."""
        inpatient = self.scenario.services.inpatient
        community = self.scenario.services.community
        readmitted = Draws(self._rng("inpatient.readmission"), _uniform)
        delay = Draws(self._rng("inpatient.readmission_delay"), _uniform)
        los = Draws(self._rng("inpatient.readmission_los"), inpatient.los_days.sample)
        episode = Draws(self._rng("community.stepdown_episode"), _sampler(community, "episode"))
        patience = Draws(self._rng("community.stepdown_patience"), _sampler(community, "patience"))
        window = inpatient.readmission_window_days
        share = inpatient.readmission_share

        def draw() -> tuple[bool, float, float, float, float]:
            return readmitted() < share, delay() * window, los(), episode(), patience()

        return draw

    def stay(self, los: float, readmission: bool = False):
        """A bed request and the stay that follows; then step-down to community (always treated, never a
        dropout: the outcome keys apply to external referrals only) and maybe readmission."""
        ward = self.ward
        assert ward is not None
        if readmission:
            ward.readmissions.add(self.env.now)
        readmit, delay, next_los, stepdown_episode, stepdown_patience = self._after_stay()
        patient = Patient()
        ward.admit(patient)
        yield self.env.timeout(los)
        ward.discharge(patient)
        community = self.teams.get("community")
        if community is not None:
            self.stepdowns.add(self.env.now)
            self.env.process(referral(self.env, community, stepdown_episode, stepdown_patience))
        if readmit:
            self.env.process(self._readmission(delay, next_los))

    def _readmission(self, delay: float, los: float):
        yield self.env.timeout(delay)
        yield from self.stay(los, readmission=True)

    def run(self) -> dict[str, np.ndarray]:
        """Simulate to the end of the horizon and return every measure by month."""
        self.env.run(until=self.scenario.horizon_days)
        edges = month_edges(self.scenario.start_month, self.scenario.months)
        out: dict[str, np.ndarray] = {}
        if self.ward is not None:
            out.update(self.ward.measures(edges))
        for name, team in self.teams.items():
            out.update(team.measures(edges, name))
        if self.ward is not None and "crisis" in self.teams:
            out["crisis.admissions"] = self.crisis_admissions.monthly_count(edges)
        if self.ward is not None and "community" in self.teams:
            out["community.stepdowns"] = self.stepdowns.monthly_count(edges)
        return out


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.random(n)


def _sampler(line: ReferralLine | None, what: str) -> Callable[[np.random.Generator, int], np.ndarray]:
    """Draw function for a step-down referral's episode length or patience (days)."""
    if line is None:
        return lambda rng, n: np.zeros(n)
    if what == "episode":
        return line.episode_days.sample
    patience = line.patience_days
    if patience is None:
        return lambda rng, n: np.full(n, NEVER)
    return lambda rng, n: rng.exponential(patience, n)


# --- public API ---------------------------------------------------------------------------------------


def simulate(scenario: Scenario, replication: int) -> dict[str, np.ndarray]:
    """Simulate one replication; ``{measure: [month]}`` for every measure of :func:`measure_kinds`."""
    return TrustModel(scenario, replication).run()


def run(scenario: Scenario, replications: Sequence[int]) -> Activity:
    """Simulate the given replications (numbers, each with its own random streams) into an Activity."""
    kinds = measure_kinds(scenario.lines(), scenario.services.inpatient is not None)
    rows = [simulate(scenario, r) for r in replications]
    return Activity.from_replications(rows, kinds, list(replications), scenario.start_month, "des")
