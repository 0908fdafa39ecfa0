"""Hand-built Activities and scenarios for the money tests (costs, payment rules, ledgers, analysis)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from paysim.activity import Activity
from paysim.model.scenario import Scenario, scenario_from_dict

KINDS = {
    "inpatient.local_bed_days": "days",
    "inpatient.oap_bed_days": "days",
    "inpatient.occupancy_mean": "time_mean",
    "talking_therapies.caseload_mean": "time_mean",
    "community.caseload_mean": "time_mean",
    "crisis.caseload_mean": "time_mean",
}


def activity(measures: dict[str, Any], replications: int = 2, months: int = 24, start_month: int = 4) -> Activity:
    """An Activity from ``{name: value}``: a scalar fills ``[replications, months]``, an array is used as is."""
    monthly = {}
    for name, value in measures.items():
        array = np.asarray(value, dtype=float)
        monthly[name] = np.broadcast_to(array, (replications, months)).copy()
    kinds = {name: KINDS.get(name, "count") for name in monthly}
    return Activity(monthly, kinds, np.arange(replications), start_month, "hand")


SERVICES = {
    "talking_therapies": {
        "referrals_per_year": 1000,
        "episode_days": {"dist": "fixed", "mean": 60},
        "capacity": {"courses": 100},
    },
    "community": {
        "referrals_per_year": 1000,
        "episode_days": {"dist": "fixed", "mean": 100},
        "capacity": {"staff_wte": 100, "caseload_per_wte": 10, "vacancy_rate": 0.1, "agency_cover": 0.5},
    },
    "crisis": {
        "referrals_per_year": 500,
        "episode_days": {"dist": "fixed", "mean": 20},
        "capacity": {"places": 30},
        "admission_share": 0.1,
    },
    "inpatient": {
        "admissions_per_year": 100,
        "beds": 10,
        "los_days": {"dist": "fixed", "mean": 30},
    },
}


def scenario(contracts: dict | None = None, costs: dict | None = None, years: int = 2, **top: Any) -> Scenario:
    """A small valid scenario (four lines, 10 beds) with the given ``contracts:`` and ``costs:`` blocks."""
    data: dict[str, Any] = {"name": "test", "years": years, "services": copy.deepcopy(SERVICES), **top}
    if contracts is not None:
        data["contracts"] = contracts
    if costs is not None:
        data["costs"] = costs
    return scenario_from_dict(data)
