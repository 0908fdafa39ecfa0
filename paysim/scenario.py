"""Scenario files: the validated description of one provider, its demand, capacity and contracts.

A scenario is a YAML file loaded into the frozen pydantic model :class:`Scenario`. Unknown keys are
errors (with a did-you-mean suggestion), every number is range-checked, and every error names the file
and the dotted key. ``--set KEY=VALUE`` overrides are applied to the raw mapping before validation, so
they are checked exactly like the file.

Time conventions used throughout paysim: time is in days; the counted horizon is ``[0, 365 * years)``
and starts on the first day of calendar month ``start_month``; ``warmup_days`` are simulated before it
(``[-warmup_days, 0)``) and not counted. Years have 365 days; months have their calendar lengths.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from paysim.distributions import Duration
from paysim.terms import Contracts, Costs
from paysim.uncertainty import Uncertain, check_keys, check_support

LINES = ("talking_therapies", "community", "crisis")
"""Referral-based service lines, in the order they are reported."""


class ScenarioError(ValueError):
    """A scenario file, mapping or override is invalid; the message is ready to show a user."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Share = Annotated[float, Field(ge=0, le=1)]


class Seasonality(_Model):
    """Seasonal swing of demand: rate x (1 + amplitude x cos(2 pi (day - peak) / 365))."""

    amplitude: Share = Field(0.0, description="relative swing around the mean rate; 0 = flat")
    peak_month: int = Field(1, ge=1, le=12, description="calendar month of the peak (1 = January)")


class _Demand(_Model):
    growth: float = Field(0.0, gt=-1, le=1, description="yearly growth of demand, e.g. 0.03")
    seasonality: Seasonality = Seasonality()


class ReferralLine(_Demand):
    """A community-based line: referrals wait FIFO for a free place, then have an episode of care."""

    referrals_per_year: float = Field(ge=0, description="referrals per year at the start of the horizon")
    episode_days: Duration
    standard_days: float = Field(gt=0, description="waiting standard, days from referral to start")
    patience_days: float | None = Field(
        None,
        gt=0,
        description="mean time (days, exponential) a person waits before leaving the list; null = never",
    )


class TreatmentLine(ReferralLine):
    """A line whose referrals are assessed before they join the list, and whose starters may leave early
    (talking therapies, community; not crisis, whose gatekeeping is its own). Step-downs from a ward into
    community are always treated and never drop out."""

    treated_share: Share = Field(
        1.0,
        description="share of referrals that, after assessment, join the waiting list for treatment; the "
        "rest are assessed and not treated (signposted, declined), 0..1",
    )
    dropout_share: Share = Field(
        0.0,
        description="share of people starting treatment who leave before finishing; a dropout holds its place "
        "for a uniform fraction of its episode, 0..1",
    )


class TalkingTherapiesCapacity(_Model):
    courses: int = Field(ge=0, description="courses of treatment that can run at once")


class TalkingTherapies(TreatmentLine):
    standard_days: float = Field(42.0, gt=0, description="6-week standard, days")
    long_standard_days: float = Field(126.0, gt=0, description="18-week standard, days")
    capacity: TalkingTherapiesCapacity
    recovery_share: Share | None = Field(
        None,
        description="share of people finishing a course who reliably recover, 0..1; null = recovery not modelled",
    )


class CommunityCapacity(_Model):
    staff_wte: float = Field(ge=0, description="funded whole-time-equivalent clinical staff")
    caseload_per_wte: float = Field(gt=0, description="people on the caseload per WTE")
    vacancy_rate: Share = Field(0.0, description="share of funded WTE vacant, 0..1")
    agency_cover: Share = Field(0.0, description="share of vacancies filled by agency staff, 0..1")

    @property
    def staffed_wte(self) -> float:
        """WTE actually working: funded less vacancies not covered by agency staff."""
        return self.staff_wte * (1.0 - self.vacancy_rate * (1.0 - self.agency_cover))

    @property
    def places(self) -> int:
        """Caseload capacity (people treated at once) = floor(staffed WTE x caseload per WTE)."""
        return int(self.staffed_wte * self.caseload_per_wte + 1e-9)


class Community(TreatmentLine):
    standard_days: float = Field(28.0, gt=0, description="4-week standard, days")
    capacity: CommunityCapacity


class CrisisCapacity(_Model):
    places: int = Field(ge=0, description="open home-treatment episodes the team can hold at once")


class Crisis(ReferralLine):
    standard_days: float = Field(1.0, gt=0, description="crisis waiting standard, days")
    capacity: CrisisCapacity
    admission_share: Share = Field(description="share of crisis referrals that need a bed")
    admission_share_when_full: Share | None = Field(
        None, description="share that need a bed when the team is full; default = admission_share"
    )

    @property
    def share_when_full(self) -> float:
        """Admission share when every team place is taken."""
        if self.admission_share_when_full is None:
            return self.admission_share
        return self.admission_share_when_full

    @model_validator(mode="after")
    def _full_share_not_lower(self) -> Crisis:
        if self.admission_share_when_full is not None and self.admission_share_when_full < self.admission_share:
            raise ValueError(
                "admission_share_when_full: must be >= admission_share "
                f"({self.admission_share}), got {self.admission_share_when_full}"
            )
        return self


class OutOfArea(_Model):
    repatriate: bool = Field(True, description="OAP patients return FIFO to the first free local bed")


class Inpatient(_Demand):
    """Adult acute beds; overflow goes to out-of-area placements (unlimited capacity)."""

    admissions_per_year: float = Field(ge=0, description="bed requests per year not coming via crisis")
    beds: int = Field(ge=0, description="local adult acute beds")
    los_days: Duration
    readmission_share: Share = Field(0.0, description="share of discharges readmitted within the window")
    readmission_window_days: float = Field(30.0, gt=0, description="readmissions fall uniformly in this")
    oap: OutOfArea = OutOfArea()


class Services(_Model):
    talking_therapies: TalkingTherapies | None = None
    community: Community | None = None
    crisis: Crisis | None = None
    inpatient: Inpatient | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Services:
        if all(getattr(self, name) is None for name in (*LINES, "inpatient")):
            raise ValueError("at least one service line is needed (talking_therapies, community, crisis, inpatient)")
        if self.crisis is not None and self.inpatient is None and self.crisis.share_when_full > 0:
            raise ValueError("crisis.admission_share: crisis admissions need services.inpatient")
        return self


class Scenario(_Model):
    """One provider's demand, capacity and contracts; see the module docstring for time conventions."""

    name: str = Field(min_length=1)
    description: str = ""
    years: int = Field(ge=1, le=10, description="counted horizon, years of 365 days")
    seed: int = Field(0, ge=0, lt=2**63, description="root seed of every random stream")
    warmup_days: int = Field(0, ge=0, le=3650, description="simulated before counting starts")
    start_month: int = Field(4, ge=1, le=12, description="calendar month the horizon starts (4 = April)")
    services: Services
    contracts: Contracts | None = None
    costs: Costs | None = None
    uncertain: Uncertain | None = Field(
        None, description="parameter uncertainty: distributions of numeric keys (paysim.uncertainty)"
    )

    @model_validator(mode="after")
    def _uncertain_keys_exist(self) -> Scenario:
        if self.uncertain is not None:
            check_keys(self.model_dump(mode="json", exclude_none=True), self.uncertain)
            check_support(self)
        return self

    @property
    def horizon_days(self) -> int:
        """Length of the counted horizon in days."""
        return 365 * self.years

    @property
    def months(self) -> int:
        """Number of counted months."""
        return 12 * self.years

    def lines(self) -> list[str]:
        """Referral-based lines present in this scenario, in reporting order."""
        return [name for name in LINES if getattr(self.services, name) is not None]

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> Scenario:
        """A new validated scenario with dotted-key overrides applied (``{"services.inpatient.beds": 40}``
        or ``["services.inpatient.beds=40"]``)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return scenario_from_dict(apply_overrides(data, overrides), source=f"scenario {self.name!r}")

    def to_yaml(self) -> str:
        """The scenario as YAML text that loads back to an equal scenario."""
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


# --- loading ------------------------------------------------------------------------------------------


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] = ()) -> Scenario:
    """Load, override and validate a scenario file; raise :class:`ScenarioError` on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc})") from None
    return scenario_from_yaml(text, source=str(path), overrides=overrides)


def scenario_from_yaml(
    text: str, source: str = "<text>", overrides: Mapping[str, Any] | Iterable[str] = ()
) -> Scenario:
    """Parse YAML text into a validated scenario; ``source`` names it in error messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{source}: is not valid YAML{where}: {problem}") from None
    except (ValueError, RecursionError) as exc:  # PyYAML's own checks (bad dates, tags) and deep nesting
        reason = "is nested too deeply" if isinstance(exc, RecursionError) else f"({exc})"
        raise ScenarioError(f"{source}: is not valid YAML {reason}") from None
    if data is None:
        raise ScenarioError(f"{source}: is empty; a scenario is a mapping with at least name, years, services")
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: must be a mapping of keys (name, years, services, ...), got a {type(data).__name__}"
        )
    return scenario_from_dict(apply_overrides(data, overrides, source), source)


def scenario_from_dict(data: Mapping[str, Any], source: str = "<mapping>") -> Scenario:
    """Validate a plain mapping into a :class:`Scenario`, turning pydantic errors into one clear message."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source)) from None


def parse_override(text: str, source: str = "") -> tuple[str, Any]:
    """Split ``KEY=VALUE``; the value is read as YAML (``40``, ``0.5``, ``true``, ``lognormal``).
    ``source`` (the scenario file) starts error messages when given."""
    where = f"{source}: " if source else ""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"{where}--set {text!r}: expected KEY=VALUE, e.g. services.inpatient.beds=40")
    if any(not part for part in key.split(".")):
        raise ScenarioError(f"{where}--set {text!r}: {key!r} is not a dotted key like services.inpatient.beds")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        reason = f" ({exc})" if isinstance(exc, ValueError) and not isinstance(exc, yaml.YAMLError) else ""
        raise ScenarioError(f"{where}--set {text!r}: the value {raw!r} is not valid YAML{reason}") from None
    return key, value


def apply_overrides(
    data: Mapping[str, Any], overrides: Mapping[str, Any] | Iterable[str], source: str = "--set"
) -> dict[str, Any]:
    """Return a deep copy of ``data`` with dotted-key overrides set (missing mappings are created).

    A key set here is pinned: if the scenario's ``uncertain:`` block gave it a distribution, that
    distribution (and its correlations) is dropped, so ``--set services.inpatient.beds=40`` means 40 beds
    in every replication.
    """
    result = _deep_copy(data)
    if isinstance(overrides, Mapping):
        items = overrides.items()
    else:
        items = (parse_override(o, "" if source == "--set" else source) for o in overrides)
    for key, value in items:
        node: Any = result
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                above = ".".join(parts[: depth + 1])
                raise ScenarioError(f"{source}: --set {key}: {above} is a value, not a mapping of keys")
            node = child
        node[parts[-1]] = value
        _pin(result, key)
    return result


def _pin(data: dict[str, Any], key: str) -> None:
    """A key set explicitly is no longer uncertain: drop it (and its correlations) from ``uncertain:``."""
    uncertain = data.get("uncertain")
    if key.startswith("uncertain.") or not isinstance(uncertain, dict):
        return
    parameters = uncertain.get("parameters")
    if not isinstance(parameters, dict) or key not in parameters:
        return
    del parameters[key]
    if not parameters:  # nothing uncertain is left
        del data["uncertain"]
        return
    correlations = uncertain.get("correlations")
    if isinstance(correlations, list):
        uncertain["correlations"] = [
            c for c in correlations if not (isinstance(c, dict) and key in (c.get("between") or ()))
        ]


def _deep_copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file (for editors and the app)."""
    schema = Scenario.model_json_schema()
    schema["title"] = "paysim scenario"
    return schema


def bundled_scenarios() -> dict[str, Path]:
    """Scenario files shipped with paysim, by name (``default``, ``oap-pressure``, ...)."""
    here = Path(__file__).resolve().parent
    for folder in (here / "_scenarios", here.parent / "scenarios"):
        if folder.is_dir():
            return {p.stem: p for p in sorted(folder.glob("*.yaml"))}
    return {}


# --- error messages -----------------------------------------------------------------------------------

_KEYED = re.compile(r"^([a-z_][a-z0-9_.]*): (.*)$", re.DOTALL)

_MESSAGES = {
    "greater_than_equal": "must be >= {ge:g}",
    "greater_than": "must be > {gt:g}",
    "less_than_equal": "must be <= {le:g}",
    "less_than": "must be < {lt:g}",
    "missing": "is required",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_parsing": "must be a number",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "model_type": "must be a mapping of keys",
    "model_attributes_type": "must be a mapping of keys",
    "dict_type": "must be a mapping of keys",
}


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One line per problem: ``FILE: dotted.key: what is wrong, got VALUE`` (with suggestions)."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        text = _describe(err, loc)
        inner = _KEYED.match(text) if err["type"] == "value_error" else None
        if inner:  # a model-level check names the key it is about: "sd: ..."
            loc, text = [*loc, *inner.group(1).split(".")], inner.group(2)
        key = ".".join(loc) or "(top level)"
        lines.append(f"{source}: {key}: {text}")
    count = len(lines)
    head = f"{count} problem{'s' if count > 1 else ''} in the scenario:\n" if count > 1 else ""
    return head + "\n".join(lines)


def _describe(err: Mapping[str, Any], loc: list[str]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        hint = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.6)
        text = "unknown key"
        if hint:
            text += f"; did you mean {hint[0]!r}?"
        if allowed:
            text += f" (allowed here: {', '.join(allowed)})"
        return text
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {value!r}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    template = _MESSAGES.get(kind)
    text = template.format(**ctx) if template else err["msg"][0].lower() + err["msg"][1:]
    if kind != "missing":
        text += f", got {value!r}"
    return text


def _fields_at(loc: list[str]) -> list[str]:
    """Field names allowed at a location of the scenario model (for did-you-mean hints)."""
    model: Any = Scenario
    for part in loc:
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None
