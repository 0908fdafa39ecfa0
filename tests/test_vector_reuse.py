"""Reusing unchanged lines between runs (paysim.engines.reuse) changes no result, and reuses what it should.

A run that takes lines from a :class:`LineCache` must give bit for bit the Activity of a run without it,
for a change in any one line; and it must simulate only the lines the change reaches (more beds: the ward
alone; more community staff: the community team, and the ward again for its step-downs, which are not
kept; a longer stay: ward and community; more courses: talking therapies alone).
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import small_trust

from paysim.engines import vector
from paysim.engines.reuse import LineCache, LineResult, beds_key, line_keys

REPS = range(6)

CHANGES = {
    "more beds": ({"services.inpatient.beds": 14}, {"inpatient"}),
    "no repatriation": ({"services.inpatient.oap.repatriate": False}, {"inpatient"}),
    "more community staff": ({"services.community.capacity.staff_wte": 9}, {"inpatient", "community"}),
    "longer stays": ({"services.inpatient.los_days.mean": 40}, {"inpatient", "community"}),
    "more readmissions": ({"services.inpatient.readmission_share": 0.2}, {"inpatient", "community"}),
    "bigger crisis team": ({"services.crisis.capacity.places": 20}, {"crisis", "inpatient", "community"}),
    "more courses": ({"services.talking_therapies.capacity.courses": 260}, {"talking_therapies"}),
    "another seed": ({"seed": 4}, {"talking_therapies", "crisis", "inpatient", "community"}),
}


def simulated_lines(monkeypatch) -> list[str]:
    """Record the lines a run simulates (rather than takes from the cache)."""
    seen: list[str] = []
    team, inpatient = vector._Chunk.team, vector._Chunk.inpatient

    def spy_team(self, name, *args, **kwargs):
        seen.append(name)
        return team(self, name, *args, **kwargs)

    def spy_inpatient(self, *args, **kwargs):
        seen.append("inpatient")
        return inpatient(self, *args, **kwargs)

    monkeypatch.setattr(vector._Chunk, "team", spy_team)
    monkeypatch.setattr(vector._Chunk, "inpatient", spy_inpatient)
    return seen


def assert_identical(a, b) -> None:
    assert a.measures == b.measures
    for name in a.measures:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_a_change_resimulates_only_the_lines_it_reaches(change, monkeypatch):
    overrides, expected = CHANGES[change]
    base = small_trust(years=2, warmup_days=60)
    variant = base.with_overrides(overrides)
    reference = vector.run(variant, REPS, use_numba=False)

    cache = LineCache()
    vector.run(base, REPS, use_numba=False, reuse=cache)
    seen = simulated_lines(monkeypatch)
    reused = vector.run(variant, REPS, use_numba=False, reuse=cache)

    assert set(seen) == expected
    assert_identical(reused, reference)


def test_the_same_run_twice_simulates_nothing_the_second_time(monkeypatch):
    scenario = small_trust(warmup_days=30)
    cache = LineCache()
    first = vector.run(scenario, REPS, use_numba=False, reuse=cache)
    seen = simulated_lines(monkeypatch)
    again = vector.run(scenario, REPS, use_numba=False, reuse=cache)
    assert seen == []
    assert_identical(first, again)
    assert cache.hits == 4  # one per line: the bed requests are not needed when the ward is kept


def test_other_replications_or_chunks_are_not_taken_from_the_cache(monkeypatch):
    scenario = small_trust(warmup_days=30)
    cache = LineCache()
    vector.run(scenario, range(4), use_numba=False, reuse=cache)
    seen = simulated_lines(monkeypatch)
    other = vector.run(scenario, range(1, 5), use_numba=False, reuse=cache)
    assert sorted(seen) == ["community", "crisis", "inpatient", "talking_therapies"]
    assert_identical(other, vector.run(scenario, range(1, 5), use_numba=False))


def test_the_ward_needs_the_crisis_requests_so_a_cache_without_them_resimulates_crisis(monkeypatch):
    """The bed requests are kept apart (and dropped first): without them a new ward simulates crisis again."""
    base = small_trust(warmup_days=30)
    variant = base.with_overrides({"services.inpatient.beds": 12})
    cache = LineCache()
    vector.run(base, REPS, use_numba=False, reuse=cache)
    crisis = line_keys(base)["crisis"]
    assert cache.get(beds_key(crisis), np.arange(6)).beds is not None
    cache.discard(beds_key(crisis), np.arange(6))
    seen = simulated_lines(monkeypatch)
    reused = vector.run(variant, REPS, use_numba=False, reuse=cache)
    assert sorted(seen) == ["crisis", "inpatient"]
    assert_identical(reused, vector.run(variant, REPS, use_numba=False))


def test_line_keys_follow_what_each_line_reads():
    base = small_trust()
    keys = line_keys(base)
    assert len(set(keys.values())) == 4
    beds = line_keys(base.with_overrides({"services.inpatient.beds": 11}))
    assert {line for line in keys if keys[line] != beds[line]} == {"inpatient"}
    stepdown = line_keys(base.with_overrides({"services.community.episode_days.mean": 100}))
    assert {line for line in keys if keys[line] != stepdown[line]} == {"inpatient", "community"}
    clock = line_keys(base.with_overrides({"start_month": 1}))
    assert all(keys[line] != clock[line] for line in keys)


def test_cache_keeps_within_its_budget_and_freezes_what_it_holds():
    cache = LineCache(max_bytes=3 * 800)
    reps = np.arange(10)
    for i in range(5):
        cache.put(f"line{i}", reps, LineResult({"started": np.full((10, 10), i, dtype=np.int64)}))
    assert len(cache) == 3 and cache.nbytes == 3 * 800
    assert cache.get("line0", reps) is None  # least recently used, dropped first
    held = cache.get("line4", reps)
    assert held.sums["started"][0, 0] == 4
    with pytest.raises(ValueError):
        held.sums["started"][0, 0] = 1
    cache.put("huge", reps, LineResult({"started": np.zeros((100, 100), dtype=np.int64)}))
    assert cache.get("huge", reps) is None and len(cache) == 3
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0
    with pytest.raises(ValueError, match="max_bytes"):
        LineCache(max_bytes=-1)
