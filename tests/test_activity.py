"""Activity: how each kind of measure aggregates over months and years, on hand-built numbers."""

from __future__ import annotations

import numpy as np
import pytest

from paysim.activity import Activity, measure_kinds
from paysim.monitors import area_by_month, count_by_month, level_at


def make(months: int = 24) -> Activity:
    ones = np.ones((2, months))
    monthly = {
        "inpatient.oap_bed_days": ones * 10,
        "inpatient.occupancy_mean": np.vstack([np.full(months, 0.9), np.r_[np.full(months - 1, 0.8), 1.0]]),
        "community.started": np.vstack([np.full(months, 2.0), np.r_[np.zeros(months - 1), 4.0]]),
        "community.wait_days_mean": np.vstack([np.full(months, 5.0), np.r_[np.full(months - 1, np.nan), 9.0]]),
        "community.waiting_end": np.arange(months) * ones,
    }
    kinds = {
        "inpatient.oap_bed_days": "days",
        "inpatient.occupancy_mean": "time_mean",
        "community.started": "count",
        "community.wait_days_mean": "start_mean",
        "community.waiting_end": "stock",
    }
    return Activity(monthly, kinds, np.array([0, 1]), start_month=4, engine="test")


def test_totals_by_kind():
    a = make()
    assert list(a.total("inpatient.oap_bed_days")) == [240, 240]
    assert list(a.total("community.waiting_end")) == [23, 23]  # the list at the end, not a sum
    # last month of row 1 (March, 31 days) at 1.0, the other 700 days at 0.8
    assert a.total("inpatient.occupancy_mean")[1] == pytest.approx((0.8 * (730 - 31) + 1.0 * 31) / 730)
    # waits weighted by starts; months without starts (NaN mean) carry no weight
    assert list(a.total("community.wait_days_mean")) == [5.0, 9.0]


def test_yearly_uses_the_same_rules_per_contract_year():
    a = make()
    np.testing.assert_array_equal(a.yearly("community.waiting_end"), [[11, 23], [11, 23]])
    np.testing.assert_array_equal(a.yearly("inpatient.oap_bed_days"), [[120, 120], [120, 120]])
    assert np.isnan(a.yearly("community.wait_days_mean")[1, 0]) and a.yearly("community.wait_days_mean")[1, 1] == 9


def test_concat_keeps_replication_order_and_rejects_bad_shapes():
    a = make()
    joined = Activity.concat([a, a])
    assert list(joined.replications) == [0, 1, 0, 1] and joined["community.started"].shape == (4, 24)
    with pytest.raises(ValueError, match="shape"):
        Activity({"a": np.ones((2, 3)), "b": np.ones((2, 4))}, {"a": "count", "b": "count"}, np.arange(2), 4, "x")


def test_measure_names_follow_the_public_contract():
    public = measure_kinds(["talking_therapies", "community", "crisis"], inpatient=True, public_only=True)
    assert "inpatient.oap_bed_days" in public and "crisis.wait_days_mean" in public
    assert "inpatient.discharges" not in public
    everything = measure_kinds(["community"], inpatient=False)
    assert "community.stepdowns" not in everything and "community.withdrawn" in everything


def test_monitors_by_hand():
    edges = np.array([0.0, 10.0, 20.0])
    # level 1 from -5 to 3, 2 from 3 to 15, 0 after 25: areas 1*3 + 2*7 = 17 and 2*5 + 1... see below
    times = np.array([-5.0, 3.0, 15.0, 25.0])
    levels = np.array([1, 2, 1, 0])
    np.testing.assert_allclose(area_by_month(times, levels, edges), [1 * 3 + 2 * 7, 2 * 5 + 1 * 5])
    np.testing.assert_array_equal(level_at(times, levels, np.array([-6.0, 3.0, 20.0])), [0, 2, 1])
    np.testing.assert_array_equal(count_by_month(np.array([-1.0, 0.0, 9.99, 10.0, 20.0]), edges), [2, 1])
