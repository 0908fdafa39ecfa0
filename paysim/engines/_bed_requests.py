"""The ward's bed requests for a chunk of replications, and the community team's step-downs from its discharges.

Bed requests are direct admissions, the crisis team's gatekept referrals and the readmissions they bring, in time
order with their lengths of stay (streams ``inpatient.*`` and ``crisis.los``, drawn per request in request order
as the SimPy model takes them); they do not depend on the number of beds or on out-of-area placement, which only
decide where a patient stays. With a steady start the in-patients held at the start request their beds first
(:mod:`paysim.engines.initial`). Every discharge inside the run is a step-down referral to the community team,
with an episode and patience of its own (streams ``community.stepdown_*``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paysim.engines import initial
from paysim.engines._chunk_rows import Rows
from paysim.engines._rows import Sampler, merge_sorted, pad, patience_sampler, per_row, uniform
from paysim.engines.seams import Kernels
from paysim.engines.slots import INF
from paysim.model import streams as st
from paysim.model.demand import DemandCurve
from paysim.model.lines import line_stream


def ward_requests(chunk: Rows, kern: Kernels, crisis_beds: tuple[np.ndarray, np.ndarray] | None) -> Requests:
    """Every bed request of the chunk (direct, crisis, readmissions) in time order, with its length of stay.
    They do not depend on the number of beds or on out-of-area placement, which only decide where a
    patient stays (see :func:`~paysim.engines.reuse.requests_key`); with a steady start the in-patients held
    at the start request their beds first, on the warm-up's first day (:mod:`paysim.engines.initial`).

    A row's lengths of stay (its direct requests', its crisis requests' and its first readmissions') are
    drawn together (:func:`_ward_stays`), so a row's length-of-stay distribution is looked up once."""
    scenario = chunk.scenario
    start, end = -scenario.warmup_days, scenario.horizon_days
    curves = chunk.each(lambda s: DemandCurve.for_line(s.services.inpatient, s.start_month))
    direct_t = per_row(
        lambda curve, rng: curve.arrivals(rng, start, end), curves, chunk.rngs(line_stream("inpatient", st.ARRIVALS))
    )
    held = None  # the in-patients held at the start (steady start): their remaining stays, row by row
    if initial.steady(scenario):
        held = per_row(
            lambda row, r: initial.ward_stays_of(chunk.scenario_of(row), int(r)), range(chunk.rows), chunk.reps
        )
    numbers = crisis_beds[1] if crisis_beds is not None else np.full((chunk.rows, 0), -1.0)
    known = np.array([times.size for times in direct_t]) + (numbers >= 0).sum(axis=1)  # requests per row
    if held is not None:
        known = known + np.array([stays.size for stays in held])
    width = int(known.max(initial=0))
    share = chunk.figure(lambda s: s.services.inpatient.readmission_share)
    need = width + int(np.ceil(3 * share.max(initial=0.0) * width)) + 32
    draws = _AfterStayDraws(chunk)
    crisis_rngs = chunk.rngs(line_stream("crisis", st.LOS)) if crisis_beds is not None else [None] * chunk.rows
    stays = per_row(
        _ward_stays,
        chunk.each(lambda s: s.services.inpatient.los_days.sample),
        chunk.rngs(line_stream("inpatient", st.LOS)),
        crisis_rngs,
        draws.rngs["los"],
        [times.size for times in direct_t],
        list(numbers),
        [need] * chunk.rows,
    )
    direct_los = [direct for direct, _, _ in stays]
    if held is not None:  # first in request order
        first = float(start)
        direct_t = [np.concatenate([np.full(h.size, first), t]) for h, t in zip(held, direct_t, strict=True)]
        direct_los = [np.concatenate([h, los]) for h, los in zip(held, direct_los, strict=True)]
    base_t, base_los = pad(direct_t, INF), pad(direct_los, 0.0)
    if crisis_beds is not None:
        crisis_los = np.stack([crisis for _, crisis, _ in stays])
        base_t, base_los = merge_sorted(base_t, crisis_beds[0], base_los, crisis_los)
    draws.values["los"] = np.stack([readmission for _, _, readmission in stays])

    window = chunk.figure(lambda s: s.services.inpatient.readmission_window_days)
    while True:
        draws.ensure(need)
        time, los, readm, complete = kern.stays(
            base_t, base_los, draws["readmit"][:, :need], draws["delay"][:, :need], draws["los"][:, :need],
            share, window, chunk.horizon,
        )  # fmt: skip
        if complete:
            break
        need *= 2
    used = max(int(np.isfinite(time).sum(axis=1).max()), 1)
    return Requests(time[:, :used], los[:, :used], readm[:, :used])


def stepdowns(chunk: Rows, requests: Requests) -> StepDowns:
    """The community team's step-downs: every discharge inside the run, in time order, with the episode and
    patience drawn for its request (streams ``community.stepdown_*``, one draw per request in request
    order, as the SimPy model takes them)."""
    width = requests.time.shape[1]
    samplers = {
        line_stream("community", st.STEPDOWN_EPISODE): chunk.each(lambda s: s.services.community.episode_days.sample),
        line_stream("community", st.STEPDOWN_PATIENCE): chunk.each(
            lambda s: patience_sampler(s.services.community.patience_days)
        ),
    }
    episode, patience_days = (
        np.stack(chunk.draw(sampler, chunk.rngs(name), [width] * chunk.rows)) for name, sampler in samplers.items()
    )
    discharge = requests.discharge
    happened = (requests.time < INF) & (discharge < chunk.horizon)
    when = np.where(happened, discharge, INF)
    order = np.argsort(when, axis=1, kind="stable")
    return StepDowns(
        np.take_along_axis(when, order, axis=1),
        np.take_along_axis(episode, order, axis=1),
        np.take_along_axis(patience_days, order, axis=1),
    )


def _ward_stays(
    sample: Sampler,
    direct_rng: np.random.Generator,
    crisis_rng: np.random.Generator | None,
    readmission_rng: np.random.Generator,
    direct: int,
    numbers: np.ndarray,
    readmissions: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row's lengths of stay (days): of its ``direct`` direct requests (stream ``inpatient.los``), of the crisis
    team's bed requests by their referral numbers ``numbers`` (``-1`` padding; stream ``crisis.los``) and of its
    first ``readmissions`` readmissions (stream ``inpatient.readmission_los``).

    The SimPy model draws one stay from ``crisis.los`` for every crisis referral, in arrival order, so referral
    *k*'s stay is draw *k* of that stream. Drawn here rather than by the team, so a change of length of stay
    leaves the crisis team's results unchanged."""
    crisis = np.zeros(numbers.size)
    if crisis_rng is not None:
        valid = numbers >= 0
        needed = int(numbers[valid].max()) + 1 if valid.any() else 0
        crisis[valid] = sample(crisis_rng, needed)[numbers[valid].astype(np.int64)]
    return sample(direct_rng, direct), crisis, sample(readmission_rng, readmissions)


@dataclass
class Requests:
    """A chunk's bed requests in time order, ``[R, n]`` (``+inf`` time as padding): request time and length of
    stay (days), and whether it is a readmission."""

    time: np.ndarray
    los: np.ndarray
    readm: np.ndarray

    @property
    def discharge(self) -> np.ndarray:
        """Discharge times (days): wherever the patient stays, they leave after their length of stay."""
        return self.time + self.los

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.time, self.los, self.readm


@dataclass
class StepDowns:
    """Discharges referred to the community team, sorted per replication (``[R, n]``, ``+inf`` padding)."""

    time: np.ndarray
    episode: np.ndarray
    patience: np.ndarray

    def between(self, lo: np.ndarray, end: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Step-downs from per-row position ``lo`` with time before ``end``: ``[R, K]`` arrays and the
        new positions."""
        hi = (self.time < end).sum(axis=1)
        width = int((hi - lo).max(initial=0))
        index = lo[:, None] + np.arange(width)
        valid = index < hi[:, None]
        index = np.minimum(index, max(self.time.shape[1] - 1, 0))
        if self.time.shape[1] == 0:
            empty = np.zeros((lo.size, 0))
            return {"arrival": empty, "episode": empty, "patience": empty}, hi
        block = {
            "arrival": np.where(valid, np.take_along_axis(self.time, index, axis=1), INF),
            "episode": np.where(valid, np.take_along_axis(self.episode, index, axis=1), 0.0),
            "patience": np.where(valid, np.take_along_axis(self.patience, index, axis=1), 0.0),
        }
        return block, hi


class _AfterStayDraws:
    """Per-bed-request draws in request order, as the SimPy model takes them: readmitted? (uniform),
    readmission delay (uniform x window) and the readmission's length of stay (each row its own distribution).
    ``self[key]`` is ``[R, n]``; :meth:`ensure` draws more (continuing each stream); ``values["los"]`` may be
    filled first by the caller (:func:`ward_requests` draws a row's stays together)."""

    def __init__(self, chunk: Rows) -> None:
        samplers: dict[str, tuple[str, list[Sampler]]] = {
            "readmit": (line_stream("inpatient", st.READMISSION), [uniform] * chunk.rows),
            "delay": (line_stream("inpatient", st.READMISSION_DELAY), [uniform] * chunk.rows),
            "los": (
                line_stream("inpatient", st.READMISSION_LOS),
                chunk.each(lambda s: s.services.inpatient.los_days.sample),
            ),
        }
        self.chunk = chunk
        self.samplers = samplers
        self.rngs = {key: chunk.rngs(name) for key, (name, _) in samplers.items()}
        self.values = {key: np.zeros((chunk.rows, 0)) for key in samplers}

    def ensure(self, n: int) -> None:
        """At least ``n`` draws of each kind per row."""
        for key, (_, samplers) in self.samplers.items():
            have = self.values[key].shape[1]
            if n > have:
                more = np.stack(self.chunk.draw(samplers, self.rngs[key], [n - have] * self.chunk.rows))
                self.values[key] = np.concatenate([self.values[key], more], axis=1)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]
