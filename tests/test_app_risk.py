"""Who carries which risk (paysim.analysis.risk): hand-computed variances of each party's position, and its labels."""

from __future__ import annotations

import numpy as np
import pytest

from paysim.analysis import risk
from tests import money_builders as mb

PRICE = 600.0
BLOCK = 1_000_000.0


def block_trust(oap_paid_by: str = "provider", years: int = 1):
    contracts = {"oap_paid_by": oap_paid_by, "block": {"annual_value": BLOCK}}
    costs = {"beds": {"fixed_per_bed_per_year": 0, "per_occupied_bed_day": 0, "oap_per_bed_day": PRICE}}
    return mb.scenario(contracts, costs, years=years)


def oap_days(years: int = 1):
    """10, 20 and 30 OAP bed days a month in three replications."""
    return mb.activity(
        {"inpatient.oap_bed_days": np.array([[10.0], [20.0], [30.0]]), "inpatient.local_bed_days": 0.0},
        replications=3,
        months=12 * years,
    )


def test_oap_risk_under_block_is_the_providers_by_hand():
    scenario, activity = block_trust(), oap_days()
    found = risk.attribute(scenario, activity)
    assert found.rules == ("block",)
    provider, commissioner = found.variance[0]
    oap = risk.RISKS.index("oap")
    # From run to run: yearly OAP cost 120, 240, 360 bed days x 600: variance (120 x 600)^2.
    by_runs = (120 * PRICE) ** 2
    # From the OAP price: uniform 550..650 (sd 100 / sqrt 12), slope -240 bed days a year on the mean surplus.
    by_price = (240 * 100 / np.sqrt(12)) ** 2
    assert provider[oap, 0] == pytest.approx(by_runs + by_price, rel=1e-9)
    assert found.shares[0, 0, oap, 0] == pytest.approx(1.0)
    assert found.largest("block", "provider") == ("oap", pytest.approx(1.0))
    assert commissioner.sum() == 0.0  # a block's spend does not move
    assert found.shares[0, 1].sum() == 0.0


def test_oap_risk_moves_to_the_commissioner_when_it_pays_for_them():
    found = risk.attribute(block_trust("commissioner"), oap_days())
    oap = risk.RISKS.index("oap")
    assert found.variance[0, 0].sum() == 0.0  # the provider's surplus is the block, every run
    assert found.variance[0, 1, oap, 0] == pytest.approx((120 * PRICE) ** 2 + (240 * 100 / np.sqrt(12)) ** 2)


def test_a_party_position_is_the_sum_of_its_parts():
    scenario, activity = block_trust(), oap_days()
    costs, books = risk.priced(scenario, activity)
    for party in risk.PARTIES:
        total = sum(risk.position_parts(books["block"], costs, party).values())
        assert np.allclose(risk.yearly_totals(total), risk.position(books["block"], party))
    with pytest.raises(ValueError, match="'ICB' is not a party"):
        risk.position(books["block"], "ICB")


def test_positions_by_financial_year_by_hand():
    rows = risk.positions(risk.priced(block_trust(years=2), oap_days(years=2))[1])
    provider = [row for row in rows if row["party"] == "provider"]
    assert [row["financial_year"] for row in provider] == ["2026/27", "2027/28"]
    # Surplus = block - 12 x days x 600: runs 928,000, 856,000, 784,000; mean 856,000 (year 1, no uplift).
    assert provider[0]["expected"] == pytest.approx(BLOCK - 240 * PRICE)
    assert provider[0]["bad_year"] == pytest.approx(np.quantile([928e3, 856e3, 784e3], 0.05))
    commissioner = [row for row in rows if row["party"] == "commissioner"]
    assert commissioner[0]["bad_year"] == pytest.approx(BLOCK)


def test_part_names_and_labels():
    assert set(risk.RISK_LABELS) == set(risk.RISKS)
    assert risk.risk_of_part("fixed") == "baseline"
    assert risk.risk_of_part("cost:inpatient.ward") == "demand"
    assert risk.financial_year(1) == "2026/27" and risk.financial_year(4) == "2029/30"


def test_the_sentence_names_who_carries_the_risk():
    found = risk.attribute(block_trust(), oap_days())
    sentence = risk.carrier_sentence(found, "block", "Block")
    spread = np.sqrt((120 * PRICE) ** 2 + (240 * 100 / np.sqrt(12)) ** 2)  # about £72,300
    assert sentence == (
        "Under Block the provider carries most of the risk: its surplus moves by about "
        f"{risk.millions(spread)} in a typical year (one standard deviation), 100 % of it from out-of-area "
        "placements; the commissioner's spend does not move."
    )
    assert risk.millions(spread) == "£0.1m"
    moved = risk.carrier_sentence(risk.attribute(block_trust("commissioner"), oap_days()), "block", "Block")
    assert moved.startswith("Under Block the commissioner carries most of the risk: its spend")
    assert moved.endswith("the provider's surplus does not move.")
