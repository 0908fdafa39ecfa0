"""Inverse-CDF table samplers, shared by the SimPy model and the vector engine.

A lognormal or gamma duration is drawn as ``ppf(u)`` of one uniform ``u`` taken from the stream's raw 64-bit
output (one raw value per draw, so a draw depends only on its place in the stream, never on the block size):
the top :data:`TABLE_BITS` bits of the raw value pick a cell of a table of ``ppf(i / CELLS)`` built once per
distribution shape from scipy, and the remaining 48 bits place the draw linearly inside the cell. Draws falling
in the first or the last cell (2 in 65,536) are computed exactly with scipy's scalar quantile function instead,
so the tails, which carry much of a skewed distribution's variance, are not flattened.

Tables are built per *shape* (the coefficient of variation) at unit mean and the draws scaled by the mean, so a
parameter-uncertainty run varying a mean reuses one table. Accuracy (tests/test_samplers.py; the README's
"Random draws" section): Kolmogorov-Smirnov distance under 1e-6, mean and sd within 1e-5 relative of the
stated ones, for the coefficients of variation the limits allow up to 3.

The interpolation is a compiled numba loop (:func:`interpolate`) with a NumPy twin (:func:`interpolate_numpy`)
that gives the same numbers bit for bit (only integer operations, one multiply and one add per draw).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

TABLE_BITS = 16
"""Bits of the raw value that pick a cell of a table."""

CELLS = 1 << TABLE_BITS
"""Cells of each table (65,536)."""

EDGE_BITS = 8
"""The lowest and highest ``2**-EDGE_BITS`` of probability are tabulated again, ``CELLS`` cells each."""

_FINE_BITS = 64 - EDGE_BITS - TABLE_BITS  # fraction bits inside an edge table's cell (40)
_MAIN_FRACTION = np.uint64((1 << (64 - TABLE_BITS)) - 1)
_FINE_FRACTION = np.uint64((1 << _FINE_BITS) - 1)
_MAIN_SHIFT = np.uint64(64 - TABLE_BITS)
_FINE_SHIFT = np.uint64(_FINE_BITS)
_EDGE_SHIFT = np.uint64(64 - EDGE_BITS)
_CELL_MASK = np.uint64(CELLS - 1)
_TOP_EDGE = (1 << EDGE_BITS) - 1


@dataclass(frozen=True, eq=False)
class InverseCdfTable:
    """The quantile function of one distribution shape at unit mean, tabulated in three tables of
    :data:`CELLS` cells: ``[0, 1)`` (cells of 2^-16), and again its edges ``[0, 2^-8)`` and
    ``[1 - 2^-8, 1)`` (cells of 2^-24), where a skewed quantile function bends most.

    Attributes
    ----------
    base:
        ``ppf`` at each cell's left end, ``[3 * CELLS]`` float64 (unit mean): the main table, then the lower
        edge, then the upper edge.
    slope:
        ``ppf`` at the cell's right end minus ``base``, ``[3 * CELLS]`` float64.
    lower, upper:
        Exact quantile functions (unit mean) of a probability below 2^-24 and of the probability *above* a
        point beyond 1 - 2^-24 (the first and last cells, never interpolated), scalars.
    """

    base: np.ndarray
    slope: np.ndarray
    lower: Callable[[float], float]
    upper: Callable[[float], float]

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...], mean: float) -> np.ndarray:
        """Draw ``size`` values (one raw 64-bit value of ``rng`` each), scaled to ``mean``."""
        n = size if isinstance(size, int) else int(np.prod(size))
        raw = rng.bit_generator.random_raw(n)
        out = np.empty(n)
        tails = np.empty(n, dtype=np.int64)
        count = _interpolator()(raw, self.base, self.slope, mean, out, tails)
        for k in tails[:count]:
            out[k] = mean * self.exact(int(raw[k]))
        return out.reshape(size)

    def exact(self, raw: int) -> float:
        """The exact unit-mean quantile at the midpoint of raw value ``raw``'s step of 2^-64 (first or last
        cell of the edge tables only: there the probability, or one minus it, is exact in float64)."""
        if raw >> 63 == 0:
            return self.lower((raw + 0.5) * 2.0**-64)
        return self.upper((2**64 - 1 - raw + 0.5) * 2.0**-64)


def interpolate_numpy(
    raw: np.ndarray, base: np.ndarray, slope: np.ndarray, mean: float, out: np.ndarray, tails: np.ndarray
) -> int:
    """Fill ``out`` ``[n]`` with ``mean * (base[i] + f * slope[i])`` for each raw value (cell ``i``, fraction
    ``f`` of the cell); put the positions of raw values in the first or last cell in ``tails`` and return
    their count."""
    edge = raw >> _EDGE_SHIFT
    low, high = edge == 0, edge == _TOP_EDGE
    fine = low | high
    cell = np.where(fine, ((raw >> _FINE_SHIFT) & _CELL_MASK) + np.where(low, CELLS, 2 * CELLS), raw >> _MAIN_SHIFT)
    cell = cell.astype(np.intp)
    fraction = np.where(
        fine,
        (raw & _FINE_FRACTION).astype(np.float64) * 2.0**-_FINE_BITS,
        (raw & _MAIN_FRACTION).astype(np.float64) * 2.0 ** -(64 - TABLE_BITS),
    )
    out[:] = mean * (base[cell] + fraction * slope[cell])
    found = np.flatnonzero((cell == CELLS) | (cell == 3 * CELLS - 1))
    tails[: found.size] = found
    return int(found.size)


_COMPILED: Callable | None = None


def _interpolator() -> Callable:
    """:func:`interpolate`, compiled on first use (or loaded from numba's disk cache); the NumPy twin if numba
    is not importable."""
    global _COMPILED
    if _COMPILED is None:
        try:
            import numba
        except ImportError:  # pragma: no cover - numba is a core dependency
            _COMPILED = interpolate_numpy
        else:
            _COMPILED = numba.njit(cache=True, nogil=True)(interpolate)
    return _COMPILED


def interpolate(
    raw: np.ndarray, base: np.ndarray, slope: np.ndarray, mean: float, out: np.ndarray, tails: np.ndarray
) -> int:
    """:func:`interpolate_numpy` as one loop (compiled by :func:`_interpolator`); the same numbers bit for bit."""
    count = 0
    first, last = CELLS, 3 * CELLS - 1
    main_scale = 2.0 ** -(64 - TABLE_BITS)
    fine_scale = 2.0**-_FINE_BITS
    for k in range(raw.size):
        r = raw[k]
        edge = r >> _EDGE_SHIFT
        if edge == 0 or edge == _TOP_EDGE:
            cell = np.intp((r >> _FINE_SHIFT) & _CELL_MASK) + (CELLS if edge == 0 else 2 * CELLS)
            fraction = np.float64(r & _FINE_FRACTION) * fine_scale
        else:
            cell = np.intp(r >> _MAIN_SHIFT)
            fraction = np.float64(r & _MAIN_FRACTION) * main_scale
        out[k] = mean * (base[cell] + fraction * slope[cell])
        if cell == first or cell == last:
            tails[count] = k
            count += 1
    return count


def _grids(ppf: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray]:
    """``ppf`` at the ``CELLS + 1`` cell ends of each of the three tables; the outer ends (probability 0 and 1,
    in cells drawn exactly, never interpolated) take their neighbour's value."""
    step = np.arange(CELLS + 1)
    edge = 2.0**-EDGE_BITS
    out = []
    for u in (step / CELLS, step * (edge / CELLS), 1 - edge + step * (edge / CELLS)):
        inside = (u > 0) & (u < 1)
        points = np.zeros(u.size)
        points[inside] = ppf(u[inside])
        points[~inside] = points[inside][0] if u[0] == 0 else points[inside][-1]
        out.append(points)
    return out


def _table(grids: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``base`` and ``slope`` of the three tables from their cell ends."""
    return np.concatenate([g[:-1] for g in grids]), np.concatenate([np.diff(g) for g in grids])


@lru_cache(maxsize=1)
def _normal_grids() -> list[np.ndarray]:
    """The standard normal's quantiles at the cell ends (built once: a lognormal table is ``exp`` of them)."""
    return _grids(special.ndtri)


MAX_TABLE_CV = 3.0
"""Largest coefficient of variation drawn from a table (accuracy tested up to it); above it, numpy's exact
generators."""


@lru_cache(maxsize=32)
def lognormal_table(cv: float) -> InverseCdfTable:
    """Table of the lognormal with mean 1 and coefficient of variation ``cv`` (3 MiB; 32 kept; about 1 ms to
    build from the normal quantiles, so a run varying a lognormal's mean or sd may build one a replication)."""
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = -sigma * sigma / 2
    base, slope = _table([np.exp(mu + sigma * z) for z in _normal_grids()])
    return InverseCdfTable(
        base,
        slope,
        lower=lambda u: math.exp(mu + sigma * float(special.ndtri(u))),
        upper=lambda q: math.exp(mu - sigma * float(special.ndtri(q))),
    )


@lru_cache(maxsize=32)
def gamma_table(cv: float) -> InverseCdfTable:
    """Table of the gamma with mean 1 and coefficient of variation ``cv`` (shape 1 / cv^2; 3 MiB; 32 kept;
    about 0.1 s to build)."""
    shape = 1.0 / (cv * cv)
    scale = cv * cv
    base, slope = _table(_grids(lambda u: scale * special.gammaincinv(shape, u)))
    return InverseCdfTable(
        base,
        slope,
        lower=lambda u: scale * float(special.gammaincinv(shape, u)),
        upper=lambda q: scale * float(special.gammainccinv(shape, q)),
    )


TABLES: dict[str, Callable[[float], InverseCdfTable]] = {"lognormal": lognormal_table, "gamma": gamma_table}
"""The tabulated distributions, by name: ``table(cv)``."""
