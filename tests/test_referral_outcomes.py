"""Referral outcomes in talking therapies and community: assessed and not treated, dropout, recovery.

* The keys (``treated_share``, ``dropout_share`` on both lines, ``recovery_share`` on talking therapies) are
  checked like every key: out of range or on the crisis team, an error naming the dotted key.
* Hand-checked cases: arrivals and the outcome draws rebuilt from the same named streams, fixed episodes,
  start times by a FIFO worked through in plain Python; every engine must give these monthly figures.
* Bookkeeping identities: referrals = assessed only + started + withdrawn + change in the list; started =
  completed + dropped out + change in the caseload.
* The vector engine (NumPy and numba) against the SimPy model replication by replication on a scenario that
  uses every key, queues, withdraws and steps down from a ward; NumPy and numba bit for bit.
* Scenarios that leave the keys at their defaults draw nothing more and give the same results bit for bit
  as before the keys existed (digests recorded on commit e685c2d).
* The line cache: an outcome key reaches only its own line.
* numba's cache: a new process loads both builds of the team kernel instead of compiling them again.

The statistical checks (shares and Little's law over many replications) are in
``test_referral_outcomes_slow.py``.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from builders import community_only, small_trust
from typer.testing import CliRunner

from paysim.activity import MEASURE_UNITS, OAP_LENGTH_BANDS, measure_kinds
from paysim.cli import app
from paysim.engines import _kernels, des, vector
from paysim.engines import _referrals as referrals
from paysim.engines.referral_outcomes import outcome_streams, referral_outcomes
from paysim.engines.reuse import LineCache, line_keys, requests_key
from paysim.model.demand import DemandCurve, month_edges
from paysim.model.scenario import Scenario, ScenarioError, scenario_from_dict
from paysim.model.streams import stream
from paysim.money.payment.currencies import currency_units

HAS_NUMBA = _kernels.numba_available()
ENGINES = [
    "des",
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")),
]
NEW = ("assessed_only", "dropped_out", "recovered")
"""The measures these keys added (left out of the digests of results from before them)."""


def run(scenario: Scenario, reps, engine: str):
    if engine == "des":
        return des.run(scenario, list(reps))
    return vector.run(scenario, list(reps), use_numba=engine == "numba")


def talking_therapies_only(
    referrals_per_year: float, courses: int, episode: dict[str, Any], *, seed: int = 1, warmup_days: int = 0,
    years: int = 1, **extra: Any,
) -> Scenario:  # fmt: skip
    """A talking-therapies service alone, flat demand."""
    line = {"referrals_per_year": referrals_per_year, "episode_days": episode, "capacity": {"courses": courses}}
    return scenario_from_dict(
        {
            "name": "talking-therapies-only",
            "years": years,
            "seed": seed,
            "warmup_days": warmup_days,
            "services": {"talking_therapies": {**line, **extra}},
        }
    )


def every_key(seed: int = 5, years: int = 1, warmup_days: int = 90) -> Scenario:
    """The small trust with every new key set, talking therapies and community below their load (a queue, and
    withdrawals from it), and the ward's discharges stepping down into community."""
    return small_trust(seed=seed, years=years, warmup_days=warmup_days).with_overrides(
        {
            "services.talking_therapies.capacity.courses": 120,
            "services.talking_therapies.treated_share": 0.67,
            "services.talking_therapies.dropout_share": 0.45,
            "services.talking_therapies.recovery_share": 0.48,
            "services.community.capacity.staff_wte": 4,
            "services.community.treated_share": 0.8,
            "services.community.dropout_share": 0.3,
        }
    )


# --- the keys -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("services.talking_therapies.treated_share", -0.1, "services.talking_therapies.treated_share: must be >= 0"),
        ("services.talking_therapies.treated_share", 1.5, "services.talking_therapies.treated_share: must be <= 1"),
        ("services.community.dropout_share", -1, "services.community.dropout_share: must be >= 0"),
        ("services.community.dropout_share", 1.01, "services.community.dropout_share: must be <= 1"),
        ("services.talking_therapies.recovery_share", 2, "services.talking_therapies.recovery_share: must be <= 1"),
        ("services.talking_therapies.recovery_share", "half", "services.talking_therapies.recovery_share: must be"),
        ("services.crisis.treated_share", 0.5, "services.crisis.treated_share: unknown key"),
        ("services.crisis.dropout_share", 0.5, "services.crisis.dropout_share: unknown key"),
        ("services.community.recovery_share", 0.5, "services.community.recovery_share: unknown key"),
    ],
)
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(ScenarioError) as error:
        small_trust().with_overrides({key: value})
    assert message in str(error.value)
    assert "Traceback" not in str(error.value)


def test_the_command_line_names_the_key(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(small_trust().to_yaml(), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path), "--set", "services.crisis.dropout_share=0.2"])
    assert result.exit_code == 2
    assert "services.crisis.dropout_share: unknown key" in result.output
    assert "Traceback" not in result.output


def test_validate_describes_the_keys_a_scenario_sets(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(small_trust().to_yaml(), encoding="utf-8")
    plain = CliRunner().invoke(app, ["validate", str(path)])
    assert plain.exit_code == 0 and "treated after assessment" not in plain.output
    keys = ["services.talking_therapies.treated_share=0.67", "services.talking_therapies.recovery_share=0.484",
            "services.community.dropout_share=0.2"]  # fmt: skip
    result = CliRunner().invoke(app, ["validate", str(path), *(arg for key in keys for arg in ("--set", key))])
    assert result.exit_code == 0
    assert "1,200 referrals/yr, 240 courses, 67% treated after assessment, 48% of finished courses recover" in (
        result.output
    )
    assert "20% of starters drop out" in result.output


def test_defaults_and_the_schema_say_what_each_key_means():
    scenario = small_trust()
    tt, community = scenario.services.talking_therapies, scenario.services.community
    assert (tt.treated_share, tt.dropout_share, tt.recovery_share) == (1.0, 0.0, None)
    assert (community.treated_share, community.dropout_share) == (1.0, 0.0)
    assert outcome_streams("talking_therapies", tt) == outcome_streams("community", community) == {}
    fields = type(tt).model_fields
    assert "assessed and not treated" in fields["treated_share"].description
    assert "leave before finishing" in fields["dropout_share"].description
    assert "null = recovery not modelled" in fields["recovery_share"].description


def test_streams_are_drawn_only_for_keys_away_from_their_defaults():
    scenario = every_key()
    assert outcome_streams("talking_therapies", scenario.services.talking_therapies) == {
        "assessment": "talking_therapies.assessment",
        "dropout": "talking_therapies.dropout",
        "recovery": "talking_therapies.recovery",
    }
    assert outcome_streams("community", scenario.services.community) == {
        "assessment": "community.assessment",
        "dropout": "community.dropout",
    }
    assert outcome_streams("crisis", scenario.services.crisis) == {}
    zero_recovery = scenario.with_overrides({"services.talking_therapies.recovery_share": 0})
    assert "recovery" in outcome_streams("talking_therapies", zero_recovery.services.talking_therapies)


def test_one_draw_decides_whether_and_when_a_starter_drops_out():
    # u < p drops out after episode x u / p: u = 0.1 of p = 0.4 stays a quarter of its 40 days
    line = small_trust().services.community.model_copy(update={"treated_share": 0.5, "dropout_share": 0.4})
    episode = np.array([40.0, 40.0, 40.0, 40.0])
    draws = {"assessment": np.array([0.2, 0.5, 0.7, 0.0]), "dropout": np.array([0.1, 0.0, 0.9, 0.39])}
    outcomes = referral_outcomes(line, episode, draws)
    np.testing.assert_array_equal(outcomes.assessed_only, [False, True, True, False])
    np.testing.assert_array_equal(outcomes.dropped_out, [True, True, False, True])
    np.testing.assert_allclose(outcomes.held, [10.0, 0.0, 40.0, 39.0])
    assert outcomes.recovers is None


# --- worked by hand -----------------------------------------------------------------------------------


def by_month(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Events at ``times`` counted in the month ``edges[m] <= t < edges[m + 1]``."""
    inside = times[(times >= edges[0]) & (times < edges[-1])]
    return np.bincount(np.searchsorted(edges, inside, side="right") - 1, minlength=edges.size - 1)


def overlap_by_month(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Days of the intervals ``[start, end)`` inside each month."""
    lo, hi = edges[:-1], edges[1:]
    return np.clip(np.minimum(end[:, None], hi) - np.maximum(start[:, None], lo), 0, None).sum(axis=0)


def worked_by_hand(scenario: Scenario, name: str, replication: int) -> dict[str, np.ndarray]:
    """The monthly measures of line ``name`` (fixed episodes, nobody leaves the list), from the streams the
    model draws: arrivals, then one uniform per referral for each outcome key in use; FIFO by hand."""
    line = getattr(scenario.services, name)
    curve = DemandCurve.for_line(line, scenario.start_month)
    seed = scenario.seed
    t = curve.arrivals(stream(seed, replication, f"{name}.arrivals"), -scenario.warmup_days, scenario.horizon_days)
    n = t.size
    episode = np.full(n, float(line.episode_days.mean))

    def uniforms(key: str, default: float) -> np.ndarray:
        streams = outcome_streams(name, line)
        return stream(seed, replication, streams[key]).random(n) if key in streams else np.full(n, default)

    treated = uniforms("assessment", 0.0) < line.treated_share
    u_drop = uniforms("dropout", 1.0)
    dropped = u_drop < line.dropout_share
    held = episode.copy()
    held[dropped] = episode[dropped] * (u_drop[dropped] / line.dropout_share)
    recovery_share = getattr(line, "recovery_share", None)
    recovers = ~dropped & (uniforms("recovery", 1.0) < (recovery_share or 0.0))

    places = line.capacity.courses if name == "talking_therapies" else line.capacity.places
    free = [-np.inf] * places  # when each place frees
    start = np.full(n, np.inf)
    for k in np.flatnonzero(treated):
        start[k] = max(t[k], free[0])
        heapq.heapreplace(free, start[k] + held[k])
    end = start + held
    edges = month_edges(scenario.start_month, scenario.months)
    ends = edges[1:]
    started = treated & (start < np.inf)
    out = {
        "referrals": by_month(t, edges),
        "assessed_only": by_month(t[~treated], edges),
        "started": by_month(start[started], edges),
        "completed": by_month(end[started & ~dropped], edges),
        "dropped_out": by_month(end[started & dropped], edges),
        "caseload_mean": overlap_by_month(start[started], end[started], edges) / np.diff(edges),
        "waiting_end": ((t[treated, None] <= ends) & (start[treated, None] > ends)).sum(axis=0),
        "in_treatment_end": ((start[started, None] <= ends) & (end[started, None] > ends)).sum(axis=0),
    }
    if name == "talking_therapies":
        out["recovered"] = by_month(end[started & recovers], edges)
    return out


HAND_CASES = {
    # 40 referrals a year, ample places: a start at each treated referral, 20-day episodes
    "assessment": lambda: community_only(40, 50, {"dist": "fixed", "mean": 20}, seed=2, treated_share=0.5),
    # 60-day episodes; a dropout stays 60 x u / 0.5 days
    "dropout": lambda: community_only(40, 50, {"dist": "fixed", "mean": 60}, seed=3, dropout_share=0.5),
    # talking therapies: half the finished courses reliably recover
    "recovery": lambda: talking_therapies_only(40, 50, {"dist": "fixed", "mean": 30}, seed=4, recovery_share=0.5),
    # every key, two courses for 60 referrals a year of 25 days: a queue; a warm-up that carries it in
    "every key, queueing": lambda: talking_therapies_only(
        60,
        2,
        {"dist": "fixed", "mean": 25},
        seed=6,
        warmup_days=45,
        treated_share=0.7,
        dropout_share=0.4,
        recovery_share=0.5,
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(HAND_CASES))
def test_worked_by_hand(case, engine):
    scenario = HAND_CASES[case]()
    name = scenario.lines()[0]
    got = run(scenario, [0], engine)
    expected = worked_by_hand(scenario, name, 0)
    for measure, values in expected.items():
        np.testing.assert_allclose(got[f"{name}.{measure}"][0], values, rtol=1e-9, atol=1e-9, err_msg=measure)
    # the case is about what it says: each outcome happens in this draw
    totals = {measure: values.sum() for measure, values in expected.items()}
    assert totals["started"] > 0 and totals["completed"] > 0
    if case == "assessment":
        assert totals["assessed_only"] > 0 and totals["dropped_out"] == 0
    if case == "dropout":
        assert totals["dropped_out"] > 0 and totals["assessed_only"] == 0
    if case == "recovery":
        assert 0 < totals["recovered"] < totals["completed"]
    if case == "every key, queueing":
        assert totals["assessed_only"] > 0 and totals["dropped_out"] > 0 and totals["recovered"] > 0
        assert expected["waiting_end"].max() > 0  # people queue for the two courses


@pytest.mark.parametrize("engine", ENGINES)
def test_step_downs_from_the_ward_are_always_treated_and_never_drop_out(engine):
    # nobody referred from outside is treated, and every starter from outside would drop out: so every start
    # is a step-down from the ward, and every one of them finishes
    scenario = small_trust(seed=8, warmup_days=60).with_overrides(
        {"services.community.treated_share": 0.0, "services.community.dropout_share": 1.0}
    )
    activity = run(scenario, [0, 1], engine)
    total = activity.total
    external = total("community.referrals") - total("community.stepdowns")
    np.testing.assert_array_equal(total("community.assessed_only"), external)
    assert np.all(total("community.stepdowns") > 0) and np.all(total("community.started") > 0)
    np.testing.assert_array_equal(total("community.dropped_out"), 0)
    assert np.all(total("community.completed") > 0)


# --- bookkeeping --------------------------------------------------------------------------------------


def test_new_measures_are_bookkeeping_with_units():
    public = measure_kinds(["talking_therapies", "community", "crisis"], inpatient=True, public_only=True)
    everything = measure_kinds(["talking_therapies", "community", "crisis"], inpatient=True)
    for name in ("talking_therapies.assessed_only", "talking_therapies.dropped_out", "community.assessed_only",
                 "community.dropped_out", "talking_therapies.recovered"):  # fmt: skip
        assert name not in public and everything[name] == "count"
        assert MEASURE_UNITS[name.rsplit(".", 1)[-1]]
    assert not any(name.startswith("crisis.") and name.split(".")[1] in NEW for name in everything)
    assert "community.recovered" not in everything


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("warmup_days", [0, 90], ids=["from-empty", "warm"])
def test_every_referral_and_every_starter_is_accounted_for(engine, warmup_days):
    activity = run(every_key(warmup_days=warmup_days), [0, 1, 2], engine)
    m = activity.monthly
    for line in ("talking_therapies", "community", "crisis"):
        waiting = np.diff(m[f"{line}.waiting_end"], axis=1, prepend=0.0)  # change in the list each month
        treating = np.diff(m[f"{line}.in_treatment_end"], axis=1, prepend=0.0)
        assessed = m[f"{line}.assessed_only"] if line != "crisis" else m["crisis.admissions"]
        dropped = m[f"{line}.dropped_out"] if line != "crisis" else 0.0
        referrals = assessed + m[f"{line}.started"] + m[f"{line}.withdrawn"] + waiting
        started = m[f"{line}.completed"] + dropped + treating
        months = slice(None) if warmup_days == 0 else slice(1, None)  # the list before month 0 is not a measure
        np.testing.assert_array_equal(m[f"{line}.referrals"][:, months], referrals[:, months], err_msg=line)
        np.testing.assert_array_equal(m[f"{line}.started"][:, months], started[:, months], err_msg=line)
    total = activity.total
    for line in ("talking_therapies", "community"):
        assert np.all(total(f"{line}.assessed_only") > 0) and np.all(total(f"{line}.dropped_out") > 0), line
        assert np.all(total(f"{line}.withdrawn") > 0) and np.all(total(f"{line}.waiting_end") > 0), line
    assert np.all(total("talking_therapies.recovered") <= total("talking_therapies.completed"))
    assert np.all(total("talking_therapies.recovered") > 0)


def test_courses_count_finishers_only():
    # a course currency counts talking_therapies.completed, which leaves dropouts out
    activity = run(every_key(), [0], "numpy")
    units = currency_units(["talking_therapies.course"], activity.monthly, activity.month_days, {})
    np.testing.assert_array_equal(units["talking_therapies.course"], activity["talking_therapies.completed"])
    ended = activity.total("talking_therapies.completed") + activity.total("talking_therapies.dropped_out")
    assert activity.total("talking_therapies.completed")[0] < 0.7 * ended[0]


# --- the vector engine is the SimPy model ---------------------------------------------------------------


def assert_same(a, b, rtol: float = 0.0) -> None:
    assert a.measures == b.measures
    for name in a.measures:
        if rtol:
            np.testing.assert_allclose(a[name], b[name], rtol=rtol, atol=1e-9, equal_nan=True, err_msg=name)
        else:
            assert np.array_equal(a[name], b[name], equal_nan=True), name


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_each_replication_matches_the_simpy_model(engine):
    scenario = every_key(years=2)
    reps = [0, 7, 11]
    reference = des.run(scenario, reps)
    assert_same(reference, vector.run(scenario, reps, use_numba=engine == "numba"), rtol=1e-9)
    total = reference.total
    assert np.all(total("community.stepdowns") > 0) and np.all(total("talking_therapies.withdrawn") > 0)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
def test_numpy_and_numba_bit_for_bit_in_any_windows_and_chunks(monkeypatch):
    scenario = every_key(years=2)
    reps = range(5)
    numba = vector.run(scenario, reps, use_numba=True)
    assert_same(numba, vector.run(scenario, reps, use_numba=False))
    assert_same(numba, vector.run(scenario, reps, use_numba=True, chunk_size=2))
    monkeypatch.setattr(referrals, "BLOCK_ELEMENTS", 40)  # windows of a week: the outcome streams run on across them
    assert_same(numba, vector.run(scenario, reps, use_numba=False, chunk_size=3))


# --- unchanged when unused ------------------------------------------------------------------------------

DEFAULT_SERVICES = {
    "talking_therapies": {
        "growth": 0.03, "seasonality": {"amplitude": 0.1, "peak_month": 1}, "referrals_per_year": 25000.0,
        "episode_days": {"dist": "lognormal", "mean": 75.0, "sd": 45.0}, "standard_days": 42.0,
        "patience_days": 180.0, "long_standard_days": 126.0, "capacity": {"courses": 5300},
    },
    "community": {
        "growth": 0.03, "seasonality": {"amplitude": 0.05, "peak_month": 1}, "referrals_per_year": 10000.0,
        "episode_days": {"dist": "lognormal", "mean": 180.0, "sd": 150.0}, "standard_days": 28.0,
        "patience_days": 365.0,
        "capacity": {"staff_wte": 215.0, "caseload_per_wte": 30.0, "vacancy_rate": 0.1, "agency_cover": 0.5},
    },
    "crisis": {
        "growth": 0.03, "seasonality": {"amplitude": 0.1, "peak_month": 1}, "referrals_per_year": 6000.0,
        "episode_days": {"dist": "gamma", "mean": 21.0, "sd": 14.0}, "standard_days": 1.0, "patience_days": 2.0,
        "capacity": {"places": 300}, "admission_share": 0.18, "admission_share_when_full": 0.4,
    },
    "inpatient": {
        "growth": 0.02, "seasonality": {"amplitude": 0.05, "peak_month": 1}, "admissions_per_year": 700.0,
        "beds": 200, "los_days": {"dist": "lognormal", "mean": 33.0, "sd": 40.0}, "readmission_share": 0.1,
        "readmission_window_days": 30.0, "oap": {"repatriate": True},
    },
}  # fmt: skip
"""The services of ``scenarios/default.yaml`` when the digests were recorded, frozen here so that re-basing
the bundled file does not move them."""


def default_services() -> Scenario:
    return scenario_from_dict(
        {"name": "default-services", "years": 1, "seed": 20261123, "warmup_days": 365, "services": DEFAULT_SERVICES}
    )


BEFORE = {
    ("small-trust", "vector"): {
        "talking_therapies": "91bbe9e282228aec", "community": "24f63a58d4cd2e37",
        "crisis": "4a4409dc52a9fa87", "inpatient": "17f6dfd406e2a338",
    },
    ("small-trust", "des"): {
        "talking_therapies": "e90bd9a70d5d673a", "community": "3b903cc58e0d511a",
        "crisis": "4f96a8d330fd6947", "inpatient": "cf79424e1d7cc5fb",
    },
    ("default", "vector"): {
        "talking_therapies": "9aa27a3e4fb4a83d", "community": "890fc5e3adaa3624",
        "crisis": "ed8403ba43ebfe63", "inpatient": "79ca4f0ec48b2498",
    },
    ("default", "des"): {
        "talking_therapies": "9b40637cee4fe199", "community": "f978993e9fe249e7",
        "crisis": "fe752e85f683feee", "inpatient": "5ee35baf1f712b06",
    },
}  # fmt: skip
"""Digests of every measure (by line) without the referral-outcome keys (recorded on commit e685c2d, before them, and
again with the inverse-CDF samplers, which changed every lognormal and gamma draw); see :func:`digests`.
Another change that moves a line's results on purpose (the ward's model, say) re-records them with it."""

DIGEST_RUNS = {
    ("small-trust", "vector"): (lambda: small_trust(seed=5, warmup_days=90), range(6)),
    ("small-trust", "des"): (lambda: small_trust(seed=5, warmup_days=90), [0, 3]),
    ("default", "vector"): (default_services, range(3)),
    ("default", "des"): (default_services, [1]),
}


WARD_POLICY_MEASURES = {"waiting_end", "bed_wait_days", "ended_waiting", "oap_ended", *OAP_LENGTH_BANDS}
"""Inpatient bookkeeping measures added with the out-of-area placement policy (after e685c2d)."""


def digests(activity) -> dict[str, str]:
    """Per line, sha256 (first 16 hex digits) of the names and float64 bytes of its measures, sorted by name,
    leaving out the measures added since e685c2d (these keys' and the placement policy's)."""
    out = {}
    for line in ("talking_therapies", "community", "crisis", "inpatient"):
        added = {*NEW, *(WARD_POLICY_MEASURES if line == "inpatient" else ())}
        h = hashlib.sha256()
        names = (n for n in activity.measures if n.startswith(f"{line}.") and n.split(".")[1] not in added)
        for name in sorted(names):
            h.update(name.encode())
            h.update(np.ascontiguousarray(activity[name], dtype=np.float64).tobytes())
        out[line] = h.hexdigest()[:16]
    return out


@pytest.mark.parametrize(
    ("case", "engine"),
    [
        (("small-trust", "vector"), "numpy"),
        pytest.param(("small-trust", "vector"), "numba", marks=ENGINES[2].marks),
        (("small-trust", "des"), "des"),
        pytest.param(("default", "vector"), "numba", marks=ENGINES[2].marks),
        pytest.param(("default", "vector"), "numpy", marks=pytest.mark.slow),
        pytest.param(("default", "des"), "des", marks=pytest.mark.slow),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else value,
)
def test_scenarios_without_the_keys_give_the_results_they_gave_before(case, engine):
    build, reps = DIGEST_RUNS[case]
    activity = run(build(), reps, engine)
    assert digests(activity) == BEFORE[case]
    for name in activity.measures:
        if name.split(".")[1] in NEW:
            np.testing.assert_array_equal(activity[name], 0.0, err_msg=name)


# --- reusing unchanged lines ----------------------------------------------------------------------------


def simulated_lines(monkeypatch) -> list[str]:
    """Record what a run simulates rather than takes from the cache (as in ``test_vector_reuse.py``)."""
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


OUTCOME_CHANGES = {
    "community treated share": ({"services.community.treated_share": 0.6}, {"stepdowns", "community"}),
    "community dropout share": ({"services.community.dropout_share": 0.2}, {"stepdowns", "community"}),
    "talking therapies dropout": ({"services.talking_therapies.dropout_share": 0.3}, {"talking_therapies"}),
    "talking therapies recovery": ({"services.talking_therapies.recovery_share": 0.5}, {"talking_therapies"}),
}


@pytest.mark.parametrize("change", list(OUTCOME_CHANGES))
def test_an_outcome_key_resimulates_only_its_line(change, monkeypatch):
    overrides, expected = OUTCOME_CHANGES[change]
    base = small_trust(years=2, warmup_days=60)
    variant = base.with_overrides(overrides)
    changed = {line for line, key in line_keys(variant).items() if key != line_keys(base)[line]}
    assert changed == {next(iter(overrides)).split(".")[1]}
    assert requests_key(variant) == requests_key(base)  # the ward's requests (and so its step-downs) are the same
    reference = vector.run(variant, range(4), use_numba=False)

    cache = LineCache()
    vector.run(base, range(4), use_numba=False, reuse=cache)
    seen = simulated_lines(monkeypatch)
    reused = vector.run(variant, range(4), use_numba=False, reuse=cache)
    assert set(seen) == expected
    assert_same(reused, reference)


# --- numba's cache --------------------------------------------------------------------------------------

LOAD_A_TEAM = """
import sys
sys.path.insert(0, "tests")
from builders import community_only
from paysim.engines import vector
scenario = community_only(100, 5, {"dist": "fixed", "mean": 10}, dropout_share=float(sys.argv[1]))
vector.run(scenario, [0], use_numba=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("dropout_share", [0.0, 0.3], ids=["keys-at-defaults", "keys-set"])
def test_a_new_process_loads_each_team_kernel_from_numbas_cache(dropout_share, tmp_path):
    # the first process compiles the kernel and saves it; the next one must load it, not compile it again
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_DEBUG_CACHE": "1", "PYTHONPATH": str(root)}
    logs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", LOAD_A_TEAM, str(dropout_share)], cwd=root, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        logs.append([line for line in (done.stdout + done.stderr).splitlines() if "_numba_team" in line])
    assert any("data saved" in line for line in logs[0])
    assert any("data loaded" in line for line in logs[1])
    assert not any("data saved" in line for line in logs[1]), logs[1]
