"""The suite's own ordering (tests/conftest.py): the tests it names as the longest exist, and start first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from conftest import LONGEST, pytest_collection_modifyitems

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_named_as_long_is_collected():
    """A test renamed or removed would leave its line in LONGEST doing nothing, silently."""
    files = sorted({name.split("::")[0] for name in LONGEST})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected = set(done.stdout.split())
    assert not [name for name in LONGEST if name not in collected]


def test_the_longest_start_first_and_the_rest_keep_their_order():
    slowest, second = sorted(LONGEST, key=LONGEST.get, reverse=True)[:2]
    names = ["tests/a.py::test_1", second, "tests/a.py::test_2", slowest, "tests/b.py::test_1"]
    items = [SimpleNamespace(nodeid=name) for name in names]
    pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == [slowest, second, "tests/a.py::test_1", "tests/a.py::test_2",
                                               "tests/b.py::test_1"]  # fmt: skip
