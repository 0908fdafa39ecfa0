"""Risk-share corridor: band, shares, cap and collar; settled at the end of each contract year."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paysim.model.terms import Corridor
from paysim.money.payment.corridor import corridor_transfer, risk_share

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
CORRIDOR = Corridor(band=0.01, overspend_share=0.5, underspend_share=0.5, cap=0.02, collar=0.02)


@pytest.mark.parametrize(
    ("deficit", "transfer"),
    [
        (0.5e6, 0.0),  # inside the 1m band: the provider keeps it
        (3e6, 1e6),  # 2m beyond the band, half paid by the commissioner
        (5e6, 2e6),  # 4m beyond, half is 2m: exactly the cap
        (10e6, 2e6),  # 9m beyond, half would be 4.5m: capped at 2 % of 100m
        (-3e6, -1e6),  # 3m surplus: 2m beyond the band, half returned
        (-10e6, -2e6),  # collar: at most 2m returned
    ],
)
def test_worked_examples(deficit, transfer):
    # contract value 100m: band 1m, cap 2m, collar 2m
    got = corridor_transfer(CORRIDOR, np.array([[deficit]]), np.array([100e6]))
    assert got[0, 0] == pytest.approx(transfer)


def test_no_cap_no_band():
    open_corridor = Corridor(overspend_share=0.3, underspend_share=0.6)
    got = corridor_transfer(open_corridor, np.array([[10e6, -10e6]]), np.array([100e6, 100e6]))
    assert got[0].tolist() == pytest.approx([3e6, -6e6])


def test_settled_in_the_last_month_of_each_year():
    cost = np.full((1, 24), 9e6)  # 108m a year
    income = np.full((1, 24), 100e6 / 12)  # 100m a year: deficit 8m
    monthly = risk_share(CORRIDOR, cost, income, np.array([100e6, 100e6]))
    assert np.count_nonzero(monthly) == 2
    assert monthly[0, 11] == pytest.approx(2e6) and monthly[0, 23] == pytest.approx(2e6)  # 3.5m capped at 2m


@PROPERTY
@given(
    deficit=st.floats(-1e9, 1e9),
    value=st.floats(1e6, 1e9),
    band=st.floats(0, 0.2),
    over=st.floats(0, 1),
    under=st.floats(0, 1),
    cap=st.floats(0, 0.2),
    collar=st.floats(0, 0.2),
)
def test_the_corridor_never_moves_more_than_its_cap(deficit, value, band, over, under, cap, collar):
    c = Corridor(band=band, overspend_share=over, underspend_share=under, cap=cap, collar=collar)
    t = corridor_transfer(c, np.array([[deficit]]), np.array([value]))[0, 0]
    assert -collar * value * (1 + 1e-12) <= t <= cap * value * (1 + 1e-12)
    assert t * deficit >= 0  # support only for a deficit, clawback only for a surplus
    assert abs(t) <= max(abs(deficit) - band * value, 0) * (1 + 1e-12)  # never more than the excess
