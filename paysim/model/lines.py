"""The service lines, declared once: every list of lines in paysim is read from :data:`SERVICE_LINES`.

A line is a referral line (people referred to a team with a caseload: talking therapies, community, crisis) or
the ward (admissions to beds, with out-of-area placements). Its MHIS category says which part of the Mental
Health Investment Standard its spend counts towards (:func:`paysim.money.finance.mhis`). Its streams are the
random streams it draws from (:mod:`paysim.model.streams`); the engines name them with :func:`line_stream`. Its
currencies are the units it can be priced and costed in, each counting one of its measures
(:mod:`paysim.money.payment.currencies`), and its own measures are those only it has
(:func:`paysim.activity.measure_kinds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from paysim.model import streams as st
from paysim.model.plugins import declared_class, plugin_declarations

REFERRAL_STREAMS = (st.ARRIVALS, st.EPISODE_DAYS, st.PATIENCE, st.INITIAL)
"""What every referral line draws: arrivals, each referral's episode and patience, and with a steady-state start
the people it holds when the warm-up starts."""

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
    currencies : mapping of str to str
        Its currencies (``contact``, ``bed_day``, ...: the keys under ``prices.<name>``, ``unit_costs.<name>`` and
        ``planned_units.<name>``) and the measure each counts, the last part of its name (``caseload_mean``).
        Default: a referral line's, :data:`REFERRAL_CURRENCIES`.
    measures : mapping of str to str
        Measures only this line has (beyond every referral line's or the ward's), ``{measure: kind}`` with the
        kinds of :data:`paysim.activity.Kind`.
    ward_measures : mapping of str to str
        Measures only this line has that count patients it passes to or takes from the ward, so counted only when
        the scenario has one.
    contacts_per_week : float
        A referral line's default contacts per person in treatment per week (``costs.contacts_per_week.<name>``).
    section : type, optional
        The pydantic model of its ``services.<name>`` block (a :class:`paysim.model.services.ReferralLine` or
        ``TreatmentLine`` subclass, or one of paysim's own such as ``Community``), or its ``"module:Class"``
        (``"paysim.model.services:Community"``): a plugin's line is read before :mod:`paysim.model.services`
        can be imported. None for paysim's own lines, whose models :mod:`paysim.model.services` names; a line
        from a plugin must give one.
    staff : type, optional
        The pydantic model of its ``costs.staff.<name>`` block: :class:`paysim.model.terms.StaffGroup` (its own
        WTE) or a model without ``wte`` such as ``CommunityStaff`` (WTE, vacancies and agency cover read from
        ``services.<name>.capacity``, which then has ``funded_wte``), or its ``"module:Class"``. None for
        paysim's own lines.
    """

    name: str
    kind: Literal["referral", "ward"]
    label: str
    mhis: Literal["core", "talking_therapies"]
    streams: tuple[str, ...]
    currencies: Mapping[str, str] = field(default_factory=lambda: dict(REFERRAL_CURRENCIES), hash=False)
    measures: Mapping[str, str] = field(default_factory=dict, hash=False)
    ward_measures: Mapping[str, str] = field(default_factory=dict, hash=False)
    contacts_per_week: float = 1.0
    section: type | str | None = field(default=None, hash=False)
    staff: type | str | None = field(default=None, hash=False)

    @property
    def treatment(self) -> bool:
        """Whether its referrals are assessed and its starters may drop out (it draws those streams)."""
        return st.ASSESSMENT in self.streams and st.DROPOUT in self.streams


REFERRAL_CURRENCIES = {"contact": "caseload_mean", "course": "completed", "episode": "started"}
"""A referral line's currencies and what each counts: contacts (caseload days x contacts per week / 7, from the
mean caseload), finished courses (dropouts not counted), started episodes."""

WARD_CURRENCIES = {"bed_day": "local_bed_days", "oap_bed_day": "oap_bed_days", "episode": "local_admissions"}
"""The ward's currencies: occupied local bed days, out-of-area bed days, local admissions."""

SERVICE_LINES_GROUP = "paysim.service_lines"
"""Entry-point group of service lines declared outside paysim (a plugin's :class:`ServiceLine`, see README
*Extending paysim*)."""

SERVICE_LINES: tuple[ServiceLine, ...] = (
    ServiceLine(
        "talking_therapies",
        "referral",
        "Talking therapies",
        "talking_therapies",
        (*TREATMENT_STREAMS, st.RECOVERY),
        measures={"started_within_long_standard": "count", "recovered": "count"},
        contacts_per_week=1.0,
    ),
    ServiceLine(
        "community",
        "referral",
        "Community",
        "core",
        (*TREATMENT_STREAMS, st.STEPDOWN_EPISODE, st.STEPDOWN_PATIENCE),
        ward_measures={"stepdowns": "count"},
        contacts_per_week=0.5,
    ),
    ServiceLine(
        "crisis",
        "referral",
        "Crisis",
        "core",
        (*REFERRAL_STREAMS, st.BED_NEED, st.LOS),
        ward_measures={"admissions": "count"},
        contacts_per_week=3.0,
    ),
    ServiceLine(
        "inpatient",
        "ward",
        "Inpatient",
        "core",
        (st.ARRIVALS, st.LOS, st.READMISSION, st.READMISSION_DELAY, st.READMISSION_LOS, st.INITIAL),
        currencies=WARD_CURRENCIES,
    ),
    *plugin_declarations(SERVICE_LINES_GROUP, ServiceLine),
)
"""Every service line, in reporting order: paysim's, then installed plugins' by name."""

BUILT_IN_LINES = ("talking_therapies", "community", "crisis", "inpatient")
"""paysim's own lines, whose sections and staff models paysim names; every other line declares its own."""

SERVICES = tuple(line.name for line in SERVICE_LINES)
if len(set(SERVICES)) != len(SERVICES):
    raise ImportError(
        f"service lines declared twice: {', '.join(sorted({n for n in SERVICES if SERVICES.count(n) > 1}))}"
    )
for _line in SERVICE_LINES:
    if _line.name not in BUILT_IN_LINES and (_line.kind != "referral" or _line.section is None or _line.staff is None):
        raise ImportError(
            f"service line {_line.name!r}: a line from a plugin is a referral line with its section and staff models"
        )
"""Every line's name: the services that costs are attributed to (plus ``overheads``)."""

REFERRAL_LINES = tuple(line.name for line in SERVICE_LINES if line.kind == "referral")
"""Referral-based lines, in reporting order."""

CORE_SERVICES = tuple(line.name for line in SERVICE_LINES if line.mhis == "core")
"""Lines counted as core for the MHIS split (talking therapies is the other part)."""

LINE_LABELS = {line.name: line.label for line in SERVICE_LINES}
"""How each line is named on screen."""

TREATMENT_LINES = tuple(line.name for line in SERVICE_LINES if line.treatment)
"""Lines whose referrals are assessed and whose starters may drop out (``treated_share``, ``dropout_share``)."""


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


def line_models(part: Literal["section", "staff"], built_in: Mapping[str, type]) -> dict[str, type]:
    """Every line's model of ``part`` (its ``services.<line>`` block, or its ``costs.staff.<line>`` block), by line
    name in reporting order: paysim's own lines' from ``built_in``, a plugin's line's from its declaration
    (``"module:Class"``, resolved once the models it builds on are importable)."""
    return {
        line.name: built_in[line.name]
        if getattr(line, part) is None
        else declared_class(getattr(line, part), f"service line {line.name!r}: {part}")
        for line in SERVICE_LINES
    }


__all__ = [
    "BUILT_IN_LINES",
    "CORE_SERVICES",
    "LINE_LABELS",
    "REFERRAL_LINES",
    "SERVICES",
    "SERVICE_LINES",
    "SERVICE_LINES_GROUP",
    "TREATMENT_LINES",
    "ServiceLine",
    "line_models",
    "line_stream",
    "service_line",
]
