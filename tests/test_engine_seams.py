"""The vector engine's seams: one kernel interface both kernel sets implement in full, tally slots declared
once, the line order declared once, and an engines package without import circles or function-local imports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest
from builders import small_trust

from paysim.engines import _kernels, _numba_kernels, flow, seams, settings, slots, vector
from paysim.engines.kernel_sets import kernels

ENGINES = Path(vector.__file__).parent
INTERFACE = [name for name, _ in inspect.getmembers(seams.Kernels, inspect.isfunction) if not name.startswith("_")]
HAS_NUMBA = settings.numba_available()


@pytest.mark.parametrize("kernel_set", [_kernels.NumpyKernels, _numba_kernels.NumbaKernels])
def test_both_kernel_sets_implement_the_whole_interface_with_its_parameters(kernel_set):
    assert {"new_heap", "queue_block", "team", "stays", "ward", "tally_ward"} <= set(INTERFACE)
    for name in INTERFACE:
        method = getattr(kernel_set, name, None)
        assert method is not None and method is not getattr(seams.Kernels, name), f"{kernel_set.__name__}.{name}"
        wanted = [p for p in inspect.signature(getattr(seams.Kernels, name)).parameters if p != "self"]
        have = [p for p in inspect.signature(method).parameters if p != "self"]
        assert have == wanted, f"{kernel_set.__name__}.{name}: {have} != {wanted}"


def test_vector_never_asks_which_kernel_set_it_has():
    tree = ast.parse(Path(vector.__file__).read_text(encoding="utf-8"))
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "name"]
    assert not names, "vector.py reads a kernel set's name"
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {module for module in imported if "numba" in (module or "") or module.endswith("_kernels")}


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("name", ["talking_therapies", "crisis", "community"])
def test_the_team_kernels_agree_bit_for_bit_through_the_interface(name):
    scenario = small_trust(seed=5, warmup_days=60)
    chunk = vector._Chunk(scenario, np.arange(5), kernels(False))
    stepdowns = None
    if name == "community":
        beds = chunk.team("crisis")
        stepdowns = chunk.stepdowns(chunk.ward_requests(beds))
    inputs = chunk.team_inputs(name, stepdowns)
    numpy_sums, numpy_beds = kernels(False).team(inputs)
    numba_sums, numba_beds = kernels(True).team(inputs)
    assert set(numpy_sums) == set(numba_sums) == set(slots.TEAM_TALLIES)
    for key in slots.TEAM_TALLIES:
        assert np.array_equal(numpy_sums[key], numba_sums[key]), key
    assert numpy_sums["referrals"].sum() > 0
    assert (numpy_beds is None) == (numba_beds is None) == (name != "crisis")
    if numpy_beds is not None:
        for a, b in zip(numpy_beds, numba_beds, strict=True):
            assert np.array_equal(a, b)
        assert np.isfinite(numpy_beds[0]).sum() > 0


def test_tally_slots_are_positions_in_the_one_declaration():
    assert [slots.TEAM[name] for name in slots.TEAM_TALLIES] == list(range(len(slots.TEAM_TALLIES)))
    assert [slots.WARD[name] for name in slots.WARD_TALLIES] == list(range(len(slots.WARD_TALLIES)))
    numba_team = Path(ENGINES / "_numba_team.py").read_text(encoding="utf-8")
    numba_ward = Path(ENGINES / "_numba_kernels.py").read_text(encoding="utf-8")
    for source in (numba_team, numba_ward):
        assert not any(f"out[{digit}" in source for digit in "0123456789"), "a tally read by position"


def test_lines_come_after_the_lines_that_feed_them():
    assert flow.LINES == ("talking_therapies", "crisis", "inpatient", "community")
    for source, target in flow.FEEDS:
        assert flow.LINES.index(source) < flow.LINES.index(target)
    assert flow.upstream("community") == ("inpatient",) and flow.downstream("crisis") == ("inpatient",)
    with pytest.raises(KeyError, match="unknown line 'wards'"):
        flow.upstream("wards")


def _imports(path: Path) -> tuple[set[str], list[int]]:
    """(paysim.engines modules imported at module level, line numbers of function-local paysim imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paysim"):
                    local.append(node.lineno)
                if isinstance(node, ast.Import) and any(a.name.startswith("paysim") for a in node.names):
                    local.append(node.lineno)
    targets = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paysim.engines"):
            module = node.module
            targets.add(module)
            targets.update(f"{module}.{a.name}" for a in node.names)
    return targets, local


def test_the_engines_have_no_import_circle_and_no_function_local_imports():
    modules = {f"paysim.engines.{p.stem}": p for p in ENGINES.glob("*.py") if p.stem != "__init__"}
    graph = {}
    for name, path in modules.items():
        targets, local = _imports(path)
        assert not local, f"{name}: function-local paysim imports at lines {local}"
        graph[name] = {t for t in targets if t in modules and t != name}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    circles = [name for name in graph if reaches(name, name, {name})]
    assert not circles, circles
