"""A fitted scenario value with its uncertainty, and what it came from.

Every fit in :mod:`paysim.calibrate` returns :class:`Estimate` objects: the dotted scenario key, the value, its
standard error, the base scenario's value, the data and months it came from and the method (these last two become
the value's comment in the written scenario). Estimates fitted together carry their covariance in a
:class:`Group`, which becomes ``correlations:`` in the scenario's ``uncertain:`` block.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

Carrier = Literal["normal", "positive", "share", "none"]
"""How an estimate's uncertainty is carried into ``uncertain:``: a normal (truncated to the key's range), a
positive quantity (rates, days, places: a normal kept above a tenth of the mean), a share (a normal in 0..1), or not
at all (an exact identity, a discrete choice, or no standard error)."""
TAILS = 4.0
"""A fitted value's distribution is truncated at this many standard errors either side."""


@dataclass(frozen=True)
class Estimate:
    """One fitted value.

    Attributes
    ----------
    key:
        Dotted scenario key, e.g. ``services.community.referrals_per_year``.
    value:
        The estimate, in the key's units (whole for whole-number keys).
    se:
        Its standard error (NaN when the fit gives none).
    base:
        The base scenario's value of the key (None when the base has none).
    source:
        The data and months it came from, e.g. ``community.referrals 2023-04..2025-03 (24 months)``.
    method:
        How it was fitted, a few words.
    carrier:
        How its uncertainty reaches ``uncertain:`` (see :data:`Carrier`).
    low, high:
        The key's allowed range (a normal is truncated to it).
    """

    key: str
    value: Any
    se: float
    base: Any
    source: str
    method: str
    carrier: Carrier = "normal"
    low: float | None = None
    high: float | None = None

    @property
    def whole(self) -> bool:
        return isinstance(self.value, int | np.integer) and not isinstance(self.value, bool)

    @property
    def uncertain(self) -> bool:
        """Whether the estimate goes into ``uncertain:``: a finite standard error above 1e-4 of the value (a value the
        data fix, such as places always full, is not uncertain)."""
        if self.carrier == "share" and not 0 < float(self.value) < 1:
            return False
        return self.carrier != "none" and math.isfinite(self.se) and self.se > 1e-4 * abs(float(self.value))

    def comment(self) -> str:
        """The comment written beside the value."""
        text = f"fitted: {self.method}, from {self.source}"
        if math.isfinite(self.se) and self.se > 0:
            text += f"; se {_short(self.se)}"
        if self.base is not None:
            text += f" (base {_short(self.base)})"
        return text

    def distribution(self) -> dict[str, Any]:
        """The ``uncertain.parameters`` entry for this estimate (only when :attr:`uncertain`): a normal with the
        estimate as mean and its standard error as sd, truncated to ``mean +/- 4 sd`` and to the key's range (a
        positive quantity above a tenth of its mean, a share in 0..1). :mod:`paysim.model.uncertainty` checks every
        value a distribution can reach against the key's range, and an untruncated lognormal or beta reaches 0
        (or 1)."""
        mean, sd = float(self.value), float(self.se)
        low, high = mean - TAILS * sd, mean + TAILS * sd
        if self.carrier == "positive":
            low = max(low, 0.1 * mean)
        elif self.carrier == "share":
            low, high = max(low, 0.0), min(high, 1.0)
        if self.low is not None:
            low = max(low, self.low)
        if self.high is not None:
            high = min(high, self.high)
        return {"dist": "normal", "mean": _round(mean), "sd": _round(sd), "low": _round(low), "high": _round(high)}

    def with_value(self, value: Any, se: float | None = None, **changes: Any) -> Estimate:
        return replace(self, value=value, se=self.se if se is None else se, **changes)


@dataclass(frozen=True)
class Group:
    """Estimates fitted together and the covariance of their values, ``[K, K]`` in the order of ``keys``."""

    keys: tuple[str, ...]
    covariance: np.ndarray = field(repr=False)

    def correlations(self, min_abs: float = 0.05) -> list[tuple[str, str, float]]:
        """Pairs with correlation at least ``min_abs`` in size, rounded to 3 decimals."""
        sd = np.sqrt(np.diag(self.covariance))
        pairs = []
        for i in range(len(self.keys)):
            for j in range(i + 1, len(self.keys)):
                if sd[i] > 0 and sd[j] > 0:
                    rho = float(self.covariance[i, j] / (sd[i] * sd[j]))
                    if abs(rho) >= min_abs and math.isfinite(rho):
                        pairs.append((self.keys[i], self.keys[j], round(max(-0.99, min(0.99, rho)), 3)))
        return pairs


def correlation_list(groups: Iterable[Group], keep: Sequence[str]) -> list[dict[str, Any]]:
    """``correlations:`` entries for the groups' pairs whose keys are both in ``keep``, shrunk towards 0 until
    the matrix is positive definite (rounding can break that)."""
    pairs = [p for g in groups for p in g.correlations() if p[0] in keep and p[1] in keep]
    if not pairs:
        return []
    names = list(keep)
    for shrink in (1.0, 0.95, 0.9, 0.8, 0.6, 0.4):
        matrix = np.eye(len(names))
        for a, b, rho in pairs:
            i, j = names.index(a), names.index(b)
            matrix[i, j] = matrix[j, i] = round(rho * shrink, 3)
        try:
            np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            continue
        return [{"between": [a, b], "rho": round(rho * shrink, 3)} for a, b, rho in pairs]
    return []


def _round(value: float, digits: int = 5) -> float:
    """A value to ``digits`` significant figures (as written in the scenario)."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def _short(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return str(value)
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


rounded = _round
