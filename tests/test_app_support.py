"""The app's logic without Streamlit: levers -> overrides, tables, charts, downloads, formatting.

Money tables are checked on a hand-made Activity (every measure constant, or a known spread over
replications), so the expected figures follow by hand arithmetic from tests/data/app-small.yaml.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from paysim import app_support as ui
from paysim.activity import Activity, measure_kinds
from paysim.analysis import sensitivity
from paysim.analysis.design import DesignError
from paysim.model.scenario import LINES, ScenarioError, load_scenario
from paysim.runs.runner import RunSettings, simulate

SMALL = Path(__file__).parent / "data" / "app-small.yaml"


@pytest.fixture(scope="module")
def small():
    return load_scenario(SMALL)


def fake_activity(scenario, reps: int = 4, oap_days: np.ndarray | None = None) -> Activity:
    """Every measure 10 per month, except OAP bed days (``oap_days[r]`` per month) and sensible shares."""
    months = scenario.months
    kinds = measure_kinds(scenario.lines(), inpatient=True)
    monthly = {name: np.full((reps, months), 10.0) for name in kinds}
    monthly["inpatient.occupancy_mean"] = np.full((reps, months), 0.9)
    if oap_days is not None:
        monthly["inpatient.oap_bed_days"] = np.repeat(np.asarray(oap_days, float)[:, None], months, axis=1)
    return Activity(monthly, kinds, np.arange(reps), scenario.start_month, "test")


# --- formatting ---------------------------------------------------------------------------------------


def test_gbp_has_pound_sign_thousands_separators_and_sign():
    assert ui.gbp(1234567.4) == "£1,234,567"
    assert ui.gbp(-250000) == "-£250,000"
    assert ui.gbp(-0.4) == "£0"
    assert ui.gbp(float("nan")) == "-"
    assert ui.gbp_change(1234) == "+£1,234"
    assert ui.gbp_change(-1234.6) == "-£1,235"
    assert ui.gbp_change(0.3) == "£0"
    assert ui.percent(0.153) == "15 %"
    assert ui.number(12345.6) == "12,346"


# --- levers -------------------------------------------------------------------------------------------


def test_levers_start_at_the_file_values_in_the_units_shown(small):
    current = {lever.name: lever.current(small) for lever in ui.levers_for(small)}
    assert current["demand_growth"] == 3.0  # % a year
    assert current["services.inpatient.beds"] == 8
    assert current["contracts.block.annual_value"] == 4.2  # £m
    assert current["services.community.capacity.vacancy_rate"] == 10.0  # %
    assert current["contracts.oap_paid_by"] == "provider"
    assert current["costs.beds.oap_per_bed_day"] == 620.0


def test_untouched_levers_set_nothing(small):
    values = {lever.name: lever.current(small) for lever in ui.levers_for(small)}
    assert ui.lever_overrides(small, values) == {}


def test_demand_growth_sets_every_line_and_direct_admissions(small):
    overrides = ui.lever_overrides(small, {"demand_growth": 6.0})
    assert overrides == {f"services.{line}.growth": 0.06 for line in LINES} | {"services.inpatient.growth": 0.06}
    edited = small.with_overrides(overrides)
    assert edited.services.inpatient.growth == 0.06
    assert edited.services.crisis.growth == 0.06


def test_levers_convert_units_back_to_the_scenario(small):
    overrides = ui.lever_overrides(
        small,
        {
            "contracts.block.annual_value": 4.5,
            "services.inpatient.beds": 10,
            "services.community.capacity.vacancy_rate": 15.0,
            "contracts.oap_paid_by": "commissioner",
        },
    )
    assert overrides == {
        "contracts.block.annual_value": 4_500_000,
        "services.inpatient.beds": 10,
        "services.community.capacity.vacancy_rate": 0.15,
        "contracts.oap_paid_by": "commissioner",
    }
    assert isinstance(overrides["services.inpatient.beds"], int)
    edited = small.with_overrides(overrides)
    assert edited.contracts.block.annual_value == 4_500_000
    assert [k for k, _, _ in ui.edited_keys(small, edited)] == sorted(overrides)


def test_levers_appear_only_for_parts_the_scenario_has(small):
    stripped = small.with_overrides({"contracts.blended": None, "contracts.capitation": None})
    names = {lever.name for lever in ui.levers_for(stripped)}
    assert "contracts.block.annual_value" in names
    assert not any(name.startswith(("contracts.blended", "contracts.capitation")) for name in names)
    no_money = small.with_overrides({"contracts": None, "costs": None})
    names = {lever.name for lever in ui.levers_for(no_money)}
    assert names == {
        "demand_growth",
        "services.inpatient.beds",
        "services.inpatient.los_days.mean",
        "services.community.capacity.vacancy_rate",
        "services.community.capacity.agency_cover",
    }


def test_a_value_the_scenario_rejects_raises_a_message_naming_the_key(small):
    overrides = ui.lever_overrides(small, {"services.inpatient.beds": -5})
    with pytest.raises(ScenarioError, match=r"services\.inpatient\.beds: must be >= 0, got -5"):
        small.with_overrides(overrides)


# --- scenarios ----------------------------------------------------------------------------------------


def test_scenarios_from_the_environment_come_first(tmp_path):
    (tmp_path / "mine.yaml").write_text(SMALL.read_text())
    (tmp_path / "notes.txt").write_text("not a scenario")
    choices = ui.scenario_choices({ui.SCENARIOS_ENV: str(tmp_path)})
    assert next(iter(choices)) == "mine"
    assert "notes" not in choices
    assert list(choices)[1] == "default"
    assert next(iter(ui.scenario_choices({}))) == "default"


def test_uploads_are_validated_with_the_file_name_and_key():
    with pytest.raises(ScenarioError, match=r"bad\.yaml: services\.inpatient\.bedz: unknown key; did you mean 'beds'"):
        ui.read_upload("bad.yaml", SMALL.read_bytes().replace(b"    beds: 8", b"    bedz: 8"))
    with pytest.raises(ScenarioError, match=r"^odd\.yaml: is not valid YAML at line 2"):
        ui.read_upload("odd.yaml", b"name: [unclosed\n")
    with pytest.raises(ScenarioError, match=r"^bin\.yaml: is not a text file"):
        ui.read_upload("bin.yaml", b"\xff\xfe\x00\x81")
    assert ui.read_upload("ok.yaml", SMALL.read_bytes()).name == "app-small"


def test_activity_yaml_ignores_money_so_contract_levers_reuse_the_simulation(small):
    money_only = small.with_overrides({"contracts.block.annual_value": 1.0, "costs.beds.oap_per_bed_day": 1.0})
    assert ui.activity_yaml(money_only) == ui.activity_yaml(small)
    more_beds = small.with_overrides({"services.inpatient.beds": 9})
    assert ui.activity_yaml(more_beds) != ui.activity_yaml(small)
    assert "contracts" not in ui.activity_yaml(small)


# --- tables -------------------------------------------------------------------------------------------


def test_pieces_cut_a_run_into_a_first_look_and_the_rest():
    first = ui.runs.FIRST_PIECE
    assert ui.pieces(1) == [range(1)]
    assert ui.pieces(2 * first) == [range(2 * first)]  # short runs come at once
    assert ui.pieces(2 * first + 1) == [range(first), range(first, 2 * first + 1)]
    cut = ui.pieces(1000)
    assert cut[0] == range(first)
    assert max(len(piece) for piece in cut[1:]) <= ui.runs.PIECE
    assert [r for piece in cut for r in piece] == list(range(1000))  # consecutive, nothing twice or left out
    with pytest.raises(ValueError, match="reps must be at least 1, got 0"):
        ui.pieces(0)


def test_a_run_in_pieces_is_bit_for_bit_the_run_at_once(small):
    edited = small.with_overrides({"services.inpatient.beds": 6})
    reps = 2 * ui.runs.FIRST_PIECE + 20
    run = ui.PieceRun.start("key", "vector", small, edited, reps)
    assert [len(p) for p in run.pieces] == [ui.runs.FIRST_PIECE, reps - ui.runs.FIRST_PIECE]
    run.simulate_next()
    run.price()
    assert not run.complete
    assert run.edited.activity.n_replications == ui.runs.FIRST_PIECE  # the first look
    run.simulate_next()
    run.price()
    assert run.complete and run.reps == reps
    for scenario, priced in ((small, run.base), (edited, run.edited)):
        whole = ui.run_money(scenario, simulate(scenario, RunSettings(reps=reps, uncertainty=False)))
        assert priced.activity.replications.tolist() == list(range(reps))
        for name in whole.activity.measures:
            np.testing.assert_array_equal(priced.activity[name], whole.activity[name], err_msg=name)
        for rule, ledger in whole.ledgers.items():
            np.testing.assert_array_equal(priced.ledgers[rule].provider_surplus, ledger.provider_surplus)


def test_a_first_look_takes_the_pieces_that_fit_its_budget(small, monkeypatch):
    from types import SimpleNamespace

    clock = {"now": 0.0}
    monkeypatch.setattr(ui.runs, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))

    def one_ms_a_replication(text: str, first: int, stop: int, engine: str) -> Activity:
        clock["now"] += (stop - first) / 2000  # two scenarios a piece: 1 ms a replication in all
        return fake_activity(small, stop - first)

    def run_with(budget: float) -> ui.PieceRun:
        run = ui.PieceRun.start("key", "vector", small, small, 1000)
        run.simulate_first_look(one_ms_a_replication, budget)
        return run

    assert run_with(0.0).done == 1  # the first piece (20 ms) is over budget already
    assert run_with(0.269).done == 1  # the next 250 replications would end at 270 ms
    assert run_with(0.271).done == 2
    assert run_with(10.0).complete  # e.g. every piece from the caches
    assert run_with(10.0).seconds == pytest.approx(1.0)


def test_the_first_look_budget_can_be_set_in_the_environment(monkeypatch):
    monkeypatch.delenv("PAYSIM_FIRST_LOOK_SECONDS", raising=False)
    assert ui.runs.first_look_seconds() == ui.runs.FIRST_LOOK_SECONDS
    monkeypatch.setenv("PAYSIM_FIRST_LOOK_SECONDS", "2.5")
    assert ui.runs.first_look_seconds() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv("PAYSIM_FIRST_LOOK_SECONDS", bad)
        with pytest.raises(ValueError, match=f"PAYSIM_FIRST_LOOK_SECONDS='{bad}': expected a number of seconds"):
            ui.runs.first_look_seconds()


def test_a_piece_that_fails_adds_nothing(small):
    def fails_on_the_edited_scenario(text: str, first: int, stop: int, engine: str) -> Activity:
        if "beds: 6" in text:
            raise ValueError("no room")
        return fake_activity(small, stop - first)

    run = ui.PieceRun.start("key", "vector", small, small.with_overrides({"services.inpatient.beds": 6}), 10)
    with pytest.raises(ValueError, match="no room"):
        run.simulate_next(fails_on_the_edited_scenario)
    assert run.parts == ([], []) and run.done == 0  # neither scenario has the piece


def test_oap_table_by_hand(small):
    # 100 OAP bed days a month in every run: 1,200 a year at 620, then 620 x 1.02 in year 2 (price inflation).
    run = ui.run_money(small, fake_activity(small, oap_days=np.full(4, 100.0)))
    table = ui.oap_table(run)
    assert table["bed_days"].tolist() == [1200.0, 1200.0]
    assert table["spend"].tolist() == pytest.approx([1200 * 620, 1200 * 620 * 1.02])
    assert table["paid_by_provider"].tolist() == pytest.approx(table["spend"].tolist())
    assert table["paid_by_commissioner"].tolist() == [0.0, 0.0]
    moved = small.with_overrides({"contracts.oap_paid_by": "commissioner"})
    table = ui.oap_table(ui.run_money(moved, fake_activity(moved, oap_days=np.full(4, 100.0))))
    assert table["paid_by_commissioner"].tolist() == pytest.approx([1200 * 620, 1200 * 620 * 1.02])


def test_fan_table_holds_quantiles_over_replications(small):
    oap = np.array([0.0, 100.0, 200.0, 300.0])
    run = ui.run_money(small, fake_activity(small, oap_days=oap))
    table = ui.fan_table(run)
    assert list(table["rule"].unique()) == ["Block", "Activity", "Blended", "Capitation"]
    assert len(table) == 4 * small.months
    block = table[table["rule"] == "Block"]
    surplus = run.ledgers["block"].provider_surplus
    assert block["p50"].to_numpy() == pytest.approx(np.median(surplus, axis=0))
    assert block["p5"].to_numpy() == pytest.approx(np.percentile(surplus, 5, axis=0))
    assert (block["p5"] <= block["p25"]).all() and (block["p75"] <= block["p95"]).all()
    assert block["label"].iloc[0] == "2026/27 M1"
    cumulative = ui.fan_table(run, cumulative=True)
    first = cumulative[cumulative["rule"] == "Block"]["p50"].iloc[-1]
    assert first == pytest.approx(np.median(surplus.sum(axis=1)))


def test_risk_table_and_headline(small):
    oap = np.array([0.0, 100.0, 200.0, 300.0])
    run = ui.run_money(small, fake_activity(small, oap_days=oap))
    table = ui.risk_table(run).set_index("rule")
    surplus = run.ledgers["block"].total("provider_surplus")
    assert table.loc["Block", "surplus_mean"] == pytest.approx(surplus.mean())
    assert table.loc["Block", "expected_shortfall"] == pytest.approx(surplus.min())  # worst 5 % of 4 runs: 1
    assert table.loc["Block", "spend_sd"] == 0.0  # a block is the same in every run
    rows = ui.headline(run, run)
    assert [r["rule"] for r in rows] == ["block", "activity", "blended", "capitation"]
    assert rows[0]["surplus_a_year"] == pytest.approx(surplus.mean() / 2)
    assert all(r["change_a_year"] == 0 for r in rows)
    text = ui.risk_display(ui.risk_table(run), 2)
    assert text.iloc[0, 1].startswith(("£", "-£")) and "," in text.iloc[0, 1]


def test_changes_table_pairs_runs(small):
    base = ui.run_money(small, fake_activity(small, oap_days=np.array([0.0, 100.0, 200.0, 300.0])))
    more = small.with_overrides({"contracts.block.annual_value": 4_300_000})
    edited = ui.run_money(more, base.activity)
    table = ui.changes_table(base, edited)
    row = table[(table["rule"] == "Block") & (table["measure"] == "Provider surplus")].iloc[0]
    # 100,000 more a year for two years, uplifted 1.8 % in year 2; identical activity, so no spread.
    assert row["change"] == pytest.approx(100_000 * (1 + 1.018))
    assert row["ci_low"] == pytest.approx(row["change"]) and row["ci_high"] == pytest.approx(row["change"])
    other = table[(table["rule"] == "Activity") & (table["measure"] == "Provider surplus")].iloc[0]
    assert other["change"] == 0.0
    oap = table[table["measure"] == "OAP bed days"].iloc[0]
    assert oap["rule"] == "all rules" and oap["change"] == 0.0


def test_mhis_table_verdicts(small):
    run = ui.run_money(small, fake_activity(small))
    table = ui.mhis_table(run)
    block = table[table["rule"] == "Block"].set_index("year")
    # Year 1: 4.2m against 4.0m x 1.05 = 4.2m: met. Year 2: 4.2756m against 4.41m: missed by 134,400.
    assert block.loc[1, "verdict"] == "met in every run"
    assert block.loc[2, "verdict"] == "missed in every run"
    assert block.loc[2, "shortfall"] == pytest.approx(4_200_000 * 1.05 - 4_200_000 * 1.018)


def test_activity_table_lists_public_measures(small):
    table = ui.activity_table(fake_activity(small))
    row = table.set_index("measure").loc["inpatient.occupancy_mean"]
    assert row["unit"] == "% of beds" and row["mean"] == pytest.approx(90.0)
    assert "inpatient.discharges" not in set(table["measure"])


# --- charts and downloads -----------------------------------------------------------------------------


def test_charts_build_valid_vega_lite(small):
    oap = np.array([0.0, 100.0, 200.0, 300.0])
    base = ui.run_money(small, fake_activity(small, oap_days=oap))
    run = ui.run_money(small.with_overrides({"contracts.block.annual_value": 4_300_000}), base.activity)
    surplus = ui.yearly_surplus(run)
    assert len(surplus) == 4 * 4 * 2
    charts = [
        ui.fan_chart(ui.fan_table(run), "Surplus"),
        ui.risk_histogram(surplus[surplus["rule"] == "Block"]["surplus"].to_numpy(), "block", "year 1", (-1e6, 1e6)),
        ui.spend_chart(ui.spend_table(run)),
        ui.changes_chart(ui.changes_table(base, run)),
        ui.activity_fan_chart(ui.measure_fan(run.activity, "inpatient.oap_bed_days"), "OAP bed days"),
    ]
    for chart in charts:
        spec = chart.to_dict()
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_histogram_marks_mean_and_percentiles():
    stats = ui.histogram_stats(np.arange(101.0))
    assert stats == {"mean": 50.0, "5th percentile": 5.0, "95th percentile": 95.0}


def test_downloads_hold_the_results(small):
    base = ui.run_money(small, fake_activity(small, oap_days=np.array([0.0, 100.0, 200.0, 300.0])))
    table = pacsv.read_csv(io.BytesIO(ui.results_csv(base)))
    assert table.column_names[0] == "replication"
    assert "blended.provider_surplus" in table.column_names
    assert table.num_rows == 4
    parquet = pq.read_table(io.BytesIO(ui.results_parquet(base)))
    assert parquet.schema.metadata[b"paysim.model.scenario"] == b"app-small"

    edited = ui.run_money(small.with_overrides({"services.inpatient.beds": 9}), base.activity)
    book = load_workbook(io.BytesIO(ui.excel_workbook(ui.workbook_sheets(base, edited, "test", 1.5))))
    assert book.sheetnames == [
        "About",
        "I&E by year",
        "Who carries the risk",
        "Risk matrix",
        "Inputs",
        "Summary",
        "Changes",
        "Surplus by month",
        "Cumulative surplus",
        "Yearly surplus",
        "Commissioner spend",
        "OAP",
        "MHIS",
        "Activity",
    ]
    inputs = {row[0]: row[1:] for row in book["Inputs"].iter_rows(min_row=2, values_only=True)}
    assert inputs["services.inpatient.beds"] == (9, 8, True)
    assert inputs["seed"][2] is False
    summary = book["Summary"]
    assert summary["A1"].value == "Rule" and summary["A2"].value == "Block"
    assert summary["B1"].value == "Provider surplus over the horizon, mean (£)"
    assert summary["B2"].number_format == ui.GBP_FORMAT == '"£"#,##0.0,,"m";-"£"#,##0.0,,"m"'  # pounds shown in £m
    header = [c.value for c in summary[1]]
    column = header.index("Chance of a deficit over the horizon") + 1
    assert summary.cell(row=2, column=column).number_format == ui.PERCENT_FORMAT
    ie = book["I&E by year"]
    assert [c.value for c in ie[1]][:3] == ["Rule", "Contract year", "Financial year"]
    assert [row[2] for row in ie.iter_rows(min_row=2, max_row=3, values_only=True)] == ["2026/27", "2027/28"]
    assert ie["D2"].number_format == ui.GBP_FORMAT and ie["D2"].value == pytest.approx(4_200_000)  # pounds
    matrix = book["Risk matrix"]
    assert [c.value for c in matrix[1]][:4] == ["Rule", "Party", "Risk", "Share of the party's variance"]
    assert matrix["D2"].number_format == ui.PERCENT_FORMAT
    months = [row[2] for row in book["Surplus by month"].iter_rows(min_row=2, max_row=13, values_only=True)]
    assert months[0] == "2026/27 M1" and months[-1] == "2026/27 M12"


def test_saving_table_splits_the_system_cost_between_the_parties(small):
    base = ui.run_money(small, fake_activity(small, oap_days=np.array([0.0, 100.0, 200.0, 300.0])))
    edited = ui.run_money(small.with_overrides({"contracts.block.annual_value": 4_300_000}), base.activity)
    table = ui.saving_table(base, edited).set_index("rule")
    # A bigger block moves money from commissioner to provider and saves nothing: 100,000 x (1 + 1.018).
    assert table.loc["Block", "saving"] == pytest.approx(0.0, abs=1e-6)
    assert table.loc["Block", "provider"] == pytest.approx(201_800)
    assert table.loc["Block", "commissioner"] == pytest.approx(-201_800)
    assert table.loc["Activity", "provider"] == 0.0
    text = ui.saving_display(ui.saving_table(base, edited), 2)
    assert text.iloc[0].tolist() == ["Block", "£0", "+£201,800", "+£201,800"]  # the commissioner pays more
    in_thousands = ui.saving_display(ui.saving_table(base, edited), 2, "£000")
    assert in_thousands.iloc[0].tolist()[1:] == ["£0k", "+£202k", "+£202k"]


def test_scenarios_with_parameter_uncertainty_run_at_central_values(small):
    uncertain = small.with_overrides(
        {
            "uncertain.parameters": {
                "contracts.block.annual_value": [4.0e6, 4.4e6],
                "services.inpatient.los_days.mean": {"dist": "pert", "low": 25, "mode": 30, "high": 40},
            }
        }
    )
    text = ui.activity_yaml(uncertain)
    assert text == ui.activity_yaml(small)  # no uncertain block left to refer to the dropped contracts
    run = ui.run_money(uncertain, fake_activity(small))
    assert run.scenario.uncertain is None
    assert run.ledgers["block"].yearly("provider_income")[0, 0] == pytest.approx(4_200_000)


def test_edits_ignore_the_uncertain_block(small):
    parameters = {"contracts.block.annual_value": [4.0e6, 4.4e6], "services.crisis.growth": [0.02, 0.05]}
    uncertain = small.with_overrides({"uncertain.parameters": parameters})
    edited = uncertain.with_overrides(ui.lever_overrides(uncertain, {"contracts.block.annual_value": 4.5}))
    assert ui.edited_keys(uncertain, edited) == [("contracts.block.annual_value", 4_200_000, 4_500_000)]


# --- decision analysis: sensitivity and contract design -----------------------------------------------


def tornado_by_hand(measure: str = "blended.provider_surplus"):
    """A tornado with known rows (unsorted): a patient parameter, a price and a term with no effect."""
    from paysim.analysis.sensitivity import Tornado

    central = -168_268.0
    rows = [
        {"parameter": "costs.beds.oap_per_bed_day", "low": 584, "high": 656, "value_low": -134_584.6,
         "value_high": -201_500.2, "swing": 66_915.6, "swing_se": 1_950.9, "central": 620, "value_central": central},
        {"parameter": "services.inpatient.los_days.mean", "low": 26.642, "high": 35.699, "value_low": 52_760.8,
         "value_high": -563_777.9, "swing": 616_538.7, "swing_se": 9_362.6, "central": 30, "value_central": central},
        {"parameter": "contracts.block.annual_value", "low": 4_020_000.0, "high": 4_380_000.0,
         "value_low": central, "value_high": central, "swing": 0.0, "swing_se": 0.0, "central": 4_200_000,
         "value_central": central},
    ]  # fmt: skip
    return Tornado(measure, 100, 0.9, central, rows)


def test_sensitivity_measures_put_the_provider_surplus_first(small):
    measures = ui.sensitivity_measures(small)
    assert measures[:4] == [f"{rule}.provider_surplus" for rule in ("block", "activity", "blended", "capitation")]
    assert set(measures) == set(sensitivity.column_names(small))
    assert ui.default_measure(small) == "blended.provider_surplus"
    no_blended = small.with_overrides({"contracts.blended": None})
    assert ui.default_measure(no_blended) == "block.provider_surplus"
    assert ui.is_money("capitation.system_cost") and not ui.is_money("inpatient.oap_bed_days")
    assert ui.measure_label("blended.provider_surplus") == "Blended: provider surplus"
    assert ui.measure_phrase("block.commissioner_spend") == "block commissioner spend"
    assert ui.measure_label("crisis.referrals") == "Crisis: referrals"
    assert ui.measure_phrase("talking_therapies.referrals") == "talking therapies referrals"


def test_a_tornado_counts_simulations_only_for_parameters_that_change_the_patients(small):
    assert ui.tornado_simulations(small) == 0
    uncertain = small.with_overrides(
        {
            "uncertain.parameters": {
                "services.inpatient.los_days.mean": [25, 40],
                "services.crisis.growth": [0.02, 0.05],
                "contracts.block.annual_value": [4.0e6, 4.4e6],
                "costs.beds.oap_per_bed_day": [580, 660],
            }
        }
    )
    assert ui.tornado_simulations(uncertain) == 1 + 2 * 2  # the money keys re-price the central run
    assert ui.sobol_simulations(uncertain, 16) == 16 * (4 + 2)
    assert ui.default_tornado_replications("vector") == 100
    assert ui.default_tornado_replications("des") == 10


def test_tornado_table_on_a_money_basis_named_in_its_headers_largest_swing_first():
    tornado = tornado_by_hand()
    assert ui.tornado_ends(tornado) == {"low": "5th percentile", "high": "95th percentile"}
    text = ui.tornado_display(tornado)  # standard errors of £2k and £9k would read £0.0m: the table is in £000
    assert list(text.columns) == [
        "Parameter",
        "Central",
        "Low (5th percentile)",
        "High (95th percentile)",
        "Mean at low (£000)",
        "Mean at high (£000)",
        "Swing (£000)",
        "Swing, standard error (£000)",
    ]
    # sorted by the library (one_way sorts); the display keeps the order it is given
    first = text.iloc[1].tolist()
    assert first == ["Mean length of stay", "30", "26.64", "35.7", "53", "-564", "617", "9"]
    assert text.iloc[2, 2:5].tolist() == ["4,020,000", "4,380,000", "-168"]
    counts = ui.tornado_display(tornado_by_hand("inpatient.oap_bed_days"))
    assert counts.iloc[1]["Swing"] == "616,539"  # not money: no pound sign
    table = pd_read_csv(ui.tornado_csv(tornado))
    assert list(table.columns) == list(sensitivity.TORNADO_COLUMNS)
    assert table["swing"].iloc[1] == pytest.approx(616_538.7)


def pd_read_csv(data: bytes):
    import pandas as pd

    return pd.read_csv(io.BytesIO(data))


def test_tornado_chart_orders_by_swing_and_labels_each_end_with_its_setting():
    spec = ui.tornado_chart(tornado_by_hand()).to_dict()
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert spec["title"] == "What moves the mean blended provider surplus most"
    assert spec["layer"][0]["encoding"]["y"]["sort"] == [
        "Mean length of stay",
        "OAP daily price",
        "Block value",
    ]
    bars = next(rows for rows in spec["datasets"].values() if rows and "setting_text" in rows[0])
    by = {(b["parameter"], b["end"]): b for b in bars}
    los_low = by[("Mean length of stay", "low")]
    assert (los_low["start"], los_low["stop"], los_low["setting_text"]) == (-168_268.0, 52_760.8, "26.64")
    assert los_low["right"] and not by[("Mean length of stay", "high")]["right"]
    # a parameter with no effect: its low setting is written on the left of the line, its high on the right
    assert not by[("Block value", "low")]["right"]
    assert by[("Block value", "high")]["right"]


def test_sobol_table_and_chart():
    from paysim.analysis.sensitivity import SobolResult

    rows = [
        {"parameter": "costs.beds.oap_per_bed_day", "S1": 0.02, "S1_conf": 0.05, "ST": 0.03, "ST_conf": 0.01},
        {"parameter": "services.inpatient.los_days.mean", "S1": 0.9, "S1_conf": 0.3, "ST": 0.95, "ST_conf": 0.2},
    ]
    result = SobolResult("block.provider_surplus", 16, 4, 64, rows, [])
    text = ui.sobol_display(result)
    assert text.iloc[1].tolist() == [
        "Mean length of stay",
        "0.90",
        "0.30",
        "0.95",
        "0.20",
    ]
    spec = ui.sobol_chart(result).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"][0] == "Mean length of stay"
    bars = next(rows for rows in spec["datasets"].values() if rows and "index" in rows[0])
    high = max(b["high"] for b in bars)
    assert high == 1.0  # 0.95 + 0.2 is drawn to 1, the most an index can be


def test_setting_and_term_text():
    assert ui.setting_text(4_020_000.0) == "4,020,000"
    assert ui.setting_text(29.5912) == "29.59"
    assert ui.setting_text(0.032499) == "0.0325"
    assert ui.setting_text(700) == "700"
    assert ui.setting_text(float("nan")) == "-"
    assert ui.term_text("contracts.block.annual_value", 4_323_049.04) == "£4,323,049 a year"
    assert ui.term_text("contracts.capitation.rate_per_head", 108.076) == "£108.08 a weighted head a year"
    assert ui.term_text("contracts.blended.variable.rate_above", 0.6607) == "66.1 %"
    assert ui.problem_text(ValueError("--term contracts.block.x: contracts.block has no 'x'")) == (
        "contracts.block.x: contracts.block has no 'x'"
    )
    message = "no value between 1 and 2 meets the goal (...); give other bounds with --low/--high"
    assert ui.problem_text(ValueError(message)) == "no value between 1 and 2 meets the goal (...)"


def test_design_choices_follow_the_contracts(small):
    names = [choice.name for choice in ui.design_choices(small)]
    assert names == [
        "block-p-deficit",
        "capitation-p-deficit",
        "blended-equal-shortfall",
        "block-break-even",
        "capitation-break-even",
    ]
    only_block = small.with_overrides({"contracts.capitation": None, "contracts.blended": None})
    assert [c.name for c in ui.design_choices(only_block)] == ["block-p-deficit", "block-break-even"]


def test_design_on_the_page_run_by_hand(small):
    run = ui.run_money(small, fake_activity(small, oap_days=np.array([0.0, 100.0, 200.0, 300.0])))
    cost = run.ledgers["block"].total("provider_cost").mean()
    choice = next(c for c in ui.DESIGN_CHOICES if c.name == "block-break-even")
    result = ui.run_design(run, choice)
    # block income over 2 years is V + 1.018 V, so the mean surplus is 0 at V = mean cost / 2.018
    assert result.value == pytest.approx(cost / 2.018, rel=1e-9)
    assert result.reps == 4
    answer = ui.design_answer(result, run.scenario)
    assert answer["term"] == "Block value"
    assert answer["value"] == ui.term_text("contracts.block.annual_value", cost / 2.018)
    assert answer["current"] == "£4,200,000 a year"
    assert answer["change"] == ui.gbp_change(cost / 2.018 - 4_200_000)
    assert answer["interval"].endswith(" a year") and " to " in answer["interval"]
    table = ui.design_display(result)
    assert table.iloc[1].tolist() == ["Mean provider surplus over the horizon", "£0"]
    spec = ui.design_chart(result).to_dict()
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    rules = [layer for layer in spec["layer"] if layer["mark"] == "rule" or layer["mark"].get("type") == "rule"]
    assert len(rules) == 2  # the answer and the target

    assert ui.design_window(result) == (result.curve[0]["value"], result.curve[-1]["value"])  # the whole search

    # every replication's activity is the plan, so no marginal rate changes anything: no answer, said plainly
    with pytest.raises(DesignError) as problem:
        ui.run_design(run, next(c for c in ui.DESIGN_CHOICES if c.name == "blended-equal-shortfall"))
    assert ui.problem_text(problem.value).startswith("no value between 0 and 1 meets the goal")
    assert "--" not in ui.problem_text(problem.value)
    shares = replace(result, goal="equal-shortfall", terms=ui.MARGINAL_RATES, rule="blended", value=0.625)
    text = ui.design_answer(shares, run.scenario)
    assert text["term"] == "Blended marginal rate (above and below plan)"
    assert text["value"] == "62.5 %" and text["change"] == "+12.5 percentage points"
    assert text["keys"] == "contracts.blended.variable.rate_above, contracts.blended.variable.rate_below"


def test_a_p_deficit_chart_shows_where_the_chance_falls(small):
    """P(deficit) is 1 for a small block and 0 for a large one: the chart shows the fall between."""
    oap = np.linspace(0.0, 60.0, 40)  # OAP spend over the horizon from £0 to about £0.9m
    run = ui.run_money(small, fake_activity(small, reps=40, oap_days=oap))
    result = ui.run_design(run, next(c for c in ui.DESIGN_CHOICES if c.name == "block-p-deficit"))
    lo, hi = ui.design_window(result)
    searched = (result.curve[0]["value"], result.curve[-1]["value"])
    assert searched[0] <= lo < result.ci_low <= result.value <= result.ci_high < hi <= searched[1]
    assert hi - lo < 0.5 * (searched[1] - searched[0])  # zoomed in on the fall
    inside = [p["p_deficit"] for p in result.curve if lo <= p["value"] <= hi]
    assert min(inside) == 0.0 and max(inside) == 1.0  # flat ends kept, a little of each
    spec = ui.design_chart(result).to_dict()
    assert spec["title"] == "Block value: P(deficit over the horizon)"
