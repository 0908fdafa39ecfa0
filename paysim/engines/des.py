"""The SimPy model: patient by patient, in continuous time (the reference engine).

One replication simulates ``[-warmup_days, 365 * years)`` days. Each referral line is a team with a number of
places and a FIFO waiting list (talking therapies and community may add places at the start of each contract
year, ``capacity.growth``: the new places go at once to the next people on the list); the inpatient line is a
ward of local beds that overflows to out-of-area placements. The flows between them:

* **talking therapies, community, crisis**: a referral waits FIFO for a free place (or, with
  ``patience_days``, leaves the list after an exponential time), then holds the place for its episode.
  In talking therapies and community a share ``1 - treated_share`` of referrals is assessed and not
  treated (never on the list), and a share ``dropout_share`` of starters leaves part-way through its
  episode (see :mod:`paysim.engines.referral_outcomes`); the others finish (and in talking therapies a share
  ``recovery_share`` of them reliably recovers). With ``first_appointment_days``, a person allocated a place
  has their first appointment some days later: the place is held meanwhile, and their wait runs to it.
* **crisis -> bed**: each crisis referral needs a bed with probability ``admission_share``, or
  ``admission_share_when_full`` if every team place is taken when it arrives; it then goes to the ward
  instead of the team.
* **inpatient**: a bed request (direct admission, crisis admission or readmission) takes a free local bed,
  or else goes out of area (unlimited places). With ``oap.repatriate`` on, each local bed that frees goes to
  the longest-placed OAP patient, who finishes their stay locally. The length of stay is drawn once per
  request and does not depend on where it is spent.
* **after discharge**: the patient is referred to the community team (if the scenario has one) and, with
  probability ``readmission_share``, requests a bed again uniformly within ``readmission_window_days``.

With ``initial_state: steady`` each line starts the warm-up holding the people of
:mod:`paysim.engines.initial`: they join at its first instant, before any referral, as referrals holding their
place for their remaining days (the ward's as bed requests staying their remaining days).

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

from paysim.activity import OAP_LENGTH_BANDS, Activity, measure_kinds
from paysim.engines import initial
from paysim.engines.referral_outcomes import Outcomes, draw_outcomes, uses_outcomes
from paysim.model import streams as st
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.lines import line_stream
from paysim.model.scenario import (
    Crisis,
    OutOfArea,
    ReferralLine,
    Scenario,
    TalkingTherapies,
    TreatmentLine,
    place_openings,
)
from paysim.model.streams import Draws, stream
from paysim.monitors import area_by_month, count_by_month, level_at, sum_by_month

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
    """A person on a team's waiting list; ``first_appointment``: days from allocation to the first appointment."""

    __slots__ = ("first_appointment", "place", "referred", "withdrawn")

    def __init__(self, place: simpy.Event, referred: float, first_appointment: float) -> None:
        self.place = place
        self.referred = referred
        self.first_appointment = first_appointment
        self.withdrawn = False


class Team:
    """A team with ``places`` people treated at once (more from a contract year's start when its capacity grows,
    :meth:`add_places`) and a FIFO waiting list.

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
        self.starts = Events()  # places allocated; value: wait in days, to the first appointment
        self.withdrawals = Events()
        self.completions = Events()  # finished courses
        self.dropouts = Events()
        self.recoveries = Events()  # finished courses that ended in reliable recovery

    @property
    def full(self) -> bool:
        """True when every place is taken (so a new referral would have to wait)."""
        return self.busy >= self.places

    def refer(self, patience_days: float, first_appointment: float = 0.0) -> simpy.Event:
        """Join the list; the returned event succeeds (value: the wait in days) when a place is allocated and
        treatment starts. The wait runs to the first appointment, ``first_appointment`` days after that."""
        now = self.env.now
        person = Waiting(self.env.event(), now, first_appointment)
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

    def add_places(self, added: int) -> None:
        """Places added (the capacity's growth at the start of a contract year): they go at once to the next
        people on the list."""
        self.places += added
        self._start_next()

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
            wait = now - person.referred + person.first_appointment
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
    first_appointment: float = 0.0,
):
    """One person referred to a team: waits FIFO for a place (unless they withdraw first), then holds the
    place for ``held_days`` (the ``first_appointment`` days to their first appointment, then the episode or a
    dropout's part of it) and leaves: dropped out, or a finished course (reliably recovered when ``recovers``).
    Their wait runs from referral to the first appointment."""
    yield team.refer(patience_days, first_appointment)
    yield env.timeout(held_days)
    team.release(dropped_out, recovers)


def capacity_growth(env: simpy.Environment, team: Team, openings: Sequence[tuple[float, int]]):
    """Adds places to the team as its capacity grows: ``openings`` are ``(day, places from that day)`` after the
    first (:func:`~paysim.model.scenario.place_openings`)."""
    places = team.places
    for day, now_places in openings:
        yield env.timeout(day - env.now)
        if now_places > places:
            team.add_places(now_places - places)
            places = now_places


def arrivals(env: simpy.Environment, times: np.ndarray, start: Callable[[int], None]):
    """Calls ``start(i)`` at each arrival time ``times[i]`` (sorted, days)."""
    for i, t in enumerate(times):
        yield env.timeout(t - env.now)
        start(i)


# --- inpatient ----------------------------------------------------------------------------------------


class Patient:
    """An inpatient stay: when it ends (fixed at the request), where it is spent now, when it was placed out."""

    __slots__ = ("discharge", "placed", "state")

    WAITING, LOCAL, OUT, ENDED = range(4)

    def __init__(self, discharge: float) -> None:
        self.discharge = discharge
        self.placed = NEVER
        self.state = Patient.WAITING


class Ward:
    """Local adult acute beds, a local wait for a free one, out-of-area placements and repatriation.

    The policy (``services.inpatient.oap``): a request takes a free local bed, else waits locally up to
    ``wait_days`` (a bed that frees goes to the longest-waiting request), then is placed out of area. With
    ``repatriate``, a bed that frees with nobody waiting goes to the longest-placed patient who has been out
    at least ``repatriate_after_days``, if more than the reserved beds (``repatriate_keep_free``) are free.
    The vector engine's :func:`paysim.engines._ward.ward_row` is the same policy.
    """

    def __init__(self, env: simpy.Environment, beds: int, oap: OutOfArea) -> None:
        self.env = env
        self.beds = beds
        self.wait_days = oap.wait_days
        self.repatriate = oap.repatriate
        self.after = oap.repatriate_after_days
        self.reserve = oap.reserved_beds(beds)
        self.local = Level()
        self.oap = Level()
        self.waiting = Level()
        self.waiting_list: deque[Patient] = deque()  # waiting locally for a bed, first come first served
        self.placed_out: deque[Patient] = deque()  # out of area and to come back, first placed first back
        self.requests = Events()
        self.local_admissions = Events()
        self.oap_admissions = Events()
        self.repatriations = Events()
        self.readmissions = Events()
        self.discharges = Events()
        self.ended_waiting = Events()
        self.oap_ended = Events()  # value: length of the placement, days

    def request(self, patient: Patient) -> None:
        """A bed request: a free local bed, else a wait on the local list (or a placement at once)."""
        now = self.env.now
        self.requests.add(now)
        self.waiting_list.append(patient)
        self.waiting.change(now, +1)
        self._fill()
        if patient.state != Patient.WAITING:
            return
        if self.wait_days > 0:
            self.env.timeout(self.wait_days).callbacks.append(lambda _: self._wait_over(patient))
        else:
            self._place_out(patient)

    def discharge(self, patient: Patient) -> None:
        """A stay ends (wherever it is spent); a freed local bed is filled again."""
        now = self.env.now
        self.discharges.add(now)
        state, patient.state = patient.state, Patient.ENDED
        if state == Patient.WAITING:  # the stay ended before a bed was found
            self.waiting.change(now, -1)
            self.ended_waiting.add(now)
        elif state == Patient.OUT:
            self.oap.change(now, -1)
            self.oap_ended.add(now, now - patient.placed)
        else:
            self.local.change(now, -1)
            self._fill()

    def _wait_over(self, patient: Patient) -> None:
        if patient.state == Patient.WAITING and patient.discharge > self.env.now:
            self._place_out(patient)

    def _place_out(self, patient: Patient) -> None:
        now = self.env.now
        patient.state = Patient.OUT
        patient.placed = now
        self.waiting.change(now, -1)
        self.oap.change(now, +1)
        self.oap_admissions.add(now)
        if self.repatriate:
            self.placed_out.append(patient)
            if self.after > 0:  # beds are full now; it may come back once eligible
                self.env.timeout(self.after).callbacks.append(lambda _: self._fill())

    def _fill(self) -> None:
        """Free local beds go to requests waiting locally, then to eligible patients out of area."""
        now = self.env.now
        while self.local.value < self.beds:
            waiting, placed_out = self.waiting_list, self.placed_out
            while waiting and (waiting[0].state != Patient.WAITING or waiting[0].discharge <= now):
                waiting.popleft()
            if waiting:
                patient = waiting.popleft()
                self.waiting.change(now, -1)
                self.local_admissions.add(now)
            elif self.repatriate and self.beds - self.local.value > self.reserve:
                while placed_out and (placed_out[0].state != Patient.OUT or placed_out[0].discharge <= now):
                    placed_out.popleft()
                if not placed_out or placed_out[0].placed + self.after > now:
                    return
                patient = placed_out.popleft()
                self.oap.change(now, -1)
                self.repatriations.add(now)
                self.oap_ended.add(now, now - patient.placed)
            else:
                return
            patient.state = Patient.LOCAL
            self.local.change(now, +1)

    def measures(self, edges: np.ndarray) -> dict[str, np.ndarray]:
        days = np.diff(edges)
        local_bed_days = self.local.monthly_area(edges)
        with np.errstate(invalid="ignore", divide="ignore"):
            occupancy = local_bed_days / (self.beds * days) if self.beds else np.full(len(days), np.nan)
        lengths = np.array(self.oap_ended.values)
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
            "waiting_end": self.waiting.at_month_ends(edges),
            "bed_wait_days": self.waiting.monthly_area(edges),
            "ended_waiting": self.ended_waiting.monthly_count(edges),
            "oap_ended": self.oap_ended.monthly_count(edges),
        }
        low = -np.inf
        for band, high in OAP_LENGTH_BANDS.items():
            within = Events(self.oap_ended.times, list(((lengths > low) & (lengths <= high)).astype(float)))
            out[band] = within.monthly_sum(edges)
            low = high
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
            openings = place_openings(getattr(services, name), scenario.warmup_days, scenario.years)
            team = self.teams[name] = Team(self.env, getattr(services, name), openings[0][1])
            if openings[-1][1] > openings[0][1]:  # the capacity grows: places are added at the start of years
                self.env.process(capacity_growth(self.env, team, openings[1:]))
        if services.inpatient is not None:
            self.ward = Ward(self.env, services.inpatient.beds, services.inpatient.oap)
            self._after_stay = self._after_stay_draws()
        if initial.steady(scenario):
            self._start_steady()
        for name, team in self.teams.items():
            self._start_line(name, team)
        if services.inpatient is not None:
            self._start_direct_admissions()

    def _start_steady(self) -> None:
        """The people each line holds at the start of the warm-up (:mod:`paysim.engines.initial`), joining at
        once in the order drawn, before any referral: each team's as referrals holding their place for their
        remaining days (or waiting, with their patience, if the team is full), the ward's as bed requests staying
        their remaining days (then step-down and maybe readmission, as any stay)."""
        env = self.env
        for name, team in self.teams.items():
            people = initial.team_people(self.scenario, name, self._rng(line_stream(name, st.INITIAL)))
            for held, patience, dropped_out, recovers in zip(
                people.remaining, people.patience, people.dropped_out, people.recovers, strict=True
            ):
                env.process(referral(env, team, float(held), float(patience), bool(dropped_out), bool(recovers)))
        if self.ward is not None:
            for los in initial.ward_stays(self.scenario, self._rng(line_stream("inpatient", st.INITIAL))):
                env.process(self.stay(float(los)))

    def _rng(self, name: str) -> np.random.Generator:
        return stream(self.scenario.seed, self.replication, name)

    def _arrival_times(self, name: str, line) -> np.ndarray:
        curve = DemandCurve.for_line(line, self.scenario.start_month)
        start, end = -self.scenario.warmup_days, self.scenario.horizon_days
        return curve.arrivals(self._rng(line_stream(name, st.ARRIVALS)), start, end)

    def _patience(self, name: str, line: ReferralLine, n: int) -> np.ndarray:
        if line.patience_days is None:
            return np.full(n, NEVER)
        return self._rng(line_stream(name, st.PATIENCE)).exponential(line.patience_days, n)

    def _start_line(self, name: str, team: Team) -> None:
        line = team.line
        times = self._arrival_times(name, line)
        n = len(times)
        episode = line.episode_days.sample(self._rng(line_stream(name, st.EPISODE_DAYS)), n)
        patience = self._patience(name, line, n)
        env = self.env
        if isinstance(line, Crisis) and self.ward is not None:
            bed_need = self._rng(line_stream("crisis", st.BED_NEED)).random(n)
            los = self.scenario.services.inpatient.los_days.sample(self._rng(line_stream("crisis", st.LOS)), n)

            def start(i: int) -> None:
                share = line.share_when_full if team.full else line.admission_share
                if bed_need[i] < share:  # a referral the team gatekeeps straight into a bed
                    team.referrals.add(env.now)
                    self.crisis_admissions.add(env.now)
                    env.process(self.stay(los[i]))
                else:
                    env.process(referral(env, team, episode[i], patience[i]))
        elif uses_outcomes(name, line):
            outcomes = self._outcomes(name, line, episode)
            no = np.zeros(n, dtype=bool)
            assessed_only = no if outcomes.assessed_only is None else outcomes.assessed_only
            dropped_out = no if outcomes.dropped_out is None else outcomes.dropped_out
            recovers = no if outcomes.recovers is None else outcomes.recovers
            first_appointment = np.zeros(n) if outcomes.first_appointment is None else outcomes.first_appointment

            def start(i: int) -> None:
                if assessed_only[i]:
                    team.assess_only()
                else:
                    held, booked = outcomes.held[i], float(first_appointment[i])
                    env.process(referral(env, team, held, patience[i], dropped_out[i], recovers[i], booked))
        else:

            def start(i: int) -> None:
                env.process(referral(env, team, episode[i], patience[i]))

        env.process(arrivals(env, times, start))

    def _outcomes(self, name: str, line: ReferralLine, episode: np.ndarray) -> Outcomes:
        """What becomes of each external referral (assessment, dropout, recovery, the days from allocation to
        the first appointment), from one draw per referral of each stream in use
        (:mod:`paysim.engines.referral_outcomes`)."""
        return draw_outcomes(name, line, episode, self._rng)

    def _start_direct_admissions(self) -> None:
        inpatient = self.scenario.services.inpatient
        times = self._arrival_times("inpatient", inpatient)
        los = inpatient.los_days.sample(self._rng(line_stream("inpatient", st.LOS)), len(times))
        self.env.process(arrivals(self.env, times, lambda i: self.env.process(self.stay(los[i]))))

    def _after_stay_draws(self) -> Callable[[], tuple[bool, float, float, float, float]]:
        """Per bed request, in request order: (readmitted?, days to readmission, its length of stay,
        community step-down episode days, step-down patience days)."""
        inpatient = self.scenario.services.inpatient
        community = self.scenario.services.community
        readmitted = Draws(self._rng(line_stream("inpatient", st.READMISSION)), _uniform)
        delay = Draws(self._rng(line_stream("inpatient", st.READMISSION_DELAY)), _uniform)
        los = Draws(self._rng(line_stream("inpatient", st.READMISSION_LOS)), inpatient.los_days.sample)
        episode = Draws(self._rng(line_stream("community", st.STEPDOWN_EPISODE)), _sampler(community, "episode"))
        patience = Draws(self._rng(line_stream("community", st.STEPDOWN_PATIENCE)), _sampler(community, "patience"))
        window = inpatient.readmission_window_days
        share = inpatient.readmission_share

        def draw() -> tuple[bool, float, float, float, float]:
            return readmitted() < share, delay() * window, los(), episode(), patience()

        return draw

    def stay(self, los: float, readmission: bool = False):
        """A bed request and the stay that follows; then step-down to community (always treated, first
        appointment at once, never a dropout: the outcome keys apply to external referrals only) and maybe
        readmission."""
        ward = self.ward
        assert ward is not None
        if readmission:
            ward.readmissions.add(self.env.now)
        readmit, delay, next_los, stepdown_episode, stepdown_patience = self._after_stay()
        patient = Patient(self.env.now + los)
        ward.request(patient)
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
