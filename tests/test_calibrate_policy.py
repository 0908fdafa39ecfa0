"""The out-of-area placement policy recovered from a ward's monthly figures: the local wait from the placements
started, and with repatriation the minimum time out of area from the repatriations (solved in turn by simulation
on common random numbers, each with its standard error)."""

from __future__ import annotations

import pytest
from builders import inpatient_only

from paysim.calibrate import calibrate
from paysim.calibrate.monthly import from_activity
from paysim.runs.runner import RunSettings, simulate

Z = 3.0
REPORTED = (
    "inpatient.bed_requests",
    "inpatient.local_admissions",
    "inpatient.oap_admissions",
    "inpatient.local_bed_days",
    "inpatient.oap_bed_days",
    "inpatient.occupancy_mean",
    "inpatient.repatriations",
    "inpatient.discharges",
    "inpatient.readmissions",
)
"""What the ward reports each month (no local waits: trusts do not report them)."""


def ward(wait: float, after: float):
    """A ward of 120 beds at about its load, repatriating after ``after`` days out, three years of history."""
    return inpatient_only(
        120, 1260, {"dist": "lognormal", "mean": 33, "sd": 30}, years=3, warmup_days=365, seed=31, readmission_share=0.1
    ).with_overrides(
        {
            "services.inpatient.oap.wait_days": wait,
            "services.inpatient.oap.repatriate_after_days": after,
            "services.inpatient.growth": 0.0,
        }
    )


@pytest.mark.slow
@pytest.mark.statistical
def test_the_minimum_time_out_of_area_is_recovered_from_the_oap_bed_days():
    truth = ward(wait=1.0, after=14.0)
    history = from_activity(simulate(truth, RunSettings(reps=1)), "2022-04", 0, REPORTED)
    fit = calibrate(history, ward(wait=0.5, after=5.0), reps=40)  # a base with another policy
    assert fit.estimate("services.inpatient.oap.repatriate").value is True  # repatriations were recorded
    after = fit.estimate("services.inpatient.oap.repatriate_after_days")
    assert after is not None and 0 < after.se < 8  # informative: the repatriations fall steeply with it
    assert abs(after.value - 14.0) <= Z * after.se, f"{after.value:.1f} +/- {after.se:.1f} against 14"
    wait = fit.estimate("services.inpatient.oap.wait_days")
    assert abs(wait.value - 1.0) <= Z * wait.se, f"{wait.value:.2f} +/- {wait.se:.2f} against 1"
