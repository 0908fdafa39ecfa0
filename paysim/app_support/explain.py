"""Plain language for the app: the glossary, a worked example in £ per payment rule, the patient-flow diagram,
and how long a patient-by-patient run would take."""

from __future__ import annotations

import numpy as np

from paysim.app_support.common import LINE_LABELS, RULE_LABELS, money
from paysim.app_support.runs import Run
from paysim.model.fiscal import financial_year
from paysim.model.scenario import Scenario
from paysim.runs.footprint import duration, run_seconds

ENGINE_LABELS = {"vector": "Fast", "des": "Patient by patient (SimPy)"}
"""How each engine is named on screen."""

GLOSSARY = {
    "Block": "A fixed sum a year for the services, whatever the activity.",
    "Activity": "A price for each unit of care (a bed day, a contact, a course of therapy).",
    "Blended": "The 2019/20 design: a fixed sum on a planned level of activity, plus or minus a marginal rate "
    "for activity above or below it, an outcome element and a risk-share corridor.",
    "Capitation": "A rate per head of the population served, part of it withheld against outcomes.",
    "API": "Aligned payment and incentive, in force for mental health since 2022/23: a fixed payment agreed on "
    "planned activity and cost, and CQUIN.",
    "CQUIN": "Commissioning for Quality and Innovation: 1.25 % of API's fixed payment, paid in advance and clawed "
    "back for indicators not met.",
    "CIP": "Cost improvement programme: the savings a provider plans each year to meet the efficiency factor.",
    "MHIS": "Mental Health Investment Standard: the ICB's mental-health spend must grow at least as fast as its "
    "allocation.",
    "OAP": "Out-of-area placement: a patient sent to a bed elsewhere because every local bed is full.",
    "Baseline": "The planned activity a fixed payment is agreed on (under API, usually last year's outturn plus "
    "growth).",
    "Surplus": "The provider's income less its cost; a minus sign is a deficit.",
    "Commissioner spend": "What the ICB pays the provider, plus any OAP bed days it pays for directly.",
    "Replication (run)": "One simulation of the years with its own random patients; the results spread over "
    "the runs shows the risk.",
    "P50": "The median run: half the runs are better, half worse.",
    "Bad year": "A year as bad as 1 in 20 runs: the provider's 5th percentile surplus, the commissioner's 95th "
    "percentile spend.",
    "Expected shortfall": "The average of the worst 5 % of runs.",
    "2026/27, M1-M12, YTD": "Financial years April to March; M1 is April, M12 March; year to date adds the "
    "months from M1.",
}
"""Terms the page uses, explained in a line each."""

RULE_MECHANISMS = {
    "block": "The provider is paid a fixed sum; more patients cost it more and earn it nothing.",
    "activity": "The provider is paid a price for each unit of care, so income follows the work done.",
    "blended": "A fixed sum covers a planned level of activity; activity beyond a small band around the plan is "
    "paid (or refunded) at a marginal rate, and part of the payment rides on outcomes.",
    "capitation": "A rate per head of population; the provider keeps what it does not spend, and part is paid "
    "only for outcomes.",
    "api": "A fixed payment agreed on planned activity and cost, set from last year's outturn, plus CQUIN paid "
    "in advance and clawed back for indicators missed.",
}
"""How money moves under each rule, in a sentence."""

PART_LABELS = {
    "block": "block payment",
    "capitation": "capitation payment",
    "fixed": "fixed payment",
    "variable": "variable payment (activity off plan)",
    "outcome": "outcome payment",
    "risk_share": "risk share",
    "cquin": "CQUIN",
    "inpatient.bed_day": "bed days",
    "inpatient.oap_bed_day": "out-of-area bed days",
    "community.contact": "community contacts",
    "crisis.contact": "crisis contacts",
    "talking_therapies.course": "talking therapies courses",
}
"""Parts of a rule's income, in words."""


def part_label(name: str) -> str:
    """A part of a rule's income in words (:data:`PART_LABELS`, else the service line and the unit)."""
    if name in PART_LABELS:
        return PART_LABELS[name]
    line, _, unit = name.partition(".")
    return f"{LINE_LABELS.get(line, line)} {unit.replace('_', ' ')}s".strip()


def worked_example(run: Run, rule: str, unit: str = "£m") -> str:
    """A worked example of a rule in £: how money moves under it, then its first financial year in the mean
    run, income part by part, less the cost, giving the surplus (the parts add up to the income)."""
    ledger = run.ledgers[rule]
    year = financial_year(1, run.scenario.start_month)
    parts = [
        (part_label(name), float(np.mean(values[:, :12].sum(axis=1)))) for name, values in ledger.income_parts.items()
    ]
    income = float(np.mean(ledger.provider_income[:, :12].sum(axis=1)))
    cost = float(np.mean(ledger.provider_cost[:, :12].sum(axis=1)))
    terms = " + ".join(f"{label} {money(value, unit)}" for label, value in parts if abs(value) >= 0.5)
    return (
        f"**{RULE_LABELS[rule]}.** {RULE_MECHANISMS[rule]} In {year}, on average over the runs: "
        f"{terms or 'no income'} = income **{money(income, unit)}**; less cost {money(cost, unit)} = surplus "
        f"**{money(income - cost, unit)}**."
    )


FLOW_DIAGRAM = """digraph flow {
  rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#eef2f8", fontname="sans-serif", fontsize=11];
  edge [fontname="sans-serif", fontsize=9];
  referrals [label="Referrals\\n(grow each year, peak in winter)", fillcolor="#ffffff"];
  tt [label="Talking therapies\\n(courses; some drop out)"];
  community [label="Community mental health\\n(caseloads, a waiting list)"];
  crisis [label="Crisis team\\n(home treatment)"];
  ward [label="Adult acute beds"];
  oap [label="Out-of-area placement\\n(a bed elsewhere, paid per day)", fillcolor="#fde8e4"];
  money [label="Costs and the payment rule\\n-> provider surplus, commissioner spend", shape=note, fillcolor="#fff7e0"];
  referrals -> tt; referrals -> community; referrals -> crisis; referrals -> ward [label="police, courts"];
  crisis -> ward [label="admitted"]; ward -> oap [label="every bed full"]; ward -> community [label="discharged"];
  {tt community crisis ward oap} -> money [style=dashed, color="#888888"];
}"""
"""The patient flow the model simulates, as Graphviz DOT (``st.graphviz_chart``)."""


def engine_estimate(scenario: Scenario, reps: int, engine: str) -> str:
    """What a run on the chosen engine takes: an estimate of a patient-by-patient (SimPy) run of ``reps``
    replications (:func:`paysim.runs.footprint.run_seconds`), and how to stop it."""
    simpy = duration(run_seconds(scenario, reps, "des"))
    if engine == "des":
        return (
            f"A patient-by-patient run of {reps:,} replications takes about **{simpy}**. It runs in pieces: "
            "**Cancel the run** (above the results) stops it after the piece in hand."
        )
    return (
        f"The fast engine gives the same results; a patient-by-patient run of {reps:,} replications would take "
        f"about {simpy}."
    )
