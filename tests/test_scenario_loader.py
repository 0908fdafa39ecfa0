"""Loading scenario files: error messages a user can act on, --set overrides, the schema, round trips.

Property tests (hypothesis) feed random malformed mappings, YAML text and override strings to the
loader: it may accept them or raise ScenarioError, and nothing else.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paysim.model.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    bundled_scenarios,
    extend,
    json_schema,
    load_scenario,
    parse_override,
    scenario_from_dict,
    scenario_from_yaml,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "default.yaml"
DEFAULT_TEXT = DEFAULT.read_text(encoding="utf-8")
DEFAULT_DATA = yaml.safe_load(DEFAULT_TEXT)

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def error_of(data: dict, source: str = "f.yaml") -> str:
    """The message of the ScenarioError raised for a mapping."""
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source)
    return str(info.value)


def changed(edit) -> dict:
    """A deep copy of the default scenario's mapping with ``edit(data)`` applied."""
    data = copy.deepcopy(DEFAULT_DATA)
    edit(data)
    return data


# --- messages -----------------------------------------------------------------------------------------


def test_default_scenario_loads():
    scenario = load_scenario(DEFAULT)
    assert scenario.name == "default"
    assert scenario.lines() == ["talking_therapies", "community", "crisis"]
    assert scenario.services.inpatient is not None


def test_missing_key_is_named():
    assert error_of(changed(lambda d: d.pop("years"))) == "f.yaml: years: is required"
    message = error_of(changed(lambda d: d["services"]["inpatient"].pop("los_days")))
    assert message == "f.yaml: services.inpatient.los_days: is required"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("beds", "many", "services.inpatient.beds: must be a whole number, got 'many'"),
        ("beds", 4.5, "services.inpatient.beds: must be a whole number, got 4.5"),
        ("admissions_per_year", "lots", "services.inpatient.admissions_per_year: must be a number, got 'lots'"),
        ("los_days", 33, "services.inpatient.los_days: must be a mapping of keys, got 33"),
    ],
)
def test_wrong_type_names_key_and_value(key, value, expected):
    message = error_of(changed(lambda d: d["services"]["inpatient"].update({key: value})))
    assert message == f"f.yaml: {expected}"


def test_wrong_boolean_and_choice():
    message = error_of(changed(lambda d: d["services"]["inpatient"]["oap"].update(repatriate="maybe")))
    assert message == "f.yaml: services.inpatient.oap.repatriate: must be true or false, got 'maybe'"
    message = error_of(changed(lambda d: d["services"]["inpatient"]["los_days"].update(dist="weibull")))
    assert message.startswith("f.yaml: services.inpatient.los_days.dist: must be one of 'lognormal'")
    assert message.endswith("got 'weibull'")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("services.inpatient.beds", -5, "services.inpatient.beds: must be >= 0, got -5"),
        ("years", 11, "years: must be <= 10, got 11"),
        ("years", 0, "years: must be >= 1, got 0"),
        (
            "services.community.capacity.vacancy_rate",
            1.5,
            "services.community.capacity.vacancy_rate: must be <= 1, got 1.5",
        ),
        ("services.inpatient.los_days.mean", 0, "services.inpatient.los_days.mean: must be > 0, got 0"),
    ],
)
def test_out_of_range_uses_the_exact_phrase(path, value, expected):
    data = apply_overrides(DEFAULT_DATA, {path: value})
    assert error_of(data) == f"f.yaml: {expected}"


def test_cross_field_checks_name_the_key():
    message = error_of(changed(lambda d: d["services"]["inpatient"]["los_days"].update(sd=0)))
    assert message == "f.yaml: services.inpatient.los_days.sd: a lognormal duration needs sd > 0 (days)"
    message = error_of(changed(lambda d: d["services"]["crisis"].update(admission_share_when_full=0.1)))
    assert message.startswith("f.yaml: services.crisis.admission_share_when_full: must be >= admission_share")


def test_unknown_key_suggests_the_nearest():
    message = error_of(changed(lambda d: d["services"].update(inpatien=d["services"].pop("inpatient"))))
    assert message.startswith("f.yaml: services.inpatien: unknown key; did you mean 'inpatient'?")
    assert "allowed here: talking_therapies, community, crisis, inpatient" in message
    message = error_of(changed(lambda d: d["services"]["inpatient"].update(bed=3)))
    assert "services.inpatient.bed: unknown key; did you mean 'beds'?" in message


def test_several_problems_are_all_listed():
    message = error_of(changed(lambda d: (d.pop("years"), d["services"]["inpatient"].update(beds=-1))))
    assert message.startswith("2 problems in the scenario:\n")
    assert "f.yaml: years: is required" in message
    assert "f.yaml: services.inpatient.beds: must be >= 0, got -1" in message


def test_broken_yaml_gives_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nyears: [1, 2\nservices: {}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: is not valid YAML at line ")
    assert "column" in message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="is empty; a scenario is a mapping"):
        load_scenario(path)


def test_a_list_instead_of_a_mapping():
    with pytest.raises(ScenarioError) as info:
        scenario_from_yaml("- name: x\n- years: 1\n", source="list.yaml")
    assert str(info.value) == "list.yaml: must be a mapping of keys (name, years, services, ...), got a list"


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such scenario file"
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)


# --- --set overrides ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("services.inpatient.beds", "expected KEY=VALUE"),
        ("=40", "expected KEY=VALUE"),
        ("services..beds=4", "is not a dotted key"),
        ("services.inpatient.beds=[1, 2", "is not valid YAML"),
    ],
)
def test_set_parse_errors(text, phrase):
    with pytest.raises(ScenarioError) as info:
        parse_override(text)
    assert phrase in str(info.value)
    assert repr(text) in str(info.value)


def test_set_values_are_read_as_yaml():
    assert parse_override("services.inpatient.beds=40") == ("services.inpatient.beds", 40)
    assert parse_override("growth=0.5") == ("growth", 0.5)
    assert parse_override("services.inpatient.oap.repatriate=false") == ("services.inpatient.oap.repatriate", False)
    assert parse_override("name=a=b") == ("name", "a=b")
    assert parse_override("description=") == ("description", None)


def test_set_is_validated_like_the_file():
    with pytest.raises(ScenarioError) as info:
        load_scenario(DEFAULT, ["services.inpatient.beds=-5"])
    assert str(info.value) == f"{DEFAULT}: services.inpatient.beds: must be >= 0, got -5"
    with pytest.raises(ScenarioError, match="did you mean 'beds'"):
        load_scenario(DEFAULT, ["services.inpatient.bed=40"])


def test_set_onto_a_scalar_names_the_key():
    with pytest.raises(ScenarioError) as info:
        load_scenario(DEFAULT, ["name.first=1"])
    assert "--set name.first: name is a value, not a mapping of keys" in str(info.value)
    with pytest.raises(ScenarioError, match=re.escape("services.inpatient.beds is a value")):
        load_scenario(DEFAULT, ["services.inpatient.beds.count=1"])


def test_set_applies_in_order_and_creates_mappings():
    scenario = load_scenario(DEFAULT, ["services.inpatient.beds=40", "services.inpatient.beds=41"])
    assert scenario.services.inpatient.beds == 41
    data = apply_overrides({"a": 1}, ["b.c.d=2"])
    assert data == {"a": 1, "b": {"c": {"d": 2}}}


def test_apply_overrides_does_not_touch_its_input():
    before = copy.deepcopy(DEFAULT_DATA)
    apply_overrides(DEFAULT_DATA, {"services.inpatient.beds": 1})
    assert before == DEFAULT_DATA


# --- YAML that PyYAML itself rejects with other exceptions ------------------------------------------------


def test_malformed_yaml_date_is_a_scenario_error():
    with pytest.raises(ScenarioError):
        scenario_from_yaml("name: x\nyears: 2001-13-01\n", source="date.yaml")


def test_malformed_yaml_tag_is_a_scenario_error():
    with pytest.raises(ScenarioError):
        scenario_from_yaml("name: x\nyears: !!float abc\n", source="tag.yaml")


def test_malformed_set_date_is_a_scenario_error():
    with pytest.raises(ScenarioError):
        parse_override("years=2001-13-01")


def test_deeply_nested_yaml_is_a_scenario_error():
    with pytest.raises(ScenarioError):
        scenario_from_yaml("[" * 5000, source="deep.yaml")


# --- schema, with_overrides, YAML round trip ------------------------------------------------------------


def test_schema_describes_the_file():
    schema = json_schema()
    assert schema["title"] == "paysim scenario"
    assert {"name", "years", "services"} <= set(schema["else"]["required"])  # a whole scenario
    assert schema["then"]["required"] == ["extends", "name"]  # a file that extends another gives what it changes
    assert "services" in schema["properties"] and "extends" in schema["properties"]
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # plain JSON


def test_bundled_scenarios_match_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    for name, path in bundled_scenarios().items():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "extends" in data:  # a file that extends another is checked once made whole
            data = extend(data, name, path.parent)
        jsonschema.validate(data, schema)
        assert load_scenario(path).name == name
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(changed(lambda d: d["services"]["inpatient"].update(bed=3)), schema)


def test_with_overrides_returns_a_new_validated_scenario():
    base = load_scenario(DEFAULT)
    more = base.with_overrides({"services.inpatient.beds": 240, "seed": 7})
    assert (more.services.inpatient.beds, more.seed) == (240, 7)
    assert base.services.inpatient.beds == 118  # frozen: the base is unchanged
    assert more.services.community == base.services.community
    assert base.with_overrides(["services.inpatient.beds=240", "seed=7"]) == more
    with pytest.raises(ScenarioError, match=re.escape("services.inpatient.beds: must be >= 0, got -1")):
        base.with_overrides({"services.inpatient.beds": -1})


def test_scenarios_are_frozen():
    scenario = load_scenario(DEFAULT)
    with pytest.raises(Exception, match="frozen"):
        scenario.years = 2


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_to_yaml_round_trips(name):
    scenario = load_scenario(bundled_scenarios()[name])
    again = scenario_from_yaml(scenario.to_yaml(), source="round trip")
    assert again == scenario
    assert again.to_yaml() == scenario.to_yaml()


BASE = load_scenario(DEFAULT)


@settings(PROPERTY, max_examples=40)
@given(
    beds=st.integers(0, 500),
    growth=st.floats(-0.5, 0.5, allow_nan=False),
    years=st.integers(1, 10),
    repatriate=st.booleans(),
)
def test_to_yaml_round_trips_any_valid_change(beds, growth, years, repatriate):
    scenario = BASE.with_overrides(
        {
            "services.inpatient.beds": beds,
            "services.community.growth": growth,
            "years": years,
            "services.inpatient.oap.repatriate": repatriate,
        }
    )
    assert scenario_from_yaml(scenario.to_yaml()) == scenario


# --- property tests: nothing but ScenarioError ------------------------------------------------------------

KEYS = (
    "name years seed services inpatient beds los_days dist mean sd community capacity crisis talking_therapies "
    "growth seasonality amplitude contracts block"
).split()
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["lognormal", "fixed", "provider", "1e3", "", "-5"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.integers()), inner, max_size=4),
    ),
    max_leaves=12,
)


def loads_or_scenario_error(call) -> None:
    try:
        result = call()
    except ScenarioError as exc:
        assert str(exc)
    else:
        assert isinstance(result, Scenario)


def dotted_paths(data, prefix: str = "") -> list[str]:
    """Every dotted key of a nested mapping (mappings and leaves)."""
    paths = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, dict):
            paths.extend(dotted_paths(value, path + "."))
    return paths


DEFAULT_PATHS = dotted_paths(DEFAULT_DATA)


@PROPERTY
@given(data=st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), values, max_size=6))
def test_random_mappings_only_raise_scenario_error(data):
    loads_or_scenario_error(lambda: scenario_from_dict(data, "random.yaml"))


@PROPERTY
@given(path=st.sampled_from(DEFAULT_PATHS), value=values)
def test_one_wrong_value_in_the_default_only_raises_scenario_error(path, value):
    data = apply_overrides(DEFAULT_DATA, {path: value})
    loads_or_scenario_error(lambda: scenario_from_dict(data, "changed.yaml"))


YAML_ALPHABET = " \n\t:-[]{},#&*!|>?%@'\"abnuyesltr019._"


@PROPERTY
@given(text=st.text(alphabet=YAML_ALPHABET, max_size=120))
def test_random_yaml_text_only_raises_scenario_error(text):
    loads_or_scenario_error(lambda: scenario_from_yaml(text, source="random.yaml"))


@PROPERTY
@given(data=st.data())
def test_mangled_default_yaml_only_raises_scenario_error(data):
    """Cut a random slice out of the default file and paste random YAML characters in its place."""
    start = data.draw(st.integers(0, len(DEFAULT_TEXT)))
    end = data.draw(st.integers(start, min(len(DEFAULT_TEXT), start + 40)))
    insert = data.draw(st.text(alphabet=YAML_ALPHABET, max_size=10))
    text = DEFAULT_TEXT[:start] + insert + DEFAULT_TEXT[end:]
    loads_or_scenario_error(lambda: scenario_from_yaml(text, source="mangled.yaml"))


@PROPERTY
@given(
    overrides=st.lists(
        st.one_of(
            st.text(max_size=30),
            st.builds(
                lambda key, value: f"{key}={value}",
                st.sampled_from([*DEFAULT_PATHS, "", ".", "x..y", "services.nope"]),
                st.text(alphabet=YAML_ALPHABET, max_size=12),
            ),
        ),
        max_size=3,
    )
)
def test_random_set_strings_only_raise_scenario_error(overrides):
    loads_or_scenario_error(lambda: scenario_from_yaml(DEFAULT_TEXT, source="default.yaml", overrides=overrides))
