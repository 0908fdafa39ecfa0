"""Service lines and payment rules are declared once; every list of them is read from the declarations, and a
name that is not declared fails loudly."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import paysim.money.payment
from paysim.app_support import common
from paysim.cli import display
from paysim.engines import reuse
from paysim.model import lines, scenario, terms
from paysim.money import costs, finance
from paysim.money.payment import PAYMENT_RULES, Payment, PaymentRule, PricedActivity, payment_rule
from paysim.money.payment.block import block_payment


def test_every_rule_the_contracts_know_is_declared_once_in_reporting_order():
    assert tuple(PAYMENT_RULES) == terms.RULES
    assert all(isinstance(rule, PaymentRule) and rule.name == name for name, rule in PAYMENT_RULES.items())
    assert {name for name, rule in PAYMENT_RULES.items() if rule.priced} == set(terms.PRICED_RULES)


def test_the_app_and_the_command_line_read_their_names_and_colours_from_the_rules():
    assert common.RULE_LABELS == {"block": "Block", "activity": "Activity", "blended": "Blended",
                                  "capitation": "Capitation", "api": "API"}  # fmt: skip
    assert common.RULE_COLOURS == {name: rule.colour for name, rule in PAYMENT_RULES.items()}
    assert len(set(common.RULE_COLOURS.values())) == len(PAYMENT_RULES)  # one colour per rule
    assert display.RULE_NAMES["blended"] == "blended (the 2019/20 design)"


def test_an_unknown_rule_raises_and_is_never_priced_as_another():
    with pytest.raises(ValueError, match=r"unknown payment rule 'bundled'; the rules are block, activity"):
        payment_rule("bundled")


def test_a_rule_the_contracts_know_without_a_module_stops_the_import(monkeypatch):
    monkeypatch.setattr(paysim.money.payment, "RULES", (*terms.RULES, "toy"))
    with pytest.raises(ImportError, match=r"toy in paysim.model.terms.RULES without a module declaring RULE"):
        paysim.money.payment._declared()


def test_a_rule_is_paid_through_its_one_pay_function():
    """Block's ``pay`` is :func:`block_payment` on the shape and cost of what it is paid on (worked example: a
    contract of 1.2 million a year is 100,000 a month, whatever the activity)."""
    block = terms.BlockTerms(annual_value=1_200_000)
    cost = np.full((2, 12), 90_000.0)
    priced = PricedActivity({}, np.full(12, 30.0), cost, {})
    paid = PAYMENT_RULES["block"].pay(block, priced)
    np.testing.assert_array_equal(paid.income, block_payment(block, 2, 12, cost).income)
    np.testing.assert_allclose(paid.income, 100_000.0)


def test_every_list_of_lines_is_read_from_the_declarations():
    assert lines.SERVICES == ("talking_therapies", "community", "crisis", "inpatient")
    assert costs.SERVICES == lines.SERVICES
    assert scenario.LINES == terms.REFERRAL_LINES == ("talking_therapies", "community", "crisis")
    assert finance.CORE_SERVICES == ("community", "crisis", "inpatient")
    assert common.LINE_LABELS == {
        "talking_therapies": "Talking therapies",
        "community": "Community",
        "crisis": "Crisis",
    }
    assert sorted(reuse.LINES) == sorted(lines.SERVICES)


def test_an_unknown_line_raises():
    assert lines.service_line("crisis").kind == "referral"
    with pytest.raises(ValueError, match=r"unknown service line 'eating_disorders'; the lines are talking_therapies"):
        lines.service_line("eating_disorders")


def test_the_readme_toy_rule_pays_its_worked_example():
    """*Extending paysim*: a flat fee of 1.2 million a year against a cost of 90,000 a month."""

    def pay(terms, priced: PricedActivity) -> Payment:
        replications, months = priced.shape
        income = np.full((replications, months), terms.annual_value / 12)  # twelfths, GBP per month
        return Payment({"toy": income}, np.full((replications, months // 12), terms.annual_value))  # GBP a year

    toy = PaymentRule("toy", pay, label="Toy", title="toy (a flat fee)", colour="#e45756")
    cost = np.full((3, 24), 90_000.0)
    paid = toy.pay(SimpleNamespace(annual_value=1_200_000.0), PricedActivity({}, np.full(24, 30.0), cost, {}))
    np.testing.assert_allclose(paid.income, 100_000.0)
    ledger = finance.Ledger("toy", paid.income, cost, commissioner_spend=paid.income)
    np.testing.assert_allclose(ledger.provider_surplus, 10_000.0)
    np.testing.assert_allclose(finance.system_cost(ledger), 24 * 90_000.0)  # 90,000 a month over 24 months
