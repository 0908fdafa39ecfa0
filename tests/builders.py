"""Small scenarios built in code for the tests (each test says which figures matter)."""

from __future__ import annotations

from typing import Any

from paysim.model.scenario import Scenario, scenario_from_dict


def inpatient_only(
    beds: int,
    admissions_per_year: float,
    los: dict[str, Any],
    *,
    years: int = 1,
    warmup_days: int = 0,
    repatriate: bool = True,
    readmission_share: float = 0.0,
    seed: int = 1,
    **extra: Any,
) -> Scenario:
    """A ward alone: direct admissions only, flat demand."""
    return scenario_from_dict(
        {
            "name": "inpatient-only",
            "years": years,
            "seed": seed,
            "warmup_days": warmup_days,
            "services": {
                "inpatient": {
                    "admissions_per_year": admissions_per_year,
                    "beds": beds,
                    "los_days": los,
                    "readmission_share": readmission_share,
                    "oap": {"repatriate": repatriate},
                    **extra,
                }
            },
        }
    )


def community_only(
    referrals_per_year: float,
    places: int,
    episode: dict[str, Any],
    *,
    years: int = 1,
    warmup_days: int = 0,
    seed: int = 1,
    patience_days: float | None = None,
    **extra: Any,
) -> Scenario:
    """A community team alone: capacity = places (1 WTE per place, caseload 1 per WTE)."""
    line: dict[str, Any] = {
        "referrals_per_year": referrals_per_year,
        "episode_days": episode,
        "capacity": {"staff_wte": places, "caseload_per_wte": 1},
        **extra,
    }
    if patience_days is not None:
        line["patience_days"] = patience_days
    return scenario_from_dict(
        {
            "name": "community-only",
            "years": years,
            "seed": seed,
            "warmup_days": warmup_days,
            "services": {"community": line},
        }
    )


def small_trust(seed: int = 3, years: int = 1, warmup_days: int = 0) -> Scenario:
    """Every line at about 1/20 of the default trust's volume, busy enough to queue and overflow."""
    return scenario_from_dict(
        {
            "name": "small-trust",
            "years": years,
            "seed": seed,
            "warmup_days": warmup_days,
            "services": {
                "talking_therapies": {
                    "referrals_per_year": 1200,
                    "episode_days": {"dist": "lognormal", "mean": 75, "sd": 45},
                    "patience_days": 120,
                    "capacity": {"courses": 240},
                },
                "community": {
                    "referrals_per_year": 500,
                    "episode_days": {"dist": "lognormal", "mean": 120, "sd": 100},
                    "patience_days": 200,
                    "capacity": {"staff_wte": 7, "caseload_per_wte": 30, "vacancy_rate": 0.1},
                },
                "crisis": {
                    "referrals_per_year": 300,
                    "episode_days": {"dist": "gamma", "mean": 21, "sd": 14},
                    "patience_days": 2,
                    "capacity": {"places": 16},
                    "admission_share": 0.2,
                    "admission_share_when_full": 0.5,
                },
                "inpatient": {
                    "admissions_per_year": 40,
                    "beds": 10,
                    "los_days": {"dist": "lognormal", "mean": 33, "sd": 40},
                    "readmission_share": 0.1,
                },
            },
        }
    )
