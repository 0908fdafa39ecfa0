"""Writing a calibrated scenario as YAML, every fitted value commented with the data and months it came from.

The file is the base scenario made whole (an ``extends:`` chain resolved) with the fitted values in place,
``start_month`` at the calibrated start, and an ``uncertain:`` block holding the base's uncertain keys that were not
fitted and a distribution for each fitted value with a standard error (normal, lognormal or beta, from the
estimate and its standard error), with ``correlations:`` from the covariance of values fitted together. Each fitted
value has a comment (method, data, months, standard error, the base's value); each block with no fitted value
says it is the base's. :func:`write_scenario` checks the text loads back to the same scenario and writes it
atomically: on any error nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from paysim.model.scenario import scenario_from_yaml
from paysim.runs.io import atomic_path

if TYPE_CHECKING:
    from paysim.calibrate.calibration import Calibration


def scenario_yaml(calibration: Calibration) -> str:
    """The calibrated scenario (starting at ``calibration.start``) as commented YAML text."""
    scenario = calibration.scenario
    estimates, _ = calibration.values_at(calibration.start)
    comments = {e.key: e.comment() for e in estimates}
    fitted = set(comments)
    comments["start_month"] = (
        f"the month after the data ({calibration.start})"
        if calibration.start == _after(calibration.data.last)
        else f"--start {calibration.start}"
    )
    comments["name"] = f"calibrated from {calibration.base.name}"
    data = scenario.model_dump(mode="json", exclude_none=True)
    head = [
        f"# {scenario.name}: made by paysim calibrate from {calibration.data.source}, {calibration.data.span()},",
        f"# on the base scenario {calibration.base.name!r}. Fitted values say how and from which data and months;",
        "# every block marked 'base' keeps the base scenario's values (see the base for their sources).",
        "# Demand rates are projected along their fitted growth to the first month, " + calibration.start + ".",
    ]
    for part, why in calibration.kept:
        head.append(f"# kept: {part}: {why}")
    for note in calibration.notes:
        head.append(f"# note: {note}")
    lines = [*_wrap(head), *_emit(data, 0, "", comments, fitted, calibration.base.name)]
    text = "\n".join(lines) + "\n"
    return text


def write_scenario(calibration: Calibration, path: str | Path) -> Path:
    """Write the calibrated scenario to ``path`` atomically, after checking the text loads to the same scenario."""
    text = scenario_yaml(calibration)
    loaded = scenario_from_yaml(text, source=str(path))
    if loaded != calibration.scenario:
        raise ValueError("the written scenario does not load back to the calibrated one")  # pragma: no cover
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _after(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _wrap(lines: list[str], width: int = 118) -> list[str]:
    out = []
    for line in lines:
        while len(line) > width:
            cut = line.rfind(" ", 0, width)
            cut = cut if cut > 2 else width
            out.append(line[:cut])
            line = "#   " + line[cut:].lstrip()
        out.append(line)
    return out


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True).strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    return text.removesuffix("...").strip()


def _emit(
    node: Mapping[str, Any], indent: int, prefix: str, comments: dict[str, str], fitted: set[str], base: str
) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        note = comments.get(dotted)
        if (
            note is None
            and isinstance(value, Mapping | list)
            and prefix.count(".") < 2
            and not dotted.startswith("uncertain")
        ):
            if not any(f.startswith(dotted + ".") for f in fitted):
                note = f"base: as {base}"
        tail = f"  # {note}" if note else ""
        one_line = prefix.startswith("uncertain.parameters.") or (prefix == "uncertain." and isinstance(value, list))
        if one_line and isinstance(value, Mapping | list):  # one distribution, or one correlation, a line
            if isinstance(value, list):
                lines.append(f"{pad}{_scalar(key)}:")
                lines.extend(f"{pad}  - {_scalar(item)}" for item in value)
            else:
                lines.append(f"{pad}{_scalar(key)}: {_scalar(value)}{tail}")
        elif isinstance(value, Mapping) and value:
            lines.append(f"{pad}{_scalar(key)}:{tail}")
            lines.extend(_emit(value, indent + 2, f"{dotted}.", comments, fitted, base))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lines.append(f"{pad}{_scalar(key)}:{tail}")
            for item in value:
                inner = _emit(item, indent + 4, f"{dotted}.<item>.", comments, fitted, base)
                first = inner[0]
                lines.append(f"{pad}  - {first.lstrip()}")
                lines.extend(inner[1:])
        elif isinstance(value, list):
            lines.append(f"{pad}{_scalar(key)}: [{', '.join(_scalar(v) for v in value)}]{tail}")
        else:
            lines.append(f"{pad}{_scalar(key)}: {_scalar(value)}{tail}")
    return lines
