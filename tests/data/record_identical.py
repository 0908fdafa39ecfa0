"""Record the run results that ``tests/test_identical_results.py`` holds every later change to, bit for bit.

Run from the repository root when a change alters results on purpose (and say so in its commit)::

    python tests/data/record_identical.py

It writes ``tests/data/identical_results.json``: for every bundled scenario, a few replications of the vector
engine with the NumPy kernels, at central values and (where the scenario has an ``uncertain:`` block) under
uncertainty, plus one replication of a small scenario by the SimPy model. Each run keeps every results column's
value per replication and every rule's ledger totals over the horizon and by contract year. Floats are written
with ``repr``, which reads back to the same bits.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from paysim.model.scenario import ScenarioError, load_scenario  # noqa: E402
from paysim.runs.batch import run_batch  # noqa: E402

# The tests call result_of with PAYSIM_NUMBA=0 set (the NumPy reference kernels; the numba twin agrees bit for bit).

RECORD = HERE / "identical_results.json"
VECTOR_REPS = 3
"""Replications of each bundled scenario on the vector engine (a modelling choice: enough to vary the rows)."""
DES_SCENARIO = HERE / "app-small.yaml"
DES_REPS = 1


def runs() -> dict[str, tuple[Path, str, int, bool]]:
    """The runs recorded, by name: ``(scenario file, engine, replications, uncertainty)``."""
    out: dict[str, tuple[Path, str, int, bool]] = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        out[f"{path.stem}/vector"] = (path, "vector", VECTOR_REPS, False)
        if load_scenario(path).uncertain is not None:
            out[f"{path.stem}/vector-uncertain"] = (path, "vector", VECTOR_REPS, True)
    out[f"{DES_SCENARIO.stem}/des"] = (DES_SCENARIO, "des", DES_REPS, False)
    return out


def result_of(path: Path, engine: str, reps: int, uncertainty: bool) -> dict[str, object]:
    """One run's columns ``{name: [value per replication]}`` and ledgers ``{rule: {totals, years}}``."""
    run = run_batch(load_scenario(path), reps, engine=engine, uncertainty=uncertainty)
    columns = {name: run.table.column(name).to_pylist() for name in run.table.column_names}
    ledgers = {
        rule: {
            "totals": {name: values.tolist() for name, values in totals.totals.items()},
            "years": {name: values.tolist() for name, values in totals.years.items()},
        }
        for rule, totals in run.ledgers.items()
    }
    return {"engine": run.engine, "columns": columns, "ledgers": ledgers}


def record() -> dict[str, object]:
    """Every run's results, by run name."""
    out: dict[str, object] = {}
    for name, spec in runs().items():
        try:
            out[name] = result_of(*spec)
        except ScenarioError as exc:  # pragma: no cover - a bundled scenario that no longer loads
            raise SystemExit(f"{name}: {exc}") from None
    return out


if __name__ == "__main__":
    os.environ["PAYSIM_NUMBA"] = "0"  # the NumPy reference kernels (the numba twin agrees bit for bit)
    RECORD.write_text(json.dumps(record(), indent=0, sort_keys=True) + "\n")
    print(f"wrote {RECORD.relative_to(ROOT)}")
