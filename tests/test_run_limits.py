"""Run limits checked up front (issue 19, item 2): --reps and --workers within stated maxima, output files tried
where they will be written, --engine auto saying what it chose, large runs announced, one horizon to compare."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import pytest
from builders import inpatient_only
from typer.testing import CliRunner

from paysim.analysis.compare import check_comparable
from paysim.cli import app
from paysim.runs import footprint
from paysim.runs.montecarlo import MAX_REPS, RunError, available_cores

runner = CliRunner()
CLI = importlib.import_module("paysim.cli.app")  # the module (paysim.cli.app as an attribute is the Typer app)

WARD = inpatient_only(beds=10, admissions_per_year=100, los={"dist": "exponential", "mean": 20})


@pytest.fixture
def ward(tmp_path) -> Path:
    path = tmp_path / "ward.yaml"
    path.write_text(WARD.to_yaml(), encoding="utf-8")
    return path


def refused(args: list[str], message: str) -> None:
    start = time.perf_counter()
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"paysim: {message}", result.stderr
    assert time.perf_counter() - start < 30  # refused before anything is simulated


# --- --reps and --workers -----------------------------------------------------------------------------------


def test_reps_above_the_maximum_are_refused_at_once(tmp_path):
    out = tmp_path / "out.csv"
    for reps, shown in ((MAX_REPS + 1, "1,000,001"), (10**19, "1e19")):
        refused(
            ["run", "default", "--reps", str(reps), "--out", str(out)],
            f"--reps: must be <= 1,000,000 (a million replications estimate a mean to a thousandth of its spread), "
            f"got {shown}",
        )
    refused(["realism", "default", "--reps", str(10**19)], "--reps: must be <= 1,000,000 (a million replications "
            "estimate a mean to a thousandth of its spread), got 1e19")  # fmt: skip
    assert not out.exists()


def test_workers_are_at_most_the_cores_available(monkeypatch, ward):
    monkeypatch.setattr(CLI, "available_cores", lambda: 2)
    message = (
        "--workers: must be <= 2, the cores paysim may use on this machine (more worker processes than cores run no "
        "faster, and each holds 120-250 MiB), got 3"
    )
    for command in (["run", str(ward)], ["compare", str(ward), "--change", "seed=2"], ["realism", str(ward)]):
        refused([*command, "--reps", "4", "--workers", "3"], message)
    refused(["run", str(ward), "--workers", "3", "--scheduler", "local"], message)


def test_a_remote_cluster_may_have_more_workers_than_this_machine_has_cores(monkeypatch, ward):
    monkeypatch.setattr(CLI, "available_cores", lambda: 2)
    refused(
        ["run", str(ward), "--workers", "5000", "--scheduler", "tcp://127.0.0.1:1"],
        "--workers: must be <= 4,096 with a remote scheduler, got 5000",
    )


def test_available_cores_is_what_this_process_may_use():
    cores = available_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert cores == len(os.sched_getaffinity(0))


# --- output files -------------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_an_output_file_that_cannot_be_created_is_refused_before_simulating(ward):
    for option in ("--out", "--monthly"):
        refused(
            ["run", str(ward), option, "/proc/x.csv"],
            f"{option} /proc/x.csv: cannot be written there (No such file or directory)",
        )


def test_an_output_that_is_not_a_regular_file_is_refused(ward, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes are a POSIX feature")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    refused(
        ["run", str(ward), "--out", str(fifo)],
        f"--out {fifo}: is not a regular file (a device or a pipe); paysim replaces a file whole",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.csv", "ward.yaml"]  # the probe left nothing behind


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root may write any file")
def test_an_existing_read_only_output_is_refused(ward, tmp_path):
    out = tmp_path / "old.csv"
    out.write_text("old\n")
    out.chmod(0o444)
    refused(["run", str(ward), "--out", str(out)], f"--out {out}: is not writable")


def test_a_long_output_name_within_the_system_limit_is_written(ward, tmp_path):
    out = tmp_path / ("r" * 245 + ".csv")  # 249 characters: the temporary file's name must still fit
    result = runner.invoke(app, ["run", str(ward), "--reps", "6", "--engine", "vector", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "ward.yaml"])


# --- what the run will be -------------------------------------------------------------------------------------


def test_engine_auto_says_which_engine_it_chose_and_why(ward):
    result = runner.invoke(app, ["run", str(ward), "--reps", "2"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        "paysim: --engine auto chose the SimPy reference model (des) for 2 replications, as auto does for up to 5; "
        "--engine vector gives the same results far faster"
    )
    result = runner.invoke(app, ["run", str(ward), "--reps", "6"])
    assert "paysim: --engine auto chose the vector engine for 6 replications, as auto does above 5" in result.stderr
    result = runner.invoke(app, ["run", str(ward), "--reps", "2", "--engine", "des"])
    assert "--engine auto" not in result.stderr


def test_a_large_run_is_announced_with_its_memory_and_time(ward, monkeypatch):
    monkeypatch.setattr(CLI, "LARGE_RUN_SECONDS", 0.0)
    result = runner.invoke(app, ["run", str(ward), "--reps", "6", "--engine", "vector"])
    assert result.exit_code == 0, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("paysim: a large run: about ") and " of memory at its peak and roughly " in line
    assert line.endswith(
        "on vector (a guide from the development machine's speed); Ctrl-C stops it with nothing written"
    )
    monkeypatch.setattr(CLI, "LARGE_RUN_SECONDS", 1e9)
    result = runner.invoke(app, ["run", str(ward), "--reps", "6", "--engine", "vector"])
    assert "a large run" not in result.stderr


def test_the_time_estimate_scales_with_people_replications_and_processes():
    people = sum(footprint.expected_people(WARD).values())
    one = footprint.run_seconds(WARD, 10, "des")
    assert one == pytest.approx(people * 10 * footprint.SECONDS_PER_PERSON["des"])
    assert footprint.run_seconds(WARD, 20, "des", processes=2) == pytest.approx(one)
    assert footprint.run_seconds(WARD, 40, "des") == pytest.approx(4 * one)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.2, "1 s"), (7.4, "7 s"), (44, "40 s"), (89, "90 s"), (600, "10 min"), (7200, "2.0 h"), (3e6, "35 days")],
)
def test_durations_are_rounded_as_estimates(seconds, text):
    assert footprint.duration(seconds) == text


# --- comparisons --------------------------------------------------------------------------------------------


def test_scenarios_of_different_horizons_are_not_compared(ward):
    refused(
        ["compare", str(ward), "--change", "years=2", "--reps", "4"],
        f"{ward} runs 1 years from month 4 and {ward} with --change 2 years from month 4: a paired comparison needs "
        "one horizon (give both the same years and start_month)",
    )
    with pytest.raises(RunError, match="from month 4 and OTHER 1 years from month 1"):
        check_comparable(WARD, WARD.with_overrides({"start_month": 1}))


def test_a_missing_folder_is_named_once(ward, tmp_path):
    missing = tmp_path / "nofolder"
    message = f"--out {missing}/x.csv: the folder {missing} does not exist"
    refused(["run", str(ward), "--out", str(missing / "x.csv")], message)
