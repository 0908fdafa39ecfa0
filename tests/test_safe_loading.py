"""Safe loading (issue 19, item 1): hostile YAML stops with a one-line message before anything is built, keys given
twice are errors, only regular files are read, types are strict, and the app's upload takes the same loader."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import inpatient_only
from typer.testing import CliRunner

from paysim import app_support as ui
from paysim.cli import app
from paysim.model.scenario import (
    MAX_VALUES,
    ScenarioError,
    load_scenario,
    parse_override,
    scenario_from_bytes,
    scenario_from_yaml,
)

runner = CliRunner()

LOS = {"dist": "exponential", "mean": 20}
SMALL = inpatient_only(beds=10, admissions_per_year=100, los=LOS).to_yaml()
"""A valid scenario's YAML (a ward alone) that the tests below change one thing in."""

LAUGHS = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
)
"""A "billion laughs": under 1 KB, 9**10 (3.5 billion) values once its anchors are expanded."""


def refused(text: str, *phrases: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_yaml(text, source="f.yaml")
    message = str(caught.value)
    for phrase in phrases:
        assert phrase in message, message
    return message


# --- keys given twice ----------------------------------------------------------------------------------


def test_a_key_given_twice_is_named_with_both_lines():
    text = SMALL.replace("name: inpatient-only\n", "name: inpatient-only\nname: other\n")
    first = text.splitlines().index("name: inpatient-only") + 1
    assert (
        refused(text)
        == f"f.yaml: name: is given twice in one mapping (lines {first} and {first + 1}); give each key once"
    )


def test_a_nested_key_given_twice_is_named_by_its_dotted_key():
    text = SMALL.replace("    beds: 10\n", "    beds: 10\n    beds: 12\n")
    assert "    beds: 12\n" in text
    refused(text, "f.yaml: services.inpatient.beds: is given twice in one mapping")


def test_keys_that_yaml_reads_as_the_same_value_are_the_same_key():
    # 1 and 0x1 are one integer key once built; the mapping would keep one of them silently
    refused("name: x\nyears: 1\nservices: {}\nmonths: {1: a, 0x1: b}\n", "f.yaml: months.1: is given twice")


def test_a_merge_key_may_repeat_keys_it_brings_in():
    # YAML's merge (<<) lets a mapping override what it brings in: that is not a key given twice
    text = "base: &base {dist: exponential, mean: 20}\n" + SMALL
    text = text.replace("los_days:\n", "los_days:\n      <<: *base\n", 1)
    with pytest.raises(ScenarioError) as caught:  # refused, but for the unknown key `base`, not a key given twice
        scenario_from_yaml(text, source="f.yaml")
    assert "given twice" not in str(caught.value) and "base: unknown key" in str(caught.value)


def test_a_key_given_twice_in_a_set_value_is_named_under_the_set_key():
    with pytest.raises(ScenarioError, match=r"services\.inpatient\.los_days\.mean: is given twice"):
        parse_override("services.inpatient.los_days={dist: exponential, mean: 20, mean: 30}")


def test_a_key_given_twice_on_the_command_line_stops_the_run(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text(SMALL.replace("    beds: 10\n", "    beds: 10\n    beds: 12\n"), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["run", str(path), "--reps", "2", "--out", str(out)])
    assert result.exit_code == 2 and "services.inpatient.beds: is given twice in one mapping" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


# --- anchors -------------------------------------------------------------------------------------------


def test_a_billion_laughs_file_is_refused_at_once(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    assert path.stat().st_size < 1024
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match=rf"laughs\.yaml: holds more than {MAX_VALUES:,} values once its YAML"):
        load_scenario(path)
    assert time.perf_counter() - start < 5  # a bound for a slow machine; it takes milliseconds


def test_a_billion_laughs_in_a_set_value_is_refused_with_a_short_message():
    value = "{" + ", ".join(LAUGHS.splitlines()) + "}"
    result = runner.invoke(app, ["validate", "default", "--set", f"services.inpatient.beds={value}"])
    assert result.exit_code == 2, result.output
    assert "holds more than 100,000 values once its YAML anchors are expanded" in result.stderr
    assert len(result.stderr) < 600  # the value is shown cut short, not expanded


def test_an_anchor_used_inside_itself_is_refused():
    refused("a: &a [1, *a]\n", "f.yaml: a.1: an anchor is used inside itself (line 1)")


def test_anchors_that_repeat_a_small_value_still_load():
    text = "los: &los {dist: exponential, mean: 20}\n" + SMALL
    refused(text, "los: unknown key")  # the anchors resolve; the only complaint is the extra top-level key


def test_an_upload_takes_the_same_loader():
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"^up\.yaml: holds more than"):
        ui.read_upload("up.yaml", LAUGHS.encode())
    assert time.perf_counter() - start < 5
    with pytest.raises(ScenarioError, match=r"^up\.yaml: name: is given twice"):
        ui.read_upload("up.yaml", ("name: a\n" + SMALL).encode())
    with pytest.raises(ScenarioError, match=r"services\.inpatient\.beds: must be a whole number \(true and false"):
        ui.read_upload("up.yaml", SMALL.replace("beds: 10", "beds: true").encode())
    with pytest.raises(ScenarioError, match=r"\(5,000 characters\): is not a text file"):
        ui.read_upload("x" * 4995 + ".yaml", b"\xff\xfe\x00")
    assert ui.read_upload("up.yaml", ("\ufeff" + SMALL).encode()).services.inpatient.beds == 10  # a BOM is fine


def test_an_upload_larger_than_a_scenario_can_be_is_refused(monkeypatch):
    monkeypatch.setattr("paysim.model.scenario.MAX_FILE_BYTES", 1000)
    with pytest.raises(ScenarioError, match=r"^big\.yaml: is larger than"):
        scenario_from_bytes(SMALL.encode() + b"#" * 1000, source="big.yaml")
    with pytest.raises(ScenarioError, match=r"^big\.yaml: is larger than"):
        scenario_from_yaml(SMALL + "#" * 1000, source="big.yaml")


# --- files that are not files ----------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "paysim", "validate", str(fifo)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"paysim: {fifo}: is a named pipe, not a scenario file (only a regular file is read)"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_refused_before_anything_is_read():
    result = runner.invoke(app, ["validate", "/dev/zero"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "paysim: /dev/zero: is a device, not a scenario file (only a regular file is read)"


def test_a_folder_and_an_over_long_name_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="is a directory, not a scenario file"):
        load_scenario(tmp_path)
    with pytest.raises(ScenarioError, match=r"characters\): cannot be read \(File name too long\)"):
        load_scenario(tmp_path / ("x" * 5000 + ".yaml"))


# --- strict types ---------------------------------------------------------------------------------------

B, M, R = "services.inpatient.beds: ", "services.inpatient.los_days.mean: ", "services.inpatient.oap.repatriate: "
NOT_BOOL = "(true and false are not numbers)"
STRICT = [
    ("    beds: 10\n", "    beds: true\n", f"{B}must be a whole number {NOT_BOOL}, got true"),
    ("    beds: 10\n", "    beds: '10'\n", f"{B}must be a whole number, written without quotes, got '10'"),
    ("    beds: 10\n", "    beds: 10.0\n", f"{B}must be a whole number, written without a decimal point, got 10"),
    ("    beds: 10\n", "    beds: 10.5\n", f"{B}must be a whole number, got 10.5"),
    ("    beds: 10\n", "    beds: 1.0e+12\n", f"{B}must be <= 5000 (a trust's adult acute beds"),
    ("      mean: 20.0\n", "      mean: false\n", f"{M}must be a number {NOT_BOOL}, got false"),
    ("      mean: 20.0\n", "      mean: '20'\n", f"{M}must be a number, written without quotes, got '20'"),
    ("repatriate: true", "repatriate: 1", f"{R}must be true or false, got 1"),
    ("repatriate: true", "repatriate: 'yes'", f"{R}must be true or false, written without quotes, got 'yes'"),
    ("years: 1\n", "years: 'one'\n", "years: must be a whole number, got 'one'"),
]


@pytest.mark.parametrize(("old", "new", "message"), STRICT, ids=[case[1].strip() for case in STRICT])
def test_a_value_of_the_wrong_type_is_refused_not_converted(old, new, message):
    assert old in SMALL
    refused(SMALL.replace(old, new, 1), f"f.yaml: {message}")


def test_a_whole_number_is_a_number():
    text = SMALL.replace("      mean: 20.0\n", "      mean: 21\n", 1)
    assert scenario_from_yaml(text).services.inpatient.los_days.mean == 21.0


def test_strict_types_hold_on_the_command_line_too():
    result = runner.invoke(app, ["validate", "default", "--set", "services.inpatient.beds=true"])
    assert result.exit_code == 2
    assert "services.inpatient.beds: must be a whole number (true and false are not numbers), got true" in (
        result.stderr
    )
    result = runner.invoke(app, ["validate", "default", "--set", "services.inpatient.beds='40'"])
    assert result.exit_code == 2 and "written without quotes, got '40'" in result.stderr


# --- correlations given twice -------------------------------------------------------------------------------


def _correlated(pairs: list[tuple[str, str, float]]) -> str:
    lines = [
        "uncertain:",
        "  parameters:",
        "    services.inpatient.beds: [9, 11]",
        "    services.inpatient.los_days.mean: [18, 22]",
        "  correlations:",
    ]
    lines += [f"  - {{between: [{a}, {b}], rho: {rho}}}" for a, b, rho in pairs]
    return SMALL + "\n".join(lines) + "\n"


def test_a_pair_correlated_twice_is_an_error():
    beds, los = "services.inpatient.beds", "services.inpatient.los_days.mean"
    refused(
        _correlated([(beds, los, 0.5), (los, beds, -0.5)]), f"{los} and {beds} are correlated twice (rho 0.5 and -0.5)"
    )
    refused(
        _correlated([(beds, los, 0.5), (beds, los, 0.5)]), "are correlated twice (both rho 0.5); give each pair once"
    )
    assert len(scenario_from_yaml(_correlated([(beds, los, 0.5)])).uncertain.correlations) == 1


def test_a_name_of_megabytes_is_refused_with_a_short_message():
    text = SMALL.replace("name: inpatient-only", "name: " + "n" * 5_000_000)
    message = refused(text, "f.yaml: name: must be at most 200 characters, got 'nnn", "(5,000,000 characters)")
    assert len(message) < 300
    refused(SMALL.replace("description: ''", "description: " + "d" * 10_001), "must be at most 10,000 characters")
