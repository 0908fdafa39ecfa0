"""Make data/sample-trust.csv: 36 months of a synthetic trust's monthly figures, for paysim calibrate's example.

The trust is data/sample-trust-truth.yaml (the default trust with planted values), simulated once at its central
values with the vector engine (replication 0 of its seed); the figures are those a trust reports monthly, written in
paysim's wide monthly form (a ``month`` column, ``YYYY-MM``, and one column per measure). Run from the repository
root::

    python data/make_sample_trust.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from paysim.model.scenario import load_scenario
from paysim.model.uncertainty import central
from paysim.runs.io import write_table
from paysim.runs.runner import RunSettings, simulate

HERE = Path(__file__).resolve().parent
FIRST_MONTH = "2022-04"
MEASURES = (
    "talking_therapies.referrals",
    "talking_therapies.assessed_only",
    "talking_therapies.started",
    "talking_therapies.completed",
    "talking_therapies.dropped_out",
    "talking_therapies.recovered",
    "talking_therapies.waiting_end",
    "talking_therapies.caseload_mean",
    "community.referrals",
    "community.started",
    "community.caseload_mean",
    "community.waiting_end",
    "crisis.referrals",
    "crisis.started",
    "crisis.caseload_mean",
    "crisis.admissions",
    "inpatient.bed_requests",
    "inpatient.readmissions",
    "inpatient.discharges",
    "inpatient.local_admissions",
    "inpatient.local_bed_days",
    "inpatient.occupancy_mean",
    "inpatient.oap_admissions",
    "inpatient.oap_bed_days",
    "inpatient.repatriations",
    "inpatient.oap_ended_1_7",
    "inpatient.oap_ended_8_14",
    "inpatient.oap_ended_15_30",
    "inpatient.oap_ended_31_plus",
)
"""The figures the sample trust reports."""


def month_names(first: str, months: int) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    return [f"{year + (month - 1 + i) // 12:04d}-{(month - 1 + i) % 12 + 1:02d}" for i in range(months)]


def main() -> None:
    truth = central(load_scenario(HERE / "sample-trust-truth.yaml"))
    activity = simulate(truth, RunSettings(reps=1, engine="vector", uncertainty=False))
    columns: dict[str, list] = {"month": month_names(FIRST_MONTH, activity.n_months)}
    for name in MEASURES:
        values = np.asarray(activity[name][0], dtype=float)
        digits = 3 if name.endswith(("occupancy_mean",)) else 1
        columns[name] = [round(float(v), digits) for v in values]
    write_table(pa.table(columns), HERE / "sample-trust.csv")


if __name__ == "__main__":
    main()
