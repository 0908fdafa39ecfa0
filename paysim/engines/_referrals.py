"""A team's referrals for a chunk of replications, drawn from the streams the SimPy model draws them from, in its
order: window by window over all rows (the NumPy kernels), or one replication whole (the numba kernels).

External referrals: arrival times (a Poisson count per day for the whole run, then one uniform per arrival),
episodes, patience, the referral outcomes in use (:mod:`paysim.engines.referral_outcomes`), the days to a first
appointment, and for the crisis team's gatekeeping the bed-need uniform and the referral's number; with a steady
start, the people held at the start join first, on the first day (:mod:`paysim.engines.initial`); the community
team's step-downs from the ward (:mod:`paysim.engines._bed_requests`) are merged in time order.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from paysim.engines import initial
from paysim.engines._bed_requests import StepDowns
from paysim.engines._chunk_rows import Rows
from paysim.engines._rows import Sampler, arrange_days, merge_rows, pad, patience_sampler, per_row, uniform
from paysim.engines.referral_outcomes import (
    FLAGS,
    RowShares,
    draw_outcomes,
    first_appointment_stream,
    outcome_streams,
    referral_outcomes,
    uses_outcomes,
)
from paysim.engines.seams import TeamDraws
from paysim.engines.slots import INF
from paysim.model import streams as st
from paysim.model.demand import DemandCurve
from paysim.model.lines import line_stream
from paysim.model.scenario import Scenario
from paysim.model.streams import stream

BLOCK_ELEMENTS = 2_000_000
"""Target replications x customers in one window of a referral line."""


def windows(chunk: Rows, name: str, bed_draws: bool = False) -> Iterator[dict[str, np.ndarray]]:
    """External referrals of line ``name``, window by window: ``arrival``, ``episode`` (days a starter
    holds its place: the days to its first appointment, then its episode or a dropout's part of it),
    ``patience``, the referral outcomes in use (``assessed_only``, ``dropped_out``, ``recovers``: bool;
    ``first_appointment``: days from allocation to the first appointment; see
    :mod:`paysim.engines.referral_outcomes`), and for crisis gatekeeping ``bed_u`` and ``index`` (the
    referral's number in its replication), each ``[R, K]``, sorted by arrival, ``+inf`` padding.

    With rows of their own scenarios, a draw some rows use and others not (a referral-outcome key away from
    its default, a first appointment, patience) is drawn for the rows that use it only, the others' drawing
    nothing (their draws, padding, read as the key's default)."""
    lines = chunk.each(lambda s: getattr(s.services, name))
    distinct = [getattr(s.services, name) for s in chunk.distinct]
    attributes: dict[str, tuple[str, list[Sampler]]] = {
        "episode": (line_stream(name, st.EPISODE_DAYS), [line.episode_days.sample for line in lines])
    }
    if any(line.patience_days is not None for line in distinct):
        attributes["patience"] = (
            line_stream(name, st.PATIENCE),
            chunk.each(lambda s: patience_sampler(getattr(s.services, name).patience_days)),
        )
    if bed_draws:
        attributes["bed_u"] = (line_stream("crisis", st.BED_NEED), [uniform] * chunk.rows)
    outcome_draws: dict[str, str] = {}
    for line in distinct:
        outcome_draws.update(outcome_streams(name, line))
    for key, stream_name in outcome_draws.items():
        attributes[key] = (stream_name, chunk.each(lambda s, key=key: _outcome_sampler(name, s, key)))
    appointment_stream = next(filter(None, (first_appointment_stream(name, line) for line in distinct)), None)
    if appointment_stream is not None:
        attributes["first_appointment"] = (appointment_stream, chunk.each(lambda s: _appointment_sampler(name, s)))
    outcomes_used = any(uses_outcomes(name, line) for line in distinct)
    shares = lines[0] if chunk.scenarios is None else RowShares.of(lines)
    people = chunk.initial_people(name)
    arrivals = _Arrivals(chunk, name)
    window = _window_days(chunk.rows, arrivals.peak_per_day)
    generators = {key: chunk.rngs(stream_name) for key, (stream_name, _) in attributes.items()}
    seen = np.zeros(chunk.rows)
    for first in range(0, chunk.days.size, window):
        last = min(first + window, chunk.days.size)
        times, counts = arrivals.window(first, last)
        block = {"arrival": times}
        for key, (_, samplers) in attributes.items():
            block[key] = pad(chunk.draw(samplers, generators[key], [int(n) for n in counts]), 0.0, times.shape[1])
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
            block = _with_initial(block, people, float(chunk.days[0]))
            counts = counts + np.array([p.count for p in people])
        if bed_draws:
            block["index"] = seen[:, None] + np.arange(block["arrival"].shape[1])
            seen = seen + counts
        block["window_end"] = np.array(chunk.days[last] if last < chunk.days.size else chunk.horizon)
        yield block


def team_draws(chunk: Rows, name: str, row: int, gatekeeping: bool, stepdowns: StepDowns | None) -> TeamDraws:
    """Row ``row``'s draws for team ``name`` whole, from the same streams in the same order as
    :func:`windows` takes them window by window (:class:`~paysim.engines.seams.TeamDraws`)."""
    scenario = chunk.scenario_of(row)
    line = getattr(scenario.services, name)
    seed = scenario.seed
    r = int(chunk.reps[row])
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
    people = chunk.initial_people(name)
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


def _nothing(rng: np.random.Generator, n: int) -> np.ndarray:
    """A row that does not use a draw draws nothing (its padding reads as the key's default)."""
    return np.zeros(0)


def _outcome_sampler(name: str, scenario: Scenario, key: str) -> Sampler:
    """Uniforms for outcome draw ``key`` if line ``name`` of ``scenario`` uses it, else nothing."""
    return uniform if key in outcome_streams(name, getattr(scenario.services, name)) else _nothing


def _appointment_sampler(name: str, scenario: Scenario) -> Sampler:
    """Days to the first appointment if line ``name`` of ``scenario`` books one, else nothing (at once)."""
    line = getattr(scenario.services, name)
    return _nothing if first_appointment_stream(name, line) is None else line.first_appointment_days.sample


class _Arrivals:
    """Arrival times of one line for a chunk, drawn exactly as :meth:`DemandCurve.arrivals` draws them
    (a Poisson count per day for the whole run first, then one uniform per arrival), window by window; each row
    with its own daily expected referrals."""

    def __init__(self, chunk: Rows, name: str) -> None:
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


def merge_windows(feed: Iterator[dict[str, np.ndarray]], stepdowns: StepDowns) -> Iterator[dict[str, np.ndarray]]:
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


def _window_days(rows: int, per_day: float) -> int:
    """Days per window so a window holds about :data:`BLOCK_ELEMENTS` customers over all rows."""
    return int(np.clip(BLOCK_ELEMENTS / max(rows * per_day * 1.2, 1.0), 7, 3650))
