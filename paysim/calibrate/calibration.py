"""A trust's monthly history -> a calibrated scenario: the fits, in order, and what they leave alone.

:func:`calibrate` runs every fit the data allow, in this order (later fits use the earlier ones' values):

1. demand of each referral line (``<line>.referrals``): rate, growth and seasonality (:mod:`.demand_fit`);
2. shares: crisis-to-bed conversion (``crisis.admissions`` / ``crisis.referrals``), readmissions per discharge,
   ``treated_share``, ``dropout_share``, ``recovery_share`` (:mod:`.flows`);
3. length of stay by Little's law, and its spread from the OAP length split (:mod:`.flows`);
4. the ward's direct bed requests (``inpatient.bed_requests`` less readmissions and crisis admissions) on the
   demand curve; without ``crisis.admissions`` but with ``crisis.referrals``, the crisis-to-bed share is fitted
   jointly as the share of crisis referrals among the bed requests;
5. beds from occupancy, and each line's episode length from its caseload (Little's law);
6. by simulation on common random numbers (:mod:`.roots`): each line's capacity from its waiting list, the OAP
   placement policy's ``wait_days`` from OAP starts (and ``repatriate_after_days`` from OAP days with
   repatriation on); ``repatriate`` itself from whether any repatriations are recorded;
7. from an OAP return: the recorded daily cost of a placement (``costs.beds.oap_per_bed_day``).

Every key not fitted keeps the base scenario's value; :attr:`Calibration.kept` says why for each part of the
trust. The fitted scenario starts the month after the data (or at ``start``), with the demand rates projected to
then along their fitted growth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paysim.activity import OAP_LENGTH_BANDS
from paysim.calibrate import demand_fit, flows, roots
from paysim.calibrate.estimate import Estimate, Group, correlation_list, rounded
from paysim.calibrate.monthly import (
    DataError,
    MonthlyData,
    days_between,
    month_after,
    months_between,
    read_monthly,
)
from paysim.calibrate.oap_return import OapReturn, read_oap_return
from paysim.calibrate.writer import scenario_yaml
from paysim.engines.reuse import LineCache
from paysim.model.lines import TREATMENT_LINES
from paysim.model.scenario import (
    LINES,
    Scenario,
    ScenarioError,
    apply_overrides,
    bundled_scenarios,
    load_scenario,
    scenario_from_dict,
)
from paysim.model.uncertainty import central

DEMAND_KEYS = {
    "talking_therapies": "referrals_per_year",
    "community": "referrals_per_year",
    "crisis": "referrals_per_year",
    "inpatient": "admissions_per_year",
}
"""The yearly-volume key of each line."""
CAPACITY_KEYS = {
    "talking_therapies": ("services.talking_therapies.capacity.courses", True),
    "crisis": ("services.crisis.capacity.places", True),
    "community": ("services.community.capacity.caseload_per_wte", False),
}
"""The capacity key solved from each line's waiting list (or caseload), and whether it is a whole number."""
FULL_MONTHS = 0.9
"""A line with a waiting list in at least this share of months is always full: its capacity is solved from its mean
caseload (the places in use), else from its mean waiting list."""


@dataclass
class Calibration:
    """What :func:`calibrate` found.

    Attributes
    ----------
    base:
        The base scenario.
    data:
        The monthly table fitted to (with an OAP return's measures merged in).
    start:
        First month of the calibrated scenario, ``YYYY-MM``.
    estimates:
        Fitted values at the data's first month (demand rates at that month), in the order fitted.
    groups:
        Estimates fitted together, with their covariance (demand curves).
    demand:
        The demand fit of each line fitted, ``{line: DemandFit}``.
    kept:
        ``(part of the trust, why its keys keep the base's values)``.
    notes:
        Further remarks (tests, bounds reached, assumptions).
    oap:
        The OAP return read, if any.
    reps:
        Replications each simulated fit used.
    """

    base: Scenario
    data: MonthlyData
    start: str
    name: str
    estimates: list[Estimate] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    demand: dict[str, demand_fit.DemandFit] = field(default_factory=dict)
    kept: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reps: int = roots.DEFAULT_REPS
    oap: OapReturn | None = None

    # --- the fitted values ------------------------------------------------------------------------------

    def estimate(self, key: str) -> Estimate | None:
        return next((e for e in self.estimates if e.key == key), None)

    def values_at(self, month: str) -> tuple[list[Estimate], list[Group]]:
        """The estimates with demand rates projected to the first day of ``month`` (delta-method standard errors
        and covariances), and the groups re-expressed for them."""
        days = days_between(self.data.first, month)
        out, groups = [], []
        for estimate in self.estimates:
            line = _demand_line(estimate.key)
            if line is not None and line in self.demand:
                value, cov = self.demand[line].projected(days)
                se = math.sqrt(max(cov[0, 0], 0.0)) if np.isfinite(cov[0, 0]) else float("nan")
                out.append(estimate.with_value(rounded(value, 6), se))
            else:
                out.append(estimate)
        for line, fit in self.demand.items():
            _, cov = fit.projected(days)
            keys = tuple(_fit_key(line, name) for name in fit.names)
            groups.append(Group(keys, cov))
        return out, groups

    def scenario_at(self, month: str, years: int | None = None, uncertain: bool = True) -> Scenario:
        """The calibrated scenario starting on the first day of ``month`` (``years`` long: default the base's),
        with an ``uncertain:`` block from the fit when ``uncertain``."""
        estimates, groups = self.values_at(month)
        model, block = self._pinned_model(month, years)
        if not uncertain:
            return model
        return _with_uncertain(model, block, estimates, groups)[0]

    def _pinned_model(self, month: str, years: int | None) -> tuple[Scenario, dict[str, Any]]:
        """The central calibrated scenario starting in ``month``, and the base's ``uncertain:`` block without the
        fitted keys (pinned)."""
        estimates, _ = self.values_at(month)
        data = self.base.model_dump(mode="json", exclude_none=True)
        data["name"] = self.name
        data["start_month"] = int(month[5:7])
        if years is not None:
            data["years"] = years
        data["description"] = (
            f"{self.base.name} calibrated by paysim calibrate to {self.data.source}, {self.data.span()}; starts {month}"
        )
        pinned = _pinned(data, {e.key: _plain(e.value) for e in estimates})
        block = pinned.pop("uncertain", None) or {}
        return scenario_from_dict(pinned, source=f"calibrated scenario {self.name!r}"), block

    def dropped_uncertain(self) -> list[str]:
        """Uncertain keys of the base (or fit) left out of the calibrated scenario's ``uncertain:`` block, because
        their range is no longer valid beside the fitted values."""
        estimates, groups = self.values_at(self.start)
        model, block = self._pinned_model(self.start, None)
        return _with_uncertain(model, block, estimates, groups)[1]

    @property
    def scenario(self) -> Scenario:
        """The calibrated scenario, starting at :attr:`start`."""
        return self.scenario_at(self.start)

    def yaml(self) -> str:
        """The calibrated scenario as commented YAML (:func:`paysim.calibrate.writer.scenario_yaml`)."""
        return scenario_yaml(self)

    def rows(self) -> list[dict[str, Any]]:
        """One row per fitted key at the calibrated start: key, base, fitted, se, method, source."""
        estimates, _ = self.values_at(self.start)
        return [
            {
                "key": e.key,
                "base": e.base,
                "fitted": _plain(e.value),
                "se": e.se,
                "method": e.method,
                "source": e.source,
            }
            for e in estimates
        ]


def _plain(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    return float(value)


def _pinned(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    return apply_overrides(data, overrides, source="calibration")


def _with_uncertain(
    model: Scenario, block: dict[str, Any], estimates: Sequence[Estimate], groups: Sequence[Group]
) -> tuple[Scenario, list[str]]:
    """``model`` with the fitted estimates' distributions added to its ``uncertain:`` block, and the keys whose
    distribution had to be left out.

    The base's uncertain keys that were not fitted stay (fitted keys were pinned, so the base's distributions of
    them are gone), unless a fitted value makes their range invalid (a base range of
    ``admission_share_when_full`` below a fitted ``admission_share``): those are left out, and named.
    """
    data = model.model_dump(mode="json", exclude_none=True)
    parameters = dict(block.get("parameters", {}))
    for estimate in estimates:
        if estimate.uncertain:
            parameters[estimate.key] = estimate.distribution()
    if not parameters:
        return model, []
    fitted = [e.key for e in estimates if e.uncertain]
    correlations = list(block.get("correlations", [])) + correlation_list(groups, fitted)
    data["uncertain"] = {"parameters": parameters, "correlations": correlations}
    try:
        return scenario_from_dict(data, source=f"calibrated scenario {model.name!r}"), []
    except ScenarioError:
        pass
    kept: dict[str, Any] = {}
    dropped = []
    for key, spec in parameters.items():
        trial = dict(data, uncertain={"parameters": {key: spec}, "correlations": []})
        try:
            scenario_from_dict(trial, source="check")
            kept[key] = spec
        except ScenarioError:
            dropped.append(key)
    data["uncertain"] = {
        "parameters": kept,
        "correlations": [c for c in correlations if all(k in kept for k in c["between"])],
    }
    if not kept:
        del data["uncertain"]
    return scenario_from_dict(data, source=f"calibrated scenario {model.name!r}"), dropped


def _demand_line(key: str) -> str | None:
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "services" and parts[2] == DEMAND_KEYS.get(parts[1]):
        return parts[1]
    return None


def _fit_key(line: str, name: str) -> str:
    return {
        "per_year": f"services.{line}.{DEMAND_KEYS[line]}",
        "growth": f"services.{line}.growth",
        "amplitude": f"services.{line}.seasonality.amplitude",
        "share": "services.crisis.admission_share",
    }[name]


# --- the entry point ----------------------------------------------------------------------------------


def calibrate(
    data: str | Path | MonthlyData | None = None,
    base: str | Path | Scenario = "default",
    *,
    oap_return: Sequence[str | Path] = (),
    provider: str | None = None,
    start: str | None = None,
    seasonal: bool = True,
    reps: int = roots.DEFAULT_REPS,
    name: str | None = None,
) -> Calibration:
    """Calibrate a scenario to a trust's monthly figures and/or its OAP return.

    Parameters
    ----------
    data:
        The monthly table (a file, see :mod:`paysim.calibrate.monthly`, or a :class:`MonthlyData`); may be None
        when ``oap_return`` is given.
    base:
        The scenario whose other values are kept: a file, a bundled scenario's name, or a Scenario.
    oap_return:
        Published NHS Digital OAP files (one month each) and ``provider``, the sending provider's code.
    start:
        First month ``YYYY-MM`` of the calibrated scenario (default: the month after the data).
    seasonal:
        Fit seasonality (needs 12 or more months); False keeps the base's.
    reps:
        Replications each simulated fit uses.
    name:
        The calibrated scenario's name (default ``<base>-calibrated``).

    Raises
    ------
    DataError
        Bad data (naming the row and column), or too few months for what is asked.
    ScenarioError
        A bad base scenario.
    """
    model = _base(base)
    table, oap = _table(data, oap_return, provider)
    if reps < 2:
        raise DataError(f"--reps: the simulated fits need at least 2 replications, got {reps}")
    if start is not None:
        if not (len(start) == 7 and start[4] == "-" and start[:4].isdigit() and start[5:].isdigit()) or not (
            1 <= int(start[5:]) <= 12
        ):
            raise DataError(f"--start: a month is written YYYY-MM (e.g. 2025-04), got {start!r}")
        if months_between(table.first, start) < 0:
            raise DataError(f"--start {start}: is before the data's first month ({table.first})")
    has_demand = any(f"{line}.referrals" in table for line in LINES) or "inpatient.bed_requests" in table
    if has_demand and table.n_months < demand_fit.MIN_MONTHS:
        raise DataError(
            f"{table.source}: {table.n_months} month(s) of referrals or bed requests; a rate and its growth need at "
            f"least {demand_fit.MIN_MONTHS}"
        )
    if has_demand and seasonal and table.n_months < demand_fit.MIN_SEASONAL_MONTHS:
        raise DataError(
            f"{table.source}: {table.n_months} months ({table.span()}); a seasonal fit needs at least "
            f"{demand_fit.MIN_SEASONAL_MONTHS}, one of each calendar month. With {table.n_months} months paysim can "
            "fit each line's referral rate and growth (seasonality kept from the base: --no-seasonality), lengths "
            "of stay, shares, capacity and the OAP policy"
        )
    calibration = Calibration(
        base=model,
        data=table,
        start=start or month_after(table.last),
        name=name or f"{model.name}-calibrated",
        reps=reps,
        oap=oap,
    )
    _Fitter(calibration, seasonal).run()
    for key in calibration.dropped_uncertain():
        calibration.notes.append(
            f"uncertain.parameters.{key}: its distribution reaches values not valid beside the fitted ones; left out"
        )
    return calibration


def _base(base: str | Path | Scenario) -> Scenario:
    if isinstance(base, Scenario):
        return base
    path = Path(base)
    if not path.exists() and str(base) in bundled_scenarios():
        path = bundled_scenarios()[str(base)]
    return load_scenario(path)


def _table(
    data: str | Path | MonthlyData | None, oap_return: Sequence[str | Path], provider: str | None
) -> tuple[MonthlyData, OapReturn | None]:
    table, oap_figures = None, None
    if data is not None:
        table = data if isinstance(data, MonthlyData) else read_monthly(data)
    if oap_return:
        if provider is None:
            raise DataError("--provider: give the sending provider's code with --oap-return, e.g. --provider RW1")
        oap_figures = read_oap_return(oap_return, provider)
        oap = oap_figures.measures()
        table = oap if table is None else merge(table, oap)
    elif provider is not None:
        raise DataError("--provider: only with --oap-return FILE ...")
    if table is None:
        raise DataError("give a monthly table (DATA), or --oap-return FILE ... --provider CODE, or both")
    return table, oap_figures


def merge(table: MonthlyData, oap: MonthlyData) -> MonthlyData:
    """The monthly table with an OAP return's measures added for the months it covers.

    Raises
    ------
    DataError
        If the return's months are not among the table's, or a measure is in both.
    """
    if oap.first not in table.months or oap.last not in table.months:
        raise DataError(
            f"{oap.source}: covers {oap.span()}, not inside the monthly table's months ({table.span()}); fit them "
            "apart, or give the return's months in the table"
        )
    both = sorted(set(oap.values) & set(table.values))
    if both:
        raise DataError(f"{oap.source}: {both[0]} is also in {table.source}; give each measure once")
    offset = table.months.index(oap.first)
    values = dict(table.values)
    for name, series in oap.values.items():
        full = np.full(table.n_months, np.nan)
        full[offset : offset + len(series)] = series
        values[name] = full
    return MonthlyData(table.months, values, f"{table.source} and {oap.source}")


# --- the fits -----------------------------------------------------------------------------------------


class _Fitter:
    """Runs the fits in order on a :class:`Calibration` (see the module docstring)."""

    def __init__(self, calibration: Calibration, seasonal: bool) -> None:
        self.c = calibration
        self.seasonal = seasonal
        self.data = calibration.data
        self.base = central(calibration.base)
        self.days = self.data.month_days()
        self.first = self.data.first_calendar_month
        self.lines = LineCache()  # shared by the fit's simulators: a trial re-simulates only the lines it reaches

    # helpers

    def add(
        self, key: str, value: Any, se: float, source: str, method: str, carrier: str = "normal", **kw: Any
    ) -> None:
        """Record an estimate (replacing an earlier one of the same key: a value fitted again)."""
        if isinstance(value, float):
            value = rounded(value, 5)
        self.c.estimates[:] = [e for e in self.c.estimates if e.key != key]
        self.c.estimates.append(Estimate(key, value, se, _value_of(self.base, key), source, method, carrier, **kw))  # type: ignore[arg-type]

    def fitted(self, key: str) -> Any:
        """The value fitted so far, else the base's."""
        estimate = self.c.estimate(key)
        return estimate.value if estimate is not None else _value_of(self.base, key)

    def given(self, *names: str) -> bool:
        return all(n in self.data and np.isfinite(self.data[n]).any() for n in names)

    def src(self, *names: str) -> str:
        return f"{' and '.join(names)} {self.data.span()} ({self.data.source})"

    def keep(self, part: str, why: str) -> None:
        self.c.kept[:] = [k for k in self.c.kept if k[0] != part]
        self.c.kept.append((part, why))

    def current(self, months: int | None = None) -> Scenario:
        """The scenario at the data's start with every value fitted so far, central, over the data's months."""
        years = math.ceil((months or self.data.n_months) / 12)
        data = self.base.model_dump(mode="json", exclude_none=True)
        data["start_month"] = self.first
        data["years"] = years
        return scenario_from_dict(
            _pinned(data, {e.key: _plain(e.value) for e in self.c.estimates}), source="calibration"
        )

    def simulator(self) -> roots.Simulator:
        """The data's months simulated at :meth:`current` on common random numbers, taking the lines a trial does
        not reach from the ones this fit has simulated already (:attr:`lines`)."""
        return roots.Simulator(self.current(), self.data.n_months, self.c.reps, self.lines)

    # order of work

    def run(self) -> None:
        for line in LINES:
            self.line_demand(line)
        self.shares()
        self.stays()
        self.ward_demand()
        self.beds()
        for line in LINES:
            self.episodes(line)
        for line in LINES:
            self.capacity(line)
        self.oap_policy()
        self.oap_cost()
        for line in (*LINES, "inpatient"):
            if getattr(self.base.services, line) is None:
                continue
            fitted = [e for e in self.c.estimates if e.key.startswith(f"services.{line}.")]
            if not fitted and not any(part == f"services.{line}" for part, _ in self.c.kept):
                self.keep(f"services.{line}", "no measure of this line in the data: every value kept from the base")
        unused = [m for m in self.data.values if getattr(self.base.services, m.split(".")[0], None) is None]
        for measure in unused:
            self.c.notes.append(f"{measure}: the base scenario has no {measure.split('.')[0]} line; not used")

    def line_demand(self, line: str) -> None:
        model = getattr(self.base.services, line)
        measure = f"{line}.referrals"
        if model is None:
            return
        if not self.given(measure):
            self.keep(
                f"services.{line} demand", f"no {measure}: referral rate, growth and seasonality kept from the base"
            )
            return
        offset, used = self.stepdowns() if line == "community" else (None, [])
        self.demand(line, self.data[measure], (measure, *used), offset=offset)

    def stepdowns(self) -> tuple[np.ndarray | None, list[str]]:
        """Community referrals that are the ward's step-downs (every discharge, when there is a ward): the
        measure given, else discharges, else bed requests (a month's requests stand in for its discharges)."""
        if self.base.services.inpatient is None:
            return None, []
        for measure in ("community.stepdowns", "inpatient.discharges", "inpatient.bed_requests"):
            if self.given(measure):
                if measure == "inpatient.bed_requests":
                    self.c.notes.append("community: step-downs taken as the month's bed requests (no discharges given)")
                return np.nan_to_num(self.data[measure]), [measure]
        ward = self.base.services.inpatient
        crisis = self.base.services.crisis
        per_year = ward.admissions_per_year * (1 + ward.readmission_share)
        if crisis is not None:
            per_year += crisis.referrals_per_year * crisis.admission_share
        self.c.notes.append(
            "community: no step-downs, discharges or bed requests given; the ward's step-downs taken from the base "
            f"(about {per_year:,.0f} a year)"
        )
        return per_year / 365.0 * self.days, []

    def demand(
        self,
        line: str,
        counts: np.ndarray,
        measures: Iterable[str],
        offset: np.ndarray | None = None,
        covariate: np.ndarray | None = None,
    ) -> demand_fit.DemandFit:
        model = getattr(self.base.services, line)
        fit = demand_fit.fit_demand(
            counts,
            self.first,
            seasonal=self.seasonal,
            amplitude=model.seasonality.amplitude,
            peak_month=model.seasonality.peak_month,
            offset=offset,
            covariate=covariate,
        )
        self.c.demand[line] = fit
        source = self.src(*measures)
        family = f"{fit.family} regression on the demand curve"
        prefix = f"services.{line}"
        self.add(f"{prefix}.{DEMAND_KEYS[line]}", fit.per_year, fit.se("per_year"), source, family, "positive")
        self.add(f"{prefix}.growth", fit.growth, fit.se("growth"), source, family, "normal", low=-0.5, high=1.0)
        if self.seasonal:
            self.add(f"{prefix}.seasonality.amplitude", fit.amplitude, fit.se("amplitude"), source, family, "share")
            self.add(
                f"{prefix}.seasonality.peak_month",
                fit.peak_month,
                float("nan"),
                source,
                "peak month of highest likelihood",
                "none",
            )
        else:
            self.keep(f"{prefix}.seasonality", "--no-seasonality: the base's seasonal swing kept")
        if fit.family != "poisson":
            self.c.notes.append(
                f"{line}: monthly counts are overdispersed (test p = {fit.overdispersion_p:.3g}, alpha "
                f"{fit.alpha:.3g}); fitted as negative binomial, so its standard errors are wider; the simulation "
                "draws Poisson arrivals around the fitted curve"
            )
        return fit

    def shares(self) -> None:
        s = self.base.services
        if s.crisis is not None and s.inpatient is not None and self.given("crisis.admissions", "crisis.referrals"):
            r = flows.share(self.data["crisis.admissions"], self.data["crisis.referrals"])
            self.add(
                "services.crisis.admission_share",
                rounded(r.value),
                r.se,
                self.src("crisis.admissions", "crisis.referrals"),
                "share of crisis referrals needing a bed",
                "share",
            )
            if s.crisis.admission_share_when_full is not None and s.crisis.admission_share_when_full < r.value:
                self.add(
                    "services.crisis.admission_share_when_full",
                    rounded(r.value),
                    float("nan"),
                    self.src("crisis.admissions"),
                    "raised to the fitted admission share",
                    "none",
                )
        if s.inpatient is not None and self.given("inpatient.readmissions"):
            trials = "inpatient.discharges" if self.given("inpatient.discharges") else "inpatient.bed_requests"
            if self.given(trials):
                r = flows.share(self.data["inpatient.readmissions"], self.data[trials])
                method = (
                    "readmissions per discharge"
                    if trials == "inpatient.discharges"
                    else ("readmissions per bed request (standing in for discharges)")
                )
                self.add(
                    "services.inpatient.readmission_share",
                    rounded(r.value),
                    r.se,
                    self.src("inpatient.readmissions", trials),
                    method,
                    "share",
                )
        for line in TREATMENT_LINES:
            if getattr(s, line) is None:
                continue
            prefix = f"services.{line}"
            if self.given(f"{line}.assessed_only", f"{line}.referrals"):
                external = self.data[f"{line}.referrals"]
                if line == "community":
                    stepdowns, _ = self.stepdowns()
                    external = external - (0 if stepdowns is None else stepdowns)
                r = flows.share(self.data[f"{line}.assessed_only"], external)
                self.add(
                    f"{prefix}.treated_share",
                    rounded(1 - r.value),
                    r.se,
                    self.src(f"{line}.assessed_only", f"{line}.referrals"),
                    "1 - share of referrals assessed and not treated",
                    "share",
                )
            if self.given(f"{line}.dropped_out", f"{line}.completed"):
                dropped, done = self.data[f"{line}.dropped_out"], self.data[f"{line}.completed"]
                r = flows.share(dropped, dropped + done)
                self.add(
                    f"{prefix}.dropout_share",
                    rounded(r.value),
                    r.se,
                    self.src(f"{line}.dropped_out", f"{line}.completed"),
                    "share of courses ended that ended early",
                    "share",
                )
        if s.talking_therapies is not None and self.given("talking_therapies.recovered", "talking_therapies.completed"):
            r = flows.share(self.data["talking_therapies.recovered"], self.data["talking_therapies.completed"])
            self.add(
                "services.talking_therapies.recovery_share",
                rounded(r.value),
                r.se,
                self.src("talking_therapies.recovered", "talking_therapies.completed"),
                "share of finished courses in reliable recovery",
                "share",
            )

    def stays(self, wait: float | None = None, local_waits: np.ndarray | None = None, wait_se: float = 0.0) -> None:
        """Length of stay (Little's law) and its spread. ``wait``: the local wait before a placement (default the
        base's); ``local_waits``: days spent waiting locally for a bed per month, ``[M]``, added to the days when
        the data do not give ``inpatient.bed_wait_days`` (the simulated ones, once the wait is fitted)."""
        ward = self.base.services.inpatient
        if ward is None:
            return
        wait = ward.oap.wait_days if wait is None else wait
        days_measures = ["inpatient.local_bed_days", "inpatient.oap_bed_days"]
        stays_measure = next(
            (m for m in ("inpatient.bed_requests", "inpatient.discharges") if self.given(m)),
            None,
        )
        los = ward.los_days
        dist = los.dist if los.dist in ("lognormal", "gamma") else "lognormal"
        cv = (los.std / los.mean) if los.std > 0 else 1.0
        if stays_measure is None or not self.given(*days_measures):
            self.keep(
                "services.inpatient.los_days",
                "needs inpatient.local_bed_days, inpatient.oap_bed_days and inpatient.bed_requests (or "
                "inpatient.discharges): the base's length of stay kept",
            )
        else:
            used = [*days_measures, *(["inpatient.bed_wait_days"] if self.given("inpatient.bed_wait_days") else [])]
            days = sum(np.nan_to_num(self.data[m]) for m in used)
            method = "Little's law: days in a stay / stays begun"
            if local_waits is not None and "inpatient.bed_wait_days" not in used:
                days = days + local_waits
                method += " (with the simulated days waiting locally for a bed)"
            stay = flows.little_stay(days, self.data[stays_measure], self.days, dist, cv)
            self.add(
                "services.inpatient.los_days.mean",
                rounded(stay.mean),
                stay.se,
                self.src(*used, stays_measure),
                method,
                "positive",
            )
            if los.dist != dist:
                self.add(
                    "services.inpatient.los_days.dist",
                    dist,
                    float("nan"),
                    self.src(stays_measure),
                    f"a {dist} stay, so its spread can be fitted",
                    "none",
                )
        mean = self.fitted("services.inpatient.los_days.mean")
        bands = [f"inpatient.{band}" for band in OAP_LENGTH_BANDS]
        if not all(b in self.data for b in bands):
            self.add_sd(dist, mean, cv * mean, "no OAP length split in the data", keep=True)
            return
        counts, months = flows.band_counts(self.data.values)
        if months == 0 or counts.sum() < 10:
            self.add_sd(
                dist,
                mean,
                cv * mean,
                "the OAP length split has fewer than 10 placements in months with every band published",
                keep=True,
            )
            return
        if ward.oap.repatriate and not self._repatriation_off():
            self.add_sd(
                dist, mean, cv * mean, "placements are repatriated, so their lengths are not lengths of stay", keep=True
            )
            return
        fitted_mean = self.c.estimate("services.inpatient.los_days.mean")
        mean_se = fitted_mean.se if fitted_mean is not None and math.isfinite(fitted_mean.se) else 0.0
        spread = flows.fit_spread(counts, dist, mean, wait, cv * mean, mean_se, wait_se)
        self.add(
            "services.inpatient.los_days.sd",
            rounded(spread.sd),
            spread.se,
            f"inpatient.oap_ended by length, {months} months with every band ({int(spread.placements)} "
            f"placements; {self.data.source})",
            "maximum likelihood on the OAP length split",
            "positive",
        )

    def _repatriation_off(self) -> bool:
        return self.given("inpatient.repatriations") and float(np.nansum(self.data["inpatient.repatriations"])) == 0

    def add_sd(self, dist: str, mean: float, sd: float, why: str, keep: bool) -> None:
        """Keep the base's coefficient of variation for the stay's sd (scaled to a fitted mean)."""
        base = self.base.services.inpatient
        assert base is not None
        if self.c.estimate("services.inpatient.los_days.mean") is not None:
            self.add(
                "services.inpatient.los_days.sd",
                rounded(sd),
                float("nan"),
                "the fitted mean",
                "the base's coefficient of variation at the fitted mean",
                "none",
            )
        if keep:
            self.keep("services.inpatient.los_days.sd", f"{why}: the base's coefficient of variation kept")

    def ward_demand(self) -> None:
        ward, crisis = self.base.services.inpatient, self.base.services.crisis
        if ward is None:
            return
        if not self.given("inpatient.bed_requests"):
            self.keep("services.inpatient demand", "no inpatient.bed_requests: direct admissions kept from the base")
            return
        requests = self.data["inpatient.bed_requests"]
        used = ["inpatient.bed_requests"]
        offset = np.zeros(self.data.n_months)
        covariate = None
        if self.given("inpatient.readmissions"):
            offset += self.data["inpatient.readmissions"]
            used.append("inpatient.readmissions")
        else:
            share = float(self.fitted("services.inpatient.readmission_share"))
            offset += share * requests
            self.c.notes.append(
                "inpatient: no inpatient.readmissions; readmissions taken as readmission_share x bed requests"
            )
        if crisis is not None and crisis.share_when_full > 0:
            if self.given("crisis.admissions"):
                offset += self.data["crisis.admissions"]
                used.append("crisis.admissions")
            elif self.given("crisis.referrals"):
                covariate = self.data["crisis.referrals"]
                used.append("crisis.referrals")
            else:
                expected = self._expected_crisis_admissions()
                offset += expected
                self.c.notes.append(
                    "inpatient: no crisis.referrals or crisis.admissions; crisis admissions taken from the crisis "
                    "team's demand and admission share"
                )
        fit = self.demand("inpatient", requests, used, offset=offset, covariate=covariate)
        if covariate is not None:
            self.add(
                "services.crisis.admission_share",
                rounded(fit.share),
                fit.se("share"),
                self.src(*used),
                "share of crisis referrals among the bed requests (fitted with the direct requests)",
                "share",
            )
            if (
                crisis is not None
                and crisis.admission_share_when_full is not None
                and (crisis.admission_share_when_full < fit.share)
            ):
                self.add(
                    "services.crisis.admission_share_when_full",
                    rounded(fit.share),
                    float("nan"),
                    self.src(*used),
                    "raised to the fitted admission share",
                    "none",
                )

    def _expected_crisis_admissions(self) -> np.ndarray:
        crisis = self.base.services.crisis
        assert crisis is not None
        per_year = self.fitted("services.crisis.referrals_per_year")
        c = demand_fit.curve(
            per_year,
            self.fitted("services.crisis.growth"),
            self.fitted("services.crisis.seasonality.amplitude"),
            int(self.fitted("services.crisis.seasonality.peak_month")),
            self.first,
        )
        edges = np.concatenate([[0.0], np.cumsum(self.days)])
        return c.expected(edges[:-1], edges[1:]) * float(self.fitted("services.crisis.admission_share"))

    def beds(self) -> None:
        if self.base.services.inpatient is None:
            return
        if not self.given("inpatient.local_bed_days", "inpatient.occupancy_mean"):
            self.keep(
                "services.inpatient.beds", "needs inpatient.local_bed_days and inpatient.occupancy_mean: beds kept"
            )
            return
        beds = flows.beds_from_occupancy(
            self.data["inpatient.local_bed_days"], self.data["inpatient.occupancy_mean"], self.days
        )
        if not math.isfinite(beds) or beds < 0.5:
            self.keep("services.inpatient.beds", "occupancy is 0 in every month: beds kept")
            return
        self.add(
            "services.inpatient.beds",
            round(beds),
            float("nan"),
            self.src("inpatient.local_bed_days", "inpatient.occupancy_mean"),
            "local bed days / (occupied share x days), an identity",
            "none",
        )

    def episodes(self, line: str) -> None:
        model = getattr(self.base.services, line)
        if model is None:
            return
        if not self.given(f"{line}.caseload_mean", f"{line}.started"):
            self.keep(f"services.{line}.episode_days", f"needs {line}.caseload_mean and {line}.started: kept")
            return
        first = getattr(model, "first_appointment_days", None)
        dropout = float(self.fitted(f"services.{line}.dropout_share")) if line in TREATMENT_LINES else 0.0
        stepdowns = None  # the ward's discharges join the community team's list (without the first-appointment wait)
        if line == "community" and self.base.services.inpatient is not None and self.given("inpatient.discharges"):
            stepdowns = self.data["inpatient.discharges"]
        mean, se = flows.episode_mean(
            self.data[f"{line}.caseload_mean"],
            self.data[f"{line}.started"],
            self.days,
            first.mean if first is not None else 0.0,
            dropout,
            stepdowns,
        )
        if not math.isfinite(mean) or mean <= 0:
            self.keep(f"services.{line}.episode_days", "the caseload and starts give no positive episode length: kept")
            return
        method = "Little's law on places: mean caseload x days / starts"
        if first is not None or dropout:
            method += " (less the first-appointment hold; dropouts half an episode)"
        self.add(
            f"services.{line}.episode_days.mean",
            rounded(mean),
            se,
            self.src(f"{line}.caseload_mean", f"{line}.started"),
            method,
            "positive",
        )
        episode = model.episode_days
        if episode.dist in ("lognormal", "gamma") and episode.sd:
            self.add(
                f"services.{line}.episode_days.sd",
                rounded(mean * episode.sd / episode.mean),
                float("nan"),
                "the fitted mean",
                "the base's coefficient of variation at the fitted mean",
                "none",
            )

    def capacity(self, line: str) -> None:
        model = getattr(self.base.services, line)
        if model is None:
            return
        measure = f"{line}.waiting_end"
        key, whole = CAPACITY_KEYS[line]
        if not self.given(measure):
            self.keep(key, f"no {measure}: capacity kept from the base")
            return
        observed = self.data[measure]
        if np.nanmean(observed) < 1:
            self.keep(key, f"{measure} is about 0: the line is not at capacity, so the data cannot tell its capacity")
            return
        full = float(np.mean(np.nan_to_num(observed) >= 1)) >= FULL_MONTHS
        if full and self.given(f"{line}.caseload_mean"):  # always at capacity: the caseload is the capacity in use
            measure, observed = f"{line}.caseload_mean", self.data[f"{line}.caseload_mean"]
        base_value = float(_value_of(self.base, key))
        simulator = self.simulator()
        limits = (1.0, 500_000.0) if whole else (0.5, 100.0)
        root = roots.solve(
            simulator,
            key,
            measure,
            observed,
            (0.8 * base_value, 1.25 * base_value),
            how="mean",
            whole=whole,
            limits=limits,
        )
        what = "caseload" if measure.endswith("caseload_mean") else "waiting list"
        self._root_estimate(key, root, whole, measure, f"simulated mean {what} = observed (common random numbers)")

    def oap_policy(self) -> None:
        ward = self.base.services.inpatient
        if ward is None:
            return
        if self.given("inpatient.repatriations"):
            on = float(np.nansum(self.data["inpatient.repatriations"])) > 0
            self.add(
                "services.inpatient.oap.repatriate",
                on,
                float("nan"),
                self.src("inpatient.repatriations"),
                "repatriations recorded" if on else "no repatriation recorded",
                "none",
            )
        if not self.given("inpatient.oap_admissions"):
            self.keep("services.inpatient.oap", "no inpatient.oap_admissions: the placement policy kept from the base")
            return
        repatriate = bool(self.fitted("services.inpatient.oap.repatriate"))
        # the minimum time out of area, on the repatriations where given (they fall steeply as it grows: a 120-bed
        # ward's 480 in three years at 0 days are 320 at 14), else on the OAP bed days (a weaker signal)
        target = next((m for m in ("inpatient.repatriations", "inpatient.oap_bed_days") if self.given(m)), None)
        both = repatriate and target is not None
        # the wait and the minimum time out each move both targets: with both, solved in turn, twice
        for _ in range(2 if both else 1):
            self._solve_wait(ward)
            if both:
                self._solve_repatriation(ward, target)

    def _solve_wait(self, ward) -> None:
        """The local wait before a placement: simulated OAP starts = observed (with the stays, when the data do
        not give the days spent waiting locally, since those count in a stay)."""
        simulator = self.simulator()
        base_wait = float(ward.oap.wait_days)
        joint = not self.given("inpatient.bed_wait_days") and self.c.estimate("services.inpatient.los_days.mean")
        root = roots.solve(
            simulator,
            "services.inpatient.oap.wait_days",
            "inpatient.oap_admissions",
            self.data["inpatient.oap_admissions"],
            (0.0, max(2.0, 4 * base_wait)),
            limits=(0.0, 365.0),
            extra=self._stays_at if joint else None,
        )
        if joint:  # the stays at the solved wait, their spread carrying the wait's error too
            self.stays(wait=root.value, local_waits=self._local_waits(root.value), wait_se=root.se)
        self._root_estimate(
            "services.inpatient.oap.wait_days",
            root,
            False,
            "inpatient.oap_admissions",
            "simulated OAP starts = observed (common random numbers)",
        )

    def _solve_repatriation(self, ward, target: str) -> None:
        """The minimum time out of area before a patient comes back: simulated ``target`` = observed."""
        simulator = self.simulator()
        after = float(ward.oap.repatriate_after_days)
        root = roots.solve(
            simulator,
            "services.inpatient.oap.repatriate_after_days",
            target,
            self.data[target],
            (0.0, max(7.0, 2 * after)),
            limits=(0.0, 365.0),
        )
        what = "repatriations" if target == "inpatient.repatriations" else "OAP bed days"
        self._root_estimate(
            "services.inpatient.oap.repatriate_after_days",
            root,
            False,
            target,
            f"simulated {what} = observed (common random numbers)",
        )

    def _local_waits(self, wait: float) -> np.ndarray:
        """Days waiting locally for a bed per month ``[M]``, simulated at this wait with the values fitted so far."""
        simulator = self.simulator()
        activity = simulator.run({"services.inpatient.oap.wait_days": wait})
        return activity["inpatient.bed_wait_days"][:, : self.data.n_months].mean(axis=0)

    def _stays_at(self, wait: float) -> dict[str, object]:
        """The stays fitted again at a trial wait: the data do not give the days spent waiting locally for a bed,
        which count in a stay, so they are simulated at that wait (a wait and its stays are solved together)."""
        self.stays(wait=wait, local_waits=self._local_waits(wait))
        return {
            "services.inpatient.los_days.mean": self.fitted("services.inpatient.los_days.mean"),
            "services.inpatient.los_days.sd": self.fitted("services.inpatient.los_days.sd"),
        }

    def _root_estimate(self, key: str, root: roots.Root, whole: bool, measure: str, method: str) -> None:
        value: Any = int(root.value) if whole else rounded(root.value, 4)
        source = self.src(measure)
        if root.at_bound:
            self.c.notes.append(
                f"{key}: no value meets the data (observed {root.target:,.4g}, simulated {root.simulated:,.4g} at "
                f"{value}, the {root.at_bound} end of the range searched); set to that bound, without uncertainty"
            )
        carrier = "none" if root.at_bound else "positive"
        self.add(key, value, root.se, source, f"{method}, {self.c.reps} replications", carrier)

    def oap_cost(self) -> None:
        oap = self.c.oap
        if oap is None or self.base.costs is None:
            return
        value, se, months = oap.daily_cost()
        if months == 0:
            self.keep("costs.beds.oap_per_bed_day", f"{oap.provider}'s recorded costs are suppressed: kept")
            return
        self.add(
            "costs.beds.oap_per_bed_day",
            rounded(value, 4),
            se,
            f"the OAP return's recorded costs, {months} months ({oap.span})",
            "total recorded cost / OAP days with a cost recorded",
            "positive",
        )


def _value_of(scenario: Scenario, key: str) -> Any:
    node: Any = scenario.model_dump(mode="json", exclude_none=True)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
