"""The memory estimate that stops runs too large for the machine (:mod:`paysim.runs.footprint`), against the peak
measured.

Each case runs in a fresh process: it imports paysim and runs a tiny warm-up (numba compiles, caches fill),
notes its peak resident memory so far (``ru_maxrss``), runs the case with :func:`paysim.runs.batch.run_batch` (what
``paysim run`` does) and reports how far the peak rose, beside :func:`paysim.runs.batch.check_memory`'s estimate of
the run. The estimate should be within a factor of about two of the rise (it counts expected arrivals, and
leaves out the interpreter and the libraries, which the warm-up has already loaded).

    .venv/bin/python benchmarks/bench_footprint.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

CASES = {
    "des, default, 1 replication": ("des", "default", [], 1),
    "des, community 1m referrals a year, 1 replication": ("des", "community", [], 1),
    "vector, default, 200 replications": ("vector", "default", [], 200),
    "vector, default, 1,000 replications": ("vector", "default", [], 1000),
    "vector, talking therapies 500,000 a year, 50 replications": (
        "vector",
        "default",
        ["services.talking_therapies.referrals_per_year=500000", "services.talking_therapies.capacity.courses=100000"],
        50,
    ),
    "vector, 20,000 admissions a year, 100 replications": (
        "vector",
        "default",
        ["services.inpatient.admissions_per_year=20000", "services.inpatient.beds=2000"],
        100,
    ),
}
"""Cases by name: (engine, scenario, --set overrides, replications)."""
TINY = [
    "years=1",
    "warmup_days=0",
    "services.talking_therapies.referrals_per_year=250",
    "services.community.referrals_per_year=100",
    "services.crisis.referrals_per_year=60",
    "services.inpatient.admissions_per_year=7",
]
"""The warm-up: the default trust at a hundredth of its demand, one year."""


def scenario_of(name: str, overrides: list[str]):
    from paysim.model.scenario import bundled_scenarios, load_scenario, scenario_from_dict
    from paysim.model.uncertainty import central

    if name == "community":
        return scenario_from_dict(
            {
                "name": "community",
                "years": 1,
                "services": {
                    "community": {
                        "referrals_per_year": 1_000_000,
                        "episode_days": {"dist": "lognormal", "mean": 30, "sd": 20},
                        "capacity": {"staff_wte": 10_000, "caseload_per_wte": 10},
                    }
                },
            }
        )
    return central(load_scenario(bundled_scenarios()[name], overrides))


def child(case: str) -> None:
    """Run one case in this process and print ``{"estimate_mib", "rise_mib"}`` as JSON."""
    from paysim.runs.batch import check_memory, run_batch

    engine, name, overrides, reps = CASES[case]
    scenario = scenario_of(name, overrides)
    run_batch(scenario_of("default", TINY), 2, engine, uncertainty=False)  # warm-up: numba compiles, caches fill
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    estimate = check_memory(scenario, reps, engine, uncertainty=False).total / 2**20
    run_batch(scenario, reps, engine, uncertainty=False)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"estimate_mib": estimate, "rise_mib": after - before}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    from paysim.engines._kernels import numba_chosen

    threads = os.environ.get("PAYSIM_THREADS", "numba's default")
    kernels = f"numba, threads: {threads}" if numba_chosen() else "NumPy"
    print(f"memory estimate against the rise of the peak resident memory (vector engine kernels: {kernels})")
    print(f"  {'case':<58} {'estimate MiB':>12} {'measured MiB':>12} {'ratio':>6}")
    for case in CASES:
        output = subprocess.run(
            [sys.executable, __file__, "--child", case], check=True, capture_output=True, text=True
        ).stdout
        row = json.loads(output.strip().splitlines()[-1])
        ratio = row["estimate_mib"] / max(row["rise_mib"], 1.0)
        print(f"  {case:<58} {row['estimate_mib']:>12,.0f} {row['rise_mib']:>12,.0f} {ratio:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
