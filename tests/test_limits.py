"""Scenario inputs inside physical limits: the fuzz cases that gave a traceback or ran on nonsense now stop with
exit status 2 and a message naming the key and its range; a run too large for the memory free stops before it
starts; long or odd file names give one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from builders import community_only, inpatient_only
from typer.testing import CliRunner

import paysim.runs.footprint
import paysim.runs.montecarlo
from paysim import app_support as ui
from paysim.analysis.compare import compare_scenarios
from paysim.cli import app
from paysim.model.limits import number, shown_name
from paysim.model.scenario import (
    MAX_VALUES,
    ScenarioError,
    bundled_scenarios,
    limits_table,
    load_scenario,
    parse_override,
    scenario_from_yaml,
)
from paysim.model.uncertainty import central, is_whole
from paysim.runs.batch import run_batch
from paysim.runs.footprint import available_memory, run_footprint
from paysim.runs.montecarlo import RunTooLarge, check_memory
from paysim.runs.runner import RunSettings, simulate

runner = CliRunner()
README = Path(__file__).resolve().parent.parent / "README.md"
LONG = "x" * 5000


def assert_refused(result, *phrases: str) -> None:
    """Exit status 2, a one-paragraph message with every phrase, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert result.stderr.startswith("paysim: ")


# --- the fuzz cases ------------------------------------------------------------------------------------

BEDS = "services.inpatient.beds: must be <= 5000 (a trust's adult acute beds; England has 6,660 in all)"
FUZZ = [
    ("services.inpatient.beds=1000000000000", [BEDS, "got 1000000000000"]),
    (f"services.inpatient.beds={2**70}", [BEDS, "got 1.18e21"]),
    ("services.inpatient.beds=1e12", [BEDS, "got 1e12"]),
    ("services.inpatient.beds=1e300", [BEDS, "got 1e300"]),
    ("services.inpatient.beds=.nan", ["services.inpatient.beds: must be a finite number, got nan"]),
    (
        "services.talking_therapies.referrals_per_year=.inf",
        ["services.talking_therapies.referrals_per_year: must be a finite number, got inf"],
    ),
    (
        "services.talking_therapies.referrals_per_year=1e12",
        ["services.talking_therapies.referrals_per_year: must be <= 2,000,000 (England's", "got 1e12"],
    ),
    ("services.inpatient.los_days.mean=.inf", ["services.inpatient.los_days.mean: must be a finite number, got inf"]),
    ("contracts.block.annual_value=.inf", ["contracts.block.annual_value: must be a finite number, got inf"]),
    (
        "services.inpatient.los_days={dist: lognormal, mean: 1e-300, sd: 1e300}",
        ["services.inpatient.los_days.sd: must be <= 73,000 (20 times the longest mean), got 1e300"],
    ),
    (
        "services.inpatient.los_days={dist: lognormal, mean: 1e-300, sd: 1e-299}",
        ["services.inpatient.los_days.mean: must be at least a minute (0.000694 days), got 1e-300"],
    ),
    (
        "services.inpatient.los_days={dist: gamma, mean: 2, sd: 100}",
        ["services.inpatient.los_days.sd: must be at most 20 x the mean (40 days), got 100"],
    ),
    (
        "services.community.growth=-0.9",
        ["services.community.growth: must be >= -0.5 (yearly changes from -50 % to +100 %", "got -0.9"],
    ),
    (
        "contracts.blended.outcomes.indicators=[{measure: inpatient.oap_bed_days, target: [3000, .inf]}]",
        ["contracts.blended.outcomes.indicators.0.target.1: must be a finite number, got inf"],
    ),
    (
        "contracts.mhis.allocation_growth=[0.05, .nan]",
        ["contracts.mhis.allocation_growth.1: must be a finite number, got nan"],
    ),
    (
        "uncertain.parameters={services.inpatient.los_days.mean: {dist: lognormal, mean: 1e-300, sd: 1e300}}",
        ["uncertain.parameters.services.inpatient.los_days.mean.sd: must be <= 1e11 (ten times the widest range"],
    ),
    (
        "uncertain.parameters={services.inpatient.los_days.mean: [30, .nan]}",
        ["uncertain.parameters.services.inpatient.los_days.mean.high: must be a finite number, got nan"],
    ),
]


@pytest.mark.parametrize(("setting", "phrases"), FUZZ, ids=[case[0][:60] for case in FUZZ])
def test_fuzz_cases_stop_with_the_key_and_its_range(setting, phrases, tmp_path):
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["run", "default", "--reps", "2", "--set", setting, "--out", str(out)])
    assert_refused(result, "default.yaml: ", *phrases)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_key_set_through_a_union_is_named_without_pydantic_tags():
    result = runner.invoke(app, ["validate", "default", "--set", "contracts.mhis.allocation_growth=abc"])
    assert_refused(result, "contracts.mhis.allocation_growth: must be a number, got 'abc'")
    assert "list[" not in result.stderr and "float" not in result.stderr


def test_fuzz_case_in_a_real_process(tmp_path):
    out = tmp_path / "out.csv"
    done = subprocess.run(
        [sys.executable, "-m", "paysim", "run", "default", "--set", f"services.inpatient.beds={2**70}", "--out", out],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert BEDS in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert not out.exists()


def test_numbers_with_an_exponent_are_numbers():
    assert parse_override("services.inpatient.beds=1e12") == ("services.inpatient.beds", 1e12)
    assert parse_override("contracts.block.annual_value=1.01e8") == ("contracts.block.annual_value", 1.01e8)
    assert parse_override("x=-2E-3") == ("x", -0.002)
    assert parse_override("name=1e") == ("name", "1e")


def test_numbers_are_shown_short():
    assert [number(v) for v in (5000, 0.5, 2_000_000, 1e12, 2**70, float("inf"), 1e-300, 9.5)] == [
        "5000",
        "0.5",
        "2,000,000",
        "1e12",
        "1.18e21",
        "inf",
        "1e-300",
        "9.5",
    ]
    assert number(2**63) == "9223372036854775808"


# --- long and odd arguments ----------------------------------------------------------------------------


def one_line(result, *phrases: str) -> None:
    assert_refused(result, *phrases)
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(result.stderr) < 300


def test_a_scenario_argument_over_the_name_limit_gives_one_line():
    one_line(runner.invoke(app, ["run", LONG]), "(5,000 characters): not a usable file name (File name too long)")
    one_line(runner.invoke(app, ["validate", LONG]), "not a usable file name")
    one_line(runner.invoke(app, ["compare", "default", LONG]), "not a usable file name")
    one_line(runner.invoke(app, ["validate", "a\x00b"]), "a\x00b: no such scenario file")


def test_a_scenario_argument_over_the_name_limit_in_a_real_process():
    done = subprocess.run([sys.executable, "-m", "paysim", "run", LONG], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a usable file name" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("option", ["--out", "--monthly"])
def test_an_output_name_over_the_limit_gives_one_line(option, tmp_path):
    for path in (tmp_path / f"{LONG}.csv", tmp_path / LONG / "results.csv"):
        result = runner.invoke(app, ["run", "default", "--reps", "2", option, str(path)])
        one_line(result, f"paysim: {option} ", "(File name too long)")
    assert list(tmp_path.iterdir()) == []


def test_report_tables_folder_over_the_limit_gives_one_line(tmp_path):
    result = runner.invoke(
        app, ["report", "default", "--out", str(tmp_path / "r.xlsx"), "--tables", str(tmp_path / LONG)]
    )
    one_line(result, "--tables ", "not a usable folder name (File name too long)")
    assert list(tmp_path.iterdir()) == []


def test_names_are_shortened_in_messages():
    assert shown_name("scenarios/default.yaml") == "scenarios/default.yaml"
    short = shown_name(LONG + ".csv")
    assert short.endswith("xxx.csv (5,004 characters)") and len(short) < 130


def test_a_file_larger_than_a_scenario_can_be_is_not_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(paysim.model.scenario, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n" + "# filler\n" * 200, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"big\.yaml: is larger than .* MiB; a scenario file is a few kilobytes"):
        load_scenario(path)
    if Path("/dev/zero").exists():  # a device that never ends: refused before anything is read
        with pytest.raises(ScenarioError, match="/dev/zero: is a device, not a scenario file"):
            load_scenario("/dev/zero")


def test_yaml_anchors_that_expand_to_billions_of_values_are_refused():
    levels = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = "name: lol\nyears: 1\n" + "\n".join(levels) + "\n"
    with pytest.raises(ScenarioError, match=f"lol.yaml: holds more than {MAX_VALUES:,} values"):
        scenario_from_yaml(text, source="lol.yaml")


# --- memory --------------------------------------------------------------------------------------------

FIXED_LOS = {"dist": "fixed", "mean": 5}


def test_footprint_worked_example_of_a_ward():
    """365 bed requests a year (flat, no readmissions), one year, no warm-up, 10 beds."""
    ward = inpatient_only(10, 365, FIXED_LOS)
    des = run_footprint(ward, reps=1, engine="des")
    assert des.total == pytest.approx(500 * 365)  # 500 bytes per bed request, one replication
    vector = run_footprint(ward, reps=4, engine="vector", rows=4)
    # 4 rows x 365 requests x 128 bytes, and a heap of 11 places x 8 bytes per row
    assert vector.total == pytest.approx(4 * 365 * 128 + 4 * 8 * 11)
    two = run_footprint(ward, reps=4, engine="vector", rows=2, processes=2, kept_per_replication=1000)
    assert two.total == pytest.approx(2 * (2 * 365 * 128 + 2 * 8 * 11) + 2 * 250 * 2**20 + 4 * 1000)
    assert [part.keys[0] for part in vector.parts] == [
        "services.inpatient.admissions_per_year",
        "services.inpatient.beds",
    ]


def test_footprint_worked_example_of_a_team(monkeypatch):
    """3,650 community referrals in a year (10 a day), 5 places."""
    team = community_only(3650, 5, FIXED_LOS)
    assert run_footprint(team, reps=1, engine="des").total == pytest.approx(500 * 3650)
    monkeypatch.setattr(paysim.runs.footprint._kernels, "numba_chosen", lambda: True)
    numba = run_footprint(team, reps=16, engine="vector", rows=16, threads=2)
    # 2 threads (16 rows // 8) x 3,650 referrals x 32 bytes; 16 heaps of 6 places x 8 bytes
    assert numba.total == pytest.approx(2 * 3650 * 32 + 16 * 6 * 8)
    monkeypatch.setattr(paysim.runs.footprint._kernels, "numba_chosen", lambda: False)
    numpy = run_footprint(team, reps=16, engine="vector", rows=16)
    # a window of at least 2,000,000 referrals x 100 bytes (16 rows x 7 days x 1.2 x 10 a day is fewer)
    assert numpy.total == pytest.approx(2_000_000 * 100 + 16 * 6 * 8)


def test_uncertain_keys_are_estimated_at_the_top_of_their_range():
    base = load_scenario(bundled_scenarios()["default"])
    tops = {key: base.uncertain.parameters[key].support()[1] for key in base.uncertain.names}
    tops = {key: round(value) if is_whole(base, key) else value for key, value in tops.items()}
    top = base.with_overrides(tops)  # every uncertain key pinned at the top of its range
    assert top.uncertain is None
    assert run_footprint(base, 1, "des").total == pytest.approx(run_footprint(top, 1, "des").total)
    assert run_footprint(base, 1, "des").total > run_footprint(central(base), 1, "des").total


def test_available_memory_is_what_the_system_says():
    free = available_memory()
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        pytest.skip("no /proc/meminfo")
    total = int(re.search(r"MemTotal:\s+(\d+)", meminfo.read_text()).group(1)) * 1024
    assert free is not None and 0 < free <= total


def test_check_memory_refuses_a_run_larger_than_the_memory_free(monkeypatch):
    ward = inpatient_only(10, 365, FIXED_LOS)
    monkeypatch.setattr(paysim.runs.footprint, "available_memory", lambda: 100_000)
    with pytest.raises(RunTooLarge) as info:
        check_memory(ward, 1, "des")
    message = str(info.value)
    assert message.startswith("inpatient-only: this run would need about 178 KiB of memory at its peak")
    assert "this machine has 97.7 KiB free" in message
    assert "the inpatient bed requests one replication of the SimPy model holds: about 365 over 365" in message
    assert "services.inpatient.admissions_per_year, services.inpatient.growth" in message
    assert "nothing was simulated" in message and "\n" not in message
    monkeypatch.setattr(paysim.runs.footprint, "available_memory", lambda: 200_000)
    assert check_memory(ward, 1, "des").total == pytest.approx(500 * 365 + 64)
    monkeypatch.setattr(paysim.runs.footprint, "available_memory", lambda: None)  # the system does not say
    check_memory(ward, 10**6, "des")


def test_check_memory_counts_the_processes_and_what_is_kept(monkeypatch):
    ward = inpatient_only(10, 365, FIXED_LOS)
    one = check_memory(ward, 4, "des", workers=1).total
    two = check_memory(ward, 4, "des", workers=2).total  # two replications at once, in two worker processes
    assert two == pytest.approx(2 * (one - 64 * 4) + 64 * 4 + 2 * 120 * 2**20)
    kept = check_memory(ward, 4, "des", keeps=1000).total
    assert kept == pytest.approx(one + 4 * 1000)


@pytest.fixture()
def no_memory(monkeypatch):
    """A machine with 1 MiB free; any simulation that starts fails the test."""
    monkeypatch.setattr(paysim.runs.footprint, "available_memory", lambda: 2**20)

    def simulated(*args, **kwargs):
        raise AssertionError("a chunk was simulated")

    monkeypatch.setattr(paysim.runs.montecarlo, "run_chunk", simulated)


def test_python_entry_points_stop_before_simulating(no_memory):
    team = community_only(365_000, 5, FIXED_LOS)
    with pytest.raises(RunTooLarge, match=r"services\.community\.referrals_per_year"):
        simulate(team, RunSettings(reps=2, engine="des"))
    with pytest.raises(RunTooLarge, match=r"nothing was simulated"):
        run_batch(team, 2, "des")
    with pytest.raises(RunTooLarge, match=r"this machine has 1\.0 MiB free"):
        ui.simulate(ui.activity_yaml(team), 0, 2, "des")


def test_compare_checks_both_scenarios_before_either_runs(monkeypatch):
    small = community_only(365, 5, FIXED_LOS)
    large = community_only(365_000, 5, FIXED_LOS)
    monkeypatch.setattr(paysim.runs.footprint, "available_memory", lambda: 10 * 2**20)  # the small one fits
    runs = []
    monkeypatch.setattr(paysim.runs.montecarlo, "run_chunk", lambda *args, **kwargs: runs.append(args))
    with pytest.raises(RunTooLarge):
        compare_scenarios(small, large, 2, engine="des")
    assert runs == []


CLI_RUNS = [
    ["run", "default", "--reps", "3", "--set", "years=1"],
    ["compare", "default", "--change", "services.inpatient.beds=210", "--reps", "3", "--set", "years=1"],
    ["sensitivity", "default", "--measure", "block.provider_surplus", "--reps", "2", "--set", "years=1"],
    ["design", "default", "--goal", "p-deficit", "--term", "contracts.block.annual_value", "--reps", "3"],
    ["report", "default", "--reps", "2", "--tornado-reps", "2", "--set", "years=1"],
]


@pytest.mark.parametrize("args", CLI_RUNS, ids=[args[0] for args in CLI_RUNS])
def test_every_command_stops_a_run_too_large_with_exit_status_2(args, no_memory, tmp_path):
    out = tmp_path / ("report.xlsx" if args[0] == "report" else "out.json")
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert_refused(result, "default: this run would need about", "this machine has 1.0 MiB free", "Lower")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_run_no_machine_can_hold_stops_in_a_real_process(tmp_path):
    """Every referral line at its plausible most, growing 100 % a year for ten years after a ten-year warm-up:
    billions of referrals a replication, terabytes for the SimPy model."""
    out = tmp_path / "out.csv"
    settings = ["years=10", "warmup_days=3650"]
    for line in ("talking_therapies", "community", "crisis"):
        settings += [f"services.{line}.referrals_per_year=2000000", f"services.{line}.growth=1"]
    command = [sys.executable, "-m", "paysim", "run", "default", "--engine", "des", "--reps", "2", "--out", out]
    for setting in settings:
        command += ["--set", setting]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "TiB of memory at its peak" in done.stderr
    assert "referrals_per_year" in done.stderr and "years and warmup_days drive it" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not out.exists()


# --- documentation -------------------------------------------------------------------------------------


def test_readme_lists_every_limit():
    table = limits_table()
    assert "| `services.inpatient.beds` | 0 to 5000 (whole) | a trust's adult acute beds" in table
    assert table in README.read_text(encoding="utf-8"), "README: paste paysim.model.scenario.limits_table() in"


def test_every_bundled_scenario_and_test_scenario_is_inside_the_limits():
    folder = Path(__file__).resolve().parent / "data"
    for path in [*bundled_scenarios().values(), *folder.glob("*.yaml")]:
        load_scenario(path)
