"""The fits of paysim calibrate, worked by hand where they are closed forms, and the calibrated scenario they write.

Statistical checks use fixed seeds and state their tolerance in standard errors. The long planted-parameter
recovery and the back-test's coverage are in tests/test_calibrate_slow.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from paysim.calibrate import calibrate, demand_fit, flows
from paysim.calibrate.backtest import Backtest, read_table, save_table
from paysim.calibrate.estimate import Estimate
from paysim.calibrate.monthly import MonthlyData, from_activity, month_after
from paysim.calibrate.writer import write_scenario
from paysim.cli import app
from paysim.model.demand import month_edges
from paysim.model.scenario import load_scenario, scenario_from_dict
from paysim.runs.runner import RunSettings, simulate
from tests.builders import small_trust

# --- demand ---------------------------------------------------------------------------------------------


def expected_counts(per_year, growth, amplitude, peak, start, months):
    edges = month_edges(start, months)
    return demand_fit.curve(per_year, growth, amplitude, peak, start).expected(edges[:-1], edges[1:])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demand_fit_recovers_a_planted_curve_within_3_se(seed):
    mu = expected_counts(6000, 0.05, 0.15, 2, 4, 36)
    counts = np.random.default_rng(seed).poisson(mu)
    fit = demand_fit.fit_demand(counts, 4)
    assert fit.family == "poisson"
    assert fit.peak_month == 2
    for name, truth in (("per_year", 6000), ("growth", 0.05), ("amplitude", 0.15)):
        value = getattr(fit, name)
        assert abs(value - truth) < 3 * fit.se(name), (name, value, fit.se(name))


def test_demand_fit_sums_to_the_counts():
    """A Poisson fit with a free level matches the total count (the score equation of the level)."""
    counts = np.random.default_rng(5).poisson(expected_counts(1200, 0.0, 0.1, 1, 1, 24))
    fit = demand_fit.fit_demand(counts, 1)
    assert fit.expected.sum() == pytest.approx(counts.sum(), rel=1e-4)


def test_overdispersed_counts_are_fitted_as_negative_binomial():
    mu = expected_counts(3000, 0.02, 0.1, 1, 4, 36)
    rng = np.random.default_rng(11)
    counts = rng.poisson(mu * rng.gamma(1 / 0.04, 0.04, size=mu.size))  # alpha = 0.04
    fit = demand_fit.fit_demand(counts, 4)
    assert fit.family == "negative binomial"
    assert fit.overdispersion_p < 0.05
    poisson = demand_fit.fit_demand(np.random.default_rng(12).poisson(mu), 4)  # a 5 % test: seed 11 rejects
    assert poisson.family == "poisson" and poisson.overdispersion_p > 0.05
    assert fit.se("per_year") > 2 * poisson.se("per_year")  # honest, wider errors


def test_demand_fit_without_seasonality_keeps_the_given_swing():
    counts = np.random.default_rng(2).poisson(expected_counts(2000, 0.03, 0.1, 1, 4, 8))
    fit = demand_fit.fit_demand(counts, 4, seasonal=False, amplitude=0.1, peak_month=1)
    assert fit.names == ("per_year", "growth")
    assert fit.amplitude == 0.1 and fit.peak_month == 1


def test_a_covariate_share_is_fitted_with_the_curve():
    rng = np.random.default_rng(4)
    crisis = rng.poisson(expected_counts(3000, 0.1, 0.3, 1, 4, 36))
    direct = rng.poisson(expected_counts(400, 0.0, 0.0, 1, 4, 36))
    requests = direct + rng.binomial(crisis, 0.25)
    fit = demand_fit.fit_demand(requests, 4, seasonal=False, covariate=crisis)
    assert abs(fit.share - 0.25) < 3 * fit.se("share")
    assert abs(fit.per_year - 400) < 3 * fit.se("per_year")


def test_projection_along_growth_by_hand():
    """Rate three years on = rate x 1.05^3; its standard error by the delta method."""
    fit = demand_fit.DemandFit(
        per_year=1000.0,
        growth=0.05,
        amplitude=0.0,
        peak_month=1,
        share=float("nan"),
        names=("per_year", "growth"),
        covariance=np.array([[100.0, 0.05], [0.05, 1e-4]]),
        family="poisson",
        alpha=0.0,
        overdispersion_p=1.0,
        loglike=0.0,
        expected=np.zeros(1),
    )
    value, cov = fit.projected(3 * 365)
    assert value == pytest.approx(1000 * 1.05**3)
    d_rate, d_growth = 1.05**3, 1000 * 3 * 1.05**2
    variance = d_rate**2 * 100 + 2 * d_rate * d_growth * 0.05 + d_growth**2 * 1e-4
    assert cov[0, 0] == pytest.approx(variance)


# --- closed forms ---------------------------------------------------------------------------------------


def test_share_by_hand():
    r = flows.share(np.array([10, 15, np.nan]), np.array([40, 60, 100]))
    assert r.value == 0.25 and r.trials == 100
    assert r.se == pytest.approx(math.sqrt(0.25 * 0.75 / 100))
    assert flows.share(np.zeros(3), np.full(3, 10.0)).se == 0


def test_little_stay_by_hand():
    """3,300 days in stays over 100 stays begun: 33 days; the error of a mean of 100 stays plus the edges."""
    stay = flows.little_stay(
        np.array([1650.0, 1650.0]), np.array([50.0, 50.0]), np.array([30.0, 30.0]), "lognormal", 1.0
    )
    assert stay.mean == 33.0
    m1, _, m3 = flows.duration_moments("lognormal", 33.0, 33.0)
    occupancy = 3300 / 60
    expected = math.sqrt(33.0**2 / 100 + (math.sqrt(2 * occupancy * m3 / (3 * m1)) / 100) ** 2)
    assert stay.se == pytest.approx(expected)


def test_duration_moments_match_scipy():
    for dist, frozen in (
        ("lognormal", stats.lognorm(math.sqrt(math.log(2)), scale=33 / math.sqrt(2))),
        ("gamma", stats.gamma(1.0, scale=33.0)),
    ):
        m1, m2, m3 = flows.duration_moments(dist, 33.0, 33.0)
        assert (m1, m2, m3) == pytest.approx((frozen.moment(1), frozen.moment(2), frozen.moment(3)), rel=1e-9)


def test_band_shares_by_hand():
    """Placements last the rest of a stay after a wait w: P(band (a, b]) = (F(w+b) - F(w+a)) / (1 - F(w))."""
    frozen = stats.lognorm(math.sqrt(math.log1p((40 / 33) ** 2)), scale=33 * math.exp(-math.log1p((40 / 33) ** 2) / 2))
    shares = flows.band_shares("lognormal", 33.0, 40.0, 2.0)
    tail = 1 - frozen.cdf(2.0)
    assert shares[0] == pytest.approx((frozen.cdf(9.0) - frozen.cdf(2.0)) / tail)
    assert shares[3] == pytest.approx((1 - frozen.cdf(32.0)) / tail)
    assert shares.sum() == pytest.approx(1.0)


def test_spread_fit_recovers_the_sd_from_exact_shares():
    counts = 10_000 * flows.band_shares("lognormal", 33.0, 45.0, 0.5)
    spread = flows.fit_spread(counts, "lognormal", 33.0, 0.5, 30.0)
    assert spread.sd == pytest.approx(45.0, rel=1e-3)
    assert 0 < spread.se < 2


def test_beds_and_episodes_by_hand():
    assert flows.beds_from_occupancy(np.array([2850.0]), np.array([0.95]), np.array([30.0])) == pytest.approx(100)
    mean, _ = flows.episode_mean(np.array([300.0]), np.array([100.0]), np.array([30.0]), 10.0, 0.4)
    assert mean == pytest.approx((300 * 30 / 100 - 10) / 0.8)


def test_an_estimate_becomes_a_truncated_normal():
    e = Estimate("services.inpatient.los_days.mean", 33.0, 2.0, 30.0, "x", "y", "positive")
    assert e.distribution() == {"dist": "normal", "mean": 33.0, "sd": 2.0, "low": 25.0, "high": 41.0}
    share = Estimate("services.crisis.admission_share", 0.02, 0.01, 0.1, "x", "y", "share")
    assert share.distribution()["low"] == 0.0
    assert not Estimate("k", 1.0, 0.0, 1.0, "x", "y", "share").uncertain


# --- the calibrated scenario ----------------------------------------------------------------------------

TRUTH = {
    "services.talking_therapies.referrals_per_year": 1500,
    "services.inpatient.admissions_per_year": 60,
}


@pytest.fixture(scope="module")
def small_history() -> tuple[MonthlyData, object]:
    """24 months of a small trust (every line about 1/20 of the default), from April 2023."""
    truth = small_trust(seed=7, years=2, warmup_days=180).with_overrides(TRUTH)
    activity = simulate(truth, RunSettings(reps=1))
    return from_activity(activity, "2023-04", 0), truth


@pytest.fixture(scope="module")
def small_fit(small_history):
    data, truth = small_history
    return calibrate(data, truth.with_overrides({"services.talking_therapies.referrals_per_year": 1000}), reps=8)


def test_the_calibrated_scenario_starts_after_the_data(small_fit):
    assert small_fit.start == "2025-04"
    scenario = small_fit.scenario
    assert scenario.start_month == 4
    fit = small_fit.demand["talking_therapies"]
    projected = fit.per_year * (1 + fit.growth) ** 2  # two years of 365 days, April to April
    assert scenario.services.talking_therapies.referrals_per_year == pytest.approx(projected, rel=1e-5)
    assert abs(fit.per_year - 1500) < 3 * fit.se("per_year")


def test_a_later_start_projects_further(small_history):
    data, truth = small_history
    later = calibrate(data, truth, reps=4, start="2026-01")
    fit = later.demand["talking_therapies"]
    days = 365 * 2 + 275  # April 2025 to January 2026: 275 days
    assert later.scenario.start_month == 1
    assert later.scenario.services.talking_therapies.referrals_per_year == pytest.approx(
        fit.per_year * (1 + fit.growth) ** (days / 365), rel=1e-5
    )


def test_written_yaml_loads_comments_and_runs(small_fit, tmp_path):
    path = write_scenario(small_fit, tmp_path / "ours.yaml")
    text = path.read_text()
    loaded = load_scenario(path)
    assert loaded == small_fit.scenario
    assert "referrals_per_year: " in text and "# fitted: poisson regression on the demand curve, from " in text
    assert "talking_therapies.referrals 2023-04..2025-03 (24 months)" in text
    assert "start_month: 4  # the month after the data (2025-04)" in text
    block = yaml.safe_load(text)["uncertain"]
    assert block["parameters"]["services.talking_therapies.referrals_per_year"]["dist"] == "normal"
    assert any(
        set(c["between"]) == {"services.talking_therapies.referrals_per_year", "services.talking_therapies.growth"}
        for c in block["correlations"]
    )
    result = CliRunner().invoke(app, ["run", str(path), "--reps", "4", "--engine", "vector"])
    assert result.exit_code == 0, result.output


def test_what_was_not_given_keeps_the_base(small_history):
    data, truth = small_history
    only = MonthlyData(data.months, {"crisis.referrals": data["crisis.referrals"]}, "crisis only")
    fit = calibrate(only, truth, reps=4)
    assert {e.key for e in fit.estimates} == {
        "services.crisis.referrals_per_year",
        "services.crisis.growth",
        "services.crisis.seasonality.amplitude",
        "services.crisis.seasonality.peak_month",
    }
    kept = dict(fit.kept)
    assert "services.inpatient" in kept and "services.talking_therapies" in kept
    central = fit.scenario_at(fit.start, uncertain=False)
    assert central.services.inpatient == truth.services.inpatient
    assert central.services.community == truth.services.community


def test_the_command_writes_a_scenario_that_paysim_run_reads(small_history, tmp_path):
    data, truth = small_history
    table = tmp_path / "history.csv"
    with table.open("w") as file:
        names = ["talking_therapies.referrals", "crisis.referrals", "inpatient.bed_requests"]
        file.write(",".join(["month", *names]) + "\n")
        for i, month in enumerate(data.months):
            file.write(",".join([month, *(f"{data[n][i]:g}" for n in names)]) + "\n")
    base = tmp_path / "base.yaml"
    base.write_text(truth.to_yaml())
    out = tmp_path / "ours.yaml"
    result = CliRunner().invoke(app, ["calibrate", str(table), "--base", str(base), "--out", str(out), "--reps", "4"])
    assert result.exit_code == 0, result.output
    assert "services.talking_therapies.referrals_per_year" in result.output
    assert "kept from small-trust: services.community" in result.output
    assert out.exists() and load_scenario(out).name == "ours"
    result = CliRunner().invoke(app, ["run", str(out), "--reps", "3", "--engine", "vector"])
    assert result.exit_code == 0, result.output


def test_an_oap_return_alone_fits_the_placement_policy_and_its_cost(tmp_path):
    base = scenario_from_dict(
        {
            "name": "ward",
            "years": 1,
            "start_month": 10,
            "warmup_days": 120,
            "services": {
                "inpatient": {
                    "admissions_per_year": 600,
                    "beds": 50,
                    "los_days": {"dist": "lognormal", "mean": 33, "sd": 40},
                    "oap": {"repatriate": False, "wait_days": 0.5},
                }
            },
            "costs": {"beds": {"oap_per_bed_day": 660}},
        }
    )
    files = [
        Path(__file__).resolve().parent.parent / "data" / "oaps" / f"oaps-open-data-{m}-2016.csv"
        for m in ("oct", "nov", "dec")
    ]
    fit = calibrate(None, base, oap_return=files, provider="RW1", reps=6)
    keys = {e.key for e in fit.estimates}
    assert "services.inpatient.oap.wait_days" in keys
    assert "costs.beds.oap_per_bed_day" in keys
    cost = fit.estimate("costs.beds.oap_per_bed_day")
    assert 550 < cost.value < 650
    assert fit.start == month_after("2016-12")
    assert fit.scenario.start_month == 1


def test_check_writes_the_chart_and_its_data_beside_out(small_history, tmp_path):
    data, truth = small_history
    table = tmp_path / "history.csv"
    names = ["talking_therapies.referrals", "talking_therapies.waiting_end", "crisis.referrals"]
    with table.open("w") as file:
        file.write(",".join(["month", *names]) + "\n")
        for i, month in enumerate(data.months):
            file.write(",".join([month, *(f"{data[n][i]:g}" for n in names)]) + "\n")
    base = tmp_path / "base.yaml"
    base.write_text(truth.to_yaml())
    out = tmp_path / "ours.yaml"
    args = [
        "calibrate",
        str(table),
        "--base",
        str(base),
        "--out",
        str(out),
        "--check",
        "--reps",
        "4",
        "--check-reps",
        "10",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "back-test, 10 replications: the last 12 months, held out of the fit" in result.output
    chart, csv_path = tmp_path / "ours-backtest.png", tmp_path / "ours-backtest.csv"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = csv_path.read_text().splitlines()
    assert rows[0].split(",")[:4] == ['"measure"', '"month"', '"observed"', '"p5"']
    assert len(rows) == 1 + 3 * 24
    result = CliRunner().invoke(app, [*args[:-4], "--check", "--holdout", "20"])
    assert result.exit_code == 2 and "a seasonal fit needs 12" in result.output


def test_the_report_takes_a_back_test_section(tmp_path):
    rows = [
        {
            "measure": "crisis.referrals",
            "month": f"2024-0{i + 1}",
            "observed": 10.0 + i,
            "p5": 8.0,
            "p25": 9.0,
            "p50": 10.0,
            "p75": 11.0,
            "p95": 12.0,
            "inside_50": 9.0 <= 10 + i <= 11,
            "inside_90": 10 + i <= 12,
            "checked": i >= 2,
        }
        for i in range(4)
    ]
    result = Backtest(rows, 2, 10, "x", ["crisis.referrals"])
    save_table(result, tmp_path / "ours-backtest.csv")
    back = read_table(tmp_path / "ours-backtest.csv")
    assert back.holdout == 2
    # the checked months observed 12 and 13 against a 50 % band of 9-11 and a 90 % band of 8-12
    assert back.coverage()["crisis.referrals"] == {
        "months": 2,
        "inside_50": 0.0,
        "inside_90": 0.5,
        "observed": 12.5,
        "p50": 10.0,
    }
    scenario = tmp_path / "small.yaml"
    scenario.write_text(small_trust(years=1).to_yaml())
    out = tmp_path / "report.xlsx"
    args = [
        "report",
        str(scenario),
        "--out",
        str(out),
        "--reps",
        "3",
        "--backtest",
        str(tmp_path / "ours-backtest.csv"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert {"backtest_coverage", "backtest"} <= set(book.sheetnames)
    assert [c.value for c in book["backtest_coverage"][1]][:3] == ["measure", "months", "inside_50"]
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    result = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "other.csv")])
    assert result.exit_code == 2 and "no column 'measure'" in result.output
