"""The numba team kernel's loser tree and the ward's 4-ary heap give the earliest free time exactly, as a
sorted list of the free times does, whatever the number of places and their opening times."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from paysim.engines import _numba_team, _ward, settings
from paysim.engines.kernel_sets import kernels

HAS_NUMBA = settings.numba_available()


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("places", [1, 2, 3, 4, 5, 7, 8, 9, 100, 1000])
def test_the_loser_tree_serves_first_come_first_served_like_a_sorted_list(places):
    kernels(True)
    _numba_team.team_line(outcomes=False)  # builds the tree helpers
    rng = np.random.default_rng(places)
    opening = np.full(places, -np.inf)
    opening[places // 2 :] = np.sort(rng.uniform(0, 50, places - places // 2))  # places added later
    key, index, size = _numba_team._tree_build(opening)
    reference = list(opening)
    heapq.heapify(reference)
    arrival = np.sort(rng.uniform(0, 400, 5 * places + 50)).round()  # whole days: ties between places
    hold = rng.exponential(3.0 * places / 5 + 1, arrival.size).round() + 1
    for a, h in zip(arrival, hold, strict=True):
        assert key[0] == reference[0]
        start = max(a, key[0])
        _numba_team._tree_replace(key, index, size, start + h)
        heapq.heapreplace(reference, start + h)
    held = key[:size]  # the winner and the losers of every match: each leaf once (+inf for the padding leaves)
    assert sorted(reference) == sorted(held[np.isfinite(held)])
    assert np.isinf(held).sum() == size - places


@pytest.mark.parametrize("beds", [1, 2, 4, 5, 6, 17, 40])
def test_the_wards_heap_admits_exactly_when_a_bed_is_free(beds):
    """Erlang's loss system (no local wait, no repatriation): a request is admitted iff fewer than ``beds``
    earlier admissions are still in a bed at its time (a bed freeing at that very time is free)."""
    rng = np.random.default_rng(beds)
    n = 40 * beds + 20
    time = np.sort(rng.uniform(0, 200, n)).round(1)  # rounded: requests and discharges at the same instants
    discharge = time + rng.exponential(5.0 * beds, n).round(1) + 0.1  # no stay of length 0
    admit, placed, back = (np.full(n, np.inf) for _ in range(3))
    scratch = (np.empty(beds + 1), np.empty(n, np.int64), np.empty(n, np.int64))
    _ward.ward_row(time, discharge, beds, 0.0, False, 0.0, 0, 1e9, *scratch, admit, placed, back)
    in_bed: list[float] = []
    expected = np.full(n, np.inf)
    for k in range(n):
        while in_bed and in_bed[0] <= time[k]:
            heapq.heappop(in_bed)
        if len(in_bed) < beds:
            heapq.heappush(in_bed, discharge[k])
            expected[k] = time[k]
    assert np.array_equal(admit, expected)
    assert np.isinf(admit).sum() > 0 and np.isfinite(admit).sum() > beds  # the ward both filled and turned away
