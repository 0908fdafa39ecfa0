"""Monthly integer tallies of a chunk of the vector engine, and the Activity measures made from them."""

from __future__ import annotations

import numpy as np

from paysim.activity import measure_kinds
from paysim.engines.slots import TICKS_PER_DAY
from paysim.model.scenario import Scenario


class Tally:
    """Monthly integer tallies of a chunk, summed over blocks: ``{"<line>.<tally>": [R, month]}``.

    The kernels count events in the month ``m`` with ``edges[m] <= t < edges[m + 1]``, sum bed days,
    caseload days and waits in integer ticks (exact integrals of the occupancy curves, to 2**-30 day), and
    count stocks at each month's end (a change at the end itself already applied), as
    :mod:`paysim.monitors` does; :meth:`result` turns them into the Activity's measures.
    """

    def __init__(self, rows: int, edges: np.ndarray) -> None:
        self.rows = rows
        self.edges = edges
        self.months = edges.size - 1
        self.sums: dict[str, np.ndarray] = {}

    def of(self, line: str) -> dict[str, np.ndarray]:
        """The tallies of one line so far, ``{tally: [R, month]}``."""
        prefix = f"{line}."
        return {name[len(prefix) :]: v for name, v in self.sums.items() if name.startswith(prefix)}

    def add(self, line: str, sums: dict[str, np.ndarray]) -> None:
        for key, values in sums.items():
            name = f"{line}.{key}"
            if name in self.sums:
                self.sums[name] = self.sums[name] + values
            else:
                self.sums[name] = np.array(values, dtype=np.int64)

    def result(self, scenario: Scenario, beds: int | np.ndarray = 0) -> dict[str, np.ndarray]:
        """Every measure of the scenario, ``{name: [R, month]}`` (float); ``beds``: the ward's local beds, for
        its occupancy (a scalar, or ``[R]`` when the rows have their own scenarios)."""
        kinds = measure_kinds(scenario.lines(), scenario.services.inpatient is not None)
        days = np.diff(self.edges)
        zero = np.zeros((self.rows, self.months), dtype=np.int64)
        sums = self.sums

        def get(name: str) -> np.ndarray:
            return sums.get(name, zero).astype(float)

        out: dict[str, np.ndarray] = {}
        for name in kinds:
            line, measure = name.split(".", 1)
            if measure == "occupancy_mean":
                bed_days = get("inpatient.local_bed_ticks") / TICKS_PER_DAY
                capacity = np.reshape(beds, (-1, 1)) * days  # bed days per month, [R or 1, month]
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[name] = np.where(capacity > 0, bed_days / capacity, np.nan)
            elif measure in ("local_bed_days", "oap_bed_days", "bed_wait_days"):
                out[name] = get(name.replace("_days", "_ticks")) / TICKS_PER_DAY
            elif measure == "caseload_mean":
                out[name] = get(f"{line}.caseload_ticks") / TICKS_PER_DAY / days
            elif measure == "wait_days_mean":
                starts = get(f"{line}.started")
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = get(f"{line}.wait_ticks") / TICKS_PER_DAY / starts
                out[name] = np.where(starts > 0, mean, np.nan)
            elif name == "community.stepdowns":
                out[name] = get("inpatient.discharges")
            else:
                out[name] = get(name)
        return out
