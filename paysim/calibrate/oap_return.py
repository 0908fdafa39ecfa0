"""NHS Digital's out-of-area placements (OAP) open-data file, as published: one month a file.

Each file is a long CSV of ``Question`` (the figure), breakdowns (``Breakdown1`` and its code, optionally
``Breakdown2`` and its code, with or without description columns) and ``value``. Three layouts were published
in the collection's first months, and this reader knows each (:data:`LAYOUTS`):

* ``2016-10`` (October 2016): no split of ended placements by length; an ``Average stay (days)`` figure;
* ``2016-11`` (November 2016): ended placements split by length (1-7, 8-14, 15-30, 31+ nights);
* ``2016-12`` (December 2016 on): as November, with description columns beside each code.

Values of 1 to 5 are suppressed as ``*`` and counts are rounded to 5 (disclosure control); a suppressed value is
read as missing, never as 0. The month is read from the file's published name (``oaps-open-data-dec-2016.csv``).

:func:`read_oap_return` reads a sending provider's figures (``Breakdown1 = SendingProvider``, its code, e.g.
``RVN``) — all bed types, since the file does not split a provider by bed type — or, with ``provider="England"``
and ``bed_type="10"``, England's adult acute figures. :meth:`OapReturn.measures` gives them under paysim's
measure names (``inpatient.oap_admissions`` for placements started, ``inpatient.oap_bed_days``,
``inpatient.oap_ended`` and its length bands, ``inpatient.oap_end`` for those active at the month's end).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paysim.calibrate.monthly import DataError, MonthlyData, month_after, months_between
from paysim.model.limits import shown_name

QUESTIONS = {
    "OAPs started in period": "started",
    "OAPs ended during period": "ended",
    "OAPs active at period end": "active_end",
    "Total number of OAP days over the period": "oap_days",
    "Number of OAPs that ended in the period with a length of 1-7 nights": "ended_1_7",
    "Number of OAPs that ended in the period with a length of 8-14 nights": "ended_8_14",
    "Number of OAPs that ended in the period with a length of 15-30 nights": "ended_15_30",
    "Number of OAPs that ended in the period with a length of 31 or more nights": "ended_31_plus",
    "Average recorded daily cost over the period": "daily_cost",
    "Total recorded costs over the period": "recorded_cost",
    "Percentage of OAP days with cost recorded": "share_costed",
    "Average stay (days)": "average_stay",
}
"""The return's figures this reader keeps, by their ``Question`` text."""

FIGURE_MEASURES = {
    "started": "inpatient.oap_admissions",
    "ended": "inpatient.oap_ended",
    "active_end": "inpatient.oap_end",
    "oap_days": "inpatient.oap_bed_days",
    "ended_1_7": "inpatient.oap_ended_1_7",
    "ended_8_14": "inpatient.oap_ended_8_14",
    "ended_15_30": "inpatient.oap_ended_15_30",
    "ended_31_plus": "inpatient.oap_ended_31_plus",
}
"""paysim's measure for each figure of the return that is one."""


@dataclass(frozen=True)
class Layout:
    """One published layout: its header and a figure only it has (to tell it apart)."""

    name: str
    header: tuple[str, ...]
    marker: str


LAYOUTS = (
    Layout(
        "2016-10",
        ("Question", "Breakdown1", "Breakdown1Code", "Breakdown2", "Breakdown2Code", "value"),
        "Average stay (days)",
    ),
    Layout(
        "2016-11",
        ("Question", "Breakdown1", "Breakdown1Code", "Breakdown2", "Breakdown2Code", "value"),
        "Number of OAPs that ended in the period with a length of 1-7 nights",
    ),
    Layout(
        "2016-12",
        (
            "Question",
            "Breakdown1",
            "Breakdown1Code",
            "Breakdown1Description",
            "Breakdown2",
            "Breakdown2Code",
            "Breakdown2Description",
            "value",
        ),
        "Number of OAPs that ended in the period with a length of 1-7 nights",
    ),
)
"""The layouts this reader knows."""

_NAME = re.compile(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[-_ ]?(\d{4})", re.IGNORECASE)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MAX_BYTES = 32 * 2**20
"""Largest OAP file read (a published month is about 1 MiB)."""


@dataclass(frozen=True)
class OapMonth:
    """One month of one provider's OAP figures (None: suppressed, or not in that month's layout)."""

    month: str
    layout: str
    source: str
    figures: dict[str, float | None] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float | None:
        return self.figures.get(name)


@dataclass(frozen=True)
class OapReturn:
    """A provider's OAP figures over the months read, oldest first."""

    provider: str
    bed_type: str | None
    months: tuple[OapMonth, ...]

    @property
    def span(self) -> str:
        return f"{self.months[0].month}..{self.months[-1].month} ({len(self.months)} months)"

    def series(self, figure: str) -> np.ndarray:
        """One figure per month, ``[M]`` (NaN where suppressed or not published)."""
        return np.array([np.nan if m[figure] is None else m[figure] for m in self.months], dtype=float)

    def measures(self) -> MonthlyData:
        """The figures under paysim's measure names, as a monthly table over consecutive months (a measure with no
        value in any month is left out; NaN where a month's value is suppressed)."""
        first, last = self.months[0].month, self.months[-1].month
        months = tuple(month_after(first, i) for i in range(months_between(first, last) + 1))
        index = {m.month: i for i, m in enumerate(self.months)}
        values = {}
        for figure, measure in FIGURE_MEASURES.items():
            series = self.series(figure)
            if np.isfinite(series).any():
                full = np.full(len(months), np.nan)
                for i, month in enumerate(months):
                    if month in index:
                        full[i] = series[index[month]]
                values[measure] = full
        who = "England" if self.provider == "England" else f"provider {self.provider}"
        return MonthlyData(months, values, f"OAP return ({who})")

    def daily_cost(self) -> tuple[float, float, int]:
        """Recorded daily cost over the months (GBP): total recorded cost / costed OAP days, its standard error
        from the spread of the monthly averages, and the months it rests on."""
        cost = self.series("recorded_cost")
        days = self.series("oap_days") * self.series("share_costed")
        ok = np.isfinite(cost) & np.isfinite(days) & (days > 0)
        if not ok.any():
            return float("nan"), float("nan"), 0
        value = float(cost[ok].sum() / days[ok].sum())
        monthly = cost[ok] / days[ok]
        se = float(monthly.std(ddof=1) / np.sqrt(ok.sum())) if ok.sum() > 1 else float("nan")
        return value, se, int(ok.sum())


def month_of(path: Path) -> str:
    """The month a published file holds, from its name (``oaps-open-data-dec-2016.csv`` -> ``2016-12``)."""
    match = _NAME.search(path.name)
    if not match:
        raise DataError(
            f"{shown_name(path)}: cannot tell which month the file holds from its name; keep the published name, "
            "such as oaps-open-data-dec-2016.csv"
        )
    return f"{int(match.group(2)):04d}-{_MONTHS.index(match.group(1).lower()[:3]) + 1:02d}"


def read_oap_month(path: str | Path, provider: str, bed_type: str | None = None) -> OapMonth:
    """One published month's figures for a sending provider (``bed_type`` only with ``provider="England"``).

    Raises
    ------
    DataError
        If the file is not one of :data:`LAYOUTS` (naming its header), the provider is not in it (with a
        did-you-mean), or a value is not a number or ``*``.
    """
    path = Path(path)
    name = shown_name(path)
    month = month_of(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise DataError(f"{name}: is larger than {MAX_BYTES / 2**20:g} MiB; a published month is about 1 MiB")
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{name}: is not a readable CSV file ({exc})") from None
    if not rows:
        raise DataError(f"{name}: is empty")
    header = tuple(c.strip() for c in rows[0])
    questions = {row[0] for row in rows[1:] if row}
    layout = next((lay for lay in LAYOUTS if lay.header == header and lay.marker in questions), None)
    if layout is None:
        known = "; ".join(f"{lay.name}: {', '.join(lay.header)}" for lay in LAYOUTS)
        raise DataError(
            f"{name}: row 1: not an NHS Digital OAP open-data file of a layout paysim reads (got columns "
            f"{', '.join(header)[:200]}); the layouts known are {known}"
        )
    col = {c: i for i, c in enumerate(header)}
    code_at, kind2_at, value_at = col["Breakdown1Code"], col["Breakdown2"], col["value"]
    want_kind, want_code = ("SendingProvider", provider) if provider != "England" else ("England", "")
    if provider == "England" and bed_type is not None:
        want_kind, want_code = "BedType", bed_type
    if provider != "England" and bed_type is not None:
        raise DataError(f"{name}: the file does not split a sending provider's figures by bed type")
    figures: dict[str, float | None] = {}
    codes: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{name}: row {number}: {len(row)} cells, the header has {len(header)}")
        if row[1] == "SendingProvider":
            codes.add(row[code_at])
        if row[1] != want_kind or row[code_at] != want_code or row[kind2_at] != "":
            continue
        figure = QUESTIONS.get(row[0])
        if figure is None:
            continue
        figures[figure] = _value(row[value_at], name, number)
    if not figures:
        if provider == "England":
            raise DataError(f"{name}: no England rows for bed type {bed_type!r}")
        hint = difflib.get_close_matches(provider, sorted(codes), n=3, cutoff=0.5)
        extra = f"; did you mean {' or '.join(repr(h) for h in hint)}?" if hint else ""
        raise DataError(
            f"{name}: column 'Breakdown1Code': no sending provider {provider!r} in the file{extra} "
            f"({len(codes)} sending providers, e.g. {', '.join(sorted(codes)[:6])})"
        )
    return OapMonth(month, layout.name, name, figures)


def _value(text: str, name: str, row: int) -> float | None:
    text = text.strip()
    if text in ("*", ""):
        return None
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{name}: row {row}, column 'value': must be a number or *, got {text!r}") from None


def read_oap_return(paths: Sequence[str | Path], provider: str, bed_type: str | None = None) -> OapReturn:
    """A provider's figures from several published months (one file each), oldest first.

    Raises
    ------
    DataError
        On any file's problem (:func:`read_oap_month`), or two files of the same month.
    """
    if not paths:
        raise DataError("--oap-return: give at least one published OAP file")
    if not provider or not provider.strip():
        raise DataError("--provider: give the sending provider's code, e.g. --provider RVN")
    months = [read_oap_month(p, provider.strip(), bed_type) for p in paths]
    seen: dict[str, str] = {}
    for m in months:
        if m.month in seen:
            raise DataError(f"{m.source}: holds {m.month}, as {seen[m.month]} does; give each month once")
        seen[m.month] = m.source
    return OapReturn(provider.strip(), bed_type, tuple(sorted(months, key=lambda m: m.month)))
