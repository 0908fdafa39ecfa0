"""The default trust looks like a real one: every figure `paysim realism default` measures sits inside the range
published nationally (per head), at central values, 200 replications, seed as in the file."""

from __future__ import annotations

import pytest

from paysim.analysis.realism import realism
from paysim.model.scenario import bundled_scenarios, load_scenario
from paysim.model.uncertainty import central
from paysim.money import finance
from paysim.runs.runner import RunSettings, simulate

REPLICATIONS = 200
OAP_FIGURES = ("oap_started", "oap_mean_length", "oap_bed_days", "oap_15_plus", "oap_31_plus")
MARGIN_SE = 2.0
"""The OAP figures sit inside their ranges by at least this many standard errors (not on an edge by chance)."""


@pytest.fixture(scope="module")
def checks():
    scenario = central(load_scenario(bundled_scenarios()["default"]))
    activity = simulate(scenario, RunSettings(reps=REPLICATIONS))
    ledgers = finance.ledgers(scenario, activity)
    return {year: {c.name: c for c in realism(scenario, activity, ledgers, year)} for year in range(scenario.years)}


@pytest.mark.slow
@pytest.mark.statistical
def test_out_of_area_placements_match_the_national_figures(checks):
    first = checks[0]
    for name in OAP_FIGURES:
        check = first[name]
        assert check.low + MARGIN_SE * check.se <= check.mean <= check.high - MARGIN_SE * check.se, (
            f"{check.benchmark.label}: {check.mean:.3g} +/- {check.se:.2g} outside {check.low:.3g}-{check.high:.3g}"
        )


@pytest.mark.slow
def test_every_figure_of_the_first_year_is_inside_its_published_range(checks):
    outside = {name: (c.mean, c.low, c.high) for name, c in checks[0].items() if not c.inside}
    assert outside == {}
    assert len(checks[0]) >= 20  # every benchmark is measured: the default has every line and rule


@pytest.mark.slow
def test_no_runaway_year_three_looks_like_year_one_apart_from_growth(checks):
    """Bed demand grows 1-2 % a year against fixed beds: out-of-area bed days rise, but occupancy stays where it
    is nationally and the placements stay as long as they were."""
    for year in (1, 2):
        later = checks[year]
        assert later["occupancy"].inside
        assert later["oap_mean_length"].mean == pytest.approx(checks[0]["oap_mean_length"].mean, rel=0.1)
        assert later["oap_bed_days"].mean < 1.6 * checks[0]["oap_bed_days"].mean
        assert abs(later["block_margin"].mean) < 0.03  # within 3 % of break-even under the block
