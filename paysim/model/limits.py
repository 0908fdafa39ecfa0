"""Plausibility limits: every number a scenario holds is finite and inside a range a real provider could have.

The limits are **plausibility limits, not a check of realism**. A value inside them may still be wrong for a
given trust; a value outside them is a slip (pounds for thousands, days for years, a stray exponent) that no
English provider, provider collaborative or ICB could have, and that would make the engines allocate terabytes,
overflow, or run for days. Infinity and NaN are refused everywhere, lists included.

**How to declare a numeric key** (``tests/test_limits_fuzz.py`` walks every number in the JSON Schema of a
scenario, keys added later included, and fails on one that breaks this):

1. Models take :data:`MODEL_CONFIG` (unknown keys forbidden, frozen, infinity and NaN refused).
2. Every number has both bounds in its ``Field`` (``ge``/``gt`` and ``le``/``lt``), declared once, where the key
   is declared, so the JSON Schema carries them (``minimum``, ``maximum``, ...). Numbers inside lists too: bound
   the item type (``list[Share]``).
3. A bound that is a choice rather than a definition says why, with :func:`why`: the reason goes into the JSON
   Schema (``x-limits``) and into the error message::

       beds: int = Field(ge=0, le=5000, description="local adult acute beds",
                         json_schema_extra=why(maximum="a trust's adult acute beds; England has 6,660"))

   gives ``services.inpatient.beds: must be <= 5000 (a trust's adult acute beds; England has 6,660), got 1e12``.
   A share's 0..1 or a calendar month's 1..12 needs no reason.
4. Shared concepts use the shared types below (:data:`Share`, :data:`YearlyChange`, :data:`Days`, ...), so a
   concept's range is declared once for every key that holds it.

:func:`numeric_keys` lists every number of a JSON Schema with its range and reason (the README's table of
limits is made from it: :func:`paysim.model.scenario.limits_table`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import ConfigDict, Field

MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)
"""Configuration of every scenario model: unknown keys are errors, values are frozen, numbers are finite."""

LIMITS = "x-limits"
"""JSON Schema keyword holding why a key's bounds are where they are: ``{"maximum": reason, "minimum": reason}``."""


def why(maximum: str | None = None, minimum: str | None = None) -> dict[str, dict[str, str]]:
    """``json_schema_extra`` of a numeric key whose bounds are plausibility choices: the reason for its upper
    (``maximum``) and/or lower (``minimum``) bound, shown in the JSON Schema and in the error message."""
    reasons = {side: text for side, text in (("maximum", maximum), ("minimum", minimum)) if text}
    if not reasons:
        raise ValueError("why: give the reason for the maximum, the minimum or both")
    return {LIMITS: reasons}


# --- shared types: one range per concept ---------------------------------------------------------------

Share = Annotated[float, Field(ge=0, le=1)]
"""A share or probability, 0..1."""

YEARLY_CHANGE = "yearly changes from -50 % to +100 %; referrals grew 8 % a year nationally 2017/18-2022/23"
YearlyChange = Annotated[
    float, Field(ge=-0.5, le=1, json_schema_extra=why(maximum=YEARLY_CHANGE, minimum=YEARLY_CHANGE))
]
"""A yearly growth or uplift rate, -0.5..1 (-50 % to +100 % a year)."""

LONGEST_DAYS = 3650
"""Ten years in days: the longest horizon, and so the longest wait, patience, window or episode that can matter."""
TEN_YEARS = "ten years, the longest horizon"
Days = Annotated[float, Field(gt=0, le=LONGEST_DAYS, json_schema_extra=why(maximum=TEN_YEARS))]
"""A positive time in days, at most ten years."""

WORKFORCE_WTE = 20_000
"""Most WTE one staff group can have: above the whole workforce of the largest mental-health trusts (under 10,000)."""
Wte = Annotated[
    float,
    Field(
        ge=0,
        le=WORKFORCE_WTE,
        json_schema_extra=why(maximum="the largest mental-health trusts employ under 10,000 people in all"),
    ),
]
"""Whole-time-equivalent staff of one group."""

ANNUAL_GBP = 1e10
"""£10bn: about England's whole mental-health investment standard spend (£11.3bn in 2023/24); no contract or
cost of one provider comes near it."""
AnnualGBP = Annotated[
    float,
    Field(ge=0, le=ANNUAL_GBP, json_schema_extra=why(maximum="about England's whole MHIS spend, £11.3bn in 2023/24")),
]
"""A sum in GBP a year (a contract value, a year's spend or overheads)."""

UNIT_PRICE_GBP = 100_000
"""£100,000 a unit: five times the dearest unit (an adult acute episode, about 33 days x £575 = £19,000)."""
UnitGBP = Annotated[
    float,
    Field(
        ge=0,
        le=UNIT_PRICE_GBP,
        json_schema_extra=why(maximum="five times the dearest unit, an adult acute episode of about £19,000"),
    ),
]
"""A price or cost per unit of activity (bed day, contact, course, episode), GBP."""

BED_DAY_GBP = 10_000
"""£10,000 a bed day: more than fifteen times a published adult acute, PICU or OAP bed day (£575-£690)."""
BedDayGBP = Annotated[
    float,
    Field(ge=0, le=BED_DAY_GBP, json_schema_extra=why(maximum="15 times any published bed-day price (£575-£690)")),
]
"""A price or cost per bed day, GBP."""

MAX_CV = 20
"""Largest coefficient of variation (sd / mean) of a duration or of a lognormal uncertain parameter."""

PARAMETER_LIMIT = 1e11
"""Largest size of an uncertain parameter's distribution figure: ten times the widest range of any key that can be
uncertain (£10bn a year); the key's own range is checked on the distribution's whole support."""

UNITS_PER_YEAR = 1e8
"""Units of activity a year: 100 million, above England's contacts with secondary mental-health services."""


# --- the numbers of a JSON Schema ----------------------------------------------------------------------


@dataclass(frozen=True)
class NumericKey:
    """One number a scenario can hold, as its JSON Schema declares it.

    Attributes
    ----------
    path:
        Dotted-key parts from the top; ``<key>`` stands for any key of a mapping (an uncertain parameter's
        name), ``<n>`` for a position in a list.
    integer:
        Whether the number must be whole.
    minimum, maximum:
        The bounds (``None``: unbounded on that side).
    exclusive_minimum, exclusive_maximum:
        Whether the bound itself is excluded.
    reasons:
        Why the bounds are where they are, ``{"maximum": ..., "minimum": ...}`` (see :func:`why`).
    description:
        The key's description.
    fixed:
        Values that select the schema's branch on the way: ``{depth: {key: value}}`` (an uncertain parameter's
        ``dist``), depth counted in ``path`` parts.
    """

    path: tuple[str, ...]
    integer: bool
    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    reasons: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    fixed: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The dotted key, e.g. ``services.inpatient.beds`` or ``uncertain.parameters.<key>.low``."""
        return ".".join(self.path)

    def allows(self, value: float) -> bool:
        """Whether ``value`` is finite and inside the bounds (wholeness is not checked)."""
        if not math.isfinite(value):
            return False
        if self.minimum is not None and (value <= self.minimum if self.exclusive_minimum else value < self.minimum):
            return False
        return self.maximum is None or not (value >= self.maximum if self.exclusive_maximum else value > self.maximum)

    def range_text(self) -> str:
        """The range as text: ``0 to 5000``, ``above 0 to 3650``, ``0 or more``."""
        low = "any" if self.minimum is None else ("above " if self.exclusive_minimum else "") + number(self.minimum)
        if self.maximum is None:
            return f"{low} or more" if self.minimum is not None else "any"
        high = ("below " if self.exclusive_maximum else "") + number(self.maximum)
        return f"{low} to {high}"


def numeric_keys(schema: Mapping[str, Any]) -> list[NumericKey]:
    """Every number a document of this JSON Schema can hold (each branch of a union once), in schema order."""
    defs = schema.get("$defs", {})
    found: dict[tuple, NumericKey] = {}
    for key in _walk(schema, (), {}, {}, defs, ()):
        found.setdefault((key.path, tuple(sorted((d, tuple(v.items())) for d, v in key.fixed.items()))), key)
    return list(found.values())


def _walk(
    node: Mapping[str, Any],
    path: tuple[str, ...],
    outer: Mapping[str, Any],
    fixed: Mapping[int, Mapping[str, Any]],
    defs: Mapping[str, Any],
    seen: tuple[str, ...],
) -> Iterator[NumericKey]:
    """Numbers under ``node`` at ``path``; ``outer`` holds the reason and description given above a union."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # a recursive schema: nothing new below
            return
        node = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
        seen = (*seen, name)
    carried = {**outer, **{k: node[k] for k in (LIMITS, "description") if k in node}}
    for union in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(union, ()):
            yield from _walk(branch, path, carried, fixed, defs, seen)
    kind = node.get("type")
    if kind in ("number", "integer"):
        yield _numeric(node, path, carried, fixed)
    elif kind == "object" or "properties" in node:
        properties = node.get("properties", {})
        consts = {name: prop["const"] for name, prop in properties.items() if "const" in prop}
        here = {**fixed, len(path): consts} if consts else fixed
        for name, prop in properties.items():
            yield from _walk(prop, (*path, name), {}, here, defs, seen)
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            yield from _walk(extra, (*path, "<key>"), {}, here, defs, seen)
    elif kind == "array":
        items = node.get("items")
        if isinstance(items, Mapping):
            yield from _walk(items, (*path, "<n>"), {}, fixed, defs, seen)
        for item in node.get("prefixItems", ()):
            yield from _walk(item, (*path, "<n>"), {}, fixed, defs, seen)


def _numeric(
    node: Mapping[str, Any], path: tuple[str, ...], carried: Mapping[str, Any], fixed: Mapping[int, Mapping[str, Any]]
) -> NumericKey:
    low, low_open = node.get("minimum"), False
    if "exclusiveMinimum" in node and (low is None or node["exclusiveMinimum"] >= low):
        low, low_open = node["exclusiveMinimum"], True
    high, high_open = node.get("maximum"), False
    if "exclusiveMaximum" in node and (high is None or node["exclusiveMaximum"] <= high):
        high, high_open = node["exclusiveMaximum"], True
    return NumericKey(
        path=path,
        integer=node.get("type") == "integer",
        minimum=low,
        maximum=high,
        exclusive_minimum=low_open,
        exclusive_maximum=high_open,
        reasons=dict(node.get(LIMITS) or carried.get(LIMITS) or {}),
        description=node.get("description") or carried.get("description", ""),
        fixed=fixed,
    )


def number(value: Any) -> str:
    """A number as messages and tables show it: ``5000``, ``0.5``, ``2,000,000``, ``1e12``, ``1.18e21``, ``inf``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value == int(value) and 10_000 <= abs(value) < 1e9:
        return f"{int(value):,}"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**19 else _short(f"{value:.3g}")
    text = repr(value)
    if "e" in text or len(text) > 12:
        text = _short(f"{value:.6g}")
    return text.removesuffix(".0")


def shown_value(value: Any) -> str:
    """A value as an error message shows it: ``true``, numbers short (``1e12``), long text cut to its start and
    length (a value of megabytes must not fill the screen)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    text = repr(value)
    length = len(value) if isinstance(value, str) else len(text)  # text: its own length, not its quoted form's
    return text if len(text) <= 80 else f"{text[:60]}... ({length:,} characters)"


def shown_name(path: Any, width: int = 100) -> str:
    """A file name as a message shows it: whole if short, else its start and end and its length in characters
    (an argument of 5,000 characters must not fill the screen)."""
    text = str(path)
    if len(text) <= width:
        return text
    return f"{text[: width - 30]}...{text[-20:]} ({len(text):,} characters)"


def _short(text: str) -> str:
    """``1e+12`` -> ``1e12``, ``1.5e-07`` -> ``1.5e-7``."""
    mantissa, sep, exponent = text.partition("e")
    if not sep:
        return text
    sign = "-" if exponent.startswith("-") else ""
    return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
