"""The app's levers: widgets with units and help text, each mapped onto dotted scenario keys."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from paysim.model.scenario import Scenario
from paysim.model.terms import Costs
from paysim.model.uncertainty import central
from paysim.money.finance import resolved_uplift

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
    fallback:
        The value in the scenario's unit when the scenario leaves the key out (e.g. a rule's uplift, which then
        comes from ``contracts.roll_forward``); default 0.
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
    fallback: Callable[[Scenario], float] | None = None

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
        if value is None and self.fallback is not None:
            value = self.fallback(scenario)
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


def _uplift_as_applied(rule: str) -> Callable[[Scenario], float]:
    """A rule's uplift when the scenario leaves it out: the roll-forward's yearly change, or 0."""

    def uplift(scenario: Scenario) -> float:
        assert scenario.contracts is not None
        return resolved_uplift(scenario.contracts, scenario.costs or Costs(), rule)

    return uplift


DEMAND, BEDS, STAFF, CONTRACTS, BLENDED, API, EFFICIENCY = (
    "Demand",
    "Beds and out-of-area placements",
    "Community workforce",
    "Block and capitation contracts",
    "Blended contract (the 2019/20 design)",
    "Aligned payment and incentive (API)",
    "Cost improvement and pay award",
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
        "1.1 % = 1.8 %). Starts at the file's value, or at the roll-forward's yearly change when the file "
        "leaves it out.",
        CONTRACTS,
        ("contracts.block.uplift",),
        scale=100,
        minimum=-5.0,
        maximum=10.0,
        step=0.1,
        fallback=_uplift_as_applied("block"),
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
        "contracts.capitation.outcomes.share",
        "Capitation outcome share",
        "% of contract value",
        "Share of the capitation payment withheld and paid only for meeting the outcome indicators (Oxfordshire's "
        "outcomes-based contract put 20 % at risk).",
        CONTRACTS,
        ("contracts.capitation.outcomes.share",),
        scale=100,
        maximum=30.0,
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
        "Share of the unit price paid for each unit of activity above plan (75 % was the 2022/23 API rate for "
        "elective activity; mental health has no national rate).",
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
    Lever(
        "contracts.api.baseline.error",
        "API: plan set too high (+) or low (-)",
        "%",
        "How far the planned activity the API fixed payment is agreed on is from the true expected activity "
        "(year 1 of a last-year baseline). A plan set too low moves money from provider to commissioner.",
        API,
        ("contracts.api.baseline.error",),
        scale=100,
        minimum=-30.0,
        maximum=30.0,
        step=1.0,
    ),
    Lever(
        "contracts.api.cquin.share",
        "CQUIN",
        "% of the fixed payment",
        "Paid in advance every month and clawed back at year end for indicators not met (1.25 % nationally, "
        "HFMA 2022).",
        API,
        ("contracts.api.cquin.share",),
        scale=100,
        maximum=5.0,
        step=0.05,
    ),
    Lever(
        "contracts.api.variable.rate_above",
        "API local variable rate above plan",
        "% of price",
        "A locally agreed variable element: share of the unit price paid for each unit above plan. The national "
        "API variable element is for elective activity only.",
        API,
        ("contracts.api.variable.rate_above",),
        scale=100,
        maximum=100.0,
        step=5.0,
    ),
    Lever(
        "contracts.api.variable.rate_below",
        "API local variable rate below plan",
        "% of price",
        "Share of the unit price refunded for each unit of activity below plan.",
        API,
        ("contracts.api.variable.rate_below",),
        scale=100,
        maximum=100.0,
        step=5.0,
    ),
    Lever(
        "contracts.roll_forward.cost_uplift",
        "Tariff cost uplift",
        "% a year",
        "How much every contract value and price rises each year for cost inflation (the NHS Payment Scheme's "
        "cost uplift factor: 2.9 % in 2023/24), before the efficiency factor.",
        EFFICIENCY,
        ("contracts.roll_forward.cost_uplift",),
        scale=100,
        maximum=10.0,
        step=0.1,
    ),
    Lever(
        "costs.pay_inflation",
        "Pay award",
        "% a year",
        "The pay rise actually paid each April (the Agenda for Change award; about 5 % in 2023/24 against the "
        "2.1 % the cost uplift assumed).",
        EFFICIENCY,
        ("costs.pay_inflation",),
        scale=100,
        maximum=15.0,
        step=0.1,
    ),
    Lever(
        "contracts.roll_forward.pay_award_funded",
        "Pay award above the uplift funded",
        "% of it",
        "Share of the pay award above the pay rise the cost uplift assumed that commissioners fund on top of "
        "contracts that roll forward (the 2023/24 and 2024/25 awards were funded separately).",
        EFFICIENCY,
        ("contracts.roll_forward.pay_award_funded",),
        scale=100,
        maximum=100.0,
        step=10.0,
    ),
    Lever(
        "costs.cip.planned_share",
        "Cost improvement planned",
        "% of the cost base a year",
        "The cost-improvement programme: share of the year's controllable cost (all but OAP bed days) it plans "
        "to save; the efficiency factor it meets was 1.1 % in 2023/24.",
        EFFICIENCY,
        ("costs.cip.planned_share",),
        scale=100,
        maximum=10.0,
        step=0.1,
    ),
    Lever(
        "costs.cip.delivered_share",
        "Cost improvement delivered",
        "% of the plan",
        "Share of the planned savings the programme delivers.",
        EFFICIENCY,
        ("costs.cip.delivered_share",),
        scale=100,
        maximum=100.0,
        step=5.0,
    ),
)
"""The levers the app shows, in order; each appears only for scenarios that have the keys it sets."""

SECTIONS = (DEMAND, BEDS, STAFF, CONTRACTS, BLENDED, API, EFFICIENCY)


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
