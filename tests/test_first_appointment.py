"""The first appointment: days from a place being allocated to the first treatment appointment.

* The key (``first_appointment_days`` on talking therapies and community) is a duration checked like every
  other: bad values, and the key on the crisis team, give an error naming the dotted key.
* Worked by hand in the SimPy model: a team of one place, three referrals, fixed days to the first appointment.
* Worked through the engines: arrivals and the first-appointment draws rebuilt from the same named streams, a
  FIFO worked in plain Python; every engine must give these monthly figures.
* Step-downs from the ward into community have their first appointment at once.
* The vector engine (NumPy and numba) against the SimPy model replication by replication on a scenario that
  uses the key with assessment, dropout, recovery, patience and step-downs; NumPy and numba bit for bit.
* A scenario without the key gives the results it gave before (the digests of ``test_referral_outcomes.py``);
  with it, the other lines are bit for bit unchanged (the key draws from a stream of its own).
* The line cache: the key reaches only its own line.

The statistical checks (the share within a standard against the distribution, Little's law) are in
``test_first_appointment_slow.py``.
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import pytest
import simpy
from builders import community_only, small_trust
from test_referral_outcomes import (
    ENGINES,
    HAS_NUMBA,
    assert_same,
    by_month,
    every_key,
    overlap_by_month,
    run,
    simulated_lines,
    talking_therapies_only,
)
from typer.testing import CliRunner

from paysim.cli import app
from paysim.engines import _referrals as referrals
from paysim.engines import des, vector
from paysim.engines.referral_outcomes import (
    draw_outcomes,
    first_appointment_stream,
    outcome_streams,
    referral_outcomes,
    uses_outcomes,
)
from paysim.engines.reuse import LineCache, line_keys, requests_key
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.scenario import Scenario, ScenarioError
from paysim.model.streams import stream

LOGNORMAL = {"dist": "lognormal", "mean": 12.0, "sd": 20.0}
GAMMA = {"dist": "gamma", "mean": 20.0, "sd": 15.0}


def with_first_appointment(scenario: Scenario, **lines: dict[str, Any]) -> Scenario:
    """``scenario`` with ``first_appointment_days`` set on the given lines."""
    return scenario.with_overrides({f"services.{line}.first_appointment_days": d for line, d in lines.items()})


def every_key_booked(years: int = 2) -> Scenario:
    """The outcome tests' scenario (queues, withdrawals, assessment, dropout, recovery, step-downs) with days to
    the first appointment on both treatment lines."""
    return with_first_appointment(every_key(years=years), talking_therapies=LOGNORMAL, community=GAMMA)


# --- the key ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("services.talking_therapies.first_appointment_days", {"dist": "fixed", "mean": -3},
         "services.talking_therapies.first_appointment_days.mean: must be > 0, got -3"),
        ("services.community.first_appointment_days", {"dist": "fixed", "mean": 1e6},
         "services.community.first_appointment_days.mean: must be <= 3650"),
        ("services.community.first_appointment_days", {"dist": "weibull", "mean": 10},
         "services.community.first_appointment_days.dist: must be one of"),
        ("services.community.first_appointment_days", {"dist": "lognormal", "mean": 10},
         "services.community.first_appointment_days.sd: a lognormal duration needs sd > 0"),
        ("services.talking_therapies.first_appointment_days", {"dist": "gamma", "mean": 10, "sd": 500},
         "services.talking_therapies.first_appointment_days.sd: must be at most 20 x the mean"),
        ("services.talking_therapies.first_appointment_days", {"dist": "fixed", "mean": 10, "days": 2},
         "services.talking_therapies.first_appointment_days.days: unknown key"),
        ("services.talking_therapies.first_appointment_days", 14,
         "services.talking_therapies.first_appointment_days: must be a mapping of keys"),
        ("services.crisis.first_appointment_days", {"dist": "fixed", "mean": 1},
         "services.crisis.first_appointment_days: unknown key"),
    ],
    ids=["negative", "too-long", "unknown-dist", "no-sd", "cv-too-large", "unknown-subkey", "a-number", "crisis"],
)  # fmt: skip
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(ScenarioError) as error:
        small_trust().with_overrides({key: value})
    assert message in str(error.value)
    assert "Traceback" not in str(error.value)


def test_the_command_line_names_the_key_and_describes_it(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(small_trust().to_yaml(), encoding="utf-8")
    bad = CliRunner().invoke(
        app, ["validate", str(path), "--set", "services.community.first_appointment_days={dist: fixed, mean: 0}"]
    )
    assert bad.exit_code == 2
    assert "services.community.first_appointment_days.mean: must be > 0, got 0" in bad.output
    assert "Traceback" not in bad.output
    plain = CliRunner().invoke(app, ["validate", str(path)])
    assert plain.exit_code == 0 and "first appointment" not in plain.output
    good = CliRunner().invoke(
        app,
        ["validate", str(path), "--set",
         "services.talking_therapies.first_appointment_days={dist: lognormal, mean: 18, sd: 36}"],
    )  # fmt: skip
    assert good.exit_code == 0, good.output
    assert "first appointment 18 days (mean, lognormal) after a place is allocated" in good.output


def test_default_and_schema_say_what_the_key_means():
    scenario = small_trust()
    tt, community, crisis = (getattr(scenario.services, n) for n in ("talking_therapies", "community", "crisis"))
    assert tt.first_appointment_days is None and community.first_appointment_days is None
    assert not hasattr(crisis, "first_appointment_days")
    for name, line in (("talking_therapies", tt), ("community", community), ("crisis", crisis)):
        assert first_appointment_stream(name, line) is None and not uses_outcomes(name, line)
    description = type(tt).model_fields["first_appointment_days"].description
    assert "place being allocated to the first treatment appointment" in description
    assert "waits against the standards run to the first appointment" in description and "null = at once" in description


def test_the_key_has_a_stream_of_its_own():
    scenario = every_key_booked()
    services = scenario.services
    assert first_appointment_stream("talking_therapies", services.talking_therapies) == (
        "talking_therapies.first_appointment"
    )
    assert first_appointment_stream("community", services.community) == "community.first_appointment"
    assert first_appointment_stream("crisis", services.crisis) is None
    # set alone, it still takes the path that reads the outcomes (and draws nothing else)
    alone = with_first_appointment(small_trust(), community=GAMMA).services.community
    assert outcome_streams("community", alone) == {} and uses_outcomes("community", alone)


def test_the_days_to_the_first_appointment_come_before_a_dropouts_part_of_its_episode():
    # episode 40; u = 0.1 of p = 0.4 stays a quarter of it (10 days) after 3 days to the first appointment
    line = small_trust().services.community.model_copy(update={"treated_share": 0.5, "dropout_share": 0.4})
    episode = np.array([40.0, 40.0, 40.0, 40.0])
    draws = {"assessment": np.array([0.2, 0.5, 0.7, 0.0]), "dropout": np.array([0.1, 0.0, 0.9, 0.39])}
    booked = np.array([3.0, 5.0, 2.5, 0.25])
    outcomes = referral_outcomes(line, episode, draws, booked)
    np.testing.assert_allclose(outcomes.held, [13.0, 5.0, 42.5, 39.25])
    np.testing.assert_array_equal(outcomes.first_appointment, booked)
    np.testing.assert_array_equal(outcomes.dropped_out, [True, True, False, True])
    assert referral_outcomes(line, episode, draws).first_appointment is None


def test_one_draw_per_external_referral_whatever_becomes_of_it():
    # assessed-only referrals draw their days too, so referral k's draw is draw k of the stream
    scenario = with_first_appointment(small_trust(), talking_therapies=LOGNORMAL)
    line = scenario.services.talking_therapies.model_copy(update={"treated_share": 0.3})
    episode = np.full(50, 30.0)
    outcomes = draw_outcomes("talking_therapies", line, episode, lambda name: stream(9, 4, name))
    expected = line.first_appointment_days.sample(stream(9, 4, "talking_therapies.first_appointment"), 50)
    np.testing.assert_array_equal(outcomes.first_appointment, expected)
    np.testing.assert_array_equal(outcomes.held, expected + 30.0)
    assert outcomes.assessed_only.sum() > 20


# --- worked by hand -----------------------------------------------------------------------------------


def test_worked_by_hand_in_the_simpy_model():
    # one place, 4-week standard; referrals on days 0, 2 and 4; first appointment 5 days after allocation, then
    # a 10-day episode, so each holds the place 15 days:
    #   referral 0: allocated day 0,  wait 0 + 5 = 5,   place held to day 15
    #   referral 1: allocated day 15, wait 13 + 5 = 18, held to day 30
    #   referral 2: allocated day 30, wait 26 + 5 = 31 (over 28), held to day 45
    # months [0, 30) and [30, 60): starts 2 and 1, within the standard 2 and 0, mean waits 11.5 and 31;
    # the place is taken all of month 0 (caseload 1.0) and half of month 1 (15 of 30 days: 0.5)
    line = community_only(12, 1, {"dist": "fixed", "mean": 10}).services.community
    env = simpy.Environment()
    team = des.Team(env, line, places=1)

    def refer_at(day: float):
        yield env.timeout(day)
        yield from des.referral(env, team, held_days=15.0, patience_days=des.NEVER, first_appointment=5.0)

    for day in (0.0, 2.0, 4.0):
        env.process(refer_at(day))
    env.run(until=60)
    m = team.measures(np.array([0.0, 30.0, 60.0]), "community")
    np.testing.assert_array_equal(m["community.started"], [2, 1])
    np.testing.assert_array_equal(m["community.started_within_standard"], [2, 0])
    np.testing.assert_allclose(m["community.wait_days_mean"], [11.5, 31.0])
    np.testing.assert_allclose(m["community.caseload_mean"], [1.0, 0.5])
    np.testing.assert_array_equal(m["community.completed"], [1, 2])  # days 15; 30 and 45
    np.testing.assert_array_equal(team.starts.times, [0.0, 15.0, 30.0])  # a start is the place allocated


def worked_by_hand(scenario: Scenario, name: str, replication: int) -> dict[str, np.ndarray]:
    """Monthly measures of line ``name`` (fixed episodes, nobody leaves the list): arrivals, then per referral
    one uniform for each outcome key in use and the days to its first appointment, from the streams the model
    draws; held = first appointment + (episode, or a dropout's part of it); FIFO worked by hand."""
    line = getattr(scenario.services, name)
    curve = DemandCurve.for_line(line, scenario.start_month)
    seed = scenario.seed
    t = curve.arrivals(stream(seed, replication, f"{name}.arrivals"), -scenario.warmup_days, scenario.horizon_days)
    n = t.size
    streams = outcome_streams(name, line)

    def uniforms(key: str, default: float) -> np.ndarray:
        return stream(seed, replication, streams[key]).random(n) if key in streams else np.full(n, default)

    treated = uniforms("assessment", 0.0) < line.treated_share
    u = uniforms("dropout", 1.0)
    dropped = u < line.dropout_share
    treatment = np.full(n, float(line.episode_days.mean))
    treatment[dropped] *= u[dropped] / line.dropout_share
    booked = line.first_appointment_days.sample(stream(seed, replication, f"{name}.first_appointment"), n)

    places = line.capacity.courses if name == "talking_therapies" else line.capacity.places
    free = [-np.inf] * places
    start = np.full(n, np.inf)
    for k in np.flatnonzero(treated):
        start[k] = max(t[k], free[0])
        heapq.heapreplace(free, start[k] + (booked[k] + treatment[k]))
    end = start + (booked + treatment)
    started = treated & (start < np.inf)
    wait = start - t + booked
    edges = month_edges(scenario.start_month, scenario.months)
    inside = started & (start >= edges[0]) & (start < edges[-1])
    month = np.searchsorted(edges, start[inside], side="right") - 1
    starts = by_month(start[started], edges)
    with np.errstate(invalid="ignore"):
        wait_mean = np.bincount(month, weights=wait[inside], minlength=edges.size - 1) / starts
    return {
        "started": starts,
        "started_within_standard": by_month(start[inside & (wait <= line.standard_days)], edges),
        "wait_days_mean": np.where(starts > 0, wait_mean, np.nan),
        "caseload_mean": overlap_by_month(start[started], end[started], edges) / np.diff(edges),
        "completed": by_month(end[started & ~dropped], edges),
        "dropped_out": by_month(end[started & dropped], edges),
    }


HAND_CASES = {
    # two places at about 80 % load and a warm-up: some wait for a place; 5 fixed days to the first appointment
    "fixed days, queueing": lambda: community_only(
        24, 2, {"dist": "fixed", "mean": 20}, seed=11, warmup_days=60, years=2,
        first_appointment_days={"dist": "fixed", "mean": 5},
    ),
    # lognormal days (drawn for assessed-only referrals too), dropouts, three courses
    "lognormal days, assessment and dropout": lambda: talking_therapies_only(
        40, 3, {"dist": "fixed", "mean": 30}, seed=12, warmup_days=45, treated_share=0.7, dropout_share=0.4,
        first_appointment_days={"dist": "lognormal", "mean": 20, "sd": 30},
    ),
}  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(HAND_CASES))
def test_worked_by_hand_through_every_engine(case, engine):
    scenario = HAND_CASES[case]()
    name = scenario.lines()[0]
    got = run(scenario, [0], engine)
    expected = worked_by_hand(scenario, name, 0)
    for measure, values in expected.items():
        np.testing.assert_allclose(
            got[f"{name}.{measure}"][0], values, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=measure
        )
    # the case is about what it says: waits on both sides of the standard
    within, starts = expected["started_within_standard"].sum(), expected["started"].sum()
    assert 0 < within < starts


# --- step-downs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_step_downs_from_the_ward_have_their_first_appointment_at_once(engine):
    # nobody referred from outside is treated, so every start is a step-down; with ample places they start at
    # once, and 30 days to a first appointment would put every one of them past the 4-week standard
    scenario = small_trust(seed=8, warmup_days=60).with_overrides(
        {
            "services.community.treated_share": 0.0,
            "services.community.capacity.staff_wte": 40,
            "services.community.first_appointment_days": {"dist": "fixed", "mean": 30},
        }
    )
    total = run(scenario, [0, 1], engine).total
    assert np.all(total("community.started") > 0)
    np.testing.assert_array_equal(total("community.started"), total("community.stepdowns"))
    np.testing.assert_array_equal(total("community.started_within_standard"), total("community.started"))
    np.testing.assert_array_equal(total("community.wait_days_mean"), 0.0)


# --- the vector engine is the SimPy model ---------------------------------------------------------------


AGREEMENT_CASES = {
    "with every outcome key": every_key_booked,
    # the key alone: the outcome path with no outcome draws
    "alone": lambda: with_first_appointment(small_trust(seed=5, years=2, warmup_days=90), community=GAMMA),
}


@pytest.mark.parametrize("engine", ENGINES[1:])
@pytest.mark.parametrize("case", list(AGREEMENT_CASES))
def test_each_replication_matches_the_simpy_model(case, engine):
    scenario = AGREEMENT_CASES[case]()
    reps = [0, 7, 11]
    reference = des.run(scenario, reps)
    assert_same(reference, vector.run(scenario, reps, use_numba=engine == "numba"), rtol=1e-9)
    total = reference.total
    assert np.all(total("community.stepdowns") > 0) and np.all(total("community.withdrawn") > 0)
    for line in scenario.lines():
        if first_appointment_stream(line, getattr(scenario.services, line)) is not None:
            within, started = total(f"{line}.started_within_standard"), total(f"{line}.started")
            assert np.all((0 < within) & (within < started)), line


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("case", list(AGREEMENT_CASES))
def test_numpy_and_numba_bit_for_bit_in_any_windows_and_chunks(case, monkeypatch):
    scenario = AGREEMENT_CASES[case]()
    reps = range(5)
    numba = vector.run(scenario, reps, use_numba=True)
    assert_same(numba, vector.run(scenario, reps, use_numba=False))
    assert_same(numba, vector.run(scenario, reps, use_numba=True, chunk_size=2))
    monkeypatch.setattr(referrals, "BLOCK_ELEMENTS", 40)  # windows of a week: the stream runs on across them
    assert_same(numba, vector.run(scenario, reps, use_numba=False, chunk_size=3))


# --- what the key changes, and what it leaves alone ------------------------------------------------------


@pytest.mark.parametrize("engine", ["numpy", *ENGINES[2:]])
def test_only_the_waits_and_the_time_held_change(engine):
    # with ample places a start is the referral itself, so the key moves no start: only the waits (by the drawn
    # days) and the caseload (the place is held those days longer); the other lines do not move at all
    base = small_trust(seed=4, years=1, warmup_days=30).with_overrides(
        {"services.talking_therapies.capacity.courses": 2000}
    )
    booked = with_first_appointment(base, talking_therapies={"dist": "fixed", "mean": 50})
    before, after = run(base, range(3), engine), run(booked, range(3), engine)
    for name in before.measures:
        line, measure = name.split(".", 1)
        if line != "talking_therapies" or measure in ("referrals", "started", "withdrawn", "waiting_end"):
            assert np.array_equal(before[name], after[name], equal_nan=True), name
    total = after.total
    np.testing.assert_array_equal(before.total("talking_therapies.wait_days_mean"), 0.0)
    np.testing.assert_allclose(total("talking_therapies.wait_days_mean"), 50.0, rtol=1e-12)
    np.testing.assert_array_equal(total("talking_therapies.started_within_standard"), 0)  # 50 days > 6 weeks
    np.testing.assert_array_equal(
        total("talking_therapies.started_within_long_standard"), total("talking_therapies.started")
    )
    assert np.all(total("talking_therapies.caseload_mean") > before.total("talking_therapies.caseload_mean"))


FIRST_APPOINTMENT_CHANGES = {
    "talking therapies": ({"services.talking_therapies.first_appointment_days": LOGNORMAL}, {"talking_therapies"}),
    "community": ({"services.community.first_appointment_days": GAMMA}, {"stepdowns", "community"}),
}


@pytest.mark.parametrize("change", list(FIRST_APPOINTMENT_CHANGES))
def test_the_key_resimulates_only_its_line(change, monkeypatch):
    overrides, expected = FIRST_APPOINTMENT_CHANGES[change]
    base = small_trust(years=2, warmup_days=60)
    variant = base.with_overrides(overrides)
    changed = {line for line, key in line_keys(variant).items() if key != line_keys(base)[line]}
    assert changed == {next(iter(overrides)).split(".")[1]}
    assert requests_key(variant) == requests_key(base)  # step-downs do not draw the days: the ward's are the same
    reference = vector.run(variant, range(4), use_numba=False)

    cache = LineCache()
    vector.run(base, range(4), use_numba=False, reuse=cache)
    seen = simulated_lines(monkeypatch)
    reused = vector.run(variant, range(4), use_numba=False, reuse=cache)
    assert set(seen) == expected
    assert_same(reused, reference)
