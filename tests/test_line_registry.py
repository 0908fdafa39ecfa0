"""Service lines carry their currencies and their own measures (``paysim.model.lines``), and every list of them
is read from there: what a price counts, which measures a scenario has, the contracts' and costs' per-line keys."""

from __future__ import annotations

import pytest

from paysim.activity import measure_kinds
from paysim.model import scenario, services
from paysim.model.lines import REFERRAL_CURRENCIES, SERVICE_LINES, SERVICES, TREATMENT_LINES, WARD_CURRENCIES
from paysim.model.terms import LINE_CURRENCIES, Currencies, PlannedUnits
from paysim.money.payment.currencies import measure_for


@pytest.mark.parametrize(
    ("key", "measure"),
    [
        ("community.contact", "community.caseload_mean"),
        ("talking_therapies.course", "talking_therapies.completed"),
        ("crisis.episode", "crisis.started"),
        ("inpatient.episode", "inpatient.local_admissions"),
        ("inpatient.bed_day", "inpatient.local_bed_days"),
        ("inpatient.oap_bed_day", "inpatient.oap_bed_days"),
    ],
)
def test_a_currency_counts_the_measure_its_line_declares(key, measure):
    assert measure_for(key) == measure


def test_a_currency_a_line_does_not_have_raises_naming_its_currencies():
    with pytest.raises(ValueError, match=r"inpatient\.contact: inpatient has no currency 'contact'; its currencies "
                                         r"are bed_day, oap_bed_day, episode"):  # fmt: skip
        measure_for("inpatient.contact")
    with pytest.raises(ValueError, match=r"unknown service line 'wards'"):
        measure_for("wards.bed_day")


def test_the_contracts_per_line_keys_are_the_lines_and_their_currencies():
    for model in (Currencies, PlannedUnits):
        assert tuple(model.model_fields) == SERVICES
    assert LINE_CURRENCIES == tuple(REFERRAL_CURRENCIES) == ("contact", "course", "episode")
    prices = Currencies(community={"contact": 120.0}, inpatient={"bed_day": 575.0})
    assert prices.items() == {"community.contact": 120.0, "inpatient.bed_day": 575.0}
    assert {line.name: tuple(line.currencies) for line in SERVICE_LINES}["inpatient"] == tuple(WARD_CURRENCIES)


def test_treatment_lines_are_those_that_draw_assessment_and_dropout():
    assert TREATMENT_LINES == ("talking_therapies", "community")


def test_a_lines_own_measures_and_those_that_need_the_ward():
    lines = ("talking_therapies", "community", "crisis")
    with_ward = measure_kinds(lines, inpatient=True)
    without = measure_kinds(lines, inpatient=False)
    for name in ("talking_therapies.started_within_long_standard", "talking_therapies.recovered"):
        assert with_ward[name] == without[name] == "count"
    for name in ("community.stepdowns", "crisis.admissions"):  # patients passed to or taken from the ward
        assert with_ward[name] == "count" and name not in without
    assert "community.assessed_only" in without and "crisis.assessed_only" not in without


def test_the_line_models_live_in_services_and_import_from_scenario_too():
    for name in ("Services", "Community", "TalkingTherapies", "Crisis", "Inpatient", "places_by_year", "LINES"):
        assert getattr(scenario, name) is getattr(services, name)
    assert scenario.Scenario.model_fields["services"].annotation is services.Services
