"""Parameter uncertainty: the ``uncertain:`` block of a scenario and probabilistic sensitivity analysis.

A scenario may say which of its numeric keys are uncertain and how (a distribution, or a low/high range),
and which of them move together (a correlation matrix over named parameters)::

    uncertain:
      parameters:
        services.inpatient.los_days.mean: {dist: pert, low: 28, mode: 33, high: 45}
        services.community.growth: [0.03, 0.08]           # shorthand for {dist: uniform, low: .., high: ..}
        contracts.block.annual_value: {dist: normal, mean: 101e6, sd: 2e6}
      correlations:
        - {between: [services.community.growth, services.crisis.growth], rho: 0.8}

**Probabilistic sensitivity analysis (PSA).** Replication ``r`` draws its own parameter set from its own
stream ``paysim.model.streams.stream(seed, r, "uncertain")``, so the draws never depend on how replications are
split between processes. Correlation is a Gaussian copula: ``z ~ N(0, I)`` (one standard normal per
parameter, in the order of the file), ``u = Phi(L z)`` with ``L L' = C`` (Cholesky of the correlation
matrix), ``x_i = F_i^{-1}(u_i)``. Keys whose scenario value is a whole number (beds, places) are rounded.
Running such a scenario, and pricing each replication with its own parameters, is :mod:`paysim.runs.psa`.

Distributions (``dist``): ``uniform`` (low, high), ``triangular`` and ``pert`` (low, mode, high; beta-PERT
with lambda 4), ``normal`` (mean, sd, optionally truncated to low/high), ``lognormal`` (mean and sd of the
value itself), ``beta`` (mean, sd, on low..high, default 0..1).
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, Field, model_validator
from scipy import stats

from paysim.model.errors import ScenarioError
from paysim.model.limits import MAX_CV, MODEL_CONFIG, PARAMETER_LIMIT, why
from paysim.model.streams import UNCERTAIN, stream

if TYPE_CHECKING:
    from paysim.model.scenario import Scenario

STREAM = UNCERTAIN
"""Name of the random stream each replication's parameter set is drawn from."""

UNCERTAIN_ROOTS = ("services", "contracts", "costs")
"""Uncertain keys must lie under one of these blocks (the horizon and seed cannot be uncertain)."""

MONEY_ROOTS = ("contracts", "costs")
"""Keys under these blocks change money only: no re-simulation is needed when only they change."""


_WIDEST = "ten times the widest range of a key that can be uncertain; the key's own range is checked too"
Figure = Annotated[
    float,
    Field(ge=-PARAMETER_LIMIT, le=PARAMETER_LIMIT, json_schema_extra=why(maximum=_WIDEST, minimum=_WIDEST)),
]
"""A distribution's low, mode, high or mean (in the key's own units)."""
Spread = Annotated[float, Field(gt=0, le=PARAMETER_LIMIT, json_schema_extra=why(maximum=_WIDEST))]
"""A distribution's standard deviation (in the key's own units)."""


class _Spec(BaseModel):
    model_config = MODEL_CONFIG

    def frozen(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: values at probabilities ``u`` (array, 0..1)."""
        return np.asarray(_frozen(self).ppf(u), dtype=float)

    def support(self) -> tuple[float, float]:
        """The smallest and largest values the distribution can take (1e-9 tails for unbounded ones)."""
        low, high = _frozen(self).support()
        if not np.isfinite(low):
            low = self.ppf(np.array(1e-9))
        if not np.isfinite(high):
            high = self.ppf(np.array(1 - 1e-9))
        return float(low), float(high)


@functools.lru_cache(maxsize=1024)
def _frozen(spec: _Spec) -> Any:
    """``spec.frozen()``, made once per distribution (scipy takes about 0.5 ms to freeze one; a run draws every
    chunk's parameter sets from the same few)."""
    return spec.frozen()


class Uniform(_Spec):
    """Every value between ``low`` and ``high`` equally likely."""

    dist: Literal["uniform"] = "uniform"
    low: Figure
    high: Figure

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"high: must be > low ({self.low:g}), got {self.high:g}")
        return self

    def frozen(self) -> Any:
        return stats.uniform(self.low, self.high - self.low)


class Triangular(_Spec):
    """Triangular on ``low..high`` with its peak at ``mode``."""

    dist: Literal["triangular"] = "triangular"
    low: Figure
    mode: Figure
    high: Figure

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"mode: need low <= mode <= high and low < high, got {self.low:g}, {self.mode:g}, {self.high:g}"
            )
        return self

    def frozen(self) -> Any:
        width = self.high - self.low
        return stats.triang((self.mode - self.low) / width, self.low, width)


class Pert(Triangular):
    """Beta-PERT on ``low..high`` with mode ``mode`` (lambda 4): mean = (low + 4 mode + high) / 6."""

    dist: Literal["pert"] = "pert"  # type: ignore[assignment]

    def frozen(self) -> Any:
        width = self.high - self.low
        a = 1 + 4 * (self.mode - self.low) / width
        b = 1 + 4 * (self.high - self.mode) / width
        return stats.beta(a, b, self.low, width)


class Normal(_Spec):
    """Normal with ``mean`` and ``sd``, truncated to ``low..high`` when they are given."""

    dist: Literal["normal"]
    mean: Figure
    sd: Spread
    low: Figure | None = None
    high: Figure | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Normal:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if not lo < hi:
            raise ValueError(f"high: must be > low ({lo:g}), got {hi:g}")
        return self

    def frozen(self) -> Any:
        if self.low is None and self.high is None:
            return stats.norm(self.mean, self.sd)
        lo = -np.inf if self.low is None else (self.low - self.mean) / self.sd
        hi = np.inf if self.high is None else (self.high - self.mean) / self.sd
        return stats.truncnorm(lo, hi, self.mean, self.sd)


class LogNormal(_Spec):
    """Lognormal with the given ``mean`` and ``sd`` of the value (not of its logarithm); positive values."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0, le=PARAMETER_LIMIT, json_schema_extra=why(maximum=_WIDEST))
    sd: Spread

    @model_validator(mode="after")
    def _spread(self) -> LogNormal:
        if self.sd > MAX_CV * self.mean:
            raise ValueError(
                f"sd: must be at most {MAX_CV} x the mean ({MAX_CV * self.mean:g}), got {self.sd:g}: a coefficient "
                f"of variation of {self.sd / self.mean:.3g}"
            )
        return self

    def frozen(self) -> Any:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return stats.lognorm(math.sqrt(sigma2), scale=self.mean * math.exp(-sigma2 / 2))


class Beta(_Spec):
    """Beta with ``mean`` and ``sd`` on ``low..high`` (default 0..1), e.g. for a share."""

    dist: Literal["beta"]
    mean: Figure
    sd: Spread
    low: Figure = 0.0
    high: Figure = 1.0

    @model_validator(mode="after")
    def _feasible(self) -> Beta:
        if not self.low < self.mean < self.high:
            raise ValueError(f"mean: must lie strictly between low ({self.low:g}) and high ({self.high:g})")
        m = (self.mean - self.low) / (self.high - self.low)
        s = self.sd / (self.high - self.low)
        if s * s >= m * (1 - m):
            limit = math.sqrt(m * (1 - m)) * (self.high - self.low)
            raise ValueError(f"sd: a beta with this mean needs sd < {limit:g}, got {self.sd:g}")
        return self

    def frozen(self) -> Any:
        m = (self.mean - self.low) / (self.high - self.low)
        s = self.sd / (self.high - self.low)
        k = m * (1 - m) / (s * s) - 1
        return stats.beta(m * k, (1 - m) * k, self.low, self.high - self.low)


def _range_shorthand(value: Any) -> Any:
    """``[low, high]`` means ``{dist: uniform, low, high}``; a mapping without ``dist`` is uniform."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError(f"a range is [low, high], got {list(value)}")
        return {"dist": "uniform", "low": value[0], "high": value[1]}
    if isinstance(value, Mapping) and "dist" not in value:
        return {"dist": "uniform", **value}
    return value


Range = Annotated[list[Figure], Field(min_length=2, max_length=2, description="[low, high]: uniform")]

Distribution = Annotated[
    Uniform | Triangular | Pert | Normal | LogNormal | Beta,
    Field(discriminator="dist"),
    BeforeValidator(
        _range_shorthand, json_schema_input_type=Range | Uniform | Triangular | Pert | Normal | LogNormal | Beta
    ),
]
"""One uncertain parameter's distribution (see the module docstring)."""


def _list_as_tuple(value: Any) -> Any:
    """YAML writes a pair as a list; strict validation takes a tuple."""
    return tuple(value) if isinstance(value, list) else value


class PairCorrelation(BaseModel):
    """Correlation ``rho`` (-1..1) between two uncertain parameters, in the Gaussian copula."""

    model_config = MODEL_CONFIG

    between: Annotated[tuple[str, str], BeforeValidator(_list_as_tuple)] = Field(description="the two dotted keys")
    rho: float = Field(ge=-1, le=1, description="correlation of their normal scores")


class Uncertain(BaseModel):
    """The ``uncertain:`` block: a distribution per dotted key and optional pairwise correlations."""

    model_config = MODEL_CONFIG

    parameters: dict[str, Distribution] = Field(
        min_length=1, description="dotted scenario key -> distribution or [low, high] range"
    )
    correlations: list[PairCorrelation] = Field(default_factory=list, description="pairwise correlations")

    @model_validator(mode="after")
    def _correlations_valid(self) -> Uncertain:
        names = list(self.parameters)
        for pair in self.correlations:
            for key in pair.between:
                if key not in self.parameters:
                    hint = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
                    extra = f"; did you mean {hint[0]!r}?" if hint else ""
                    raise ValueError(f"correlations: {key!r} is not an uncertain parameter{extra}")
            if pair.between[0] == pair.between[1]:
                raise ValueError(f"correlations: a parameter cannot be correlated with itself ({pair.between[0]})")
        given: dict[frozenset[str], float] = {}
        for pair in self.correlations:
            both = frozenset(pair.between)
            if both in given:
                first, second = given[both], pair.rho
                differ = f"rho {first:g} and {second:g}" if first != second else f"both rho {first:g}"
                raise ValueError(
                    f"correlations: {pair.between[0]} and {pair.between[1]} are correlated twice ({differ}); "
                    "give each pair once"
                )
            given[both] = pair.rho
        try:
            np.linalg.cholesky(self.correlation_matrix())
        except np.linalg.LinAlgError:
            raise ValueError(
                "correlations: the correlation matrix is not positive definite; weaken some correlations"
            ) from None
        return self

    @property
    def names(self) -> list[str]:
        """The uncertain dotted keys, in the order of the file."""
        return list(self.parameters)

    def correlation_matrix(self) -> np.ndarray:
        """Correlation of the normal scores, ``[P, P]`` in the order of :attr:`names`."""
        names = self.names
        matrix = np.eye(len(names))
        for pair in self.correlations:
            i, j = names.index(pair.between[0]), names.index(pair.between[1])
            matrix[i, j] = matrix[j, i] = pair.rho
        return matrix

    def simulation_keys(self) -> list[str]:
        """Uncertain keys that change the simulated activity (not only the money)."""
        return [k for k in self.names if k.split(".")[0] not in MONEY_ROOTS]


# --- checking the keys against the scenario ------------------------------------------------------------


def check_keys(data: Mapping[str, Any], uncertain: Uncertain) -> None:
    """Check every uncertain key names a numeric value of the scenario ``data`` (a JSON-mode dump).

    Raises
    ------
    ValueError
        ``"uncertain.parameters.<key>: ..."`` naming the key, with a did-you-mean hint.
    """
    for key in uncertain.names:
        where = f"uncertain.parameters.{key}"
        parts = key.split(".")
        if parts[0] not in UNCERTAIN_ROOTS:
            raise ValueError(f"{where}: uncertain keys must be under {', '.join(UNCERTAIN_ROOTS)}")
        node: Any = data
        for depth, part in enumerate(parts):
            if not isinstance(node, Mapping) or part not in node:
                known = list(node) if isinstance(node, Mapping) else []
                hint = difflib.get_close_matches(part, known, n=1, cutoff=0.6)
                above = ".".join(parts[:depth]) or "the scenario"
                text = f"{where}: not a key of the scenario ({above} has no {part!r}"
                text += f"; did you mean {hint[0]!r}?)" if hint else ")"
                raise ValueError(text)
            node = node[part]
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise ValueError(f"{where}: must name a number in the scenario, but its value is {node!r}")


def central_value(scenario: Scenario, key: str) -> float:
    """The scenario's own value of a dotted key (its central value)."""
    return _value_at(scenario.model_dump(mode="json", exclude_none=True), key)


def _value_at(data: Mapping[str, Any], key: str) -> Any:
    """The value of a dotted key in a scenario's dump."""
    node: Any = data
    for part in key.split("."):
        node = node[part]
    return node


def is_whole(scenario: Scenario, key: str) -> bool:
    """Whether the key holds a whole number in the scenario (beds, places), so samples are rounded."""
    return _whole_number(central_value(scenario, key))


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_support(scenario: Scenario) -> None:
    """Check each uncertain parameter's whole range is valid for the scenario (e.g. a share stays in 0..1).

    Raises
    ------
    ValueError
        ``"uncertain.parameters.<key>: the distribution reaches V, ..."`` naming the extreme value and what is
        wrong with it (a :class:`paysim.model.scenario.ScenarioError` message once the scenario is validated).
    """
    if scenario.uncertain is None:
        return
    base = central(scenario)
    for key, spec in scenario.uncertain.parameters.items():
        for value in spec.support():
            if is_whole(base, key):
                value = round(value)
            try:
                base.with_overrides({key: value})
            except ScenarioError as exc:
                reason = str(exc).splitlines()[-1].split(": ", 2)[-1]
                raise ValueError(
                    f"uncertain.parameters.{key}: the distribution reaches {value:g}, which the scenario does not "
                    f"allow ({reason}); narrow or truncate it"
                ) from None


# --- sampling ------------------------------------------------------------------------------------------


def central(scenario: Scenario) -> Scenario:
    """The scenario at its central values: the same scenario without its ``uncertain:`` block."""
    if scenario.uncertain is None:
        return scenario
    return scenario.model_copy(update={"uncertain": None})


def whole_keys(scenario: Scenario) -> list[bool]:
    """For each uncertain key (in the order of ``uncertain.names``), whether the scenario holds a whole number
    there (:func:`is_whole`), read from one dump of the scenario."""
    if scenario.uncertain is None:
        return []
    data = central(scenario).model_dump(mode="json", exclude_none=True)
    return [_whole_number(_value_at(data, key)) for key in scenario.uncertain.names]


def sample(scenario: Scenario, replications: Sequence[int] | np.ndarray) -> np.ndarray:
    """Each replication's parameter set, ``[len(replications), P]`` in the order of ``uncertain.names``.

    Replication ``r`` uses stream ``(scenario.seed, r, "uncertain")`` alone, so its draw is the same in any
    chunk; each parameter's quantile function runs once over all the replications. Whole-number keys are
    rounded.
    """
    uncertain = scenario.uncertain
    if uncertain is None:
        return np.empty((len(replications), 0))
    names = uncertain.names
    chol = np.linalg.cholesky(uncertain.correlation_matrix())
    z = np.stack([stream(scenario.seed, int(r), STREAM).standard_normal(len(names)) for r in replications])
    z = z.reshape(len(replications), len(names))
    u = stats.norm.cdf(z @ chol.T)
    values = np.column_stack([spec.ppf(u[:, i]) for i, spec in enumerate(uncertain.parameters.values())])
    for i, whole in enumerate(whole_keys(scenario)):
        if whole:
            values[:, i] = np.round(values[:, i])
    return values.reshape(len(replications), len(names))


def overrides_of(scenario: Scenario, row: np.ndarray, whole: Sequence[bool] | None = None) -> dict[str, Any]:
    """One parameter set as ``{dotted key: value}`` (whole-number keys as int; ``whole`` is
    :func:`whole_keys`, given when known)."""
    assert scenario.uncertain is not None
    if whole is None:
        whole = whole_keys(scenario)
    return {
        key: int(value) if whole_number else float(value)
        for key, value, whole_number in zip(scenario.uncertain.names, row, whole, strict=True)
    }


def sampled_scenarios(scenario: Scenario, replications: Sequence[int] | np.ndarray) -> list[Scenario]:
    """The scenario of each replication: central values with that replication's parameter set."""
    if scenario.uncertain is None:
        return [central(scenario)] * len(replications)
    return scenarios_of_sets(scenario, sample(scenario, replications))


def scenarios_of_sets(scenario: Scenario, values: np.ndarray) -> list[Scenario]:
    """The scenario of each parameter set (rows of :func:`sample`, ``[R, P]``): central values with the row's
    values set (:meth:`~paysim.model.scenario.Scenario.with_values`, the same as ``with_overrides`` but
    validating only the parts that change)."""
    base = central(scenario)
    whole = whole_keys(scenario)
    return [base.with_values(overrides_of(scenario, row, whole)) for row in values]


def param_columns(scenario: Scenario, replications: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
    """Results-table columns ``param.<dotted key>`` holding each replication's sample, ``{name: [R]}``."""
    if scenario.uncertain is None:
        return {}
    return columns_of_sets(scenario, sample(scenario, replications))


def columns_of_sets(scenario: Scenario, values: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`param_columns` of parameter sets already drawn (rows of :func:`sample`, ``[R, P]``)."""
    assert scenario.uncertain is not None
    return {f"param.{key}": values[:, i] for i, key in enumerate(scenario.uncertain.names)}
