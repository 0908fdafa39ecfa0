"""The closed forms used as references, checked against values computed by hand."""

from __future__ import annotations

import pytest

from paysim.analysis.queueing import erlang_b, erlang_c, mginf_local_and_overflow, mmc_mean_wait


def test_erlang_b_small_cases_by_hand():
    assert erlang_b(1, 1.0) == pytest.approx(0.5)  # a / (1 + a)
    # B(2, 2) = (a^2 / 2) / (1 + a + a^2 / 2) = 2 / 5
    assert erlang_b(2, 2.0) == pytest.approx(0.4)
    assert erlang_b(0, 3.0) == 1.0


def test_erlang_c_and_mm1_wait():
    # M/M/1: P(wait) = rho, mean wait = rho / (mu - lambda) = 0.5 / (1 - 0.5) = 1 (unit mean service)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert mmc_mean_wait(0.5, 1.0, 1) == pytest.approx(1.0)
    # M/M/2 with a = 1: C = (a^2/2 * 2/(2-1)) / (1 + a + a^2/2 * 2/(2-1)) = 1 / 3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="offered_load"):
        erlang_c(2, 2.0)


def test_mginf_split_adds_up_to_the_load():
    local, overflow = mginf_local_and_overflow(9.5, 10)
    assert local + overflow == pytest.approx(9.5)
    assert 0 < overflow < 1.5 and local < 10
    assert mginf_local_and_overflow(2.0, 1000)[1] == pytest.approx(0.0, abs=1e-12)
