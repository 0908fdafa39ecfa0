"""asv benchmarks of the SimPy engine: replication-days simulated per second (higher is better)."""

from __future__ import annotations

from .run import default_scenario, inpatient_only_scenario, measure


class DESThroughput:
    """One replication of each scenario through the batch runner, in one process."""

    timeout = 900
    number = 1
    repeat = 1

    def setup(self) -> None:
        self.default = default_scenario()
        self.inpatient_only = inpatient_only_scenario()

    def track_default_replication_days_per_second(self) -> float:
        return measure(self.default, reps=1, engine="des").rate

    track_default_replication_days_per_second.unit = "replication-days/s"

    def track_inpatient_only_replication_days_per_second(self) -> float:
        return measure(self.inpatient_only, reps=2, engine="des").rate

    track_inpatient_only_replication_days_per_second.unit = "replication-days/s"
