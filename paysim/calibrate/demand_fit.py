"""Referral rate, growth and seasonality of one line, fitted to monthly counts on the demand curve's own form.

The expected count in month ``m`` is the exact integral of the scenario's rate curve over that month
(:meth:`paysim.model.demand.DemandCurve.expected`), with the data's first month as day 0::

    mu_m = DemandCurve(per_year, growth, amplitude, peak).expected(edge_m, edge_m+1) + offset_m + share * covariate_m

so the fitted curve *is* the scenario's. The counts are Poisson, or negative binomial (NB2: variance
``mu + alpha mu^2``) when a likelihood-ratio test finds overdispersion (alpha = 0 lies on the boundary, so the
p-value is half the chi-square(1) tail; negative binomial below :data:`OVERDISPERSION_P`). Estimates and their
covariance come from statsmodels' :class:`~statsmodels.base.model.GenericLikelihoodModel` (maximum likelihood,
covariance from the numerical Hessian). The peak month is chosen by likelihood among the 12 calendar months; it is
not uncertain in the result. ``offset`` (known expected counts, e.g. readmissions) and ``covariate`` with a fitted
``share`` (crisis referrals, of which a share need a bed) let the inpatient bed requests be fitted the same way.

A seasonal fit needs 12 or more months; with fewer, :func:`fit_demand` is called with ``seasonal=False`` and the
base's amplitude and peak are kept.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from scipy import special, stats
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from paysim.model.demand import DemandCurve, month_edges

OVERDISPERSION_P = 0.05
"""The negative binomial is used when the overdispersion test's p-value is below this."""
MIN_SEASONAL_MONTHS = 12
"""Fewest months a seasonal fit needs (one of each calendar month)."""
MIN_MONTHS = 3
"""Fewest months for any fit of a rate and its growth."""


@dataclass(frozen=True)
class DemandFit:
    """A fitted demand curve of one line (rates per year at the data's first month).

    Attributes
    ----------
    per_year, growth, amplitude, peak_month:
        The curve (``peak_month`` a calendar month, 1 = January).
    share:
        The fitted share of the covariate (NaN when none was given).
    names:
        Names of the fitted parameters, in the order of ``covariance``: some of ``per_year``, ``growth``,
        ``amplitude``, ``share``.
    covariance:
        Covariance of those parameters, ``[K, K]``.
    family:
        ``"poisson"`` or ``"negative binomial"``.
    alpha:
        The negative binomial's dispersion (0 for Poisson).
    overdispersion_p:
        p-value of the test of alpha = 0.
    loglike:
        Maximised log-likelihood.
    expected:
        Fitted expected counts per month, ``[M]``.
    """

    per_year: float
    growth: float
    amplitude: float
    peak_month: int
    share: float
    names: tuple[str, ...]
    covariance: np.ndarray
    family: str
    alpha: float
    overdispersion_p: float
    loglike: float
    expected: np.ndarray

    def se(self, name: str) -> float:
        """Standard error of a fitted parameter (NaN if it was not fitted)."""
        if name not in self.names:
            return float("nan")
        i = self.names.index(name)
        return float(math.sqrt(max(self.covariance[i, i], 0.0)))

    def projected(self, days: float) -> tuple[float, np.ndarray]:
        """The yearly rate ``days`` after the data's first day, and the covariance of the fitted parameters with
        ``per_year`` replaced by it (delta method): ``(per_year_then, [K, K])``."""
        factor = (1 + self.growth) ** (days / 365.0)
        value = self.per_year * factor
        jac = np.eye(len(self.names))
        i = self.names.index("per_year")
        jac[i, i] = factor
        if "growth" in self.names:
            jac[i, self.names.index("growth")] = (
                self.per_year * (days / 365.0) * (1 + self.growth) ** (days / 365.0 - 1)
            )
        return value, jac @ self.covariance @ jac.T


def curve(per_year: float, growth: float, amplitude: float, peak_month: int, start_month: int) -> DemandCurve:
    """The scenario's demand curve for these values, with day 0 the first day of ``start_month``."""
    line = SimpleNamespace(
        referrals_per_year=per_year,
        growth=growth,
        seasonality=SimpleNamespace(amplitude=amplitude, peak_month=peak_month),
    )
    return DemandCurve.for_line(line, start_month)


class _CurveModel(GenericLikelihoodModel):
    """Monthly counts under the demand curve (see the module docstring); parameters ``log per_year``, then
    ``growth``, ``amplitude``, ``share``, ``log alpha`` as asked for."""

    def __init__(
        self,
        counts: np.ndarray,
        edges: np.ndarray,
        start_month: int,
        peak_month: int,
        fixed: dict[str, float],
        offset: np.ndarray,
        covariate: np.ndarray | None,
        negbin: bool,
    ) -> None:
        self.edges = edges
        self.start_month = start_month
        self.peak_month = peak_month
        self.fixed = fixed
        self.offset = offset
        self.covariate = covariate
        self.negbin = negbin
        self.free = [n for n in ("growth", "amplitude") if n not in fixed]
        if covariate is not None:
            self.free.append("share")
        if negbin:
            self.free.append("log_alpha")
        exog = np.ones((len(counts), 1))
        super().__init__(counts, exog, extra_params_names=self.free)
        self.exog_names[0] = "log_per_year"

    def unpack(self, params: np.ndarray) -> dict[str, float]:
        values = dict(self.fixed)
        values["per_year"] = float(np.exp(params[0]))
        for name, value in zip(self.free, params[1:], strict=True):
            values[name] = float(value)
        return values

    def mean(self, params: np.ndarray) -> np.ndarray:
        v = self.unpack(params)
        c = curve(v["per_year"], v["growth"], v["amplitude"], self.peak_month, self.start_month)
        mu = c.expected(self.edges[:-1], self.edges[1:]) + self.offset
        if self.covariate is not None:
            mu = mu + v["share"] * self.covariate
        return mu

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        v = self.unpack(params)
        y = self.endog
        bad = not (-0.5 <= v.get("growth", 0) <= 1.0 and 0 <= v.get("amplitude", 0) < 1 and 0 <= v.get("share", 0) <= 1)
        mu = self.mean(params)
        if bad or not np.all(np.isfinite(mu)) or np.any(mu <= 0):
            return np.full(len(y), -1e10)
        if not self.negbin:
            return y * np.log(mu) - mu - special.gammaln(y + 1)
        alpha = math.exp(v["log_alpha"])
        r = 1.0 / alpha
        return (
            special.gammaln(y + r)
            - special.gammaln(r)
            - special.gammaln(y + 1)
            + r * np.log(r / (r + mu))
            + y * np.log(mu / (r + mu))
        )


def _fit_one(model: _CurveModel, start: np.ndarray) -> tuple[object, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, HessianInversionWarning, RuntimeWarning))
        first = model.fit(start_params=start, method="nm", maxiter=4000, disp=0)
        result = model.fit(start_params=first.params, method="bfgs", maxiter=400, disp=0)
    if not np.isfinite(result.llf) or result.llf < first.llf - 1e-6:
        result = first
    return result, float(result.llf)


def fit_demand(
    counts: np.ndarray,
    start_month: int,
    *,
    seasonal: bool = True,
    amplitude: float = 0.0,
    peak_month: int = 1,
    offset: np.ndarray | None = None,
    covariate: np.ndarray | None = None,
    fit_growth: bool = True,
) -> DemandFit:
    """Fit the demand curve to monthly counts ``[M]`` starting in calendar month ``start_month``.

    Parameters
    ----------
    counts:
        Counts per month (whole, >= 0), ``[M]``.
    start_month:
        Calendar month of the first count (1 = January).
    seasonal:
        Fit the amplitude and choose the peak month (needs :data:`MIN_SEASONAL_MONTHS`); otherwise keep
        ``amplitude`` and ``peak_month``.
    offset:
        Known expected counts added to the curve, ``[M]`` (default none).
    covariate:
        Counts of which a fitted ``share`` adds to the curve, ``[M]`` (default none).
    fit_growth:
        Fit the growth (else it is 0).

    Returns
    -------
    DemandFit
    """
    counts = np.asarray(counts, dtype=float)
    months = len(counts)
    edges = month_edges(start_month, months)
    offset = np.zeros(months) if offset is None else np.asarray(offset, dtype=float)
    fixed: dict[str, float] = {}
    if not seasonal:
        fixed["amplitude"] = amplitude
    if not fit_growth:
        fixed["growth"] = 0.0
    peaks = range(1, 13) if seasonal else [peak_month]
    base_level = max(np.sum(counts - offset), 1.0) / (edges[-1] / 365.0)
    if covariate is not None:
        base_level = max(base_level - 0.1 * np.sum(covariate) / (edges[-1] / 365.0), 1.0)

    def start_for(model: _CurveModel, alpha: float | None) -> np.ndarray:
        guess = {"growth": 0.0, "amplitude": 0.05, "share": 0.1, "log_alpha": math.log(alpha or 0.01)}
        return np.array([math.log(base_level)] + [guess[n] for n in model.free])

    best = None
    for peak in peaks:
        model = _CurveModel(counts, edges, start_month, peak, fixed, offset, covariate, negbin=False)
        result, llf = _fit_one(model, start_for(model, None))
        if best is None or llf > best[2]:
            best = (model, result, llf, peak)
    assert best is not None
    model, result, llf, peak = best
    family, alpha, p_value = "poisson", 0.0, 1.0
    nb_model = _CurveModel(counts, edges, start_month, peak, fixed, offset, covariate, negbin=True)
    nb_start = np.concatenate([result.params, [math.log(0.01)]])
    nb_result, nb_llf = _fit_one(nb_model, nb_start)
    lr = max(2 * (nb_llf - llf), 0.0)
    p_value = float(0.5 * stats.chi2.sf(lr, 1)) if lr > 0 else 1.0
    if p_value < OVERDISPERSION_P:
        model, result, llf = nb_model, nb_result, nb_llf
        family, alpha = "negative binomial", float(math.exp(nb_result.params[-1]))
    values = model.unpack(result.params)
    names = ["per_year", *[n for n in model.free if n != "log_alpha"]]
    k = len(names)
    cov_params = _covariance(result, len(result.params))[:k, :k]
    jac = np.eye(k)
    jac[0, 0] = values["per_year"]  # d per_year / d log per_year
    covariance = jac @ cov_params @ jac.T
    return DemandFit(
        per_year=values["per_year"],
        growth=values.get("growth", 0.0),
        amplitude=values.get("amplitude", amplitude),
        peak_month=peak,
        share=values.get("share", float("nan")),
        names=tuple(names),
        covariance=covariance,
        family=family,
        alpha=alpha,
        overdispersion_p=p_value,
        loglike=llf,
        expected=model.mean(result.params),
    )


def _covariance(result: object, k: int) -> np.ndarray:
    """The fit's covariance, or NaN where the Hessian cannot be inverted (a parameter at a bound)."""
    try:
        cov = np.asarray(result.cov_params(), dtype=float)  # type: ignore[attr-defined]
    except (np.linalg.LinAlgError, ValueError):
        return np.full((k, k), np.nan)
    if cov.shape != (k, k) or not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
        return np.full((k, k), np.nan)
    return cov
