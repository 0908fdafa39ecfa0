"""Reports: the workbook opens with openpyxl and holds the expected sheets; Parquet tables match."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from builders import small_trust
from openpyxl import load_workbook
from typer.testing import CliRunner

from paysim.cli import app
from paysim.model.scenario import load_scenario, scenario_from_dict
from paysim.model.terms import RULES

runner = CliRunner()


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    default = load_scenario("scenarios/default.yaml").model_dump(mode="json", exclude_none=True)
    services = small_trust(seed=4).model_dump(mode="json", exclude_none=True)["services"]
    uncertain = {
        "parameters": {
            "contracts.block.annual_value": [4e6, 6e6],
            "services.inpatient.los_days.mean": [28, 40],
        }
    }
    scenario = scenario_from_dict(
        {**default, "services": services, "years": 1, "warmup_days": 0, "uncertain": uncertain}
    )
    path = tmp_path_factory.mktemp("report") / "small.yaml"
    path.write_text(scenario.to_yaml(), encoding="utf-8")
    return path


def test_report_workbook_and_parquet_tables(small_file, tmp_path):
    out = tmp_path / "report.xlsx"
    args = [
        "report",
        str(small_file),
        "--reps",
        "4",
        "--tornado-reps",
        "2",
        "--out",
        str(out),
        "--tables",
        str(tmp_path),
    ]
    result = runner.invoke(app, [*args, "--change", "services.inpatient.beds=12"])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out, read_only=True)
    assert workbook.sheetnames == ["inputs", "summary", "cip", "risk", "tornado", "comparison", "saving_split"]
    summary = list(workbook["summary"].values)
    assert summary[0][0] == "rule" and [row[0] for row in summary[1:]] == list(RULES)
    tornado = list(workbook["tornado"].values)
    assert tornado[0][:4] == ("measure", "parameter", "low", "high")
    assert {row[1] for row in tornado[1:]} == {"contracts.block.annual_value", "services.inpatient.los_days.mean"}
    inputs = {row[0]: row[1] for row in workbook["inputs"].values}
    assert inputs["services.inpatient.beds"] == "10" and "uncertain.contracts.block.annual_value" in inputs
    saving = pq.read_table(tmp_path / "saving_split.parquet").to_pylist()
    for row in saving:
        assert row["provider"] + row["commissioner"] == pytest.approx(row["saving"], abs=1e-3)
    assert pq.read_table(tmp_path / "summary.parquet").num_rows == len(RULES)


def test_report_rejects_bad_input_before_running(small_file, tmp_path):
    bad = runner.invoke(app, ["report", str(small_file), "--out", str(tmp_path / "r.csv")])
    assert bad.exit_code == 2 and ".xlsx" in bad.stderr
    bad = runner.invoke(app, ["report", str(small_file), "--out", str(tmp_path / "r.xlsx"), "--measure", "block.x"])
    assert bad.exit_code == 2 and "--measure" in bad.stderr and not (tmp_path / "r.xlsx").exists()
    bad = runner.invoke(
        app, ["report", str(small_file), "--out", str(tmp_path / "r.xlsx"), "--change", "services.inpatient.bedz=3"]
    )
    assert bad.exit_code == 2 and "did you mean 'beds'" in bad.stderr
