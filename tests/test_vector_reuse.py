"""Reusing unchanged lines between runs (paysim.engines.reuse) changes no result, and reuses what it should.

A run that takes lines from a :class:`LineCache` must give bit for bit the Activity of a run without it,
for a change in any one line; and it must simulate only what the change reaches (more beds: the ward's
queue alone, on the kept requests; more community staff: the community team, with step-downs drawn for the
kept requests; a longer stay: the requests, the ward, the step-downs and community; more courses: talking
therapies alone).
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import small_trust

from paysim.engines import vector
from paysim.engines.reuse import LineCache, LineResult, beds_key, line_keys, requests_key

REPS = range(6)

WARD = {"requests", "inpatient", "stepdowns"}  # the ward's requests, its queue, the community's step-downs
CHANGES = {
    "more beds": ({"services.inpatient.beds": 14}, {"inpatient"}),
    "no repatriation": ({"services.inpatient.oap.repatriate": False}, {"inpatient"}),
    "more community staff": ({"services.community.capacity.staff_wte": 9}, {"stepdowns", "community"}),
    "longer step-downs": ({"services.community.episode_days.mean": 100}, {"stepdowns", "community"}),
    "longer stays": ({"services.inpatient.los_days.mean": 40}, WARD | {"community"}),
    "more readmissions": ({"services.inpatient.readmission_share": 0.2}, WARD | {"community"}),
    "bigger crisis team": ({"services.crisis.capacity.places": 20}, WARD | {"crisis", "community"}),
    "more courses": ({"services.talking_therapies.capacity.courses": 260}, {"talking_therapies"}),
    "another seed": ({"seed": 4}, WARD | {"talking_therapies", "crisis", "community"}),
}


def simulated_lines(monkeypatch) -> list[str]:
    """Record what a run simulates (rather than takes from the cache): teams by name, and the ward's
    ``requests``, its queue (``inpatient``) and the community's ``stepdowns``."""
    seen: list[str] = []

    def spy(real, label):
        def recorded(self, *args, **kwargs):
            seen.append(label if label else args[0])
            return real(self, *args, **kwargs)

        return recorded

    for method, label in (("team", None), ("ward_requests", "requests"), ("inpatient", "inpatient"),
                          ("stepdowns", "stepdowns")):  # fmt: skip
        monkeypatch.setattr(vector._Chunk, method, spy(getattr(vector._Chunk, method), label))
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
    assert set(seen) == WARD | {"community", "crisis", "talking_therapies"}
    assert_identical(other, vector.run(scenario, range(1, 5), use_numba=False))


def test_the_ward_needs_its_requests_or_the_crisis_requests_to_make_them(monkeypatch):
    """Inputs are kept apart (and dropped first): without the ward's requests a new ward draws them again
    from the kept crisis requests; without those too, it simulates the crisis team again."""
    base = small_trust(warmup_days=30)
    fewer = base.with_overrides({"services.inpatient.beds": 12})
    more = base.with_overrides({"services.inpatient.beds": 13})
    references = [vector.run(variant, REPS, use_numba=False) for variant in (fewer, more)]
    cache = LineCache()
    vector.run(base, REPS, use_numba=False, reuse=cache)
    reps = np.arange(6)
    crisis = line_keys(base)["crisis"]
    assert cache.get(beds_key(crisis), reps).beds is not None
    assert cache.get(requests_key(base), reps).requests is not None
    seen = simulated_lines(monkeypatch)

    cache.discard(requests_key(base), reps)
    assert_identical(vector.run(fewer, REPS, use_numba=False, reuse=cache), references[0])
    assert sorted(seen) == ["inpatient", "requests"]

    cache.discard(requests_key(base), reps)
    cache.discard(beds_key(crisis), reps)
    seen.clear()
    assert_identical(vector.run(more, REPS, use_numba=False, reuse=cache), references[1])
    assert sorted(seen) == ["crisis", "inpatient", "requests"]


def test_line_keys_follow_what_each_line_reads():
    base = small_trust()
    keys = line_keys(base)
    assert len(set(keys.values())) == 4
    beds = line_keys(base.with_overrides({"services.inpatient.beds": 11}))
    assert {line for line in keys if keys[line] != beds[line]} == {"inpatient"}
    stepdown = line_keys(base.with_overrides({"services.community.episode_days.mean": 100}))
    assert {line for line in keys if keys[line] != stepdown[line]} == {"community"}
    clock = line_keys(base.with_overrides({"start_month": 1}))
    assert all(keys[line] != clock[line] for line in keys)
    requests = requests_key(base)
    assert requests not in keys.values()
    assert requests_key(base.with_overrides({"services.inpatient.beds": 11})) == requests
    assert requests_key(base.with_overrides({"services.inpatient.oap.repatriate": False})) == requests
    assert requests_key(base.with_overrides({"services.community.episode_days.mean": 100})) == requests
    assert requests_key(base.with_overrides({"services.inpatient.los_days.mean": 40})) != requests
    assert requests_key(base.with_overrides({"services.crisis.capacity.places": 20})) != requests


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


def test_a_full_cache_drops_the_ward_requests_then_the_crisis_requests_then_tallies():
    reps = np.arange(10)
    tally = LineResult({"started": np.zeros((10, 10), dtype=np.int64)})  # 800 bytes
    beds = LineResult({}, beds=(np.zeros((10, 5)), np.zeros((10, 5))))  # 800 bytes
    requests = LineResult({}, requests=(np.zeros((10, 5)), np.zeros((10, 5)), np.zeros((10, 0))))  # 800 bytes
    cache = LineCache(max_bytes=4 * 800)
    for key, entry in (("tallies", tally), ("beds", beds), ("requests", requests), ("new requests", requests)):
        cache.put(key, reps, entry)
    assert len(cache) == 4
    cache.put("more tallies", reps, tally)  # over budget: the older of the ward's requests leaves
    assert cache.get("requests", reps) is None and cache.get("new requests", reps) is not None
    cache.put("newest tallies", reps, tally)
    assert cache.get("new requests", reps) is None and cache.get("beds", reps) is not None
    cache.put("latest tallies", reps, tally)  # no ward's requests left: the crisis team's requests go
    assert cache.get("beds", reps) is None
    assert all(cache.get(key, reps) is not None for key in ("tallies", "more tallies", "newest tallies"))
    with pytest.raises(ValueError):
        cache.get("tallies", reps).sums["started"][0, 0] = 1
