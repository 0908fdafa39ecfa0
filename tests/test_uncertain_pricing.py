"""The money side of uncertainty runs: each replication's scenario built once and cheaply
(:meth:`Scenario.with_values`), and pricing over a chunk of replications with their own terms."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest

from paysim.model import uncertainty
from paysim.model.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario, scenario_from_dict

BUNDLED = sorted(bundled_scenarios())
WITH_UNCERTAINTY = [name for name in BUNDLED if load_scenario(bundled_scenarios()[name]).uncertain is not None]


def bundled(name: str) -> Scenario:
    return load_scenario(bundled_scenarios()[name])


def number_keys(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, int | float]]:
    """Every number reachable through mappings (what an uncertain key may name), as ``(dotted key, value)``."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from number_keys(value, f"{prefix}{key}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield f"{prefix}{key}", value


def built_both_ways(base: Scenario, values: Mapping[str, int | float]) -> tuple[Any, Any]:
    """``(with_values, with_overrides)``: each the scenario's dump, or the error message it raised.

    (Which keys count as set differs: ``with_overrides`` sets every key of the dump it validates again,
    ``with_values`` keeps the unchanged parts as loaded; nothing in paysim reads it.)"""
    out = []
    for build in (base.with_values, base.with_overrides):
        try:
            made = build(values)
        except ScenarioError as exc:
            out.append(("error", str(exc)))
        else:
            out.append(("made", made.model_dump()))
    return out[0], out[1]


# --- each replication's scenario ------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUNDLED)
def test_setting_any_number_equals_with_overrides(name):
    """Every number of every bundled scenario, moved a little (often within its range, sometimes not) and far out
    of range: the same scenario as ``with_overrides``, or the same error."""
    base = uncertainty.central(bundled(name))
    keys = [
        (key, value)
        for key, value in number_keys(base.model_dump(mode="json", exclude_none=True))
        if key.split(".")[0] in uncertainty.UNCERTAIN_ROOTS
    ]
    assert len(keys) > 20
    errors = 0
    for key, value in keys:
        moved = value + 1 if isinstance(value, int) else value * 1.01 + 0.003
        for changed in (moved, -1e9 if isinstance(value, float) else -(10**9)):
            fast, slow = built_both_ways(base, {key: changed})
            assert fast == slow, key
            errors += fast[0] == "error"
    assert errors >= len(keys)  # the far values are refused (the test reaches the error path)


def test_several_keys_at_once_equal_with_overrides():
    """Nested keys of one model and of several, whole numbers, contract and cost keys, set together."""
    base = uncertainty.central(bundled("default"))
    values = {
        "services.inpatient.beds": 101,
        "services.inpatient.los_days.mean": 31.5,
        "services.inpatient.los_days.sd": 25.0,
        "services.community.capacity.vacancy_rate": 0.12,
        "services.community.growth": 0.05,
        "contracts.block.annual_value": 6.1e7,
        "contracts.activity.prices.inpatient.bed_day": 590.0,
        "contracts.roll_forward.efficiency": 0.012,
        "costs.beds.oap_per_bed_day": 650.0,
        "costs.cip.delivered_share": 0.9,
    }
    fast, slow = built_both_ways(base, values)
    assert fast[0] != "error"
    assert fast == slow
    made = base.with_values(values)
    assert made.services.talking_therapies is base.services.talking_therapies  # unchanged parts are shared
    assert made.services.inpatient.beds == 101 and made.costs.cip.delivered_share == 0.9


def test_a_key_the_scenario_does_not_hold_goes_the_way_of_with_overrides():
    base = uncertainty.central(bundled("default"))
    for values in ({"services.inpatient.bedz": 3}, {"services.inpatient.oap.repatriate": 1}, {"name": 3}):
        fast, slow = built_both_ways(base, values)
        assert fast == slow
        assert fast[0] == "error"


@pytest.mark.parametrize("name", WITH_UNCERTAINTY)
def test_sampled_scenarios_equal_the_scenarios_built_with_overrides(name):
    """Each bundled scenario's uncertain keys (whole numbers rounded, nested, contract and cost keys): the
    replication's scenario is what ``with_overrides`` of its parameter set makes."""
    scenario = bundled(name)
    replications = [0, 3, 17, 40]
    base = uncertainty.central(scenario)
    made = uncertainty.sampled_scenarios(scenario, replications)
    for row, one in zip(uncertainty.sample(scenario, replications), made, strict=True):
        expected = base.with_overrides(uncertainty.overrides_of(scenario, row))
        assert one.model_dump() == expected.model_dump()
        assert one == expected


def test_whole_number_keys_are_rounded_and_kept_whole():
    data = bundled("default").model_dump(mode="json", exclude_none=True)
    data["uncertain"] = {"parameters": {"services.inpatient.beds": [100, 130], "costs.pay_inflation": [0.03, 0.05]}}
    scenario = scenario_from_dict(data)
    assert uncertainty.whole_keys(scenario) == [True, False]
    values = uncertainty.sample(scenario, range(6))
    assert np.array_equal(values[:, 0], np.round(values[:, 0]))
    for row, one in zip(values, uncertainty.sampled_scenarios(scenario, range(6)), strict=True):
        assert type(one.services.inpatient.beds) is int and one.services.inpatient.beds == row[0]


def test_a_drawn_value_the_scenario_refuses_raises_the_error_it_always_did():
    """Each key's range alone is allowed (``check_support``), but together a draw can break a check across keys:
    crisis admissions when the team is full must be at least as many as otherwise."""
    data = bundled("default").model_dump(mode="json", exclude_none=True)
    data["uncertain"] = {
        "parameters": {
            "services.crisis.admission_share": [0.1, 0.35],
            "services.crisis.admission_share_when_full": [0.3, 0.6],
        }
    }
    scenario = scenario_from_dict(data)
    values = uncertainty.sample(scenario, range(200))
    bad = int(np.flatnonzero(values[:, 0] > values[:, 1])[0])
    with pytest.raises(ScenarioError) as old:
        uncertainty.central(scenario).with_overrides(uncertainty.overrides_of(scenario, values[bad]))
    with pytest.raises(ScenarioError) as new:
        uncertainty.sampled_scenarios(scenario, [bad])
    assert str(new.value) == str(old.value)
    assert "admission_share_when_full: must be >= admission_share" in str(new.value)
