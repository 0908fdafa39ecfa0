"""The suite's own ordering (tests/conftest.py): the tests it names as the longest exist, and start first."""

from __future__ import annotations

from types import SimpleNamespace

from conftest import COLLECTED, LONGEST, pytest_collection_modifyitems


def test_every_test_named_as_long_is_collected():
    """A test renamed or removed would leave its line in LONGEST doing nothing, silently. Checked against the files
    this run collected (all of them in a whole run, as in CI)."""
    files = {name.split("::")[0] for name in COLLECTED}
    assert "tests/test_suite_order.py" in files
    assert not [name for name in LONGEST if name.split("::")[0] in files and name not in COLLECTED]


def test_the_longest_start_first_and_the_rest_keep_their_order():
    slowest, second = sorted(LONGEST, key=LONGEST.get, reverse=True)[:2]
    names = ["tests/a.py::test_1", second, "tests/a.py::test_2", slowest, "tests/b.py::test_1"]
    items = [SimpleNamespace(nodeid=name) for name in names]
    pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == [slowest, second, "tests/a.py::test_1", "tests/a.py::test_2",
                                               "tests/b.py::test_1"]  # fmt: skip
