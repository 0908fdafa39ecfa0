"""What the Streamlit app (``app.py``) needs, as plain functions: levers, runs, tables, charts, downloads.

``app.py`` holds only layout and widgets; everything it shows is computed here, so it can be tested
without a browser. The parts, in the order the app uses them:

* **Scenarios**: :func:`scenario_choices` (bundled files plus any named by ``PAYSIM_SCENARIOS``) and
  :func:`read_upload` (an uploaded YAML file, with errors that name the file and the key).
* **Levers**: :data:`LEVERS`, each a widget that maps onto one or more dotted scenario keys, with units
  and help text. :func:`lever_overrides` turns widget values into ``{dotted key: value}`` for
  :meth:`paysim.scenario.Scenario.with_overrides`, so every value is validated like a file.
* **Runs**: :func:`activity_yaml` (the part of a scenario the engines read, the key of the activity cache)
  and :func:`run_money` (costs, ledgers and MHIS on an Activity), giving a :class:`Run`.
* **Tables** (pandas, tidy): :func:`headline`, :func:`risk_table`, :func:`fan_table`,
  :func:`yearly_surplus`, :func:`spend_table`, :func:`oap_table`, :func:`mhis_table`,
  :func:`changes_table`, :func:`activity_table`.
* **Charts** (Altair): :func:`fan_chart`, :func:`risk_histogram`, :func:`spend_chart`,
  :func:`changes_chart`.
* **Downloads**: :func:`results_csv`, :func:`results_parquet`, :func:`excel_workbook`.
* **Decision analysis** (the Sensitivity and Contract design tabs): :func:`sensitivity_measures`,
  :func:`run_tornado`, :func:`tornado_display`, :func:`tornado_chart`, :func:`run_sobol`, :func:`sobol_chart`
  (on :mod:`paysim.sensitivity`); :func:`design_choices`, :func:`run_design` (on the page's Activity, money
  only), :func:`design_answer`, :func:`design_display`, :func:`design_chart` (on :mod:`paysim.design`).
* **Formatting**: :func:`gbp`, :func:`gbp_change`, :func:`percent`.

Money is cash GBP; arrays are ``[replication, month]`` as everywhere in paysim. This module needs the
``app`` extra (pandas, Altair) and openpyxl for the workbook.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from paysim import __version__, design, sensitivity
from paysim.activity import MEASURE_UNITS, Activity
from paysim.analysis import deficit_probability, expected_shortfall, paired_difference, spend_variability
from paysim.compare import saving_split, system_cost
from paysim.costs import ProviderCosts, provider_costs
from paysim.demand import MONTH_NAMES
from paysim.finance import LEDGERS, Ledger, MHISCheck, ledgers, mhis, money_columns
from paysim.io import public_measures, results_table
from paysim.montecarlo import ENGINES, RunError, engine_run
from paysim.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario, scenario_from_yaml
from paysim.terms import RULES
from paysim.uncertainty import central, central_value

logger = logging.getLogger(__name__)

RULE_LABELS = {"block": "Block", "activity": "Activity", "blended": "Blended", "capitation": "Capitation"}
"""How each payment rule is named on screen."""

RULE_COLOURS = {"block": "#4c78a8", "activity": "#f58518", "blended": "#54a24b", "capitation": "#b279a2"}
"""One colour per rule, the same in every chart."""

LINE_LABELS = {"talking_therapies": "Talking therapies", "community": "Community", "crisis": "Crisis"}
"""How each referral line is named on screen."""

SCENARIOS_ENV = "PAYSIM_SCENARIOS"
"""Environment variable naming extra scenario files or folders (separated by ``os.pathsep``) for the app."""

TAIL = 0.05
"""Tail share for the expected shortfall: the average of the worst 5 % of runs."""


# --- formatting ---------------------------------------------------------------------------------------


def gbp(value: float | None, decimals: int = 0) -> str:
    """Money for people: ``£1,234,567``, ``-£250,000``; ``-`` for a missing value.

    >>> gbp(1234567.4), gbp(-250000), gbp(float("nan"))
    ('£1,234,567', '-£250,000', '-')
    """
    if value is None or not math.isfinite(value):
        return "-"
    text = f"£{abs(value):,.{decimals}f}"
    return "-" + text if round(value, decimals) < 0 else text


def gbp_change(value: float | None, decimals: int = 0) -> str:
    """A change in money with its sign: ``+£1,234``, ``-£1,234``, ``£0``.

    >>> gbp_change(1234.0), gbp_change(-99.6), gbp_change(0.2)
    ('+£1,234', '-£100', '£0')
    """
    if value is None or not math.isfinite(value):
        return "-"
    if round(value, decimals) == 0:
        return gbp(0.0, decimals)
    return ("+" if value > 0 else "") + gbp(value, decimals)


def percent(share: float | None, decimals: int = 0) -> str:
    """A share 0..1 as a percentage: ``0.153 -> "15 %"``; ``-`` if missing.

    >>> percent(0.153), percent(0.0042, 1), percent(None)
    ('15 %', '0.4 %', '-')
    """
    if share is None or not math.isfinite(share):
        return "-"
    return f"{100 * share:,.{decimals}f} %"


def number(value: float | None, decimals: int = 0) -> str:
    """A plain quantity with thousands separators: ``12,345``; ``-`` if missing."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.{decimals}f}"


# --- scenarios ----------------------------------------------------------------------------------------


def scenario_choices(env: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Scenario files the app offers, by name: those named by ``PAYSIM_SCENARIOS`` first, then the bundled
    ones (``default`` first), so the app opens on the first.

    ``PAYSIM_SCENARIOS`` holds YAML files or folders of them, separated by ``os.pathsep`` (``:``); it lets
    a team open the app on its own scenarios (``PAYSIM_SCENARIOS=~/trust streamlit run app.py``). A name
    already taken is not replaced.
    """
    env = os.environ if env is None else env
    found: dict[str, Path] = {}
    for entry in filter(None, env.get(SCENARIOS_ENV, "").split(os.pathsep)):
        path = Path(entry).expanduser()
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        for file in files:
            if file.suffix in (".yaml", ".yml") and file.is_file():
                found.setdefault(file.stem, file)
    bundled = bundled_scenarios()
    for name in sorted(bundled, key=lambda n: (n != "default", n)):
        found.setdefault(name, bundled[name])
    return found


def load_choice(path: Path) -> Scenario:
    """Load one offered scenario file (raises :class:`ScenarioError` with a message ready to show)."""
    return load_scenario(path)


def read_upload(name: str, content: bytes) -> Scenario:
    """Validate an uploaded scenario file; errors name the file and the dotted key.

    Raises
    ------
    ScenarioError
        If the bytes are not UTF-8 text or not a valid scenario.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(f"{name}: is not a text file (a scenario is YAML text, UTF-8)") from None
    return scenario_from_yaml(text, source=name)


# --- levers -------------------------------------------------------------------------------------------


def _dump(scenario: Scenario) -> dict[str, Any]:
    return scenario.model_dump(mode="json", exclude_none=True)


def get_key(data: Mapping[str, Any], key: str) -> Any:
    """Value at a dotted key of a nested mapping, or ``None`` if any part is missing."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


@dataclass(frozen=True)
class Lever:
    """One widget of the app and the scenario keys it sets.

    Attributes
    ----------
    name:
        Identifier of the lever (also the widget key's suffix); for a lever with one key, that key.
    label, unit, help:
        What the widget shows: its label, the unit of the value shown, and help text.
    section:
        The sidebar group it belongs to.
    keys:
        Dotted scenario keys it sets, or a function of the scenario giving them (e.g. every line's
        ``growth``). The lever applies when every key's parent mapping exists in the scenario.
    kind:
        ``slider``, ``number`` (a number box) or ``choice`` (a set of options).
    scale:
        Value shown = value in the scenario x scale (100 for a share shown in %, 1e-6 for GBP shown in £m).
    minimum, maximum, step:
        Range and step of the value shown; ``maximum`` may be a function of the value in the scenario.
    options:
        The options of a ``choice`` lever.
    integer:
        Whether the scenario value is a whole number.
    """

    name: str
    label: str
    unit: str
    help: str
    section: str
    keys: tuple[str, ...] | Callable[[Scenario], tuple[str, ...]]
    kind: Literal["slider", "number", "choice"] = "slider"
    scale: float = 1.0
    minimum: float = 0.0
    maximum: float | Callable[[float], float] = 100.0
    step: float = 1.0
    options: tuple[str, ...] = ()
    integer: bool = False

    def scenario_keys(self, scenario: Scenario) -> tuple[str, ...]:
        """The dotted keys this lever sets in this scenario."""
        return self.keys(scenario) if callable(self.keys) else self.keys

    def applies(self, scenario: Scenario) -> bool:
        """Whether the scenario has the parts this lever sets."""
        data = _dump(scenario)
        keys = self.scenario_keys(scenario)
        return bool(keys) and all(isinstance(get_key(data, k.rpartition(".")[0]), Mapping) for k in keys)

    def current(self, scenario: Scenario) -> Any:
        """The value the widget starts at: the scenario's value in the widget's unit.

        For a lever with several keys (demand growth), the most common value among them.
        """
        data = _dump(scenario)
        values = [get_key(data, k) for k in self.scenario_keys(scenario)]
        values = [v for v in values if v is not None]
        if not values:
            value: Any = None
        else:
            value = max(values, key=values.count)
        if self.kind == "choice":
            return value if value is not None else self.options[0]
        value = 0.0 if value is None else float(value)
        shown = value * self.scale
        return round(shown) if self.integer and self.scale == 1 else round(shown, 6)

    def upper(self, scenario: Scenario) -> float:
        """Upper end of the widget's range for this scenario."""
        if callable(self.maximum):
            return float(self.maximum(float(self.current(scenario))))
        return float(self.maximum)

    def to_scenario(self, shown: Any) -> Any:
        """Convert a widget value back to the scenario's unit (a whole number where the key needs one)."""
        if self.kind == "choice":
            return shown
        value = float(shown) / self.scale
        if self.integer:
            return round(value)
        return round(value, 9)


def _growth_keys(scenario: Scenario) -> tuple[str, ...]:
    keys = [f"services.{line}.growth" for line in scenario.lines()]
    if scenario.services.inpatient is not None:
        keys.append("services.inpatient.growth")
    return tuple(keys)


def _at_least(floor: float, factor: float = 2.0) -> Callable[[float], float]:
    return lambda value: max(floor, math.ceil(factor * value))


DEMAND, BEDS, STAFF, CONTRACTS, BLENDED = (
    "Demand",
    "Beds and out-of-area placements",
    "Community workforce",
    "Block and capitation contracts",
    "Blended contract",
)
"""Sidebar sections, in order."""

LEVERS: tuple[Lever, ...] = (
    Lever(
        "demand_growth",
        "Demand growth",
        "% a year",
        "Yearly growth of referrals to every service line and of direct bed requests. Secondary-care "
        "referrals grew about 8 % a year to 2022/23 (NHS Digital). Starts at the value most lines have in "
        "the scenario file; lines with other values keep them until you move it.",
        DEMAND,
        _growth_keys,
        scale=100,
        minimum=-5.0,
        maximum=15.0,
        step=0.5,
    ),
    Lever(
        "services.inpatient.beds",
        "Local adult acute beds",
        "beds",
        "Beds in your own wards. When they are all full, a patient needing a bed goes to an out-of-area "
        "placement (OAP). England's median is about 20 per 100,000 people.",
        BEDS,
        ("services.inpatient.beds",),
        minimum=0,
        maximum=_at_least(20),
        integer=True,
    ),
    Lever(
        "services.inpatient.los_days.mean",
        "Mean length of stay",
        "days",
        "Average length of an adult acute stay, local or out of area (national mean about 33 days; the "
        "spread in the scenario file is kept).",
        BEDS,
        ("services.inpatient.los_days.mean",),
        minimum=1.0,
        maximum=_at_least(60, 2.5),
        step=1.0,
    ),
    Lever(
        "costs.beds.oap_per_bed_day",
        "OAP daily price",
        "£ per bed day",
        "Price of one out-of-area bed day bought from another provider (national average £577 in 2020; "
        "one trust paid £620 in 2021/22).",
        BEDS,
        ("costs.beds.oap_per_bed_day",),
        kind="number",
        minimum=0.0,
        maximum=5000.0,
        step=10.0,
    ),
    Lever(
        "contracts.oap_paid_by",
        "Who pays for OAPs",
        "",
        "provider: the trust pays OAP bed days out of its income (the usual block position); "
        "commissioner: the ICB pays them directly; shared: split by contracts.oap_provider_share.",
        BEDS,
        ("contracts.oap_paid_by",),
        kind="choice",
        options=("provider", "commissioner", "shared"),
    ),
    Lever(
        "services.community.capacity.vacancy_rate",
        "Community vacancies",
        "% of funded posts",
        "Share of funded community posts that are vacant. Vacancies not covered by agency staff reduce the "
        "caseload the teams can hold; covered ones cost the agency premium.",
        STAFF,
        ("services.community.capacity.vacancy_rate",),
        scale=100,
        maximum=50.0,
    ),
    Lever(
        "services.community.capacity.agency_cover",
        "Agency cover of vacancies",
        "% of vacancies",
        "Share of vacant community posts filled by agency staff (at the agency premium in the cost terms).",
        STAFF,
        ("services.community.capacity.agency_cover",),
        scale=100,
        maximum=100.0,
        step=5.0,
    ),
    Lever(
        "contracts.block.annual_value",
        "Block value",
        "£m a year",
        "The fixed yearly sum of the block contract in the first contract year, paid in twelfths.",
        CONTRACTS,
        ("contracts.block.annual_value",),
        kind="number",
        scale=1e-6,
        minimum=0.0,
        maximum=100000.0,
        step=0.5,
    ),
    Lever(
        "contracts.block.uplift",
        "Block uplift",
        "% a year",
        "Yearly change of the block value, net of efficiency (2023/24: cost uplift 2.9 % less efficiency "
        "1.1 % = 1.8 %).",
        CONTRACTS,
        ("contracts.block.uplift",),
        scale=100,
        minimum=-5.0,
        maximum=10.0,
        step=0.1,
    ),
    Lever(
        "contracts.capitation.rate_per_head",
        "Capitation rate",
        "£ per weighted head a year",
        "Payment per weighted head of the population covered, in the first contract year.",
        CONTRACTS,
        ("contracts.capitation.rate_per_head",),
        kind="number",
        minimum=0.0,
        maximum=100000.0,
        step=1.0,
    ),
    Lever(
        "contracts.blended.baseline.error",
        "Baseline set too high (+) or low (-)",
        "%",
        "How far the planned activity the fixed element is set on is from the true expected activity. "
        "A baseline set too low moves money from provider to commissioner.",
        BLENDED,
        ("contracts.blended.baseline.error",),
        scale=100,
        minimum=-30.0,
        maximum=30.0,
        step=1.0,
    ),
    Lever(
        "contracts.blended.variable.rate_above",
        "Marginal rate above plan",
        "% of price",
        "Share of the unit price paid for each unit of activity above plan (2022/23 aligned payment: 75 %).",
        BLENDED,
        ("contracts.blended.variable.rate_above",),
        scale=100,
        maximum=100.0,
        step=5.0,
    ),
    Lever(
        "contracts.blended.variable.rate_below",
        "Marginal rate below plan",
        "% of price",
        "Share of the unit price refunded for each unit of activity below plan.",
        BLENDED,
        ("contracts.blended.variable.rate_below",),
        scale=100,
        maximum=100.0,
        step=5.0,
    ),
    Lever(
        "contracts.blended.variable.dead_band",
        "Dead band around plan",
        "% of plan",
        "Activity within this share of plan, either side, moves no money.",
        BLENDED,
        ("contracts.blended.variable.dead_band",),
        scale=100,
        maximum=20.0,
        step=0.5,
    ),
    Lever(
        "contracts.blended.outcomes.share",
        "Outcome-linked share",
        "% of contract value",
        "Share of the contract value earned by meeting the outcome indicators (2-4 % recommended).",
        BLENDED,
        ("contracts.blended.outcomes.share",),
        scale=100,
        maximum=20.0,
        step=0.5,
    ),
    Lever(
        "contracts.blended.corridor.band",
        "Risk-share corridor: dead band",
        "% of contract value",
        "Over- or underspend within this share of the contract value stays with the provider.",
        BLENDED,
        ("contracts.blended.corridor.band",),
        scale=100,
        maximum=20.0,
        step=0.5,
    ),
    Lever(
        "contracts.blended.corridor.overspend_share",
        "Corridor: commissioner's share of an overspend",
        "%",
        "Share of an overspend beyond the band that the commissioner pays to the provider.",
        BLENDED,
        ("contracts.blended.corridor.overspend_share",),
        scale=100,
        maximum=100.0,
        step=5.0,
    ),
    Lever(
        "contracts.blended.corridor.underspend_share",
        "Corridor: provider's share of an underspend returned",
        "%",
        "Share of an underspend beyond the band that the provider returns to the commissioner.",
        BLENDED,
        ("contracts.blended.corridor.underspend_share",),
        scale=100,
        maximum=100.0,
        step=5.0,
    ),
)
"""The levers the app shows, in order; each appears only for scenarios that have the keys it sets."""

SECTIONS = (DEMAND, BEDS, STAFF, CONTRACTS, BLENDED)


def levers_for(scenario: Scenario) -> list[Lever]:
    """The levers that apply to a scenario, in display order."""
    return [lever for lever in LEVERS if lever.applies(scenario)]


def lever_overrides(scenario: Scenario, values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-key overrides for the levers whose widget value differs from the scenario's.

    Parameters
    ----------
    scenario:
        The scenario as loaded (the file).
    values:
        Widget values by lever name, in the widget's unit (e.g. ``{"demand_growth": 6.0}`` for 6 %).

    Returns
    -------
    dict
        ``{dotted key: value in the scenario's unit}`` for :meth:`Scenario.with_overrides`; a lever left
        at its starting value sets nothing, so lines whose growth differs from the shown value keep it.
    """
    by_name = {lever.name: lever for lever in LEVERS}
    overrides: dict[str, Any] = {}
    for name, shown in values.items():
        lever = by_name[name]
        if not lever.applies(scenario) or _same(shown, lever.current(scenario)):
            continue
        for key in lever.scenario_keys(scenario):
            overrides[key] = lever.to_scenario(shown)
    return overrides


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def run_settings(years: int, seed: int) -> dict[str, Any]:
    """Overrides for the run settings, applied to the file and to the edited scenario alike."""
    return {"years": int(years), "seed": int(seed)}


def edited_keys(base: Scenario, edited: Scenario) -> list[tuple[str, Any, Any]]:
    """Every leaf key whose value differs between two scenarios: ``(dotted key, base value, edited value)``.

    Keys of the ``uncertain:`` block are left out: the app runs at central values, and a lever that sets an
    uncertain key only drops (pins) its distribution.
    """
    a, b = flatten(_dump(central(base))), flatten(_dump(central(edited)))
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping -> ``{dotted key: leaf value}`` (lists are leaves)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


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
    """Replications the app starts with: 1,000 on the vector engine, 10 on the patient-level DES."""
    return 1000 if engine == "vector" else 10


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


def simulate(activity_text: str, reps: int, engine: str) -> Activity:
    """Simulate replications ``0 .. reps - 1`` of the scenario in :func:`activity_yaml` text."""
    from paysim.montecarlo import run_replications

    scenario = scenario_from_yaml(activity_text, source="activity")
    return run_replications(scenario, reps, engine=engine)


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


# --- tables -------------------------------------------------------------------------------------------


def _yearly_mean(total: np.ndarray, years: int) -> float:
    return float(np.mean(total)) / years


def headline(run: Run, base: Run | None = None) -> list[dict[str, Any]]:
    """One row per rule for the headline figures.

    Returns
    -------
    list of dict
        ``rule``, ``label``, ``surplus_a_year`` (mean provider surplus a year, GBP), ``change_a_year``
        (mean paired difference from ``base`` a year, GBP; ``None`` without a base or when nothing was
        edited), ``p_deficit`` (share of runs in deficit over the horizon), ``p_deficit_any_year``.
    """
    rows = []
    for rule in run.rules:
        surplus = run.ledgers[rule].total("provider_surplus")
        change = None
        if base is not None and rule in base.ledgers:
            change = paired_difference(base.ledgers[rule].total("provider_surplus"), surplus).mean_difference
            change /= run.years
        deficit = deficit_probability(run.ledgers[rule].provider_surplus)
        rows.append(
            {
                "rule": rule,
                "label": RULE_LABELS[rule],
                "surplus_a_year": _yearly_mean(surplus, run.years),
                "change_a_year": change,
                "p_deficit": deficit["horizon"],
                "p_deficit_any_year": deficit["any_year"],
            }
        )
    return rows


def risk_table(run: Run) -> pd.DataFrame:
    """Who carries the risk, one row per rule (numbers; see :func:`risk_display` for text).

    Columns: ``rule``; provider surplus over the horizon: ``surplus_mean``, ``surplus_p5``,
    ``surplus_p95``; ``p_deficit`` (horizon), ``p_deficit_any_year``; ``expected_shortfall`` (mean of
    the worst 5 % of runs' surplus over the horizon); commissioner spend over the horizon:
    ``spend_mean``, ``spend_sd``, ``spend_p5``, ``spend_p95``, ``spend_cv``.
    """
    rows = []
    for rule in run.rules:
        ledger = run.ledgers[rule]
        surplus = ledger.total("provider_surplus")
        spend = ledger.total("commissioner_spend")
        deficit = deficit_probability(ledger.provider_surplus)
        spread = spend_variability(ledger.commissioner_spend)
        rows.append(
            {
                "rule": RULE_LABELS[rule],
                "surplus_mean": float(surplus.mean()),
                "surplus_p5": float(np.percentile(surplus, 5)),
                "surplus_p95": float(np.percentile(surplus, 95)),
                "p_deficit": deficit["horizon"],
                "p_deficit_any_year": deficit["any_year"],
                "expected_shortfall": expected_shortfall(surplus, TAIL),
                "spend_mean": float(spend.mean()),
                "spend_sd": spread["sd"],
                "spend_p5": float(np.percentile(spend, 5)),
                "spend_p95": float(np.percentile(spend, 95)),
                "spend_cv": spread["cv"],
            }
        )
    return pd.DataFrame(rows)


def risk_display(table: pd.DataFrame, years: int) -> pd.DataFrame:
    """:func:`risk_table` as text for the page: GBP with thousands separators, shares in %."""
    horizon = f"{years} year{'s' if years > 1 else ''}"
    return pd.DataFrame(
        {
            "Rule": table["rule"],
            f"Provider surplus over {horizon}, mean": table["surplus_mean"].map(gbp),
            "5th percentile": table["surplus_p5"].map(gbp),
            "95th percentile": table["surplus_p95"].map(gbp),
            "P(deficit over the horizon)": table["p_deficit"].map(percent),
            "P(deficit in any year)": table["p_deficit_any_year"].map(percent),
            "Expected shortfall (worst 5 % of runs)": table["expected_shortfall"].map(gbp),
            f"Commissioner spend over {horizon}, mean": table["spend_mean"].map(gbp),
            "Spend sd": table["spend_sd"].map(gbp),
            "Spend 5th-95th percentile": [
                f"{gbp(a)} to {gbp(b)}" for a, b in zip(table["spend_p5"], table["spend_p95"], strict=True)
            ],
        }
    )


def fan_table(run: Run, ledger: str = "provider_surplus", cumulative: bool = False) -> pd.DataFrame:
    """Quantiles of one ledger by month and rule, for a fan chart.

    Parameters
    ----------
    run:
        The results.
    ledger:
        ``provider_surplus``, ``provider_income``, ``provider_cost`` or ``commissioner_spend``.
    cumulative:
        Running total from the start of the horizon instead of the month's amount.

    Returns
    -------
    DataFrame
        One row per (rule, month): ``rule`` (label), ``month`` (1-based), ``label`` (``"Y1 Apr"``), and
        GBP quantiles ``p5``, ``p25``, ``p50``, ``p75``, ``p95`` over replications.
    """
    labels = run.activity.labels
    frames = []
    for rule in run.rules:
        values = run.ledgers[rule][ledger]
        if cumulative:
            values = np.cumsum(values, axis=1)
        q = np.percentile(values, [5, 25, 50, 75, 95], axis=0)
        frames.append(
            pd.DataFrame(
                {
                    "rule": RULE_LABELS[rule],
                    "month": np.arange(1, len(labels) + 1),
                    "label": labels,
                    "p5": q[0],
                    "p25": q[1],
                    "p50": q[2],
                    "p75": q[3],
                    "p95": q[4],
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else _empty(["rule", "month", "label", *_QS])


_QS = ["p5", "p25", "p50", "p75", "p95"]


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in columns})


def measure_fan(activity: Activity, measure: str, scale: float = 1.0) -> pd.DataFrame:
    """Quantiles of one activity measure by month (``month``, ``label``, ``p5`` ... ``p95``)."""
    q = np.nanpercentile(activity[measure] * scale, [5, 25, 50, 75, 95], axis=0)
    return pd.DataFrame(
        {"month": np.arange(1, activity.n_months + 1), "label": activity.labels, **dict(zip(_QS, q, strict=True))}
    )


def yearly_surplus(run: Run) -> pd.DataFrame:
    """Provider surplus per replication, rule and contract year (tidy, for histograms).

    Columns: ``rule`` (label), ``year`` (1-based), ``replication``, ``surplus`` (GBP in that year).
    """
    frames = []
    for rule in run.rules:
        yearly = run.ledgers[rule].yearly("provider_surplus")
        reps, years = yearly.shape
        frames.append(
            pd.DataFrame(
                {
                    "rule": RULE_LABELS[rule],
                    "year": np.tile(np.arange(1, years + 1), reps),
                    "replication": np.repeat(run.activity.replications, years),
                    "surplus": yearly.reshape(-1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else _empty(["rule", "year", "replication", "surplus"])


def histogram_stats(values: np.ndarray) -> dict[str, float]:
    """Mean, 5th and 95th percentiles of a sample (the marks on the risk histogram)."""
    values = np.asarray(values, dtype=float)
    return {
        "mean": float(values.mean()),
        "5th percentile": float(np.percentile(values, 5)),
        "95th percentile": float(np.percentile(values, 95)),
    }


def spend_table(run: Run) -> pd.DataFrame:
    """Commissioner spend per rule and contract year: ``rule``, ``year``, ``mean``, ``p5``, ``p50``,
    ``p95``, ``sd`` (GBP over replications)."""
    rows = []
    for rule in run.rules:
        yearly = run.ledgers[rule].yearly("commissioner_spend")
        for y in range(yearly.shape[1]):
            v = yearly[:, y]
            rows.append(
                {
                    "rule": RULE_LABELS[rule],
                    "year": y + 1,
                    "mean": float(v.mean()),
                    "p5": float(np.percentile(v, 5)),
                    "p50": float(np.percentile(v, 50)),
                    "p95": float(np.percentile(v, 95)),
                    "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                }
            )
    return pd.DataFrame(rows) if rows else _empty(["rule", "year", "mean", "p5", "p50", "p95", "sd"])


def spend_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`spend_table` as text."""
    return pd.DataFrame(
        {
            "Rule": table["rule"],
            "Contract year": table["year"].map(lambda y: f"Year {int(y)}"),
            "Mean": table["mean"].map(gbp),
            "Standard deviation": table["sd"].map(gbp),
            "5th percentile": table["p5"].map(gbp),
            "95th percentile": table["p95"].map(gbp),
        }
    )


def edits_display(base: Scenario, edited: Scenario) -> pd.DataFrame:
    """The keys the levers changed: ``Key``, ``In the file``, ``Now`` (as text)."""
    rows = [(key, _cell(a), _cell(b)) for key, a, b in edited_keys(base, edited)]
    return pd.DataFrame(rows, columns=["Key", "In the file", "Now"]).astype(str)


def _yearly_sum(monthly: np.ndarray) -> np.ndarray:
    return monthly.reshape(monthly.shape[0], -1, 12).sum(axis=2)


def oap_table(run: Run) -> pd.DataFrame:
    """Out-of-area placements per contract year: bed days, spend and who paid (means over replications).

    Columns: ``year``, ``bed_days`` (mean), ``bed_days_p5``, ``bed_days_p95``, ``spend`` (GBP, at the
    OAP daily price), ``paid_by_provider`` and ``paid_by_commissioner`` (directly, GBP).
    """
    activity = run.activity
    if "inpatient.oap_bed_days" not in activity:
        return _empty(
            ["year", "bed_days", "bed_days_p5", "bed_days_p95", "spend", "paid_by_provider", "paid_by_commissioner"]
        )
    days = activity.yearly("inpatient.oap_bed_days")
    provider = _yearly_sum(run.costs.parts.get("inpatient.oap", np.zeros_like(run.costs.commissioner_oap)))
    commissioner = _yearly_sum(run.costs.commissioner_oap)
    rows = []
    for y in range(days.shape[1]):
        rows.append(
            {
                "year": y + 1,
                "bed_days": float(days[:, y].mean()),
                "bed_days_p5": float(np.percentile(days[:, y], 5)),
                "bed_days_p95": float(np.percentile(days[:, y], 95)),
                "spend": float((provider[:, y] + commissioner[:, y]).mean()),
                "paid_by_provider": float(provider[:, y].mean()),
                "paid_by_commissioner": float(commissioner[:, y].mean()),
            }
        )
    return pd.DataFrame(rows)


def oap_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`oap_table` as text."""
    return pd.DataFrame(
        {
            "Contract year": table["year"].map(lambda y: f"Year {int(y)}"),
            "OAP bed days, mean": table["bed_days"].map(number),
            "5th-95th percentile": [
                f"{number(a)} to {number(b)}" for a, b in zip(table["bed_days_p5"], table["bed_days_p95"], strict=True)
            ],
            "OAP spend, mean": table["spend"].map(gbp),
            "Paid by the provider": table["paid_by_provider"].map(gbp),
            "Paid by the commissioner directly": table["paid_by_commissioner"].map(gbp),
        }
    )


def oap_priced_by(run: Run) -> list[str]:
    """Rules whose income pays a price per OAP bed day (so the commissioner refunds OAPs through them)."""
    contracts = run.scenario.contracts
    out = []
    for rule in ("activity", "blended"):
        terms = getattr(contracts, rule, None) if contracts is not None else None
        if terms is not None and "inpatient.oap_bed_day" in terms.prices.items():
            out.append(RULE_LABELS[rule])
    return out


def mhis_table(run: Run) -> pd.DataFrame:
    """The MHIS verdict per rule and contract year.

    Columns: ``rule``, ``year``, ``assessed`` (bool), ``p_met`` (share of runs meeting the standard),
    ``spend`` and ``minimum`` (means, GBP), ``shortfall`` (mean over runs, GBP), ``core_share`` (mean
    share of the spend reaching core services), ``verdict`` (text).
    """
    rows = []
    for rule in run.rules:
        check = run.mhis.get(rule)
        if check is None:
            continue
        p_met = check.probability_met()
        for y in range(check.spend.shape[1]):
            assessed = bool(check.assessed[y])
            p = float(p_met[y]) if assessed else float("nan")
            if not assessed:
                verdict = "not assessed (no prior-year spend)"
            elif p >= 0.999:
                verdict = "met in every run"
            elif p <= 0.001:
                verdict = "missed in every run"
            else:
                verdict = f"met in {percent(p)} of runs"
            rows.append(
                {
                    "rule": RULE_LABELS[rule],
                    "year": y + 1,
                    "assessed": assessed,
                    "p_met": p,
                    "spend": float(check.spend[:, y].mean()),
                    "minimum": float(np.nanmean(check.minimum[:, y])) if assessed else float("nan"),
                    "shortfall": float(check.shortfall[:, y].mean()),
                    "core_share": float(np.nanmean(check.core_share[:, y])),
                    "verdict": verdict,
                }
            )
    columns = ["rule", "year", "assessed", "p_met", "spend", "minimum", "shortfall", "core_share", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def mhis_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`mhis_table` as text."""
    return pd.DataFrame(
        {
            "Rule": table["rule"],
            "Contract year": table["year"].map(lambda y: f"Year {int(y)}"),
            "MHIS": table["verdict"],
            "Qualifying spend, mean": table["spend"].map(gbp),
            "Minimum required, mean": table["minimum"].map(gbp),
            "Shortfall, mean": table["shortfall"].map(gbp),
            "Share reaching core services": table["core_share"].map(percent),
        }
    )


CHANGE_MEASURES = {
    "inpatient.oap_bed_days": ("OAP bed days", "bed days", 1.0),
    "inpatient.occupancy_mean": ("Local bed occupancy", "%", 100.0),  # changes in percentage points
    "community.wait_days_mean": ("Community mean wait", "days", 1.0),
    "talking_therapies.wait_days_mean": ("Talking therapies mean wait", "days", 1.0),
    "crisis.wait_days_mean": ("Crisis mean wait", "days", 1.0),
}
"""Activity measures shown in "what the changes did": label, unit and scale."""


def changes_table(base: Run, edited: Run) -> pd.DataFrame:
    """What the edits did: paired differences (edited - file) on the same random numbers.

    Returns
    -------
    DataFrame
        One row per (rule, ledger) for provider surplus and commissioner spend, then one per activity
        measure: ``rule`` (label, or ``"all rules"`` for activity), ``measure``, ``unit``, ``file``,
        ``edited`` (means over the horizon), ``change`` (mean paired difference), ``ci_low``,
        ``ci_high`` (95 % interval of the mean change).
    """
    rows = []
    for rule in edited.rules:
        if rule not in base.ledgers:
            continue
        for ledger, label in (("provider_surplus", "Provider surplus"), ("commissioner_spend", "Commissioner spend")):
            d = paired_difference(base.ledgers[rule].total(ledger), edited.ledgers[rule].total(ledger))
            rows.append(_change_row(RULE_LABELS[rule], label, "GBP", d))
    for measure, (label, unit, scale) in CHANGE_MEASURES.items():
        if measure in edited.activity and measure in base.activity:
            a, b = base.activity.total(measure) * scale, edited.activity.total(measure) * scale
            keep = ~(np.isnan(a) | np.isnan(b))
            if keep.any():
                rows.append(_change_row("all rules", label, unit, paired_difference(a[keep], b[keep])))
    columns = ["rule", "measure", "unit", "file", "edited", "change", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def _change_row(rule: str, measure: str, unit: str, d: Any) -> dict[str, Any]:
    return {
        "rule": rule,
        "measure": measure,
        "unit": unit,
        "file": d.mean_base,
        "edited": d.mean_other,
        "change": d.mean_difference,
        "ci_low": d.ci_low,
        "ci_high": d.ci_high,
    }


def changes_display(table: pd.DataFrame, years: int) -> pd.DataFrame:
    """:func:`changes_table` as text (GBP over the horizon; activity in its unit)."""

    def fmt(value: float, unit: str, signed: bool = False) -> str:
        if unit == "GBP":
            return gbp_change(value) if signed else gbp(value)
        text = number(value, 1 if unit in ("%", "days") else 0)
        if signed and math.isfinite(value) and value > 0:
            text = "+" + text
        if unit == "%" and text != "-":
            return f"{text} points" if signed else f"{text} %"
        return text

    horizon = f"over {years} year{'s' if years > 1 else ''}"
    return pd.DataFrame(
        {
            "Rule": table["rule"],
            "Measure": [
                f"{m} ({'GBP ' + horizon if u == 'GBP' else u})"
                for m, u in zip(table["measure"], table["unit"], strict=True)
            ],
            "Scenario file": [fmt(v, u) for v, u in zip(table["file"], table["unit"], strict=True)],
            "With your changes": [fmt(v, u) for v, u in zip(table["edited"], table["unit"], strict=True)],
            "Change": [fmt(v, u, True) for v, u in zip(table["change"], table["unit"], strict=True)],
            "95 % interval of the change": [
                "-" if not math.isfinite(lo) else f"{fmt(lo, u, True)} to {fmt(hi, u, True)}"
                for lo, hi, u in zip(table["ci_low"], table["ci_high"], table["unit"], strict=True)
            ],
        }
    )


def saving_table(base: Run, edited: Run) -> pd.DataFrame:
    """Who captures a saving (or bears an extra cost) that the edits make, per rule.

    The system cost is the provider's cost plus the OAP spend the commissioner pays directly; its fall
    (``saving``, GBP over the horizon, mean over paired runs) splits exactly into the rise of the provider's
    surplus (``provider``) and the fall of the commissioner's spend (``commissioner``); see
    :mod:`paysim.compare`. Columns: ``rule`` (label), ``saving``, ``provider``, ``commissioner``,
    ``provider_share``.
    """

    def columns(run: Run) -> dict[str, np.ndarray]:
        found = money_columns(run.ledgers)
        for rule, ledger in run.ledgers.items():
            found[f"{rule}.system_cost"] = system_cost(ledger)
        return found

    rows = saving_split(columns(base), columns(edited))
    table = pd.DataFrame(rows, columns=["rule", "saving", "provider", "commissioner", "provider_share"])
    table["rule"] = table["rule"].map(RULE_LABELS)
    return table


def saving_display(table: pd.DataFrame, years: int) -> pd.DataFrame:
    """:func:`saving_table` as text."""
    horizon = f"over {years} year{'s' if years > 1 else ''}"
    return pd.DataFrame(
        {
            "Rule": table["rule"],
            f"Saving in system cost {horizon}": table["saving"].map(gbp_change),
            "Captured by the provider (surplus)": table["provider"].map(gbp_change),
            "Captured by the commissioner (spend)": table["commissioner"].map(gbp_change),
        }
    )


def activity_table(activity: Activity) -> pd.DataFrame:
    """Every public measure over the horizon: ``measure``, ``unit``, ``mean``, ``p5``, ``p95``.

    Counts and bed days are totals over the horizon; ``*_mean`` measures are means; ``waiting_end`` is
    the list at the end. Occupancy is in % of beds.
    """
    rows = []
    for name in public_measures(activity):
        unit = MEASURE_UNITS.get(name.rsplit(".", 1)[-1], "")
        values = activity.total(name) * (100.0 if unit == "% of beds" else 1.0)
        finite = values[np.isfinite(values)]
        rows.append(
            {
                "measure": name,
                "unit": unit,
                "mean": float(finite.mean()) if finite.size else float("nan"),
                "p5": float(np.percentile(finite, 5)) if finite.size else float("nan"),
                "p95": float(np.percentile(finite, 95)) if finite.size else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["measure", "unit", "mean", "p5", "p95"])


def activity_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`activity_table` as text."""

    def fmt(v: float) -> str:
        return number(v, 0 if abs(v) >= 100 else 1) if math.isfinite(v) else "-"

    return pd.DataFrame(
        {
            "Measure": table["measure"],
            "Unit": table["unit"],
            "Mean": table["mean"].map(fmt),
            "5th percentile": table["p5"].map(fmt),
            "95th percentile": table["p95"].map(fmt),
        }
    )


# --- charts -------------------------------------------------------------------------------------------

_GBP_AXIS = (
    "(datum.value < 0 ? '-' : '') + '£' + "
    "(abs(datum.value) >= 1e6 ? format(abs(datum.value) / 1e6, ',.1~f') + 'm' : "
    "abs(datum.value) >= 1e3 ? format(abs(datum.value) / 1e3, ',.0f') + 'k' : format(abs(datum.value), ',.0f'))"
)
"""Vega expression labelling a GBP axis: ``£1.5m``, ``-£250k``, ``£0``."""


def gbp_axis(title: str) -> alt.Axis:
    """An Altair axis for GBP values, labelled ``£1.5m`` / ``-£250k``."""
    return alt.Axis(title=title, labelExpr=_GBP_AXIS, tickCount=8)


def _rule_colour(rules: Iterable[str] | None = None) -> alt.Color:
    labels = [RULE_LABELS[r] for r in RULES] if rules is None else list(rules)
    colours = [RULE_COLOURS[r] for r in RULES if RULE_LABELS[r] in labels]
    return alt.Color("rule:N", title="Payment rule", scale=alt.Scale(domain=labels, range=colours), legend=None)


def fan_chart(table: pd.DataFrame, title: str, y_title: str = "Provider surplus in the month") -> alt.FacetChart:
    """Fan chart from :func:`fan_table`: median line, 50 % and 90 % bands, a panel per rule, zero marked."""
    labels = list(dict.fromkeys(table["label"]))
    ticks = labels[:: max(1, len(labels) // 10)] if labels else []
    x = alt.X("label:O", title=None, sort=labels, axis=alt.Axis(values=ticks, labelAngle=-45))
    colour = _rule_colour(list(dict.fromkeys(table["rule"])))
    tooltip = [
        alt.Tooltip("rule:N", title="Rule"),
        alt.Tooltip("label:N", title="Month"),
        alt.Tooltip("p50:Q", title="Median (GBP)", format=",.0f"),
        alt.Tooltip("p25:Q", title="25th percentile (GBP)", format=",.0f"),
        alt.Tooltip("p75:Q", title="75th percentile (GBP)", format=",.0f"),
        alt.Tooltip("p5:Q", title="5th percentile (GBP)", format=",.0f"),
        alt.Tooltip("p95:Q", title="95th percentile (GBP)", format=",.0f"),
    ]
    base = alt.Chart().encode(x=x)
    band90 = base.mark_area(opacity=0.18).encode(
        y=alt.Y("p5:Q", axis=gbp_axis(y_title)), y2="p95:Q", color=colour, tooltip=tooltip
    )
    band50 = base.mark_area(opacity=0.38).encode(y="p25:Q", y2="p75:Q", color=colour, tooltip=tooltip)
    median = base.mark_line(strokeWidth=2).encode(y="p50:Q", color=colour, tooltip=tooltip)
    zero = alt.Chart().mark_rule(color="#444", strokeDash=[4, 3]).encode(y=alt.datum(0))
    rules = list(dict.fromkeys(table["rule"]))
    return (
        alt.layer(band90, band50, median, zero, data=table)
        .properties(width=420, height=200)
        .facet(facet=alt.Facet("rule:N", title=None, sort=rules), columns=2)
        .properties(title=title)
    )


def activity_fan_chart(table: pd.DataFrame, y_title: str, colour: str = "#e45756") -> alt.LayerChart:
    """Fan chart of one activity measure from :func:`measure_fan` (median, 50 % and 90 % bands)."""
    labels = list(table["label"])
    ticks = labels[:: max(1, len(labels) // 12)]
    x = alt.X("label:O", title=None, sort=labels, axis=alt.Axis(values=ticks, labelAngle=-45))
    tooltip = [alt.Tooltip("label:N", title="Month")] + [
        alt.Tooltip(f"{q}:Q", title=t, format=",.1f")
        for q, t in (("p50", "median"), ("p5", "5th percentile"), ("p95", "95th percentile"))
    ]
    base = alt.Chart(table).encode(x=x, tooltip=tooltip)
    return alt.layer(
        base.mark_area(opacity=0.18, color=colour).encode(y=alt.Y("p5:Q", title=y_title), y2="p95:Q"),
        base.mark_area(opacity=0.38, color=colour).encode(y="p25:Q", y2="p75:Q"),
        base.mark_line(color=colour).encode(y="p50:Q"),
    ).properties(height=240)


HISTOGRAM_HEIGHT = 240
"""Pixels of one risk histogram, title and axes included (Streamlit fits the chart into its height)."""


def nice_domain(values: np.ndarray, bins: int = 40) -> tuple[float, float]:
    """A range covering ``values`` with round ends, for histograms that share an axis.

    >>> nice_domain(np.array([-1_234_567.0, 612_000.0]))
    (-1250000.0, 650000.0)
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (-1.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 0:
        pad = max(abs(lo) * 0.05, 1.0)
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return (float(math.floor(lo / step) * step), float(math.ceil(hi / step) * step))


def risk_histogram(values: np.ndarray, rule: str, title: str, domain: tuple[float, float]) -> alt.LayerChart:
    """The risk chart: histogram of one rule's surplus with its mean (solid) and 5th / 95th percentiles
    (dashed) marked and labelled; ``domain`` fixes the x range so rules can be compared side by side."""
    label = RULE_LABELS.get(rule, rule)
    colour = RULE_COLOURS.get(rule, "#4c78a8")
    samples = pd.DataFrame({"surplus": np.asarray(values, dtype=float)})
    stats = pd.DataFrame(
        [{"stat": k, "value": v, "text": f"{k}: {gbp(v)}"} for k, v in histogram_stats(values).items()]
    )
    lo, hi = domain
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    step = (hi - lo) / 40
    x_scale = alt.Scale(domain=[lo, hi], nice=False)
    bars = (
        alt.Chart(samples)
        .mark_bar(color=colour, opacity=0.75)
        .encode(
            x=alt.X(
                "surplus:Q",
                bin=alt.Bin(extent=[lo, hi], step=step),
                scale=x_scale,
                axis=gbp_axis("Provider surplus in the year"),
            ),
            y=alt.Y("count():Q", title="Runs"),
            tooltip=[alt.Tooltip("count():Q", title="Runs")],
        )
    )
    marks = (
        alt.Chart(stats)
        .mark_rule(color="#222", strokeWidth=2)
        .encode(
            x=alt.X("value:Q", scale=x_scale),
            strokeDash=alt.StrokeDash(
                "stat:N",
                scale=alt.Scale(domain=["mean", "5th percentile", "95th percentile"], range=[[1, 0], [5, 3], [5, 3]]),
                legend=None,
            ),
            tooltip=[alt.Tooltip("text:N", title=label)],
        )
    )
    zero = (
        alt.Chart(pd.DataFrame({"value": [0.0]}))
        .mark_rule(color="#c00", opacity=0.5)
        .encode(x=alt.X("value:Q", scale=x_scale))
    )
    text = (
        alt.Chart(stats)
        .mark_text(align="left", dx=4, dy=-4, baseline="bottom", fontSize=11)
        .encode(x=alt.X("value:Q", scale=x_scale), y=alt.value(0), text="text:N")
    )
    return alt.layer(bars, zero, marks, text).properties(title=f"{label}: {title}", height=HISTOGRAM_HEIGHT)


def spend_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Commissioner spend per contract year and rule from :func:`spend_table`: median point and a bar from
    the 5th to the 95th percentile."""
    colour = _rule_colour(list(dict.fromkeys(table["rule"])))
    base = alt.Chart(table).encode(
        x=alt.X("rule:N", title=None, sort=list(dict.fromkeys(table["rule"]))),
        color=colour,
        tooltip=[
            alt.Tooltip("rule:N", title="Rule"),
            alt.Tooltip("year:O", title="Year"),
            alt.Tooltip("mean:Q", title="Mean (GBP)", format=",.0f"),
            alt.Tooltip("p5:Q", title="5th percentile (GBP)", format=",.0f"),
            alt.Tooltip("p95:Q", title="95th percentile (GBP)", format=",.0f"),
        ],
    )
    bars = base.mark_rule(strokeWidth=6, opacity=0.5).encode(
        y=alt.Y("p5:Q", axis=gbp_axis("Commissioner spend in the year"), scale=alt.Scale(zero=False)), y2="p95:Q"
    )
    points = base.mark_point(filled=True, size=70, color="#222").encode(y="p50:Q")
    return (
        alt.layer(bars, points)
        .properties(width=160, height=220)
        .facet(column=alt.Column("year:O", title="Contract year"))
    )


def changes_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Mean change in provider surplus and commissioner spend per rule (edited - file), with 95 % intervals."""
    money = table[table["unit"] == "GBP"]
    colour = _rule_colour(list(dict.fromkeys(money["rule"])))
    base = alt.Chart(money).encode(
        y=alt.Y("rule:N", title=None, sort=list(dict.fromkeys(money["rule"]))),
        color=colour,
        tooltip=[
            alt.Tooltip("rule:N", title="Rule"),
            alt.Tooltip("measure:N", title="Measure"),
            alt.Tooltip("change:Q", title="Mean change (GBP)", format=",.0f"),
            alt.Tooltip("ci_low:Q", title="95 % interval from", format=",.0f"),
            alt.Tooltip("ci_high:Q", title="95 % interval to", format=",.0f"),
        ],
    )
    bars = base.mark_bar(opacity=0.8).encode(x=alt.X("change:Q", axis=gbp_axis("Change over the horizon")))
    whiskers = base.mark_rule(color="#222").encode(x="ci_low:Q", x2="ci_high:Q")
    zero = alt.Chart().mark_rule(color="#444").encode(x=alt.datum(0))
    return (
        alt.layer(bars, whiskers, zero, data=money)
        .properties(width=320, height=140)
        .facet(column=alt.Column("measure:N", title=None))
    )


# --- downloads ----------------------------------------------------------------------------------------


def results_arrow(run: Run) -> pa.Table:
    """The results table (one row per replication: measures, then ``<rule>.<ledger>`` GBP over the horizon),
    described with the scenario in its metadata (see :func:`paysim.io.results_table`)."""
    return results_table(run.activity, money=money_columns(run.ledgers), scenario=run.scenario)


def results_csv(run: Run) -> bytes:
    """The results table as CSV bytes (UTF-8, header row)."""
    sink = io.BytesIO()
    pacsv.write_csv(results_arrow(run), sink)
    return sink.getvalue()


def results_parquet(run: Run) -> bytes:
    """The results table as Parquet bytes, with the scenario YAML and seed in the file's metadata."""
    sink = io.BytesIO()
    pq.write_table(results_arrow(run), sink)
    return sink.getvalue()


GBP_FORMAT = '"£"#,##0;-"£"#,##0'
PERCENT_FORMAT = "0.0%"


def workbook_sheets(base: Run, edited: Run, engine: str, seconds: float | None = None) -> dict[str, pd.DataFrame]:
    """The sheets of the Excel workbook, as DataFrames in order (numbers, not text)."""
    scenario = edited.scenario
    month = MONTH_NAMES[scenario.start_month - 1]
    about = pd.DataFrame(
        [
            ("paysim version", __version__),
            ("scenario", scenario.name),
            ("replications", edited.activity.n_replications),
            ("years", scenario.years),
            ("horizon starts", f"1 {month}, contract year 1"),
            ("seed", str(scenario.seed)),
            ("engine", engine),
            ("run time, seconds", None if seconds is None else round(seconds, 2)),
            ("created", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
            ("money", "cash GBP; surplus = provider income - provider cost"),
        ],
        columns=["item", "value"],
    )
    file_values = flatten(_dump(base.scenario))
    edited_values = flatten(_dump(scenario))
    inputs = pd.DataFrame(
        [
            {
                "key": key,
                "value": _cell(edited_values.get(key)),
                "in the scenario file": _cell(file_values.get(key)),
                "changed": edited_values.get(key) != file_values.get(key),
            }
            for key in list(dict.fromkeys([*edited_values, *file_values]))
        ]
    )
    sheets = {
        "About": about,
        "Inputs": inputs,
        "Summary": risk_table(edited),
        "Changes": changes_table(base, edited),
        "Surplus by month": fan_table(edited),
        "Cumulative surplus": fan_table(edited, cumulative=True),
        "Yearly surplus": yearly_surplus(edited),
        "Commissioner spend": spend_table(edited),
        "OAP": oap_table(edited),
        "MHIS": mhis_table(edited),
        "Activity": activity_table(edited.activity),
    }
    return sheets


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return value


_GBP_COLUMNS = {
    "surplus_mean",
    "surplus_p5",
    "surplus_p95",
    "expected_shortfall",
    "spend_mean",
    "spend_sd",
    "spend_p5",
    "spend_p95",
    "p5",
    "p25",
    "p50",
    "p75",
    "p95",
    "surplus",
    "mean",
    "sd",
    "spend",
    "paid_by_provider",
    "paid_by_commissioner",
    "minimum",
    "shortfall",
}
_SHARE_COLUMNS = {"p_deficit", "p_deficit_any_year", "spend_cv", "p_met", "core_share"}
_MONEY_SHEETS = {
    "Summary",
    "Surplus by month",
    "Cumulative surplus",
    "Yearly surplus",
    "Commissioner spend",
    "OAP",
    "MHIS",
}


def excel_workbook(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An ``.xlsx`` workbook with one sheet per table: header row in bold, frozen, GBP and % formatted.

    Parameters
    ----------
    sheets:
        Sheet name -> table (e.g. from :func:`workbook_sheets`). Columns named like GBP amounts
        (``surplus_mean``, ``p50``, ...) on money sheets get a ``£#,##0`` format, shares a ``0.0%`` format;
        the ``Changes`` sheet formats rows in GBP.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        columns = list(table.columns)
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in table.itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
        for j, column in enumerate(columns, start=1):
            fmt = None
            if column in _SHARE_COLUMNS:
                fmt = PERCENT_FORMAT
            elif name in _MONEY_SHEETS and column in _GBP_COLUMNS:
                fmt = GBP_FORMAT
            if fmt is not None:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt
            width = max([len(str(column)), *(len(str(v)) for v in table[column].head(200))], default=8)
            sheet.column_dimensions[get_column_letter(j)].width = min(max(10, width + 2), 60)
        if name == "Changes" and "unit" in columns:
            for row in sheet.iter_rows(min_row=2):
                if row[columns.index("unit")].value == "GBP":
                    for j, column in enumerate(columns):
                        if column in ("file", "edited", "change", "ci_low", "ci_high"):
                            row[j].number_format = GBP_FORMAT
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def _excel_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def inputs_key(*parts: Any) -> str:
    """A short fingerprint of everything a result depends on (scenario YAML, replications, engine)."""
    import hashlib

    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def horizon_text(scenario: Scenario) -> str:
    """``"3 contract years from April"``."""
    years = scenario.years
    return f"{years} contract year{'s' if years > 1 else ''} from {MONTH_NAMES[scenario.start_month - 1]}"


# --- decision analysis: sensitivity (tornado, Sobol) and contract design -----------------------------

MONEY_SUFFIXES = (*LEDGERS, "system_cost")
"""Last part of a results column that is money (GBP over the horizon): ``<rule>.<ledger>``, ``<rule>.system_cost``."""

LEDGER_LABELS = {
    "provider_income": "provider income",
    "provider_cost": "provider cost",
    "provider_surplus": "provider surplus",
    "commissioner_spend": "commissioner spend",
    "system_cost": "system cost",
}
"""How each money column is named on screen."""


def is_money(measure: str) -> bool:
    """Whether a results column is money, GBP over the horizon (``blended.provider_surplus``, ...)."""
    rule, _, last = measure.rpartition(".")
    return rule in RULE_LABELS and last in MONEY_SUFFIXES


def measure_label(measure: str) -> str:
    """A results column for people: ``"Blended: provider surplus"``; activity measures keep their name.

    >>> measure_label("blended.provider_surplus"), measure_label("inpatient.oap_bed_days")
    ('Blended: provider surplus', 'inpatient.oap_bed_days')
    """
    if is_money(measure):
        rule, _, last = measure.rpartition(".")
        return f"{RULE_LABELS[rule]}: {LEDGER_LABELS[last]}"
    return measure


def measure_phrase(measure: str) -> str:
    """A results column inside a sentence: ``"blended provider surplus"``; activity measures keep their name.

    >>> measure_phrase("block.commissioner_spend"), measure_phrase("crisis.referrals")
    ('block commissioner spend', 'crisis.referrals')
    """
    if is_money(measure):
        rule, _, last = measure.rpartition(".")
        return f"{rule} {LEDGER_LABELS[last]}"
    return measure


def sensitivity_measures(scenario: Scenario) -> list[str]:
    """Results columns a sensitivity analysis can rank parameters by: each rule's provider surplus first,
    then the rest of the money, then the activity measures (see :func:`paysim.sensitivity.column_names`)."""
    names = sensitivity.column_names(scenario)
    surplus = [n for n in names if is_money(n) and n.endswith(".provider_surplus")]
    money = [n for n in names if is_money(n) and n not in surplus]
    return surplus + money + [n for n in names if not is_money(n)]


def default_measure(scenario: Scenario) -> str:
    """The column a sensitivity analysis starts on: the blended provider surplus, else the block one, else
    the first rule's, else the first activity measure."""
    names = sensitivity_measures(scenario)
    for rule in ("blended", "block"):
        if f"{rule}.provider_surplus" in names:
            return f"{rule}.provider_surplus"
    return names[0]


def default_tornado_replications(engine: str) -> int:
    """Replications of each tornado run: 100 on the vector engine, 10 on the patient-level DES."""
    return 100 if engine == "vector" else 10


def tornado_simulations(scenario: Scenario) -> int:
    """Simulations a tornado needs: one at central values and two (low and high end) per uncertain key that
    changes the patients; a contract or cost key re-prices the central simulation. 0 without ``uncertain:``."""
    if scenario.uncertain is None:
        return 0
    return 1 + 2 * len(scenario.uncertain.simulation_keys())


def sobol_simulations(scenario: Scenario, samples: int) -> int:
    """Parameter sets a Sobol analysis evaluates: ``samples x (P + 2)`` (each a short run), 0 without ``uncertain:``."""
    if scenario.uncertain is None:
        return 0
    return samples * (len(scenario.uncertain.names) + 2)


def run_tornado(scenario_yaml: str, measure: str, reps: int, engine: str) -> sensitivity.Tornado:
    """One-way sensitivity (:func:`paysim.sensitivity.one_way`) of a scenario given as YAML, on common random
    numbers, the ends at the 5th and 95th percentiles. Raises :class:`~paysim.sensitivity.SensitivityError`."""
    scenario = scenario_from_yaml(scenario_yaml, source="scenario")
    return sensitivity.one_way(scenario, measure, reps, engine=engine)


def run_sobol(scenario_yaml: str, measure: str, samples: int, reps: int, engine: str) -> sensitivity.SobolResult:
    """Sobol indices (:func:`paysim.sensitivity.sobol`) of a scenario given as YAML."""
    scenario = scenario_from_yaml(scenario_yaml, source="scenario")
    return sensitivity.sobol(scenario, measure, samples=samples, reps=reps, engine=engine)


def setting_text(value: float) -> str:
    """A parameter's setting, short and readable: ``700``, ``29.59``, ``0.0325``, ``4,020,000``.

    >>> setting_text(4_020_000.0), setting_text(29.5912), setting_text(0.032499), setting_text(700)
    ('4,020,000', '29.59', '0.0325', '700')
    """
    if value is None or not math.isfinite(value):
        return "-"
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{float(f'{value:.4g}'):g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")


def measure_text(value: float, money: bool) -> str:
    """A value of a results column: GBP with thousands separators for money, else a number."""
    if money:
        return gbp(value)
    if value is None or not math.isfinite(value):
        return "-"
    return number(value, 0 if abs(value) >= 100 else 2)


def _percentile_name(q: float) -> str:
    """``0.05 -> "5th percentile"``, ``0.95 -> "95th percentile"``."""
    n = round(100 * q, 1)
    n_text = f"{n:g}"
    last = int(n) % 10 if float(n).is_integer() else -1
    suffix = "th" if int(n) % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(last, "th")
    return f"{n_text}{suffix} percentile"


def tornado_ends(tornado: sensitivity.Tornado) -> dict[str, str]:
    """What the two ends of every bar are: ``{"low": "5th percentile", "high": "95th percentile"}``."""
    return {"low": _percentile_name((1 - tornado.interval) / 2), "high": _percentile_name((1 + tornado.interval) / 2)}


def tornado_table(tornado: sensitivity.Tornado) -> pd.DataFrame:
    """The one-way table as numbers (columns :data:`paysim.sensitivity.TORNADO_COLUMNS`), largest swing first."""
    return pd.DataFrame(tornado.rows, columns=list(sensitivity.TORNADO_COLUMNS))


def tornado_display(tornado: sensitivity.Tornado) -> pd.DataFrame:
    """The one-way table as text: settings of each parameter and the mean of the measure at each end, its
    swing and the swing's paired standard error (GBP with thousands separators for money)."""
    money = is_money(tornado.measure)
    ends = tornado_ends(tornado)
    table = tornado_table(tornado)

    def fmt(v: float) -> str:
        return measure_text(v, money)

    return pd.DataFrame(
        {
            "Parameter": table["parameter"],
            "Central": table["central"].map(setting_text),
            f"Low ({ends['low']})": table["low"].map(setting_text),
            f"High ({ends['high']})": table["high"].map(setting_text),
            "Mean at low": table["value_low"].map(fmt),
            "Mean at high": table["value_high"].map(fmt),
            "Swing": table["swing"].map(fmt),
            "Swing se": table["swing_se"].map(fmt),
        }
    )


def tornado_csv(tornado: sensitivity.Tornado) -> bytes:
    """The one-way table as CSV (the columns of ``paysim sensitivity --out``), UTF-8."""
    return tornado_table(tornado).to_csv(index=False).encode("utf-8")


def _value_axis(title: str, money: bool) -> alt.Axis:
    return gbp_axis(title) if money else alt.Axis(title=title, format=",~f")


TORNADO_COLOURS = ("#4c78a8", "#f58518")
"""Bar colours of the low and the high end of a parameter."""


def tornado_chart(tornado: sensitivity.Tornado, title: str | None = None) -> alt.LayerChart:
    """The tornado: per parameter (largest swing on top) a bar from the mean at central values to the mean
    with the parameter at its low end, and one to its high end, each labelled with the setting; a rule marks
    the mean at central values. Built on :func:`paysim.sensitivity.tornado_chart_data`."""
    money = is_money(tornado.measure)
    ends = tornado_ends(tornado)
    bars = pd.DataFrame(
        sensitivity.tornado_chart_data(tornado),
        columns=["parameter", "end", "setting", "value", "start", "stop", "order"],
    )
    bars["end_label"] = [f"{ends[e]} ({e} end)" for e in bars["end"]]
    bars["setting_text"] = bars["setting"].map(setting_text)
    bars["value_text"] = bars["value"].map(lambda v: measure_text(v, money))
    # labels outside the bar's end; a zero-length bar puts its low setting on the left, its high on the right
    bars["right"] = (bars["stop"] > bars["start"]) | ((bars["stop"] == bars["start"]) & (bars["end"] == "high"))
    order = list(dict.fromkeys(bars.sort_values("order")["parameter"]))
    axis_title = f"Mean {measure_phrase(tornado.measure)} over the horizon"
    y = alt.Y("parameter:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    colour = alt.Color(
        "end_label:N",
        title="Parameter at its",
        scale=alt.Scale(domain=[f"{ends[e]} ({e} end)" for e in ("low", "high")], range=list(TORNADO_COLOURS)),
        legend=alt.Legend(orient="bottom"),
    )
    tooltip = [
        alt.Tooltip("parameter:N", title="Parameter"),
        alt.Tooltip("end_label:N", title="Set at its"),
        alt.Tooltip("setting_text:N", title="Value of the parameter"),
        alt.Tooltip("value_text:N", title="Mean of the measure"),
    ]
    base = alt.Chart(bars).encode(y=y)
    bar = base.mark_bar(opacity=0.85, height={"band": 0.7}).encode(
        x=alt.X("start:Q", axis=_value_axis(axis_title, money), scale=alt.Scale(zero=False, padding=40)),
        x2="stop:Q",
        color=colour,
        tooltip=tooltip,
    )
    right = (
        base.transform_filter("datum.right")
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(x="stop:Q", text="setting_text:N")
    )
    left = (
        base.transform_filter("!datum.right")
        .mark_text(align="right", dx=-4, fontSize=11)
        .encode(x="stop:Q", text="setting_text:N")
    )
    centre_data = pd.DataFrame({"value": [tornado.value_central], "text": [measure_text(tornado.value_central, money)]})
    centre = (
        alt.Chart(centre_data)
        .mark_rule(color="#222", strokeWidth=1.5)
        .encode(x="value:Q", tooltip=[alt.Tooltip("text:N", title="Mean at central values")])
    )
    return alt.layer(bar, left, right, centre).properties(
        title=title or f"What moves the mean {measure_phrase(tornado.measure)} most",
        height=alt.Step(34),
    )


def sobol_display(result: sensitivity.SobolResult) -> pd.DataFrame:
    """The Sobol table as text: first-order and total index with their 95 % interval half-widths."""

    def fmt(v: float) -> str:
        return f"{v:.2f}" if math.isfinite(v) else "-"

    table = pd.DataFrame(result.rows, columns=list(sensitivity.SOBOL_COLUMNS))
    return pd.DataFrame(
        {
            "Parameter": table["parameter"],
            "First order (alone)": table["S1"].map(fmt),
            "± (95 %)": table["S1_conf"].map(fmt),
            "Total (with interactions)": table["ST"].map(fmt),
            "± (95 %) ": table["ST_conf"].map(fmt),
        }
    )


def sobol_chart(result: sensitivity.SobolResult) -> alt.LayerChart:
    """Grouped bars of the first-order and total Sobol index per parameter (largest total on top) with
    their 95 % intervals. Built on :func:`paysim.sensitivity.sobol_chart_data`."""
    bars = pd.DataFrame(
        sensitivity.sobol_chart_data(result.rows), columns=["parameter", "index", "value", "low", "high", "order"]
    )
    bars[["low", "high"]] = bars[["low", "high"]].clip(0.0, 1.0)  # an index lies in 0..1; beyond is noise
    order = list(dict.fromkeys(bars.sort_values("order")["parameter"]))
    y = alt.Y("parameter:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    offset = alt.YOffset("index:N", sort=["first order", "total"])
    colour = alt.Color(
        "index:N",
        title="Sobol index",
        scale=alt.Scale(domain=["first order", "total"], range=["#72b7b2", "#4c78a8"]),
        legend=alt.Legend(orient="bottom"),
    )
    tooltip = [
        alt.Tooltip("parameter:N", title="Parameter"),
        alt.Tooltip("index:N", title="Index"),
        alt.Tooltip("value:Q", title="Estimate", format=".2f"),
        alt.Tooltip("low:Q", title="95 % interval from", format=".2f"),
        alt.Tooltip("high:Q", title="95 % interval to", format=".2f"),
    ]
    base = alt.Chart(bars).encode(y=y, yOffset=offset, tooltip=tooltip)
    bar = base.mark_bar(height={"band": 0.9}).encode(
        x=alt.X(
            "value:Q",
            title="Share of the variance of the mean",
            axis=alt.Axis(format=".0%"),
            scale=alt.Scale(
                domain=[min(0.0, float(bars["value"].min())), max(1.0, float(bars["value"].max()))], nice=False
            ),
        ),
        color=colour,
    )
    whisker = base.mark_rule(color="#222").encode(x="low:Q", x2="high:Q")
    return alt.layer(bar, whisker).properties(
        title=f"Sobol indices of the mean {measure_phrase(result.measure)}", height=alt.Step(40)
    )


@dataclass(frozen=True)
class DesignChoice:
    """A contract-design question the app offers: a goal met by one or more contract terms.

    Attributes
    ----------
    name:
        Identifier (stable, for widget keys and tests).
    label:
        What the picker shows.
    goal:
        A goal of :func:`paysim.design.design` (``p-deficit``, ``mean-surplus``, ``equal-shortfall``).
    terms:
        Dotted contract keys all set to the answer.
    """

    name: str
    label: str
    goal: str
    terms: tuple[str, ...]


BLOCK_VALUE = "contracts.block.annual_value"
CAPITATION_RATE = "contracts.capitation.rate_per_head"
MARGINAL_RATES = ("contracts.blended.variable.rate_above", "contracts.blended.variable.rate_below")

DESIGN_CHOICES = (
    DesignChoice("block-p-deficit", "Block value with a set chance of a deficit", "p-deficit", (BLOCK_VALUE,)),
    DesignChoice(
        "capitation-p-deficit", "Capitation rate with a set chance of a deficit", "p-deficit", (CAPITATION_RATE,)
    ),
    DesignChoice(
        "blended-equal-shortfall",
        "Blended marginal rate that shares the bad years equally (equal expected shortfall)",
        "equal-shortfall",
        MARGINAL_RATES,
    ),
    DesignChoice(
        "block-break-even", "Block value that breaks even on average (mean surplus 0)", "mean-surplus", (BLOCK_VALUE,)
    ),
    DesignChoice(
        "capitation-break-even",
        "Capitation rate that breaks even on average (mean surplus 0)",
        "mean-surplus",
        (CAPITATION_RATE,),
    ),
)
"""Every design question; :func:`design_choices` keeps those a scenario's contracts can answer."""


def design_choices(scenario: Scenario) -> list[DesignChoice]:
    """The design questions whose terms are numbers of a payment rule in ``scenario``."""
    found = []
    for choice in DESIGN_CHOICES:
        try:
            design.check_terms(scenario, choice.terms)
        except design.DesignError:
            continue
        found.append(choice)
    return found


DESIGN_BOOTSTRAP = 200
"""Bootstrap resamples for the Monte Carlo interval of a design answer."""


def run_design(run: Run, choice: DesignChoice, target: float | None = None) -> design.Design:
    """Solve a design question on a run's simulated activity (no new simulation: only money is recomputed).

    ``target``: P(deficit) for ``p-deficit`` (default 0.10), mean surplus for ``mean-surplus`` (default 0).
    Raises :class:`~paysim.design.DesignError` with a message naming the term.
    """
    return design.design(
        run.scenario, choice.goal, list(choice.terms), target=target, activity=run.activity, bootstrap=DESIGN_BOOTSTRAP
    )


def term_text(term: str, value: float) -> str:
    """A contract term's value in its unit: ``£4,323,049 a year``, ``£108.08 a weighted head a year``, ``66.1 %``.

    >>> term_text("contracts.block.annual_value", 4323049.04), term_text("contracts.blended.variable.rate_above", 0.661)
    ('£4,323,049 a year', '66.1 %')
    """
    last = term.rsplit(".", 1)[-1]
    if value is None or not math.isfinite(value):
        return "-"
    if last == "annual_value":
        return f"{gbp(value)} a year"
    if last == "rate_per_head":
        return f"{gbp(value, 2)} a weighted head a year"
    if last in design.SHARE_NAMES:
        return percent(value, 1)
    return setting_text(value)


def _terms_name(terms: Sequence[str]) -> str:
    if tuple(terms) == MARGINAL_RATES:
        return "Blended marginal rate (above and below plan)"
    names = {BLOCK_VALUE: "Block value", CAPITATION_RATE: "Capitation rate"}
    return " = ".join(names.get(t, t) for t in terms)


def design_answer(result: design.Design, scenario: Scenario) -> dict[str, str]:
    """The answer for people: ``term`` (what was solved for), ``value``, ``interval`` (95 % bootstrap),
    ``current`` (the value in the scenario) and ``change`` (answer minus current, in the term's unit)."""
    term = result.terms[0]
    current = float(central_value(scenario, term))
    difference = result.value - current
    if term.rsplit(".", 1)[-1] in design.SHARE_NAMES:
        change = f"{100 * difference:+.1f} percentage points"
    else:
        change = gbp_change(difference, 2 if term.endswith("rate_per_head") else 0)
    return {
        "term": _terms_name(result.terms),
        "keys": ", ".join(result.terms),
        "value": term_text(term, result.value),
        "interval": f"{term_text(term, result.ci_low)} to {term_text(term, result.ci_high)}",
        "current": term_text(term, current),
        "change": change,
    }


def design_display(result: design.Design) -> pd.DataFrame:
    """What the answer means, as text: P(deficit), mean surplus, both parties' expected shortfall and the
    commissioner's mean spend at the answer, GBP over the horizon."""
    m = result.at_answer
    rows = [
        ("P(provider deficit over the horizon)", percent(m["p_deficit"], 1)),
        ("Mean provider surplus over the horizon", gbp(m["mean_surplus"])),
        ("Provider's expected shortfall (worst 5 %, below its mean)", gbp(m["provider_shortfall"])),
        ("Commissioner's expected shortfall (worst 5 %, above its mean)", gbp(m["commissioner_shortfall"])),
        ("Mean commissioner spend over the horizon", gbp(m["mean_spend"])),
    ]
    return pd.DataFrame(rows, columns=["At the answer", "Value"])


def design_window(result: design.Design, flat: float = 0.005) -> tuple[float, float]:
    """The range of term values a design chart shows: for P(deficit), where the curve is neither at 0 nor at 1
    (within ``flat``) widened by a quarter each side, so the fall is not squeezed into a corner; else the
    whole range searched. Always holds the answer and its interval."""
    values = np.array([point["value"] for point in result.curve])
    lo, hi = float(values.min()), float(values.max())
    if result.goal == "p-deficit":
        p = np.array([point["p_deficit"] for point in result.curve])
        moving = values[(p > flat) & (p < 1 - flat)]
        inside = [v for v in (result.value, result.ci_low, result.ci_high) if math.isfinite(v)]
        if moving.size:
            inside += [float(moving.min()), float(moving.max())]
        a, b = min(inside), max(inside)
        pad = 0.25 * (b - a) if b > a else 0.05 * max(abs(a), 1.0)
        lo, hi = max(lo, a - pad), min(hi, b + pad)
    return lo, hi


def design_chart(result: design.Design) -> alt.LayerChart:
    """The goal against the term: its curve(s) over the values searched, the answer (rule) with its 95 %
    bootstrap interval (band) and, for P(deficit) and mean surplus, the target. Built on
    :func:`paysim.design.design_chart_data`."""
    points = pd.DataFrame(design.design_chart_data(result), columns=["value", "series", "y"])
    lo, hi = design_window(result)
    points = points[(points["value"] >= lo) & (points["value"] <= hi)]
    term = result.terms[0]
    last = term.rsplit(".", 1)[-1]
    money_term = last in ("annual_value", "rate_per_head")
    x_title = _terms_name(result.terms)
    if last in design.SHARE_NAMES:
        x_axis = alt.Axis(title=x_title, format=".0%")
    elif last == "annual_value":
        x_axis = gbp_axis(f"{x_title} (a year)")
    else:
        x_axis = alt.Axis(title=f"{x_title} (£ a weighted head a year)" if money_term else x_title, format=",.0f")
    share = result.goal == "p-deficit"
    y_title = {
        "p-deficit": "P(deficit over the horizon)",
        "mean-surplus": "Mean surplus over the horizon",
        "equal-shortfall": "Expected shortfall over the horizon",
    }[result.goal]
    y_axis = alt.Axis(title=y_title, format=".0%") if share else gbp_axis(y_title)
    series = list(dict.fromkeys(points["series"]))
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=series, range=["#4c78a8", "#f58518"][: len(series)]),
        legend=alt.Legend(orient="bottom") if len(series) > 1 else None,
    )
    lines = (
        alt.Chart(points)
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("value:Q", axis=x_axis, scale=alt.Scale(zero=False, nice=False)),
            y=alt.Y("y:Q", axis=y_axis),
            color=colour,
            tooltip=[
                alt.Tooltip("series:N", title="Measure"),
                alt.Tooltip("value:Q", title=x_title, format=",.4~f"),
                alt.Tooltip("y:Q", title="Value", format=".1%" if share else ",.0f"),
            ],
        )
    )
    answer = pd.DataFrame(
        [{"value": result.value, "low": result.ci_low, "high": result.ci_high, "text": term_text(term, result.value)}]
    )
    layers: list[Any] = []
    if math.isfinite(result.ci_low) and math.isfinite(result.ci_high):
        layers.append(alt.Chart(answer).mark_rect(color="#54a24b", opacity=0.2).encode(x="low:Q", x2="high:Q"))
    layers += [
        lines,
        alt.Chart(answer)
        .mark_rule(color="#54a24b", strokeWidth=2)
        .encode(x="value:Q", tooltip=[alt.Tooltip("text:N", title="Answer")]),
        alt.Chart(answer)
        .mark_text(align="left", dx=5, dy=8, baseline="top", color="#2d6a27", fontWeight="bold")
        .encode(x="value:Q", y=alt.value(0), text="text:N"),
    ]
    if result.goal in ("p-deficit", "mean-surplus"):
        layers.append(alt.Chart().mark_rule(color="#c00", strokeDash=[5, 3]).encode(y=alt.datum(result.target)))
    return alt.layer(*layers).properties(height=320, title=f"{x_title}: {y_title}")


_CLI_FLAGS = re.compile(r"--(term|goal|target|measure|interval|samples|low/--high|low|high) ")


def problem_text(problem: Exception) -> str:
    """A library error for the page: without the command-line flags its message names (the key stays).

    >>> problem_text(ValueError("--term contracts.block.x: contracts.block has no 'x'"))
    "contracts.block.x: contracts.block has no 'x'"
    """
    text = str(problem).replace("; give other bounds with --low/--high", "")
    return _CLI_FLAGS.sub("", text)
