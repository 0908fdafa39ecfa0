"""Runs for the app: the part of a scenario the engines read, and the money of an Activity."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from paysim.activity import Activity
from paysim.app_support.levers import _dump
from paysim.costs import ProviderCosts, provider_costs
from paysim.engines.reuse import LineCache
from paysim.finance import Ledger, MHISCheck, ledgers, mhis
from paysim.montecarlo import ENGINES, RunError, engine_run
from paysim.scenario import Scenario, scenario_from_yaml
from paysim.terms import RULES
from paysim.uncertainty import central

logger = logging.getLogger(__name__)

# --- engines and runs ---------------------------------------------------------------------------------


def available_engines() -> list[str]:
    """Engines that can run here, fastest first (``vector`` once it exists, then ``des``)."""
    names = []
    for name in ("vector", "des", *[n for n in ENGINES if n not in ("vector", "des")]):
        if name not in ENGINES:
            continue
        try:
            engine_run(name)
        except RunError:
            continue
        except Exception:  # an engine that fails to import is not offered; the log says why
            logger.exception("engine %r cannot be imported; the app will not offer it", name)
            continue
        names.append(name)
    return names


def default_replications(engine: str) -> int:
    """Replications the app starts with: 200 on the vector engine (a run of the default trust's 3 years
    takes about 5-8 s; 1,000 gives smoother percentiles in about 30 s), 10 on the patient-level DES."""
    return 200 if engine == "vector" else 10


def activity_yaml(scenario: Scenario) -> str:
    """The part of a scenario the engines read, as YAML: everything but its name, contracts, costs and
    ``uncertain:`` block (the app runs scenarios at their central values).

    Two scenarios with the same activity YAML simulate the same Activity, so the app caches runs by this
    text: moving a contract or cost lever reuses the simulated activity and only recomputes the money.
    """
    data = _dump(scenario)
    for key in ("name", "description", "contracts", "costs", "uncertain"):
        data.pop(key, None)
    return yaml.safe_dump({"name": "activity", **data}, sort_keys=True)


LINES = LineCache(max_bytes=768 * 2**20)
"""The app's lines of recent runs, shared by its sessions: a lever that changes one line (beds, community
staffing, courses) simulates that line and what it feeds, and takes the others from here. 768 MiB holds
the lines of about eight 1,000 x 5-year runs of the default trust."""


def simulate(activity_text: str, reps: int, engine: str) -> Activity:
    """Simulate replications ``0 .. reps - 1`` of the scenario in :func:`activity_yaml` text."""
    from paysim.montecarlo import run_replications

    scenario = scenario_from_yaml(activity_text, source="activity")
    return run_replications(scenario, reps, engine=engine, reuse=LINES)


@dataclass(frozen=True)
class Run:
    """One scenario's results: its Activity and, for every payment rule, its money.

    Attributes
    ----------
    scenario:
        The scenario that was run.
    activity:
        Simulated activity, ``[replication, month]``.
    costs:
        The provider's costs by part and the OAP spend the commissioner pays directly.
    ledgers:
        One :class:`~paysim.finance.Ledger` per rule in the scenario (empty without contracts).
    mhis:
        The Mental Health Investment Standard per rule (empty unless the scenario sets ``contracts.mhis``).
    """

    scenario: Scenario
    activity: Activity
    costs: ProviderCosts
    ledgers: Mapping[str, Ledger]
    mhis: Mapping[str, MHISCheck] = field(default_factory=dict)

    @property
    def rules(self) -> list[str]:
        """Rules with a ledger, in reporting order."""
        return [rule for rule in RULES if rule in self.ledgers]

    @property
    def years(self) -> int:
        return self.activity.n_months // 12

    @property
    def has_costs(self) -> bool:
        return self.scenario.costs is not None


def run_money(scenario: Scenario, activity: Activity) -> Run:
    """Costs, ledgers and MHIS of a scenario on an Activity simulated from it (or from its activity YAML).

    A scenario with an ``uncertain:`` block is priced at its central values, as it was simulated.
    """
    scenario = central(scenario)
    costs = provider_costs(scenario, activity)
    books = ledgers(scenario, activity, costs)
    return Run(scenario, activity, costs, books, mhis(scenario, books, costs))
