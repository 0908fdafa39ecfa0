"""The README's command lines are checked against the real command line, so the documentation cannot drift.

Every ``paysim ...`` example in a fenced code block (not the usage lines with ``[...]``) is parsed by the
``paysim`` command itself: the subcommand, every option and every value type must be accepted. The cheap
examples are also run. The set-up line must leave ``paysim`` on the PATH before it is used bare, and every
Python snippet runs as a script of its own (those that start worker processes guard their top level).
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from paysim.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def readme_commands() -> list[str]:
    """``paysim`` command lines from the README's code blocks, continuation lines joined."""
    commands, in_code, pending = [], False, ""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not in_code and not line.startswith("    "):
            continue
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1] + " "
            continue
        pending = ""
        text = text.removeprefix("$ ")
        if text.startswith(("paysim ", ".venv/bin/paysim ")) and "[" not in text:
            text = re.split(r"\s+#\s", text)[0]  # a trailing comment
            text = text.split(" > ")[0]  # a redirection
            commands.append(text.removeprefix(".venv/bin/"))
    return commands


COMMANDS = readme_commands()


def test_the_readme_has_examples_of_every_command():
    used = {shlex.split(c)[1] for c in COMMANDS}
    group = typer.main.get_command(app)
    assert used >= set(group.commands) - {"realism"}, set(group.commands) - used  # realism: the figure blocks


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_parses(command):
    group = typer.main.get_command(app)
    name, *rest = shlex.split(command)[1:]
    parent = click.Context(group, info_name="paysim")
    sub = group.get_command(parent, name)
    assert sub is not None, f"README command {command!r}: no such subcommand {name!r}"
    try:
        sub.make_context(name, rest, parent=parent)
    except click.UsageError as exc:
        pytest.fail(f"README command {command!r} does not parse: {exc.format_message()}")


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.split()[1] in ("validate", "schema", "scenarios")])
def test_cheap_readme_commands_run(command):
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    expected = 2 if "=-5" in command else 0  # the README shows this one failing on purpose
    assert result.exit_code == expected, result.output


# --- the set-up line ------------------------------------------------------------------------------------------


def setup_steps() -> list[str]:
    """The steps (``&&``) of the first shell block under *Set-up*."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Set-up[^\n]*\n.*?```bash\n(.*?)```", text, re.DOTALL)
    assert block, "no set-up block"
    return [step.strip() for step in block.group(1).strip().split("&&")]


def test_the_set_up_puts_paysim_on_the_path_before_using_it():
    steps = setup_steps()
    first_use = next(i for i, step in enumerate(steps) if step.split()[0] == "paysim")
    activate = [i for i, step in enumerate(steps) if re.fullmatch(r"(\.|source) \.venv/bin/activate", step)]
    assert activate and activate[0] < first_use, steps
    install = next(i for i, step in enumerate(steps) if "pip install" in step)
    assert activate[0] < install < first_use  # pip is the venv's, so paysim lands in .venv/bin
    assert shlex.split(steps[first_use])[1] in {c.name for c in typer.main.get_command(app).commands.values()}


def test_the_paysim_script_the_install_creates_is_the_command():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = scripts["paysim"].partition(":")
    code = f"import sys; sys.argv = ['paysim', 'scenarios']; from {module} import {function}; {function}()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("bigger-crisis-team") and "\ndefault " in done.stdout


# --- the Python snippets --------------------------------------------------------------------------------------


def python_snippets() -> list[tuple[int, str]]:
    """Every ```python block of the README, with its line number."""
    snippets, lines, start = [], None, 0
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if lines is None and line.strip() == "```python":
            lines, start = [], number
        elif lines is not None and line.startswith("```"):
            snippets.append((start, "\n".join(lines) + "\n"))
            lines = None
        elif lines is not None:
            lines.append(line)
    return snippets


SNIPPETS = python_snippets()


def snippet_ids(snippets: list[tuple[int, str]]) -> list[str]:
    """A name for each snippet that stays put when lines above it move: the slug of the README heading it sits
    under (outside code blocks), and its number under that heading (``running-a-scenario-from-python-2``)."""
    heading_at, heading, in_code = {}, "readme", False
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            heading = re.sub(r"[^a-z0-9]+", "-", line.lstrip("#").strip().lower()).strip("-")
        heading_at[number] = heading
    ids, seen = [], {}
    for start, _ in snippets:
        slug = heading_at[start]
        seen[slug] = seen.get(slug, 0) + 1
        ids.append(f"{slug}-{seen[slug]}")
    return ids


SNIPPET_IDS = snippet_ids(SNIPPETS)


def _starts_workers(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        for keyword in getattr(node, "keywords", []):
            if keyword.arg == "workers" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value == 1):
                return True
    return False


def _guarded(tree: ast.Module) -> bool:
    """Whether the module's calls all sit under ``if __name__ == "__main__":`` (imports and definitions aside)."""
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test):
            continue
        if not isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
            return False
    return True


@pytest.mark.parametrize(("line", "code"), SNIPPETS, ids=SNIPPET_IDS)
def test_a_snippet_that_starts_workers_guards_its_top_level(line, code):
    tree = ast.parse(code)
    if _starts_workers(tree):
        assert _guarded(tree), f"README line {line}: workers > 1 at a script's top level needs the __main__ guard"


@pytest.mark.slow
@pytest.mark.parametrize(("line", "code"), SNIPPETS, ids=SNIPPET_IDS)
def test_every_python_snippet_runs_as_a_script(line, code, tmp_path):
    for folder in ("scenarios", "data"):  # the snippets name scenarios/default.yaml, data/sample-trust.csv
        (tmp_path / folder).symlink_to(ROOT / folder)
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, f"README line {line}:\n{done.stderr[-3000:]}"
