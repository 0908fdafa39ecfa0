"""The ``paysim`` command line: run, validate, schema; bad input; the files it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from builders import small_trust
from typer.testing import CliRunner

from paysim.activity import measure_kinds
from paysim.cli import app
from paysim.model.scenario import LINES
from paysim.runs.io import STATISTICS

PUBLIC = list(measure_kinds(LINES, inpatient=True, public_only=True))
"""Public measures of a scenario with every line and beds (as small_trust has)."""

runner = CliRunner()


@pytest.fixture()
def scenario_file(tmp_path: Path) -> Path:
    """A small one-year scenario with every line and beds, written as YAML."""
    path = tmp_path / "small.yaml"
    path.write_text(small_trust(seed=5).to_yaml(), encoding="utf-8")
    return path


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def assert_bad_input(result, *phrases: str) -> None:
    """Exit status 2, each phrase in the message on stderr, and no traceback anywhere."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for phrase in phrases:
        assert phrase in result.stderr
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr


# --- run ----------------------------------------------------------------------------------------------


def test_run_writes_csv_with_the_public_columns(scenario_file, tmp_path):
    out = tmp_path / "results.csv"
    result = invoke("run", scenario_file, "--reps", "3", "--out", out)
    assert result.exit_code == 0, result.output
    table = pacsv.read_csv(out)
    assert table.column_names == ["replication", *PUBLIC]
    assert table.column("replication").to_pylist() == [0, 1, 2]
    assert "oap_bed_days" in result.stdout
    assert "% of beds" in result.stdout


def test_run_writes_parquet_with_run_metadata(scenario_file, tmp_path):
    out = tmp_path / "results.parquet"
    result = invoke("run", scenario_file, "--reps", "2", "--seed", "99", "--out", out)
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).column_names == ["replication", *PUBLIC]
    meta = {k.decode(): v.decode() for k, v in pq.read_metadata(out).metadata.items()}
    assert meta["paysim.model.scenario"] == "small-trust"
    assert meta["paysim.seed"] == "99"
    assert meta["paysim.engine"] == "des"
    assert meta["paysim.replications"] == "2"
    assert meta["paysim.version"]
    assert "seed: 99" in meta["paysim.scenario_yaml"]


def test_csv_and_parquet_hold_the_same_numbers(scenario_file, tmp_path):
    invoke("run", scenario_file, "--reps", "2", "--out", tmp_path / "a.csv")
    invoke("run", scenario_file, "--reps", "2", "--out", tmp_path / "a.parquet")
    parquet = pq.read_table(tmp_path / "a.parquet").replace_schema_metadata()
    types = pacsv.ConvertOptions(column_types=parquet.schema)
    assert pacsv.read_csv(tmp_path / "a.csv", convert_options=types).equals(parquet)


def test_seed_option_changes_the_results(scenario_file, tmp_path):
    invoke("run", scenario_file, "--reps", "2", "--out", tmp_path / "a.csv")
    invoke("run", scenario_file, "--reps", "2", "--seed", "6", "--out", tmp_path / "b.csv")
    invoke("run", scenario_file, "--reps", "2", "--set", "seed=6", "--out", tmp_path / "c.csv")
    a, b, c = (pacsv.read_csv(tmp_path / f"{x}.csv") for x in "abc")
    assert not a.equals(b)
    assert b.equals(c)


def test_run_writes_a_json_summary(scenario_file, tmp_path):
    out = tmp_path / "summary.json"
    result = invoke("run", scenario_file, "--reps", "3", "--out", out)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert list(data) == PUBLIC
    assert all(list(stats) == list(STATISTICS) for stats in data.values())
    assert data["inpatient.bed_requests"]["n"] == 3
    assert data["inpatient.bed_requests"]["p5"] <= data["inpatient.bed_requests"]["mean"]


def test_run_writes_monthly_detail(scenario_file, tmp_path):
    out = tmp_path / "monthly.parquet"
    result = invoke("run", scenario_file, "--reps", "2", "--monthly", out, "--set", "years=2")
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 2 * 24
    assert table.column_names[:3] == ["replication", "month", "label"]
    assert set(PUBLIC) < set(table.column_names)
    assert "inpatient.discharges" in table.column_names
    assert table.column("label").to_pylist()[:2] == ["Y1 Apr", "Y1 May"]
    assert table.column("month").to_pylist()[23:25] == [23, 0]


def test_written_files_are_complete_and_readable_by_others(scenario_file, tmp_path):
    previous = os.umask(0o022)
    try:
        result = invoke(
            "run", scenario_file, "--reps", "2", "--out", tmp_path / "r.csv", "--monthly", tmp_path / "m.csv"
        )
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv", "r.csv", "small.yaml"]  # no temporary files
    for name in ("r.csv", "m.csv"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644


def test_run_accepts_a_bundled_scenario_name(tmp_path):
    out = tmp_path / "r.csv"
    result = invoke("run", "default", "--reps", "1", "--set", "years=1", "--set", "warmup_days=0", "--out", out)
    assert result.exit_code == 0, result.output
    assert pacsv.read_csv(out).num_rows == 1


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "phrases"),
    [
        (["--set", "services.inpatient.beds=-5"], ["small.yaml", "services.inpatient.beds: must be >= 0, got -5"]),
        (["--set", "services.inpatient.bed=5"], ["services.inpatient.bed: unknown key; did you mean 'beds'?"]),
        (["--set", "services.inpatient.beds"], ["--set 'services.inpatient.beds': expected KEY=VALUE"]),
        (["--set", "name.first=x"], ["name is a value, not a mapping of keys"]),
        (["--set", "years=2001-13-01"], ["small.yaml", "month must be in 1..12"]),
        (["--seed", "-1"], ["seed: must be >= 0, got -1"]),
        (["--reps", "0"], ["--reps: must be >= 1, got 0"]),
        (["--workers", "0"], ["--workers: must be >= 1, got 0"]),
        (["--engine", "warp"], ["unknown engine", "des"]),
        (["--out", "{tmp}/results.xlsx"], ["--out", "results.xlsx", "use one of .csv, .parquet, .json"]),
        (["--out", "{tmp}/results"], ["suffix-less"]),
        (["--monthly", "{tmp}/monthly.json"], ["--monthly", "use one of .csv, .parquet"]),
        (["--out", "{tmp}/no/such/folder/results.csv"], ["folder", "does not exist"]),
    ],
)
def test_bad_run_input_exits_2_and_writes_nothing(scenario_file, tmp_path, args, phrases):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out.csv")]
    if "--monthly" not in args:
        args += ["--monthly", str(tmp_path / "monthly.csv")]
    result = invoke("run", scenario_file, *args)
    assert_bad_input(result, *phrases)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def test_a_broken_file_exits_2_naming_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nyears: [1\n", encoding="utf-8")
    result = invoke("run", path, "--out", tmp_path / "r.csv")
    assert_bad_input(result, str(path), "is not valid YAML at line")
    assert not (tmp_path / "r.csv").exists()


def test_a_missing_file_exits_2_and_lists_bundled_scenarios(tmp_path):
    result = invoke("run", tmp_path / "nope.yaml")
    assert_bad_input(result, "nope.yaml: no such scenario file", "default")


# --- validate and schema ------------------------------------------------------------------------------


def test_validate_ok_describes_the_scenario(scenario_file):
    result = invoke("validate", scenario_file)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {scenario_file}")
    assert "name: small-trust" in result.stdout
    assert "inpatient: 10 beds" in result.stdout


def test_validate_applies_set(scenario_file):
    result = invoke("validate", scenario_file, "--set", "services.inpatient.beds=12")
    assert result.exit_code == 0, result.output
    assert "inpatient: 12 beds" in result.stdout


def test_validate_error_names_the_key(scenario_file):
    result = invoke("validate", scenario_file, "--set", "services.inpatient.beds=-5")
    assert_bad_input(result, str(scenario_file), "services.inpatient.beds: must be >= 0, got -5")
    assert "ok" not in result.stdout


def test_validate_bundled_scenarios():
    for name in ("default", "oap-pressure", "growth"):
        result = invoke("validate", name)
        assert result.exit_code == 0, result.output
        assert f"name: {name}" in result.stdout


def test_schema_is_json_with_services():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "services" in schema["properties"]


def test_no_arguments_shows_help():
    result = invoke()
    assert "run" in result.output and "validate" in result.output and "schema" in result.output


# --- a real process -----------------------------------------------------------------------------------


def test_python_m_paysim_runs_in_a_real_process(scenario_file, tmp_path):
    out = tmp_path / "results.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "paysim", "run", str(scenario_file), "--reps", "3", "--workers", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out)
    assert table.column_names == ["replication", *PUBLIC]
    serial = tmp_path / "serial.parquet"
    assert invoke("run", scenario_file, "--reps", "3", "--out", serial).exit_code == 0
    assert table.equals(pq.read_table(serial))  # two worker processes give the same table as one


def test_console_script_bad_input_in_a_real_process(scenario_file, tmp_path):
    script = Path(sys.executable).parent / "paysim"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "paysim"]
    out = tmp_path / "results.csv"
    done = subprocess.run(
        [*command, "run", str(scenario_file), "--set", "services.inpatient.beds=-5", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "services.inpatient.beds: must be >= 0, got -5" in done.stderr
    assert str(scenario_file) in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not out.exists()
