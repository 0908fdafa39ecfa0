"""A chunk of replications, each with its own scenario: what every part of the vector engine asks of its rows.

A chunk's rows share a scenario (a central run: each figure computed once) or each run one of their own (a
parameter-uncertainty run; :func:`paysim.engines.vector.check_row_scenarios` checks they share lines and clock).
:class:`Rows` gives each row's figures, generators and draws, and the people each team holds at the start with
a steady-state start; the engine's parts (:mod:`paysim.engines._referrals`, :mod:`paysim.engines._bed_requests`,
:mod:`paysim.engines.vector`) read a chunk through it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from paysim.engines import initial
from paysim.engines._rows import Sampler, by_row, per_row
from paysim.model.scenario import Scenario
from paysim.model.streams import stream

T = TypeVar("T")


class Rows:
    """The replications ``reps`` of a chunk (row *i* is replication ``reps[i]``), each running ``scenarios[i]``,
    or every one ``scenario`` (``scenarios`` None); the run's days (warm-up included) and horizon."""

    def __init__(self, scenario: Scenario, reps: np.ndarray, scenarios: Sequence[Scenario] | None = None) -> None:
        self.scenario = scenario
        self.scenarios = None if scenarios is None else list(scenarios)
        self.distinct = [scenario] if scenarios is None else self.scenarios
        """The scenarios to read what may differ between rows from: the chunk's alone, or every row's."""
        self.reps = reps
        self.rows = reps.size
        self.horizon = float(scenario.horizon_days)
        self.days = np.arange(-scenario.warmup_days, scenario.horizon_days, dtype=float)
        self._initial: dict[str, list[initial.InitialPeople]] = {}

    def initial_people(self, name: str) -> list[initial.InitialPeople] | None:
        """Row by row, the people team ``name`` holds at the start of the warm-up with a steady-state start
        (:mod:`paysim.engines.initial`, stream ``<name>.initial``), or None with an empty start."""
        if not initial.steady(self.scenario):
            return None
        if name not in self._initial:
            self._initial[name] = per_row(
                lambda row, r: initial.team_people_of(self.scenario_of(row), name, int(r)), range(self.rows), self.reps
            )
        return self._initial[name]

    def rngs(self, name: str) -> list[np.random.Generator]:
        """One generator per replication for stream ``name``."""
        return [stream(self.scenario.seed, int(r), name) for r in self.reps]

    def each(self, figure: Callable[[Scenario], T]) -> list[T]:
        """``figure`` of each row's scenario, ``[R]`` (computed once when the rows share the chunk's)."""
        if self.scenarios is None:
            return [figure(self.scenario)] * self.rows
        return [figure(own) for own in self.scenarios]

    def figure(self, figure: Callable[[Scenario], Any], dtype: type = float) -> np.ndarray:
        """A per-row figure as an ``[R]`` array (``figure`` of each row's scenario, once when they share one)."""
        if self.scenarios is None:
            return by_row(figure(self.scenario), self.rows, dtype)
        return np.array([figure(own) for own in self.scenarios], dtype=dtype)

    def scenario_of(self, row: int) -> Scenario:
        """Row ``row``'s scenario."""
        return self.scenario if self.scenarios is None else self.scenarios[row]

    def draw(self, samplers: Sequence[Sampler], rngs: Sequence[np.random.Generator], counts: Sequence[int]) -> list:
        """Each row's draws, ``samplers[i](rngs[i], counts[i])``, rows on :func:`per_row`'s threads."""
        if self.scenarios is None:  # one sampler for every row
            return per_row(samplers[0], rngs, counts)
        return per_row(_apply, samplers, rngs, counts)


def _apply(sampler: Sampler, rng: np.random.Generator, n: int) -> np.ndarray:
    return sampler(rng, n)
