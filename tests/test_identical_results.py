"""Results stay bit for bit what they were when ``tests/data/identical_results.json`` was recorded.

A guard for changes that should not move a number (the run floor, registries, the folder layout): every
bundled scenario, a few replications of the vector engine (at central values and under uncertainty; the
default's with the NumPy reference kernels, the others' with the numba kernels: :data:`REFERENCE_KERNELS`) and
one replication of a small scenario by the SimPy model, against values recorded before the change. A change
that alters results on purpose re-records them with ``python tests/data/record_identical.py`` and says so in its
commit. Columns added since the recording are allowed; every recorded one must be present and equal exactly (NaN
where NaN was recorded).
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
RECORDED = json.loads((DATA / "identical_results.json").read_text())
QUICK = {"default/vector", "app-small/des"}
"""Runs in the quick suite (a few seconds each); the rest are marked slow."""
REFERENCE_KERNELS = {"default/vector", "default/vector-uncertain"}
"""Runs checked with the NumPy reference kernels (as recorded); the others run the numba kernels, the ones a user
runs, which agree with the reference bit for bit (``tests/test_vector_exact.py``): both kernel sets are held to the
record, and the whole check costs seconds instead of minutes."""


def _recorder():
    spec = importlib.util.spec_from_file_location("record_identical", DATA / "record_identical.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _params() -> list:
    return [
        pytest.param(name, id=name, marks=() if name in QUICK else (pytest.mark.slow,)) for name in sorted(RECORDED)
    ]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _differences(recorded: dict[str, list], now: dict[str, list], what: str) -> list[str]:
    out = []
    for name, values in recorded.items():
        if name not in now:
            out.append(f"{what} {name} is missing")
        elif len(values) != len(now[name]) or not all(map(_same, values, now[name])):
            out.append(f"{what} {name}: recorded {values}, now {now[name]}")
    return out


def test_every_bundled_scenario_is_recorded():
    recorder = _recorder()
    assert sorted(recorder.runs()) == sorted(RECORDED)


@pytest.mark.parametrize("name", _params())
def test_results_are_bit_identical(name, monkeypatch):
    monkeypatch.setenv("PAYSIM_NUMBA", "0" if name in REFERENCE_KERNELS else "1")
    recorder = _recorder()
    now = recorder.result_of(*recorder.runs()[name])
    recorded = RECORDED[name]
    assert now["engine"] == recorded["engine"]
    problems = _differences(recorded["columns"], now["columns"], "column")
    assert sorted(now["ledgers"]) == sorted(recorded["ledgers"])
    for rule, ledger in recorded["ledgers"].items():
        for part in ("totals", "years"):
            problems += _differences(ledger[part], now["ledgers"][rule][part], f"{rule} {part}")
    assert not problems, "\n".join(problems[:20])
