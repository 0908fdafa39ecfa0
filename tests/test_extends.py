"""``extends:``: a scenario file that builds on another says only what it changes."""

from __future__ import annotations

import pytest

from paysim.model.scenario import ScenarioError, bundled_scenarios, load_scenario, scenario_from_yaml

BASE = """\
name: base
years: 2
seed: 5
services:
  inpatient:
    admissions_per_year: 300
    beds: 20
    los_days: {dist: lognormal, mean: 30, sd: 30}
    oap: {repatriate: false}
uncertain:
  parameters:
    services.inpatient.beds: [18, 22]
    services.inpatient.los_days.mean: [25, 35]
  correlations:
    - {between: [services.inpatient.beds, services.inpatient.los_days.mean], rho: 0.3}
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def test_mappings_merge_and_other_values_replace(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    path = write(
        tmp_path,
        "more.yaml",
        "extends: base\nname: more\nservices:\n  inpatient:\n    oap: {wait_days: 1}\n    los_days: {mean: 28}\n",
    )
    scenario = load_scenario(path)
    inpatient = scenario.services.inpatient
    assert scenario.name == "more" and scenario.years == 2 and scenario.seed == 5  # inherited
    assert inpatient.beds == 20 and inpatient.admissions_per_year == 300
    assert inpatient.oap.wait_days == 1 and inpatient.oap.repatriate is False  # merged key by key
    assert inpatient.los_days.mean == 28 and inpatient.los_days.sd == 30 and inpatient.los_days.dist == "lognormal"


def test_a_key_the_file_sets_is_pinned_and_its_own_uncertainty_is_added(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    pinned = load_scenario(write(tmp_path, "a.yaml", "extends: base\nname: a\nservices: {inpatient: {beds: 24}}\n"))
    assert pinned.services.inpatient.beds == 24
    assert pinned.uncertain.names == ["services.inpatient.los_days.mean"]  # beds pinned, its correlation gone
    assert pinned.uncertain.correlations == []
    again = load_scenario(
        write(
            tmp_path,
            "b.yaml",
            "extends: base\nname: b\nservices: {inpatient: {beds: 24}}\n"
            "uncertain: {parameters: {services.inpatient.beds: [23, 25]}}\n",
        )
    )
    assert sorted(again.uncertain.names) == ["services.inpatient.beds", "services.inpatient.los_days.mean"]


def test_a_chain_of_bases_and_a_bundled_base(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    write(tmp_path, "middle.yaml", "extends: base\nname: middle\nyears: 3\n")
    top = load_scenario(write(tmp_path, "top.yaml", "extends: middle.yaml\nname: top\nseed: 9\n"))
    assert (top.years, top.seed, top.services.inpatient.beds) == (3, 9, 20)
    more_beds = load_scenario(bundled_scenarios()["more-beds"])
    default = load_scenario(bundled_scenarios()["default"])
    assert more_beds.services.inpatient.beds == default.services.inpatient.beds + 10
    assert more_beds.to_yaml().replace("more-beds", "default") != default.to_yaml()  # and nothing else differs:
    changed = more_beds.model_dump(mode="json")
    changed["name"], changed["description"] = default.name, default.description
    changed["services"]["inpatient"]["beds"] = default.services.inpatient.beds
    assert changed == default.model_dump(mode="json")


def test_text_without_a_folder_extends_a_bundled_scenario():
    scenario = scenario_from_yaml("extends: default\nname: mine\nyears: 1\n", source="upload.yaml")
    assert scenario.name == "mine" and scenario.years == 1 and scenario.services.inpatient is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: nowhere\nname: x\n", "upload.yaml: extends: no scenario 'nowhere'"),
        ("extends: defualt\nname: x\n", "did you mean 'default'?"),
        ("extends: default\n", "upload.yaml: name: a scenario that extends 'default' needs a name of its own"),
        ("extends: [default]\nname: x\n", "upload.yaml: extends: give the name of a scenario"),
        ("extends: default\nname: x\nservices: {inpatient: {beds: -1}}\n", "services.inpatient.beds: must be >= 0"),
    ],
)
def test_bad_extends_name_the_file_and_key(text, message):
    with pytest.raises(ScenarioError, match=message):
        scenario_from_yaml(text, source="upload.yaml")


def test_a_circle_is_refused(tmp_path):
    write(tmp_path, "a.yaml", "extends: b\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a\nname: b\n")
    with pytest.raises(ScenarioError, match="a circle"):
        load_scenario(tmp_path / "a.yaml")
