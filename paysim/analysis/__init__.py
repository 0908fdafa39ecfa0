"""Risk measures and comparisons over replications.

All functions take per-replication values (``[replication]``, or ledgers ``[replication, month]``) and
never loop over replications.

* :func:`summarise`: mean, sd, standard error, percentiles (5, 25, 50, 75, 95), min, max.
* :func:`deficit_probability`: share of replications in which the provider's surplus is negative, per
  contract year and over the horizon.
* :func:`expected_shortfall`: mean of the worst 5 % of outcomes (the ``ceil(0.05 R)`` lowest values).
* :func:`spend_variability`: sd and coefficient of variation of commissioner spend.
* :func:`paired_difference` / :func:`paired_comparison`: differences between two rules on the same Activity,
  or two scenarios on the same random numbers, with the standard error of the mean paired difference
  ``sd(other - base) / sqrt(R)`` and a 95 % t interval.

The analyses built on runs are this package's modules: :mod:`~paysim.analysis.compare` (two scenarios on common
random numbers), :mod:`~paysim.analysis.sensitivity`, :mod:`~paysim.analysis.design`,
:mod:`~paysim.analysis.report`, :mod:`~paysim.analysis.realism`, and the closed forms the tests hold the model to
(:mod:`~paysim.analysis.queueing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from paysim.money.payment.schedule import yearly_totals

PERCENTILES = (5, 25, 50, 75, 95)
"""Percentiles reported by :func:`summarise`."""


def summarise(values: np.ndarray) -> dict[str, float]:
    """Summary of one column over replications.

    Parameters
    ----------
    values : ndarray
        One value per replication, ``[replication]`` (NaN values are left out).

    Returns
    -------
    dict
        ``n``, ``mean``, ``sd`` (ddof 1), ``se`` (sd / sqrt(n)), ``p5`` ... ``p95``, ``min``, ``max``.
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return {"n": 0, "mean": np.nan, "sd": np.nan, "se": np.nan}
    sd = float(x.std(ddof=1)) if n > 1 else np.nan
    out: dict[str, float] = {"n": n, "mean": float(x.mean()), "sd": sd, "se": sd / np.sqrt(n)}
    for p, q in zip(PERCENTILES, np.percentile(x, PERCENTILES), strict=True):
        out[f"p{p}"] = float(q)
    out["min"] = float(x.min())
    out["max"] = float(x.max())
    return out


def summary_table(columns: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """:func:`summarise` for every column: rows ``{"column": name, "mean": ..., ...}``."""
    return [{"column": name, **summarise(values)} for name, values in columns.items()]


def deficit_probability(surplus: np.ndarray) -> dict[str, Any]:
    """Probability that the provider is in deficit.

    Parameters
    ----------
    surplus : ndarray
        Provider surplus, GBP per month, ``[replication, month]`` (whole contract years).

    Returns
    -------
    dict
        ``horizon``: P(surplus over the whole horizon < 0); ``years``: P(surplus in contract year y < 0),
        a list ``[year]``; ``any_year``: P(a deficit in at least one year).
    """
    surplus = np.asarray(surplus, dtype=float)
    return deficit_from(surplus.sum(axis=1), yearly_totals(surplus))


def deficit_from(total: np.ndarray, years: np.ndarray) -> dict[str, Any]:
    """:func:`deficit_probability` from the surplus over the horizon ``[replication]`` and per contract
    year ``[replication, year]`` (GBP)."""
    return {
        "horizon": float((total < 0).mean()),
        "years": (years < 0).mean(axis=0).tolist(),
        "any_year": float((years < 0).any(axis=1).mean()),
    }


def expected_shortfall(values: np.ndarray, level: float = 0.05) -> float:
    """Mean of the worst ``level`` share of outcomes (lowest values), e.g. provider surplus.

    The tail holds the ``ceil(level x R)`` lowest of ``R`` values (at least one). To apply it to a cost
    (where high is bad), pass the negated values and negate the result.
    """
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if x.size == 0:
        return np.nan
    k = max(1, int(np.ceil(level * x.size - 1e-9)))
    return float(x[:k].mean())


def spend_variability(spend: np.ndarray) -> dict[str, Any]:
    """Variability of commissioner spend across replications.

    Parameters
    ----------
    spend : ndarray
        Commissioner spend, GBP per month, ``[replication, month]``.

    Returns
    -------
    dict
        ``sd`` and ``cv`` (sd / mean) over the horizon, and ``years_sd`` / ``years_cv`` per contract year.
    """
    spend = np.asarray(spend, dtype=float)
    return variability_from(spend.sum(axis=1), yearly_totals(spend))


def variability_from(total: np.ndarray, years: np.ndarray) -> dict[str, Any]:
    """:func:`spend_variability` from spend over the horizon ``[replication]`` and per contract year
    ``[replication, year]`` (GBP)."""
    ddof = 1 if total.shape[0] > 1 else 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "sd": float(total.std(ddof=ddof)),
            "cv": float(total.std(ddof=ddof) / total.mean()),
            "years_sd": years.std(axis=0, ddof=ddof).tolist(),
            "years_cv": (years.std(axis=0, ddof=ddof) / years.mean(axis=0)).tolist(),
        }


def risk_table(ledgers: Mapping[str, Any], level: float = 0.05) -> list[dict[str, Any]]:
    """The headline risk measures of every rule, one row each.

    Parameters
    ----------
    ledgers : mapping of str to Ledger or LedgerTotals
        From :func:`paysim.money.finance.ledgers` (or their :class:`~paysim.money.finance.LedgerTotals`, which give the
        same rows).
    level : float
        Tail share for the expected shortfall.

    Returns
    -------
    list of dict
        ``rule``; provider surplus over the horizon: ``surplus_mean``, ``surplus_sd``, ``surplus_p5``,
        ``surplus_p95``, ``expected_shortfall``; ``p_deficit`` (horizon), ``p_deficit_years`` (per year),
        ``p_deficit_any_year``; commissioner spend: ``spend_mean``, ``spend_sd``, ``spend_cv``.
    """
    rows = []
    for rule, ledger in ledgers.items():
        surplus = ledger.total("provider_surplus")
        spend = ledger.total("commissioner_spend")
        s = summarise(surplus)
        deficit = deficit_from(surplus, ledger.yearly("provider_surplus"))
        variability = variability_from(spend, ledger.yearly("commissioner_spend"))
        rows.append(
            {
                "rule": rule,
                "surplus_mean": s["mean"],
                "surplus_sd": s["sd"],
                "surplus_p5": s.get("p5", np.nan),
                "surplus_p95": s.get("p95", np.nan),
                "expected_shortfall": expected_shortfall(surplus, level),
                "p_deficit": deficit["horizon"],
                "p_deficit_years": deficit["years"],
                "p_deficit_any_year": deficit["any_year"],
                "spend_mean": float(spend.mean()),
                "spend_sd": variability["sd"],
                "spend_cv": variability["cv"],
            }
        )
    return rows


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``other - base`` over replications paired by random numbers, with its uncertainty.

    ``se = sd(other - base, ddof=1) / sqrt(n)``; the interval is ``mean_difference -/+ t(0.975, n-1) x se``.
    """

    n: int
    mean_base: float
    mean_other: float
    mean_difference: float
    se: float
    ci_low: float
    ci_high: float


def paired_difference(base: np.ndarray, other: np.ndarray, confidence: float = 0.95) -> PairedDifference:
    """Paired difference ``other - base`` of two columns on the same replications.

    Parameters
    ----------
    base, other : ndarray
        One value per replication, ``[replication]``, row ``r`` of both from the same random numbers.
    confidence : float
        Coverage of the t interval.

    Raises
    ------
    ValueError
        If the columns have different lengths (they are not paired).
    """
    a = np.asarray(base, dtype=float).ravel()
    b = np.asarray(other, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired columns need the same replications: {a.size} base vs {b.size} other values")
    n = a.size
    d = b - a
    mean = float(d.mean()) if n else np.nan
    if n > 1:
        se = float(d.std(ddof=1) / np.sqrt(n))
        half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    else:
        se = half = np.nan
    return PairedDifference(
        n=n,
        mean_base=float(a.mean()) if n else np.nan,
        mean_other=float(b.mean()) if n else np.nan,
        mean_difference=mean,
        se=se,
        ci_low=mean - half,
        ci_high=mean + half,
    )


def paired_comparison(
    base_columns: Mapping[str, np.ndarray], other_columns: Mapping[str, np.ndarray], confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Paired differences for every column the two runs share (``paysim compare BASE OTHER``).

    Parameters
    ----------
    base_columns, other_columns : mapping of str to ndarray
        Results-table columns ``[replication]`` (e.g. from :func:`paysim.money.finance.money_columns`) of two
        scenarios run on the same replications; row ``r`` of each uses the same random numbers.
    confidence : float
        Coverage of the interval (0.95).

    Returns
    -------
    list of dict
        One row per common column, in the base's order: ``column``, ``n``, ``mean_base``, ``mean_other``,
        ``mean_difference`` (other - base), ``se``, ``ci_low``, ``ci_high``.
    """
    rows = []
    for name, base in base_columns.items():
        if name in other_columns and name != "replication":
            rows.append({"column": name, **asdict(paired_difference(base, other_columns[name], confidence))})
    return rows


def rule_comparison(
    ledgers: Mapping[str, Any], base: str = "block", ledger: str = "provider_surplus"
) -> list[dict[str, Any]]:
    """Paired differences between rules on the same Activity: every other rule against ``base``.

    Returns
    -------
    list of dict
        ``rule``, ``base``, ``ledger`` and the fields of :class:`PairedDifference` (GBP over the horizon).
    """
    if base not in ledgers:
        raise KeyError(f"no {base!r} ledger to compare against; rules present: {', '.join(ledgers)}")
    reference = ledgers[base].total(ledger)
    return [
        {"rule": rule, "base": base, "ledger": ledger, **asdict(paired_difference(reference, lg.total(ledger)))}
        for rule, lg in ledgers.items()
        if rule != base
    ]
