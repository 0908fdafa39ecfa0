"""Capacity that grows year by year: ``capacity.growth`` on talking therapies and community.

* The key is checked like every key (negative, above 1, on the crisis team: an error naming the dotted key), and
  the places per contract year are ``floor(first year's x (1 + growth) ** y)``, worked by hand.
* Hand-checked cases: one place growing to two at day 365 in the SimPy team and in both queue kernels, and at the
  scenario level against a FIFO worked in plain Python from the model's own streams: the second place is used
  from day 365 and not before.
* The first contract year is that of a team without growth, bit for bit; at its last month end the added places
  have gone to the people on the list.
* The vector engine (NumPy and numba) against the SimPy model replication by replication with growth on both
  lines (referral-outcome keys, first appointments, the ward's step-downs into community); NumPy and numba bit
  for bit in any chunks and windows. Without the key (or with a growth too small to add a place) the results
  are those of before, bit for bit (the digests of ``test_referral_outcomes.py`` keep that for the default).
* With ample places growth changes nothing; the caseload never exceeds the year's places.
* The line cache: the key reaches only its own line. The memory estimate sizes the heap at the last year's places.
* Costs by hand: the community pay bill follows the funded WTE, ``staff_wte x (1 + growth) ** y``.

The statistical checks (matching growth holds the wait; Little's law) are in ``test_capacity_growth_slow.py``.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

import numpy as np
import pytest
import simpy
from builders import small_trust
from money_builders import activity as hand_activity
from money_builders import scenario as money_scenario
from typer.testing import CliRunner

from paysim.cli import app
from paysim.engines import _kernels, des, kernel_sets, vector
from paysim.engines import _referrals as referrals
from paysim.engines.reuse import LineCache, line_keys, requests_key
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.scenario import Scenario, ScenarioError, place_openings, places_by_year, scenario_from_dict
from paysim.model.streams import stream
from paysim.money.costs import provider_costs
from paysim.runs.footprint import run_footprint

HAS_NUMBA = _kernels.numba_available()
numba_only = pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
ENGINES = ["des", "numpy", pytest.param("numba", marks=numba_only)]


def run(scenario: Scenario, reps, engine: str):
    if engine == "des":
        return des.run(scenario, list(reps))
    return vector.run(scenario, list(reps), use_numba=engine == "numba")


def one_line(
    name: str, referrals_per_year: float, capacity: dict[str, Any], episode: dict[str, Any], *, years: int = 2,
    warmup_days: int = 0, seed: int = 1, **extra: Any,
) -> Scenario:  # fmt: skip
    """One team alone (``talking_therapies`` or ``community``), flat demand unless ``extra`` says otherwise."""
    line = {"referrals_per_year": referrals_per_year, "episode_days": episode, "capacity": capacity, **extra}
    return scenario_from_dict(
        {"name": f"{name}-only", "years": years, "seed": seed, "warmup_days": warmup_days, "services": {name: line}}
    )


def assert_same(a, b, rtol: float = 0.0) -> None:
    assert a.measures == b.measures
    for name in a.measures:
        if rtol:
            np.testing.assert_allclose(a[name], b[name], rtol=rtol, atol=1e-9, equal_nan=True, err_msg=name)
        else:
            assert np.array_equal(a[name], b[name], equal_nan=True), name


# --- the key ------------------------------------------------------------------------------------------


def test_places_per_contract_year_worked_by_hand():
    trust = money_scenario(years=3)  # community: 100 WTE, 10 % vacant, half covered (95 staffed), 10 per WTE
    grown = trust.with_overrides(
        {"services.community.capacity.growth": 0.05, "services.talking_therapies.capacity.growth": 0.2}
    )
    services = grown.services
    # 95 x 1.05 ** y x 10 = 950, 997.5, 1047.375; courses 100 x 1.2 ** y = 100, 120, 144
    assert places_by_year(services.community, 3) == (950, 997, 1047)
    assert places_by_year(services.talking_therapies, 3) == (100, 120, 144)
    assert places_by_year(services.crisis, 3) == (30, 30, 30)  # the crisis team has no growth
    assert services.community.capacity.funded_wte(2) == pytest.approx(110.25)
    # the first year's places are those of before; without the key every year has them
    assert services.community.capacity.places == trust.services.community.capacity.places == 950
    assert places_by_year(trust.services.community, 3) == (950, 950, 950)
    assert trust.services.community.capacity.growth == trust.services.talking_therapies.capacity.growth == 0.0
    # 125 x 1.2 ** 3 is 215.99999999999997 in floating point: a whole number left a hair below by rounding
    courses = one_line("talking_therapies", 100, {"courses": 125, "growth": 0.2}, {"dist": "fixed", "mean": 9})
    assert 125 * 1.2**3 < 216
    assert places_by_year(courses.services.talking_therapies, 4) == (125, 150, 180, 216)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("services.community.capacity.growth", -0.01, "services.community.capacity.growth: must be >= 0 (places "
         "are only added"),
        ("services.talking_therapies.capacity.growth", -1, "services.talking_therapies.capacity.growth: must be >= 0"),
        ("services.community.capacity.growth", 1.5, "services.community.capacity.growth: must be <= 1 (a team that "
         "doubles every year"),
        ("services.talking_therapies.capacity.growth", 2, "services.talking_therapies.capacity.growth: must be <= 1"),
        ("services.community.capacity.growth", "fast", "services.community.capacity.growth: must be a number"),
        ("services.crisis.capacity.growth", 0.03, "services.crisis.capacity.growth: unknown key"),
    ],
)  # fmt: skip
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(ScenarioError) as error:
        small_trust().with_overrides({key: value})
    assert message in str(error.value)
    assert "Traceback" not in str(error.value)


def test_the_command_line_names_the_key_and_describes_the_growth(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(small_trust(years=3).to_yaml(), encoding="utf-8")
    bad = CliRunner().invoke(app, ["validate", str(path), "--set", "services.crisis.capacity.growth=0.05"])
    assert bad.exit_code == 2
    assert "services.crisis.capacity.growth: unknown key" in bad.output and "Traceback" not in bad.output
    plain = CliRunner().invoke(app, ["validate", str(path)])
    assert plain.exit_code == 0 and "growing" not in plain.output
    grown = CliRunner().invoke(app, ["validate", str(path), "--set", "services.community.capacity.growth=0.1"])
    assert grown.exit_code == 0
    # 6.3 staffed WTE x 30 = 189 places; 6.3 x 1.21 x 30 = 228.69 in year 3
    assert "189 places" in grown.output
    assert "growing +10.0%/yr from the second year (228 places in year 3)" in grown.output


# --- worked by hand -----------------------------------------------------------------------------------

# One place (busy from day 100 to 500); a second opens at day 365. Referrals at days 200, 300 and 370 wait: the
# first takes the new place at 365, the next ones follow it there (415, 465) before the first place frees.
ARRIVALS = [100.0, 200.0, 300.0, 370.0]
HOLDS = [400.0, 50.0, 50.0, 10.0]
STARTS_GROWING = [100.0, 365.0, 415.0, 465.0]
STARTS_FIXED = [100.0, 500.0, 550.0, 600.0]


@pytest.mark.parametrize(("places", "expected"), [((1, 2), STARTS_GROWING), ((1, 1), STARTS_FIXED)])
def test_the_simpy_team_opens_the_new_place_at_the_year_start(places, expected):
    line = one_line("community", 10, {"staff_wte": 1, "caseload_per_wte": 1}, {"dist": "fixed", "mean": 1})
    env = simpy.Environment()
    team = des.Team(env, line.services.community, places[0])
    env.process(des.capacity_growth(env, team, [(365.0, places[1])]))

    def person(arrival: float, hold: float):
        yield env.timeout(arrival)
        yield from des.referral(env, team, hold, des.NEVER)

    for arrival, hold in zip(ARRIVALS, HOLDS, strict=True):
        env.process(person(arrival, hold))
    env.run(until=800)
    assert team.starts.times == expected
    assert team.places == places[-1]


@pytest.mark.parametrize("kern", ["numpy", pytest.param("numba", marks=numba_only)])
@pytest.mark.parametrize(("opening", "expected"), [([-np.inf, 365.0], STARTS_GROWING), ([-np.inf], STARTS_FIXED)])
def test_the_queue_kernels_open_the_new_place_at_the_year_start(kern, opening, expected):
    kernels = kernel_sets.kernels(kern == "numba")
    heap = kernels.new_heap(2, np.array(opening))
    arrival = np.array([ARRIVALS, ARRIVALS])
    start, end, _ = kernels.queue_block(heap, arrival, np.full(arrival.shape, np.inf), np.array([HOLDS, HOLDS]), False)
    np.testing.assert_array_equal(start, [expected, expected])
    np.testing.assert_array_equal(end, start + np.array(HOLDS))


def test_opening_times_are_a_heap_in_the_order_places_open():
    line = one_line(
        "community", 10, {"staff_wte": 3, "caseload_per_wte": 1, "growth": 0.5}, {"dist": "fixed", "mean": 9}
    )
    # places 3, 4 (4.5), 6 (6.75), 10 (10.125): one opens at 365, two at 730, four at 1095
    np.testing.assert_array_equal(
        vector.opening_times(line.services.community, 0, 4), [-np.inf] * 3 + [365.0] + [730.0] * 2 + [1095.0] * 4
    )
    np.testing.assert_array_equal(vector.opening_times(line.services.community, 0, 1), [-np.inf] * 3)
    # a warm-up runs in the years before the first, at the growth run backwards: 2 places (3 / 1.5) in year -1,
    # 1 (3 / 2.25 = 1.33) in year -2; so a 400-day warm-up starts with 1 place, one more at day -365, one at 0
    np.testing.assert_array_equal(vector.opening_times(line.services.community, 400, 2), [-np.inf, -365.0, 0.0, 365.0])
    assert place_openings(line.services.community, 365, 1) == ((-np.inf, 2), (0.0, 3))


def fifo_by_hand(scenario: Scenario, name: str, replication: int) -> dict[str, np.ndarray]:
    """Starts, ends and monthly measures of a team with fixed episodes, nobody leaving the list, from the model's
    arrival stream; a FIFO in plain Python over places that open when :func:`place_openings` says."""
    line = getattr(scenario.services, name)
    curve = DemandCurve.for_line(line, scenario.start_month)
    rng = stream(scenario.seed, replication, f"{name}.arrivals")
    t = curve.arrivals(rng, -scenario.warmup_days, scenario.horizon_days)
    openings = place_openings(line, scenario.warmup_days, scenario.years)
    free = [-np.inf] * openings[0][1]
    for (_, before), (day, places) in itertools.pairwise(openings):
        free += [day] * (places - before)
    heapq.heapify(free)
    episode = float(line.episode_days.mean)
    start = np.empty(t.size)
    for k, arrival in enumerate(t):
        start[k] = max(arrival, free[0])
        heapq.heapreplace(free, start[k] + episode)
    end = start + episode
    edges = month_edges(scenario.start_month, scenario.months)
    ends = edges[1:]
    inside = (start >= 0) & (start < edges[-1])
    lo, hi = edges[:-1], edges[1:]
    return {
        "start": start,
        "end": end,
        "started": np.bincount(np.searchsorted(edges, start[inside], side="right") - 1, minlength=edges.size - 1),
        "waiting_end": ((t[:, None] <= ends) & (start[:, None] > ends)).sum(axis=0),
        "in_treatment_end": ((start[:, None] <= ends) & (end[:, None] > ends)).sum(axis=0),
        "caseload_mean": np.clip(np.minimum(end[:, None], hi) - np.maximum(start[:, None], lo), 0, None).sum(axis=0)
        / np.diff(edges),
    }


HAND_CASES = {
    # one care coordinator, a second from the second year (none in the warm-up: half a place is none); 8
    # referrals a year of 90 days: a list at day 0 and at day 365
    "community": lambda: one_line(
        "community", 8, {"staff_wte": 1, "caseload_per_wte": 1, "growth": 1.0}, {"dist": "fixed", "mean": 90},
        seed=3, warmup_days=60,
    ),
    # talking therapies, one course doubling each year over three years (1, 2, 4), 12 referrals a year of 60 days
    "talking therapies": lambda: one_line(
        "talking_therapies", 12, {"courses": 1, "growth": 1.0}, {"dist": "fixed", "mean": 60}, years=3, seed=4,
    ),
}  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(HAND_CASES))
def test_worked_by_hand(case, engine):
    scenario = HAND_CASES[case]()
    name = scenario.lines()[0]
    expected = fifo_by_hand(scenario, name, 0)
    got = run(scenario, [0], engine)
    for measure in ("started", "waiting_end", "in_treatment_end", "caseload_mean"):
        np.testing.assert_allclose(
            got[f"{name}.{measure}"][0], expected[measure], rtol=1e-9, atol=1e-9, err_msg=measure
        )
    # the case is about what it says: one person at a time before day 365, and the second place taken at 365 by
    # someone who was waiting for it
    start, end = expected["start"], expected["end"]
    before = start < 365.0
    overlapping = (start[before, None] < end[None, before]) & (start[None, before] < end[before, None])
    assert overlapping.sum() == before.sum()  # each overlaps only itself
    assert np.count_nonzero(start == 365.0) == 1
    assert (got[f"{name}.in_treatment_end"][0][:11] <= 1).all() and got[f"{name}.in_treatment_end"][0][11] == 2


# --- the first year, and the year boundary ------------------------------------------------------------


def growing_trust(seed: int = 5, years: int = 3, warmup_days: int = 90) -> Scenario:
    """The small trust with both lines below their load (a list, withdrawals from it), the referral-outcome keys
    and first appointments on talking therapies, the ward stepping down into community, and both capacities
    growing."""
    return small_trust(seed=seed, years=years, warmup_days=warmup_days).with_overrides(
        {
            "services.talking_therapies.capacity.courses": 120,
            "services.talking_therapies.capacity.growth": 0.25,
            "services.talking_therapies.treated_share": 0.67,
            "services.talking_therapies.dropout_share": 0.45,
            "services.talking_therapies.recovery_share": 0.48,
            "services.talking_therapies.first_appointment_days": {"dist": "lognormal", "mean": 18, "sd": 36},
            "services.community.capacity.staff_wte": 4,
            "services.community.capacity.growth": 0.3,
            "services.community.treated_share": 0.8,
        }
    )


STOCKS = {"waiting_end", "in_treatment_end"}


@pytest.mark.parametrize("engine", ENGINES)
def test_the_first_year_is_the_team_without_growth_and_the_list_takes_the_new_places(engine):
    grown = growing_trust(years=2, warmup_days=0)  # a warm-up would run at the growth run backwards
    fixed = grown.with_overrides(
        {"services.talking_therapies.capacity.growth": 0, "services.community.capacity.growth": 0}
    )
    reps = [0, 1]
    a, b = run(grown, reps, engine), run(fixed, reps, engine)
    for name in a.measures:
        stock = name.split(".")[1] in STOCKS or name.endswith("_end")
        months = slice(0, 11) if stock else slice(0, 12)  # a stock at the year's last instant sees day 365
        assert np.array_equal(a[name][:, months], b[name][:, months], equal_nan=True), name
    for line in ("talking_therapies", "community"):
        added = np.diff(places_by_year(getattr(grown.services, line), 2))[0]
        listed = b[f"{line}.waiting_end"][:, 11]
        assert (listed > added).all()  # a list longer than the places added: each of them is taken at once
        np.testing.assert_array_equal(a[f"{line}.waiting_end"][:, 11], listed - added)
        np.testing.assert_array_equal(
            a[f"{line}.in_treatment_end"][:, 11], b[f"{line}.in_treatment_end"][:, 11] + added
        )
        assert (a.total(f"{line}.started") > b.total(f"{line}.started")).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_caseload_never_exceeds_the_years_places(engine):
    scenario = growing_trust()
    result = run(scenario, [0, 1], engine)
    for line in ("talking_therapies", "community"):
        places = places_by_year(getattr(scenario.services, line), scenario.years)
        during = np.repeat(places, 12)  # the places in each month
        # a month end that is a year's start (day 365 y) already has that year's places
        at_end = np.array([places[min((m + 1) // 12, scenario.years - 1)] for m in range(scenario.months)])
        held = result[f"{line}.in_treatment_end"]
        assert (held <= at_end).all() and (result[f"{line}.caseload_mean"] <= during + 1e-9).all()
        assert (held == at_end).any(axis=1).all()  # with a list the places are used
        assert (held[:, 11] == places[1]).all()  # at day 365 the list takes the second year's places at once


# --- the engines agree --------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_each_replication_matches_the_simpy_model(engine):
    scenario = growing_trust()
    reps = [0, 7, 11]
    reference = des.run(scenario, reps)
    assert_same(reference, vector.run(scenario, reps, use_numba=engine == "numba"), rtol=1e-9)
    total = reference.total
    assert np.all(total("community.stepdowns") > 0) and np.all(total("talking_therapies.withdrawn") > 0)


@numba_only
def test_numpy_and_numba_bit_for_bit_in_any_windows_and_chunks(monkeypatch):
    scenario = growing_trust()
    reps = range(5)
    numba = vector.run(scenario, reps, use_numba=True)
    assert_same(numba, vector.run(scenario, reps, use_numba=False))
    assert_same(numba, vector.run(scenario, reps, use_numba=True, chunk_size=2))
    monkeypatch.setattr(referrals, "BLOCK_ELEMENTS", 40)  # windows of a week: the heap runs on across them
    assert_same(numba, vector.run(scenario, reps, use_numba=False, chunk_size=3))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_growth_that_adds_no_place_changes_nothing(engine):
    # 189 community places x 1.001 ** 2 = 189.4: no place is added, so the run is the one without the key
    base = small_trust(seed=2, years=3, warmup_days=30)
    tiny = base.with_overrides({"services.community.capacity.growth": 0.001})
    assert places_by_year(tiny.services.community, 3) == (189, 189, 189)
    assert_same(run(base, [0, 1], engine), run(tiny, [0, 1], engine))


@pytest.mark.parametrize("engine", ENGINES)
def test_with_ample_places_growth_changes_nothing(engine):
    # 1,000 referrals a year of 60 days keep about 165 in treatment: 400 places, never full, so places that
    # open later are never needed
    flat = one_line("community", 1000, {"staff_wte": 400, "caseload_per_wte": 1}, {"dist": "exponential", "mean": 60},
                    years=3, warmup_days=120, seed=9, growth=0.05)  # fmt: skip
    grown = flat.with_overrides({"services.community.capacity.growth": 0.5})
    assert places_by_year(grown.services.community, 3) == (400, 600, 900)
    a, b = run(flat, [0, 1], engine), run(grown, [0, 1], engine)
    assert_same(a, b)
    assert np.all(a.total("community.waiting_end") == 0)


# --- the line cache and the memory estimate -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("services.community.capacity.growth", "community"),
        ("services.talking_therapies.capacity.growth", "talking_therapies"),
    ],
)
def test_the_key_reaches_only_its_own_line(key, line, monkeypatch):
    base = small_trust(years=2, warmup_days=30)
    variant = base.with_overrides({key: 0.2})
    keys, changed = line_keys(base), line_keys(variant)
    assert {name for name in keys if keys[name] != changed[name]} == {line}
    assert requests_key(variant) == requests_key(base)
    reference = vector.run(variant, range(4), use_numba=False)
    cache = LineCache()
    vector.run(base, range(4), use_numba=False, reuse=cache)
    seen: list[str] = []
    real = vector._Chunk.team

    def team(self, name, *args, **kwargs):
        seen.append(name)
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(vector._Chunk, "team", team)
    assert_same(vector.run(variant, range(4), use_numba=False, reuse=cache), reference)
    assert seen == [line]


def test_the_memory_estimate_holds_the_last_years_places():
    scenario = one_line("talking_therapies", 1000, {"courses": 240, "growth": 1.0}, {"dist": "fixed", "mean": 60},
                        years=4)  # fmt: skip
    parts = run_footprint(scenario, reps=10, engine="vector", rows=10).parts
    heap = next(part for part in parts if "free places" in part.what)
    assert "1,920 a replication" in heap.what  # 240 x 2 ** 3
    assert heap.nbytes == 10 * 8.0 * (1920 + 1)
    assert "services.talking_therapies.capacity.growth" in heap.keys


# --- costs by hand --------------------------------------------------------------------------------------


@pytest.mark.parametrize("start_month", [4, 1])
def test_the_community_pay_bill_follows_the_funded_wte(start_month):
    # 100 funded WTE at 60,000, 10 % vacant and half covered at a 50 % premium: 100 x 60,000 x 0.975 / 12
    # = 487,500 a month in year 1; the WTE grows 5 % a year and pay 3 % every April
    costs = {"pay_inflation": 0.03, "staff": {"community": {"cost_per_wte": 60000, "agency_premium": 0.5}}}
    scenario = money_scenario(costs=costs, years=3, start_month=start_month).with_overrides(
        {"services.community.capacity.growth": 0.05}
    )
    staff = provider_costs(
        scenario, hand_activity({"community.caseload_mean": 0.0}, months=36, start_month=start_month)
    ).parts["community.staff"][0]
    if start_month == 4:  # contract years are financial years: WTE and pay step together each April
        np.testing.assert_allclose(staff[[0, 11]], 487_500.0)
        np.testing.assert_allclose(staff[[12, 23]], 487_500.0 * 1.05 * 1.03)  # 527,231.25
        np.testing.assert_allclose(staff[[24, 35]], 487_500.0 * 1.05**2 * 1.03**2)  # 569,105.34
        np.testing.assert_allclose(staff[12], 527_231.25)
    else:  # January start: pay steps in April (month 4), the WTE in January of each contract year (month 13)
        np.testing.assert_allclose(staff[[0, 2]], 487_500.0)
        np.testing.assert_allclose(staff[[3, 11]], 487_500.0 * 1.03)
        np.testing.assert_allclose(staff[[12, 14]], 487_500.0 * 1.05 * 1.03)
        np.testing.assert_allclose(staff[[15, 23]], 487_500.0 * 1.05 * 1.03**2)
        np.testing.assert_allclose(staff[24], 487_500.0 * 1.05**2 * 1.03**2)
    # year 2's bill = year 1's x (1 + growth) x the pay step (April start)
    if start_month == 4:
        assert staff[12:24].sum() == pytest.approx(staff[:12].sum() * 1.05 * 1.03)


def test_without_the_key_the_pay_bill_is_the_one_of_before():
    costs = {"pay_inflation": 0.03, "staff": {"community": {"cost_per_wte": 60000, "agency_premium": 0.5}}}
    scenario = money_scenario(costs=costs, years=3)
    staff = provider_costs(scenario, hand_activity({"community.caseload_mean": 0.0}, months=36)).parts[
        "community.staff"
    ][0]
    expected = 100 * 60000 * (0.9 + 0.1 * 0.5 * 1.5) / 12 * 1.03 ** np.repeat([0.0, 1.0, 2.0], 12)
    assert np.array_equal(staff, expected)  # bit for bit: the WTE factor is 1.0
