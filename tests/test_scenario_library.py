"""The bundled scenario library: every file validates, variants change only what they say, every figure of an
``uncertain:`` block is sourced, and the saving split of a bundled pair adds up exactly."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from paysim.analysis.compare import saving_split, scenario_columns
from paysim.model.scenario import bundled_scenarios, load_scenario
from paysim.runs.runner import RunSettings, simulate

LIBRARY = ("block-growth", "oap-heavy", "capitation-outcomes", "integrated-care")
VARIANTS = {
    "more-beds": {"services.inpatient.beds": 128},
    "bigger-crisis-team": {"services.crisis.capacity.places": 200, "costs.staff.crisis.wte": 112},
    "more-community-staff": {"services.community.capacity.staff_wte": 153},
    "oap-pressure": {"services.inpatient.beds": 108},
}


def flat(data, prefix=""):
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def dump(name):
    data = load_scenario(bundled_scenarios()[name]).model_dump(mode="json", exclude_none=True)
    data.pop("uncertain", None)
    return flat(data)


def test_the_library_is_every_bundled_scenario():
    assert set(bundled_scenarios()) == {*LIBRARY, *VARIANTS, "default", "growth", "blended-baseline-error"}


def numbers_without_a_comment(text: str) -> list[str]:
    """Lines of a scenario file that set a number (anywhere: a key, a flow mapping, a list) with no comment on
    the line; ``seed`` and ``years`` need none."""
    lines = text.splitlines()
    found = []

    def walk(node, key=None):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                walk(v, k.value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item, key)
        elif node.tag.endswith((":int", ":float")) and key not in ("seed", "years"):
            line = lines[node.start_mark.line]
            if "#" not in line:
                found.append(line.strip())

    walk(yaml.compose(text))
    return found


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_bundled_scenarios_validate_and_every_figure_says_where_it_comes_from(name):
    path = bundled_scenarios()[name]
    scenario = load_scenario(path)
    assert scenario.uncertain is not None and len(scenario.uncertain.names) >= 8
    text = path.read_text()
    if name != "default":
        assert text.startswith("#") and "\nextends: default\n" in text  # says what it changes, and why, first
    assert numbers_without_a_comment(text) == [], f"{name}: figures without a source or 'modelling choice'"


@pytest.mark.parametrize(("name", "changes"), VARIANTS.items())
def test_intervention_variants_change_only_what_they_say(name, changes):
    base, other = dump("default"), dump(name)
    differ = {key for key in base.keys() | other.keys() if base.get(key) != other.get(key)}
    assert differ == {"name", "description", *changes}
    for key, value in changes.items():
        assert other[key] == value


def test_integrated_care_cuts_length_of_stay_on_the_tower_hamlets_cohort():
    base, other = dump("default"), dump("integrated-care")
    cohort_share = 0.6  # the modelling choice the file states
    assert other["services.inpatient.los_days.mean"] == pytest.approx(33 * (1 - 0.127 * cohort_share), abs=0.05)
    cv = base["services.inpatient.los_days.sd"] / base["services.inpatient.los_days.mean"]
    assert other["services.inpatient.los_days.sd"] / other["services.inpatient.los_days.mean"] == pytest.approx(
        cv, rel=0.01
    )
    assert other["seed"] == base["seed"]
    assert {k for k in base.keys() | other.keys() if base.get(k) != other.get(k)} == {
        "name",
        "description",
        "services.inpatient.los_days.mean",
        "services.inpatient.los_days.sd",
    }


def test_library_contracts():
    assert load_scenario(bundled_scenarios()["block-growth"]).contracts.rules == ["block"]
    capitation = load_scenario(bundled_scenarios()["capitation-outcomes"])
    assert capitation.contracts.capitation.outcomes.share == 0.2 and capitation.years == 5
    oap = load_scenario(bundled_scenarios()["oap-heavy"])
    assert oap.contracts.oap_paid_by == "commissioner" and oap.services.inpatient.beds == 100


def test_integrated_care_saving_split_adds_up_exactly():
    overrides = {"years": 1, "warmup_days": 120}
    base = load_scenario(bundled_scenarios()["default"]).with_overrides(overrides)
    other = load_scenario(bundled_scenarios()["integrated-care"]).with_overrides(overrides)
    columns = [scenario_columns(s, simulate(s, RunSettings(reps=3, uncertainty=False))) for s in (base, other)]
    for row in saving_split(*columns):
        rule = row["rule"]
        saving = columns[0][f"{rule}.system_cost"] - columns[1][f"{rule}.system_cost"]
        provider = columns[1][f"{rule}.provider_surplus"] - columns[0][f"{rule}.provider_surplus"]
        commissioner = columns[0][f"{rule}.commissioner_spend"] - columns[1][f"{rule}.commissioner_spend"]
        np.testing.assert_allclose(provider + commissioner, saving, rtol=1e-12, atol=1e-3)
    assert columns[1]["inpatient.local_bed_days"].sum() + columns[1]["inpatient.oap_bed_days"].sum() < (
        columns[0]["inpatient.local_bed_days"].sum() + columns[0]["inpatient.oap_bed_days"].sum()
    )
