"""Speed of the vector engine against the SimPy model, measured in the same run.

Prints one table: replication-days per CPU second (one replication-day = one simulated day of one
replication, warm-up included; CPU time of this process, so a machine loaded by other work moves the ratios
less than wall time would) of the SimPy model, the vector engine's NumPy kernels and its numba
kernels, on the default scenario and an inpatient-only one, as ratios to SimPy; then the numba path's
scaling in replications and in years, and peak memory (tracemalloc) of a run.

Usage::

    .venv/bin/python benchmarks/bench_vector.py [--des-reps 1] [--numpy-reps 100] [--numba-reps 500]

All runs are in this process, on one core; a Monte Carlo run on W worker processes divides wall time by
about W.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from dataclasses import dataclass

from paysim.engines import des, vector
from paysim.model.scenario import Scenario

try:  # run by asv, as the package ``benchmarks``
    from .run import SCENARIOS
except ImportError:  # run as a script: python benchmarks/bench_vector.py
    from run import SCENARIOS


@dataclass(frozen=True)
class Timing:
    scenario: str
    engine: str
    reps: int
    years: int
    days: int
    seconds: float
    cpu: float
    peak_mib: float | None = None

    @property
    def rate(self) -> float:
        """Replication-days per CPU second."""
        return self.reps * self.days / self.cpu


def time_run(name: str, scenario: Scenario, engine: str, reps: int, memory: bool = False) -> Timing:
    """Time one run of ``reps`` replications (``engine``: simpy, numpy or numba)."""
    replications = list(range(reps))
    if memory:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    if engine == "simpy":
        des.run(scenario, replications)
    else:
        vector.run(scenario, replications, use_numba=engine == "numba")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = None
    if memory:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    days = scenario.warmup_days + scenario.horizon_days
    return Timing(name, engine, reps, scenario.years, days, seconds, cpu, peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--des-reps", type=int, default=1, help="SimPy replications per scenario (default 1)")
    parser.add_argument("--numpy-reps", type=int, default=100, help="NumPy-kernel replications (default 100)")
    parser.add_argument("--numba-reps", type=int, default=500, help="numba-kernel replications (default 500)")
    parser.add_argument("--scaling", action=argparse.BooleanOptionalAction, default=True, help="R and years scaling")
    parser.add_argument(
        "--memory-reps",
        type=int,
        default=0,
        help="also run this many replications of the default (numba) for time and peak memory",
    )
    args = parser.parse_args()

    vector.run(SCENARIOS["inpatient-only"]().with_overrides({"years": 1}), [0], use_numba=True)  # compile / load
    rows: list[tuple[Timing, float]] = []
    for name, build in SCENARIOS.items():
        scenario = build()
        cheap = name == "inpatient-only"  # a SimPy replication takes 0.1 s: time more of them
        simpy = time_run(name, scenario, "simpy", args.des_reps * (50 if cheap else 1))
        rows.append((simpy, 1.0))
        for engine, reps in (("numpy", args.numpy_reps), ("numba", args.numba_reps)):
            t = time_run(name, scenario, engine, reps * (10 if cheap else 1))
            rows.append((t, t.rate / simpy.rate))
    print_table("Throughput (ratio = rep-days/s over SimPy's in this run)", rows)

    if args.scaling:
        base = SCENARIOS["default"]()
        simpy_rate = next(t.rate for t, _ in rows if t.scenario == "default" and t.engine == "simpy")
        scaling = []
        for reps in (100, 400, 1600):
            t = time_run("default", base, "numba", reps, memory=reps == 1600)
            scaling.append((t, t.rate / simpy_rate))
        for years in (1, 3, 10):
            t = time_run(f"default {years}y", base.with_overrides({"years": years}), "numba", 200)
            scaling.append((t, t.rate / simpy_rate))
        t = time_run("default", base, "numpy", 200, memory=True)
        scaling.append((t, t.rate / simpy_rate))
        print_table("Scaling of the vector engine (ratio to SimPy on the 3-year default)", scaling)

    if args.memory_reps:
        simpy_rate = next(t.rate for t, _ in rows if t.scenario == "default" and t.engine == "simpy")
        t = time_run("default", SCENARIOS["default"](), "numba", args.memory_reps, memory=True)
        print_table("A large run in one process (numba)", [(t, t.rate / simpy_rate)])


def print_table(title: str, rows: list[tuple[Timing, float]]) -> None:
    print(f"\n{title}")
    header = (
        f"{'scenario':<16} {'engine':<6} {'reps':>5} {'years':>5} {'wall s':>8} {'CPU s':>8} {'rep-days/s':>11} "
        f"{'x SimPy':>8} {'CPU ms/rep':>10} {'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for t, ratio in rows:
        peak = f"{t.peak_mib:8.0f}" if t.peak_mib is not None else f"{'':>8}"
        print(
            f"{t.scenario:<16} {t.engine:<6} {t.reps:>5} {t.years:>5} {t.seconds:>8.2f} {t.cpu:>8.2f} {t.rate:>11,.0f} "
            f"{ratio:>8.0f} {1e3 * t.cpu / t.reps:>10.1f} {peak}"
        )


if __name__ == "__main__":
    main()
