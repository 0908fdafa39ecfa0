"""Contract calendar: contract years, twelfths, year-to-date sums and year-end settlement.

A contract year is a block of 12 counted months from the start of the horizon (with ``start_month: 4``
these are the NHS financial years, April to March). Monthly arrays are shaped ``[replication, month]``;
yearly arrays ``[replication, year]`` (or ``[year]``, broadcast over replications).

**Terms per row.** A chunk of replications each with its own parameter set is priced at once
(:func:`paysim.runs.psa.ledgers_by_replication`): a number of the terms that differs between the rows is then an
array ``[replication, 1]``, which broadcasts against ``[month]`` and ``[year]`` arrays to one row per
replication. Every function of the money reads terms so that a number and such an array give the same values
for each row.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def contract_year(months: int) -> np.ndarray:
    """Contract year (0, 1, ...) of each counted month, ``[months]`` of int."""
    return np.arange(months) // 12


def years_of(months: int) -> int:
    """Number of whole contract years in ``months`` counted months."""
    if months % 12:
        raise ValueError(f"the horizon must be whole contract years of 12 months, got {months} months")
    return months // 12


def by_year(values: float | list[float], years: int) -> np.ndarray:
    """One value per contract year from a number or a trajectory list (the last value repeats), ``[years]``."""
    values = list(values) if isinstance(values, list | tuple) else [values]
    return np.array([values[min(y, len(values) - 1)] for y in range(years)], dtype=float)


def growth_index(rate: float | np.ndarray, years: int) -> np.ndarray:
    """Compound index ``(1 + rate) ** year`` for each contract year, ``[years]`` (``[R, years]`` for a rate per row
    ``[R, 1]``)."""
    return (1.0 + rate) ** np.arange(years, dtype=float)


def uplift_of(terms: Any) -> float | np.ndarray:
    """A rule's yearly uplift as :func:`paysim.money.finance.contract_terms` resolved it (None counts as 0): a
    number, or one per row ``[R, 1]``."""
    return 0.0 if terms.uplift is None else terms.uplift


def in_twelfths(annual: np.ndarray, months: int) -> np.ndarray:
    """Spread yearly amounts ``[..., year]`` over months in 12 equal parts: ``[..., month]``."""
    annual = np.asarray(annual, dtype=float)
    return np.ascontiguousarray(annual[..., contract_year(months)] / 12.0)  # row sums then run along the row


def yearly_totals(monthly: np.ndarray) -> np.ndarray:
    """Sum of a monthly array over each contract year: ``[R, M] -> [R, Y]``."""
    monthly = np.asarray(monthly, dtype=float)
    years = years_of(monthly.shape[-1])
    return monthly.reshape(*monthly.shape[:-1], years, 12).sum(axis=-1)


def year_to_date(monthly: np.ndarray) -> np.ndarray:
    """Running sum inside each contract year (restarts every 12 months): ``[R, M] -> [R, M]``."""
    monthly = np.asarray(monthly, dtype=float)
    years = years_of(monthly.shape[-1])
    return monthly.reshape(*monthly.shape[:-1], years, 12).cumsum(axis=-1).reshape(monthly.shape)


def months_elapsed(months: int) -> np.ndarray:
    """Months elapsed in the contract year at the end of each month (1..12), ``[months]``."""
    return np.arange(months) % 12 + 1.0


def from_year_to_date(ytd: np.ndarray) -> np.ndarray:
    """Monthly amounts whose year-to-date sums are ``ytd`` (the inverse of :func:`year_to_date`)."""
    ytd = np.asarray(ytd, dtype=float)
    years = years_of(ytd.shape[-1])
    blocks = ytd.reshape(*ytd.shape[:-1], years, 12)
    return np.diff(blocks, axis=-1, prepend=0.0).reshape(ytd.shape)


def at_year_end(annual: np.ndarray, months: int) -> np.ndarray:
    """Book yearly amounts ``[..., year]`` in the last month of each contract year: ``[..., month]``."""
    annual = np.asarray(annual, dtype=float)
    out = np.zeros((*annual.shape[:-1], months))
    out[..., 11::12] = annual
    return out


def year_end_only(ytd: np.ndarray) -> np.ndarray:
    """Keep year-to-date values only at the end of each contract year (zero before): ``[R, M]``."""
    ytd = np.asarray(ytd, dtype=float)
    out = np.zeros_like(ytd)
    out[..., 11::12] = ytd[..., 11::12]
    return out
