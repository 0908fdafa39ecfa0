"""The vector engine's tally slots, declared once.

A kernel adds each customer to monthly integer tallies held in one ``[slot, month]`` (or ``[slot, replication,
month]``) array; the slot of a tally is its position in :data:`TEAM_TALLIES` or :data:`WARD_TALLIES`. Both
kernel sets read and write slots through :data:`TEAM` and :data:`WARD` (the numba kernels take them as
compile-time constants), so adding a tally is one entry here.
"""

from __future__ import annotations

import numpy as np

from paysim.activity import OAP_LENGTH_BANDS

INF = np.inf

TICKS_PER_DAY = 2**30
"""Bed days, caseload days and waits are summed in integer ticks of 2**-30 day (about 80 microseconds):
integer sums do not depend on their order, so the NumPy and numba tallies agree exactly."""

TEAM_TALLIES = (
    "referrals", "started", "started_within_standard", "started_within_long_standard", "wait_ticks",
    "caseload_ticks", "in_treatment_end", "waiting_end", "withdrawn", "completed", "admissions",
    "assessed_only", "dropped_out", "recovered",
)  # fmt: skip
"""A team's monthly tallies (each ``[R, month]`` int64), in slot order."""

WARD_TALLIES = (
    "bed_requests", "local_admissions", "oap_admissions", "repatriations", "readmissions", "discharges",
    "local_bed_ticks", "oap_bed_ticks", "local_end", "oap_end", "waiting_end", "bed_wait_ticks", "ended_waiting",
    "oap_ended", *OAP_LENGTH_BANDS,
)  # fmt: skip
"""The ward's monthly tallies (each ``[R, month]`` int64), in slot order; the OAP length bands last, in the order
of :data:`paysim.activity.OAP_LENGTH_BANDS`."""

TEAM = {name: slot for slot, name in enumerate(TEAM_TALLIES)}
"""Slot of each team tally."""

WARD = {name: slot for slot, name in enumerate(WARD_TALLIES)}
"""Slot of each ward tally."""
