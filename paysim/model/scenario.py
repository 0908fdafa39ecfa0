"""Scenario files: the validated description of one provider, its demand, capacity and contracts.

A scenario is a YAML file loaded into the frozen pydantic model :class:`Scenario`. Unknown keys are
errors (with a did-you-mean suggestion), every number is range-checked, and every error names the file
and the dotted key. ``--set KEY=VALUE`` overrides are applied to the raw mapping before validation, so
they are checked exactly like the file.

**Declaring a numeric key** (here, in :mod:`paysim.model.terms`, :mod:`paysim.model.distributions` or
:mod:`paysim.model.uncertainty`): give it both bounds in its ``Field``, once, and say why a bound that is a
plausibility choice sits where it does::

    beds: int = Field(ge=0, le=5000, description="local adult acute beds",
                      json_schema_extra=why(maximum="a trust's adult acute beds; England has 6,660 in all"))

or use a shared type (``Share``, ``YearlyChange``, ``Days``, ``Wte``, ...). Infinity and NaN are refused by
every model (:data:`paysim.model.limits.MODEL_CONFIG`). The full convention is in :mod:`paysim.model.limits`;
``tests/test_limits_fuzz.py`` fails on a key that breaks it.

Each service line's section (``services.community``, ...) is modelled in :mod:`paysim.model.services`; its names
import from here too. This module holds the scenario as a whole, loading and ``--set`` overrides, and the error
messages.

Time conventions used throughout paysim: time is in days; the counted horizon is ``[0, 365 * years)``
and starts on the first day of calendar month ``start_month``; ``warmup_days`` are simulated before it
(``[-warmup_days, 0)``) and not counted. Years have 365 days; months have their calendar lengths.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from paysim.model import streams as st
from paysim.model.errors import ScenarioError
from paysim.model.limits import (
    LIMITS,
    LONGEST_DAYS,
    number,
    numeric_keys,
    shown_name,
    shown_value,
    why,
)
from paysim.model.lines import service_line
from paysim.model.services import (  # the line models live there; their old names import from here too
    LINES,
    REFERRALS_PER_YEAR,
    YEAR_DAYS,
    Community,
    CommunityCapacity,
    Crisis,
    CrisisCapacity,
    Inpatient,
    OutOfArea,
    ReferralLine,
    Seasonality,
    Services,
    TalkingTherapies,
    TalkingTherapiesCapacity,
    TreatmentLine,
    _Model,
    grown_places,
    growth_factor,
    place_openings,
    places_by_year,
)
from paysim.model.terms import Contracts, Costs
from paysim.model.uncertainty import Uncertain, check_keys, check_support

NAME_CHARACTERS = 200
"""Longest scenario name: it heads every table, file and chart (a name of megabytes would fill the screen)."""
DESCRIPTION_CHARACTERS = 10_000
"""Longest scenario description: a few paragraphs."""


class Scenario(_Model):
    """One provider's demand, capacity and contracts; see the module docstring for time conventions."""

    name: str = Field(min_length=1, max_length=NAME_CHARACTERS)
    description: str = Field(default="", max_length=DESCRIPTION_CHARACTERS)
    years: int = Field(ge=1, le=10, description="counted horizon, years of 365 days")
    seed: int = Field(0, ge=0, lt=2**63, description="root seed of every random stream (a 63-bit whole number)")
    warmup_days: int = Field(
        0,
        ge=0,
        le=LONGEST_DAYS,
        description="simulated before counting starts",
        json_schema_extra=why(maximum="ten years, the longest horizon"),
    )
    initial_state: Literal["empty", "steady"] = Field(
        "empty",
        description="what the lines hold when the warm-up starts: empty | steady (each line near its steady state: "
        "the people a system without queues would hold at that day's demand); warmup_days 0 starts empty either way",
    )
    start_month: int = Field(4, ge=1, le=12, description="calendar month the horizon starts (4 = April)")
    population: float | None = Field(
        None,
        gt=0,
        le=60e6,
        json_schema_extra=why(maximum="England has about 57 million people"),
        description="people the provider serves, all ages (scales the per-head comparisons of paysim realism)",
    )
    services: Services
    contracts: Contracts | None = None
    costs: Costs | None = None
    uncertain: Uncertain | None = Field(
        None, description="parameter uncertainty: distributions of numeric keys (paysim.model.uncertainty)"
    )

    @model_validator(mode="after")
    def _steady_start_fits(self) -> Scenario:
        if self.initial_state != "steady":
            return self
        for name in self.lines_and_ward():
            if st.INITIAL not in service_line(name).streams:
                raise ValueError(
                    f"initial_state: steady needs every line to declare the stream part {st.INITIAL!r}; line "
                    f"{name!r} does not (add paysim.model.streams.INITIAL to its ServiceLine streams), or use "
                    "initial_state: empty"
                )
        return self

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

    def lines_and_ward(self) -> list[str]:
        """Every service line present: the referral lines (:meth:`lines`), then ``"inpatient"`` if there is a ward."""
        return [*self.lines(), *(["inpatient"] if self.services.inpatient is not None else [])]

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> Scenario:
        """A new validated scenario with dotted-key overrides applied (``{"services.inpatient.beds": 40}``
        or ``["services.inpatient.beds=40"]``)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return scenario_from_dict(apply_overrides(data, overrides), source=f"scenario {self.name!r}")

    def with_values(self, values: Mapping[str, int | float]) -> Scenario:
        """:meth:`with_overrides` for numbers at keys the scenario already has (a replication's parameter set),
        made cheaply: only the models along the changed keys are copied and validated again (their fields'
        limits and their own checks, e.g. ``admission_share_when_full >= admission_share``); every other part
        is shared with this scenario.

        Equal to ``with_overrides(values)`` (same model dump); any problem -- a value out of its key's range, a
        key the scenario does not hold, a scenario with an ``uncertain:`` block to pin -- goes the way of
        :meth:`with_overrides`, which raises the same :class:`ScenarioError` it always has.
        """
        tree: dict[str, Any] = {}
        for key, value in values.items():
            *parents, leaf = key.split(".")
            node = tree
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):  # a key and a key below it: let with_overrides say so
                    return self.with_overrides(values)
            node[leaf] = value
        if self.uncertain is not None:
            return self.with_overrides(values)
        try:
            return _replaced(self, tree)
        except (ValidationError, _NotANumberKey):
            return self.with_overrides(values)

    def to_yaml(self) -> str:
        """The scenario as YAML text that loads back to an equal scenario."""
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


# --- loading ------------------------------------------------------------------------------------------


MAX_FILE_BYTES = 16 * 2**20
"""Largest scenario file read (16 MiB): a scenario is a few kilobytes, and a device or pipe that never ends
(``/dev/zero``) must not fill the memory."""
MAX_VALUES = 100_000
"""Most values (numbers, texts, mappings, lists) a scenario may hold once YAML anchors are expanded: a scenario
has a few hundred, and a few anchors repeated in each other (a "billion laughs") would expand to billions."""


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] = ()) -> Scenario:
    """Load, override and validate a scenario file; raise :class:`ScenarioError` on any problem.

    A file may build on another with ``extends: NAME`` (see :func:`extend`): NAME is a file next to it
    (``NAME`` or ``NAME.yaml``) or a bundled scenario.
    """
    path = Path(path)
    return scenario_from_bytes(_read(path), source=shown_name(path), overrides=overrides, folder=path.parent)


def _read(path: Path) -> bytes:
    """A scenario file's bytes (at most one more than :data:`MAX_FILE_BYTES`), or a :class:`ScenarioError` naming
    it.

    Only a regular file is read, and only up to :data:`MAX_FILE_BYTES`: a device (``/dev/zero``), a named pipe
    (which would wait for a writer forever) or a socket is refused before anything is read.
    """
    name = shown_name(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError(f"{name}: no such scenario file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{name}: is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # a NUL in the name
        raise ScenarioError(f"{name}: cannot be read ({exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError(f"{name}: is a directory, not a scenario file")
        if not stat.S_ISREG(mode):
            raise ScenarioError(f"{name}: is {_file_kind(mode)}, not a scenario file (only a regular file is read)")
        with os.fdopen(fd, "rb", closefd=False) as file:
            return file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    kinds += ((stat.S_ISSOCK, "a socket"),)
    return next((kind for test, kind in kinds if test(mode)), "not a regular file")


def decode(raw: bytes, source: str) -> str:
    """The text of a scenario file's bytes (UTF-8, with or without a byte-order mark), or a :class:`ScenarioError`
    naming ``source``: the check that a file read from disk and an upload share."""
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{source}: is larger than {MAX_FILE_BYTES / 2**20:g} MiB; a scenario file is a few kilobytes of YAML"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{source}: is not a text file (a scenario is YAML text, UTF-8: {exc.reason} at byte {exc.start:,})"
        ) from None


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, reading ``1e12`` and ``2E-3`` as numbers (as YAML 1.2 does; YAML 1.1 needs a dot)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def scenario_from_bytes(
    raw: bytes,
    source: str = "<bytes>",
    overrides: Mapping[str, Any] | Iterable[str] = (),
    folder: Path | None = None,
) -> Scenario:
    """A scenario from a file's bytes, read from disk or uploaded to the app: the one safe path for both (size,
    UTF-8, then :func:`scenario_from_yaml`)."""
    return scenario_from_yaml(decode(raw, source), source, overrides, folder)


def scenario_from_yaml(
    text: str,
    source: str = "<text>",
    overrides: Mapping[str, Any] | Iterable[str] = (),
    folder: Path | None = None,
) -> Scenario:
    """Parse YAML text into a validated scenario; ``source`` names it in error messages. ``extends:`` names a
    file in ``folder`` or a bundled scenario (:func:`extend`)."""
    data = _parse(text, source)
    if "extends" in data:
        data = extend(data, source, folder)
    return scenario_from_dict(apply_overrides(data, overrides, source), source)


def _parse(text: str, source: str) -> dict[str, Any]:
    """YAML text as a mapping, or a :class:`ScenarioError` naming ``source``."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{source}: is larger than {MAX_FILE_BYTES / 2**20:g} MiB; a scenario file is a few kilobytes of YAML"
        )
    data = load_yaml(text, f"{source}: ")
    if data is None:
        raise ScenarioError(f"{source}: is empty; a scenario is a mapping with at least name, years, services")
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: must be a mapping of keys (name, years, services, ...), got a {type(data).__name__}"
        )
    return data


def load_yaml(text: str, where: str, prefix: str = "", subject: str = "") -> Any:
    """Parse YAML text safely: checked before any value is built, so a hostile text cannot hang or fill the memory.

    Refused, each with a :class:`ScenarioError` starting ``where`` (``"FILE: "``): text that is not YAML; a key
    given twice in one mapping (YAML would keep the last silently), named by its dotted key (``prefix`` before it)
    and both lines; more than :data:`MAX_VALUES` values once anchors are expanded (a "billion laughs"); an anchor
    used inside itself; nesting deeper than Python can follow. ``subject`` names what is not valid YAML when
    ``where`` alone does not (``"the value '[1' "``).
    """
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # reads the text at once: characters YAML does not allow are refused here
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(loader, node, where, prefix)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        at = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            at = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{where}{subject}is not valid YAML{at}: {problem}") from None
    except (ValueError, RecursionError) as exc:  # PyYAML's own checks (bad dates, huge numbers) and deep nesting
        if isinstance(exc, ScenarioError):
            raise
        reason = "is nested too deeply" if isinstance(exc, RecursionError) else f"({exc})"
        raise ScenarioError(f"{where}{subject}is not valid YAML {reason}") from None
    finally:
        if loader is not None:
            loader.dispose()


_MERGE = "tag:yaml.org,2002:merge"


def _check_nodes(loader: _Loader, root: yaml.Node, where: str, prefix: str) -> None:
    """Walk YAML's node graph (aliases are shared nodes, not copies) once: count the values it expands to, find
    anchors used inside themselves and keys given twice. Linear in the text's size, whatever the aliases."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def dotted(path: tuple[str, ...]) -> str:
        return ".".join((prefix, *path) if prefix else path)

    def size(node: yaml.Node, path: tuple[str, ...]) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            at = f"{dotted(path)}: " if path or prefix else ""
            raise ScenarioError(
                f"{where}{at}an anchor is used inside itself (line {node.start_mark.line + 1}); YAML anchors may "
                "repeat a value, not contain it"
            )
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            lines: dict[Any, int] = {}
            for key_node, value_node in node.value:
                name = _key_of(loader, key_node)
                line = key_node.start_mark.line + 1
                if key_node.tag != _MERGE and name in lines:
                    raise ScenarioError(
                        f"{where}{dotted((*path, str(name)))}: is given twice in one mapping (lines {lines[name]} "
                        f"and {line}); give each key once"
                    )
                lines.setdefault(name, line)
                total += size(key_node, path) + size(value_node, (*path, str(name)))
                if total > MAX_VALUES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                total += size(item, (*path, str(position)))
                if total > MAX_VALUES:
                    break
        if total > MAX_VALUES:
            raise ScenarioError(
                f"{where}holds more than {MAX_VALUES:,} values once its YAML anchors are expanded; a scenario has a "
                "few hundred"
            )
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root, ())


def _key_of(loader: _Loader, node: yaml.Node) -> Any:
    """A mapping key as YAML will build it (``1`` and ``01`` are one key), for finding keys given twice."""
    if isinstance(node, yaml.ScalarNode):
        try:
            value = loader.construct_object(node)
            hash(value)
            return value
        except (yaml.YAMLError, ValueError, TypeError):
            pass
    return (node.tag, id(node))


MAX_EXTENDS = 8
"""Most scenarios a chain of ``extends:`` may go through."""


def extend(data: Mapping[str, Any], source: str, folder: Path | None = None, chain: tuple[str, ...] = ()) -> dict:
    """A scenario mapping with ``extends: NAME`` made whole: NAME's mapping with this one's keys over it.

    Mappings merge key by key; any other value (a number, a text, a list) replaces the base's. Every key the
    extending file sets is pinned, as ``--set`` pins it: a distribution the base gave it in ``uncertain:`` is
    dropped (an ``uncertain:`` block in the extending file then adds or replaces distributions). NAME is a file
    in ``folder`` (``NAME`` or ``NAME.yaml``), else a bundled scenario; a base may extend another, up to
    :data:`MAX_EXTENDS` deep, never in a circle. The extending file must give its own ``name``.
    """
    budget = [MAX_VALUES]
    own = _deep_copy(data, budget, source)
    base_name = own.pop("extends")
    if not isinstance(base_name, str) or not base_name.strip():
        raise ScenarioError(f"{source}: extends: give the name of a scenario to build on, e.g. extends: default")
    if "name" not in own:
        raise ScenarioError(f"{source}: name: a scenario that extends {base_name!r} needs a name of its own")
    path = _base_path(base_name, source, folder)
    key = str(path.resolve())
    if key in chain:
        raise ScenarioError(f"{source}: extends: {base_name!r} extends this scenario again (a circle)")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(f"{source}: extends: more than {MAX_EXTENDS} scenarios deep")
    base_source = shown_name(path)
    base = _parse(decode(_read(path), base_source), base_source)
    if "extends" in base:
        base = extend(base, base_source, path.parent, (*chain, key))
    base = _deep_copy(base, budget, source)
    uncertain = own.pop("uncertain", None)
    merged = _merged(base, own)
    for dotted in _leaf_keys(own):
        _pin(merged, dotted)
    if uncertain is not None:
        merged = _merged(merged, {"uncertain": uncertain})
    return merged


def _base_path(name: str, source: str, folder: Path | None) -> Path:
    if folder is not None:
        for candidate in (folder / name, folder / f"{name}.yaml"):
            if candidate.is_file():
                return candidate
    bundled = bundled_scenarios()
    if name in bundled:
        return bundled[name]
    near = f" in {shown_name(folder)} or" if folder is not None else ""
    hint = difflib.get_close_matches(name, list(bundled), n=1)
    did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
    raise ScenarioError(
        f"{source}: extends: no scenario {name!r}{near} among the bundled ones ({', '.join(bundled)}){did_you_mean}"
    )


def _merged(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` on top: mappings merge key by key, other values replace."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merged(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def _leaf_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of every value in nested mappings that is not itself a mapping."""
    keys = []
    for k, v in data.items():
        dotted = f"{prefix}{k}"
        keys.extend(_leaf_keys(v, f"{dotted}.") if isinstance(v, Mapping) and v else [dotted])
    return keys


def scenario_from_dict(data: Mapping[str, Any], source: str = "<mapping>") -> Scenario:
    """Validate a plain mapping into a :class:`Scenario`, turning pydantic errors into one clear message."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source)) from None


def parse_override(text: str, source: str = "") -> tuple[str, Any]:
    """Split ``KEY=VALUE``; the value is read as YAML (``40``, ``0.5``, ``true``, ``lognormal``), as safely as a
    file (:func:`load_yaml`). ``source`` (the scenario file) starts error messages when given."""
    where = f"{source}: " if source else ""
    key, sep, raw = text.partition("=")
    key = key.strip()
    shown = shown_value(text)
    if not sep or not key:
        raise ScenarioError(f"{where}--set {shown}: expected KEY=VALUE, e.g. services.inpatient.beds=40")
    if any(not part for part in key.split(".")):
        raise ScenarioError(
            f"{where}--set {shown}: {shown_value(key)} is not a dotted key like services.inpatient.beds"
        )
    if not raw.strip():
        return key, None
    return key, load_yaml(raw, f"{where}--set {shown}: ", prefix=key, subject=f"the value {shown_value(raw)} ")


def apply_overrides(
    data: Mapping[str, Any], overrides: Mapping[str, Any] | Iterable[str], source: str = "--set"
) -> dict[str, Any]:
    """Return a deep copy of ``data`` with dotted-key overrides set (missing mappings are created).

    A key set here is pinned: if the scenario's ``uncertain:`` block gave it a distribution, that
    distribution (and its correlations) is dropped, so ``--set services.inpatient.beds=40`` means 40 beds
    in every replication.
    """
    budget = [MAX_VALUES]
    result = _deep_copy(data, budget, source)
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


class _NotANumberKey(Exception):
    """A key of :meth:`Scenario.with_values` that does not lead through models to a number already set."""


def _replaced(model: BaseModel, tree: Mapping[str, Any]) -> BaseModel:
    """``model`` with the numbers of ``tree`` (``{field: number or subtree}``) set, validated again level by level.

    Each model on a changed path is validated from its own fields (unset ones left out, as ``exclude_none``
    dumps them), its unchanged children passed as the instances they are (pydantic does not validate an
    instance again), so its field limits and its own checks run, and nothing else does.

    Raises
    ------
    pydantic.ValidationError
        A changed value the model does not allow.
    _NotANumberKey
        A key that is not a number of the scenario (a mapping or a missing key: :meth:`Scenario.with_overrides`
        handles those).
    """
    data = {name: value for name, value in model.__dict__.items() if value is not None}
    for name, change in tree.items():
        current = data.get(name)
        if isinstance(change, Mapping):
            if not isinstance(current, BaseModel):
                raise _NotANumberKey(name)
            data[name] = _replaced(current, change)
        else:
            if isinstance(current, bool) or not isinstance(current, int | float):
                raise _NotANumberKey(name)
            data[name] = change
    return type(model).model_validate(data)


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


def _deep_copy(data: Any, budget: list[int], source: str) -> Any:
    """A copy of nested mappings and lists; ``budget[0]`` values at most (see :data:`MAX_VALUES`)."""
    budget[0] -= 1
    if budget[0] < 0:
        where = "" if source == "--set" else f"{source}: "
        raise ScenarioError(
            f"{where}holds more than {MAX_VALUES:,} values (YAML anchors repeated inside each other?); a scenario "
            "has a few hundred"
        )
    if isinstance(data, Mapping):
        return {k: _deep_copy(v, budget, source) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v, budget, source) for v in data]
    return data


def json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file (for editors and the app).

    A whole scenario matches it. A file with ``extends:`` holds only what it changes, so it is checked against the
    schema once made whole (:func:`extend`); the schema lists ``extends`` and, for such a file, asks only for a
    ``name``.
    """
    schema = Scenario.model_json_schema()
    schema["title"] = "paysim scenario"
    schema["properties"] = {
        "extends": {
            "type": "string",
            "description": "a scenario this one builds on (a file next to it, or a bundled scenario); this file "
            "then gives only its name and what it changes (see paysim.model.scenario.extend)",
        },
        **schema["properties"],
    }
    required = schema.pop("required", [])
    schema["if"] = {"required": ["extends"]}
    schema["then"] = {"required": ["extends", "name"]}
    schema["else"] = {"required": required}
    return schema


def bundled_scenarios() -> dict[str, Path]:
    """Scenario files shipped with paysim, by name (``default``, ``oap-pressure``, ...)."""
    here = Path(__file__).resolve().parents[1]  # the paysim package (this module is in paysim/model/)
    for folder in (here / "_scenarios", here.parent / "scenarios"):
        if folder.is_dir():
            return {p.stem: p for p in sorted(folder.glob("*.yaml"))}
    return {}


# --- error messages -----------------------------------------------------------------------------------

_KEYED = re.compile(r"^([a-z_][a-z0-9_.]*): (.*)$", re.DOTALL)

_MESSAGES = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "missing": "is required",
    "finite_number": "must be a finite number",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "list_type": "must be a list",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "model_type": "must be a mapping of keys",
    "model_attributes_type": "must be a mapping of keys",
    "dict_type": "must be a mapping of keys",
}
_SIDE = {
    "greater_than_equal": "minimum",
    "greater_than": "minimum",
    "less_than_equal": "maximum",
    "less_than": "maximum",
}
_BOUNDS = {"ge": "greater_than_equal", "gt": "greater_than", "le": "less_than_equal", "lt": "less_than"}


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One line per problem: ``FILE: dotted.key: what is wrong, got VALUE`` (with suggestions, and the reason
    for a plausibility limit: ``must be <= 5000 (a trust's adult acute beds; ...), got 1e12``)."""
    lines = []
    for err, where in _relevant(exc.errors(include_url=False)):
        loc = where.parts
        text = _describe(err, where)
        inner = _KEYED.match(text) if err["type"] == "value_error" else None
        if inner:  # a model-level check names the key it is about: "sd: ..."
            loc, text = [*loc, *inner.group(1).split(".")], inner.group(2)
        key = ".".join(loc) or "(top level)"
        lines.append(f"{source}: {key}: {text}")
    count = len(lines)
    head = f"{count} problem{'s' if count > 1 else ''} in the scenario:\n" if count > 1 else ""
    return head + "\n".join(lines)


@dataclass(frozen=True)
class _Where:
    """Where a pydantic error points in the scenario model.

    ``parts``: the dotted key's parts (union branch tags dropped); ``union``: the location of the union the error
    came through (None if none); ``reasons`` and ``bounds``: the key's plausibility reasons (see
    :func:`paysim.model.limits.why`) and bounds ``{"le": 5000, ...}``; ``allowed``: the keys allowed beside an unknown
    one.
    """

    parts: list[str]
    union: tuple[Any, ...] | None = None
    reasons: Mapping[str, str] = dataclass_field(default_factory=dict)
    bounds: Mapping[str, Any] = dataclass_field(default_factory=dict)
    allowed: list[str] = dataclass_field(default_factory=list)


def _relevant(errors: list[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], _Where]]:
    """The errors worth showing, each with where it points: a value that fails one branch of a union because it
    plainly belongs to the other (a list where a number goes, or a number where a list goes) is not reported
    when the other branch has a problem of its own."""
    located = [(err, _locate(err["loc"])) for err in errors]

    def noise(err: Mapping[str, Any], where: _Where) -> bool:
        kind = err["type"]
        return where.union is not None and (
            kind == "list_type" or (kind in ("float_type", "int_type") and isinstance(err.get("input"), list))
        )

    unions = {where.union for err, where in located if where.union is not None and not noise(err, where)}
    return [(err, where) for err, where in located if not (noise(err, where) and where.union in unions)]


def _locate(loc: Iterable[Any]) -> _Where:
    """Follow a pydantic error location through the scenario model (fields, mappings, lists, unions)."""
    node: Any = Scenario
    parts: list[str] = []
    union: tuple[Any, ...] | None = None
    info: list[Any] = []  # the FieldInfo objects of the key reached
    allowed: list[str] = []
    seen: list[Any] = []
    for part in loc:
        node, found = _bare(node)
        info.extend(found)
        options = _options(node)
        if options is not None:  # a union: this part names the branch the error came through
            node = _branch(options, part)
            union = union if union is not None else tuple(seen)
            seen.append(part)
            continue
        seen.append(part)
        parts.append(str(part))
        info = []
        origin = typing.get_origin(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            allowed = list(node.model_fields) if field is None else []
            node = None if field is None else field.annotation
            info = [] if field is None else [field]
        elif origin in (dict, Mapping) or node is dict:
            node = (typing.get_args(node) or (Any, Any))[-1]
        elif origin in (list, tuple) or node in (list, tuple):
            node = (typing.get_args(node) or (Any,))[0]
        else:
            node = None
    _, found = _bare(node)
    info.extend(found)
    reasons: dict[str, str] = {}
    bounds: dict[str, Any] = {}
    for field in info:
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, Mapping) else {}
        reasons.update(extra.get(LIMITS, {}))
        for constraint in field.metadata:
            bounds.update({name: getattr(constraint, name) for name in _BOUNDS if hasattr(constraint, name)})
    return _Where(parts, union, reasons, bounds, allowed)


def _bare(annotation: Any) -> tuple[Any, list[Any]]:
    """An annotation without ``Annotated`` and ``None`` options, and the FieldInfo objects taken off it."""
    found: list[Any] = []
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation, *metadata = typing.get_args(annotation)
            found.extend(m for m in metadata if isinstance(m, FieldInfo))
            continue
        options = _options(annotation, keep_none=True)
        if options is not None and type(None) in options:
            rest = [o for o in options if o is not type(None)]
            annotation = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
            continue
        return annotation, found


def _options(annotation: Any, keep_none: bool = False) -> tuple[Any, ...] | None:
    """The options of a union annotation (without ``None`` unless asked), or None if it is not a union."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(annotation)
    return args if keep_none else tuple(a for a in args if a is not type(None))


def _branch(options: tuple[Any, ...], tag: Any) -> Any:
    """The union option a pydantic location tag names: a list, a model by its ``dist`` (discriminator), or a
    single value."""
    for option in options:
        bare, _ = _bare(option)
        if isinstance(bare, type) and issubclass(bare, BaseModel) and "dist" in bare.model_fields:
            if tag in typing.get_args(bare.model_fields["dist"].annotation):
                return option
    is_list = str(tag).startswith("list[")
    for option in options:
        if (typing.get_origin(_bare(option)[0]) is list) == is_list:
            return option
    return options[0]


def _describe(err: Mapping[str, Any], where: _Where) -> str:
    kind = err["type"]
    ctx = dict(err.get("ctx") or {})
    value = err.get("input")
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(where.parts[-1], where.allowed, n=1, cutoff=0.6)
        text = "unknown key"
        if hint:
            text += f"; did you mean {hint[0]!r}?"
        if where.allowed:
            text += f" (allowed here: {', '.join(where.allowed)})"
        return text
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {shown_value(value)}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "int_parsing_size" and ("le" in where.bounds or "lt" in where.bounds):  # a whole number too large
        bound = "le" if "le" in where.bounds else "lt"
        kind, ctx = _BOUNDS[bound], {bound: where.bounds[bound]}
    if kind in _STRICT:
        kind, ctx, detail = _strict_type(kind, value, where)
        if detail:
            return f"{_MESSAGES[kind]}{detail}, got {shown_value(value)}"
    template = _MESSAGES.get(kind)
    if template:
        text = template.format(**{name: number(bound) for name, bound in ctx.items()})
    else:
        text = err["msg"][0].lower() + err["msg"][1:]
    reason = where.reasons.get(_SIDE.get(kind, ""))
    if reason:
        text += f" ({reason})"
    if kind != "missing":
        text += f", got {shown_value(value)}"
    return text


_STRICT = ("int_type", "float_type", "bool_type")
"""Pydantic's strict type errors: scenario models take no conversions (:data:`paysim.model.limits.MODEL_CONFIG`)."""


def _strict_type(kind: str, value: Any, where: _Where) -> tuple[str, dict[str, Any], str]:
    """A strict type error said for a person: ``(kind, ctx, detail)``, where ``detail`` follows the kind's message.

    A float for a whole-number key is reported as pydantic's lax mode would (not finite, not whole, out of range)
    so the message names the real problem; a whole float in range (``40.0``) is refused too -- a count is written
    as a count. ``true`` is not a number, ``"40"`` is text, ``1`` is not ``true``.
    """
    if kind == "int_type" and isinstance(value, float):
        if not math.isfinite(value):
            return "finite_number", {}, ""
        if value != int(value):
            return "int_type", {}, ""
        for bound, inside in (("le", float.__le__), ("lt", float.__lt__), ("ge", float.__ge__), ("gt", float.__gt__)):
            if bound in where.bounds and not inside(value, float(where.bounds[bound])):
                return _BOUNDS[bound], {bound: where.bounds[bound]}, ""
        return "int_type", {}, ", written without a decimal point"
    if isinstance(value, bool) and kind != "bool_type":
        return kind, {}, " (true and false are not numbers)"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            numeric = False
        else:
            numeric = True
        if kind != "bool_type" and numeric:
            return kind, {}, ", written without quotes"
        if kind == "bool_type" and value.strip().lower() in ("true", "false", "yes", "no", "on", "off"):
            return kind, {}, ", written without quotes"
    return kind, {}, ""


def limits_table() -> str:
    """The plausibility limits of every numeric key, as a Markdown table (the README's): key, range, reason.

    Keys that differ only in the referral line (``<line>``) or, under a line, in the currency (``<unit>``:
    contact, course, episode) share a row when they share a range; so do a number-or-list key (an indicator's
    target) and the branches of a union with the same range (an uncertain parameter's ``low``).
    """
    groups: dict[str, dict[str, tuple[str, str]]] = {}  # general name -> {full name: row}
    for key in numeric_keys(json_schema()):
        path = list(key.path[:-1] if key.path[-1] == "<n>" and key.path[-2] != "<key>" else key.path)
        general = [
            "<line>" if part in LINES else "<unit>" if i and path[i - 1] in LINES and part in _UNITS else part
            for i, part in enumerate(path)
        ]
        reasons = dict(key.reasons)
        reason = reasons.get("maximum") or reasons.get("minimum") or "by definition"
        if "minimum" in reasons and reasons["minimum"] != reasons.get("maximum"):
            reason += f"; minimum: {reasons['minimum']}"
        row = (key.range_text() + (" (whole)" if key.integer else ""), reason)
        name = ".".join(path)
        dist = key.fixed.get(3, {}).get("dist")
        same_name = groups.setdefault(".".join(general), {})
        if name in same_name and same_name[name] != row and dist:  # a union branch with its own range
            name = f"{name} ({dist})"
        same_name.setdefault(name, row)
    lines = ["| key | range | why the limit is there |", "| --- | --- | --- |"]
    for general, rows in groups.items():
        if len(rows) > 1 and len(set(rows.values())) == 1:
            rows = {general: next(iter(rows.values()))}
        lines += [f"| `{name}` | {span} | {reason} |" for name, (span, reason) in rows.items()]
    return "\n".join(lines)


_UNITS = ("contact", "course", "episode")


__all__ = [
    "DESCRIPTION_CHARACTERS",
    "LINES",
    "MAX_EXTENDS",
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "NAME_CHARACTERS",
    "REFERRALS_PER_YEAR",
    "YEAR_DAYS",
    "Community",
    "CommunityCapacity",
    "Crisis",
    "CrisisCapacity",
    "Inpatient",
    "OutOfArea",
    "ReferralLine",
    "Scenario",
    "ScenarioError",
    "Seasonality",
    "Services",
    "TalkingTherapies",
    "TalkingTherapiesCapacity",
    "TreatmentLine",
    "apply_overrides",
    "bundled_scenarios",
    "decode",
    "extend",
    "format_validation_error",
    "grown_places",
    "growth_factor",
    "json_schema",
    "limits_table",
    "load_scenario",
    "load_yaml",
    "parse_override",
    "place_openings",
    "places_by_year",
    "scenario_from_bytes",
    "scenario_from_dict",
    "scenario_from_yaml",
]
