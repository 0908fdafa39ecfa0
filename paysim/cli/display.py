"""How the command line shows things: scenario descriptions, summary tables, GBP and other units."""

from __future__ import annotations

import math
from functools import partial

from rich import box
from rich.table import Table
from rich.text import Text

from paysim import analysis
from paysim.activity import MEASURE_UNITS
from paysim.analysis.compare import Comparison
from paysim.model.demand import MONTH_NAMES
from paysim.model.scenario import Community, Scenario, TalkingTherapies, TreatmentLine, places_by_year
from paysim.model.terms import PLANNED_RULES, PRICED_RULES, Costs
from paysim.money import finance
from paysim.money.payment import PAYMENT_RULES, yearly_change


def describe(scenario: Scenario) -> list[str]:
    """A few lines describing a scenario: horizon, seed, each service line's demand and capacity, contracts."""
    s = scenario.services
    lines = [f"name: {scenario.name}"]
    if scenario.description:
        lines.append(f"description: {' '.join(scenario.description.split())}")
    horizon = f"{scenario.years} year{'s' if scenario.years > 1 else ''} from {MONTH_NAMES[scenario.start_month - 1]}"
    if scenario.warmup_days:
        horizon += f", after {scenario.warmup_days} warm-up days"
        if scenario.initial_state == "steady":
            horizon += " from a steady-state start"
    lines.append(f"horizon: {horizon}; seed {scenario.seed}")
    if s.talking_therapies is not None:
        tt = s.talking_therapies
        lines.append(
            f"talking_therapies: {_demand(tt.referrals_per_year, tt.growth)}, {tt.capacity.courses:,} courses"
            + _growing(tt, scenario.years)
            + _outcomes(tt)
        )
    if s.community is not None:
        c = s.community.capacity
        lines.append(
            f"community: {_demand(s.community.referrals_per_year, s.community.growth)}, {c.places:,} places "
            f"({c.staff_wte:g} WTE x {c.caseload_per_wte:g}, {c.vacancy_rate:.0%} vacant, "
            f"{c.agency_cover:.0%} of vacancies agency-covered)"
            + _growing(s.community, scenario.years)
            + _outcomes(s.community)
        )
    if s.crisis is not None:
        cr = s.crisis
        bed = f"{cr.admission_share:.0%} need a bed" if s.inpatient is not None else "no beds"
        if s.inpatient is not None and cr.share_when_full != cr.admission_share:
            bed += f" ({cr.share_when_full:.0%} when the team is full)"
        lines.append(f"crisis: {_demand(cr.referrals_per_year, cr.growth)}, {cr.capacity.places:,} places, {bed}")
    if s.inpatient is not None:
        ip = s.inpatient
        los = ip.los_days
        lines.append(
            f"inpatient: {ip.beds:,} beds, {_demand(ip.admissions_per_year, ip.growth, 'admissions')}, "
            f"length of stay {los.dist} mean {los.mean:g} sd {los.std:g} days, "
            f"{ip.readmission_share:.0%} readmitted, repatriation {'on' if ip.oap.repatriate else 'off'}"
        )
    if scenario.contracts is not None:
        lines += _contract_lines(scenario)
    if scenario.costs is not None and scenario.costs.cip is not None:
        cip = scenario.costs.cip
        lines.append(
            f"cost improvement: plans {cip.planned_share:.1%} of the cost base a year, delivers "
            f"{cip.delivered_share:.0%} of it, {cip.recurrent_share:.0%} recurrent (not on OAP bed days)"
        )
    return lines


RULE_NAMES = {name: rule.title for name, rule in PAYMENT_RULES.items()}
"""How ``paysim validate`` names each rule (declared with the rule: :data:`paysim.money.payment.PAYMENT_RULES`)."""


def _contract_lines(scenario: Scenario) -> list[str]:
    """The contracts: each rule with its yearly uplift as applied (its own, or the roll-forward's), the
    roll-forward, who pays for OAPs and the MHIS."""
    k = scenario.contracts
    assert k is not None
    costs = scenario.costs or Costs()
    rules = []
    for rule in k.rules:
        terms = getattr(k, rule)
        uplift = finance.resolved_uplift(k, costs, rule)
        own = getattr(terms, "uplift", None) is not None  # a rule whose terms have no uplift does not move
        source = "" if own else (" from roll_forward" if k.roll_forward is not None else "")
        text = RULE_NAMES[rule]
        if rule == "block":
            text += f" {money(terms.annual_value)} a year"
        if rule in PLANNED_RULES:
            text += f", planned on {terms.baseline.source} activity"
            if terms.baseline.error:
                text += f" {terms.baseline.error:+.1%}"
        if rule == "api" and terms.cquin is not None:
            text += f", CQUIN {terms.cquin.share:.2%} on {len(terms.cquin.indicators)} indicators"
        rules.append(f"{text} ({uplift:+.2%} a year{source})")
    lines = [f"contracts: {'; '.join(rules) or 'no payment rule'}; OAP paid by {k.oap_paid_by}"]
    if k.roll_forward is not None:
        r = k.roll_forward
        text = f"roll_forward: cost uplift {r.cost_uplift:.1%} - efficiency {r.efficiency:.1%} + growth {r.growth:.1%}"
        if r.pay_award_funded > 0:
            text += (
                f" + {r.pay_award_funded:.0%} of the pay award ({costs.pay_inflation:.1%}) above "
                f"{r.pay_in_cost_uplift:.1%} on a {r.pay_share:.0%} pay share"
            )
        text += f" = {yearly_change(r, costs.pay_inflation):+.2%} a year"
        if r.growth and any(rule in PRICED_RULES for rule in k.rules):
            text += f" ({yearly_change(r, costs.pay_inflation, prices=True):+.2%} for prices, which volume grows)"
        lines.append(text)
    if k.mhis is not None:
        m = k.mhis
        text = "mhis: the ICB's qualifying spend must grow at least by the allocation growth"
        if m.mental_health_increment:
            text += " plus the mental-health increment"
        if m.other_spend.total:
            text += f"; other qualifying spend {money(m.other_spend.total)} in the prior year"
        if m.excluded_share:
            text += f"; {m.excluded_share:.0%} of the spend with this provider excluded"
        lines.append(text)
    return lines


def _outcomes(line: TreatmentLine) -> str:
    """The referral-outcome and first-appointment keys a line sets (nothing for keys at their defaults)."""
    parts = []
    if line.treated_share < 1:
        parts.append(f"{line.treated_share:.0%} treated after assessment")
    booking = line.first_appointment_days
    if booking is not None:
        parts.append(f"first appointment {booking.mean:g} days (mean, {booking.dist}) after a place is allocated")
    if line.dropout_share > 0:
        parts.append(f"{line.dropout_share:.0%} of starters drop out")
    recovery = getattr(line, "recovery_share", None)
    if recovery is not None:
        parts.append(f"{recovery:.0%} of finished courses recover")
    return "".join(f", {part}" for part in parts)


def _growing(line: TalkingTherapies | Community, years: int) -> str:
    """The capacity's yearly growth and the places it reaches in the last contract year (nothing without it)."""
    growth = line.capacity.growth
    if not growth:
        return ""
    last = places_by_year(line, years)[-1]
    return f", growing {growth:+.1%}/yr from the second year ({last:,} places in year {years})"


def _demand(per_year: float, growth: float, what: str = "referrals") -> str:
    text = f"{per_year:,.0f} {what}/yr"
    if growth:
        text += f" ({growth:+.1%}/yr)"
    return text


# --- the summary table --------------------------------------------------------------------------------

_MONEY = (*finance.LEDGERS, "system_cost")


def unit(column: str) -> str:
    """Unit of a results column, as shown in the summary table."""
    last = column.rsplit(".", 1)[-1]
    if last in _MONEY:
        return "GBP"
    return MEASURE_UNITS.get(last, "")


def format_value(value: float | int | None, column_unit: str) -> str:
    """A number for the summary table: percentages for shares, GBP in millions, thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if column_unit == MEASURE_UNITS["occupancy_mean"]:
        return f"{100 * value:.1f} %"
    if column_unit == "GBP":
        return money(value)
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    return f"{value:.2f}"


def money(value: float) -> str:
    """GBP for display: ``£1.25m``, ``-£403,901``."""
    if math.isnan(value):
        return "-"
    sign = "-" if value < 0 else ""
    if abs(value) >= 1e6:
        return f"{sign}£{abs(value) / 1e6:,.2f}m"
    return f"{sign}£{abs(value):,.0f}"


def summary_table(
    scenario: Scenario, stats: dict[str, dict[str, float | int | None]], engine: str, reps: int, elapsed: float
) -> Table:
    month = MONTH_NAMES[scenario.start_month - 1]
    years = f"{scenario.years} year{'s' if scenario.years > 1 else ''}"
    title = f"{scenario.name}: {reps} x {years} from {month}, engine {engine}, seed {scenario.seed}, {elapsed:.1f} s"
    table = Table(
        title=title,
        title_justify="left",
        caption="totals over the counted horizon; *_mean rows are means; 5th/95th: percentiles over replications",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("measure", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for heading in ("mean", "sd", "5th", "95th"):
        table.add_column(heading, justify="right", no_wrap=True)
    section = None
    for column, values in stats.items():
        group, _, measure = column.partition(".")
        if group != section:
            table.add_row(Text(group, style="bold"))
            section = group
        u = unit(column)
        table.add_row(f"  {measure}", u, *(format_value(values[k], u) for k in ("mean", "sd", "p5", "p95")))
    return table


def money_table(ledgers: dict[str, finance.Ledger]) -> Table:
    """Every payment rule side by side: provider income, cost, surplus and its risk, commissioner spend."""
    risk = {row["rule"]: row for row in analysis.risk_table(ledgers)}
    table = Table(
        title="money over the counted horizon, every rule on the same replications (GBP)",
        title_justify="left",
        caption="P(deficit): share of replications with a surplus below 0; expected shortfall: mean of the "
        "worst 5 % of surpluses",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("", no_wrap=True)
    for rule in ledgers:
        table.add_column(rule, justify="right", no_wrap=True)

    def mean(name: str):
        return [money(float(ledger.total(name).mean())) for ledger in ledgers.values()]

    table.add_row("provider income, mean", *mean("provider_income"))
    table.add_row("provider cost, mean", *mean("provider_cost"))
    table.add_row("provider surplus, mean", *mean("provider_surplus"))
    table.add_row("surplus, 5th percentile", *(money(risk[r]["surplus_p5"]) for r in ledgers))
    table.add_row("expected shortfall", *(money(risk[r]["expected_shortfall"]) for r in ledgers))
    table.add_row("P(deficit) over the horizon", *(f"{risk[r]['p_deficit']:.0%}" for r in ledgers))
    table.add_row("P(deficit) in any year", *(f"{risk[r]['p_deficit_any_year']:.0%}" for r in ledgers))
    table.add_row("commissioner spend, mean", *mean("commissioner_spend"))
    table.add_row("commissioner spend, sd", *(money(risk[r]["spend_sd"]) for r in ledgers))
    return table


def comparison_table(result: Comparison, note: str = "") -> Table:
    """Paired differences OTHER - BASE with 95 % intervals, one row per results column."""
    title = (
        f"{result.other.name} - {result.base.name}: {result.reps} paired replications, seed {result.base.seed}{note}"
    )
    table = Table(
        title=title,
        title_justify="left",
        caption="difference = OTHER - BASE, replication by replication on the same random numbers; 95 % t interval",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("column", no_wrap=True)
    for heading in ("base", "other", "difference", "95 % interval"):
        table.add_column(heading, justify="right", no_wrap=True)
    for row in result.rows:
        u = unit(row["column"])
        value = partial(format_value, column_unit=u)
        interval = f"{value(row['ci_low'])} to {value(row['ci_high'])}"
        table.add_row(
            row["column"], value(row["mean_base"]), value(row["mean_other"]), value(row["mean_difference"]), interval
        )
    return table


def saving_table(result: Comparison) -> Table:
    """Per rule: the change in system cost and who captures it (GBP over the horizon, means)."""
    table = Table(
        title="who captures the saving in system cost (provider cost + OAP spend paid by the commissioner)",
        title_justify="left",
        caption="saving = BASE - OTHER system cost = provider's gain in surplus + commissioner's fall in spend",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for heading in ("rule", "saving", "to the provider", "to the commissioner", "provider's share"):
        table.add_column(heading, justify="right" if heading != "rule" else "left", no_wrap=True)
    for row in result.saving_split:
        share = row["provider_share"]
        table.add_row(
            row["rule"],
            money(row["saving"]),
            money(row["provider"]),
            money(row["commissioner"]),
            "-" if math.isnan(share) else f"{share:.0%}",
        )
    return table


def one_line(description: str) -> str:
    """A scenario's description as one line: its first sentence, or its start cut at 100 characters."""
    text = " ".join(description.split())
    if not text:
        return "(no description)"
    first = text.split(". ")[0].rstrip(".") + "."
    return first if len(first) <= 100 else first[:97].rstrip() + "..."
