"""The inverse-CDF table samplers (paysim.model.samplers): accuracy as the README states it, the compiled
interpolation against its NumPy twin bit for bit, and draws that depend only on their place in the stream."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from paysim.model import samplers
from paysim.model.distributions import Duration
from paysim.model.samplers import CELLS, EDGE_BITS, MAX_TABLE_CV, TABLES, interpolate_numpy
from paysim.model.streams import Draws, stream

SHAPES = [("lognormal", 0.2), ("lognormal", 1.2), ("lognormal", 2.0), ("gamma", 0.67), ("gamma", 1.5)]
"""Shapes checked exactly (cv 1.2 is adult acute lengths of stay; gamma 0.67 the crisis team's episodes)."""


def frozen(dist: str, cv: float):
    """scipy's distribution of unit mean and coefficient of variation ``cv``."""
    if dist == "lognormal":
        sigma = np.sqrt(np.log1p(cv * cv))
        return stats.lognorm(sigma, scale=np.exp(-sigma * sigma / 2))
    return stats.gamma(1 / cv**2, scale=cv**2)


def interpolated_cells(table: samplers.InverseCdfTable) -> list[tuple[np.ndarray, float, np.ndarray, np.ndarray]]:
    """``(probability at the cell's left end, width, value at the left end, value at the right end)`` of every
    cell drawn by interpolation: the main table between the edges, and the edge tables but their outer cells."""
    edge = 2.0**-EDGE_BITS
    j = np.arange(CELLS)
    k = CELLS >> EDGE_BITS
    parts = [
        (j[k : CELLS - k] / CELLS, 1 / CELLS, slice(k, CELLS - k)),
        (j[1:] * (edge / CELLS), edge / CELLS, slice(CELLS + 1, 2 * CELLS)),
        (1 - edge + j[:-1] * (edge / CELLS), edge / CELLS, slice(2 * CELLS, 3 * CELLS - 1)),
    ]
    return [(u, w, table.base[s], table.base[s] + table.slope[s]) for u, w, s in parts]


def table_errors(dist: str, cv: float) -> tuple[float, float, float]:
    """The table distribution's exact mean error, relative sd error and KS distance against scipy's.

    Inside a cell the table's draw is uniform between the cell's end values, so its moments are sums over
    cells; the true moments over the same probabilities are Gauss-Legendre integrals of scipy's ppf (8
    points, exact to rounding on so narrow a cell). The first and last cells are drawn exactly and add no
    error. KS: the CDF error at 7 points inside every interpolated cell.
    """
    dist_ = frozen(dist, cv)
    second = dist_.var() + 1.0
    x, weight = np.polynomial.legendre.leggauss(8)
    mean_error = second_error = ks = 0.0
    for u, w, lo, hi in interpolated_cells(TABLES[dist](cv)):
        q = dist_.ppf(u[:, None] + w * (x + 1) / 2)
        mean_error += np.sum(w * (lo + hi) / 2 - (q * weight).sum(axis=1) * w / 2)
        second_error += np.sum(w * (lo * lo + lo * hi + hi * hi) / 3 - (q * q * weight).sum(axis=1) * w / 2)
        inside = np.arange(1, 8) / 8
        points = lo[:, None] + inside * (hi - lo)[:, None]
        ks = max(ks, float(np.max(np.abs(dist_.cdf(points) - (u[:, None] + inside * w)))))
    mean = 1.0 + mean_error
    sd = np.sqrt(second + second_error - mean * mean)
    return float(mean_error), float(sd / cv - 1), ks


@pytest.mark.parametrize(("dist", "cv"), SHAPES)
def test_table_accuracy_is_as_the_readme_states(dist, cv):
    """README "Random draws": KS distance under 1e-7, mean within 1e-6 relative, sd within 1e-5 relative for
    cv up to 1.5 and within 5e-5 at cv 2 (computed exactly from the table, not estimated from draws)."""
    mean_error, sd_error, ks = table_errors(dist, cv)
    assert ks < 1e-7
    assert abs(mean_error) < 1e-6
    assert abs(sd_error) < (1e-5 if cv <= 1.5 else 5e-5)


@pytest.mark.slow
def test_table_accuracy_at_the_largest_tabulated_cv():
    """At cv 3 (:data:`MAX_TABLE_CV`) the lognormal's sd is within 2e-4, the rest as at lower cv."""
    for dist in TABLES:
        mean_error, sd_error, ks = table_errors(dist, MAX_TABLE_CV)
        assert ks < 1e-7
        assert abs(mean_error) < 2e-6
        assert abs(sd_error) < 2e-4


def test_table_errors_see_a_wrong_table():
    """The exact check fails a table whose values are 1e-5 too large (so it is not a check that cannot fail)."""
    table = TABLES["lognormal"](1.2)
    original = table.base.copy()
    try:
        table.base[:] = original * (1 + 1e-5)
        mean_error, _, ks = table_errors("lognormal", 1.2)
    finally:
        table.base[:] = original
    assert abs(mean_error) > 5e-6 and ks > 1e-7


@pytest.mark.parametrize(("dist", "cv"), [("lognormal", 1.2), ("gamma", 0.67)])
def test_draws_follow_the_distribution(dist, cv):
    """200,000 draws of mean 33 days: KS test p above 0.001 against scipy's law (fixed seed), sample mean and
    sd within 4 standard errors."""
    n = 200_000
    x = Duration(dist=dist, mean=33.0, sd=33.0 * cv).sample(stream(11, 0, "test.samplers"), n)
    law = frozen(dist, cv)
    assert stats.kstest(x / 33.0, law.cdf).pvalue > 1e-3
    assert abs(x.mean() - 33.0) < 4 * 33.0 * cv / np.sqrt(n)
    kurtosis = law.stats(moments="k") + 3
    assert abs(x.std() - 33.0 * cv) < 4 * 33.0 * cv * np.sqrt((kurtosis - 1) / (4 * n))


def test_compiled_interpolation_matches_numpy_twin_bit_for_bit():
    """Every path (main table, both edge tables, both exact cells) gives the same bits in numba and NumPy."""
    raw = np.random.default_rng(3).bit_generator.random_raw(200_000)
    raw[:500] >>= np.uint64(8)  # lower edge table
    raw[500:1000] |= np.uint64(0xFF00000000000000)  # upper edge table
    raw[1000:1050] >>= np.uint64(30)  # first cell (exact)
    raw[1050:1100] |= np.uint64(0xFFFFFF0000000000)  # last cell (exact)
    table = TABLES["gamma"](1.5)
    outs = []
    for interpolate in (samplers._interpolator(), interpolate_numpy):
        out, tails = np.empty(raw.size), np.empty(raw.size, dtype=np.int64)
        count = interpolate(raw, table.base, table.slope, 21.0, out, tails)
        outs.append((out, tails[:count]))
    assert samplers._interpolator() is not interpolate_numpy  # numba is a core dependency: compiled
    assert np.array_equal(outs[0][0], outs[1][0])
    assert np.array_equal(outs[0][1], outs[1][1])
    assert set(range(1000, 1100)) <= set(outs[0][1].tolist())


def test_exact_cells_are_the_tails():
    """A raw value in the first cell draws below the table's smallest tabulated value, one in the last above
    its largest, and both equal scipy's ppf at the raw value's probability."""
    table = TABLES["lognormal"](1.2)
    law = frozen("lognormal", 1.2)
    low, high = 12345, 2**64 - 1 - 12345
    assert table.exact(low) < table.base[CELLS + 1]
    assert table.exact(high) > table.base[3 * CELLS - 1]
    assert table.exact(low) == pytest.approx(law.ppf((low + 0.5) * 2.0**-64), rel=1e-12)
    assert table.exact(high) == pytest.approx(law.isf((12345 + 0.5) * 2.0**-64), rel=1e-12)


def test_a_draw_depends_only_on_its_place_in_the_stream():
    """Drawn one block of 7 at a time (the SimPy model's Draws) or all at once (the vector engine): the same."""
    d = Duration(dist="lognormal", mean=33, sd=40)
    whole = d.sample(stream(5, 2, "inpatient.los"), 1000)
    one_by_one = Draws(stream(5, 2, "inpatient.los"), d.sample, block=7)
    assert np.array_equal(whole, [one_by_one() for _ in range(1000)])
    assert np.array_equal(d.sample(stream(5, 2, "inpatient.los"), (10, 100)).ravel(), whole)


def test_a_table_is_built_once_per_shape():
    """Durations of the same cv share one table; the mean only scales the draws."""
    assert TABLES["lognormal"](1.2) is TABLES["lognormal"](1.2)
    a = Duration(dist="lognormal", mean=10, sd=12).sample(stream(1, 0, "x"), 100)
    b = Duration(dist="lognormal", mean=20, sd=24).sample(stream(1, 0, "x"), 100)
    np.testing.assert_allclose(b, 2 * a, rtol=1e-15)


def test_above_the_largest_tabulated_cv_numpy_draws_exactly():
    """cv above MAX_TABLE_CV: numpy's lognormal generator, its moments as stated."""
    d = Duration(dist="lognormal", mean=1.0, sd=4.0)
    rng = stream(1, 0, "x")
    sigma2 = np.log1p(16.0)
    expected = rng.lognormal(-sigma2 / 2, np.sqrt(sigma2), 10)
    assert np.array_equal(d.sample(stream(1, 0, "x"), 10), expected)
