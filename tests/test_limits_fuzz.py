"""Every numeric key of the scenario model refuses infinity, NaN and values outside its documented range.

The keys are enumerated from the JSON Schema (:func:`paysim.model.limits.numeric_keys`), so a key added later is
walked too: one without a finite upper bound fails :func:`test_every_number_in_the_schema_has_finite_bounds`,
and one whose bound the loader does not enforce fails the walks below. Values are set in the bundled default
scenario's data (a block the default does not have is created around the key, so the message also lists the
block's missing keys; the key's own problem must be among them).
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from paysim.model.limits import LIMITS, NumericKey, numeric_keys
from paysim.model.scenario import ScenarioError, bundled_scenarios, json_schema, scenario_from_dict

SCHEMA = json_schema()
KEYS = numeric_keys(SCHEMA)
DEFAULT = yaml.safe_load(bundled_scenarios()["default"].read_text(encoding="utf-8"))
UNCERTAIN_KEY = "services.inpatient.los_days.mean"
"""The scenario key an uncertain parameter's distribution is set on (``<key>`` in the schema's paths)."""
DEFINITIONAL = {"years", "seed", "start_month", "peak_month"}
"""Keys whose range is a definition or a technical limit, not a plausibility choice (no reason needed)."""

SPECIAL = [math.inf, -math.inf, math.nan, -1, -1e12, 1e12, 2**70, -(2**70)]
"""Infinity, NaN, a negative value and huge values, as the brief's fuzzing tried them."""


def _base(key: NumericKey) -> dict[str, Any]:
    """The default scenario's data; without its uncertain block unless the key is in it (faster to check)."""
    data = copy.deepcopy(DEFAULT)
    if key.path[0] != "uncertain":
        data.pop("uncertain", None)
    else:
        data["uncertain"] = {"parameters": {UNCERTAIN_KEY: {"dist": "uniform", "low": 30, "high": 36}}}
    return data


def _set(data: dict[str, Any], key: NumericKey, value: Any) -> str:
    """Put ``value`` at the key's path in ``data`` (creating what is missing); return the dotted key the loader
    should name."""
    concrete = [UNCERTAIN_KEY if part == "<key>" else "0" if part == "<n>" else part for part in key.path]
    node: Any = data
    for depth, part in enumerate(key.path):
        last = depth == len(key.path) - 1
        fixed = key.fixed.get(depth + 1, {})
        if part == "<n>":
            if last:
                return _set_item(node, key, value, concrete)
            if not isinstance(node, list) or not node or not isinstance(node[0], dict):
                raise AssertionError(f"{key.key}: expected a list of mappings on the way")
            node = node[0]
        else:
            name = UNCERTAIN_KEY if part == "<key>" else part
            if last:
                node[name] = value
                break
            following = key.path[depth + 1]
            child = node.get(name)
            if following == "<n>":
                if depth + 1 == len(key.path) - 1:  # a number or a list of numbers: make it a list
                    node[name] = []
                elif not isinstance(child, list) or not child:
                    node[name] = [{}]
            elif not isinstance(child, dict):
                node[name] = {}
            node = node[name]
        if isinstance(node, dict):
            node.update(fixed)
    return ".".join(concrete)


def _set_item(node: Any, key: NumericKey, value: Any, concrete: list[str]) -> str:
    """The number is an item of a list: a trajectory (one per year) or an uncertain ``[low, high]`` range."""
    assert isinstance(node, list), key.key
    if key.path[-2] == "<key>":  # the [low, high] shorthand: it becomes a uniform's low and high
        node.extend([value, value])
        return ".".join(concrete[:-1])
    node.append(value)
    return ".".join(concrete)


def _complaint(key: NumericKey, value: Any) -> str:
    """What the message must say about a value the key's range does not allow."""
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if key.integer and value != int(value):
        return "must be a whole number"
    above = value > key.maximum or (key.exclusive_maximum and value == key.maximum)
    return "must be <" if above else "must be >"


def _check(key: NumericKey, value: Any) -> None:
    """Set the key to the value and load: a value outside the range must be refused naming the key and the
    problem; a value inside it either loads unchanged or is refused for a reason of its own (a cross-field
    check) -- with a ScenarioError, never another exception."""
    data = _base(key)
    named = _set(data, key, value)
    try:
        scenario = scenario_from_dict(data, "f.yaml")
    except ScenarioError as exc:
        if not key.allows(float(value)):
            # a [low, high] range is read as a uniform's low and high, which the message names
            end = r"\.(low|high)" if key.path[-2:] == ("<key>", "<n>") else ""
            pattern = re.compile(rf"^f\.yaml: {re.escape(named)}{end}: {_complaint(key, value)}")
            assert any(pattern.match(line) for line in str(exc).splitlines()), (key.key, value, str(exc))
        return
    assert key.allows(float(value)), f"{key.key} = {value!r} was accepted, outside {key.range_text()}"
    stored: Any = scenario.model_dump(mode="python")
    for part in named.split(".") if key.path[0] != "uncertain" else []:
        stored = stored[int(part)] if isinstance(stored, list) else stored[part]
    if key.path[0] != "uncertain":
        assert stored == value, f"{key.key}: set {value!r}, stored {stored!r}"


def test_every_number_in_the_schema_has_finite_bounds():
    """The point of the walk: each number in the schema, wherever it sits (lists, unions, mappings), has a
    finite lower and upper bound, and a reason for the upper one unless it is a share or a definition."""
    raw = []

    def scan(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("number", "integer"):
                raw.append(node)
            for child in node.values():
                scan(child)
        elif isinstance(node, list):
            for child in node:
                scan(child)

    scan(SCHEMA)
    assert raw, "no numbers found in the schema"
    for node in raw:
        high = node.get("maximum", node.get("exclusiveMaximum"))
        low = node.get("minimum", node.get("exclusiveMinimum"))
        assert high is not None and math.isfinite(high), f"a number without a finite upper bound: {node}"
        assert low is not None and math.isfinite(low), f"a number without a finite lower bound: {node}"
    assert len(KEYS) >= 150
    for key in KEYS:
        assert key.maximum is not None and math.isfinite(key.maximum), key.key
        if key.maximum != 1 and key.path[-1] not in DEFINITIONAL:
            assert key.reasons.get("maximum"), f"{key.key}: say why its maximum is {key.maximum} ({LIMITS})"


def test_the_walk_reaches_keys_in_lists_unions_and_mappings():
    names = {key.key for key in KEYS}
    for expected in (
        "services.inpatient.beds",
        "services.inpatient.los_days.sd",
        "contracts.blended.outcomes.indicators.<n>.target.<n>",
        "contracts.mhis.allocation_growth.<n>",
        "uncertain.parameters.<key>.low",
        "uncertain.parameters.<key>.<n>",
        "uncertain.correlations.<n>.rho",
    ):
        assert expected in names
    dists = {key.fixed[3]["dist"] for key in KEYS if key.key == "uncertain.parameters.<key>.low"}
    assert dists == {"uniform", "triangular", "pert", "normal", "beta"}


@pytest.mark.parametrize("key", KEYS, ids=lambda key: f"{key.key}[{key.fixed.get(3, {}).get('dist', '')}]")
def test_every_key_refuses_infinity_nan_negative_and_huge_values(key):
    if key.integer:  # just outside each end
        edges = [key.maximum + (0 if key.exclusive_maximum else 1), key.minimum - (0 if key.exclusive_minimum else 1)]
    else:
        step = 1e-9 * max(1.0, abs(key.maximum))
        edges = [key.maximum if key.exclusive_maximum else key.maximum + step, key.maximum * 1.01 + 1]
        step = 1e-9 * max(1.0, abs(key.minimum))
        edges += [key.minimum if key.exclusive_minimum else key.minimum - step, key.minimum - 1]
    for value in [*SPECIAL, *edges]:
        _check(key, int(value) if key.integer and math.isfinite(value) and value == int(value) else value)


@settings(max_examples=600, derandomize=True, deadline=None, database=None)
@given(
    key=st.sampled_from(KEYS),
    value=st.one_of(
        st.sampled_from(SPECIAL),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(2**80), max_value=2**80),
    ),
)
def test_any_value_is_either_in_range_and_kept_or_refused_naming_the_key(key, value):
    if key.integer and isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    _check(key, value)
