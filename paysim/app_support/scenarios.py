"""Scenario choices for the app: bundled files, PAYSIM_SCENARIOS, and uploads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from paysim.app_support.common import SCENARIOS_ENV
from paysim.model.limits import shown_name
from paysim.model.scenario import Scenario, bundled_scenarios, load_scenario, scenario_from_bytes

# --- scenarios ----------------------------------------------------------------------------------------


def scenario_choices(env: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Scenario files the app offers, by name: those named by ``PAYSIM_SCENARIOS`` first, then the bundled
    ones (``default`` first), so the app opens on the first.

    ``PAYSIM_SCENARIOS`` holds YAML files or folders of them, separated by ``os.pathsep`` (``:``); it lets
    a team open the app on its own scenarios (``PAYSIM_SCENARIOS=~/trust streamlit run app.py``). A name
    already taken is not replaced.
    """
    env = os.environ if env is None else env
    found: dict[str, Path] = {}
    for entry in filter(None, env.get(SCENARIOS_ENV, "").split(os.pathsep)):
        path = Path(entry).expanduser()
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        for file in files:
            if file.suffix in (".yaml", ".yml") and file.is_file():
                found.setdefault(file.stem, file)
    bundled = bundled_scenarios()
    for name in sorted(bundled, key=lambda n: (n != "default", n)):
        found.setdefault(name, bundled[name])
    return found


def load_choice(path: Path) -> Scenario:
    """Load one offered scenario file (raises :class:`ScenarioError` with a message ready to show)."""
    return load_scenario(path)


def read_upload(name: str, content: bytes) -> Scenario:
    """Validate an uploaded scenario file; errors name the file and the dotted key.

    The upload takes the command line's loader (:func:`paysim.model.scenario.scenario_from_bytes`): the same size
    limit, UTF-8 check, anchor budget, duplicate keys and strict types, so one uploaded file cannot hang the
    server.

    Raises
    ------
    ScenarioError
        If the bytes are too many, not UTF-8 text or not a valid scenario.
    """
    return scenario_from_bytes(content, source=shown_name(name))
