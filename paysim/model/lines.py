"""The service lines, declared once: every list of lines in paysim is read from :data:`SERVICE_LINES`.

A line is a referral line (people referred to a team with a caseload: talking therapies, community, crisis) or
the ward (admissions to beds, with out-of-area placements). Its MHIS category says which part of the Mental
Health Investment Standard its spend counts towards (:func:`paysim.money.finance.mhis`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ServiceLine:
    """One service line.

    Attributes
    ----------
    name : str
        Its key under ``services:`` and the first part of its measures (``community.referrals``).
    kind : str
        ``referral`` (a team with a caseload) or ``ward`` (beds).
    label : str
        How the app names it.
    mhis : str
        ``core`` or ``talking_therapies``: the part of the MHIS its spend counts towards.
    """

    name: str
    kind: Literal["referral", "ward"]
    label: str
    mhis: Literal["core", "talking_therapies"]


SERVICE_LINES: tuple[ServiceLine, ...] = (
    ServiceLine("talking_therapies", "referral", "Talking therapies", "talking_therapies"),
    ServiceLine("community", "referral", "Community", "core"),
    ServiceLine("crisis", "referral", "Crisis", "core"),
    ServiceLine("inpatient", "ward", "Inpatient", "core"),
)
"""Every service line, in reporting order."""

SERVICES = tuple(line.name for line in SERVICE_LINES)
"""Every line's name: the services that costs are attributed to (plus ``overheads``)."""

REFERRAL_LINES = tuple(line.name for line in SERVICE_LINES if line.kind == "referral")
"""Referral-based lines, in reporting order."""

CORE_SERVICES = tuple(line.name for line in SERVICE_LINES if line.mhis == "core")
"""Lines counted as core for the MHIS split (talking therapies is the other part)."""

LINE_LABELS = {line.name: line.label for line in SERVICE_LINES}
"""How each line is named on screen."""


def service_line(name: str) -> ServiceLine:
    """The line of that name; a ValueError naming the lines for any other."""
    for line in SERVICE_LINES:
        if line.name == name:
            return line
    raise ValueError(f"unknown service line {name!r}; the lines are {', '.join(SERVICES)}")


__all__ = ["CORE_SERVICES", "LINE_LABELS", "REFERRAL_LINES", "SERVICES", "SERVICE_LINES", "ServiceLine", "service_line"]
