"""Contract design: the contract term that meets a goal, on the same random numbers, with its uncertainty.

Activity is simulated once (at the scenario's central values); changing a contract term changes only money,
so the solver re-prices the *same* replications (common random numbers by construction) with
:func:`paysim.money.finance.ledgers` at each trial value and finds the root with :func:`scipy.optimize.brentq`.

Goals (``surplus`` and ``spend`` are the provider's surplus and the commissioner's spend over the horizon,
GBP per replication, under the term's rule):

``p-deficit``
    P(surplus < 0) = ``target`` (default 0.10), solved as ``quantile(surplus, target) = 0``; with target
    0.10 this is also "break even at the 90th percentile" of cost.
``mean-surplus``
    mean(surplus) = ``target`` (default 0: break even on average).
``equal-shortfall``
    the provider's and the commissioner's expected shortfall are equal: the mean of the worst 5 % of
    ``surplus - mean(surplus)`` for the provider and of ``mean(spend) - spend`` for the commissioner (each
    party's shortfall against what it expects, as a positive GBP amount).

Several ``terms`` may be given; they are set to the same value (e.g. a symmetric marginal rate
``contracts.blended.variable.rate_above`` and ``rate_below``, or a symmetric corridor share). Under API the
fixed payment's level is designed through ``contracts.api.baseline.error`` (the plan the fixed payment is set
on, above or below the expected activity) and a local variable element through
``contracts.api.variable.rate_above`` / ``rate_below``.

**Monte Carlo uncertainty of the answer**: a bootstrap over replications. Each resample of the replications
is solved again, with every replication's surplus and spend interpolated linearly between ``grid`` values of
the term spanning the bracket (exact for terms that enter income linearly, such as a block value or a
capitation rate; piecewise-linear terms such as a marginal rate under a corridor are interpolated on a fine
grid). The answer's standard error is the sd of the bootstrap answers; the interval their 2.5th and 97.5th
percentiles.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from paysim.activity import Activity
from paysim.analysis import expected_shortfall
from paysim.model import uncertainty
from paysim.model.scenario import Scenario, ScenarioError, scenario_from_dict
from paysim.model.terms import PLANNED_RULES, contract_rule
from paysim.money import finance
from paysim.money.costs import provider_costs
from paysim.runs import psa
from paysim.runs.runner import RunSettings, simulate

GOALS = ("p-deficit", "mean-surplus", "equal-shortfall")
"""Goals :func:`design` can meet."""

DEFAULT_TARGETS = {"p-deficit": 0.10, "mean-surplus": 0.0, "equal-shortfall": 0.0}
"""Target of each goal when none is given (equal-shortfall: provider minus commissioner shortfall = 0)."""

SHARE_NAMES = (
    "rate_above",
    "rate_below",
    "dead_band",
    "band",
    "overspend_share",
    "underspend_share",
    "cap",
    "collar",
    "share",
    "error",
)
"""Terms that are shares (searched in 0..1 by default; ``error`` in -0.5..0.5)."""


class DesignError(ValueError):
    """Bad input to a design, or no answer within the bounds; the message is ready to show a user."""


@dataclass(frozen=True)
class Design:
    """Result of :func:`design`.

    Attributes
    ----------
    goal, terms, rule, target :
        What was solved for.
    value : float
        The answer (the value of every term).
    se, ci_low, ci_high : float
        Bootstrap standard error and 95 % percentile interval of the answer (NaN without a bootstrap).
    bootstrap : int
        Number of bootstrap resamples.
    reps : int
        Replications the answer rests on.
    at_answer : dict
        Goal measures at the answer: ``p_deficit``, ``mean_surplus``, ``provider_shortfall``,
        ``commissioner_shortfall``, ``mean_spend`` (GBP over the horizon).
    curve : list of dict
        The goal measures over the grid of term values (for a chart; see :func:`design_chart_data`).
    bounds : tuple of float
        The bracket searched.
    """

    goal: str
    terms: tuple[str, ...]
    rule: str
    target: float
    value: float
    se: float
    ci_low: float
    ci_high: float
    bootstrap: int
    reps: int
    at_answer: dict[str, float]
    curve: list[dict[str, float]]
    bounds: tuple[float, float]

    def row(self) -> dict[str, Any]:
        """A flat summary row (for tables and JSON)."""
        return {
            "goal": self.goal,
            "terms": ", ".join(self.terms),
            "rule": self.rule,
            "target": self.target,
            "value": self.value,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "bootstrap": self.bootstrap,
            "reps": self.reps,
            **self.at_answer,
        }


def check_terms(scenario: Scenario, terms: Sequence[str]) -> str:
    """Check the terms are numeric keys of one payment rule of the scenario; return the rule.

    Raises
    ------
    DesignError
        Naming the term, with a did-you-mean hint.
    """
    if scenario.contracts is None:
        raise DesignError(f"scenario {scenario.name!r} has no contracts to design")
    if not terms:
        raise DesignError(f"--term: give at least one contract term, e.g. {suggested_terms(scenario)}")
    rules = set()
    data = scenario.model_dump(mode="json", exclude_none=True)
    for term in terms:
        parts = term.split(".")
        if len(parts) < 3 or parts[0] != "contracts" or parts[1] not in scenario.contracts.rules:
            raise DesignError(
                f"--term {term}: must be a term of a payment rule in the scenario, e.g. {suggested_terms(scenario)}"
            )
        node: Any = data
        for depth, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                known = list(node) if isinstance(node, dict) else []
                hint = difflib.get_close_matches(part, known, n=1, cutoff=0.6)
                extra = f"; did you mean {hint[0]!r}?" if hint else ""
                raise DesignError(f"--term {term}: {'.'.join(parts[:depth])} has no {part!r}{extra}")
            node = node[part]
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise DesignError(f"--term {term}: must be a number in the scenario, got {node!r}")
        rules.add(parts[1])
    if len(rules) > 1:
        raise DesignError(f"--term: all terms must belong to one rule, got {', '.join(sorted(rules))}")
    return rules.pop()


def design_terms(scenario: Scenario) -> list[str]:
    """The terms of the scenario's rules that a contract is usually designed on, ``contracts.<rule>.<term>``, in
    reporting order (each rule declares its own: :attr:`paysim.model.terms.ContractRule.design_terms`)."""
    rules = scenario.contracts.rules if scenario.contracts is not None else []
    return [f"contracts.{rule}.{term}" for rule in rules for term in contract_rule(rule).design_terms]


def suggested_terms(scenario: Scenario) -> str:
    """:func:`design_terms` as ``--term`` options (what an error suggests), or the rules when none declares any."""
    terms = design_terms(scenario)
    if terms:
        return ", ".join(f"--term {term}" for term in terms)
    rules = scenario.contracts.rules if scenario.contracts is not None else []
    return "a number under " + ", ".join(f"contracts.{rule}" for rule in rules)


def default_bounds(scenario: Scenario, term: str) -> tuple[float, float]:
    """The bracket searched when none is given: 0..1 for shares, else half to one and a half times the
    scenario's value (widened automatically until the goal changes sign)."""
    last = term.rsplit(".", 1)[-1]
    if last == "error":
        return (-0.5, 0.5)
    if last in SHARE_NAMES:
        return (0.0, 1.0)
    value = float(uncertainty.central_value(scenario, term))
    if value == 0:
        return (0.0, 1.0)
    return (0.5 * value, 1.5 * value)


# --- pricing the same replications at any term value ---------------------------------------------------


class Pricer:
    """Surplus and commissioner spend per replication, ``[R]`` GBP over the horizon, at any term value.

    Only the term's rule is priced; provider costs are computed once (they do not depend on contract terms).
    A blended or API baseline of source ``expected`` (or ``last_year``, for year 1) is set on the mean over all
    replications, whatever the term's value.
    """

    def __init__(self, scenario: Scenario, activity: Activity, terms: Sequence[str], rule: str) -> None:
        contracts = scenario.contracts
        assert contracts is not None
        keep = {"oap_paid_by", "oap_provider_share", "roll_forward", rule}
        data = scenario.model_dump(mode="json", exclude_none=True)
        data["contracts"] = {k: v for k, v in data["contracts"].items() if k in keep}
        self.scenario = scenario_from_dict(data, source=f"scenario {scenario.name!r}")
        self.activity = activity
        self.terms = tuple(terms)
        self.rule = rule
        self.costs = provider_costs(self.scenario, activity)
        self.level = psa.expected_level([self.scenario] * activity.n_replications, activity)
        self.evaluations = 0

    def __call__(self, value: float) -> tuple[np.ndarray, np.ndarray]:
        """``(surplus, spend)`` per replication at ``value`` of every term."""
        whole = [uncertainty.is_whole(self.scenario, t) for t in self.terms]
        overrides = {t: int(np.rint(value)) if w else float(value) for t, w in zip(self.terms, whole, strict=True)}
        try:
            scenario = self.scenario.with_overrides(overrides)
        except ScenarioError as exc:
            raise DesignError(f"{', '.join(self.terms)} = {value:g} is not a valid contract: {exc}") from None
        reps = self.activity.n_replications
        if self.level is not None and self.rule in PLANNED_RULES:
            ledger = psa.ledgers_by_replication([scenario] * reps, self.activity, self.level)[self.rule]
        else:
            ledger = finance.ledgers(scenario, self.activity, self.costs)[self.rule]
        self.evaluations += 1
        return ledger.total("provider_surplus"), ledger.total("commissioner_spend")


def goal_measures(surplus: np.ndarray, spend: np.ndarray, level: float = 0.05) -> dict[str, float]:
    """The measures goals are stated in, GBP over the horizon (pure).

    ``p_deficit`` = P(surplus < 0); ``mean_surplus``; ``provider_shortfall`` = -(mean of the worst ``level``
    of surplus - mean surplus); ``commissioner_shortfall`` = mean of the worst ``level`` of spend above its
    mean; ``mean_spend``.
    """
    return {
        "p_deficit": float((surplus < 0).mean()),
        "mean_surplus": float(surplus.mean()),
        "provider_shortfall": -expected_shortfall(surplus - surplus.mean(), level),
        "commissioner_shortfall": -expected_shortfall(spend.mean() - spend, level),
        "mean_spend": float(spend.mean()),
    }


def goal_gap(goal: str, target: float, surplus: np.ndarray, spend: np.ndarray, level: float = 0.05) -> float:
    """How far a term value is from meeting the goal (0 at the answer, continuous in the term)."""
    if goal == "p-deficit":
        return float(np.quantile(surplus, target))
    if goal == "mean-surplus":
        return float(surplus.mean() - target)
    if goal == "equal-shortfall":
        m = goal_measures(surplus, spend, level)
        return m["provider_shortfall"] - m["commissioner_shortfall"] - target
    raise DesignError(f"--goal {goal!r}: use one of {', '.join(GOALS)}")


def _solve(gap: Callable[[float], float], low: float, high: float, widen: bool) -> tuple[float, tuple[float, float]]:
    g_low, g_high = gap(low), gap(high)
    tries = 0
    while widen and np.sign(g_low) == np.sign(g_high) and tries < 8:
        width = high - low
        low, high = max(low - width, 0.0) if low >= 0 else low - width, high + width
        g_low, g_high = gap(low), gap(high)
        tries += 1
    if g_low == 0:
        return low, (low, high)
    if g_high == 0:
        return high, (low, high)
    if np.sign(g_low) == np.sign(g_high):
        raise DesignError(
            f"no value between {low:,.6g} and {high:,.6g} meets the goal (the gap is {g_low:,.6g} at the low end "
            f"and {g_high:,.6g} at the high end); give other bounds with --low/--high"
        )
    root = optimize.brentq(gap, low, high, xtol=1e-12 * max(1.0, abs(high)), rtol=1e-12, maxiter=200)
    return float(root), (low, high)


def design(
    scenario: Scenario,
    goal: str,
    terms: Sequence[str],
    reps: int = 1000,
    target: float | None = None,
    bounds: tuple[float, float] | None = None,
    engine: str = "vector",
    workers: int = 1,
    bootstrap: int = 200,
    grid: int = 201,
    level: float = 0.05,
    activity: Activity | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> Design:
    """Find the value of contract ``terms`` that meets ``goal`` on replications ``0..reps-1``.

    Parameters
    ----------
    scenario : Scenario
        Simulated at its central values (an ``uncertain:`` block is not sampled here).
    goal : str
        One of :data:`GOALS`.
    terms : sequence of str
        Dotted keys of one payment rule's terms, all set to the answer.
    reps : int
        Replications (ignored when ``activity`` is given).
    target : float, optional
        Default :data:`DEFAULT_TARGETS`.
    bounds : (float, float), optional
        Bracket; default :func:`default_bounds`, widened until the goal changes sign.
    bootstrap : int
        Resamples for the Monte Carlo uncertainty (0 = none).
    grid : int
        Term values the bootstrap interpolates between.
    activity : Activity, optional
        Reuse a simulated Activity of this scenario.

    Returns
    -------
    Design
    """
    if goal not in GOALS:
        raise DesignError(f"--goal {goal!r}: use one of {', '.join(GOALS)}")
    rule = check_terms(scenario, terms)
    target = DEFAULT_TARGETS[goal] if target is None else float(target)
    if goal == "p-deficit" and not 0 < target < 1:
        raise DesignError(f"--target: a probability of deficit is between 0 and 1, got {target}")
    base = uncertainty.central(scenario)
    if activity is None:
        settings = RunSettings(
            reps=reps, engine=engine, workers=workers, progress=progress, executor=executor, uncertainty=False
        )
        activity = simulate(base, settings)
    pricer = Pricer(base, activity, terms, rule)
    cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def price(value: float) -> tuple[np.ndarray, np.ndarray]:
        if value not in cache:
            cache[value] = pricer(value)
        return cache[value]

    def gap(value: float) -> float:
        return goal_gap(goal, target, *price(value), level)

    low, high = bounds if bounds is not None else default_bounds(base, terms[0])
    if not low < high:
        raise DesignError(f"--low/--high: need low < high, got {low:g} and {high:g}")
    widen = bounds is None and terms[0].rsplit(".", 1)[-1] not in SHARE_NAMES
    value, (low, high) = _solve(gap, low, high, widen=widen)
    at_answer = goal_measures(*price(value), level)

    values = np.linspace(low, high, grid)
    priced = [price(float(v)) for v in values]
    surplus = np.stack([p[0] for p in priced])  # [grid, R]
    spend = np.stack([p[1] for p in priced])
    curve = [{"value": float(v), **goal_measures(s, c, level)} for v, s, c in zip(values, surplus, spend, strict=True)]

    answers = []
    rng = np.random.default_rng([scenario.seed, 0xDE51])
    n = activity.n_replications
    for _ in range(bootstrap):
        index = rng.integers(0, n, n)
        answers.append(_interpolated_root(goal, target, values, surplus[:, index], spend[:, index], level))
    answers = np.asarray([a for a in answers if np.isfinite(a)])
    if answers.size > 1:
        se = float(answers.std(ddof=1))
        ci_low, ci_high = (float(q) for q in np.percentile(answers, [2.5, 97.5]))
    else:
        se = ci_low = ci_high = float("nan")
    return Design(
        goal, tuple(terms), rule, target, value, se, ci_low, ci_high, bootstrap, n, at_answer, curve, (low, high)
    )


def _interpolated_root(
    goal: str, target: float, values: np.ndarray, surplus: np.ndarray, spend: np.ndarray, level: float
) -> float:
    """The root for one resample: per-replication outcomes linear between grid values ``[grid, R]``."""
    gaps = np.array([goal_gap(goal, target, s, c, level) for s, c in zip(surplus, spend, strict=True)])
    signs = np.sign(gaps)
    change = np.nonzero(signs[:-1] * signs[1:] <= 0)[0]
    if change.size == 0:
        return float("nan")
    i = int(change[0])
    if gaps[i] == 0:
        return float(values[i])

    def gap(v: float) -> float:
        w = (v - values[i]) / (values[i + 1] - values[i])
        return goal_gap(
            goal, target, (1 - w) * surplus[i] + w * surplus[i + 1], (1 - w) * spend[i] + w * spend[i + 1], level
        )

    return float(optimize.brentq(gap, values[i], values[i + 1], xtol=1e-12 * max(1.0, abs(values[i + 1]))))


def design_chart_data(result: Design) -> list[dict[str, Any]]:
    """Points for a design chart (pure): the goal's measures against the term's value.

    Returns rows ``{"value", "series", "y"}``: for ``p-deficit`` the series ``"P(deficit)"``; for
    ``mean-surplus`` ``"mean surplus"``; for ``equal-shortfall`` ``"provider shortfall"`` and
    ``"commissioner shortfall"``. Draw lines of ``y`` against ``value`` coloured by ``series``, a vertical
    rule at ``result.value`` with a band from ``result.ci_low`` to ``result.ci_high``, and (p-deficit) a
    horizontal rule at ``result.target``.
    """
    series = {
        "p-deficit": [("P(deficit)", "p_deficit")],
        "mean-surplus": [("mean surplus", "mean_surplus")],
        "equal-shortfall": [
            ("provider shortfall", "provider_shortfall"),
            ("commissioner shortfall", "commissioner_shortfall"),
        ],
    }[result.goal]
    return [
        {"value": point["value"], "series": name, "y": point[key]} for point in result.curve for name, key in series
    ]
