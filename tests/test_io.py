"""Result tables, summaries and atomic writers, on hand-made Activity records."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paysim.activity import EXTRA_INPATIENT, Activity, measure_kinds
from paysim.runs.io import (
    OutputError,
    atomic_path,
    check_output_path,
    describe,
    monthly_table,
    public_measures,
    results_table,
    summary,
    write_json,
    write_table,
)


def ward_activity(reps: int = 3, months: int = 12) -> Activity:
    """An inpatient-only Activity whose monthly values are known: value = 10 x replication + month."""
    kinds = measure_kinds([], inpatient=True)
    grid = 10.0 * np.arange(reps)[:, None] + np.arange(months)[None, :]
    monthly = {name: grid.copy() for name in kinds}
    monthly["inpatient.occupancy_mean"] = np.full((reps, months), 0.5)
    return Activity(monthly, kinds, np.arange(reps), start_month=4, engine="des")


def test_results_table_columns_and_totals():
    activity = ward_activity()
    table = results_table(activity)
    public = list(measure_kinds([], inpatient=True, public_only=True))
    assert table.column_names == ["replication", *public]
    assert public_measures(activity) == public
    assert table.column("replication").to_pylist() == [0, 1, 2]
    # counts sum the months: 10 r x 12 + (0 + ... + 11) = 120 r + 66
    assert table.column("inpatient.bed_requests").to_pylist() == [66.0, 186.0, 306.0]
    # stocks are excluded from the public table; means are time-weighted
    assert table.column("inpatient.occupancy_mean").to_pylist() == pytest.approx([0.5, 0.5, 0.5])


def test_money_columns_come_last_and_are_checked():
    activity = ward_activity()
    income = np.array([1e6, 2e6, 3e6])
    table = results_table(activity, {"block.provider_income": income})
    assert table.column_names[-1] == "block.provider_income"
    assert table.column("block.provider_income").to_pylist() == [1e6, 2e6, 3e6]
    with pytest.raises(ValueError, match="shape"):
        results_table(activity, {"block.provider_income": income[:2]})
    with pytest.raises(ValueError, match="clashes"):
        results_table(activity, {"inpatient.bed_requests": income})


def test_monthly_table_is_long_by_replication_then_month():
    activity = ward_activity(reps=2, months=13)
    table = monthly_table(activity)
    assert table.num_rows == 26
    assert table.column_names[:3] == ["replication", "month", "label"]
    assert table.column_names[3:] == [*public_measures(activity), *EXTRA_INPATIENT]
    assert table.column("replication").to_pylist() == [0] * 13 + [1] * 13
    assert table.column("month").to_pylist()[11:15] == [11, 12, 0, 1]
    assert table.column("label").to_pylist()[:2] == ["Y1 Apr", "Y1 May"]
    assert table.column("label").to_pylist()[12] == "Y2 Apr"
    assert table.column("inpatient.bed_requests").to_pylist()[13] == 10.0


def test_summary_statistics():
    values = np.arange(1.0, 101.0)  # 1 .. 100
    table = pa.table({"replication": np.arange(100), "x": values})
    stats = summary(table)
    assert list(stats) == ["x"]
    x = stats["x"]
    assert x["n"] == 100
    assert x["mean"] == pytest.approx(50.5)
    assert x["sd"] == pytest.approx(np.std(values, ddof=1))
    assert x["se"] == pytest.approx(x["sd"] / 10)
    assert (x["p5"], x["p50"], x["p95"]) == pytest.approx((5.95, 50.5, 95.05))
    assert x["p25"] <= x["p50"] <= x["p75"]


def test_summary_ignores_nan_and_leaves_undefined_as_none():
    stats = describe(np.array([np.nan, 4.0, np.nan]))
    assert stats["n"] == 1
    assert stats["mean"] == 4.0
    assert stats["sd"] is None and stats["se"] is None
    empty = describe(np.array([np.nan]))
    assert empty["n"] == 0 and empty["mean"] is None


def test_write_json_is_strict_json(tmp_path):
    path = write_json({"a": {"mean": float("nan"), "n": np.int64(3), "xs": np.array([1.5])}}, tmp_path / "s.json")
    assert json.loads(path.read_text()) == {"a": {"mean": None, "n": 3, "xs": [1.5]}}


def test_parquet_keeps_table_metadata(tmp_path):
    table = pa.table({"replication": [0]}).replace_schema_metadata({"paysim.seed": "7"})
    write_table(table, tmp_path / "t.parquet")
    assert pq.read_metadata(tmp_path / "t.parquet").metadata[b"paysim.seed"] == b"7"


def test_unknown_table_suffix_is_refused(tmp_path):
    with pytest.raises(OutputError, match=r"use \.csv or \.parquet"):
        write_table(pa.table({"a": [1]}), tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "phrase"),
    [("r.txt", "cannot write a .txt file"), ("r", "suffix-less"), ("missing/r.csv", "does not exist")],
)
def test_check_output_path(tmp_path, name, phrase):
    with pytest.raises(OutputError, match=phrase):
        check_output_path(tmp_path / name, (".csv", ".parquet"))
    assert check_output_path(tmp_path / "R.CSV", (".csv",)) == tmp_path / "R.CSV"


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_a_write_replaces_the_file_whole(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("old\n")
    write_table(pa.table({"a": [1, 2]}), target)
    assert target.read_text().splitlines() == ['"a"', "1", "2"]
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o644)])
def test_files_get_0644_less_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        write_json({}, tmp_path / "s.json")
        write_table(pa.table({"a": [1]}), tmp_path / "t.parquet")
    finally:
        os.umask(previous)
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == mode
    assert (tmp_path / "t.parquet").stat().st_mode & 0o777 == mode
