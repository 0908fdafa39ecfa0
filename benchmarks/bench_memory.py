"""Peak memory of a whole run (simulate, price, summarise) as the number of replications grows.

Each run goes in a fresh process, which reports its own peak resident memory (``ru_maxrss``) and that of
its worker processes. Two ways of running are compared on the same replications:

* ``batch``: :func:`paysim.runs.batch.run_batch`, what ``paysim run`` does (chunks priced one at a time; at most
  ``MEMORY_BUDGET`` of simulated months held between the two passes, the rest in a temporary folder);
* ``whole``: :func:`paysim.runs.psa.simulate`, which holds the run's activity and ledgers as
  ``[replication, month]`` arrays (what the app and reports use, for a few thousand replications).

    .venv/bin/python benchmarks/bench_memory.py --reps 2000 10000 30000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def child(mode: str, reps: int, workers: int, years: int) -> None:
    """Run once in this process and print ``{"seconds", "main_mib", "worker_mib"}`` as JSON."""
    from paysim.model.scenario import load_scenario
    from paysim.money import finance
    from paysim.runs import psa
    from paysim.runs.batch import run_batch
    from paysim.runs.io import results_table, summary

    scenario = load_scenario("scenarios/default.yaml", [f"years={years}"])
    started = time.perf_counter()
    if mode == "batch":
        run_batch(scenario, reps, "vector", workers, uncertainty=False).summary()
    else:
        run = psa.simulate(scenario, reps, "vector", workers, uncertainty=False)
        summary(results_table(run.activity, money=finance.money_columns(run.ledgers), scenario=scenario))
    seconds = time.perf_counter() - started
    main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "main_mib": main, "worker_mib": workers_peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=["batch", "whole"], choices=["batch", "whole"])
    parser.add_argument("--child", nargs=4, metavar=("MODE", "REPS", "WORKERS", "YEARS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, reps, workers, years = args.child
        child(mode, int(reps), int(workers), int(years))
        return

    print(f"peak resident memory, default scenario, {args.years} years, --workers {args.workers}")
    print(f"  {'replications':>12}  {'mode':<6} {'seconds':>8} {'main MiB':>9} {'worker MiB':>11}")
    for reps in args.reps:
        for mode in args.modes:
            command = [sys.executable, __file__, "--child", mode, str(reps), str(args.workers), str(args.years)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            row = json.loads(output.strip().splitlines()[-1])
            print(
                f"  {reps:>12,}  {mode:<6} {row['seconds']:>8.1f} {row['main_mib']:>9.0f} {row['worker_mib']:>11.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
