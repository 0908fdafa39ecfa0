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
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np

from paysim.activity import Activity, measure_kinds
from paysim.engines import initial
from paysim.engines._rows import (
    Sampler,
    arrange_days,
    by_row,
    exponential,
    merge_rows,
    merge_sorted,
    never,
    pad,
    per_row,
    uniform,
)
from paysim.engines._tally import Tally
from paysim.engines.flow import LINES, downstream, upstream
from paysim.engines.kernel_sets import kernels
from paysim.engines.referral_outcomes import (
    FLAGS,
    RowShares,
    draw_outcomes,
    first_appointment_stream,
    outcome_streams,
    referral_outcomes,
    uses_outcomes,
)
from paysim.engines.reuse import LineCache, LineResult, beds_key, line_keys, requests_key
from paysim.engines.seams import Beds, Kernels, TeamDraws, TeamInputs
from paysim.engines.settings import set_threads as set_threads  # re-exported: threads per run
from paysim.engines.slots import INF
from paysim.model import streams as st
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.lines import line_stream
from paysim.model.scenario import Crisis, ReferralLine, Scenario, place_openings, places_by_year
from paysim.model.streams import stream

ENGINE = "vector"
MEMORY_BUDGET = 384 * 2**20
"""Rough working-set target of one chunk (bytes); larger requests are split into chunks."""
BLOCK_ELEMENTS = 2_000_000
"""Target replications x customers in one window of a referral line."""

T = TypeVar("T")


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


class _Chunk:
    """One chunk of replications simulated together; :meth:`simulate` returns ``{measure: [R, month]}``.

    ``scenarios`` gives each row its own scenario (checked by :func:`check_row_scenarios`); None: every row runs
    ``scenario``, and each figure is computed once (:meth:`each`)."""

    def __init__(
        self, scenario: Scenario, reps: np.ndarray, kern: Kernels, scenarios: Sequence[Scenario] | None = None
    ) -> None:
        self.scenario = scenario
        self.scenarios = None if scenarios is None else list(scenarios)
        self.distinct = [scenario] if scenarios is None else self.scenarios
        """The scenarios to read what may differ between rows from: the chunk's alone, or every row's."""
        self.reps = reps
        self.kern = kern
        self.rows = reps.size
        self.horizon = float(scenario.horizon_days)
        self.days = np.arange(-scenario.warmup_days, scenario.horizon_days, dtype=float)
        self.tally = Tally(self.rows, month_edges(scenario.start_month, scenario.months))
        self._initial: dict[str, list[initial.InitialPeople]] = {}

    def initial_people(self, name: str) -> list[initial.InitialPeople] | None:
        """Row by row, the people team ``name`` holds at the start of the warm-up with a steady-state start
        (:mod:`paysim.engines.initial`, stream ``<name>.initial``), or None with an empty start."""
        if not initial.steady(self.scenario):
            return None
        if name not in self._initial:
            self._initial[name] = per_row(
                lambda row, r: initial.team_people_of(self.scenario_of(row), name, int(r)), range(self.rows), self.reps
            )
        return self._initial[name]

    def rngs(self, name: str) -> list[np.random.Generator]:
        """One generator per replication for stream ``name``."""
        return [stream(self.scenario.seed, int(r), name) for r in self.reps]

    def each(self, figure: Callable[[Scenario], T]) -> list[T]:
        """``figure`` of each row's scenario, ``[R]`` (computed once when the rows share the chunk's)."""
        if self.scenarios is None:
            return [figure(self.scenario)] * self.rows
        return [figure(own) for own in self.scenarios]

    def figure(self, figure: Callable[[Scenario], Any], dtype: type = float) -> np.ndarray:
        """A per-row figure as an ``[R]`` array (``figure`` of each row's scenario, once when they share one)."""
        if self.scenarios is None:
            return by_row(figure(self.scenario), self.rows, dtype)
        return np.array([figure(own) for own in self.scenarios], dtype=dtype)

    def scenario_of(self, row: int) -> Scenario:
        """Row ``row``'s scenario."""
        return self.scenario if self.scenarios is None else self.scenarios[row]

    def draw(self, samplers: Sequence[Sampler], rngs: Sequence[np.random.Generator], counts: Sequence[int]) -> list:
        """Each row's draws, ``samplers[i](rngs[i], counts[i])``, rows on :func:`per_row`'s threads."""
        if self.scenarios is None:  # one sampler for every row
            return per_row(samplers[0], rngs, counts)
        return per_row(_apply, samplers, rngs, counts)

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
        requests: _Requests | None = None
        crisis_beds = None
        if requests_needed:
            if reuse is not None:
                kept = reuse.get(ward_key, self.reps)
                requests = None if kept is None else _Requests(*kept.requests)
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

    def team(self, name: str, stepdowns: _StepDowns | None = None) -> Beds | None:
        """Simulate team ``name`` (with the ward's step-downs, for community) through the kernel set's
        :meth:`~paysim.engines.seams.Kernels.team` and tally it. Returns the crisis team's bed requests
        ``(times, referral numbers)``, each ``[R, n]`` (the ward draws their stays, :func:`_ward_stays`), or None."""
        sums, beds = self.kern.team(self.team_inputs(name, stepdowns))
        self.tally.add(name, sums)
        people = self.initial_people(name)
        if beds is not None and people is not None:  # referral numbers count the people held at the start first
            held = np.array([p.count for p in people], dtype=float)[:, None]
            beds = (beds[0], np.where(beds[1] >= 0, beds[1] - held, beds[1]))
        return beds

    def team_inputs(self, name: str, stepdowns: _StepDowns | None = None) -> TeamInputs:
        """Team ``name``'s figures (per row) and draws for the kernels (:class:`~paysim.engines.seams.TeamInputs`):
        the draws by windows over the chunk (:meth:`referrals`, merged with ``stepdowns``) or by replication
        (:meth:`team_draws`), the same draws either way."""
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
            feed = self.referrals(name, bed_draws=gatekeeping)
            return feed if stepdowns is None else _merge_windows(feed, stepdowns)

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
            replication=lambda row: self.team_draws(name, row, gatekeeping, stepdowns),
        )

    def referrals(self, name: str, bed_draws: bool = False) -> Iterator[dict[str, np.ndarray]]:
        """External referrals of line ``name``, window by window: ``arrival``, ``episode`` (days a starter
        holds its place: the days to its first appointment, then its episode or a dropout's part of it),
        ``patience``, the referral outcomes in use (``assessed_only``, ``dropped_out``, ``recovers``: bool;
        ``first_appointment``: days from allocation to the first appointment; see
        :mod:`paysim.engines.referral_outcomes`), and for crisis gatekeeping ``bed_u`` and ``index`` (the
        referral's number in its replication), each ``[R, K]``, sorted by arrival, ``+inf`` padding.

        With rows of their own scenarios, a draw some rows use and others not (a referral-outcome key away from
        its default, a first appointment, patience) is drawn for the rows that use it only, the others' drawing
        nothing (their draws, padding, read as the key's default)."""
        lines = self.each(lambda s: getattr(s.services, name))
        distinct = [getattr(s.services, name) for s in self.distinct]
        attributes: dict[str, tuple[str, list[Sampler]]] = {
            "episode": (line_stream(name, st.EPISODE_DAYS), [line.episode_days.sample for line in lines])
        }
        if any(line.patience_days is not None for line in distinct):
            attributes["patience"] = (
                line_stream(name, st.PATIENCE),
                self.each(lambda s: _patience_sampler(getattr(s.services, name).patience_days)),
            )
        if bed_draws:
            attributes["bed_u"] = (line_stream("crisis", st.BED_NEED), [uniform] * self.rows)
        outcome_draws: dict[str, str] = {}
        for line in distinct:
            outcome_draws.update(outcome_streams(name, line))
        for key, stream_name in outcome_draws.items():
            attributes[key] = (stream_name, self.each(lambda s, key=key: _outcome_sampler(name, s, key)))
        appointment_stream = next(filter(None, (first_appointment_stream(name, line) for line in distinct)), None)
        if appointment_stream is not None:
            attributes["first_appointment"] = (appointment_stream, self.each(lambda s: _appointment_sampler(name, s)))
        outcomes_used = any(uses_outcomes(name, line) for line in distinct)
        shares = lines[0] if self.scenarios is None else RowShares.of(lines)
        people = self.initial_people(name)
        arrivals = _Arrivals(self, name)
        window = _window_days(self.rows, arrivals.peak_per_day)
        generators = {key: self.rngs(stream_name) for key, (stream_name, _) in attributes.items()}
        seen = np.zeros(self.rows)
        for first in range(0, self.days.size, window):
            last = min(first + window, self.days.size)
            times, counts = arrivals.window(first, last)
            block = {"arrival": times}
            for key, (_, samplers) in attributes.items():
                block[key] = pad(self.draw(samplers, generators[key], [int(n) for n in counts]), 0.0, times.shape[1])
            if "patience" not in block:
                block["patience"] = np.full(times.shape, INF)
            if outcomes_used:
                draws = {key: block.pop(key) for key in outcome_draws}
                outcomes = referral_outcomes(shares, block["episode"], draws, block.get("first_appointment"))
                block["episode"] = outcomes.held
                for key in FLAGS:
                    if getattr(outcomes, key) is not None:
                        block[key] = getattr(outcomes, key)
            if first == 0 and people is not None:  # the people held at the start join first, on the first day
                block = _with_initial(block, people, float(self.days[0]))
                counts = counts + np.array([p.count for p in people])
            if bed_draws:
                block["index"] = seen[:, None] + np.arange(block["arrival"].shape[1])
                seen = seen + counts
            block["window_end"] = np.array(self.days[last] if last < self.days.size else self.horizon)
            yield block

    def team_draws(self, name: str, row: int, gatekeeping: bool, stepdowns: _StepDowns | None) -> TeamDraws:
        """Row ``row``'s draws for team ``name`` whole, from the same streams in the same order as
        :meth:`referrals` takes them window by window (:class:`~paysim.engines.seams.TeamDraws`)."""
        scenario = self.scenario_of(row)
        line = getattr(scenario.services, name)
        seed = scenario.seed
        r = int(self.reps[row])
        curve = DemandCurve.for_line(line, scenario.start_month)
        _, expected = curve.daily(-scenario.warmup_days, scenario.horizon_days)
        none = np.zeros(0)
        nobody = np.zeros(0, dtype=bool)  # an outcome flag at its key's default
        arrivals = stream(seed, r, line_stream(name, st.ARRIVALS))
        counts = arrivals.poisson(expected)
        n = int(counts.sum())
        uniforms = arrivals.random(n)
        episodes = line.episode_days.sample(stream(seed, r, line_stream(name, st.EPISODE_DAYS)), n)
        if line.patience_days is None:
            patience = np.full(n, INF)
        else:
            patience = stream(seed, r, line_stream(name, st.PATIENCE)).exponential(line.patience_days, n)
        bed_need = stream(seed, r, line_stream("crisis", st.BED_NEED)).random(n) if gatekeeping else none
        flags = (nobody, nobody, nobody)
        first_appointment = none  # at once
        if uses_outcomes(name, line):
            outcomes = draw_outcomes(name, line, episodes, lambda stream_name: stream(seed, r, stream_name))
            episodes = outcomes.held
            flags = tuple(nobody if getattr(outcomes, key) is None else getattr(outcomes, key) for key in FLAGS)
            if outcomes.first_appointment is not None:
                first_appointment = outcomes.first_appointment
        people = self.initial_people(name)
        if people is not None and people[row].count:  # they join first, on the first day (time offset 0)
            start = people[row]
            k = start.count
            counts[0] += k
            uniforms = np.concatenate([np.zeros(k), uniforms])
            episodes = np.concatenate([start.remaining, episodes])
            patience = np.concatenate([start.patience, patience])
            own = (np.zeros(k, dtype=bool), start.dropped_out, start.recovers)  # in FLAGS order
            flags = tuple(
                flag if flag.size == 0 else np.concatenate([mine, flag]) for flag, mine in zip(flags, own, strict=True)
            )
            if first_appointment.size:
                first_appointment = np.concatenate([np.zeros(k), first_appointment])
            if gatekeeping:
                bed_need = np.concatenate([np.full(k, INF), bed_need])  # in treatment already: never gatekept
        if stepdowns is None:
            extra = (none, none, none)
        else:
            extra = (stepdowns.time[row], stepdowns.episode[row], stepdowns.patience[row])
        return TeamDraws(counts, uniforms, episodes, patience, *flags, first_appointment, bed_need, *extra)

    # inpatient

    def ward_requests(self, crisis_beds: tuple[np.ndarray, np.ndarray] | None) -> _Requests:
        """Every bed request of the chunk (direct, crisis, readmissions) in time order, with its length of stay.
        They do not depend on the number of beds or on out-of-area placement, which only decide where a
        patient stays (see :func:`~paysim.engines.reuse.requests_key`); with a steady start the in-patients held
        at the start request their beds first, on the warm-up's first day (:mod:`paysim.engines.initial`).

        A row's lengths of stay (its direct requests', its crisis requests' and its first readmissions') are
        drawn together (:func:`_ward_stays`), so a row's length-of-stay distribution is looked up once."""
        scenario = self.scenario
        start, end = -scenario.warmup_days, scenario.horizon_days
        curves = self.each(lambda s: DemandCurve.for_line(s.services.inpatient, s.start_month))
        direct_t = per_row(
            lambda curve, rng: curve.arrivals(rng, start, end), curves, self.rngs(line_stream("inpatient", st.ARRIVALS))
        )
        held = None  # the in-patients held at the start (steady start): their remaining stays, row by row
        if initial.steady(scenario):
            held = per_row(
                lambda row, r: initial.ward_stays_of(self.scenario_of(row), int(r)), range(self.rows), self.reps
            )
        numbers = crisis_beds[1] if crisis_beds is not None else np.full((self.rows, 0), -1.0)
        known = np.array([times.size for times in direct_t]) + (numbers >= 0).sum(axis=1)  # requests per row
        if held is not None:
            known = known + np.array([stays.size for stays in held])
        width = int(known.max(initial=0))
        share = self.figure(lambda s: s.services.inpatient.readmission_share)
        need = width + int(np.ceil(3 * share.max(initial=0.0) * width)) + 32
        draws = _AfterStayDraws(self)
        crisis_rngs = self.rngs(line_stream("crisis", st.LOS)) if crisis_beds is not None else [None] * self.rows
        stays = per_row(
            _ward_stays,
            self.each(lambda s: s.services.inpatient.los_days.sample),
            self.rngs(line_stream("inpatient", st.LOS)),
            crisis_rngs,
            draws.rngs["los"],
            [times.size for times in direct_t],
            list(numbers),
            [need] * self.rows,
        )
        direct_los = [direct for direct, _, _ in stays]
        if held is not None:  # first in request order
            first = float(start)
            direct_t = [np.concatenate([np.full(h.size, first), t]) for h, t in zip(held, direct_t, strict=True)]
            direct_los = [np.concatenate([h, los]) for h, los in zip(held, direct_los, strict=True)]
        base_t, base_los = pad(direct_t, INF), pad(direct_los, 0.0)
        if crisis_beds is not None:
            crisis_los = np.stack([crisis for _, crisis, _ in stays])
            base_t, base_los = merge_sorted(base_t, crisis_beds[0], base_los, crisis_los)
        draws.values["los"] = np.stack([readmission for _, _, readmission in stays])

        window = self.figure(lambda s: s.services.inpatient.readmission_window_days)
        while True:
            draws.ensure(need)
            time, los, readm, complete = self.kern.stays(
                base_t, base_los, draws["readmit"][:, :need], draws["delay"][:, :need], draws["los"][:, :need],
                share, window, self.horizon,
            )  # fmt: skip
            if complete:
                break
            need *= 2
        used = max(int(np.isfinite(time).sum(axis=1).max()), 1)
        return _Requests(time[:, :used], los[:, :used], readm[:, :used])

    def inpatient(self, requests: _Requests) -> None:
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

    def stepdowns(self, requests: _Requests) -> _StepDowns:
        """The community team's step-downs: every discharge inside the run, in time order, with the episode and
        patience drawn for its request (streams ``community.stepdown_*``, one draw per request in request
        order, as the SimPy model takes them)."""
        width = requests.time.shape[1]
        samplers = {
            line_stream("community", st.STEPDOWN_EPISODE): self.each(
                lambda s: s.services.community.episode_days.sample
            ),
            line_stream("community", st.STEPDOWN_PATIENCE): self.each(
                lambda s: _patience_sampler(s.services.community.patience_days)
            ),
        }
        episode, patience_days = (
            np.stack(self.draw(sampler, self.rngs(name), [width] * self.rows)) for name, sampler in samplers.items()
        )
        discharge = requests.discharge
        happened = (requests.time < INF) & (discharge < self.horizon)
        when = np.where(happened, discharge, INF)
        order = np.argsort(when, axis=1, kind="stable")
        return _StepDowns(
            np.take_along_axis(when, order, axis=1),
            np.take_along_axis(episode, order, axis=1),
            np.take_along_axis(patience_days, order, axis=1),
        )


def _ward_stays(
    sample: Sampler,
    direct_rng: np.random.Generator,
    crisis_rng: np.random.Generator | None,
    readmission_rng: np.random.Generator,
    direct: int,
    numbers: np.ndarray,
    readmissions: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row's lengths of stay (days): of its ``direct`` direct requests (stream ``inpatient.los``), of the crisis
    team's bed requests by their referral numbers ``numbers`` (``-1`` padding; stream ``crisis.los``) and of its
    first ``readmissions`` readmissions (stream ``inpatient.readmission_los``).

    The SimPy model draws one stay from ``crisis.los`` for every crisis referral, in arrival order, so referral
    *k*'s stay is draw *k* of that stream. Drawn here rather than by the team, so a change of length of stay
    leaves the crisis team's results unchanged."""
    crisis = np.zeros(numbers.size)
    if crisis_rng is not None:
        valid = numbers >= 0
        needed = int(numbers[valid].max()) + 1 if valid.any() else 0
        crisis[valid] = sample(crisis_rng, needed)[numbers[valid].astype(np.int64)]
    return sample(direct_rng, direct), crisis, sample(readmission_rng, readmissions)


def _apply(sampler: Sampler, rng: np.random.Generator, n: int) -> np.ndarray:
    return sampler(rng, n)


def _nothing(rng: np.random.Generator, n: int) -> np.ndarray:
    """A row that does not use a draw draws nothing (its padding reads as the key's default)."""
    return np.zeros(0)


def _or_inf(value: float | None) -> float:
    return INF if value is None else float(value)


def _patience_sampler(patience_days: float | None) -> Sampler:
    return never if patience_days is None else exponential(patience_days)


def _outcome_sampler(name: str, scenario: Scenario, key: str) -> Sampler:
    """Uniforms for outcome draw ``key`` if line ``name`` of ``scenario`` uses it, else nothing."""
    return uniform if key in outcome_streams(name, getattr(scenario.services, name)) else _nothing


def _appointment_sampler(name: str, scenario: Scenario) -> Sampler:
    """Days to the first appointment if line ``name`` of ``scenario`` books one, else nothing (at once)."""
    line = getattr(scenario.services, name)
    return _nothing if first_appointment_stream(name, line) is None else line.first_appointment_days.sample


# --- referral arrivals --------------------------------------------------------------------------------


class _Arrivals:
    """Arrival times of one line for a chunk, drawn exactly as :meth:`DemandCurve.arrivals` draws them
    (a Poisson count per day for the whole run first, then one uniform per arrival), window by window; each row
    with its own daily expected referrals."""

    def __init__(self, chunk: _Chunk, name: str) -> None:
        start, end = -chunk.scenario.warmup_days, chunk.scenario.horizon_days

        def expected_of(scenario: Scenario) -> np.ndarray:
            curve = DemandCurve.for_line(getattr(scenario.services, name), scenario.start_month)
            return curve.daily(start, end)[1]  # the days of chunk.days

        self.days = chunk.days
        expected = chunk.each(expected_of)
        self.rngs = chunk.rngs(line_stream(name, st.ARRIVALS))
        counts = per_row(lambda rng, mean: rng.poisson(mean), self.rngs, expected)
        self.counts = np.stack(counts) if counts else np.zeros((0, 0))
        rows = expected[:1] if chunk.scenarios is None else expected
        self.peak_per_day = max((float(e.max()) for e in rows if e.size), default=0.0)

    def window(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted arrival times in days ``first .. last - 1`` (indices into the run's days), ``[R, K]`` with
        ``+inf`` padding, and the number per replication ``[R]``."""
        days = self.days[first:last]
        counts = self.counts[:, first:last]
        totals = counts.sum(axis=1)
        uniforms = per_row(uniform, self.rngs, [int(total) for total in totals])
        return arrange_days(uniforms, counts, days), totals


@dataclass
class _Requests:
    """A chunk's bed requests in time order, ``[R, n]`` (``+inf`` time as padding): request time and length of
    stay (days), and whether it is a readmission."""

    time: np.ndarray
    los: np.ndarray
    readm: np.ndarray

    @property
    def discharge(self) -> np.ndarray:
        """Discharge times (days): wherever the patient stays, they leave after their length of stay."""
        return self.time + self.los

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.time, self.los, self.readm


@dataclass
class _StepDowns:
    """Discharges referred to the community team, sorted per replication (``[R, n]``, ``+inf`` padding)."""

    time: np.ndarray
    episode: np.ndarray
    patience: np.ndarray

    def between(self, lo: np.ndarray, end: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Step-downs from per-row position ``lo`` with time before ``end``: ``[R, K]`` arrays and the
        new positions."""
        hi = (self.time < end).sum(axis=1)
        width = int((hi - lo).max(initial=0))
        index = lo[:, None] + np.arange(width)
        valid = index < hi[:, None]
        index = np.minimum(index, max(self.time.shape[1] - 1, 0))
        if self.time.shape[1] == 0:
            empty = np.zeros((lo.size, 0))
            return {"arrival": empty, "episode": empty, "patience": empty}, hi
        block = {
            "arrival": np.where(valid, np.take_along_axis(self.time, index, axis=1), INF),
            "episode": np.where(valid, np.take_along_axis(self.episode, index, axis=1), 0.0),
            "patience": np.where(valid, np.take_along_axis(self.patience, index, axis=1), 0.0),
        }
        return block, hi


def _with_initial(
    block: dict[str, np.ndarray], people: list[initial.InitialPeople], start: float
) -> dict[str, np.ndarray]:
    """The first window's referrals with the people held at the start (row by row, :mod:`paysim.engines.initial`)
    put first, arriving at ``start`` (the warm-up's first instant): their place held for their remaining days (or a
    wait with their patience, when the team is full), never gatekept into a bed, their own outcome, their first
    appointment behind them."""
    arrival = pad([np.full(p.count, start) for p in people], INF)
    own = {
        "episode": pad([p.remaining for p in people], 0.0),
        "patience": pad([p.patience for p in people], INF),
        "bed_u": np.full(arrival.shape, INF),
        "assessed_only": np.zeros(arrival.shape, dtype=bool),
        "dropped_out": pad([p.dropped_out for p in people], 0.0).astype(bool),
        "recovers": pad([p.recovers for p in people], 0.0).astype(bool),
        "first_appointment": np.zeros(arrival.shape),
    }
    keys = [key for key in own if key in block]
    times, merged = merge_rows(arrival, block["arrival"], [own[key] for key in keys], [block[key] for key in keys])
    out = dict(block)
    out.update({"arrival": times, **dict(zip(keys, merged, strict=True))})
    return out


def _merge_windows(feed: Iterator[dict[str, np.ndarray]], stepdowns: _StepDowns) -> Iterator[dict[str, np.ndarray]]:
    """Merge step-down referrals into a line's windows of external referrals, in time order. Step-downs are
    always treated, have their first appointment at once and never drop out: their referral-outcome flags are
    false and their ``first_appointment`` is 0."""
    lo = None
    for block in feed:
        if lo is None:
            lo = np.zeros(block["arrival"].shape[0], dtype=np.intp)
        extra, lo = stepdowns.between(lo, float(block["window_end"]))
        keys = ["episode", "patience", *(key for key in (*FLAGS, "first_appointment") if key in block)]
        shape = extra["arrival"].shape
        times, merged = merge_rows(
            block["arrival"],
            extra["arrival"],
            [block[key] for key in keys],
            [extra[key] if key in extra else np.zeros(shape, dtype=block[key].dtype) for key in keys],
        )
        yield {"arrival": times, **dict(zip(keys, merged, strict=True))}


class _AfterStayDraws:
    """Per-bed-request draws in request order, as the SimPy model takes them: readmitted? (uniform),
    readmission delay (uniform x window) and the readmission's length of stay (each row its own distribution).
    ``self[key]`` is ``[R, n]``; :meth:`ensure` draws more (continuing each stream); ``values["los"]`` may be
    filled first by the caller (:meth:`_Chunk.ward_requests` draws a row's stays together)."""

    def __init__(self, chunk: _Chunk) -> None:
        samplers: dict[str, tuple[str, list[Sampler]]] = {
            "readmit": (line_stream("inpatient", st.READMISSION), [uniform] * chunk.rows),
            "delay": (line_stream("inpatient", st.READMISSION_DELAY), [uniform] * chunk.rows),
            "los": (
                line_stream("inpatient", st.READMISSION_LOS),
                chunk.each(lambda s: s.services.inpatient.los_days.sample),
            ),
        }
        self.chunk = chunk
        self.samplers = samplers
        self.rngs = {key: chunk.rngs(name) for key, (name, _) in samplers.items()}
        self.values = {key: np.zeros((chunk.rows, 0)) for key in samplers}

    def ensure(self, n: int) -> None:
        """At least ``n`` draws of each kind per row."""
        for key, (_, samplers) in self.samplers.items():
            have = self.values[key].shape[1]
            if n > have:
                more = np.stack(self.chunk.draw(samplers, self.rngs[key], [n - have] * self.chunk.rows))
                self.values[key] = np.concatenate([self.values[key], more], axis=1)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]


# --- helpers ------------------------------------------------------------------------------------------


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


def _window_days(rows: int, per_day: float) -> int:
    """Days per window so a window holds about :data:`BLOCK_ELEMENTS` customers over all rows."""
    return int(np.clip(BLOCK_ELEMENTS / max(rows * per_day * 1.2, 1.0), 7, 3650))
