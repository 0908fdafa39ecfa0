"""Probabilistic sensitivity analysis (PSA): run a scenario whose replications each have their own
parameter set (drawn by :mod:`paysim.model.uncertainty`), and price each replication with its own terms.

Replication ``r`` is simulated with ``scenario.with_overrides(sample_r)``: the vector engine runs a chunk of
replications in one batch, each row with its own sampled scenario (``scenarios`` of
:func:`paysim.engines.vector.run`), like a central run; the SimPy model one replication at a time. When only
contract or cost keys are uncertain the central scenario is simulated in batches instead. Its ledgers are computed
with that same scenario (payment terms and costs may be uncertain too), a chunk of replications at once: each
number that differs between them an array ``[R, 1]`` of their values (:func:`stacked`).

**Planned baselines under PSA.** A blended or API plan of source ``expected`` (and year 1 of a ``last_year``
plan) is set on the expected activity; under parameter uncertainty that is the mean over *all* replications
(the commissioner plans on the best forecast, not on the unknown true parameters), times each replication's
``1 + baseline.error``. :func:`ledgers_by_replication` does this (:func:`paysim.money.finance.ledgers` would use the
mean of whatever rows it is given). Later years of a ``last_year`` plan are each replication's own outturn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from paysim.activity import Activity
from paysim.model.terms import PLANNED_RULES, Costs
from paysim.model.uncertainty import central, columns_of_sets, sample, sampled_scenarios, scenarios_of_sets
from paysim.money import finance, payment
from paysim.money.costs import provider_costs
from paysim.money.finance import Ledger, priced_units
from paysim.money.payment import payment_rule
from paysim.money.payment.schedule import yearly_totals
from paysim.runs import montecarlo
from paysim.runs.io import run_columns, run_metadata
from paysim.runs.results import Run, table_of

if TYPE_CHECKING:
    from paysim.engines.reuse import LineCache
    from paysim.model.scenario import Scenario

# --- running -------------------------------------------------------------------------------------------


def run_uncertain_chunk(scenario: Scenario, replications: Sequence[int], engine: str = "vector") -> Activity:
    """Simulate a chunk of replications, each with its own sampled scenario; rows in the order given. The vector
    engine runs the chunk in one batch (each row its own scenario), the SimPy model one replication at a time;
    either way each row is exactly its replication simulated alone with its scenario."""

    scenarios = sampled_scenarios(scenario, replications)
    if engine == "vector":
        return montecarlo.run_chunk(central(scenario), replications, engine, scenarios=scenarios)
    parts = [montecarlo.run_chunk(s, [r], engine) for s, r in zip(scenarios, replications, strict=True)]
    return Activity.concat(parts)


def run_uncertain(
    scenario: Scenario,
    reps: int,
    engine: str = "vector",
    workers: int = 1,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    first: int = 0,
) -> Activity:
    """Probabilistic sensitivity analysis: replications ``first .. first + reps - 1``, each with its own parameter set.

    Parameters are as for :func:`paysim.runs.montecarlo.simulate`. When no uncertain key changes the
    simulation (only contract or cost terms are uncertain) the central scenario is simulated; otherwise each
    replication with its own sampled scenario (:func:`run_uncertain_chunk`). Either way in chunks of the
    engine's usual size (:func:`paysim.runs.montecarlo.default_chunk_size`).

    Returns
    -------
    Activity
        Arrays ``[reps, months]`` in replication order, identical for any ``workers`` or ``chunk_size``.
    """

    model, runner = uncertain_plan(scenario)
    return montecarlo.simulate(model, reps, engine, workers, chunk_size, progress, executor, runner, first=first)


def uncertain_plan(scenario: Scenario) -> tuple[Scenario, Callable[[Scenario, Sequence[int], str], Activity] | None]:
    """How :func:`run_uncertain` simulates: ``(scenario to run, chunk runner)`` for
    :func:`paysim.runs.montecarlo.iter_chunks` (the central scenario when no uncertain key changes the simulation;
    else each replication with its own sampled scenario, :func:`run_uncertain_chunk`). Chunks are cut as for a
    central run (:func:`paysim.runs.montecarlo.default_chunk_size` unless a size is given)."""

    if scenario.uncertain is None or not scenario.uncertain.simulation_keys():
        return central(scenario), None
    return scenario, run_uncertain_chunk


# --- money per parameter set ---------------------------------------------------------------------------


def rows(activity: Activity, index: np.ndarray | Sequence[int]) -> Activity:
    """The Activity of some rows (positions, not replication numbers)."""

    index = np.asarray(index)
    return Activity(
        {name: values[index] for name, values in activity.monthly.items()},
        activity.kinds,
        np.asarray(activity.replications)[index],
        activity.start_month,
        activity.engine,
    )


def planned_keys(scenario: Scenario) -> list[str]:
    """Currency keys whose plan is set on the run's expected level: those priced by a blended or API contract
    with a baseline of source ``expected`` or ``last_year``, in order of first appearance (empty if none)."""
    keys: dict[str, None] = {}
    contracts = scenario.contracts
    for rule in PLANNED_RULES:
        terms = getattr(contracts, rule) if contracts is not None else None
        if terms is not None and terms.baseline.source in ("expected", "last_year"):
            keys.update(dict.fromkeys(terms.prices.items()))
    return list(keys)


def planned_rule_units(scenario: Scenario, activity: Activity) -> dict[str, np.ndarray]:
    """Units per month of every currency in :func:`planned_keys`, ``{key: [R, M]}`` (as the ledgers use)."""

    contracts = scenario.contracts
    assert contracts is not None
    return priced_units(planned_keys(scenario), contracts, scenario.costs or Costs(), activity)


def expected_level(scenarios: Sequence[Scenario], activity: Activity) -> dict[str, np.ndarray] | None:
    """The level planned baselines are set on: mean yearly units over all rows, ``{key: [year]}``.

    ``scenarios[i]`` is row ``i``'s scenario. None if the scenarios have no blended or API contract planned on
    the expected level (:func:`plans_on_expected`).
    """
    if not plans_on_expected(scenarios[0]):
        return None
    return level_of(yearly_units(scenarios, activity), [index for _, index in _groups(scenarios)])


def plans_on_expected(scenario: Scenario) -> bool:
    """Whether the scenario has a blended or API contract planned on the run's expected activity (a baseline of
    source ``expected``, or ``last_year``, whose year 1 is)."""
    return bool(planned_keys(scenario))


def yearly_units(scenarios: Sequence[Scenario], activity: Activity) -> dict[str, np.ndarray]:
    """Each row's units per contract year of every currency in :func:`planned_keys`, ``{key: [R, year]}``.

    What :func:`level_of` needs of a row, so that a run priced chunk by chunk (:mod:`paysim.runs.batch`) can keep
    this (small) instead of the rows' monthly activity.
    """

    one = stacked(scenarios)
    if one is not None:
        return {key: yearly_totals(values) for key, values in planned_rule_units(one, activity).items()}
    out: dict[str, np.ndarray] = {}
    for scenario, index in _groups(scenarios):
        for key, values in planned_rule_units(scenario, rows(activity, index)).items():
            if key not in out:
                out[key] = np.empty((activity.n_replications, activity.n_months // 12))
            out[key][index] = yearly_totals(values)
    return out


def level_of(yearly: Mapping[str, np.ndarray], groups: Iterable[np.ndarray]) -> dict[str, np.ndarray]:
    """Mean yearly units over all rows, ``{key: [year]}``, summed group by group in the order given (rows
    sharing a scenario, as :func:`expected_level` groups them), so the sum is the same however it is reached.

    Parameters
    ----------
    yearly : mapping of str to ndarray
        :func:`yearly_units` of every row, ``{key: [R, year]}``.
    groups : iterable of ndarray
        Row positions of each group; together every row once.
    """
    totals: dict[str, np.ndarray] = {}
    for index in groups:
        for key, values in yearly.items():
            totals[key] = totals.get(key, 0.0) + values[index].sum(axis=0)
    n = len(next(iter(yearly.values()))) if yearly else 1
    return {key: value / n for key, value in totals.items()}


def ledgers_by_replication(
    scenarios: Sequence[Scenario],
    activity: Activity,
    level: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Ledger]:
    """Ledgers when each row of ``activity`` has its own scenario (payment terms and costs may differ).

    Parameters
    ----------
    scenarios : sequence of Scenario
        ``scenarios[i]`` prices and costs row ``i``. Rows whose scenarios differ only in numbers (a PSA's
        parameter sets) are priced at once, each with its own terms (:func:`stacked`); otherwise rows sharing one
        scenario *object* are computed together (pass the same object, e.g. ``[base] * R``, for a common
        scenario).
    activity : Activity
        ``[R, months]``.
    level : mapping, optional
        The level blended and API baselines of source ``expected`` (and year 1 of ``last_year``) are set on,
        ``{key: [year]}`` units (before the baseline error). Default: :func:`expected_level` over all rows.
        Pass the central run's level to hold the plan fixed while a parameter moves (one-way sensitivity).

    Returns
    -------
    dict of str to Ledger
        As :func:`paysim.money.finance.ledgers`, arrays ``[R, months]``. With one scenario for every row and no
        ``level`` it equals ``finance.ledgers(scenario, activity)``.
    """

    if len(scenarios) != activity.n_replications:
        raise ValueError(f"{len(scenarios)} scenarios for {activity.n_replications} rows")
    if level is None:
        level = expected_level(scenarios, activity)
    one = stacked(scenarios)
    if one is not None:
        return finance.ledgers(one, activity, provider_costs(one, activity), level=level)
    parts: list[tuple[np.ndarray, dict[str, Ledger]]] = []
    for scenario, index in _groups(scenarios):
        sub = rows(activity, index)
        ledgers = finance.ledgers(scenario, sub, provider_costs(scenario, sub), level=level)
        parts.append((index, ledgers))
    if len(parts) == 1:
        return parts[0][1]
    return {rule: _scatter([(i, ls[rule]) for i, ls in parts], activity.n_replications) for rule in parts[0][1]}


def cip_by_replication(scenarios: Sequence[Scenario], activity: Activity) -> dict[str, np.ndarray] | None:
    """The cost-improvement programme of each row, per contract year, GBP ``{name: [R, year]}``: ``planned``,
    ``delivered`` and ``recurrent`` (see :class:`paysim.money.costs.CIPSavings`); None if no row's scenario has
    ``costs.cip``."""

    if all(s.costs is None or s.costs.cip is None for s in scenarios):
        return None
    shape = (activity.n_replications, activity.n_months // 12)
    out = {name: np.zeros(shape) for name in ("planned", "delivered", "recurrent")}
    one = stacked(scenarios)
    if one is not None and one.costs is not None and one.costs.cip is not None:
        savings = provider_costs(one, activity).cip
        assert savings is not None
        return {name: yearly_totals(getattr(savings, name)) for name in out}
    for scenario, index in _groups(scenarios):
        savings = provider_costs(scenario, rows(activity, index)).cip
        if savings is None:
            continue
        for name, values in out.items():
            values[index] = yearly_totals(getattr(savings, name))
    return out


def stacked(scenarios: Sequence[Scenario]) -> Scenario | None:
    """One scenario standing for rows whose scenarios differ only in numbers (a PSA chunk's parameter sets), so
    the money's pure functions price every row with its own terms at once: each number that differs between the
    rows is an array ``[R, 1]`` of the rows' values (see :mod:`paysim.money.payment.schedule`, "Terms per row"),
    every other part the first row's (the same object when every row shares it).

    Each row's scenario was validated when it was made; the stacked one is put together without validation
    (``model_construct``) and is for pricing only. None if the rows differ in more than numbers (a rule, a
    text, a list), or if a rule of theirs is a plugin's (whose money may not take terms per row): those are
    priced group by group.
    """
    contracts = scenarios[0].contracts
    if contracts is not None and not all(_own(rule) for rule in contracts.rules):
        return None
    try:
        return _stacked(list(scenarios))
    except _NotStackable:
        return None


def _own(rule: str) -> bool:
    """Whether a payment rule is one of paysim's own (:mod:`paysim.money.payment`), not a plugin's."""
    return payment_rule(rule).pay.__module__.startswith(f"{payment.__name__}.")


class _NotStackable(Exception):
    """Rows whose scenarios differ in more than numbers."""


def _stacked(values: list[Any]) -> Any:
    """The value standing for each row's ``values[i]`` (see :func:`stacked`)."""
    first = values[0]
    if all(value is first for value in values):
        return first
    if isinstance(first, BaseModel) and all(type(value) is type(first) for value in values):
        fields = {name: _stacked([value.__dict__[name] for value in values]) for name in first.__dict__}
        return type(first).model_construct(first.model_fields_set, **fields)
    if all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
        if all(value == first for value in values):
            return first
        return np.array(values, dtype=float)[:, np.newaxis]
    if all(value == first for value in values):
        return first
    raise _NotStackable


def _scatter(pieces: list[tuple[np.ndarray, Ledger]], n: int) -> Ledger:

    first = pieces[0][1]

    def join(get: Callable[[Ledger], np.ndarray]) -> np.ndarray:
        sample = np.asarray(get(first))
        out = np.empty((n, *sample.shape[1:]), dtype=float)
        for index, ledger in pieces:
            out[index] = get(ledger)
        return out

    return Ledger(
        rule=first.rule,
        provider_income=join(lambda ledger: ledger.provider_income),
        provider_cost=join(lambda ledger: ledger.provider_cost),
        commissioner_spend=join(lambda ledger: ledger.commissioner_spend),
        income_parts={name: join(lambda ledger, name=name: ledger.income_parts[name]) for name in first.income_parts},
        contract_value=None if first.contract_value is None else join(lambda ledger: ledger.contract_value),
    )


def _groups(scenarios: Sequence[Scenario]) -> Iterable[tuple[Scenario, np.ndarray]]:
    """Rows sharing a scenario object: ``(scenario, positions)`` in order of first appearance."""
    keys: dict[int, list[int]] = {}
    first: dict[int, Scenario] = {}
    for i, scenario in enumerate(scenarios):
        keys.setdefault(id(scenario), []).append(i)
        first.setdefault(id(scenario), scenario)
    for key, index in keys.items():
        yield first[key], np.asarray(index)


# --- a whole PSA run -----------------------------------------------------------------------------------


def simulate(
    scenario: Scenario,
    reps: int,
    engine: str = "vector",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    uncertainty: bool = True,
    first: int = 0,
    reuse: LineCache | None = None,
    chunk_size: int | None = None,
    money: bool = True,
) -> Run:
    """Run a scenario held whole: a PSA if it has an ``uncertain:`` block (and ``uncertainty``), else at central
    values (what :func:`paysim.run` does with ``keep_months=True``).

    Parameters
    ----------
    scenario, reps, engine, workers, progress, executor, chunk_size :
        As for :func:`paysim.runs.montecarlo.simulate`.
    uncertainty : bool
        Each replication with its own parameter set (if the scenario has an ``uncertain:`` block); False: central
        values.
    first : int
        The first replication (a run in pieces; see :func:`paysim.runs.montecarlo.simulate`).
    reuse : LineCache, optional
        Lines of earlier runs of the same replications (vector engine, central values, chunks in this process).
    money : bool
        Price the run (default); False simulates only: the Run has the activity and the measures' columns, no
        ledgers (a caller that prices at trial terms of its own, or joins pieces before pricing them).

    Returns
    -------
    paysim.runs.results.Run
        The results table, the activity ``[R, months]``, whole ledgers (each replication priced with its own
        parameters) and each replication's scenario.
    """
    if scenario.uncertain is None or not uncertainty:
        activity = montecarlo.simulate(
            central(scenario), reps, engine, workers, chunk_size, progress, executor, reuse=reuse, first=first
        )
    else:
        activity = run_uncertain(scenario, reps, engine, workers, chunk_size, progress, executor, first=first)
    return price(scenario, activity, uncertainty, money)


def price(scenario: Scenario, activity: Activity, uncertainty: bool = True, money: bool = True) -> Run:
    """The :class:`~paysim.runs.results.Run` of an activity simulated from ``scenario`` (by :func:`simulate`, or
    in pieces joined with :meth:`~paysim.activity.Activity.concat`): each rule's whole ledgers, its results table,
    and at central values the provider's costs and the MHIS test too.

    Parameters
    ----------
    scenario : Scenario
        The scenario simulated; its ``uncertain:`` block (with ``uncertainty``) gives each replication its own
        parameter set, as it did when simulated.
    activity : Activity
        ``[R, months]``, any replications.
    uncertainty : bool
        As for :func:`simulate`.
    money : bool
        False: no ledgers, costs or MHIS (the table holds the measures only).
    """
    replications = np.asarray(activity.replications)
    costs = None
    checks: dict[str, finance.MHISCheck] = {}
    params: dict[str, np.ndarray] = {}
    if scenario.uncertain is None or not uncertainty:
        base = central(scenario)
        scenarios = [base] * activity.n_replications
        ledgers: dict[str, Ledger] = {}
        if money:
            costs = provider_costs(base, activity)
            ledgers = finance.ledgers(base, activity, costs)
            checks = finance.mhis(base, ledgers, costs)
    else:
        values = sample(scenario, replications)
        scenarios = scenarios_of_sets(scenario, values)
        ledgers = ledgers_by_replication(scenarios, activity) if money else {}
        params = columns_of_sets(scenario, values)
    columns = {"replication": np.asarray(activity.replications, dtype=np.int64)}
    columns.update(run_columns(activity, ledgers, params))
    table = table_of(columns, run_metadata(scenario, activity.engine, activity.n_replications))
    return Run(scenario, activity.engine, table, ledgers, activity, scenarios, costs=costs, mhis=checks)
