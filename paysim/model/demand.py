"""Demand: arrival-rate curves and arrival times, shared by every engine.

The rate of referrals (or bed requests) at time ``t`` days from the start of the counted horizon is::

    rate(t) = per_year / 365 * (1 + growth) ** (t / 365) * (1 + amplitude * cos(2 pi (t - t_peak) / 365))

per day: the base rate at the start of the horizon, compound yearly growth applied continuously, and a
seasonal swing peaking in the middle of calendar month ``peak_month`` every year. The cumulative rate has
a closed form, so expected counts over any interval are exact. Arrivals are a non-homogeneous Poisson
process: each day gets a Poisson count with that day's exact expected number, spread uniformly over the
day (the rate changes by under 0.1 % inside a day).

Calendar: the horizon starts on the first day of ``start_month``; years have 365 days and months their
calendar lengths (February 28).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
"""Days in each calendar month, January first."""
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_START = np.concatenate([[0], np.cumsum(MONTH_DAYS)[:-1]])  # day of year each month starts
_OMEGA = 2 * np.pi / 365.0


def month_edges(start_month: int, months: int) -> np.ndarray:
    """Days from the horizon start at which each counted month starts, plus the end: shape ``[months + 1]``."""
    order = (np.arange(months) + start_month - 1) % 12
    return np.concatenate([[0], np.cumsum(MONTH_DAYS[order])]).astype(float)


def month_labels(start_month: int, months: int) -> list[str]:
    """Labels for the counted months: ``"Y1 Apr"``, ``"Y1 May"``, ... (Y = contract year from the start)."""
    return [f"Y{m // 12 + 1} {MONTH_NAMES[(m + start_month - 1) % 12]}" for m in range(months)]


@dataclass(frozen=True)
class DemandCurve:
    """Arrival-rate curve of one service line (rates per day, times in days from the horizon start)."""

    per_year: float
    growth: float = 0.0
    amplitude: float = 0.0
    peak_day: float = 0.0
    """Day of the seasonal peak, measured from the horizon start (mod 365)."""

    @classmethod
    def for_line(cls, line, start_month: int) -> DemandCurve:
        """The curve of a scenario line (anything with growth, seasonality and a yearly volume)."""
        per_year = getattr(line, "referrals_per_year", None)
        if per_year is None:
            per_year = line.admissions_per_year
        peak = line.seasonality.peak_month - 1
        peak_doy = _MONTH_START[peak] + MONTH_DAYS[peak] / 2
        return cls(
            per_year=float(per_year),
            growth=float(line.growth),
            amplitude=float(line.seasonality.amplitude),
            peak_day=float((peak_doy - _MONTH_START[start_month - 1]) % 365),
        )

    @property
    def _k(self) -> float:
        return np.log1p(self.growth) / 365.0

    def rate(self, t: np.ndarray | float) -> np.ndarray:
        """Arrival rate per day at times ``t`` (days)."""
        t = np.asarray(t, dtype=float)
        season = 1 + self.amplitude * np.cos(_OMEGA * (t - self.peak_day))
        return self.per_year / 365.0 * np.exp(self._k * t) * season

    def expected(self, start: np.ndarray | float, end: np.ndarray | float) -> np.ndarray:
        """Expected arrivals in ``[start, end)`` (days): the exact integral of :meth:`rate`."""
        a = np.asarray(start, dtype=float)
        b = np.asarray(end, dtype=float)
        k = self._k
        if k == 0:
            trend = b - a
        else:
            trend = np.exp(k * a) * np.expm1(k * (b - a)) / k
        seasonal = 0.0
        if self.amplitude:

            def antiderivative(t: np.ndarray) -> np.ndarray:
                phase = _OMEGA * (t - self.peak_day)
                return np.exp(k * t) * (k * np.cos(phase) + _OMEGA * np.sin(phase)) / (k * k + _OMEGA * _OMEGA)

            seasonal = self.amplitude * (antiderivative(b) - antiderivative(a))
        return self.per_year / 365.0 * (trend + seasonal)

    def daily(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Whole days ``start .. end - 1`` and the expected arrivals in each (read-only arrays, cached: a
        run asks for the same days once per replication)."""
        return _daily(self, start, end)

    def arrivals(self, rng: np.random.Generator, start: int, end: int) -> np.ndarray:
        """Sorted arrival times (days) in ``[start, end)`` for whole days ``start < end``.

        Draws a Poisson count per day (one ``poisson`` call for all days), then one uniform per arrival.
        """
        days, expected = self.daily(start, end)
        counts = rng.poisson(expected)
        times = np.repeat(days, counts) + rng.random(int(counts.sum()))
        return np.sort(times)


@functools.lru_cache(maxsize=16)
def _daily(curve: DemandCurve, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(start, end, dtype=float)
    expected = curve.expected(days, days + 1.0)
    days.flags.writeable = False
    expected.flags.writeable = False
    return days, expected
