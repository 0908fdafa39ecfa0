"""paysim calibrate's inputs: the monthly table (every form and every bad-data case) and NHS Digital's OAP return.

Every bad input gives a message naming the file, row and column, exit status 2 from the command, no traceback and
nothing written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from paysim.calibrate.monthly import (
    DataError,
    accepted_measures,
    days_between,
    month_after,
    months_between,
    read_monthly,
)
from paysim.calibrate.oap_return import read_oap_month, read_oap_return
from paysim.cli import app
from paysim.runs.io import monthly_table, write_table
from paysim.runs.runner import RunSettings, simulate
from tests.builders import small_trust

ROOT = Path(__file__).resolve().parent.parent
OAPS = ROOT / "data" / "oaps"
OAP_FILES = [OAPS / f"oaps-open-data-{m}-2016.csv" for m in ("oct", "nov", "dec")]
SAMPLE = ROOT / "data" / "sample-trust.csv"


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def months(n: int, first: str = "2023-04") -> list[str]:
    return [month_after(first, i) for i in range(n)]


def wide(path: Path, n: int = 14, **columns: list[object]) -> Path:
    """A wide table of ``n`` months with ``talking_therapies.referrals`` and any columns given."""
    columns.setdefault("talking_therapies.referrals", [100 + i for i in range(n)])
    names = list(columns)
    return write_csv(
        path, [["month", *names], *[[m, *(columns[c][i] for c in names)] for i, m in enumerate(months(n))]]
    )


# --- the calendar ---------------------------------------------------------------------------------------


def test_month_arithmetic():
    assert month_after("2023-11", 3) == "2024-02"
    assert months_between("2023-04", "2025-03") == 23
    assert days_between("2023-01", "2023-03") == 31 + 28
    assert days_between("2023-04", "2024-04") == 365


# --- reading good tables --------------------------------------------------------------------------------


def test_wide_and_long_csv_read_the_same(tmp_path):
    n = 14
    refs = [100 + i for i in range(n)]
    beds = [3000.5 + i for i in range(n)]
    a = read_monthly(wide(tmp_path / "wide.csv", n, **{"inpatient.local_bed_days": beds}))
    rows = [["month", "measure", "value"]]
    for i, m in enumerate(months(n)):
        rows += [[m, "inpatient.local_bed_days", beds[i]], [m, "talking_therapies.referrals", refs[i]]]
    b = read_monthly(write_csv(tmp_path / "long.csv", rows[::-1] if False else rows))
    assert a.months == b.months == tuple(months(n))
    assert set(a.values) == set(b.values) == {"talking_therapies.referrals", "inpatient.local_bed_days"}
    np.testing.assert_array_equal(a["inpatient.local_bed_days"], beds)
    np.testing.assert_array_equal(b["talking_therapies.referrals"], refs)


def test_rows_in_any_order_are_sorted_by_month(tmp_path):
    rows = [["month", "measure", "value"], ["2024-02", "crisis.referrals", 3], ["2024-01", "crisis.referrals", 2]]
    data = read_monthly(write_csv(tmp_path / "t.csv", rows))
    assert data.months == ("2024-01", "2024-02")
    np.testing.assert_array_equal(data["crisis.referrals"], [2, 3])


def test_parquet_and_excel_read(tmp_path):
    table = pa.table({"month": months(3), "crisis.referrals": [1.0, 2.0, 3.0]})
    pq.write_table(table, tmp_path / "t.parquet")
    assert read_monthly(tmp_path / "t.parquet")["crisis.referrals"].tolist() == [1, 2, 3]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["month", "crisis.referrals"])
    import datetime as dt

    for i, value in enumerate([4, 5, 6]):
        sheet.append([dt.date(2024, 1 + i, 1), value])
    book.save(tmp_path / "t.xlsx")
    data = read_monthly(tmp_path / "t.xlsx")
    assert data.months == ("2024-01", "2024-02", "2024-03")
    assert data["crisis.referrals"].tolist() == [4, 5, 6]


def test_run_monthly_output_relabelled_is_valid_input(tmp_path):
    scenario = small_trust(years=1)
    activity = simulate(scenario, RunSettings(reps=2, engine="des"))
    table = monthly_table(activity, scenario).filter(pa.compute.equal(pa.compute.field("replication"), 1))
    table = table.set_column(table.column_names.index("month"), "month", pa.array(months(12, "2024-04")))
    write_table(table, tmp_path / "run.csv")
    data = read_monthly(tmp_path / "run.csv")
    assert data.n_months == 12
    assert set(data.values) == set(activity.measures)
    np.testing.assert_allclose(data["inpatient.bed_requests"], activity["inpatient.bed_requests"][1])


def test_the_sample_trust_reads():
    data = read_monthly(SAMPLE)
    assert data.n_months == 36
    assert data.first == "2022-04"


def test_every_measure_paysim_returns_is_accepted():
    kinds = accepted_measures()
    assert "inpatient.oap_ended_31_plus" in kinds and "talking_therapies.referrals" in kinds
    assert kinds["inpatient.local_bed_days"] == "days"


# --- bad tables -----------------------------------------------------------------------------------------


def bad(path: Path, *expected: str) -> str:
    with pytest.raises(DataError) as info:
        read_monthly(path)
    message = str(info.value)
    for text in expected:
        assert text in message, message
    return message


def test_unknown_measure_names_row_and_column_with_did_you_mean(tmp_path):
    bad(
        wide(tmp_path / "w.csv", **{"crisis.referals": [1] * 14}),
        "row 1, column 'crisis.referals'",
        "did you mean 'crisis.referrals'",
    )
    rows = [["month", "measure", "value"], ["2024-01", "inpatient.bed_request", 5]]
    bad(write_csv(tmp_path / "l.csv", rows), "row 2, column 'measure'", "did you mean 'inpatient.bed_requests'")


def test_month_missing_names_the_gap(tmp_path):
    rows = [["month", "crisis.referrals"], ["2024-01", 1], ["2024-02", 2], ["2024-05", 3]]
    bad(
        write_csv(tmp_path / "t.csv", rows),
        "row 4, column 'month'",
        "months missing between 2024-02 and 2024-05",
        "2024-03, 2024-04",
    )


def test_month_given_twice(tmp_path):
    rows = [["month", "crisis.referrals"], ["2024-01", 1], ["2024-02", 2], ["2024-01", 3]]
    bad(write_csv(tmp_path / "t.csv", rows), "row 4", "2024-01 is given again (first in row 2)")
    rows = [["month", "measure", "value"], ["2024-01", "crisis.referrals", 1], ["2024-01", "crisis.referrals", 1]]
    bad(write_csv(tmp_path / "l.csv", rows), "row 3, column 'value'", "given again (first in row 2)")


def test_bad_month_text(tmp_path):
    rows = [["month", "crisis.referrals"], ["Jan 2024", 1]]
    bad(write_csv(tmp_path / "t.csv", rows), "row 2, column 'month'", "YYYY-MM", "'Jan 2024'")
    rows = [["month", "crisis.referrals"], ["2024-13", 1]]
    bad(write_csv(tmp_path / "u.csv", rows), "row 2, column 'month'")


def test_negative_and_non_numeric_and_fractional_counts(tmp_path):
    rows = [["month", "crisis.referrals"], ["2024-01", 1], ["2024-02", -4]]
    bad(write_csv(tmp_path / "a.csv", rows), "row 3, column 'crisis.referrals'", "must be >= 0", "-4")
    rows = [["month", "crisis.referrals"], ["2024-01", "many"]]
    bad(write_csv(tmp_path / "b.csv", rows), "row 2, column 'crisis.referrals'", "must be a number, got 'many'")
    rows = [["month", "crisis.referrals"], ["2024-01", 2.5]]
    bad(write_csv(tmp_path / "c.csv", rows), "row 2", "a count must be a whole number")
    rows = [["month", "crisis.referrals"], ["2024-01", ""]]
    bad(write_csv(tmp_path / "d.csv", rows), "row 2", "no value")
    rows = [["month", "inpatient.occupancy_mean"], ["2024-01", 95]]
    bad(write_csv(tmp_path / "e.csv", rows), "row 2", "must be <= 1")


def test_a_measure_missing_some_months(tmp_path):
    rows = [
        ["month", "measure", "value"],
        ["2024-01", "crisis.referrals", 1],
        ["2024-02", "crisis.referrals", 2],
        ["2024-01", "crisis.started", 1],
    ]
    bad(write_csv(tmp_path / "t.csv", rows), "column 'crisis.started'", "no value for 2024-02")


def test_files_that_are_not_tables(tmp_path):
    bad(write_csv(tmp_path / "t.csv", [["when", "crisis.referrals"], ["2024-01", 1]]), "row 1", "no 'month' column")
    (tmp_path / "e.csv").write_text("")
    bad(tmp_path / "e.csv", "is empty")
    bad(tmp_path / "missing.csv", "no such file")
    (tmp_path / "t.json").write_text("{}")
    bad(tmp_path / "t.json", "use .csv, .parquet, .xlsx")
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    bad(tmp_path / "x.parquet", "not a readable Parquet file")


def test_several_replications_are_refused(tmp_path):
    rows = [["replication", "month", "crisis.referrals"], [0, "2024-01", 1], [1, "2024-02", 2]]
    bad(write_csv(tmp_path / "t.csv", rows), "column 'replication'", "one replication")


# --- the OAP return -------------------------------------------------------------------------------------


def test_the_three_files_parse_to_the_published_national_totals():
    """England, adult acute (bed type 10): December 2016 as docs/sources.md quotes it, and each month's layout."""
    england = read_oap_return(OAP_FILES, "England", bed_type="10")
    assert [m.layout for m in england.months] == ["2016-10", "2016-11", "2016-12"]
    dec = england.months[-1]
    assert dec.month == "2016-12"
    assert (dec["started"], dec["ended"], dec["active_end"], dec["oap_days"]) == (366, 365, 330, 10005)
    bands = (dec["ended_1_7"], dec["ended_8_14"], dec["ended_15_30"], dec["ended_31_plus"])
    assert bands == (128, 84, 104, 49)
    assert dec["daily_cost"] == 500
    october = england.months[0]
    assert october["ended_1_7"] is None  # October's layout has no length split
    assert october["average_stay"] == pytest.approx(4.28571)
    assert england.months[1]["started"] == 499


def test_a_providers_figures_and_suppressed_values():
    rw1 = read_oap_return(OAP_FILES[::-1], "RW1")  # any order: sorted by month
    assert [m.month for m in rw1.months] == ["2016-10", "2016-11", "2016-12"]
    assert rw1.series("started").tolist() == [30, 35, 30]
    assert np.isnan(rw1.series("ended")[0])  # "*" in October: missing, never 0
    data = rw1.measures()
    assert data.months == ("2016-10", "2016-11", "2016-12")
    assert data["inpatient.oap_bed_days"].tolist() == [177, 995, 942]
    cost, se, used = rw1.daily_cost()
    assert used == 3 and 550 < cost < 650 and se > 0


def test_provider_not_in_the_file():
    with pytest.raises(DataError) as info:
        read_oap_month(OAP_FILES[2], "RW2")
    message = str(info.value)
    assert "oaps-open-data-dec-2016.csv" in message and "column 'Breakdown1Code'" in message
    assert "no sending provider 'RW2'" in message and "did you mean" in message


def test_an_oap_file_of_another_format(tmp_path):
    other = tmp_path / "oaps-open-data-jan-2017.csv"
    other.write_text('"Question","Org","value"\n"OAPs started in period","RW1","5"\n')
    with pytest.raises(DataError, match=r"row 1: not an NHS Digital OAP open-data file of a layout paysim reads"):
        read_oap_month(other, "RW1")
    nameless = tmp_path / "placements.csv"
    nameless.write_bytes(OAP_FILES[2].read_bytes())
    with pytest.raises(DataError, match="cannot tell which month"):
        read_oap_month(nameless, "RW1")


def test_the_same_month_twice():
    with pytest.raises(DataError, match="give each month once"):
        read_oap_return([OAP_FILES[0], OAP_FILES[0]], "RW1")


# --- the command on bad input: exit 2, a message, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["BAD", "--base", "default"], "did you mean 'crisis.referrals'"),
        (["SHORT", "--base", "default"], "a seasonal fit needs at least 12"),
        (["--oap-return", str(OAP_FILES[2]), "--provider", "XYZ9", "--base", "default"], "no sending provider"),
        (["--oap-return", "OTHER", "--provider", "RW1", "--base", "default"], "not an NHS Digital OAP open-data"),
        (["GOOD", "--base", "no-such-scenario"], "no such scenario file"),
        (["GOOD", "--base", "default", "--start", "2024/04"], "--start"),
        ([str(SAMPLE), "--oap-return", str(OAP_FILES[2]), "--provider", "RW1"], "not inside the monthly table"),
    ],
)
def test_the_command_refuses_bad_input(tmp_path, args, expected):
    files = {
        "BAD": wide(tmp_path / "bad.csv", **{"crisis.referals": [1] * 14}),
        "SHORT": wide(tmp_path / "short.csv", 8),
        "GOOD": wide(tmp_path / "good.csv"),
        "OTHER": write_csv(tmp_path / "oaps-open-data-jan-2017.csv", [["Question", "Org", "value"]]),
    }
    args = [str(files.get(a, a)) for a in args]
    out = tmp_path / "out.yaml"
    result = CliRunner().invoke(app, ["calibrate", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not list(tmp_path.glob("out*"))


def test_the_command_says_what_can_be_fitted_with_fewer_than_12_months(tmp_path):
    result = CliRunner().invoke(app, ["calibrate", str(wide(tmp_path / "s.csv", 8)), "--out", str(tmp_path / "o.yaml")])
    assert result.exit_code == 2
    assert "paysim can fit each line's referral rate and growth" in result.output
    assert "--no-seasonality" in result.output


def test_the_command_needs_out_and_a_yaml_suffix(tmp_path):
    result = CliRunner().invoke(app, ["calibrate", str(SAMPLE)])
    assert result.exit_code == 2 and "--out" in result.output
    result = CliRunner().invoke(app, ["calibrate", str(SAMPLE), "--out", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and ".yaml" in result.output
