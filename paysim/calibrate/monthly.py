"""A trust's monthly figures: reading and checking the table ``paysim calibrate`` fits to.

The table is long — columns ``month``, ``measure``, ``value``, one row per month and measure — or wide — a
``month`` column and one column per measure, one row per month. ``month`` is a calendar month ``YYYY-MM`` (an
Excel or Parquet date is read as its month). Measure names are paysim's own (:func:`accepted_measures`: the
public measures of :mod:`paysim.activity` and its bookkeeping ones, such as ``inpatient.oap_ended_1_7``), so
``paysim run --monthly`` output of one replication, with ``month`` relabelled to calendar months, is valid input
(its ``replication`` column may stay if it holds one replication; its ``label`` column is ignored).

Every problem is a :class:`DataError` naming the file, the row (as a spreadsheet numbers it: the header is row
1) and the column: an unknown measure (with a did-you-mean), a month that is not ``YYYY-MM``, a month given
twice, months missing between the first and the last, a measure not given for every month, a value that is not a
number, negative, or not whole where a count must be.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paysim.activity import Activity, Kind, measure_kinds
from paysim.model.demand import MONTH_DAYS
from paysim.model.limits import shown_name
from paysim.model.scenario import LINES

SUFFIXES = (".csv", ".parquet", ".xlsx")
"""File types a monthly table may be."""
MAX_BYTES = 64 * 2**20
"""Largest monthly file read (64 MiB): ten years of every measure is under 1 MiB."""
MAX_ROWS = 200_000
"""Most rows read: ten years of every paysim measure in long form is about 7,000."""
MONTH = "month"
LONG_COLUMNS = ("month", "measure", "value")
"""The columns of the long form."""
IGNORED_COLUMNS = ("label",)
"""Columns of ``paysim run --monthly`` output that are not measures and are ignored."""

_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{2})$")


class DataError(ValueError):
    """The monthly table (or an OAP return) cannot be used; the message names the file, row and column."""


def accepted_measures() -> dict[str, Kind]:
    """Every measure name the table may use, with its kind (``count``, ``days``, ``stock``, ``time_mean``,
    ``start_mean``): the measures an engine returns for a trust with every line and beds."""
    return measure_kinds(LINES, inpatient=True)


@dataclass(frozen=True)
class MonthlyData:
    """A checked monthly table.

    Attributes
    ----------
    months:
        Consecutive calendar months ``"YYYY-MM"``, oldest first, shape ``[M]``.
    values:
        ``{measure: [M]}`` floats, one per month, in the order of :attr:`months`.
    source:
        What the table came from (a file name), for messages and comments.
    """

    months: tuple[str, ...]
    values: dict[str, np.ndarray]
    source: str

    def __post_init__(self) -> None:
        for name, array in self.values.items():
            if np.shape(array) != (len(self.months),):
                raise ValueError(f"{name}: {np.shape(array)} values for {len(self.months)} months")

    @property
    def n_months(self) -> int:
        return len(self.months)

    @property
    def first(self) -> str:
        return self.months[0]

    @property
    def last(self) -> str:
        return self.months[-1]

    @property
    def first_calendar_month(self) -> int:
        """Calendar month (1 = January) of the first month."""
        return int(self.months[0][5:7])

    def span(self) -> str:
        """``"2023-04..2025-03 (24 months)"``."""
        return f"{self.first}..{self.last} ({self.n_months} months)"

    def has(self, *names: str) -> bool:
        """Whether every named measure is given."""
        return all(name in self.values for name in names)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def month_days(self) -> np.ndarray:
        """Days in each month (February 28, as paysim's calendar), ``[M]``."""
        return np.array([MONTH_DAYS[int(m[5:7]) - 1] for m in self.months], dtype=float)

    def head(self, months: int) -> MonthlyData:
        """The first ``months`` months (for a hold-out fit)."""
        return MonthlyData(self.months[:months], {k: v[:months] for k, v in self.values.items()}, self.source)

    def tail(self, months: int) -> MonthlyData:
        """The last ``months`` months."""
        return MonthlyData(self.months[-months:], {k: v[-months:] for k, v in self.values.items()}, self.source)


def month_after(month: str, steps: int = 1) -> str:
    """The calendar month ``steps`` after ``"YYYY-MM"``."""
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 + steps
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> int:
    """Months from ``first`` to ``last`` (0 when equal; negative when ``last`` is earlier)."""
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7])


def days_between(first: str, last: str) -> float:
    """Days from the first day of ``first`` to the first day of ``last`` in paysim's calendar (365-day years)."""
    steps = months_between(first, last)
    if steps < 0:
        return -days_between(last, first)
    start = int(first[5:7]) - 1
    return float(sum(MONTH_DAYS[(start + i) % 12] for i in range(steps)))


def from_activity(
    activity: Activity, first: str, replication: int = 0, measures: Iterable[str] | None = None
) -> MonthlyData:
    """One replication of a simulated Activity as a monthly table whose first month is ``first`` (``YYYY-MM``, in
    the Activity's start month): what a trust simulated with known values would report."""
    if int(first[5:7]) != activity.start_month:
        raise ValueError(f"{first} is not in the activity's first calendar month ({activity.start_month})")
    row = int(np.nonzero(np.asarray(activity.replications) == replication)[0][0])
    names = list(activity.measures) if measures is None else list(measures)
    months = tuple(month_after(first, i) for i in range(activity.n_months))
    return MonthlyData(months, {n: np.asarray(activity[n][row], dtype=float).copy() for n in names}, "simulated")


# --- reading ------------------------------------------------------------------------------------------


def read_monthly(path: str | Path) -> MonthlyData:
    """Read and check a monthly table (CSV, Parquet or Excel ``.xlsx``, long or wide; see the module docstring).

    Raises
    ------
    DataError
        Naming the file, the row and the column of the first problem found.
    """
    path = Path(path)
    name = shown_name(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(
            f"{name}: cannot read a {suffix or 'suffix-less'} file as a monthly table; use {', '.join(SUFFIXES)}"
        )
    raw = _read_bytes(path, name)
    if suffix == ".csv":
        header, rows = _csv_rows(raw, name)
    elif suffix == ".parquet":
        header, rows = _parquet_rows(raw, name)
    else:
        header, rows = _excel_rows(raw, name)
    return monthly_from_rows(header, rows, name)


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a folder, not a monthly table") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise DataError(f"{name}: is larger than {MAX_BYTES / 2**20:g} MiB; a monthly table is a few kilobytes")
    if not raw.strip():
        raise DataError(f"{name}: is empty; give a header row and one row per month (or per month and measure)")
    return raw


def _csv_rows(raw: bytes, name: str) -> tuple[list[str], list[list[Any]]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: is not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise DataError(f"{name}: is not a readable CSV file ({exc})") from None
    table = [row for row in table if any(cell.strip() for cell in row)]
    if not table:
        raise DataError(f"{name}: holds no rows")
    return [c.strip() for c in table[0]], table[1:]


def _parquet_rows(raw: bytes, name: str) -> tuple[list[str], list[list[Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{name}: is not a readable Parquet file ({exc})") from None
    columns = [table.column(c).to_pylist() for c in table.column_names]
    return list(table.column_names), [list(row) for row in zip(*columns, strict=True)]


def _excel_rows(raw: bytes, name: str) -> tuple[list[str], list[list[Any]]]:
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise DataError(f"{name}: is not a readable Excel workbook ({exc})") from None
    sheet = book.worksheets[0]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    table = [row for row in table if any(cell is not None and str(cell).strip() for cell in row)]
    if not table:
        raise DataError(f"{name}: its first sheet holds no rows")
    header = ["" if c is None else str(c).strip() for c in table[0]]
    return header, table[1:]


# --- checking -----------------------------------------------------------------------------------------


def monthly_from_rows(header: Sequence[str], rows: Sequence[Sequence[Any]], source: str) -> MonthlyData:
    """Check a table given as a header and rows of cells (text or numbers) and return it as :class:`MonthlyData`.

    Row numbers in messages count the header as row 1.
    """
    if len(rows) > MAX_ROWS:
        raise DataError(f"{source}: has {len(rows):,} rows; at most {MAX_ROWS:,} are read")
    header = [str(h).strip() for h in header]
    lowered = [h.lower() for h in header]
    if MONTH not in lowered:
        raise DataError(
            f"{source}: row 1: no 'month' column; give 'month, measure, value' (long form) or 'month' and one "
            f"column per measure (wide form), got columns {', '.join(repr(h) for h in header)}"
        )
    duplicated = sorted({h for h in header if header.count(h) > 1 and h})
    if duplicated:
        raise DataError(f"{source}: row 1: column {duplicated[0]!r} is given more than once")
    if set(LONG_COLUMNS) <= set(lowered) and len([h for h in lowered if h]) == 3:
        cells = _long_cells(header, lowered, rows, source)
    else:
        cells = _wide_cells(header, lowered, rows, source)
    return _assemble(cells, source)


@dataclass(frozen=True)
class _Cell:
    month: str
    measure: str
    value: Any
    row: int
    column: str


def _long_cells(header: list[str], lowered: list[str], rows: Sequence[Sequence[Any]], source: str) -> list[_Cell]:
    at = {name: lowered.index(name) for name in LONG_COLUMNS}
    known = accepted_measures()
    cells = []
    for number, row in enumerate(rows, start=2):
        month = _month(_get(row, at["month"]), source, number, header[at["month"]])
        measure = str(_get(row, at["measure"]) or "").strip()
        _check_measure(measure, known, source, f"row {number}, column {header[at['measure']]!r}")
        cells.append(_Cell(month, measure, _get(row, at["value"]), number, header[at["value"]]))
    return cells


def _wide_cells(header: list[str], lowered: list[str], rows: Sequence[Sequence[Any]], source: str) -> list[_Cell]:
    known = accepted_measures()
    month_at = lowered.index(MONTH)
    measures: list[tuple[int, str]] = []
    replication_at = None
    for index, name in enumerate(header):
        if index == month_at or lowered[index] in IGNORED_COLUMNS:
            continue
        if lowered[index] == "replication":
            replication_at = index
            continue
        if not name:
            raise DataError(f"{source}: row 1, column {index + 1}: a column without a name")
        _check_measure(name, known, source, f"row 1, column {name!r}")
        measures.append((index, name))
    if not measures:
        raise DataError(f"{source}: row 1: no measure columns beside 'month'")
    if replication_at is not None:
        seen = {str(_get(row, replication_at)).strip() for row in rows}
        if len(seen) > 1:
            raise DataError(
                f"{source}: column 'replication': holds {len(seen)} replications ({', '.join(sorted(seen)[:3])}, ...); "
                "a trust's history is one series: keep the rows of one replication"
            )
    cells = []
    for number, row in enumerate(rows, start=2):
        month = _month(_get(row, month_at), source, number, header[month_at])
        cells.extend(_Cell(month, name, _get(row, index), number, name) for index, name in measures)
    return cells


def _get(row: Sequence[Any], index: int) -> Any:
    return row[index] if index < len(row) else None


def _check_measure(name: str, known: dict[str, Kind], source: str, where: str) -> None:
    if name in known:
        return
    if not name:
        raise DataError(f"{source}: {where}: no measure name")
    hint = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    text = f"{source}: {where}: unknown measure {name!r}"
    text += f"; did you mean {hint[0]!r}?" if hint else ""
    lines = sorted({m.split(".")[0] for m in known})
    raise DataError(f"{text} (measures are paysim's names, <line>.<measure> with line one of {', '.join(lines)})")


def _month(value: Any, source: str, row: int, column: str) -> str:
    where = f"{source}: row {row}, column {column!r}"
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    text = "" if value is None else str(value).strip()
    match = _MONTH_TEXT.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        shown = repr(text) if text else "nothing"
        raise DataError(f"{where}: a month is written YYYY-MM (e.g. 2024-04), got {shown}")
    return text


def _number(cell: _Cell, kind: Kind, source: str) -> float:
    where = f"{source}: row {cell.row}, column {cell.column!r} ({cell.measure}, {cell.month})"
    value = cell.value
    if isinstance(value, bool):
        raise DataError(f"{where}: must be a number, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = "" if value is None else str(value).strip().replace(",", "")
        if not text:
            raise DataError(f"{where}: no value; give every measure for every month")
        try:
            number = float(text)
        except ValueError:
            raise DataError(f"{where}: must be a number, got {str(value)!r}") from None
    if not math.isfinite(number):
        raise DataError(f"{where}: must be a finite number, got {value!r}")
    if number < 0:
        raise DataError(f"{where}: must be >= 0 (a count, days or a mean), got {number:g}")
    if kind in ("count", "stock") and abs(number - round(number)) > 1e-6:
        raise DataError(f"{where}: a count must be a whole number, got {number:g}")
    if cell.measure == "inpatient.occupancy_mean" and number > 1 + 1e-9:
        raise DataError(f"{where}: the share of local beds occupied must be <= 1 (0.95 = 95 %), got {number:g}")
    return number


def _assemble(cells: Iterable[_Cell], source: str) -> MonthlyData:
    known = accepted_measures()
    seen: dict[tuple[str, str], int] = {}
    by_month: dict[str, dict[str, float]] = {}
    month_rows: dict[str, int] = {}
    for cell in cells:
        key = (cell.month, cell.measure)
        if key in seen:
            raise DataError(
                f"{source}: row {cell.row}, column {cell.column!r}: {cell.measure} for {cell.month} is given again "
                f"(first in row {seen[key]}); give each month once"
            )
        seen[key] = cell.row
        month_rows.setdefault(cell.month, cell.row)
        by_month.setdefault(cell.month, {})[cell.measure] = _number(cell, known[cell.measure], source)
    if not by_month:
        raise DataError(f"{source}: holds no months")
    months = sorted(by_month)
    for before, after in itertools.pairwise(months):
        gap = months_between(before, after)
        if gap > 1:
            missing = [month_after(before, i) for i in range(1, gap)]
            shown = ", ".join(missing[:6]) + (", ..." if len(missing) > 6 else "")
            raise DataError(
                f"{source}: row {month_rows[after]}, column 'month': months missing between {before} and {after} "
                f"({shown}); give every month from the first to the last"
            )
    measures = [m for m in known if any(m in values for values in by_month.values())]
    for measure in measures:
        lacking = [m for m in months if measure not in by_month[m]]
        if lacking:
            raise DataError(
                f"{source}: column {measure!r}: no value for {', '.join(lacking[:6])}"
                f"{', ...' if len(lacking) > 6 else ''}; give every measure for every month from {months[0]} to "
                f"{months[-1]}"
            )
    values = {m: np.array([by_month[month][m] for month in months], dtype=float) for m in measures}
    return MonthlyData(tuple(months), values, source)
