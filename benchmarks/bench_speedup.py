"""asv benchmarks: the vector engine's speed as a ratio to the SimPy model, measured in the same run.

Machines are noisy, so the figures tracked are ratios of replication-days per CPU second (one simulated day
of one replication, warm-up included) measured one after the other in one process: SimPy, the vector
engine with its NumPy kernels, and with its numba kernels, on the default scenario cut to one counted
year (plus its warm-up year) to keep a run short. Peak memory of a 2,000-replication numba run is tracked
too. ``benchmarks/bench_vector.py`` prints the same comparison as a table, with scaling in R and years.
"""

from __future__ import annotations

try:  # run by asv, as the package ``benchmarks``
    from .bench_vector import time_run
    from .run import SCENARIOS
except ImportError:  # imported from a script in this folder
    from bench_vector import time_run
    from run import SCENARIOS


class VectorSpeedup:
    """Vector engine vs SimPy model on the default scenario (1 counted year after a 1-year warm-up)."""

    timeout = 1800
    number = 1
    repeat = 1

    def setup_cache(self) -> dict[str, float]:
        scenario = SCENARIOS["default"]().with_overrides({"years": 1})
        time_run("default", scenario, "numba", 1)  # compile / load the numba kernels first
        simpy = time_run("default", scenario, "simpy", 1)
        numpy = time_run("default", scenario, "numpy", 20)
        numba = time_run("default", scenario, "numba", 200)
        memory = time_run("default", scenario, "numba", 2000, memory=True)
        return {
            "numpy_ratio": numpy.rate / simpy.rate,
            "numba_ratio": numba.rate / simpy.rate,
            "simpy_rate": simpy.rate,
            "peak_mib": memory.peak_mib or 0.0,
        }

    def track_numpy_over_simpy(self, timings: dict[str, float]) -> float:
        return timings["numpy_ratio"]

    track_numpy_over_simpy.unit = "x SimPy (replication-days per CPU s)"

    def track_numba_over_simpy(self, timings: dict[str, float]) -> float:
        return timings["numba_ratio"]

    track_numba_over_simpy.unit = "x SimPy (replication-days per CPU s)"

    def track_simpy_replication_days_per_second(self, timings: dict[str, float]) -> float:
        return timings["simpy_rate"]

    track_simpy_replication_days_per_second.unit = "replication-days per CPU s"

    def track_peak_memory_2000_replications(self, timings: dict[str, float]) -> float:
        return timings["peak_mib"]

    track_peak_memory_2000_replications.unit = "MiB"


class InpatientSpeedup:
    """Vector engine vs SimPy model on the default trust's ward alone (1 counted year after its warm-up)."""

    timeout = 1800
    number = 1
    repeat = 1

    def setup_cache(self) -> dict[str, float]:
        scenario = SCENARIOS["inpatient-only"]().with_overrides({"years": 1})
        time_run("inpatient-only", scenario, "numba", 1)  # compile / load the numba kernels first
        simpy = time_run("inpatient-only", scenario, "simpy", 20)
        numpy = time_run("inpatient-only", scenario, "numpy", 100)
        numba = time_run("inpatient-only", scenario, "numba", 1000)
        return {"numpy_ratio": numpy.rate / simpy.rate, "numba_ratio": numba.rate / simpy.rate}

    def track_numpy_over_simpy(self, timings: dict[str, float]) -> float:
        return timings["numpy_ratio"]

    track_numpy_over_simpy.unit = "x SimPy (replication-days per CPU s)"

    def track_numba_over_simpy(self, timings: dict[str, float]) -> float:
        return timings["numba_ratio"]

    track_numba_over_simpy.unit = "x SimPy (replication-days per CPU s)"
