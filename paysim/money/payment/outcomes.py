"""Outcome-linked payment: a share of the contract value earned by meeting indicators.

Each indicator gives a credit between 0 and 1 from the activity measured **year to date** in the
contract year: full credit at or beyond its target, none at or beyond ``partial_from`` on the worse side,
linear in between (all or nothing without ``partial_from``). Counts such as OAP bed days are compared with
the yearly target scaled to the months elapsed (``target x k / 12`` after ``k`` months). The overall
credit ``C`` is the weighted mean of the indicator credits (equally weighted for CQUIN,
:mod:`paysim.money.payment.api`).

With ``pot = share x contract value`` for the year, after ``k`` months the provider has earned
``pot x k / 12 x C``; each month pays the change in that amount (``in_year``), or the whole of it is paid in
the last month (``year_end``). A **withhold** also holds back ``pot / 12`` from every month, so over a year
the outcome element is ``pot x (C - 1)`` (withhold) or ``pot x C`` (bonus).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from paysim.model.terms import CquinIndicator, Indicator, Outcomes
from paysim.money.payment.schedule import (
    by_year,
    contract_year,
    from_year_to_date,
    in_twelfths,
    months_elapsed,
    year_end_only,
    year_to_date,
)


def indicator_measures(measure: str) -> tuple[str, ...]:
    """The Activity measures an indicator is computed from.

    >>> indicator_measures("talking_therapies.recovery_share")
    ('talking_therapies.completed', 'talking_therapies.recovered')
    """
    if measure == "talking_therapies.recovery_share":
        return ("talking_therapies.completed", "talking_therapies.recovered")
    if measure.endswith("_share"):
        line, name = measure.split(".")
        return (f"{line}.started", f"{line}.{name.removesuffix('_share')}")
    if measure in ("inpatient.oap_bed_days", "inpatient.occupancy_mean"):
        return (measure,)
    raise ValueError(f"unknown indicator {measure!r}")


def indicator_value(measure: str, measures: Mapping[str, np.ndarray], month_days: np.ndarray) -> np.ndarray:
    """An indicator measured year to date at the end of each month, ``[replication, month]``.

    Shares of starts within the standard are NaN where nobody has started yet in the year;
    ``talking_therapies.recovery_share`` (``recovered / completed`` year to date) is NaN where nobody has
    finished a course yet.
    """
    if measure == "talking_therapies.recovery_share":
        completed = year_to_date(_measure(measures, "talking_therapies.completed", measure))
        recovered = year_to_date(_measure(measures, "talking_therapies.recovered", measure))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(completed > 0, recovered / np.where(completed > 0, completed, 1.0), np.nan)
    if measure.endswith("_share"):
        line, name = measure.split(".")
        counted = name.removesuffix("_share")
        started = year_to_date(_measure(measures, f"{line}.started"))
        within = year_to_date(_measure(measures, f"{line}.{counted}"))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(started > 0, within / np.where(started > 0, started, 1.0), np.nan)
    if measure == "inpatient.oap_bed_days":
        return year_to_date(_measure(measures, measure))
    if measure == "inpatient.occupancy_mean":
        days = np.asarray(month_days, dtype=float)
        occupied = year_to_date(_measure(measures, measure) * days)
        return occupied / year_to_date(np.broadcast_to(days, occupied.shape))
    raise ValueError(f"unknown indicator {measure!r}")


def _measure(measures: Mapping[str, np.ndarray], name: str, indicator: str | None = None) -> np.ndarray:
    if name not in measures:
        line = name.split(".")[0]
        which = f"outcome indicator {indicator}" if indicator else "outcome indicator"
        raise KeyError(
            f"{which} needs {name}, which the activity lacks (is services.{line} present, and does the "
            "engine count it?)"
        )
    return np.asarray(measures[name], dtype=float)


def indicator_credit(indicator: Indicator | CquinIndicator, value: np.ndarray) -> np.ndarray:
    """Credit (0..1) earned year to date, ``[replication, month]``, from :func:`indicator_value`.

    A share that is NaN (nobody started yet this year) earns full credit: nobody has waited too long.
    """
    value = np.asarray(value, dtype=float)
    months = value.shape[-1]
    years = contract_year(months)
    target = by_year(indicator.target, years[-1] + 1)[years]
    partial = None if indicator.partial_from is None else by_year(indicator.partial_from, years[-1] + 1)[years]
    if indicator.measure == "inpatient.oap_bed_days":  # a yearly count, compared with the target pro rata
        target = target * months_elapsed(months) / 12.0
        if partial is not None:
            partial = partial * months_elapsed(months) / 12.0
    sign = 1.0 if indicator.higher_is_better else -1.0
    gain = sign * (value - target)  # >= 0: target met
    if partial is None:
        credit = (gain >= 0).astype(float)
    else:
        width = sign * (target - partial)  # >= 0 by validation
        with np.errstate(invalid="ignore", divide="ignore"):
            linear = np.clip(1.0 + gain / np.where(width > 0, width, 1.0), 0.0, 1.0)
        credit = np.where(width > 0, linear, (gain >= 0).astype(float))
    return np.where(np.isnan(value), 1.0, credit)


def mean_credit(
    indicators: Sequence[Indicator | CquinIndicator],
    weights: Sequence[float],
    measures: Mapping[str, np.ndarray],
    month_days: np.ndarray,
) -> np.ndarray:
    """Weighted mean credit of ``indicators``, year to date, ``[replication, month]`` (0..1)."""
    weights = np.asarray(weights, dtype=float)
    credits = [indicator_credit(i, indicator_value(i.measure, measures, month_days)) for i in indicators]
    return sum(w * c for w, c in zip(weights, credits, strict=True)) / weights.sum()


def outcome_credit(outcomes: Outcomes, measures: Mapping[str, np.ndarray], month_days: np.ndarray) -> np.ndarray:
    """Weighted credit of all indicators, year to date, ``[replication, month]`` (0..1)."""
    return mean_credit(outcomes.indicators, [i.weight for i in outcomes.indicators], measures, month_days)


def outcome_payment(
    outcomes: Outcomes,
    contract_value: np.ndarray,
    measures: Mapping[str, np.ndarray],
    month_days: np.ndarray,
) -> np.ndarray:
    """The outcome element of income, GBP per month, ``[replication, month]``.

    Parameters
    ----------
    outcomes : Outcomes
        Share at stake, withhold or bonus, timing and indicators.
    contract_value : ndarray
        GBP per contract year, ``[replication, year]`` or ``[year]``.
    measures : mapping of str to ndarray
        Activity measures, ``[replication, month]``.
    month_days : ndarray
        Days in each counted month, ``[month]``.

    Returns
    -------
    ndarray
        Negative while money is withheld, positive as it is released or paid as a bonus.
    """
    credit = outcome_credit(outcomes, measures, month_days)
    months = credit.shape[-1]
    pot = outcomes.share * np.asarray(contract_value, dtype=float)  # GBP per year
    pot_monthly = in_twelfths(pot, months)
    earned = year_to_date(np.broadcast_to(pot_monthly, credit.shape)) * credit
    if outcomes.paid == "year_end":
        earned = year_end_only(earned)
    released = from_year_to_date(earned)
    if outcomes.mode == "withhold":
        return released - pot_monthly
    return released + np.zeros_like(pot_monthly)
