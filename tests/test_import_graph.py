"""paysim's modules import one another without circles, and only at module level.

The graph is read from the source (``ast``): an edge for every ``import`` of a paysim module outside an
``if TYPE_CHECKING:`` block. A circle makes the import order matter and hides which layer is below which; an
import inside a function is how circles get dodged, so neither is allowed. The start-up path is the exception that
uses no ``import`` statement: ``paysim/__init__.py`` (a module-level ``__getattr__``) and ``paysim/__main__.py``
(after installing the signal handlers) import by name with :func:`importlib.import_module`.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import paysim

PACKAGE = Path(__file__).resolve().parents[1] / "paysim"

ENGINE_SEAMS: dict[str, set] = {"local": set(), "circles": set()}
"""Exceptions to the rules below: none (the engines' kernel interface removed the last circle and local imports)."""


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name."""
    out = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _targets(name: str, path: Path, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        base = name.split(".")
        if node.level:
            base = base if path.name == "__init__.py" else base[:-1]
            base = base[: len(base) - (node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        candidates = [module, *(f"{module}.{alias.name}" for alias in node.names)]
    else:
        candidates = [alias.name for alias in node.names]
    # a package's own parent (``from paysim import x`` inside paysim.runs.io) is not an edge; x is
    return [t for t in candidates if t in known and t != name and not name.startswith(t + ".")]


def graph(package: Path = PACKAGE) -> tuple[dict[str, set[str]], set[str]]:
    """``({module: modules it imports}, {"module:line" of every import inside a function})``."""
    known = modules(package)
    edges: dict[str, set[str]] = {name: set() for name in known}
    local: set[str] = set()
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(inner) for inner in ast.walk(node))
        in_function = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                in_function.update(id(inner) for inner in ast.walk(node) if inner is not node)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped:
                targets = _targets(name, path, node, known)
                edges[name].update(targets)
                if targets and id(node) in in_function:
                    local.add(f"{name}:{node.lineno}")
    return edges, local


def circles(edges: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_imports_circles_and_local_imports(tmp_path):
    """The checks below can fail: a circle and a local import in a package built by hand are found."""
    toy = tmp_path / "toy"
    toy.mkdir()
    (toy / "__init__.py").write_text("")
    (toy / "a.py").write_text("from toy import b\n")
    (toy / "b.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    from toy import c\n")
    (toy / "c.py").write_text("def f():\n    from toy.a import x\n")
    edges, local = graph(toy)
    assert edges["toy.a"] == {"toy.b"} and edges["toy.b"] == set() and edges["toy.c"] == {"toy.a"}
    assert local == {"toy.c:2"}
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]
    edges, _ = graph()
    assert (
        "paysim.model.scenario" in edges["paysim.money.finance"]
        or "paysim.model.terms" in edges["paysim.money.finance"]
    )
    assert "paysim.runs.runner" in edges["paysim.analysis.compare"]
    assert len(edges) > 50


def test_no_import_circles():
    assert set(circles(graph()[0])) <= ENGINE_SEAMS["circles"]


def test_no_function_local_imports_of_paysim_modules():
    assert graph()[1] <= ENGINE_SEAMS["local"]


def test_the_runner_sits_above_the_money_and_the_money_above_the_engines():
    """Layers point down the pipeline: scenario -> engines -> activity -> costs/payment -> finance -> analysis
    -> run -> front ends. No module below the run imports the runner or a front end; the engines import no money."""
    edges, _ = graph()

    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    money = {"paysim.money.finance", "paysim.money.costs", "paysim.money.payment"}
    for engine in ("paysim.engines.des", "paysim.engines.vector"):
        assert not reaches(engine) & money, engine
    for below in (
        "paysim.money.finance",
        "paysim.runs.psa",
        "paysim.runs.batch",
        "paysim.runs.io",
        "paysim.model.scenario",
    ):
        assert not {
            m for m in reaches(below) if m in ("paysim.runs.runner", "paysim.analysis.compare") or ".cli" in m
        }, below


def test_the_old_module_paths_are_the_moved_modules_for_one_release():
    """``import paysim.finance`` (and ``paysim.payment.block``, ``from paysim import batch``) gives the module at its
    new path, the same object, with a DeprecationWarning naming the new path."""

    for old, new in [
        ("paysim.finance", "paysim.money.finance"),
        ("paysim.payment.block", "paysim.money.payment.block"),
    ]:
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match="is now paysim.money"):  # the package too, for a module in it
            module = importlib.import_module(old)
        assert module is importlib.import_module(new)
        assert module.__spec__.name == new  # its own spec, not the old path's
    with pytest.warns(DeprecationWarning, match="paysim.batch is now paysim.runs.batch"):
        assert paysim.__getattr__("batch") is importlib.import_module("paysim.runs.batch")
    assert not [name for name in sys.modules if name.startswith("paysim.") and "payment.block" in name and
                sys.modules[name] is not sys.modules["paysim.money.payment.block"]]  # fmt: skip
