"""Activity: what the engines simulate, as named arrays ``[replication, month]``.

Both engines return an :class:`Activity` with the same measure names; costs, payment rules and analysis
read nothing else. Names are the README's (*Measures and counting rules*): ``inpatient.oap_bed_days``,
``community.caseload_mean``, ...

Counting rules (the horizon is ``[0, 365 * years)`` days, after ``warmup_days`` not counted):

* **Events** (referrals, assessments without treatment, starts, withdrawals, finished courses, dropouts,
  recoveries, admissions, repatriations, discharges) count in the month in which they happen; events in the
  warm-up or after the horizon are not counted. A referral assessed and not treated counts in its referral
  month; a dropout in the month it leaves; a reliable recovery in the month its course ends.
* **Bed days and caseloads** are areas under the occupancy curve inside each month: a stay that began in the
  warm-up counts only its days inside the horizon, and a stay that runs past the end counts only its days up
  to the end (bed days are never attributed to the month of admission).
* **Waits**: ``wait_days_mean`` is the mean wait of the people who *started* treatment in the month
  (including any part of that wait spent in the warm-up); people still waiting at the end are counted in
  ``waiting_end`` (the list size at the end of the month; over the horizon, at its end), not in the mean.
  ``started_within_standard`` counts starts whose wait was at most the line's standard. A start is the place
  allocated; with ``first_appointment_days`` (talking therapies, community) the wait runs on to the first
  appointment, that many days later, and still counts in the month the place was allocated.
* **Means over the horizon**: ``occupancy_mean`` (share of local beds occupied) and ``caseload_mean``
  (people in treatment) are time-averages, i.e. monthly values weighted by days in the month;
  ``wait_days_mean`` over the horizon weights monthly means by starts. Counts are summed; end-of-month
  stocks take their value at the end of the horizon.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from paysim.model.demand import month_edges, month_labels
from paysim.model.lines import SERVICE_LINES, TREATMENT_LINES

Kind = Literal["count", "days", "stock", "time_mean", "start_mean"]

INPATIENT_MEASURES: dict[str, Kind] = {
    "inpatient.bed_requests": "count",
    "inpatient.oap_admissions": "count",
    "inpatient.local_admissions": "count",
    "inpatient.local_bed_days": "days",
    "inpatient.oap_bed_days": "days",
    "inpatient.repatriations": "count",
    "inpatient.readmissions": "count",
    "inpatient.occupancy_mean": "time_mean",
}
"""Public inpatient measures and how they aggregate over months."""

LINE_MEASURES: dict[str, Kind] = {
    "referrals": "count",
    "started": "count",
    "started_within_standard": "count",
    "caseload_mean": "time_mean",
    "waiting_end": "stock",
    "wait_days_mean": "start_mean",
}
"""Public measures of each referral line (``<line>.<measure>``)."""

MEASURE_UNITS: dict[str, str] = {
    "bed_requests": "requests",
    "oap_admissions": "admissions",
    "local_admissions": "admissions",
    "local_bed_days": "bed days",
    "oap_bed_days": "bed days",
    "repatriations": "patients",
    "readmissions": "admissions",
    "occupancy_mean": "% of beds",
    "referrals": "referrals",
    "started": "people",
    "started_within_standard": "people",
    "caseload_mean": "people",
    "waiting_end": "people",
    "wait_days_mean": "days",
    "assessed_only": "referrals",
    "dropped_out": "people",
    "recovered": "people",
}
"""Unit of each public measure (and of the referral-outcome bookkeeping measures), by the last part of its
name (``occupancy_mean`` is a share shown in %)."""

OAP_LENGTH_BANDS: dict[str, float] = {
    "oap_ended_1_7": 7.0,
    "oap_ended_8_14": 14.0,
    "oap_ended_15_30": 30.0,
    "oap_ended_31_plus": float("inf"),
}
"""Ended out-of-area placements by length, as NHS Digital's OAP return reports them (1-7, 8-14, 15-30, 31 or
more nights): a placement of ``L`` days falls in the first band whose upper limit (days) is ``>= L``."""

EXTRA_INPATIENT: dict[str, Kind] = {
    "inpatient.discharges": "count",
    "inpatient.local_end": "stock",
    "inpatient.oap_end": "stock",
    "inpatient.waiting_end": "stock",
    "inpatient.bed_wait_days": "days",
    "inpatient.ended_waiting": "count",
    "inpatient.oap_ended": "count",
    **{f"inpatient.{band}": "count" for band in OAP_LENGTH_BANDS},
}
"""Further inpatient measures (bookkeeping that the conservation checks, costs and OAP figures use): stays
ended (``discharges``), patients in local beds / out of area / waiting locally for a bed at month ends, days
spent waiting locally for a bed, requests whose stay ended before a bed was found, and out-of-area placements
ended (by repatriation or discharge), in all and by length."""

EXTRA_LINE: dict[str, Kind] = {
    "withdrawn": "count",
    "completed": "count",
    "in_treatment_end": "stock",
}
"""Further measures of each referral line. ``completed`` counts finished courses only (not dropouts)."""


EXTRA_TREATMENT: dict[str, Kind] = {
    "assessed_only": "count",
    "dropped_out": "count",
}
"""Measures of each of :data:`TREATMENT_LINES`: referrals assessed and not treated (in their referral month),
starters who left before finishing (in the month they left); zero when the line leaves the key at its default."""

EXTRA_SPECIFIC: dict[str, Kind] = {
    f"{line.name}.{measure}": kind  # type: ignore[misc]
    for line in SERVICE_LINES
    for measure, kind in (*line.measures.items(), *line.ward_measures.items())
}
"""Measures that belong to one line only, as each line declares them (:attr:`paysim.model.lines.ServiceLine.measures`):
18-week starts, crisis bed requests, step-downs from wards, finished courses that ended in reliable recovery (in
the month the course ends; zero when ``recovery_share`` is null, i.e. recovery is not modelled)."""

_WARD_SPECIFIC = {f"{line.name}.{measure}" for line in SERVICE_LINES for measure in line.ward_measures}


def measure_kinds(lines: Iterable[str], inpatient: bool, public_only: bool = False) -> dict[str, Kind]:
    """Every measure an engine returns for a scenario with these referral ``lines`` (and inpatient beds)."""
    lines = list(lines)
    kinds: dict[str, Kind] = {}
    if inpatient:
        kinds.update(INPATIENT_MEASURES)
    for line in lines:
        kinds.update({f"{line}.{m}": k for m, k in LINE_MEASURES.items()})
    if public_only:
        return kinds
    if inpatient:
        kinds.update(EXTRA_INPATIENT)
    for line in lines:
        kinds.update({f"{line}.{m}": k for m, k in EXTRA_LINE.items()})
    for line in lines:
        if line in TREATMENT_LINES:
            kinds.update({f"{line}.{m}": k for m, k in EXTRA_TREATMENT.items()})
    for name, kind in EXTRA_SPECIFIC.items():
        if name.split(".")[0] in lines and (inpatient or name not in _WARD_SPECIFIC):
            kinds[name] = kind
    return kinds


@dataclass(frozen=True)
class Activity:
    """Simulated activity: ``monthly[name]`` is a float array ``[replication, month]``.

    ``kinds[name]`` says how a measure aggregates (see the module docstring); ``replications`` holds the
    replication numbers of the rows (their random streams), ``month_days`` the length of each month.
    """

    monthly: Mapping[str, np.ndarray]
    kinds: Mapping[str, Kind]
    replications: np.ndarray
    start_month: int
    engine: str
    month_days: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # Row-major arrays (no copy when they already are), so that a replication's sums over months run along
        # its row whichever other replications share the array: chunked runs then sum exactly as whole ones.
        object.__setattr__(self, "monthly", {name: np.ascontiguousarray(a) for name, a in self.monthly.items()})
        shapes = {name: np.shape(a) for name, a in self.monthly.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"measures differ in shape: {shapes}")
        if set(self.monthly) != set(self.kinds):
            raise ValueError("monthly and kinds must name the same measures")
        months = next(iter(shapes.values()))[1]
        object.__setattr__(self, "month_days", np.diff(month_edges(self.start_month, months)))

    @property
    def measures(self) -> list[str]:
        """Measure names, public ones first."""
        return list(self.monthly)

    @property
    def n_replications(self) -> int:
        return len(self.replications)

    @property
    def n_months(self) -> int:
        return len(self.month_days)

    @property
    def labels(self) -> list[str]:
        """Month labels such as ``"Y1 Apr"``."""
        return month_labels(self.start_month, self.n_months)

    def __getitem__(self, name: str) -> np.ndarray:
        """Monthly values of one measure, ``[replication, month]``."""
        return self.monthly[name]

    def __contains__(self, name: object) -> bool:
        return name in self.monthly

    def total(self, name: str) -> np.ndarray:
        """One measure over the whole horizon per replication, ``[replication]``."""
        return self._aggregate(name, slice(None))

    def totals(self) -> dict[str, np.ndarray]:
        """Every measure over the whole horizon, ``{name: [replication]}``."""
        return {name: self.total(name) for name in self.monthly}

    def yearly(self, name: str) -> np.ndarray:
        """One measure per contract year (12 counted months each), ``[replication, year]``."""
        years = self.n_months // 12
        return np.stack([self._aggregate(name, slice(12 * y, 12 * y + 12)) for y in range(years)], axis=1)

    def _aggregate(self, name: str, months: slice) -> np.ndarray:
        values = self.monthly[name][:, months]
        kind = self.kinds[name]
        if kind in ("count", "days"):
            return values.sum(axis=1)
        if kind == "stock":
            return values[:, -1]
        if kind == "time_mean":
            days = self.month_days[months]
            return (values * days).sum(axis=1) / days.sum()
        line = name.rsplit(".", 1)[0]
        starts = self.monthly[f"{line}.started"][:, months]
        weighted = np.where(starts > 0, values * starts, 0.0).sum(axis=1)
        total = starts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, weighted / np.maximum(total, 1), np.nan)

    @classmethod
    def from_replications(
        cls,
        rows: Sequence[Mapping[str, np.ndarray]],
        kinds: Mapping[str, Kind],
        replications: Sequence[int],
        start_month: int,
        engine: str,
    ) -> Activity:
        """Stack per-replication ``{name: [month]}`` records into one Activity."""
        monthly = {name: np.stack([np.asarray(r[name], dtype=float) for r in rows]) for name in kinds}
        return cls(monthly, dict(kinds), np.asarray(replications), start_month, engine)

    @classmethod
    def concat(cls, parts: Sequence[Activity]) -> Activity:
        """Join chunks of replications (in the order given) into one Activity."""
        first = parts[0]
        monthly = {name: np.concatenate([p.monthly[name] for p in parts]) for name in first.monthly}
        replications = np.concatenate([p.replications for p in parts])
        return cls(monthly, first.kinds, replications, first.start_month, first.engine)
