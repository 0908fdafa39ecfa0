"""Result files: the results table, the monthly table, summaries, and atomic writers.

* :func:`results_table`: one row per replication; column ``replication``, then one column per public
  measure (totals over the counted horizon; ``occupancy_mean``, ``caseload_mean`` and ``wait_days_mean``
  are means, see :mod:`paysim.activity`), then money columns such as ``block.provider_income`` (GBP over
  the horizon).
* :func:`monthly_table`: long format, one row per (replication, month), every measure including the
  bookkeeping ones.
* :func:`summary`: mean, sd, se and percentiles of every column.
* :func:`write_table` (``.csv`` or ``.parquet``) and :func:`write_json`. Every write is atomic: the file
  is written to a temporary file in the same folder, flushed to disk and renamed over the target, so a
  reader never sees half a file and a failed run leaves nothing behind. Files get mode 0o644 less the
  umask, as a plain ``open`` would give them.

Parquet files carry the run's description in their key-value metadata (keys ``paysim.*``: version,
scenario name, seed, engine, replications and the full scenario as YAML), so a results file can always
be traced back to the run that made it.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from paysim.activity import Activity, measure_kinds
from paysim.analysis import summarise
from paysim.model.limits import shown_name
from paysim.model.scenario import LINES, Scenario
from paysim.money.finance import Ledger, money_columns, system_cost_columns

TABLE_SUFFIXES = (".csv", ".parquet")
"""File types :func:`write_table` writes."""
SUMMARY_SUFFIXES = (".json",)
"""File types a summary is written to."""
STATISTICS = ("mean", "sd", "se", "p5", "p25", "p50", "p75", "p95", "n")
"""Keys of each column's entry in :func:`summary`."""


class OutputError(ValueError):
    """An output path that cannot be written (unknown suffix, missing folder); the message is ready to show."""


# --- tables -------------------------------------------------------------------------------------------


def public_measures(activity: Activity) -> list[str]:
    """The public measure names present in an Activity, in reporting order (inpatient, then lines)."""
    lines = [line for line in LINES if f"{line}.referrals" in activity]
    inpatient = "inpatient.bed_requests" in activity
    return list(measure_kinds(lines, inpatient, public_only=True))


def results_columns(activity: Activity, money: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The results-table columns as arrays ``{name: [R]}``: public measures over the horizon, then money.

    Parameters
    ----------
    activity:
        Simulated activity, arrays ``[R, months]``.
    money:
        Extra columns ``{name: [R]}``, e.g. ``{"block.provider_income": ...}`` (GBP over the horizon).
    """
    columns = {name: np.asarray(activity.total(name), dtype=np.float64) for name in public_measures(activity)}
    for name, values in (money or {}).items():
        if name in columns:
            raise ValueError(f"money column {name!r} clashes with a measure name")
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (activity.n_replications,):
            raise ValueError(f"money column {name!r} has shape {values.shape}, expected ({activity.n_replications},)")
        columns[name] = values
    return columns


def run_columns(
    activity: Activity,
    ledgers: Mapping[str, Ledger] | None = None,
    params: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """A run's results columns, the one place they are built: ``{name: [R]}``.

    Public measures over the horizon; then each rule's ``<rule>.<ledger>`` (:func:`paysim.money.finance.money_columns`);
    then ``<rule>.system_cost`` (:func:`paysim.money.finance.system_cost`); then the ``param.*`` columns of a run under
    uncertainty. GBP over the horizon for money.

    Parameters
    ----------
    activity:
        Simulated activity, arrays ``[R, months]``.
    ledgers:
        Every rule's ledger of those rows, ``[R, months]`` (none: measures only).
    params:
        ``param.<dotted key>`` columns, ``[R]``.
    """
    columns = results_columns(activity, money_columns(ledgers) if ledgers else None)
    if ledgers:
        columns.update(system_cost_columns(ledgers))
    columns.update(params or {})
    return columns


def results_table(
    activity: Activity,
    money: Mapping[str, np.ndarray] | None = None,
    scenario: Scenario | None = None,
) -> pa.Table:
    """One row per replication: ``replication``, public measures over the horizon, then money columns.

    Parameters
    ----------
    activity:
        Simulated activity, arrays ``[R, months]``.
    money:
        Extra columns ``{name: [R]}`` (see :func:`results_columns`).
    scenario:
        If given, the run is described in the table's schema metadata (see :func:`run_metadata`), which
        Parquet files keep.

    Returns
    -------
    pyarrow.Table
        ``R`` rows; ``replication`` is int64, every other column float64 (NaN where undefined, e.g. a
        mean wait with no starts).
    """
    columns = {"replication": pa.array(np.asarray(activity.replications, dtype=np.int64))}
    columns.update({name: pa.array(values) for name, values in results_columns(activity, money).items()})
    table = pa.table(columns)
    if scenario is not None:
        table = table.replace_schema_metadata(run_metadata(scenario, activity.engine, activity.n_replications))
    return table


def monthly_table(activity: Activity, scenario: Scenario | None = None) -> pa.Table:
    """Long format: one row per (replication, month) with every measure of the Activity.

    Columns: ``replication`` (int64), ``month`` (int64, 0-based from the horizon start), ``label``
    (``"Y1 Apr"``), then one float64 column per measure (public ones first, then bookkeeping measures
    such as ``inpatient.discharges``), holding that month's value (counts and bed days in the month,
    means over the month, stocks at its end). Rows are ordered by replication, then month.
    """
    reps = activity.n_replications
    months = activity.n_months
    columns: dict[str, pa.Array] = {
        "replication": pa.array(np.repeat(np.asarray(activity.replications, dtype=np.int64), months)),
        "month": pa.array(np.tile(np.arange(months, dtype=np.int64), reps)),
        "label": pa.array(activity.labels * reps, type=pa.string()),
    }
    public = public_measures(activity)
    for name in public + [m for m in activity.measures if m not in public]:
        columns[name] = pa.array(np.asarray(activity[name], dtype=np.float64).reshape(-1))
    table = pa.table(columns)
    if scenario is not None:
        table = table.replace_schema_metadata(run_metadata(scenario, activity.engine, activity.n_replications))
    return table


def run_metadata(scenario: Scenario, engine: str, replications: int) -> dict[str, str]:
    """Key-value description of a run, stored in Parquet files (``paysim.version``, ``paysim.model.scenario``,
    ``paysim.seed``, ``paysim.engine``, ``paysim.replications``, ``paysim.scenario_yaml``)."""
    from paysim import __version__

    return {
        "paysim.version": __version__,
        "paysim.model.scenario": scenario.name,
        "paysim.seed": str(scenario.seed),
        "paysim.engine": engine,
        "paysim.replications": str(replications),
        "paysim.scenario_yaml": scenario.to_yaml(),
    }


# --- summaries ----------------------------------------------------------------------------------------


def summary(table: pa.Table) -> dict[str, dict[str, float | int | None]]:
    """Mean, sd, se, percentiles and count of every column except ``replication``.

    Returns
    -------
    dict
        ``{column: {"mean", "sd", "se", "p5", "p25", "p50", "p75", "p95", "n"}}``. Statistics ignore NaN
        values (a replication with no starts has no mean wait); ``n`` counts the values used. ``sd`` is
        the sample standard deviation (ddof 1) and ``se = sd / sqrt(n)``. A statistic that is undefined
        (no values, or sd of one value) is ``None``, so the result is valid JSON.
    """
    out: dict[str, dict[str, float | int | None]] = {}
    for name in table.column_names:
        if name in ("replication", "month", "label"):
            continue
        values = np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
        out[name] = describe(values)
    return out


def describe(values: np.ndarray) -> dict[str, float | int | None]:
    """Summary statistics of one column ``[R]`` (see :func:`summary`): those of
    :func:`paysim.analysis.summarise`, with ``None`` where a statistic is undefined (strict JSON)."""
    stats = summarise(values)
    return {key: None if _undefined(stats.get(key)) else stats[key] for key in STATISTICS}


def _undefined(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# --- writing ------------------------------------------------------------------------------------------


def check_output_path(path: str | Path, suffixes: tuple[str, ...], option: str = "--out") -> Path:
    """Check, before any work is done, that a result can be written to ``path``.

    Raises
    ------
    OutputError
        If the suffix is not one of ``suffixes`` or the folder does not exist or is not writable.
    """
    path = Path(path)
    name = shown_name(path)
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise OutputError(
            f"{option} {name}: cannot write a {shown_name(suffix, 20) or 'suffix-less'} file; use one of "
            f"{', '.join(suffixes)}"
        )
    check_output_folder(path.parent, option, path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except (OSError, ValueError) as exc:  # a name the system cannot take: too long, a NUL character
        raise OutputError(f"{option} {name}: not a usable file name ({_why_not(exc)})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{option} {name}: is a folder")
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"{option} {name}: is not a regular file (a device or a pipe); paysim replaces a file whole")
    if mode is not None and not os.access(path, os.W_OK):
        raise OutputError(f"{option} {name}: is not writable")
    try:  # the real test: the temporary file the write will use, created and removed where the file will be
        _temporary_file(path).unlink()
    except OSError as exc:
        raise OutputError(f"{option} {name}: cannot be written there ({_why_not(exc)})") from None
    return path


def check_output_folder(folder: str | Path, option: str = "--tables", path: str | Path | None = None) -> Path:
    """Check that ``folder`` exists, is a folder and is writable (``path``: the file in it, for messages).

    Raises
    ------
    OutputError
        Naming the option and the folder, if not.
    """
    folder = Path(folder)
    head = f"{option} {shown_name(path if path is not None else folder)}: "
    try:
        is_folder = folder.is_dir()
    except (OSError, ValueError) as exc:
        raise OutputError(f"{head}not a usable folder name ({_why_not(exc)})") from None
    if not is_folder:
        raise OutputError(f"{head}the folder {shown_name(folder)} does not exist")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{head}the folder {shown_name(folder)} is not writable")
    return folder


def _why_not(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write a table atomically as CSV or Parquet, chosen by the suffix of ``path``.

    Parquet keeps the table's schema metadata (the ``paysim.*`` run description) as file key-value
    metadata; CSV has a header row and no metadata.

    Raises
    ------
    OutputError
        On a suffix other than ``.csv`` or ``.parquet``.
    """
    with table_writer(path) as write:
        write(table)
    return Path(path)


@contextmanager
def table_writer(path: str | Path) -> Iterator[Callable[[pa.Table], None]]:
    """Write a table piece by piece (e.g. a run's monthly table, chunk by chunk), atomically.

    Yields ``write(piece)``; every piece must have the first one's schema (whose metadata Parquet keeps).
    The file appears, complete, only when the block ends without an error; CSV has one header row, as
    :func:`write_table` writes it.

    Raises
    ------
    OutputError
        On a suffix other than ``.csv`` or ``.parquet``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise OutputError(f"{path}: cannot write a table as {suffix or 'a suffix-less file'}; use .csv or .parquet")
    with atomic_path(path) as tmp:
        writer: pacsv.CSVWriter | pq.ParquetWriter | None = None

        def write(piece: pa.Table) -> None:
            nonlocal writer
            if writer is None:
                writer = (
                    pacsv.CSVWriter(str(tmp), piece.schema)
                    if suffix == ".csv"
                    else pq.ParquetWriter(str(tmp), piece.schema)
                )
            writer.write_table(piece)

        try:
            yield write
        finally:
            if writer is not None:
                writer.close()


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` atomically as JSON (indent 2, UTF-8, strict: NaN and infinity become null)."""
    path = Path(path)
    text = json.dumps(_json_safe(obj), indent=2, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success, fsync it and rename it over ``path``.

    The temporary file is removed if the block fails, so the target is either the complete new file or
    untouched. The final file has mode 0o644 less the process umask.
    """
    path = Path(path)
    tmp = _temporary_file(path)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
        _WRITTEN.append(str(path))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


_WRITTEN: list[str] = []


def written_files() -> tuple[str, ...]:
    """The files this process has written whole (:func:`atomic_path`), in order: what a command stopped by a
    signal says it wrote before (:func:`paysim.runs.interrupts.message`)."""
    return tuple(_WRITTEN)


def _temporary_file(path: Path) -> Path:
    """A new empty hidden file beside ``path`` (``.NAME.<random>.tmp``, the name cut to 100 characters so a long
    file name still leaves room), for :func:`atomic_path` and :func:`check_output_path`."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask (read by setting and restoring it, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Flush the rename to disk where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _json_safe(obj: Any) -> Any:
    """Plain JSON types: numpy scalars and arrays converted, NaN and infinities as None."""
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
