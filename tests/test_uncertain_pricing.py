"""The money side of uncertainty runs: each replication's scenario built once and cheaply
(:meth:`Scenario.with_values`), and pricing over a chunk of replications with their own terms."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest

from paysim.activity import Activity
from paysim.model import uncertainty
from paysim.model.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario, scenario_from_dict
from paysim.money import finance, payment
from paysim.money.costs import provider_costs
from paysim.runs import psa
from paysim.runs.montecarlo import run_chunk

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


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=() if name == "default" else pytest.mark.slow) for name in BUNDLED]
)
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


# --- pricing a chunk of replications, each with its own terms -------------------------------------------


def every_term(default: Scenario) -> Scenario:
    """The default scenario with the money's optional terms it leaves out: a block rebased on cost, a blended plan
    on last year's outturn, an API plan of fixed units with a local variable element, a capitation corridor,
    a rule's own uplift, OAP spend shared, a unit cost per contact, overheads and staff by WTE for every line
    that has them."""
    data = default.model_dump(mode="json", exclude_none=True)
    contracts, costs = data["contracts"], data["costs"]
    contracts["oap_paid_by"] = "shared"
    contracts["oap_provider_share"] = 0.4
    contracts["block"].update(rebase=True, uplift=0.015)
    contracts["blended"]["baseline"] = {"source": "last_year", "error": 0.02, "growth": 0.01}
    units = {"inpatient": {"bed_day": 36000.0, "oap_bed_day": 4000.0}, "community": {"contact": 90000.0}}
    units |= {"crisis": {"contact": 150000.0}, "talking_therapies": {"course": 12000.0}}
    contracts["api"]["baseline"] = {"source": "fixed", "units": units, "error": -0.01, "growth": 0.02}
    contracts["api"]["variable"] = {"rate_above": 0.4, "rate_below": 0.6, "dead_band": 0.03}
    contracts["capitation"]["corridor"] = {"band": 0.02, "overspend_share": 0.5, "underspend_share": 0.3}
    costs["overheads"] = {"per_year": 2.5e6, "share_of_direct": 0.04}
    costs["unit_costs"]["community"] = {"contact": 12.0}
    return scenario_from_dict(data, source="every-term")


@pytest.fixture(scope="module")
def chunk():
    """The default scenario and its every-term variant at central values, and an Activity of three replications
    (two years, a short warm-up: the figures do not matter, only that every measure is there)."""
    default = uncertainty.central(bundled("default")).with_overrides({"years": 3, "warmup_days": 60})
    activity = run_chunk(default, [0, 1, 2], "vector")
    return {"default": default, "every-term": every_term(default)}, activity


def priced_alone(scenarios: list[Scenario], activity: Activity) -> dict[str, list]:
    """Each row priced alone with its own scenario (the run's planned level from every row, as in a PSA)."""
    level = psa.expected_level(scenarios, activity)
    out: dict[str, list] = {}
    for i, scenario in enumerate(scenarios):
        row = psa.rows(activity, [i])
        for rule, ledger in finance.ledgers(scenario, row, provider_costs(scenario, row), level=level).items():
            out.setdefault(rule, []).append(ledger)
    return out


def assert_priced_as_alone(scenarios: list[Scenario], activity: Activity) -> None:
    """:func:`psa.ledgers_by_replication` at once equals each row alone: every rule, every ledger line, every
    part of income and the contract value, bit for bit."""
    assert psa.stacked(scenarios) is not None  # priced at once, not row by row
    together = psa.ledgers_by_replication(scenarios, activity)
    alone = priced_alone(scenarios, activity)
    assert list(together) == list(alone)
    for rule, ledgers in alone.items():
        for i, ledger in enumerate(ledgers):
            mine = together[rule]
            for line in finance.LEDGERS:
                np.testing.assert_array_equal(mine[line][i], ledger[line][0], err_msg=f"{rule}.{line}")
            assert list(mine.income_parts) == list(ledger.income_parts)
            for part, values in ledger.income_parts.items():
                np.testing.assert_array_equal(mine.income_parts[part][i], values[0], err_msg=f"{rule} {part}")
            np.testing.assert_array_equal(mine.contract_value[i], ledger.contract_value[0], err_msg=rule)


def varied(base: Scenario, key: str, value: int | float) -> list[Scenario]:
    """Three rows that differ in ``key`` alone (the central value and two others the scenario allows)."""
    others = (value + 1, value - 1) if isinstance(value, int) else (value * 1.03 + 1e-3, value * 0.97)
    rows = [base]
    for other in others:
        try:
            rows.append(base.with_values({key: other}))
        except ScenarioError:
            rows.append(base.with_values({key: value * 0.5 if isinstance(value, float) else value}))
    return rows


@pytest.mark.parametrize("name", ["default", "every-term"])
def test_each_number_differing_between_rows_prices_each_row_with_its_own(chunk, name):
    """Every number of the contracts and costs, beds and staff capacity, and the rest too (which the money does
    not read), varied between three rows: the chunk priced at once equals each row priced alone."""
    scenarios, activity = chunk
    base = scenarios[name]
    keys = [
        (key, value)
        for key, value in number_keys(base.model_dump(mode="json", exclude_none=True))
        if key.split(".")[0] in uncertainty.UNCERTAIN_ROOTS
    ]
    assert len(keys) > 80
    for key, value in keys:
        rows = varied(base, key, value)
        if all(row is rows[0] for row in rows):
            continue
        try:
            assert_priced_as_alone(rows, activity)
        except AssertionError as exc:
            raise AssertionError(f"{key}: {exc}") from None


def test_many_numbers_differing_at_once(chunk):
    """Every row with its own draw of contract, cost and capacity keys together (a PSA of money terms)."""
    scenarios, activity = chunk
    base = scenarios["every-term"]
    rng = np.random.default_rng(5)
    rows = []
    for _ in range(3):
        rows.append(
            base.with_values(
                {
                    "contracts.roll_forward.cost_uplift": float(rng.uniform(0.02, 0.04)),
                    "contracts.block.annual_value": float(rng.uniform(5e7, 6e7)),
                    "contracts.activity.prices.inpatient.bed_day": float(rng.uniform(500, 650)),
                    "contracts.blended.baseline.error": float(rng.uniform(-0.05, 0.05)),
                    "contracts.blended.corridor.cap": float(rng.uniform(0.01, 0.03)),
                    "contracts.capitation.population_growth": float(rng.uniform(0, 0.01)),
                    "contracts.api.cquin.share": float(rng.uniform(0.01, 0.02)),
                    "contracts.oap_provider_share": float(rng.uniform(0.2, 0.8)),
                    "costs.pay_inflation": float(rng.uniform(0.03, 0.06)),
                    "costs.cip.delivered_share": float(rng.uniform(0.5, 1.0)),
                    "costs.contacts_per_week.community": float(rng.uniform(0.2, 0.3)),
                    "costs.overheads.share_of_direct": float(rng.uniform(0, 0.1)),
                    "services.inpatient.beds": int(rng.integers(100, 130)),
                    "services.community.capacity.vacancy_rate": float(rng.uniform(0.05, 0.15)),
                    "services.community.capacity.growth": float(rng.uniform(0.0, 0.05)),
                }
            )
        )
    assert_priced_as_alone(rows, activity)
    yearly = psa.yearly_units(rows, activity)
    for i, row in enumerate(rows):
        alone = psa.yearly_units([row], psa.rows(activity, [i]))
        assert list(alone) == list(yearly)
        for key, values in alone.items():
            np.testing.assert_array_equal(yearly[key][i], values[0])
    cip = psa.cip_by_replication(rows, activity)
    for i, row in enumerate(rows):
        for name, values in psa.cip_by_replication([row], psa.rows(activity, [i])).items():
            np.testing.assert_array_equal(cip[name][i], values[0])


def test_rows_differing_in_more_than_numbers_are_priced_group_by_group(chunk):
    scenarios, activity = chunk
    rows = [scenarios["default"], scenarios["every-term"], scenarios["default"]]
    assert psa.stacked(rows) is None
    together = psa.ledgers_by_replication(rows, activity)
    alone = priced_alone(rows, activity)
    for rule, ledgers in alone.items():
        for i, ledger in enumerate(ledgers):
            np.testing.assert_array_equal(together[rule].provider_income[i], ledger.provider_income[0])


def test_the_stacked_scenario_holds_an_array_per_row_only_where_rows_differ(chunk):
    scenarios, _ = chunk
    base = scenarios["default"]
    rows = [base, base.with_values({"costs.pay_inflation": 0.04}), base.with_values({"costs.pay_inflation": 0.06})]
    one = psa.stacked(rows)
    np.testing.assert_array_equal(one.costs.pay_inflation, [[0.05], [0.04], [0.06]])
    assert one.costs.price_inflation == base.costs.price_inflation
    assert one.contracts is base.contracts and one.services is base.services
    assert psa.stacked([base, base]) is base


def test_a_plugin_rule_is_priced_row_by_row(chunk, monkeypatch):
    """A rule declared outside paysim may read its terms as plain numbers: its rows are priced one scenario at a
    time (here the block rule's money, declared as if by a plugin)."""
    scenarios, activity = chunk
    base = scenarios["default"]
    real = payment.PAYMENT_RULES["block"]

    def pay(terms, priced):  # a plugin's money, which takes numbers only
        assert isinstance(terms.annual_value, float)
        return real.pay(terms, priced)

    monkeypatch.setitem(payment.PAYMENT_RULES, "block", dataclasses.replace(real, pay=pay))
    rows = [base, base.with_values({"contracts.block.annual_value": 6e7}), base]
    assert psa.stacked(rows) is None
    together = psa.ledgers_by_replication(rows, activity)
    for i, ledger in enumerate(priced_alone(rows, activity)["block"]):
        np.testing.assert_array_equal(together["block"].provider_income[i], ledger.provider_income[0])
