"""The vector engine: the SimPy model of :mod:`paysim.engines.des`, many replications at once.

Same scenario in, same :class:`~paysim.activity.Activity` out (every measure of
:func:`~paysim.activity.measure_kinds`, same names, kinds and counting rules), computed for a chunk of
replications with array operations instead of one SimPy process per patient.

**Same model, same random numbers.** Every random number is drawn from the stream the SimPy model uses
for it (``<line>.arrivals``, ``<line>.episode_days``, ``<line>.patience``, and when their keys are set
``<line>.assessment``, ``<line>.dropout``, ``talking_therapies.recovery``, ``<line>.first_appointment``;
``crisis.bed_need``, ``crisis.los``, ``inpatient.los``, ``inpatient.readmission``,
``inpatient.readmission_delay``, ``inpatient.readmission_los``, ``community.stepdown_episode``,
``community.stepdown_patience``), in the same order, so replication *r* here sees the same referrals,
episodes, patience, referral outcomes, days to first appointments, bed needs and lengths of stay as
replication *r* of the SimPy model, and a variant with more beds or places reuses them (common random
numbers). The two engines then agree replication by replication up to
floating-point rounding of event times (the SimPy clock adds delays to the current time), which
``tests/test_vector_agreement.py`` checks, besides the statistical agreement and the closed forms.

**A steady start** (``initial_state: steady``): the people each line holds when the warm-up starts
(:mod:`paysim.engines.initial`, stream ``<line>.initial``) join first, on the warm-up's first day: a team's as
referrals arriving at that instant (prepended to the first window's referrals, or to a replication's draws), the
ward's as bed requests before any other; the crisis team's referral numbers count them first, so its gatekept
referrals are renumbered before their stays are drawn.

**No time step.** Every line is a FIFO queue with ``c`` places solved exactly in continuous time (see
:mod:`paysim.engines._kernels`): customer *k* starts at ``max(arrival_k, earliest free place)``, so
arrivals and discharges on the same day are taken in their true order. The ward is such a queue too:
places = local beds, a request that finds no free bed waits out of area, and repatriation (first placed,
first back) is FIFO service with the discharge time as the deadline; without repatriation the deadline
is the request time itself (Erlang's loss system). A team whose capacity grows (``capacity.growth``) is the same
queue: a place added at the start of contract year ``y`` is a place busy until day ``365 y``
(:func:`opening_times`), so its heap of free times starts from those times instead of ``-inf``.

**The flow of one chunk**, line by line in the order their inputs become known
(:data:`paysim.engines.flow.LINES`, where the feeds are declared):

1. talking therapies: referrals (less those assessed and not treated) -> team;
2. crisis: referrals -> team, or to a bed when gatekept (more often when the team is full on arrival);
3. inpatient: direct and crisis bed requests merged in time order with readmissions as they arise
   (per-request draws in request order), then the ward's queue for its beds (the requests do not depend
   on the beds, so a :class:`~paysim.engines.reuse.LineCache` keeps them apart);
4. community: referrals (less those assessed and not treated) merged with step-downs from the ward's
   discharges (always treated, never dropouts) -> team.

This module runs a chunk's lines in that order and tallies them; what it reads of a chunk's rows is
:class:`~paysim.engines._chunk_rows.Rows`, a team's referrals are drawn by :mod:`paysim.engines._referrals` and the
ward's bed requests and the step-downs by :mod:`paysim.engines._bed_requests`.

**Rows with their own scenarios.** A chunk's rows may each run a scenario of their own (``scenarios`` of
:func:`run`: a parameter-uncertainty run, each replication with its own parameter set, simulated as one chunk
like a central run): the same lines and clock (years, warm-up, first month, seed), any figures. Every figure
the engine reads is then taken per row (daily expected referrals, the samplers of episodes, first appointments,
patience and lengths of stay, referral-outcome shares, a team's places and their openings, gatekeeping shares,
standards, the ward's beds and placement policy, readmission share and window), and row *i* comes out exactly as
a run of its scenario alone. A chunk whose rows share the scenario computes each figure once.

With the NumPy kernels, referral lines are streamed in windows of days, so memory holds one window of
customers per replication (``[replications, customers in window]``) plus each team's free-place heap; with
numba, a team is one compiled pass per replication (:mod:`paysim.engines._numba_team`) over that
replication's draws. Bed requests are few and held whole. Chunks of replications are cut so a chunk stays
within about :data:`MEMORY_BUDGET` bytes.

**Counting rules** are those of :mod:`paysim.activity`: events count in the month they happen inside
``[0, 365 x years)``; bed days and caseloads are exact areas of the occupancy curves within each month
(summed as integers in ticks of 2**-30 day, so the sums do not depend on their order and the NumPy and
numba kernels agree bit for bit); waits count in the month treatment starts; stocks are levels at month
ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from paysim.activity import Activity, measure_kinds
from paysim.engines import _bed_requests as bed_requests
from paysim.engines import _referrals as referrals
from paysim.engines._bed_requests import Requests, StepDowns
from paysim.engines._chunk_rows import Rows
from paysim.engines._rows import by_row, pad
from paysim.engines._tally import Tally
from paysim.engines.flow import LINES, downstream, upstream
from paysim.engines.kernel_sets import kernels
from paysim.engines.referral_outcomes import uses_outcomes
from paysim.engines.reuse import LineCache, LineResult, beds_key, line_keys, requests_key
from paysim.engines.seams import Beds, Kernels, TeamInputs
from paysim.engines.settings import set_threads as set_threads  # re-exported: threads per run
from paysim.engines.slots import INF
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.scenario import Crisis, ReferralLine, Scenario, place_openings, places_by_year

ENGINE = "vector"
MEMORY_BUDGET = 384 * 2**20
"""Rough working-set target of one chunk (bytes); larger requests are split into chunks."""

# --- public API ---------------------------------------------------------------------------------------


def run(
    scenario: Scenario,
    replications: Sequence[int],
    use_numba: bool | None = None,
    chunk_size: int | None = None,
    reuse: LineCache | None = None,
    scenarios: Sequence[Scenario] | None = None,
) -> Activity:
    """Simulate the given replications (numbers, each with its own random streams) into an Activity.

    Parameters
    ----------
    scenario:
        The validated scenario.
    replications:
        Replication numbers; row *i* of the result is replication ``replications[i]``.
    use_numba:
        Compiled kernels: True, False, or None for "if numba is importable and ``PAYSIM_NUMBA`` is not 0".
        Results are identical either way.
    chunk_size:
        Replications simulated together (default: as many as fit :data:`MEMORY_BUDGET`). Results do not
        depend on it.
    reuse:
        A :class:`~paysim.engines.reuse.LineCache` to take unchanged lines from (and keep this run's lines
        in): a run that differs from an earlier one only in, say, the number of beds simulates only the
        ward. Results are identical with or without it. Not with ``scenarios``.
    scenarios:
        Each row's own scenario, ``scenarios[i]`` for row *i* (a parameter-uncertainty run: each replication
        with its own parameter set), all with the lines, years, warm-up, first month and seed of ``scenario``;
        row *i* is then exactly ``run(scenarios[i], [replications[i]])``. None: every row runs ``scenario``.

    Returns
    -------
    Activity
        ``[replication, month]`` arrays of every measure of :func:`~paysim.activity.measure_kinds`,
        engine ``"vector"``.

    Raises
    ------
    ValueError
        If ``scenarios`` does not give one scenario per replication, one of them differs from ``scenario`` in its
        lines or clock, or comes with ``reuse``.
    """
    kinds = measure_kinds(scenario.lines(), scenario.services.inpatient is not None)
    reps = np.asarray(list(replications), dtype=np.int64)
    if scenarios is not None:
        scenarios = list(scenarios)
        check_row_scenarios(scenario, scenarios, reps.size)
        if reuse is not None:
            raise ValueError("reuse: a LineCache keeps lines of one scenario; it cannot be used with per-row scenarios")
    if reps.size == 0:
        monthly = {name: np.zeros((0, scenario.months)) for name in kinds}
        return Activity(monthly, kinds, reps, scenario.start_month, ENGINE)
    kern = kernels(use_numba)
    size = chunk_size or default_chunk_size(scenario)
    parts = [
        _Chunk(scenario, reps[i : i + size], kern, None if scenarios is None else scenarios[i : i + size]).simulate(
            reuse
        )
        for i in range(0, reps.size, size)
    ]
    monthly = {name: np.concatenate([p[name] for p in parts]) for name in kinds}
    return Activity(monthly, kinds, reps, scenario.start_month, ENGINE)


ROW_CLOCK = ("seed", "years", "warmup_days", "initial_state", "start_month")
"""What every row's scenario shares with the chunk's (with its lines): the random streams' root, the clock and
how the lines start."""


def check_row_scenarios(scenario: Scenario, scenarios: Sequence[Scenario], rows: int) -> None:
    """Check per-row scenarios for :func:`run`: one per row, each with the lines and :data:`ROW_CLOCK` of
    ``scenario``.

    Raises
    ------
    ValueError
        Naming the first row at fault, the key and both values.
    """
    if len(scenarios) != rows:
        raise ValueError(f"scenarios: {len(scenarios)} scenarios for {rows} replications; give one per replication")
    lines = scenario.lines_and_ward()
    for row, own in enumerate(scenarios):
        for key in ROW_CLOCK:
            if getattr(own, key) != getattr(scenario, key):
                raise ValueError(
                    f"scenarios[{row}]: {key} is {getattr(own, key)!r}, but the run's is {getattr(scenario, key)!r}; "
                    f"every row's scenario must have the run's {', '.join(ROW_CLOCK)} and lines"
                )
        if own.lines_and_ward() != lines:
            raise ValueError(
                f"scenarios[{row}]: its service lines ({', '.join(own.lines_and_ward())}) are not the run's "
                f"({', '.join(lines)}); every row's scenario must have the run's lines"
            )


def default_chunk_size(scenario: Scenario) -> int:
    """Replications per chunk so that one chunk's arrays stay near :data:`MEMORY_BUDGET` bytes."""
    services = scenario.services
    places = [places_by_year(getattr(services, name), scenario.years)[-1] for name in scenario.lines()]
    per_rep = 8.0 * (max(places, default=0) + 1)
    if services.inpatient is not None:
        per_rep += 8.0 * 16 * _expected_requests(scenario)
    return int(np.clip(MEMORY_BUDGET // per_rep, 16, 4096))


# --- one chunk of replications ------------------------------------------------------------------------


class _Chunk(Rows):
    """One chunk of replications simulated together with kernel set ``kern``; :meth:`simulate` returns
    ``{measure: [R, month]}``.

    ``scenarios`` gives each row its own scenario (checked by :func:`check_row_scenarios`); None: every row runs
    ``scenario``, and each figure is computed once (:meth:`~paysim.engines._chunk_rows.Rows.each`)."""

    def __init__(
        self, scenario: Scenario, reps: np.ndarray, kern: Kernels, scenarios: Sequence[Scenario] | None = None
    ) -> None:
        super().__init__(scenario, reps, scenarios)
        self.kern = kern
        self.tally = Tally(self.rows, month_edges(scenario.start_month, scenario.months))

    def simulate(self, reuse: LineCache | None = None) -> dict[str, np.ndarray]:
        """Every line of the scenario, in the order their inputs become known; lines whose results are in
        ``reuse`` (same inputs, same replications) are taken from it instead of simulated again."""
        services = self.scenario.services
        ward = services.inpatient is not None
        present = {line: getattr(services, line) is not None for line in LINES}
        keys = line_keys(self.scenario) if reuse is not None else {}
        ward_key = requests_key(self.scenario) if reuse is not None and ward else ""
        stored = (
            {line: reuse.get(keys[line], self.reps) for line in LINES if present[line]} if reuse is not None else {}
        )
        # what must be simulated: a line not stored, and what feeds a line that is simulated
        redo = {line: present[line] and stored.get(line) is None for line in LINES}
        stepdowns_needed = ward and any(redo[line] for line in downstream("inpatient"))  # the ward's discharges
        requests_needed = ward and (redo["inpatient"] or stepdowns_needed)
        requests: Requests | None = None
        crisis_beds = None
        if requests_needed:
            if reuse is not None:
                kept = reuse.get(ward_key, self.reps)
                requests = None if kept is None else Requests(*kept.requests)
            if requests is None and present["crisis"] and not redo["crisis"]:
                kept = reuse.get(beds_key(keys["crisis"]), self.reps)  # the requests need the crisis team's
                if kept is None:
                    redo["crisis"] = True
                else:
                    crisis_beds = kept.beds

        stepdowns = None
        for line in LINES:  # each line after the lines that feed it (paysim.engines.flow)
            if line == "inpatient":
                if not requests_needed:
                    continue
                if requests is None:
                    requests = self.ward_requests(crisis_beds)
                    if reuse is not None:  # an entry apart: large, and the same whatever the beds
                        reuse.put(ward_key, self.reps, LineResult({}, requests=requests.arrays))
                if redo["inpatient"]:
                    self.inpatient(requests)
                if stepdowns_needed:
                    stepdowns = self.stepdowns(requests)
            elif redo[line]:
                beds = self.team(line, stepdowns if "inpatient" in upstream(line) else None)
                if "inpatient" in downstream(line):
                    crisis_beds = beds

        for line in LINES:
            if not present[line]:
                continue
            if redo[line]:
                if reuse is not None:
                    reuse.put(keys[line], self.reps, LineResult(self.tally.of(line)))
                    if line == "crisis" and crisis_beds is not None:  # an entry apart: large, may leave alone
                        reuse.put(beds_key(keys[line]), self.reps, LineResult({}, crisis_beds))
            else:
                self.tally.add(line, stored[line].sums)
        beds = self.figure(lambda own: own.services.inpatient.beds, int) if ward else 0
        return self.tally.result(self.scenario, beds)

    # referral lines

    def team(self, name: str, stepdowns: StepDowns | None = None) -> Beds | None:
        """Simulate team ``name`` (with the ward's step-downs, for community) through the kernel set's
        :meth:`~paysim.engines.seams.Kernels.team` and tally it. Returns the crisis team's bed requests
        ``(times, referral numbers)``, each ``[R, n]`` (the ward draws their stays,
        :func:`paysim.engines._bed_requests.ward_requests`), or None."""
        sums, beds = self.kern.team(self.team_inputs(name, stepdowns))
        self.tally.add(name, sums)
        people = self.initial_people(name)
        if beds is not None and people is not None:  # referral numbers count the people held at the start first
            held = np.array([p.count for p in people], dtype=float)[:, None]
            beds = (beds[0], np.where(beds[1] >= 0, beds[1] - held, beds[1]))
        return beds

    def team_inputs(self, name: str, stepdowns: StepDowns | None = None) -> TeamInputs:
        """Team ``name``'s figures (per row) and draws for the kernels (:class:`~paysim.engines.seams.TeamInputs`):
        the draws by windows over the chunk (:func:`~paysim.engines._referrals.windows`, merged with
        ``stepdowns``) or by replication (:func:`~paysim.engines._referrals.team_draws`), the same draws either
        way."""
        scenario = self.scenario
        line = getattr(scenario.services, name)
        gatekeeping = isinstance(line, Crisis) and scenario.services.inpatient is not None
        warmup_days, years = scenario.warmup_days, scenario.years

        def own(figure: Callable[[Any], Any]) -> np.ndarray:
            return self.figure(lambda s: figure(getattr(s.services, name)))

        if self.scenarios is None:
            opening = opening_times(line, warmup_days, years)
        else:  # each row's places; a row with fewer padded with places that never open
            opening = pad(self.each(lambda s: opening_times(getattr(s.services, name), warmup_days, years)), INF)
        self.initial_people(name)  # drawn once, before the kernels' threads ask for them

        def windows() -> Iterator[dict[str, np.ndarray]]:
            feed = referrals.windows(self, name, bed_draws=gatekeeping)
            return feed if stepdowns is None else referrals.merge_windows(feed, stepdowns)

        no_share = by_row(-1.0, self.rows)
        return TeamInputs(
            rows=self.rows,
            days=self.days,
            edges=np.asarray(self.tally.edges, dtype=float),
            opening=opening,
            gatekeeping=gatekeeping,
            share=own(lambda crisis: crisis.admission_share) if gatekeeping else no_share,
            share_full=own(lambda crisis: crisis.share_when_full) if gatekeeping else no_share,
            standard=own(lambda team: team.standard_days),
            long_standard=own(lambda team: _or_inf(getattr(team, "long_standard_days", None))),
            outcomes=any(uses_outcomes(name, getattr(s.services, name)) for s in self.distinct),
            windows=windows,
            replication=lambda row: referrals.team_draws(self, name, row, gatekeeping, stepdowns),
        )

    # inpatient

    def ward_requests(self, crisis_beds: tuple[np.ndarray, np.ndarray] | None) -> Requests:
        """Every bed request of the chunk in time order, with its length of stay
        (:func:`paysim.engines._bed_requests.ward_requests`)."""
        return bed_requests.ward_requests(self, self.kern, crisis_beds)

    def inpatient(self, requests: Requests) -> None:
        """The ward: bed requests to local beds, a local wait or out of area, and back (the placement policy of
        ``services.inpatient.oap``, :mod:`paysim.engines._ward`, each row its own); tally the inpatient measures."""
        time, discharge = requests.time, requests.discharge
        admit, placed, back = self.kern.ward(
            time,
            discharge,
            self.figure(lambda s: s.services.inpatient.beds, int),
            self.figure(lambda s: s.services.inpatient.oap.wait_days),
            self.figure(lambda s: s.services.inpatient.oap.repatriate, bool),
            self.figure(lambda s: s.services.inpatient.oap.repatriate_after_days),
            self.figure(lambda s: s.services.inpatient.oap.reserved_beds(s.services.inpatient.beds), int),
            self.horizon,
        )
        tallies = self.kern.tally_ward(self.tally.edges, time, admit, placed, back, discharge, requests.readm)
        self.tally.add("inpatient", tallies)

    def stepdowns(self, requests: Requests) -> StepDowns:
        """The community team's step-downs from the ward's discharges
        (:func:`paysim.engines._bed_requests.stepdowns`)."""
        return bed_requests.stepdowns(self, requests)


def _or_inf(value: float | None) -> float:
    return INF if value is None else float(value)


def opening_times(line: ReferralLine, warmup_days: int, years: int) -> np.ndarray:
    """When each place of a team opens (days from the horizon start), ascending, ``[most places]``: ``-inf`` (free
    since ever) for the places at the start of the warm-up, ``365 y`` for those added at the start of contract
    year ``y`` (:func:`~paysim.model.scenario.place_openings`; ``y`` is negative in the warm-up).

    In a FIFO queue a place that opens at ``T`` is a place busy until ``T``, so a team whose capacity grows is the
    same queue with its free-time heap starting from these values (ascending values are a valid heap of any
    arity); the tallies count only the people treated, so such a place adds no caseload before it opens.
    """
    openings = place_openings(line, warmup_days, years)
    opening = np.full(openings[-1][1], -INF)
    for (_, before), (day, places) in pairwise(openings):
        opening[before:places] = day
    return opening


def _expected_requests(scenario: Scenario) -> float:
    """Rough bed requests per replication over the whole run (for chunk sizing)."""
    services = scenario.services
    start, end = -scenario.warmup_days, scenario.horizon_days
    requests = float(DemandCurve.for_line(services.inpatient, scenario.start_month).expected(start, end))
    if services.crisis is not None:
        crisis = float(DemandCurve.for_line(services.crisis, scenario.start_month).expected(start, end))
        requests += crisis * services.crisis.share_when_full
    share = min(services.inpatient.readmission_share, 0.9)
    return requests / (1.0 - share) + 64
