"""Regenerate the README's figures from the commands that make them, or check that they still hold.

    .venv/bin/python docs/readme_figures.py           # rewrite every block in README.md
    .venv/bin/python docs/readme_figures.py --check   # exit 1 and name the blocks that differ (tests/test_readme.py)

A block sits between ``<!-- figures: NAME -->`` and ``<!-- /figures -->`` in README.md. Each is the output of
paysim commands on bundled scenarios with their own seeds, so it is the same on every machine; a command whose
output carries a time is not used here.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from paysim.analysis.realism import realism
from paysim.calibrate import Calibration, calibrate
from paysim.calibrate.backtest import holdout_backtest, save_chart
from paysim.calibrate.writer import write_scenario
from paysim.cli import app
from paysim.cli.realism import simulated
from paysim.model.scenario import bundled_scenarios, load_scenario, places_by_year
from paysim.model.uncertainty import central
from paysim.money import finance
from paysim.money.costs import provider_costs
from paysim.runs.runner import RunSettings, simulate

README = Path(__file__).resolve().parents[1] / "README.md"
WIDTH = "120"
"""Terminal width the text blocks are printed at."""


def command(line: str, keep_from: str | None = None) -> Callable[[], str]:
    """A block: ``$ paysim ...`` and what it prints (from the line starting ``keep_from``, if given)."""

    def run() -> str:
        result = CliRunner().invoke(app, line.split()[1:], env={"COLUMNS": WIDTH, "NO_COLOR": "1"})
        if result.exit_code != 0:
            raise RuntimeError(f"{line}: exit status {result.exit_code}\n{result.output}")
        lines = [text.rstrip() for text in result.stdout.splitlines()]
        if keep_from is not None:
            start = next(i for i, text in enumerate(lines) if text.strip().startswith(keep_from))
            lines = lines[start:]
        while lines and not lines[-1]:
            lines.pop()
        return "```text\n$ " + line + "\n" + "\n".join(lines) + "\n```"

    return run


def refused(*lines: str) -> Callable[[], str]:
    """A block: ``$ paysim ...`` commands that bad input stops (exit status 2), each with the message it prints,
    run from the repository's root so the file is named as the command names it."""

    def run() -> str:
        shown = []
        here = Path.cwd()
        os.chdir(README.parent)
        try:
            for line in lines:
                result = CliRunner().invoke(app, line.split()[1:], env={"COLUMNS": WIDTH, "NO_COLOR": "1"})
                if result.exit_code != 2:
                    raise RuntimeError(f"{line}: exit status {result.exit_code}, not 2\n{result.output}")
                shown += ["$ " + line, result.stderr.rstrip()]
        finally:
            os.chdir(here)
        return "```text\n" + "\n".join(shown) + "\n```"

    return run


def markdown(line: str) -> Callable[[], str]:
    """A block: the Markdown a ``paysim ... --markdown`` command prints, under the command."""

    def run() -> str:
        result = CliRunner().invoke(app, line.split()[1:], env={"COLUMNS": WIDTH})
        if result.exit_code != 0:
            raise RuntimeError(f"{line}: exit status {result.exit_code}\n{result.output}")
        return f"`{line}`:\n\n" + result.stdout.strip()

    return run


LIBRARY_FIGURES = {
    "oap_started": "OAPs started",
    "oap_bed_days": "OAP bed days",
    "occupancy": "occupancy",
    "tt_6_weeks": "talking therapies within 6 weeks",
    "community_4_weeks": "community within 4 weeks",
    "block_margin": "block surplus / income",
}


def library(reps: int = 100) -> str:
    """Every bundled scenario's first year on the figures that tell them apart (central values)."""
    header = "| scenario | " + " | ".join(LIBRARY_FIGURES.values()) + " |"
    rows = [header, "| --- |" + " ---: |" * len(LIBRARY_FIGURES)]
    for name, path in bundled_scenarios().items():
        scenario = central(load_scenario(path))
        activity = simulate(scenario, RunSettings(reps=reps, uncertainty=False))
        checks = {c.name: c for c in realism(scenario, activity, finance.ledgers(scenario, activity))}
        cells = [simulated(checks[key]) if key in checks else "-" for key in LIBRARY_FIGURES]
        rows.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return (
        f"First contract year, {reps} replications at central values of each (`docs/readme_figures.py`):\n\n"
        + "\n".join(rows)
    )


def capacity_growth(reps: int = 100) -> str:
    """The default trust's community team with its capacity growing 0, 3 and 5 % a year: waits and pay by year."""
    header = (
        "| `services.community.capacity.growth` | places by year | within 4 weeks, years 1-3 | mean wait (days) "
        "| community pay bill (£m) |"
    )
    rows = [header, "| --- | --- | --- | --- | --- |"]
    base = central(load_scenario(bundled_scenarios()["default"]))
    for growth in (0.0, 0.03, 0.05):
        scenario = base.with_overrides({"services.community.capacity.growth": growth})
        activity = simulate(scenario, RunSettings(reps=reps, uncertainty=False))
        started = activity.yearly("community.started").sum(axis=0)
        within = activity.yearly("community.started_within_standard").sum(axis=0) / started
        waited = np.nan_to_num(activity["community.wait_days_mean"]) * activity["community.started"]
        wait = waited.reshape(reps, -1, 12).sum(axis=2).sum(axis=0) / started
        pay = provider_costs(scenario, activity).parts["community.staff"].reshape(reps, -1, 12).sum(axis=2)[0]
        places = places_by_year(scenario.services.community, scenario.years)
        shown = "as in the file" if growth == base.services.community.capacity.growth else ""
        rows.append(
            f"| {growth:g}{f' ({shown})' if shown else ''} | {', '.join(f'{p:,}' for p in places)} | "
            f"{', '.join(f'{w:.1%}' for w in within)} | {', '.join(f'{w:.0f}' for w in wait)} | "
            f"{', '.join(f'{p / 1e6:.2f}' for p in pay)} |"
        )
    return (
        f"The default trust's community team, central values, {reps} replications (`docs/readme_figures.py`):\n\n"
        + "\n".join(rows)
    )


ROOT = README.parent
SAMPLE = "data/sample-trust.csv"
CALIBRATION_CHART = ROOT / "docs" / "calibration-backtest.png"
WRITE_CHART = True
"""Whether making the calibrate-sample block writes :data:`CALIBRATION_CHART` too (not under ``--check``)."""
SHOWN_KEYS = (
    "services.talking_therapies.referrals_per_year",
    "services.talking_therapies.growth",
    "services.talking_therapies.seasonality.amplitude",
    "services.talking_therapies.treated_share",
    "services.talking_therapies.capacity.courses",
    "services.community.referrals_per_year",
    "services.community.growth",
    "services.community.seasonality.peak_month",
    "services.community.episode_days.mean",
    "services.crisis.referrals_per_year",
    "services.crisis.admission_share",
    "services.inpatient.admissions_per_year",
    "services.inpatient.beds",
    "services.inpatient.los_days.mean",
    "services.inpatient.los_days.sd",
    "services.inpatient.readmission_share",
    "services.inpatient.oap.wait_days",
)


@lru_cache(maxsize=1)
def _truth() -> dict:
    """The sample trust's planted scenario (data/sample-trust-truth.yaml over the default), dumped."""
    return load_scenario(ROOT / "data" / "sample-trust-truth.yaml").model_dump(mode="json")


@lru_cache(maxsize=1)
def sample_fit() -> Calibration:
    """The default calibrated on the sample trust, named as ``paysim calibrate ... --out our-trust.yaml`` names it:
    made once for the two blocks that show it (the name changes only the scenario written)."""
    return calibrate(ROOT / SAMPLE, "default", name="our-trust")


def _planted(key: str) -> object:
    """The sample trust's planted value of a key (data/sample-trust-truth.yaml over the default)."""
    node = _truth()
    for part in key.split("."):
        node = node[part]
    return node


def _cell(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if value != value:
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def calibration_fit() -> str:
    """The sample trust's fitted values (at the data's first month) beside the planted ones and the default's,
    the hold-out back-test's coverage, and its chart saved to docs/calibration-backtest.png (when
    :data:`WRITE_CHART`)."""
    fit = sample_fit()
    rows = ["| key | planted | fitted | se | default | how |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for key in SHOWN_KEYS:
        e = fit.estimate(key)
        rows.append(
            f"| `{key}` | {_cell(_planted(key))} | {_cell(e.value)} | {_cell(e.se)} | {_cell(e.base)} | {e.method} |"
        )
    _, result = holdout_backtest(fit.data, "default", holdout=12, reps=200)
    if WRITE_CHART:
        save_chart(result, CALIBRATION_CHART, scale=1.0)
    worst = sorted(result.coverage().items(), key=lambda kv: kv[1]["inside_90"])[:3]
    lowest = ", ".join(f"`{m}` {c['inside_90']:.0%}" for m, c in worst)
    return (
        f"Rates at the data's first month (April 2022), {fit.reps} replications for the simulated fits "
        "(`docs/readme_figures.py`):\n\n" + "\n".join(rows) + "\n\n"
        f"Hold-out back-test (fitted on the first 24 months, checked on the last 12, {result.reps} replications): "
        f"{result.overall():.0%} of the held-out observed months lie inside the simulated 90 % band over "
        f"{len(result.coverage())} measures; the lowest are {lowest}."
    )


def calibration_money() -> str:
    """paysim run on the calibrated sample trust: the money table."""
    fit = sample_fit()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "our-trust.yaml"
        write_scenario(fit, path)
        text = command(f"paysim run {path} --reps 200 --engine vector", keep_from="money over")()
    return text.replace(str(path), "our-trust.yaml")


BLOCKS: dict[str, Callable[[], str]] = {
    "capacity-growth": capacity_growth,
    "calibrate-sample": calibration_fit,
    "calibrate-money": calibration_money,
    "realism-default": markdown("paysim realism default --reps 200 --markdown"),
    "realism-library": library,
    "compare-integrated-care": command(
        "paysim compare default integrated-care --reps 50 --set years=1", keep_from="rule "
    ),
    "refused-validate": refused("paysim validate scenarios/default.yaml --set services.inpatient.beds=-5"),
    "refused-limits": refused(
        "paysim run scenarios/default.yaml --set services.inpatient.beds=1e12",
        "paysim run scenarios/default.yaml --set services.talking_therapies.referrals_per_year=.inf",
        "paysim run scenarios/default.yaml --set services.inpatient.beds=true",
    ),
    "sensitivity-default": command(
        "paysim sensitivity default --measure block.provider_surplus --reps 20 --set years=1"
    ),
    "design-default": command(
        "paysim design default --goal p-deficit --term contracts.block.annual_value --reps 200 --set years=1"
    ),
}
"""Each README block and how it is made."""

MARKER = re.compile(r"(<!-- figures: (?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /figures -->)", re.DOTALL)
"""A block: its opening marker, its body (empty, or ending in a newline) and its closing marker."""


def blocks_in(text: str) -> dict[str, str]:
    """The README's blocks by name, as they stand."""
    return {m.group("name"): m.group("body") for m in MARKER.finditer(text)}


def rewrite(text: str, made: dict[str, str]) -> str:
    """``text`` with every block replaced by what was made for it."""
    return MARKER.sub(lambda m: m.group(1) + made[m.group("name")] + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a block differs")
    parser.add_argument("names", nargs="*", help="blocks to make (default: all)")
    args = parser.parse_args(argv)
    global WRITE_CHART
    WRITE_CHART = not args.check  # a check leaves the repository as it was
    text = README.read_text(encoding="utf-8")
    present = blocks_in(text)
    unknown = set(present) - set(BLOCKS)
    if unknown:
        print(f"README.md has blocks this script cannot make: {sorted(unknown)}", file=sys.stderr)
        return 2
    names = args.names or list(present)
    made = {name: BLOCKS[name]() + "\n" if name in names else body for name, body in present.items()}
    if args.check:
        differ = [name for name in names if made[name] != present[name]]
        for name in differ:
            print(f"README.md block {name!r} differs from what docs/readme_figures.py makes", file=sys.stderr)
        return 1 if differ else 0
    README.write_text(rewrite(text, made), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("COLUMNS", WIDTH)
    sys.exit(main())
