"""Risk measures and paired comparisons, checked against brute-force computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from money_builders import activity, scenario

from paysim.analysis import (
    deficit_probability,
    expected_shortfall,
    paired_comparison,
    paired_difference,
    risk_table,
    rule_comparison,
    spend_variability,
    summarise,
    summary_table,
)
from paysim.money.finance import ledgers

PROPERTY = settings(max_examples=80, deadline=None, derandomize=True)


def test_summarise():
    x = np.arange(1.0, 11.0)
    s = summarise(x)
    assert s["n"] == 10 and s["mean"] == 5.5
    assert s["sd"] == pytest.approx(math.sqrt(sum((v - 5.5) ** 2 for v in x) / 9))  # 3.0277
    assert s["se"] == pytest.approx(s["sd"] / math.sqrt(10))
    assert s["p50"] == 5.5 and s["p5"] == pytest.approx(1.45) and s["p95"] == pytest.approx(9.55)
    assert (s["min"], s["max"]) == (1.0, 10.0)
    assert summarise([np.nan, 2.0])["mean"] == 2.0
    assert summary_table({"a": x})[0]["column"] == "a"


def test_deficit_probability_per_year_and_over_the_horizon():
    surplus = np.zeros((4, 24))
    surplus[0, :12] = -1.0  # deficit in year 1 only, and over the horizon
    surplus[1, :12], surplus[1, 12:] = -1.0, 2.0  # deficit in year 1, surplus over the horizon
    surplus[2, 12:] = -1.0  # deficit in year 2
    p = deficit_probability(surplus)
    assert p["years"] == [0.5, 0.25]
    assert p["horizon"] == 0.5
    assert p["any_year"] == 0.75


def test_expected_shortfall_is_the_mean_of_the_worst_five_percent():
    assert expected_shortfall(np.arange(100.0)) == pytest.approx(2.0)  # mean of 0..4
    assert expected_shortfall(np.arange(20.0)[::-1]) == 0.0  # ceil(0.05 x 20) = 1 value
    assert expected_shortfall(np.arange(7.0), level=0.5) == pytest.approx(1.5)  # ceil(3.5) = 4: 0..3
    assert expected_shortfall(np.array([5.0])) == 5.0


def test_spend_variability():
    spend = np.array([[1.0] * 12, [3.0] * 12])
    v = spend_variability(spend)
    assert v["sd"] == pytest.approx(np.std([12, 36], ddof=1))
    assert v["cv"] == pytest.approx(np.std([12, 36], ddof=1) / 24)
    assert v["years_cv"] == pytest.approx([np.std([12, 36], ddof=1) / 24])


def brute_force(base, other):
    """Paired difference the long way: differences one by one, textbook formulas."""
    d = [o - b for b, o in zip(base, other, strict=True)]
    n = len(d)
    mean = sum(d) / n
    se = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1) / n)
    return mean, se


def test_paired_difference_worked_example():
    base = np.array([10.0, 12.0, 9.0, 11.0, 13.0, 10.0, 12.0, 11.0, 9.0, 13.0])
    other = base + np.array([1.0, 2.0, 0.0, 1.0, 3.0, 1.0, 2.0, 1.0, 0.0, 2.0])
    r = paired_difference(base, other)
    mean, se = brute_force(base, other)
    assert (r.mean_difference, r.se) == pytest.approx((1.3, se))
    assert mean == pytest.approx(1.3)
    t = 2.2621571627  # t(0.975, 9 degrees of freedom)
    assert (r.ci_low, r.ci_high) == pytest.approx((1.3 - t * se, 1.3 + t * se))
    assert (r.mean_base, r.mean_other, r.n) == pytest.approx((11.0, 12.3, 10))


@PROPERTY
@given(pairs=arrays(np.float64, (2, 25), elements=st.floats(-1e6, 1e6)))
def test_paired_standard_error_matches_brute_force(pairs):
    r = paired_difference(pairs[0], pairs[1])
    mean, se = brute_force(pairs[0].tolist(), pairs[1].tolist())
    assert r.mean_difference == pytest.approx(mean, abs=1e-6)
    assert r.se == pytest.approx(se, rel=1e-6, abs=1e-6)
    assert r.ci_low <= r.mean_difference <= r.ci_high


def test_pairing_removes_the_common_noise():
    rng = np.random.default_rng(1)
    common = rng.normal(0, 100, 200)  # demand noise both runs share
    base, other = common, common + 5 + rng.normal(0, 1, 200)
    paired = paired_difference(base, other).se
    unpaired = math.sqrt(base.var(ddof=1) / 200 + other.var(ddof=1) / 200)
    assert paired < unpaired / 50


def test_paired_comparison_rows():
    base = {"replication": np.arange(3.0), "a": np.array([1.0, 2.0, 3.0]), "b": np.ones(3), "only_base": np.ones(3)}
    other = {"b": np.array([2.0, 3.0, 4.0]), "a": np.array([1.0, 2.0, 3.0]), "only_other": np.ones(3)}
    rows = paired_comparison(base, other)
    assert [row["column"] for row in rows] == ["a", "b"]
    assert rows[0]["mean_difference"] == 0.0 and rows[0]["se"] == 0.0
    assert rows[1]["mean_difference"] == pytest.approx(2.0)
    assert set(rows[1]) == {"column", "n", "mean_base", "mean_other", "mean_difference", "se", "ci_low", "ci_high"}
    with pytest.raises(ValueError, match="same replications"):
        paired_comparison({"a": np.ones(3)}, {"a": np.ones(4)})


CONTRACTS = {
    "block": {"annual_value": 1_200_000},
    "activity": {"prices": {"inpatient": {"bed_day": 500}}},
}
COSTS = {"beds": {"per_occupied_bed_day": 450}}


def money():
    bed_days = np.array([[180.0] * 24, [200.0] * 24, [220.0] * 24])
    return ledgers(scenario(CONTRACTS, COSTS), activity({"inpatient.local_bed_days": bed_days}, 3))


def test_rule_comparison_on_the_same_activity():
    rows = rule_comparison(money(), base="block", ledger="provider_surplus")
    assert len(rows) == 1 and rows[0]["rule"] == "activity"
    # block income 2.4m; activity income 500 x bed days: 2.16m, 2.4m, 2.64m; same costs, so the surplus
    # difference is the income difference: -240,000, 0, +240,000
    assert rows[0]["mean_difference"] == pytest.approx(0.0, abs=1e-6)
    assert rows[0]["se"] == pytest.approx(240_000 / math.sqrt(3))
    with pytest.raises(KeyError, match="capitation"):
        rule_comparison(money(), base="capitation")


def test_risk_table():
    rows = {row["rule"]: row for row in risk_table(money())}
    block = rows["block"]
    # block surplus: 2.4m less 450 x 24 x (180, 200, 220) bed days = 456,000, 240,000, 24,000
    assert block["surplus_mean"] == pytest.approx(240_000)
    assert block["expected_shortfall"] == pytest.approx(24_000)
    assert block["p_deficit"] == 0.0 and block["spend_cv"] == 0.0
    assert rows["activity"]["spend_sd"] == pytest.approx(240_000)
    assert rows["activity"]["p_deficit_years"] == [0.0, 0.0]
