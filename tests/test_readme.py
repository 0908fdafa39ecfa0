"""The README's command lines are checked against the real command line, so the documentation cannot drift.

Every ``paysim ...`` example in a fenced code block (not the usage lines with ``[...]``) is parsed by the
``paysim`` command itself: the subcommand, every option and every value type must be accepted. The cheap
examples are also run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from paysim.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"


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
    assert used >= {"run", "validate", "schema", "compare", "sensitivity", "design", "report"}


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


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.split()[1] in ("validate", "schema")])
def test_cheap_readme_commands_run(command):
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    expected = 2 if "=-5" in command else 0  # the README shows this one failing on purpose
    assert result.exit_code == expected, result.output
