"""The Mental Health Investment Standard as the ICB's test: all its qualifying mental-health spend (this
provider's less exclusions, plus other providers, the independent and voluntary sectors, prescribing and
continuing healthcare) against its allocation growth plus a mental-health increment; the provider-level
figures kept beside it; today's numbers unchanged when the new keys are absent."""

from __future__ import annotations

import numpy as np
import pytest
from money_builders import activity, scenario

from paysim.model.scenario import ScenarioError
from paysim.model.terms import MHIS
from paysim.money.costs import provider_costs
from paysim.money.finance import ledgers, mhis, mhis_check

OTHER = {"other_providers": 250e6, "independent_sector": 60e6, "voluntary_sector": 40e6, "prescribing": 30e6}


def test_icb_worked_example_with_other_spend_increment_and_exclusions():
    """Prior year: 90m qualifying with the provider + 400m elsewhere = 490m. Required growth 5 % + 1 % = 6 %:
    minimum 519.4m. The provider is paid 104m, 10 % of it excluded: 93.6m; other spend grows 4 % to 416m;
    qualifying 509.6m fails by 9.8m. At provider level 93.6m against 90m x 1.06 = 95.4m fails by 1.8m."""
    terms = MHIS(
        allocation_growth=0.05,
        mental_health_increment=0.01,
        prior_year_spend=90e6,
        excluded_share=0.1,
        other_spend={**OTHER, "continuing_healthcare": 20e6},
        other_spend_growth=0.04,
    )
    check = mhis_check(terms, np.array([[104e6], [110e6]]))
    assert check.other_spend.tolist() == pytest.approx([416e6])
    assert check.provider_spend[:, 0].tolist() == pytest.approx([93.6e6, 99e6])
    assert check.spend[:, 0].tolist() == pytest.approx([509.6e6, 515e6])
    assert check.minimum[:, 0].tolist() == pytest.approx([519.4e6, 519.4e6])
    assert check.shortfall[:, 0].tolist() == pytest.approx([9.8e6, 4.4e6])
    assert check.met[:, 0].tolist() == [False, False]
    assert check.provider_minimum[:, 0].tolist() == pytest.approx([95.4e6, 95.4e6])
    assert check.provider_shortfall[:, 0].tolist() == pytest.approx([1.8e6, 0.0])
    assert check.provider_met[:, 0].tolist() == [False, True]  # the proxy passes where the ICB fails


def test_later_years_grow_from_last_years_icb_spend_with_trajectories():
    terms = MHIS(
        allocation_growth=[0.05, 0.03],
        mental_health_increment=[0.01, 0.005],
        prior_year_spend=100e6,
        other_spend={"other_providers": 100e6},
        other_spend_growth=[0.02, 0.04],
    )
    check = mhis_check(terms, np.array([[105e6, 108e6, 110e6]]))
    other = [102e6, 102e6 * 1.04, 102e6 * 1.04**2]
    assert check.other_spend.tolist() == pytest.approx(other)
    spend = [105e6 + other[0], 108e6 + other[1], 110e6 + other[2]]
    assert check.spend[0].tolist() == pytest.approx(spend)
    assert check.minimum[0].tolist() == pytest.approx([200e6 * 1.06, spend[0] * 1.035, spend[1] * 1.035])
    assert check.provider_minimum[0].tolist() == pytest.approx([106e6, 105e6 * 1.035, 108e6 * 1.035])


def test_the_icb_test_can_pass_on_other_spend_where_the_provider_proxy_fails():
    """Flat spend with the provider fails its proxy; 8 % growth elsewhere carries the ICB over its minimum."""
    terms = MHIS(
        allocation_growth=0.04, prior_year_spend=100e6, other_spend={"voluntary_sector": 300e6}, other_spend_growth=0.08
    )
    check = mhis_check(terms, np.array([[100e6, 100e6]]))
    assert check.met.all() and not check.provider_met.any()


def test_no_other_spend_no_increment_no_exclusions_are_todays_numbers_bit_for_bit():
    spend = np.array([[104e6, 107e6, 110e6], [105e6, 103e6, 111e6]])
    core = spend * 0.8
    today = mhis_check(MHIS(allocation_growth=[0.05, 0.03], prior_year_spend=100e6), spend, core, spend - core)
    neutral = mhis_check(
        MHIS(
            allocation_growth=[0.05, 0.03],
            prior_year_spend=100e6,
            mental_health_increment=0.0,
            excluded_share=0.0,
            other_spend={},
            other_spend_growth=0.04,
        ),
        spend,
        core,
        spend - core,
    )
    # the docs/sources.md example: 5 % on 100m gives 105m, so 104m fails by 1m
    assert today.minimum[0, 0] == pytest.approx(105e6) and today.shortfall[0, 0] == pytest.approx(1e6)
    for name in ("spend", "minimum", "shortfall", "core_spend", "talking_therapies_spend", "provider_spend"):
        assert np.array_equal(getattr(today, name), getattr(neutral, name), equal_nan=True), name
    assert np.array_equal(today.spend, spend)
    assert np.array_equal(today.provider_minimum, today.minimum) and np.array_equal(today.core_share, core / spend)


def test_without_a_prior_year_year_one_is_not_assessed_at_either_level():
    terms = MHIS(allocation_growth=0.05, other_spend={"prescribing": 10e6})
    check = mhis_check(terms, np.array([[104e6, 110e6]]))
    assert not check.assessed[0] and check.assessed[1]
    assert np.isnan(check.minimum[0, 0]) and np.isnan(check.provider_minimum[0, 0])
    assert check.shortfall[0, 0] == 0 and check.provider_shortfall[0, 0] == 0


PRICES = {"inpatient": {"bed_day": 400}, "talking_therapies": {"course": 900}}
CONTRACTS = {
    "oap_paid_by": "commissioner",
    "block": {"annual_value": 1_200_000},
    "api": {"prices": PRICES},
}
COSTS = {
    "beds": {"fixed_per_bed_per_year": 60_000, "per_occupied_bed_day": 100, "oap_per_bed_day": 600},
    "unit_costs": {"talking_therapies": {"course": 800}},
}
MEASURES = {
    "inpatient.local_bed_days": 200.0,
    "inpatient.oap_bed_days": 10.0,
    "talking_therapies.completed": 20.0,
    "inpatient.local_admissions": 5.0,
}


def test_mhis_per_rule_keeps_the_core_split_of_the_qualifying_spend_with_the_provider():
    """Block 1.2m a year + 72,000 of OAPs the commissioner buys = 1,272,000; 25 % excluded: 954,000 with the
    provider. The provider spends 70,000 a month on beds and 16,000 on talking therapies: 70/86 of the
    1.2m, plus the OAPs, is core, before the exclusion."""
    mhis_terms = {
        "allocation_growth": 0.05,
        "prior_year_spend": 900_000,
        "excluded_share": 0.25,
        "other_spend": {"voluntary_sector": 100_000},
    }
    sc = scenario({**CONTRACTS, "mhis": mhis_terms}, COSTS)
    act = activity(MEASURES)
    costs = provider_costs(sc, act)
    checks = mhis(sc, ledgers(sc, act, costs), costs)
    assert set(checks) == {"block", "api"}
    block = checks["block"]
    assert block.provider_spend[0].tolist() == pytest.approx([954_000, 954_000])
    assert block.spend[0].tolist() == pytest.approx([1_054_000, 1_054_000])
    assert block.minimum[0, 0] == pytest.approx(1_000_000 * 1.05)  # met in year 1
    assert block.shortfall[0, 1] == pytest.approx(1_054_000 * 0.05)  # flat spend fails in year 2
    assert block.core_spend[0, 0] == pytest.approx(0.75 * (1_200_000 * 70 / 86 + 72_000))
    assert block.talking_therapies_spend[0, 0] == pytest.approx(0.75 * 1_200_000 * 16 / 86)
    assert block.core_spend[0, 0] + block.talking_therapies_spend[0, 0] == pytest.approx(block.provider_spend[0, 0])
    assert block.core_share[0, 0] == pytest.approx((1_200_000 * 70 / 86 + 72_000) / 1_272_000)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("contracts.mhis.excluded_share", 1.5, "contracts.mhis.excluded_share: must be <= 1, got 1.5"),
        (
            "contracts.mhis.mental_health_increment",
            2,
            "contracts.mhis.mental_health_increment: must be <= 1",
        ),
        (
            "contracts.mhis.mental_health_increment",
            [0.01, -1.2],
            "contracts.mhis.mental_health_increment.1: must be >= -0.5",
        ),
        ("contracts.mhis.other_spend_growth", -1, "contracts.mhis.other_spend_growth: must be >= -0.5"),
        ("contracts.mhis.other_spend.prescribing", -5, "contracts.mhis.other_spend.prescribing: must be >= 0, got -5"),
        (
            "contracts.mhis.other_spend.learning_disability",
            1e6,
            "contracts.mhis.other_spend.learning_disability: unknown key",
        ),
        ("contracts.mhis.other_spend", 5e6, "contracts.mhis.other_spend: must be a mapping of keys"),
        ("contracts.mhis.allocation_growth", 1.5, "contracts.mhis.allocation_growth: must be <= 1"),
    ],
)
def test_bad_mhis_values_name_the_key(key, value, message):
    base = scenario({**CONTRACTS, "mhis": {"allocation_growth": 0.05}}, COSTS)
    with pytest.raises(ScenarioError, match=message):
        base.with_overrides({key: value})
