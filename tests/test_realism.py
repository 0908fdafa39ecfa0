"""paysim realism: the figures a run is compared with, measured as the published figures are."""

from __future__ import annotations

import numpy as np
import pytest
from builders import inpatient_only
from typer.testing import CliRunner

from paysim.activity import Activity, measure_kinds
from paysim.analysis.realism import BENCHMARKS, realism
from paysim.cli import app


def ward_activity(monthly: dict[str, float], reps: int = 2) -> Activity:
    """An inpatient-only Activity of one year in which every month of every replication has these values."""
    kinds = measure_kinds([], True)
    data = {name: np.full((reps, 12), float(monthly.get(name, 0.0))) for name in kinds}
    return Activity(data, kinds, np.arange(reps), 4, "test")


def test_figures_are_measured_as_published():
    scenario = inpatient_only(118, 1000, {"dist": "lognormal", "mean": 33, "sd": 30}).with_overrides(
        {"population": 2_000_000}
    )
    activity = ward_activity(
        {
            "inpatient.oap_admissions": 10,  # 120 a year
            "inpatient.local_admissions": 100,
            "inpatient.oap_bed_days": 300,  # 3,600 a year over 120 ended placements: 30 days each
            "inpatient.oap_ended": 10,
            "inpatient.oap_ended_1_7": 1,
            "inpatient.oap_ended_8_14": 2,
            "inpatient.oap_ended_15_30": 3,
            "inpatient.oap_ended_31_plus": 4,
            "inpatient.occupancy_mean": 0.95,
        }
    )
    checks = {c.name: c for c in realism(scenario, activity, {})}
    assert checks["oap_started"].mean == 120
    assert (checks["oap_started"].low, checks["oap_started"].high) == (150, 280)  # per million x 2
    assert checks["oap_mean_length"].mean == pytest.approx(30)
    assert checks["oap_active"].mean == pytest.approx(3600 / 365)
    assert checks["oap_15_plus"].mean == pytest.approx(0.7)
    assert checks["oap_31_plus"].mean == pytest.approx(0.4)
    assert checks["oap_share_of_admissions"].mean == pytest.approx(10 / 110)
    assert checks["beds"].mean == 118 and not checks["beds"].inside  # 118 beds for 2 million people is few
    assert checks["mean_stay"].inside
    assert checks["occupancy"].inside
    assert checks["oap_31_plus"].inside and checks["oap_mean_length"].inside
    assert "block_margin" not in checks and "tt_referrals" not in checks  # nothing to measure them by


def test_every_benchmark_cites_a_source_and_a_range():
    for name, benchmark in BENCHMARKS.items():
        assert benchmark.low < benchmark.high, name
        assert len(benchmark.source) > 20, name


def test_a_scenario_without_population_is_refused():
    scenario = inpatient_only(10, 100, {"dist": "exponential", "mean": 10})
    with pytest.raises(ValueError, match="population"):
        realism(scenario, ward_activity({}), {})
    result = CliRunner().invoke(app, ["realism", "default", "--set", "population=null", "--reps", "2"])
    assert result.exit_code == 2
    assert "population" in result.output


def test_year_out_of_range_is_refused():
    scenario = inpatient_only(10, 100, {"dist": "exponential", "mean": 10}).with_overrides({"population": 1e6})
    with pytest.raises(ValueError, match="year"):
        realism(scenario, ward_activity({}), {}, year=1)
