"""Test hygiene shared by the whole suite."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _main_module_restored():
    """Put ``sys.modules["__main__"]`` back after each test.

    Streamlit's ``AppTest`` runs ``app.py`` as ``__main__`` and leaves it there; a process pool started later in
    the same test process (``spawn``) would then run the app script in each worker before its replications.
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
