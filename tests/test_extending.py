"""Extending paysim as the README's *Extending paysim* says: a toy payment rule in two files (its terms, its money),
installed as a plugin (two entry points), runs end to end without editing any file of paysim.

The plugin is a folder on ``PYTHONPATH`` with the two modules and a ``dist-info`` naming their entry points (what
``pip install`` of a package declaring them leaves); ``paysim run`` then prices the toy contract beside the
scenario's own, its results columns and money table include it, and the app labels and colours it.

Worked example (README): a toy contract of £1,200,000 a year pays £100,000 a month; over the default trust's 3
years that is £3,600,000, and its surplus is that less the provider's cost, the same cost every rule sees.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from paysim.model.scenario import ScenarioError, load_scenario
from paysim.model.terms import CONTRACT_RULES_GROUP, RULES
from paysim.money.payment import PAYMENT_RULES_GROUP

ROOT = Path(__file__).parents[1]

TERMS = '''
from pydantic import BaseModel, ConfigDict, Field

from paysim.model.terms import ContractRule


class ToyTerms(BaseModel):
    """A flat fee, paid in twelfths."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    annual_value: float = Field(ge=0, le=1e10, description="GBP a year, paid in twelfths")


TERMS = ContractRule("toy", ToyTerms, "a flat fee (a toy rule)", design_terms=("annual_value",))
'''

MONEY = """
import numpy as np

from paysim.money.payment import Payment, PaymentRule, PricedActivity


def pay(terms, priced: PricedActivity) -> Payment:
    replications, months = priced.shape
    income = np.full((replications, months), terms.annual_value / 12)  # twelfths, GBP per month
    return Payment({"toy": income}, np.full((replications, months // 12), terms.annual_value))  # GBP a year


RULE = PaymentRule("toy", pay, label="Toy", title="toy (a flat fee)", colour="#e45756")
"""

ENTRY_POINTS = f"""
[{CONTRACT_RULES_GROUP}]
toy = toy_terms:TERMS

[{PAYMENT_RULES_GROUP}]
toy = toy_money:RULE
"""

ANNUAL = 1_200_000.0


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """A folder holding the toy rule's two modules and the dist-info that declares them."""
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "toy_terms.py").write_text(textwrap.dedent(TERMS))
    (folder / "toy_money.py").write_text(textwrap.dedent(MONEY))
    info = folder / "paysim_toy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: paysim-toy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return folder


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    """The default trust with a toy contract beside its own."""
    data = yaml.safe_load((ROOT / "scenarios" / "default.yaml").read_text())
    data["contracts"]["toy"] = {"annual_value": ANNUAL}
    path = tmp_path_factory.mktemp("scenario") / "toy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _python(plugin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)]), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    return done


def test_paysim_run_prices_the_toy_rule(plugin, scenario_file, tmp_path):
    out = tmp_path / "results.csv"
    args = ["-m", "paysim", "run", str(scenario_file), "--reps", "3", "--engine", "vector", "--no-uncertainty"]
    done = _python(plugin, *args, "--out", str(out))
    money = done.stdout[done.stdout.index("money over the counted horizon") :]
    assert money.splitlines()[2].split()[-1] == "toy", money  # the money table's last column is the rule
    income = next(line for line in money.splitlines() if "provider income, mean" in line)
    assert income.split()[-1] == "£3.60m", money  # 3 years of £1.2m
    with out.open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3
    columns = rows[0].keys()
    for ledger in ("provider_income", "provider_cost", "provider_surplus", "commissioner_spend", "system_cost"):
        assert f"toy.{ledger}" in columns
    for row in rows:
        income = float(row["toy.provider_income"])
        assert income == pytest.approx(3 * ANNUAL, rel=1e-12)  # 36 twelfths of 1.2m over 3 years
        assert float(row["toy.provider_cost"]) == float(row["block.provider_cost"])  # one cost, every rule
        assert float(row["toy.provider_surplus"]) == pytest.approx(income - float(row["toy.provider_cost"]))


def test_the_app_and_design_know_the_toy_rule(plugin, scenario_file):
    script = textwrap.dedent(
        f"""
        import json
        from paysim.app_support.common import RULE_COLOURS, RULE_LABELS
        from paysim.analysis.design import design_terms
        from paysim.model.scenario import load_scenario
        from paysim.model.terms import RULES
        scenario = load_scenario({str(scenario_file)!r})
        print(json.dumps({{"labels": RULE_LABELS, "colours": RULE_COLOURS, "rules": list(RULES),
                          "present": scenario.contracts.rules, "design": design_terms(scenario)}}))
        """
    )
    found = json.loads(_python(plugin, "-c", script).stdout)
    assert found["labels"]["toy"] == "Toy" and found["colours"]["toy"] == "#e45756"
    assert found["rules"][-1] == "toy" and "toy" in found["present"]
    assert "contracts.toy.annual_value" in found["design"]


def test_without_the_plugin_a_toy_contract_is_an_unknown_key(scenario_file):
    assert "toy" not in RULES
    with pytest.raises(ScenarioError, match=r"contracts\.toy"):
        load_scenario(scenario_file)
