"""Block payment: worked examples, uplift, rebasing to outturn, and no dependence on activity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from paysim.model.terms import BlockTerms
from paysim.money.payment import block_payment
from paysim.money.payment.block import block_value

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


def test_worked_example_twelfths_and_uplift():
    terms = BlockTerms(annual_value=120_000_000, uplift=0.018)
    payment = block_payment(terms, replications=3, months=36)
    income = payment.income
    assert income.shape == (3, 36)
    assert np.allclose(income[:, :12], 10_000_000)  # 120m / 12
    assert np.allclose(income[:, 12:24], 10_180_000)  # 120m x 1.018 / 12
    assert np.allclose(income[:, 24:], 120_000_000 * 1.018**2 / 12)  # 10,363,240
    assert payment.contract_value[0].tolist() == pytest.approx([120e6, 122.16e6, 124.35888e6])


def test_negative_uplift_is_a_real_terms_cut():
    income = block_payment(BlockTerms(annual_value=12_000, uplift=-0.1), 1, 24).income
    assert income[0, 0] == pytest.approx(1_000) and income[0, 12] == pytest.approx(900)


def test_rebasing_resets_the_value_to_last_years_cost_outturn():
    terms = BlockTerms(annual_value=12_000_000, uplift=0.02, rebase=True)
    cost = np.full((2, 36), 1_100_000.0)  # outturn 13.2m a year
    cost[1] = 900_000.0  # outturn 10.8m a year
    value = block_value(terms, 2, 36, cost)
    # year 1 as agreed; years 2 and 3: last year's outturn x 1.02
    assert value[0].tolist() == pytest.approx([12e6, 13.2e6 * 1.02, 13.2e6 * 1.02])
    assert value[1].tolist() == pytest.approx([12e6, 10.8e6 * 1.02, 10.8e6 * 1.02])
    assert block_payment(terms, 2, 36, cost).income[0, 12] == pytest.approx(13.2e6 * 1.02 / 12)


def test_rebasing_needs_the_cost():
    with pytest.raises(ValueError, match="outturn"):
        block_value(BlockTerms(annual_value=1, rebase=True), 1, 24)


@PROPERTY
@given(
    value=st.floats(0, 1e9),
    uplift=st.floats(-0.5, 0.5),
    cost=arrays(np.float64, (4, 24), elements=st.floats(0, 1e8)),
)
def test_block_income_does_not_vary_across_replications(value, uplift, cost):
    income = block_payment(BlockTerms(annual_value=value, uplift=uplift), 4, 24, cost).income
    assert np.all(income == income[0])
    assert income[0, :12].sum() == pytest.approx(value)
