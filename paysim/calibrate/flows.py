"""Fits in closed form: shares from counts, lengths of stay and episodes from Little's law, the spread of stays from
the OAP length split, and beds from occupancy.

* **Shares** (binomial): ``share = sum(events) / sum(trials)``, standard error ``sqrt(share (1 - share) / trials)``.
  Crisis-to-bed conversion ``crisis.admission_share`` = crisis admissions / crisis referrals; readmissions per
  discharge; ``treated_share`` = 1 - assessed only / referrals; ``dropout_share`` = dropped out / (dropped out +
  completed); ``recovery_share`` = recovered / completed.
* **Length of stay** (Little's law): the mean stay is the days patients spent in a stay over the months (local bed
  days + OAP bed days + days waiting locally for a bed, where given) divided by the stays that began (bed requests).
  Its standard error combines the sampling error of a mean of ``N`` stays, ``sd / sqrt(N)``, and the error at the
  window's two edges (stays running across the first or last day: about ``sqrt(2 L E[R^2]) / N`` with ``L`` the mean
  number in a stay and ``E[R^2] = E[S^3] / (3 E[S])`` the second moment of a stay's residual).
* **Spread of stays** from the OAP return's length split: without repatriation a placement lasts the rest of its
  stay after the local wait ``w``, so the share of ended placements in the band ``(a, b]`` nights is
  ``(F(w + b) - F(w + a)) / (1 - F(w))`` with ``F`` the length-of-stay distribution (mean fixed at Little's law's);
  the sd is the maximum-likelihood value of the multinomial counts (statsmodels' GenericLikelihoodModel, standard
  error from the Hessian). With repatriation placements end early, so the spread keeps the base's coefficient of
  variation.
* **Episode length** of a line from its caseload (Little's law on places): ``caseload_mean x days / started`` is the
  time a place is held; less the first-appointment hold, and for dropouts half an episode, it is the episode mean.
* **Beds** from occupancy: ``local bed days / (occupancy_mean x days)`` (an identity, exact).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from paysim.activity import OAP_LENGTH_BANDS

BAND_EDGES = (0.0, 7.0, 14.0, 30.0, math.inf)
"""Edges of the OAP return's length bands in nights: 1-7, 8-14, 15-30, 31 or more."""


@dataclass(frozen=True)
class Ratio:
    """A share fitted from counts: value, standard error, events and trials."""

    value: float
    se: float
    events: float
    trials: float


def share(events: np.ndarray, trials: np.ndarray) -> Ratio:
    """Binomial share of summed ``events`` in summed ``trials`` (months with both given), with its standard error
    (0 when no event, or every trial, is one: the share is then not uncertain in the scenario)."""
    events, trials = np.asarray(events, float), np.asarray(trials, float)
    ok = np.isfinite(events) & np.isfinite(trials)
    e, n = float(events[ok].sum()), float(trials[ok].sum())
    if n <= 0:
        return Ratio(float("nan"), float("nan"), e, n)
    p = min(max(e / n, 0.0), 1.0)
    return Ratio(p, math.sqrt(p * (1 - p) / n), e, n)


def duration_moments(dist: str, mean: float, sd: float) -> tuple[float, float, float]:
    """``E[S], E[S^2], E[S^3]`` of a duration of this family (days)."""
    if dist == "fixed" or sd <= 0:
        return mean, mean**2, mean**3
    if dist == "gamma" or dist == "exponential":
        k = (mean / sd) ** 2
        theta = sd**2 / mean
        return mean, k * (k + 1) * theta**2, k * (k + 1) * (k + 2) * theta**3
    sigma2 = math.log1p((sd / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    return mean, math.exp(2 * mu + 2 * sigma2), math.exp(3 * mu + 4.5 * sigma2)


@dataclass(frozen=True)
class Stay:
    """Mean length of stay by Little's law: value, standard error (days), stays and days it rests on."""

    mean: float
    se: float
    stays: float
    days: float


def little_stay(days: np.ndarray, stays: np.ndarray, month_days: np.ndarray, dist: str, cv: float) -> Stay:
    """Mean length of stay = sum(days) / sum(stays), with its standard error (see the module docstring).

    Parameters
    ----------
    days:
        Days spent in a stay in each month (bed days, OAP days, local waits), ``[M]``.
    stays:
        Stays begun in each month (bed requests), ``[M]``.
    month_days:
        Days in each month, ``[M]``.
    dist, cv:
        The stay distribution's family and coefficient of variation (for the standard error).
    """
    total_days, n = float(np.sum(days)), float(np.sum(stays))
    if n <= 0:
        return Stay(float("nan"), float("nan"), n, total_days)
    mean = total_days / n
    sd = cv * mean
    m1, _, m3 = duration_moments(dist, mean, sd)
    occupancy = total_days / float(np.sum(month_days))
    edge = math.sqrt(2 * occupancy * m3 / (3 * m1))
    se = math.sqrt(sd**2 / n + (edge / n) ** 2)
    return Stay(mean, se, n, total_days)


def band_shares(dist: str, mean: float, sd: float, wait: float) -> np.ndarray:
    """Expected shares of ended placements in the four length bands, ``[4]`` (see the module docstring)."""
    frozen = _frozen(dist, mean, sd)
    edges = np.array(BAND_EDGES) + wait
    cdf = frozen.cdf(edges)
    cdf[-1] = 1.0
    tail = 1 - frozen.cdf(wait)
    if tail <= 0:
        return np.full(4, np.nan)
    return np.clip(np.diff(cdf) / tail, 1e-300, 1.0)


def _frozen(dist: str, mean: float, sd: float):
    if dist == "gamma":
        k = (mean / sd) ** 2
        return stats.gamma(k, scale=sd**2 / mean)
    sigma2 = math.log1p((sd / mean) ** 2)
    return stats.lognorm(math.sqrt(sigma2), scale=mean * math.exp(-sigma2 / 2))


class _BandModel(GenericLikelihoodModel):
    """Multinomial counts of ended placements by length band, ``[4]``; one parameter, ``log sd``."""

    def __init__(self, counts: np.ndarray, dist: str, mean: float, wait: float) -> None:
        self.dist, self.mean_stay, self.wait = dist, mean, wait
        super().__init__(np.asarray(counts, float)[None, :], np.ones((1, 1)))
        self.exog_names[0] = "log_sd"

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        sd = math.exp(params[0])
        if not 0.01 * self.mean_stay < sd < 20 * self.mean_stay:
            return np.array([-1e10])
        p = band_shares(self.dist, self.mean_stay, sd, self.wait)
        if not np.all(np.isfinite(p)):
            return np.array([-1e10])
        return np.array([float(np.sum(self.endog[0] * np.log(p)))])


@dataclass(frozen=True)
class Spread:
    """The length-of-stay sd fitted to the length split: value and standard error (days), placements used."""

    sd: float
    se: float
    placements: float


def fit_spread(
    counts: np.ndarray,
    dist: str,
    mean: float,
    wait: float,
    start_sd: float,
    mean_se: float = 0.0,
    wait_se: float = 0.0,
) -> Spread:
    """Maximum-likelihood sd of the stay distribution (mean fixed) from ended placements by band ``[4]``.

    The likelihood holds the mean and the local wait fixed, so its standard error alone understates the sd's; with
    ``mean_se`` and ``wait_se`` (their standard errors) the fit is repeated a step either side of each and the
    slopes carry them through: ``se^2 = se_fit^2 + (d sd / d mean x mean_se)^2 + (d sd / d wait x wait_se)^2``
    (the two taken as independent)."""
    spread = _fit_spread(counts, dist, mean, wait, start_sd)
    if not math.isfinite(spread.se):
        return spread
    variance = spread.se**2
    if mean_se > 0 and math.isfinite(mean_se):
        step = min(mean_se, 0.5 * mean)
        slope = _slope(lambda m: _fit_spread(counts, dist, m, wait, spread.sd).sd, mean - step, mean + step)
        variance += (slope * mean_se) ** 2
    if wait_se > 0 and math.isfinite(wait_se):
        low = max(wait - wait_se, 0.0)  # a wait is not negative: one-sided at 0
        slope = _slope(lambda w: _fit_spread(counts, dist, mean, w, spread.sd).sd, low, wait + wait_se)
        variance += (slope * wait_se) ** 2
    return Spread(spread.sd, math.sqrt(variance), spread.placements)


def _slope(fit, low: float, high: float) -> float:
    return (fit(high) - fit(low)) / (high - low)


def _fit_spread(counts: np.ndarray, dist: str, mean: float, wait: float, start_sd: float) -> Spread:
    counts = np.asarray(counts, float)
    model = _BandModel(counts, dist, mean, wait)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, HessianInversionWarning, RuntimeWarning))
        first = model.fit(start_params=np.array([math.log(start_sd)]), method="nm", maxiter=500, disp=0)
        result = model.fit(start_params=first.params, method="bfgs", maxiter=200, disp=0)
    if not np.isfinite(result.llf) or result.llf < first.llf - 1e-9:
        result = first
    sd = float(math.exp(result.params[0]))
    try:
        log_se = float(np.sqrt(np.asarray(result.cov_params())[0, 0]))
    except (np.linalg.LinAlgError, ValueError):
        log_se = float("nan")
    return Spread(sd, sd * log_se if math.isfinite(log_se) else float("nan"), float(counts.sum()))


def band_counts(values: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    """Summed ended placements by band ``[4]`` over the months in which all four bands are given, and how many
    months those are (a suppressed band drops its month)."""
    names = [f"inpatient.{band}" for band in OAP_LENGTH_BANDS]
    stacked = np.stack([np.asarray(values[n], float) for n in names])
    ok = np.all(np.isfinite(stacked), axis=0)
    return stacked[:, ok].sum(axis=1), int(ok.sum())


def episode_mean(
    caseload: np.ndarray,
    started: np.ndarray,
    month_days: np.ndarray,
    first_appointment: float,
    dropout: float,
    stepdowns: np.ndarray | None = None,
) -> tuple[float, float]:
    """Episode mean (days) from the mean caseload and starts (Little's law on places), and its standard error
    (the relative sampling error of the starts, ``1 / sqrt(starts)``, carried through).

    The caseload days are ``e x (b + m (1 - d/2)) + s x m`` for ``e`` external starts (each held ``b`` days for its
    first appointment, a share ``d`` dropping out after half an episode on average) and ``s`` step-downs from the
    ward (no first-appointment wait, no dropout; ``stepdowns``, e.g. the ward's discharges, when the data has them),
    so ``m = (caseload days - e b) / (e (1 - d/2) + s)``."""
    days = float(np.sum(np.asarray(caseload) * month_days))
    n = float(np.sum(started))
    s = min(float(np.sum(stepdowns)), n) if stepdowns is not None else 0.0
    e = n - s
    per_start = e * (1 - dropout / 2) + s
    mean = (days - e * first_appointment) / max(per_start, 1.0)
    return mean, (days / max(per_start, 1.0)) / math.sqrt(max(n, 1.0))


def beds_from_occupancy(local_bed_days: np.ndarray, occupancy: np.ndarray, month_days: np.ndarray) -> float:
    """Local beds implied by bed days and the occupied share: ``sum(bed days) / sum(occupancy x days)``."""
    occupied = float(np.sum(np.asarray(occupancy) * month_days))
    return float(np.sum(local_bed_days)) / occupied if occupied > 0 else float("nan")
