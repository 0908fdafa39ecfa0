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


FIGURES = load_script()
"""The script, loaded once for the module."""
SHARED = {"calibrate-money": "calibrate-sample"}
"""A block checked together with another it shares its making with (both are made from one calibration of the
sample trust, :func:`sample_fit`): one test, so the calibration is made once."""
UNITS = [
    (name, *(other for other, host in SHARED.items() if host == name))
    for name in sorted(FIGURES.BLOCKS)
    if name not in SHARED
]


@pytest.mark.slow
@pytest.mark.parametrize("names", UNITS, ids=["+".join(unit) for unit in UNITS])
def test_the_readme_figures_hold(names):
    """A block at a time (or two made from one calibration), so the blocks' runs (a minute and a half in all)
    spread over the suite's workers."""
    assert FIGURES.main(["--check", *names]) == 0
