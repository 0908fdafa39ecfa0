"""Runs for the app: the part of a scenario the engines read, and the money of an Activity."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from paysim.activity import Activity
from paysim.app_support.levers import _dump
from paysim.engines.reuse import LineCache
from paysim.model.scenario import Scenario, scenario_from_yaml
from paysim.model.uncertainty import central
from paysim.runs import runner
from paysim.runs.montecarlo import ENGINES, RunError, engine_run
from paysim.runs.results import Run

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
staffing, courses) simulates that line and what it feeds, and takes the others from here. 768 MiB holds the
ward's requests of a 1,000 x 5-year run of the default trust (about 245 MB, so moving the beds again simulates
only the queue for them) beside the lines of about eight such runs."""


FIRST_PIECE = 20
"""Replications the app simulates and shows first when a run is longer: about 0.6 s for the default trust's
3 years with every line simulated again, on 2 cores (so the page's first figures come within 5 s of opening
it), and enough runs for a rough first look at the means and the spread."""
PIECE = 250
"""Replications in each later piece: the page can take a new input between pieces."""
FIRST_LOOK_SECONDS = 1.0
"""A run that would take longer than this (s) shows a first look at its first pieces; one that would not,
such as a run whose pieces are all in the caches, comes whole. The environment variable
``PAYSIM_FIRST_LOOK_SECONDS`` overrides it (0: every run of more than one piece shows a first look)."""


def first_look_seconds() -> float:
    """The first-look budget in seconds: ``PAYSIM_FIRST_LOOK_SECONDS`` if set, else :data:`FIRST_LOOK_SECONDS`."""
    text = os.environ.get("PAYSIM_FIRST_LOOK_SECONDS")
    if text is None:
        return FIRST_LOOK_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0.0:  # also refuses nan
        raise ValueError(f"PAYSIM_FIRST_LOOK_SECONDS={text!r}: expected a number of seconds, 0 or more")
    return value


def pieces(reps: int) -> list[range]:
    """The replication numbers ``0 .. reps - 1`` in the pieces the app simulates one after another.

    A run of more than ``2 x FIRST_PIECE`` replications starts with ``FIRST_PIECE`` of them, which the page
    shows as a first look while the rest follow in pieces of at most ``PIECE``. The cut depends on ``reps``
    alone, so the same run is always cut the same way (and its pieces are found again in the caches), and
    the pieces together are replications ``0 .. reps - 1``, bit for bit a run of them at once.
    """
    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    if reps <= 2 * FIRST_PIECE:
        return [range(reps)]
    return [range(FIRST_PIECE)] + [range(s, min(s + PIECE, reps)) for s in range(FIRST_PIECE, reps, PIECE)]


def simulate(activity_text: str, first: int, stop: int, engine: str) -> Activity:
    """Simulate replications ``first .. stop - 1`` of the scenario in :func:`activity_yaml` text (one of
    :func:`pieces`; :meth:`~paysim.activity.Activity.concat` joins them into the whole run), through
    :func:`paysim.run` without pricing them (:func:`run_money` prices the joined pieces).

    Raises :class:`~paysim.runs.montecarlo.RunTooLarge` (a ValueError the page shows) if the piece cannot fit in the
    memory free."""
    scenario = scenario_from_yaml(activity_text, source="activity")
    settings = runner.RunSettings(
        reps=stop - first, first=first, engine=engine, keep_months=True, uncertainty=False, reuse=LINES
    )
    return runner.simulate(scenario, settings)


def run_money(scenario: Scenario, activity: Activity) -> Run:
    """Costs, ledgers and MHIS of a scenario on an Activity simulated from it (or from its activity YAML): the one
    :class:`paysim.runs.results.Run` (:func:`paysim.runs.runner.price`), with ``costs`` and ``mhis``.

    A scenario with an ``uncertain:`` block is priced at its central values, as it was simulated.
    """
    return runner.price(central(scenario), activity, uncertainty=False)


Simulate = Callable[[str, int, int, str], Activity]
"""``simulate(activity_text, first, stop, engine)``: :func:`simulate`, or the app's cached wrapper of it."""


@dataclass
class PieceRun:
    """The page's run: the scenario file and the edited scenario on the same replications, simulated a piece
    of :func:`pieces` at a time so the page can show a first look before the whole run is in.

    Attributes
    ----------
    key:
        Fingerprint of the inputs the run is for (scenarios, replications, engine).
    engine:
        Engine name.
    scenarios:
        ``(file, edited)``: the scenario file with the run settings, and with the levers applied too.
    texts:
        Their :func:`activity_yaml` (what the activity caches are keyed on).
    pieces:
        Replication ranges, in the order they are simulated.
    parts:
        Simulated activity so far, one list of pieces per scenario.
    base, edited:
        The money of each scenario on the replications so far (None before the first piece is priced).
    seconds:
        Time spent simulating and pricing so far (s).
    first_look_at:
        ``time.perf_counter()`` when the page had drawn the first look, or None.
    """

    key: str
    engine: str
    scenarios: tuple[Scenario, Scenario]
    texts: tuple[str, str]
    pieces: list[range]
    parts: tuple[list[Activity], list[Activity]] = field(default_factory=lambda: ([], []))
    base: Run | None = None
    edited: Run | None = None
    seconds: float = 0.0
    first_look_at: float | None = None

    @classmethod
    def start(cls, key: str, engine: str, file_scenario: Scenario, edited: Scenario, reps: int) -> PieceRun:
        """A run of ``reps`` replications of both scenarios, nothing simulated yet."""
        texts = (activity_yaml(file_scenario), activity_yaml(edited))
        return cls(key, engine, (file_scenario, edited), texts, pieces(reps))

    @property
    def reps(self) -> int:
        """Replications of the whole run."""
        return self.pieces[-1].stop

    @property
    def done(self) -> int:
        """Pieces simulated."""
        return len(self.parts[1])

    @property
    def complete(self) -> bool:
        return self.done == len(self.pieces)

    def simulate_next(self, simulate: Simulate = simulate) -> float:
        """Simulate the next piece for both scenarios (both, or neither if this raises); return its seconds."""
        started = time.perf_counter()
        piece = self.pieces[self.done]
        new = [simulate(text, piece.start, piece.stop, self.engine) for text in self.texts]
        for parts, activity in zip(self.parts, new, strict=True):
            parts.append(activity)
        seconds = time.perf_counter() - started
        self.seconds += seconds
        return seconds

    def simulate_first_look(self, simulate: Simulate = simulate, budget: float | None = None) -> None:
        """Simulate the first piece, then each next piece while it should end within ``budget`` seconds
        (default :func:`first_look_seconds`) of the start, judged by the last piece's time per replication.
        Pieces found in the caches take milliseconds, so a run held there comes whole at once."""
        budget = first_look_seconds() if budget is None else budget
        spent = last = self.simulate_next(simulate)
        while not self.complete:
            per_replication = last / len(self.pieces[self.done - 1])
            if spent + per_replication * len(self.pieces[self.done]) > budget:
                return
            last = self.simulate_next(simulate)
            spent += last

    def price(self) -> None:
        """Costs, ledgers and MHIS of both scenarios on every replication simulated so far."""
        started = time.perf_counter()
        file_scenario, edited = self.scenarios
        self.base = run_money(file_scenario, Activity.concat(self.parts[0]))
        self.edited = run_money(edited, Activity.concat(self.parts[1]))
        self.seconds += time.perf_counter() - started
