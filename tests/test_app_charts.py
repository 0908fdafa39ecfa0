"""Readable charts and finance labels: round bins with break-even on an edge, round £ ticks, marks that do not
print over each other, months M1-M12 by financial year, year to date."""

from __future__ import annotations

import numpy as np
import pytest

from paysim import app_support as ui
from paysim.app_support.charts import HISTOGRAM_MARKS, histogram_bins, nice_step, round_ticks
from paysim.model.fiscal import financial_year, month_labels
from paysim.model.scenario import load_scenario
from tests.test_app_support import SMALL, fake_activity


@pytest.mark.parametrize(
    "domain", [(-1_250_000.0, 650_000.0), (-363_000.0, 1_100_000.0), (-10_001.0, 3.0), (0.0, 7_000_000.0)]
)
def test_histogram_bins_are_round_and_break_even_is_an_edge(domain):
    lo, hi, step = histogram_bins(domain)
    assert lo <= domain[0] and hi >= domain[1]
    assert step == nice_step(hi - lo, 40) or step == nice_step(domain[1] - domain[0], 40)
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert mantissa in (1, 2, 2.5, 5)
    edges = lo + step * np.arange(round((hi - lo) / step) + 1)
    if lo <= 0 <= hi:
        assert np.isclose(edges, 0.0, atol=step * 1e-9).any()  # no bin straddles £0
    assert (hi - lo) / step <= 41


def test_ticks_are_round_money_and_include_break_even():
    assert round_ticks(-363_000.0, 1_100_000.0) == [-250_000.0, 0.0, 250_000.0, 500_000.0, 750_000.0, 1_000_000.0]
    assert 0.0 in round_ticks(-1_250_000.0, 650_000.0)


def test_histogram_marks_sit_on_their_own_rows_with_short_labels():
    values = np.random.default_rng(1).normal(120_000, 1_000, 200)  # a narrow histogram: the marks are close
    spec = ui.vega_spec(ui.risk_histogram(values, "block", "2026/27", ui.nice_domain(values)))
    texts = [layer for layer in spec["layer"] if layer["mark"].get("type") == "text"]
    assert sorted(layer["mark"]["dy"] for layer in texts) == sorted(row for _, _, row in HISTOGRAM_MARKS)
    assert len({layer["mark"]["dy"] for layer in texts}) == 3
    ticks = spec["layer"][0]["encoding"]["x"]["axis"]["values"]
    step = ticks[1] - ticks[0]
    assert all(v / step == round(v / step) for v in ticks)  # round multiples of one step
    shown = [row["text"] for data in spec["datasets"].values() for row in data if "text" in row]
    assert any(text.startswith("Mean £0.1m") for text in shown)
    spec = ui.vega_spec(ui.risk_histogram(values, "block", "2026/27", ui.nice_domain(values), "£000"))
    shown = [row["text"] for data in spec["datasets"].values() for row in data if "text" in row]
    assert any(text.startswith("Mean £120k") for text in shown)


def test_months_are_labelled_by_financial_year():
    assert financial_year(1) == "2026/27" and financial_year(10) == "2035/36"
    labels = month_labels(36)
    assert labels[0] == "2026/27 M1" and labels[11] == "2026/27 M12" and labels[12] == "2027/28 M1"
    assert month_labels(13, start_month=1)[12] == "2027 M1"


def test_year_to_date_restarts_each_financial_year():
    scenario = load_scenario(SMALL)
    run = ui.run_money(scenario, fake_activity(scenario, oap_days=np.array([0.0, 100.0, 200.0, 300.0])))
    ytd = ui.fan_table(run, year_to_date=True)
    monthly = ui.fan_table(run)
    block_ytd = ytd[ytd["rule"] == "Block"].reset_index(drop=True)
    block = monthly[monthly["rule"] == "Block"].reset_index(drop=True)
    surplus = run.ledgers["block"].provider_surplus
    assert block_ytd["p50"].iloc[11] == pytest.approx(np.median(surplus[:, :12].sum(axis=1)))
    assert block_ytd["p50"].iloc[12] == pytest.approx(block["p50"].iloc[12])  # M1 of year 2 starts again
    assert block_ytd["label"].iloc[12] == "2027/28 M1"
    with pytest.raises(ValueError, match="not both"):
        ui.fan_table(run, cumulative=True, year_to_date=True)
