"""Names, colours and number formats shared by the app's tables and charts."""

from __future__ import annotations

import math
from typing import Any

import yaml

from paysim.model.lines import LINE_LABELS as ALL_LABELS
from paysim.model.lines import REFERRAL_LINES
from paysim.money.payment import PAYMENT_RULES

RULE_LABELS = {name: rule.label for name, rule in PAYMENT_RULES.items()}
"""How each payment rule is named on screen (declared with the rule: :data:`paysim.money.payment.PAYMENT_RULES`)."""

RULE_COLOURS = {name: rule.colour for name, rule in PAYMENT_RULES.items()}
"""One colour per rule, the same in every chart (declared with the rule)."""

LINE_LABELS = {name: label for name, label in ALL_LABELS.items() if name in REFERRAL_LINES}
"""How each referral line is named on screen (declared with the line: :data:`paysim.model.lines.SERVICE_LINES`)."""

MEASURE_WORDS = {
    "bed_requests": "bed requests",
    "oap_admissions": "out-of-area admissions",
    "local_admissions": "local admissions",
    "local_bed_days": "local bed days",
    "oap_bed_days": "out-of-area bed days",
    "repatriations": "patients brought back from out of area",
    "readmissions": "readmissions",
    "occupancy_mean": "local beds occupied (mean)",
    "referrals": "referrals",
    "started": "treatments started",
    "started_within_standard": "started within the waiting standard",
    "caseload_mean": "caseload (mean)",
    "waiting_end": "waiting at the end",
    "wait_days_mean": "wait to start (mean)",
    "assessed_only": "assessed only",
    "dropped_out": "dropped out",
    "recovered": "in reliable recovery",
}
"""How each activity measure is named on screen, by the last part of its name (the keys of
:data:`paysim.activity.MEASURE_UNITS`)."""


def measure_name(measure: str) -> str:
    """An activity measure for people: ``"inpatient.oap_bed_days"`` -> ``"Inpatient: out-of-area bed days"``.

    Raises ValueError for a measure with no name here (add it to :data:`MEASURE_WORDS`).

    >>> measure_name("inpatient.oap_bed_days"), measure_name("talking_therapies.started_within_standard")
    ('Inpatient: out-of-area bed days', 'Talking therapies: started within the waiting standard')
    """
    line, _, last = measure.partition(".")
    if line not in ALL_LABELS or last not in MEASURE_WORDS:
        raise ValueError(f"{measure!r} has no name on screen: add its line or measure to paysim.app_support.common")
    return f"{ALL_LABELS[line]}: {MEASURE_WORDS[last]}"


SCENARIOS_ENV = "PAYSIM_SCENARIOS"
"""Environment variable naming extra scenario files or folders (separated by ``os.pathsep``) for the app."""

TAIL = 0.05
"""Tail share for the expected shortfall: the average of the worst 5 % of runs."""


# --- formatting ---------------------------------------------------------------------------------------


def gbp(value: float | None, decimals: int = 0) -> str:
    """Money for people: ``£1,234,567``, ``-£250,000``; ``-`` for a missing value.

    >>> gbp(1234567.4), gbp(-250000), gbp(float("nan"))
    ('£1,234,567', '-£250,000', '-')
    """
    if value is None or not math.isfinite(value):
        return "-"
    text = f"£{abs(value):,.{decimals}f}"
    return "-" + text if round(value, decimals) < 0 else text


def gbp_change(value: float | None, decimals: int = 0) -> str:
    """A change in money with its sign: ``+£1,234``, ``-£1,234``, ``£0``.

    >>> gbp_change(1234.0), gbp_change(-99.6), gbp_change(0.2)
    ('+£1,234', '-£100', '£0')
    """
    if value is None or not math.isfinite(value):
        return "-"
    if round(value, decimals) == 0:
        return gbp(0.0, decimals)
    return ("+" if value > 0 else "") + gbp(value, decimals)


def percent(share: float | None, decimals: int = 0) -> str:
    """A share 0..1 as a percentage: ``0.153 -> "15 %"``; ``-`` if missing.

    >>> percent(0.153), percent(0.0042, 1), percent(None)
    ('15 %', '0.4 %', '-')
    """
    if share is None or not math.isfinite(share):
        return "-"
    return f"{100 * share:,.{decimals}f} %"


def number(value: float | None, decimals: int = 0) -> str:
    """A plain quantity with thousands separators: ``12,345``; ``-`` if missing."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.{decimals}f}"


def yaml_cell(value: Any) -> Any:
    """A scenario value for a table cell: lists and mappings as one line of YAML, other values as they are."""
    if isinstance(value, list | dict):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return value


MONEY_UNITS = {"£m": 1e6, "£000": 1e3}
"""The bases money can be shown in, chosen once on the page: GBP per unit."""


def money(value: float | None, unit: str = "£m", sign: bool = False) -> str:
    """Money on the page's basis: ``£1.2m`` (one decimal) or ``£1,235k`` (whole thousands); ``-`` if missing.

    ``sign`` puts ``+`` before a rise (a change). ``-`` before the pound sign marks a deficit or a fall.

    >>> money(1_234_567), money(-1_234_567, "£000"), money(50_000, sign=True), money(None)
    ('£1.2m', '-£1,235k', '+£0.1m', '-')
    """
    if value is None or not math.isfinite(value):
        return "-"
    if unit not in MONEY_UNITS:
        raise ValueError(f"{unit!r} is not a money basis; bases are {', '.join(MONEY_UNITS)}")
    scaled = value / MONEY_UNITS[unit]
    decimals, suffix = (1, "m") if unit == "£m" else (0, "k")
    if round(scaled, decimals) == 0:
        return f"£{0:.{decimals}f}{suffix}"
    text = f"£{abs(scaled):,.{decimals}f}{suffix}"
    if scaled < 0:
        return "-" + text
    return ("+" if sign else "") + text
