"""The README's figures are what `docs/readme_figures.py` makes today: a change to the model or the default that
moves one fails here until the README is regenerated (`.venv/bin/python docs/readme_figures.py`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "readme_figures.py"


def load_script():
    spec = importlib.util.spec_from_file_location("readme_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_block_in_the_readme_can_be_made():
    figures = load_script()
    present = figures.blocks_in(figures.README.read_text(encoding="utf-8"))
    assert set(present) == set(figures.BLOCKS)
    assert all(body.strip() for body in present.values()), "a block is empty: run docs/readme_figures.py"


BLOCK_NAMES = sorted(load_script().BLOCKS)


@pytest.mark.slow
@pytest.mark.parametrize("name", BLOCK_NAMES)
def test_the_readme_figures_hold(name):
    """One block at a time, so the blocks' runs (a minute and a half in all) spread over the suite's workers."""
    assert load_script().main(["--check", name]) == 0
