"""The least time any patient-level engine can take per replication of a scenario, on this machine.

A patient-level engine (the SimPy model, the vector engine) must, for every referral, draw its arrival
time, its episode length and its patience, each referral-outcome uniform its line uses (assessed and not
treated, dropout, recovery) and its days to a first appointment (a crisis referral also its bed need and
length of stay), and find the earliest free place of its team. This script measures the cost of those steps
alone, in bulk and in the fastest form numpy and numba offer, and multiplies by the number of referrals a
replication of the scenario has. Nothing else of the model (tallies, bed requests, readmissions, months) is counted,
so the real engine can only be slower than this floor.

It answers: how far can the vector engine get towards a target such as "10,000 replications x 3 years
in 10 s on 2 cores" while it stays patient-level? Prints, per line: referrals per replication, the floor
of the draws and of the queue, and this engine's compiled pass of the team on referrals drawn beforehand (the
queue with the day's sort and the monthly tallies: ``pass``); then the floor per replication and for 10,000
replications on 2 cores, and this design's least for its teams (the draws' floor plus its compiled passes);
with ``--simpy``, also one replication of the SimPy model in the same run and the largest ratio to it any
engine drawing the same numbers could reach (SimPy's time over the floor).

Usage::

    .venv/bin/python benchmarks/bench_floor.py [--scenario default] [--repeat 5] [--simpy]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from paysim.engines import des, vector
from paysim.engines.kernel_sets import kernels
from paysim.engines.referral_outcomes import first_appointment_stream, outcome_streams
from paysim.engines.seams import TeamInputs
from paysim.model.demand import DemandCurve
from paysim.model.distributions import Duration
from paysim.model.scenario import Scenario, bundled_scenarios, load_scenario

N = 1_000_000


def best(fn: Callable[[], object], repeat: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Least seconds (of ``clock``) of ``repeat`` calls of ``fn``."""
    least = float("inf")
    for _ in range(repeat):
        started = clock()
        fn()
        least = min(least, clock() - started)
    return least


def per_value(fn: Callable[[], object], repeat: int) -> float:
    """Best seconds per value of ``fn`` (which makes ``N`` values) over ``repeat`` runs."""
    return best(fn, repeat) / N


def draw_cost(d: Duration | None, rng: np.random.Generator, repeat: int) -> float:
    """Seconds per draw of duration ``d`` (0 for none or a fixed duration)."""
    if d is None or d.dist == "fixed":
        return 0.0
    return per_value(lambda: d.sample(rng, N), repeat)


def queue_cost(places: int, load: float, repeat: int) -> float:
    """Seconds per customer of a FIFO queue with ``places`` places at ``load`` (the numba team kernel's own
    loser tree), or nan without numba."""
    try:
        import numba

        from paysim.engines import _numba_team
    except ImportError:
        return float("nan")

    kernels(True)
    _numba_team.team_line(outcomes=False)  # builds the tree's helpers
    build, tree_replace = _numba_team._tree_build, _numba_team._tree_replace

    @numba.njit(cache=False, nogil=True)
    def fifo(arrival, hold, places):
        key, index, size = build(np.full(places, -np.inf))  # the places' free times
        total = 0.0
        for k in range(arrival.size):
            start = max(arrival[k], key[0])
            tree_replace(key, index, size, start + hold[k])
            total += start
        return total

    rng = np.random.default_rng(1)
    hold = rng.lognormal(np.log(75.0) - 0.15, 0.55, N)
    span = N * hold.mean() / (places * load)  # days over which N arrivals give this load
    arrival = np.sort(rng.uniform(0.0, span, N))
    fifo(arrival[:1000], hold[:1000], places)  # compile
    return per_value(lambda: fifo(arrival, hold, places), repeat)


def line_floor(scenario: Scenario, name: str, repeat: int, rng: np.random.Generator) -> tuple[float, float, float]:
    """(referrals per replication, draw floor s, queue floor s) of one referral line."""
    line = getattr(scenario.services, name)
    curve = DemandCurve.for_line(line, scenario.start_month)
    referrals = float(curve.expected(-scenario.warmup_days, scenario.horizon_days))
    uniform = per_value(lambda: rng.random(N), repeat)
    per_referral = uniform + draw_cost(line.episode_days, rng, repeat)
    if line.patience_days is not None:
        per_referral += per_value(lambda: rng.exponential(line.patience_days, N), repeat)
    per_referral += uniform * len(outcome_streams(name, line))  # assessment, dropout, recovery
    if first_appointment_stream(name, line) is not None:
        per_referral += draw_cost(line.first_appointment_days, rng, repeat)
    if name == "crisis" and scenario.services.inpatient is not None:
        per_referral += uniform + draw_cost(scenario.services.inpatient.los_days, rng, repeat)
    places = line.capacity.courses if name == "talking_therapies" else line.capacity.places
    return referrals, referrals * per_referral, referrals * queue_cost(max(int(places), 4), 0.97, repeat)


def compiled_pass(scenario: Scenario, reps: int, repeat: int) -> dict[str, float]:
    """CPU seconds per replication of this engine's compiled pass of each team (the numba kernel of
    :mod:`paysim.engines._numba_team`: the day's arrivals sorted, the queue and the monthly tallies) on referrals
    drawn beforehand: what the vector engine spends per replication besides drawing (best of ``repeat``)."""
    kern = kernels(True)
    chunk = vector._Chunk(scenario, np.arange(reps), kern)

    def per_replication(inputs: TeamInputs) -> float:
        drawn = [inputs.replication(row) for row in range(reps)]  # the draws made before the clock starts
        cached = replace(inputs, replication=drawn.__getitem__)
        return best(lambda: kern.team(cached), repeat, time.process_time) / reps

    seconds: dict[str, float] = {}
    beds = None
    for name in [line for line in ("talking_therapies", "crisis") if line in scenario.lines()]:
        inputs = chunk.team_inputs(name)
        seconds[name] = per_replication(inputs)
        if name == "crisis":
            beds = kern.team(inputs)[1]
    if "community" in scenario.lines():
        stepdowns = chunk.stepdowns(chunk.ward_requests(beds)) if scenario.services.inpatient is not None else None
        seconds["community"] = per_replication(chunk.team_inputs("community", stepdowns))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="default", help="bundled name or file (default: default)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing, best kept (default 5)")
    parser.add_argument("--simpy", action="store_true", help="also time one SimPy replication (several seconds)")
    args = parser.parse_args()
    path = bundled_scenarios().get(args.scenario, args.scenario)
    scenario = load_scenario(path)
    rng = np.random.default_rng(0)
    print(f"floor of a patient-level engine, scenario {scenario.name}: {scenario.warmup_days} warm-up days + "
          f"{scenario.years} years")  # fmt: skip
    passes = compiled_pass(scenario, 40, 3)
    print(f"  {'line':<18} {'referrals':>10} {'draws ms':>9} {'queue ms':>9} {'pass ms':>9}")
    total = design = 0.0
    for name in scenario.lines():
        referrals, draws, queue = line_floor(scenario, name, args.repeat, rng)
        total += draws + (0.0 if np.isnan(queue) else queue)
        design += draws + passes.get(name, 0.0)
        print(f"  {name:<18} {referrals:>10,.0f} {draws * 1e3:>9.2f} {queue * 1e3:>9.2f} {passes[name] * 1e3:>9.2f}")
    print(f"  floor per replication: {total * 1e3:.1f} ms (one core)")
    print(f"  10,000 replications on 2 cores: at least {total * 10_000 / 2:.0f} s")
    print(f"  this design's teams (draws floor + its compiled pass, no ward): {design * 1e3:.1f} ms")
    if args.simpy:
        des.run(scenario, [0])  # imports and tables built outside the timing
        cpu = time.process_time()
        des.run(scenario, [1])
        simpy = time.process_time() - cpu
        print(f"  SimPy model, one replication: {simpy * 1e3:,.0f} ms CPU; the floor is 1/{simpy / total:,.0f} of it, "
              f"this design's teams 1/{simpy / design:,.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
