"""Activity payment and the currencies it prices: worked examples, uplift, linearity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from money_builders import activity

from paysim.model.terms import ActivityTerms
from paysim.money.payment import activity_payment
from paysim.money.payment.currencies import currency_units, measure_for

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
CONTACTS = {"talking_therapies": 1.0, "community": 0.5, "crisis": 3.0}


def test_currencies_count_the_right_measures():
    assert measure_for("inpatient.bed_day") == "inpatient.local_bed_days"
    assert measure_for("inpatient.oap_bed_day") == "inpatient.oap_bed_days"
    assert measure_for("inpatient.episode") == "inpatient.local_admissions"
    assert measure_for("community.contact") == "community.caseload_mean"
    assert measure_for("talking_therapies.course") == "talking_therapies.completed"
    assert measure_for("crisis.episode") == "crisis.started"


def test_contacts_are_caseload_days_times_weekly_rate():
    act = activity({"crisis.caseload_mean": 70.0})
    units = currency_units(["crisis.contact"], act.monthly, act.month_days, CONTACTS)
    # April: 70 people x 30 days x 3 contacts a week / 7 = 900 contacts; May (31 days): 930
    assert units["crisis.contact"][0, :2].tolist() == pytest.approx([900, 930])


def test_missing_line_is_named():
    act = activity({"inpatient.local_bed_days": 1.0})
    with pytest.raises(KeyError, match=r"services\.community"):
        currency_units(["community.contact"], act.monthly, act.month_days, CONTACTS)


def test_worked_example():
    # 6,000 local bed days at 575 and 2,000 community contacts at 280 in a month: 3,450,000 + 560,000
    terms = ActivityTerms(prices={"inpatient": {"bed_day": 575}, "community": {"contact": 280}}, uplift=0.02)
    units = {"inpatient.bed_day": np.full((2, 24), 6000.0), "community.contact": np.full((2, 24), 2000.0)}
    payment = activity_payment(terms, units)
    assert payment.income[0, 0] == pytest.approx(4_010_000)
    assert payment.parts["inpatient.bed_day"][0, 0] == pytest.approx(3_450_000)
    assert payment.income[1, 12] == pytest.approx(4_010_000 * 1.02)  # prices uplifted in year 2
    assert payment.contract_value[0].tolist() == pytest.approx([12 * 4_010_000, 12 * 4_010_000 * 1.02])


def test_course_and_oap_prices():
    terms = ActivityTerms(
        prices={"talking_therapies": {"course": 877}, "inpatient": {"oap_bed_day": 577, "episode": 1000}}
    )
    act = activity(
        {"talking_therapies.completed": 10.0, "inpatient.oap_bed_days": 100.0, "inpatient.local_admissions": 3.0}
    )
    keys = list(terms.prices.items())
    units = currency_units(keys, act.monthly, act.month_days, CONTACTS)
    assert activity_payment(terms, units).income[0, 0] == pytest.approx(10 * 877 + 100 * 577 + 3 * 1000)


@PROPERTY
@given(
    bed_days=st.lists(st.floats(0, 1e4), min_size=12, max_size=12),
    price=st.floats(0, 2000),
    factor=st.floats(0, 3),
)
def test_income_is_linear_in_activity(bed_days, price, factor):
    terms = ActivityTerms(prices={"inpatient": {"bed_day": price}})
    base = np.array([bed_days])
    one = activity_payment(terms, {"inpatient.bed_day": base}).income
    scaled = activity_payment(terms, {"inpatient.bed_day": factor * base}).income
    assert np.allclose(scaled, factor * one)
    assert np.allclose(one, base * price)
