"""The service lines, declared once: every list of lines in paysim is read from :data:`SERVICE_LINES`.

A line is a referral line (people referred to a team with a caseload: talking therapies, community, crisis) or
the ward (admissions to beds, with out-of-area placements). Its MHIS category says which part of the Mental
Health Investment Standard its spend counts towards (:func:`paysim.money.finance.mhis`). Its streams are the
random streams it draws from (:mod:`paysim.model.streams`); the engines name them with :func:`line_stream`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from paysim.model import streams as st

REFERRAL_STREAMS = (st.ARRIVALS, st.EPISODE_DAYS, st.PATIENCE)
"""What every referral line draws: arrivals, each referral's episode and patience."""

TREATMENT_STREAMS = (*REFERRAL_STREAMS, st.FIRST_APPOINTMENT, st.ASSESSMENT, st.DROPOUT)
"""A treatment line (talking therapies, community) also draws each referral's outcome and first appointment
(:mod:`paysim.engines.referral_outcomes`; each only when its key is away from its default)."""


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
    streams : tuple of str
        The parts of its random streams' names, ``<name>.<part>`` (:mod:`paysim.model.streams`).
    """

    name: str
    kind: Literal["referral", "ward"]
    label: str
    mhis: Literal["core", "talking_therapies"]
    streams: tuple[str, ...]


SERVICE_LINES: tuple[ServiceLine, ...] = (
    ServiceLine(
        "talking_therapies", "referral", "Talking therapies", "talking_therapies", (*TREATMENT_STREAMS, st.RECOVERY)
    ),
    ServiceLine(
        "community", "referral", "Community", "core", (*TREATMENT_STREAMS, st.STEPDOWN_EPISODE, st.STEPDOWN_PATIENCE)
    ),
    ServiceLine("crisis", "referral", "Crisis", "core", (*REFERRAL_STREAMS, st.BED_NEED, st.LOS)),
    ServiceLine(
        "inpatient",
        "ward",
        "Inpatient",
        "core",
        (st.ARRIVALS, st.LOS, st.READMISSION, st.READMISSION_DELAY, st.READMISSION_LOS),
    ),
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


def line_stream(line: str, part: str) -> str:
    """The name of line ``line``'s stream ``part`` (``"community.arrivals"``); a ValueError for a part the line
    does not declare in :attr:`ServiceLine.streams`, so a misspelt stream fails instead of drawing new numbers."""
    declared = service_line(line).streams
    if part not in declared:
        raise ValueError(f"line {line!r} has no stream {part!r}; its streams are {', '.join(declared)}")
    return f"{line}.{part}"


__all__ = [
    "CORE_SERVICES",
    "LINE_LABELS",
    "REFERRAL_LINES",
    "SERVICES",
    "SERVICE_LINES",
    "ServiceLine",
    "line_stream",
    "service_line",
]
