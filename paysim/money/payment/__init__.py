"""Payment rules: pure functions from activity (units per month) and contract terms to provider income.

One module per rule -- :mod:`~paysim.money.payment.block`, :mod:`~paysim.money.payment.activity`,
:mod:`~paysim.money.payment.blended` (the 2019/20 design), :mod:`~paysim.money.payment.capitation`,
:mod:`~paysim.money.payment.api` (aligned payment and incentive, in force for mental health since 2022/23) -- and
shared parts: currencies (units of activity), plan (payment on planned activity: fixed payment and variable
element), outcomes (outcome-linked payment and indicator credits), corridor (risk share), roll_forward (how
values and prices move each year) and schedule (contract years, twelfths, year-to-date settlement). Rules
never touch an engine: they read ``[replication, month]`` arrays.

Each rule's module declares itself once, as ``RULE`` (a :class:`~paysim.money.payment.rule.PaymentRule`: name, one
``pay(terms, priced)`` function, label, title, colour); this package finds every module that does, and those that
installed packages declare under the entry-point group :data:`PAYMENT_RULES_GROUP`, and :data:`PAYMENT_RULES`
serves them in the order of :data:`paysim.model.terms.RULES` (the rules' terms,
:data:`~paysim.model.terms.CONTRACT_RULES`). A rule whose terms have no module, or a module whose rule has no
terms, stops the import with a message naming it.
"""

import importlib
import pkgutil

from paysim.model.terms import RULES, plugin_declarations
from paysim.money.payment.activity import activity_payment
from paysim.money.payment.api import api_payment
from paysim.money.payment.blended import blended_payment
from paysim.money.payment.block import block_payment
from paysim.money.payment.capitation import capitation_payment
from paysim.money.payment.income import Payment
from paysim.money.payment.plan import planned_units
from paysim.money.payment.roll_forward import yearly_change
from paysim.money.payment.rule import PaymentRule, PricedActivity

PAYMENT_RULES_GROUP = "paysim.payment_rules"
"""Entry-point group of payment rules' modules declared outside paysim (a plugin's ``RULE``, see README
*Extending paysim*); their terms are declared under :data:`paysim.model.terms.CONTRACT_RULES_GROUP`."""


def _declared() -> dict[str, PaymentRule]:
    """Every ``RULE`` declared by a module of this package or an installed plugin, by name."""
    found: dict[str, PaymentRule] = {}
    modules = [
        (module.name, getattr(importlib.import_module(module.name), "RULE", None))
        for module in pkgutil.iter_modules(__path__, f"{__name__}.")
    ]
    modules += [(f"entry point {rule.name}", rule) for rule in plugin_declarations(PAYMENT_RULES_GROUP, PaymentRule)]
    for where, rule in modules:
        if isinstance(rule, PaymentRule):
            if rule.name in found:
                raise ImportError(f"payment rule {rule.name!r} is declared twice (second in {where})")
            found[rule.name] = rule
    missing = [name for name in RULES if name not in found]
    unknown = [name for name in found if name not in RULES]
    if missing or unknown:
        raise ImportError(
            f"payment rules and contracts disagree: {', '.join(missing) or 'none'} in paysim.model.terms.RULES "
            f"without a module declaring RULE; {', '.join(unknown) or 'none'} declared without terms in "
            "paysim.model.terms.CONTRACT_RULES"
        )
    return {name: found[name] for name in RULES}


PAYMENT_RULES: dict[str, PaymentRule] = _declared()
"""Every payment rule, by name, in reporting order."""


def payment_rule(name: str) -> PaymentRule:
    """The rule of that name.

    Raises
    ------
    ValueError
        For a name that is not a rule, naming the rules there are.
    """
    if name not in PAYMENT_RULES:
        raise ValueError(f"unknown payment rule {name!r}; the rules are {', '.join(PAYMENT_RULES)}")
    return PAYMENT_RULES[name]


__all__ = [
    "PAYMENT_RULES",
    "RULES",
    "Payment",
    "PaymentRule",
    "PricedActivity",
    "activity_payment",
    "api_payment",
    "blended_payment",
    "block_payment",
    "capitation_payment",
    "payment_rule",
    "planned_units",
    "yearly_change",
]
