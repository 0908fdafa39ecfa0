"""The provider's costs: hand-computed worked examples for every part, calendars and inflation."""

from __future__ import annotations

import numpy as np
import pytest
from money_builders import activity, scenario

from paysim.money.costs import financial_year, inflation_index, provider_costs, staff_cost_per_year

COSTS = {
    "pay_inflation": 0.05,
    "price_inflation": 0.02,
    "contacts_per_week": {"community": 0.5},
    "staff": {
        "community": {"cost_per_wte": 60000, "agency_premium": 0.5},  # 100 WTE, 10 % vacant, half covered
        "crisis": {"wte": 20, "cost_per_wte": 48000},
    },
    "beds": {"fixed_per_bed_per_year": 120000, "per_occupied_bed_day": 50, "oap_per_bed_day": 600},
    "unit_costs": {"talking_therapies": {"course": 900}, "community": {"contact": 10}},
    "overheads": {"per_year": 1_200_000, "share_of_direct": 0.1},
}
MEASURES = {
    "inpatient.local_bed_days": 300.0,
    "inpatient.oap_bed_days": 20.0,
    "talking_therapies.completed": 40.0,
    "community.caseload_mean": 700.0,
}


def test_financial_year_steps_every_april():
    assert financial_year(4, 24).tolist() == [0] * 12 + [1] * 12
    # January start: Jan-Mar are the tail of one financial year, April opens the next.
    assert financial_year(1, 16).tolist() == [0, 0, 0] + [1] * 12 + [2]
    assert np.allclose(inflation_index(0.1, 1, 16)[[0, 3, 15]], [1.0, 1.1, 1.21])


def test_staff_cost_vacancies_save_pay_agency_costs_a_premium():
    # 90 filled x 50,000 + 5 agency x 75,000 = 4,875,000 GBP a year
    assert staff_cost_per_year(100, 50000, 0.1, 0.5, 0.5) == pytest.approx(4_875_000)
    assert staff_cost_per_year(100, 50000, 0.0, 0.0, 0.5) == pytest.approx(5_000_000)
    assert staff_cost_per_year(100, 50000, 0.2, 0.0, 0.5) == pytest.approx(4_000_000)  # vacancies save pay


def test_worked_example_first_month():
    costs = provider_costs(scenario(costs=COSTS), activity(MEASURES))
    month0 = {name: part[0, 0] for name, part in costs.parts.items()}
    expected = {
        "community.staff": 100 * 60000 * (0.9 + 0.1 * 0.5 * 1.5) / 12,  # 487,500
        "crisis.staff": 20 * 48000 / 12,  # 80,000
        "inpatient.ward": 10 * 120000 / 12,  # 100,000
        "inpatient.bed_days": 300 * 50,  # 15,000
        "inpatient.oap": 20 * 600,  # 12,000
        "talking_therapies.course": 40 * 900,  # 36,000
        "community.contact": 700 * 30 * 0.5 / 7 * 10,  # April has 30 days: 15,000
    }
    direct = 745_500
    expected["overheads"] = 1_200_000 / 12 + 0.1 * direct  # 174,550
    assert month0 == pytest.approx(expected)
    assert costs.total[0, 0] == pytest.approx(920_050)
    assert costs.parts["community.contact"][0, 1] == pytest.approx(700 * 31 * 0.5 / 7 * 10)  # May: 15,500
    assert np.all(costs.commissioner_oap == 0)


def test_worked_example_second_year_inflation():
    costs = provider_costs(scenario(costs=COSTS), activity(MEASURES))
    pay = (487_500 + 80_000 + 100_000) * 1.05  # 700,875
    price = (15_000 + 12_000 + 36_000 + 15_000) * 1.02  # 79,560
    overheads = 100_000 * 1.02 + 0.1 * (pay + price)  # 180,043.5
    assert costs.total[1, 12] == pytest.approx(pay + price + overheads)  # 960,478.5
    assert costs.total[1, 12] == pytest.approx(960_478.5)


def test_oap_spend_falls_on_whoever_pays_for_it():
    act = activity(MEASURES)
    by_commissioner = provider_costs(scenario({"oap_paid_by": "commissioner"}, COSTS), act)
    assert np.all(by_commissioner.parts["inpatient.oap"] == 0)
    assert by_commissioner.commissioner_oap[0, 0] == pytest.approx(12_000)
    shared = provider_costs(scenario({"oap_paid_by": "shared", "oap_provider_share": 0.25}, COSTS), act)
    assert shared.parts["inpatient.oap"][0, 0] == pytest.approx(3_000)
    assert shared.commissioner_oap[0, 0] == pytest.approx(9_000)
    assert shared.commissioner_oap[0, 12] == pytest.approx(9_000 * 1.02)
    provider = provider_costs(scenario(costs=COSTS), act)
    # moving OAPs to the commissioner lowers the provider's cost by the OAP spend and its overhead share
    gap = provider.total - by_commissioner.total
    assert np.allclose(gap, provider.parts["inpatient.oap"] * 1.1)


def test_by_service_adds_up():
    costs = provider_costs(scenario(costs=COSTS), activity(MEASURES))
    services = costs.by_service()
    assert np.allclose(sum(services.values()), costs.total)
    assert services["community"][0, 0] == pytest.approx(487_500 + 15_000)
    assert services["inpatient"][0, 0] == pytest.approx(100_000 + 15_000 + 12_000)
    assert services["talking_therapies"][0, 0] == pytest.approx(36_000)


def test_costs_follow_activity_per_replication():
    bed_days = np.array([[300.0] * 24, [400.0] * 24])
    costs = provider_costs(scenario(costs=COSTS), activity({**MEASURES, "inpatient.local_bed_days": bed_days}))
    # 100 more bed days at 50, plus the 10 % overhead share: 5,500 GBP more in month 0
    assert costs.total[1, 0] - costs.total[0, 0] == pytest.approx(100 * 50 * 1.1)
    assert costs.total.shape == (2, 24)


def test_no_costs_block_costs_nothing():
    costs = provider_costs(scenario(), activity(MEASURES))
    assert np.all(costs.total == 0)


def test_community_staff_needs_a_community_line():
    data = scenario(costs=COSTS)
    no_community = data.model_copy(update={"services": data.services.model_copy(update={"community": None})})
    with pytest.raises(ValueError, match=r"services\.community"):
        provider_costs(no_community, activity(MEASURES))
