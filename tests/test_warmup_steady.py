"""The steady-state start (``initial_state: steady``, :mod:`paysim.engines.initial`).

Quick tests: the people held at the start match their laws (how many, and their remaining days: mean and
distribution), both engines agree replication by replication with a steady start, and bad values are refused
clearly. The slow test is the reason for it all: with a steady start and the default scenario's short warm-up,
every counted measure of the year most exposed to the start agrees with a run whose warm-up is long enough to
forget how it started, within 1 SE of a 100-replication mean.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import community_only, inpatient_only, small_trust
from scipy import stats

from paysim.activity import Activity
from paysim.engines import _kernels, des, initial, vector
from paysim.engines.referral_outcomes import draw_outcomes
from paysim.engines.reuse import line_keys
from paysim.model import scenario as scenario_module
from paysim.model import streams as st
from paysim.model.lines import ServiceLine, service_line
from paysim.model.scenario import ScenarioError, load_scenario, scenario_from_dict

HAS_NUMBA = _kernels.numba_available()
NUMBA_MODES = [False, pytest.param(True, marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed"))]

REPS = 400
"""Replications of the quick law tests (seeds fixed: replications 0 .. REPS - 1)."""


def steady(scenario, warmup_days: int = 60):
    return scenario.with_overrides({"initial_state": "steady", "warmup_days": warmup_days})


def lognormal_equilibrium_cdf(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """CDF of the equilibrium (remaining-time) law of a lognormal ``H``: ``int_0^x S(u) du / E[H]``, with
    ``int_0^x S = x S(x) + E[H; H <= x]``."""
    sigma2 = np.log1p((sd / mean) ** 2)
    mu, sigma = np.log(mean) - sigma2 / 2, np.sqrt(sigma2)
    z = (np.log(np.maximum(x, 1e-300)) - mu) / sigma
    survival = stats.norm.sf(z)
    partial_mean = mean * stats.norm.cdf(z - sigma)
    return (x * survival + partial_mean) / mean


# --- the laws of the start ------------------------------------------------------------------------------


def se_with_pool(sd: float, people: int) -> float:
    """SE of a mean over ``people`` people resampled, replication by replication, from pools of two candidates a
    person (:data:`initial.POOL_FACTOR`): a candidate picked twice counts twice, so the variance is taken as 3 times
    that of independent draws (about 1 + 1/2 x (1 + cv^2) for these laws)."""
    return sd * np.sqrt(3 / people)


def test_a_flat_team_holds_poisson_rate_times_mean_people_with_equilibrium_remaining_days():
    """A community team with flat demand and room for everyone: n ~ Poisson(rate x E[H]) and remaining days from
    the equilibrium law (mean E[H^2] / (2 E[H]); KS against its CDF)."""
    mean, sd, per_year = 60.0, 45.0, 3650.0
    scenario = steady(community_only(per_year, 2000, {"dist": "lognormal", "mean": mean, "sd": sd}))
    people = [initial.team_people_of(scenario, "community", r) for r in range(REPS)]
    counts = np.array([p.count for p in people])
    expected_n = per_year / 365 * mean  # 600
    assert abs(counts.mean() - expected_n) < 4 * np.sqrt(expected_n / REPS)  # 4 SE of the mean of a Poisson
    assert abs(counts.var(ddof=1) / expected_n - 1) < 4 * np.sqrt(2 / REPS)  # Poisson: variance = mean, 4 SE
    remaining = np.concatenate([p.remaining for p in people])
    expected_mean = (mean**2 + sd**2) / (2 * mean)  # 46.9 days
    # sd of the equilibrium law: E[R^2] = E[H^3] / (3 E[H]); lognormal E[H^3] = mean^3 (1 + cv^2)^3
    second = mean**3 * (1 + (sd / mean) ** 2) ** 3 / (3 * mean)
    assert abs(remaining.mean() - expected_mean) < 4 * se_with_pool(np.sqrt(second - expected_mean**2), remaining.size)
    ks = stats.kstest(remaining, lambda x: lognormal_equilibrium_cdf(x, mean, sd))
    assert ks.statistic < 1.63 * np.sqrt(3 / remaining.size)  # the 1 % critical value, duplicates allowed for
    assert not any(p.dropped_out.any() or p.recovers.any() for p in people)
    assert all(np.isinf(p.patience).all() for p in people)  # nobody waits: room for all


def test_a_treatment_line_holds_its_outcome_mixture():
    """Talking therapies with assessment, dropouts, recovery and first appointments: the mean count is rate x
    E[held days] (assessed-only hold none), the mean remaining days E[H^2] / (2 E[H]) of the held days of the
    treated (estimated from a million referrals drawn as the line draws them), and each person keeps the outcome
    of the referral it was drawn as (dropouts, recoveries in their length-biased shares)."""
    trust = small_trust().with_overrides(
        {
            "services.talking_therapies.treated_share": 0.7,
            "services.talking_therapies.dropout_share": 0.4,
            "services.talking_therapies.recovery_share": 0.5,
            "services.talking_therapies.first_appointment_days": {"dist": "lognormal", "mean": 14, "sd": 20},
            "services.talking_therapies.capacity.courses": 5000,
            "services.talking_therapies.growth": 0.0,
            "services.talking_therapies.seasonality.amplitude": 0.0,
        }
    )
    scenario = steady(trust)
    line = scenario.services.talking_therapies
    rng = np.random.default_rng(12)
    outcomes = draw_outcomes("talking_therapies", line, line.episode_days.sample(rng, 1_000_000), lambda _: rng)
    held = np.where(outcomes.assessed_only, 0.0, outcomes.held)
    assert initial.mean_held(line) == pytest.approx(held.mean(), rel=3e-3)
    people = [initial.team_people_of(scenario, "talking_therapies", r) for r in range(REPS)]
    counts = np.array([p.count for p in people])
    expected_n = line.referrals_per_year / 365 * initial.mean_held(line)
    assert abs(counts.mean() - expected_n) < 4 * np.sqrt(expected_n / REPS)
    remaining = np.concatenate([p.remaining for p in people])
    expected_mean = (held**2).mean() / (2 * held.mean())
    assert abs(remaining.mean() - expected_mean) < 4 * se_with_pool(remaining.std(), remaining.size)
    # a held person is a dropout with probability E[H; dropout] / E[H] (length-biased), likewise recovery
    dropped = np.concatenate([p.dropped_out for p in people])
    share = held[outcomes.dropped_out].sum() / held.sum()
    assert abs(dropped.mean() - share) < 4 * se_with_pool(np.sqrt(share * (1 - share)), dropped.size)
    recovers = np.concatenate([p.recovers for p in people])
    share = held[outcomes.recovers].sum() / held.sum()
    assert abs(recovers.mean() - share) < 4 * se_with_pool(np.sqrt(share * (1 - share)), recovers.size)
    assert not (dropped & recovers).any()


def test_growing_demand_holds_fewer_than_the_first_days_rate_suggests():
    """With demand growing, the people held came at the lower rates of the days before: for exponential episodes
    (mean m) and rate r(t) = r0 e^(k t), E[n] = r(t0) / (k + 1 / m) exactly (the integral of r(t0 - a) e^(-a/m))."""
    mean, per_year, growth = 100.0, 7300.0, 0.5
    scenario = steady(
        community_only(per_year, 5000, {"dist": "exponential", "mean": mean}, growth=growth), warmup_days=90
    )
    k = np.log1p(growth) / 365
    rate_t0 = per_year / 365 * np.exp(-k * 90)
    expected_n = rate_t0 / (k + 1 / mean)  # about 10 % below rate_t0 x mean
    counts = np.array([initial.team_people_of(scenario, "community", r).count for r in range(REPS)])
    assert abs(counts.mean() - expected_n) < 4 * np.sqrt(expected_n / REPS)
    assert counts.mean() < rate_t0 * mean - 20 * np.sqrt(expected_n / REPS)


def test_a_full_team_starts_with_its_places_taken_and_a_fluid_list():
    """More people than places: the places are all taken; the list holds Poisson(patience x surplus joiners per
    day) fresh referrals, each with an exponential patience."""
    scenario = steady(
        community_only(3650, 500, {"dist": "exponential", "mean": 60}, patience_days=30)
    )  # 600 held on average for 500 places
    people = [initial.team_people_of(scenario, "community", r) for r in range(REPS)]
    expected_list = 30 * 10 * (1 - 500 / 600)  # 50
    assert initial.mean_list(scenario, "community") == pytest.approx(expected_list)
    waiting = np.array([np.isfinite(p.patience).sum() for p in people])
    assert all(p.count - w == 500 for p, w in zip(people, waiting, strict=True))
    assert abs(waiting.mean() - expected_list) < 4 * np.sqrt(expected_list / REPS)
    patience = np.concatenate([p.patience[np.isfinite(p.patience)] for p in people])
    assert abs(patience.mean() - 30) < 4 * 30 / np.sqrt(patience.size)
    fresh = np.concatenate([p.remaining[np.isfinite(p.patience)] for p in people])
    assert abs(fresh.mean() - 60) < 4 * 60 / np.sqrt(fresh.size)  # whole episodes, not what is left of them


def test_the_ward_holds_request_rate_times_mean_stay():
    """Direct admissions with readmissions: n ~ Poisson(rate / (1 - readmission share) x E[LOS])."""
    scenario = steady(
        inpatient_only(30, 730, {"dist": "gamma", "mean": 20, "sd": 15}, readmission_share=0.2), warmup_days=30
    )
    counts = np.array([initial.ward_stays_of(scenario, r).size for r in range(REPS)])
    expected_n = 730 / 365 / 0.8 * 20  # 50
    assert abs(counts.mean() - expected_n) < 4 * np.sqrt(expected_n / REPS)
    stays = np.concatenate([initial.ward_stays_of(scenario, r) for r in range(REPS)])
    expected_mean = (20**2 + 15**2) / (2 * 20)
    assert abs(stays.mean() - expected_mean) < 4 * stays.std() / np.sqrt(stays.size)


# --- both engines -----------------------------------------------------------------------------------------


def assert_same(a: Activity, b: Activity) -> None:
    """Equal up to the SimPy clock's rounding (about 1e-13 days), which may move an event across one of the vector
    engine's area ticks (2^-30 day, 9.3e-10): a few ticks of bed days or caseload days at most."""
    assert a.measures == b.measures
    for name in a.measures:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-9, atol=4 * 2.0**-30, equal_nan=True, err_msg=name)


STEADY_SCENARIOS = {
    "trust-outcomes-full-community": lambda: steady(
        small_trust(seed=4).with_overrides(
            {
                "services.talking_therapies.treated_share": 0.7,
                "services.talking_therapies.dropout_share": 0.4,
                "services.talking_therapies.recovery_share": 0.5,
                "services.talking_therapies.first_appointment_days": {"dist": "lognormal", "mean": 14, "sd": 20},
                "services.community.capacity.staff_wte": 5,
                "services.community.first_appointment_days": {"dist": "gamma", "mean": 10, "sd": 8},
            }
        ),
        warmup_days=45,
    ),
    "ward-repatriation": lambda: steady(
        inpatient_only(12, 400, {"dist": "lognormal", "mean": 10, "sd": 12}, readmission_share=0.2), warmup_days=5
    ),
    "one-day-warm-up": lambda: steady(small_trust(seed=6), warmup_days=1),
}


@pytest.mark.parametrize("use_numba", NUMBA_MODES, ids=["numpy", "numba"])
@pytest.mark.parametrize("name", list(STEADY_SCENARIOS))
def test_each_replication_matches_the_simpy_model_with_a_steady_start(name, use_numba):
    scenario = STEADY_SCENARIOS[name]()
    reps = [0, 3]
    assert_same(des.run(scenario, reps), vector.run(scenario, reps, use_numba=use_numba))


def test_chunks_give_the_same_steady_start():
    scenario = STEADY_SCENARIOS["trust-outcomes-full-community"]()
    whole = vector.run(scenario, range(4), use_numba=False)
    parts = vector.run(scenario, range(4), use_numba=False, chunk_size=1)
    for name in whole.measures:
        assert np.array_equal(whole[name], parts[name], equal_nan=True), name


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_numba_and_numpy_give_identical_results_with_a_steady_start():
    scenario = STEADY_SCENARIOS["trust-outcomes-full-community"]()
    numpy_run = vector.run(scenario, range(3), use_numba=False)
    numba_run = vector.run(scenario, range(3), use_numba=True)
    for name in numpy_run.measures:
        assert np.array_equal(numpy_run[name], numba_run[name], equal_nan=True), name


def test_a_steady_start_fills_the_lines_at_once():
    """A steady start holds people from the first day; an empty one takes weeks (crisis) to months to fill (the
    counted horizon starts after one warm-up day)."""
    trust = small_trust(seed=2)
    full = vector.run(steady(trust, warmup_days=1), range(20), use_numba=False)
    empty = vector.run(trust.with_overrides({"warmup_days": 1}), range(20), use_numba=False)
    for measure in ("talking_therapies.caseload_mean", "community.caseload_mean"):
        assert full[measure][:, 0].mean() > 3 * empty[measure][:, 0].mean(), measure  # months-long episodes
    for measure in ("crisis.caseload_mean", "inpatient.local_bed_days"):  # weeks-long: an empty start fills within
        assert full[measure][:, 0].mean() > 1.5 * empty[measure][:, 0].mean(), measure  # the first month


def test_the_start_state_is_part_of_every_lines_cache_key():
    trust = small_trust(warmup_days=30)
    empty, full = line_keys(trust), line_keys(steady(trust, warmup_days=30))
    assert all(empty[line] != full[line] for line in empty if empty[line] is not None)


# --- bad values -------------------------------------------------------------------------------------------


def test_an_unknown_start_state_is_refused_naming_the_key_and_the_choices():
    data = small_trust().model_dump(mode="json", exclude_none=True)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict({**data, "initial_state": "full"})
    assert str(caught.value) == "<mapping>: initial_state: must be one of 'empty' or 'steady', got 'full'"


def test_no_warm_up_means_an_empty_start_whatever_the_start_state():
    """``warmup_days: 0`` keeps its meaning (a service that opens empty on day 0): a steady start needs a warm-up day
    for its people to join before counting starts, so with none the results are those of an empty start."""
    trust = small_trust(seed=8)
    empty = vector.run(trust, range(2), use_numba=False)
    steady_zero = vector.run(trust.with_overrides({"initial_state": "steady"}), range(2), use_numba=False)
    for name in empty.measures:
        assert np.array_equal(empty[name], steady_zero[name], equal_nan=True), name
    assert (
        des.run(trust.with_overrides({"initial_state": "steady"}), [0])["community.caseload_mean"][0, 0]
        == (des.run(trust, [0])["community.caseload_mean"][0, 0])
    )


def test_a_line_without_the_initial_stream_is_refused_with_a_steady_start(monkeypatch):
    """A plugin's line declared before the steady start existed (no ``initial`` stream part) cannot start steady:
    the scenario is refused with a message saying what to add; an empty start still runs."""
    crisis = service_line("crisis")
    old = ServiceLine(
        crisis.name, crisis.kind, crisis.label, crisis.mhis, tuple(p for p in crisis.streams if p != st.INITIAL)
    )
    monkeypatch.setattr(scenario_module, "service_line", lambda name: old if name == "crisis" else service_line(name))
    data = small_trust(warmup_days=10).model_dump(mode="json", exclude_none=True)
    scenario_from_dict(data)
    with pytest.raises(ScenarioError, match=r"initial_state: steady needs every line to declare the stream part "):
        scenario_from_dict({**data, "initial_state": "steady"})


# --- the warm-up ------------------------------------------------------------------------------------------

STEADY_WARMUP = 365
"""The shortest warm-up measured to pass with a steady start (README: warm-up; 180 did not)."""
WARMUP_REPS = 2000
"""Replications each way (0 .. 1999)."""
LONG_WARMUP = 2190
"""Days of the reference run's empty warm-up: six years. Measured (README: warm-up): an empty start after 2,920
days differs from it by at most 0.83 SE of a 100-replication mean on every measure (noise), while the 730 days
the default had before differ by up to 4.8 (community waits: its list fills over years)."""


def annual(activity: Activity) -> dict[str, np.ndarray]:
    """Per replication: each flow's total over the year, each stock's mean month-end level, each mean itself."""
    return {
        name: activity[name].mean(axis=1) if kind == "stock" else activity.total(name)
        for name, kind in activity.kinds.items()
    }


@pytest.mark.slow
@pytest.mark.statistical
def test_the_default_warm_up_with_a_steady_start_does_not_move_any_counted_measure():
    """The default scenario with a steady start and a 365-day warm-up against an empty start with a six-year warm-up,
    one counted year (the one most exposed to the start), vector engine, 2,000 replications each way: every
    measure's difference of means is within 1 SE of a 100-replication mean (sd / 10, the noise a modeller sees;
    with 2,000 a way that is about 3.2 SE of the difference)."""
    default = load_scenario("scenarios/default.yaml")
    short = default.with_overrides({"years": 1, "initial_state": "steady", "warmup_days": STEADY_WARMUP})
    long = short.with_overrides({"initial_state": "empty", "warmup_days": LONG_WARMUP})
    a, b = annual(vector.run(long, range(WARMUP_REPS))), annual(vector.run(short, range(WARMUP_REPS)))
    worst = []
    for name in a:
        x, y = a[name][np.isfinite(a[name])], b[name][np.isfinite(b[name])]
        sd = max(x.std(ddof=1), y.std(ddof=1))
        difference = abs(y.mean() - x.mean())
        worst.append((difference / (sd / 10) if sd > 0 else (0.0 if difference == 0 else np.inf), name))
    worst.sort(reverse=True)
    assert worst[0][0] <= 1.0, worst[:5]
