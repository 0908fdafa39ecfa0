"""Throughput of the simulation engines: replication-days simulated per second.

One replication-day is one day of one replication, warm-up included. The figures are the reference the
vectorised engine is measured against.

Usage::

    .venv/bin/python benchmarks/run.py [--reps 3] [--engine des]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from paysim.model.scenario import LINES, Scenario, bundled_scenarios, load_scenario, scenario_from_dict
from paysim.runs.montecarlo import ENGINES, simulate


def default_scenario() -> Scenario:
    """The bundled default scenario, as shipped (3 counted years after a 1-year warm-up)."""
    return load_scenario(bundled_scenarios()["default"])


def inpatient_only_scenario() -> Scenario:
    """The default trust's ward alone: no referral lines, and direct admissions raised to 2,100 a year
    so that bed requests (with readmissions) are about those of the default, where crisis admissions
    add to them. Same beds, length of stay, horizon and warm-up."""
    data = default_scenario().model_dump(mode="json", exclude_none=True)
    data.pop("uncertain", None)  # it names lines this variant removes
    for line in LINES:
        data["services"].pop(line, None)
    data["services"]["inpatient"]["admissions_per_year"] = 2100
    data["name"] = "default-inpatient-only"
    return scenario_from_dict(data, source="inpatient-only variant of the default")


SCENARIOS = {"default": default_scenario, "inpatient-only": inpatient_only_scenario}
"""Benchmark scenarios by name."""


@dataclass(frozen=True)
class Measurement:
    scenario: str
    engine: str
    reps: int
    days: int
    """Days simulated per replication (warm-up + counted horizon)."""
    seconds: float

    @property
    def rate(self) -> float:
        """Replication-days per second."""
        return self.reps * self.days / self.seconds


def measure(scenario: Scenario, reps: int, engine: str = "des") -> Measurement:
    """Run ``reps`` replications in this process and time them (wall clock)."""
    started = time.perf_counter()
    simulate(scenario, reps, engine=engine, workers=1)  # the engines alone: no pricing
    seconds = time.perf_counter() - started
    return Measurement(scenario.name, engine, reps, scenario.warmup_days + scenario.horizon_days, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="replications per scenario (default 3)")
    parser.add_argument("--engine", default="des", choices=list(ENGINES), help="engine (default des)")
    args = parser.parse_args()

    header = f"{'scenario':<16} {'engine':<7} {'reps':>4} {'days/rep':>8} {'seconds':>8} {'rep-days/s':>11}"
    print(header)
    print("-" * len(header))
    for name, build in SCENARIOS.items():
        m = measure(build(), args.reps, args.engine)
        print(f"{name:<16} {m.engine:<7} {m.reps:>4} {m.days:>8,} {m.seconds:>8.1f} {m.rate:>11,.0f}")


if __name__ == "__main__":
    main()
