"""Reusing a line's results between runs whose scenarios differ only in other lines.

The vector engine simulates the lines of a trust in one direction: talking therapies on its own; the
crisis team, whose gatekept referrals become bed requests; the ward's requests (direct, crisis and
readmissions, with their lengths of stay) and the ward itself; and the community team, fed by the ward's
discharges. Each line draws from its own named random streams, so a line's results depend only
on the scenario keys it reads and on the lines upstream of it. Opening ten more beds changes the ward and
nothing else: talking therapies, the crisis team and even the community team (discharges do not depend
on where a patient was treated) come out exactly the same.

:class:`LineCache` keeps each line's monthly tallies under a key made of everything that line depends on,
so a run can take unchanged lines from an earlier run instead of simulating them again; and, apart, the
inputs a line passes on: the crisis team's bed requests, and the ward's requests (:func:`requests_key`), the
same whatever the number of beds, so moving the beds simulates only the queue for them. Results are bit for
bit those of a run without the cache (``tests/test_vector_reuse.py``). Used by the app, where a finance
director moves one lever at a time, and by ``paysim compare``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paysim.engines.flow import LINES as LINES  # re-exported: the order is declared in paysim.engines.flow
from paysim.engines.flow import PLACEMENT_KEYS, downstream, upstream
from paysim.model.scenario import Scenario


def line_keys(scenario: Scenario) -> dict[str, str]:
    """For each line of ``scenario``, a digest of everything its simulated results depend on.

    Two scenarios give a line the same key exactly when they give it the same inputs: the seed, the
    clock (warm-up and its start state, years, first month), the line's own section (its referral-outcome keys,
    ``first_appointment_days`` and ``capacity.growth`` included) and what flows into it from upstream.
    The crisis team depends on whether there is a ward to send patients to (not on its lengths of stay,
    which the engine draws for those patients at the ward). The ward's bed requests (and so the community
    team's step-downs, with their episodes and patience) depend on the crisis team and on the ward's demand,
    lengths of stay and readmissions, but not on the number of beds or on out-of-area placement, which only
    decide where a patient stays.
    """
    clock, inputs, _ = _inputs(scenario)
    return {line: _digest({"clock": clock, "line": line, "inputs": value}) for line, value in inputs.items()}


def requests_key(scenario: Scenario) -> str:
    """Digest of what the ward's bed requests depend on (the crisis team, the ward's demand, lengths of stay
    and readmissions; not its beds or out-of-area placement): the key of the requests in a :class:`LineCache`."""
    clock, _, requests = _inputs(scenario)
    return _digest({"clock": clock, "line": "inpatient.requests", "inputs": requests})


def _inputs(scenario: Scenario) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """``(clock, inputs of each line, what the ward passes on)`` as JSON-like values, derived from the lines'
    order and feeds (:mod:`paysim.engines.flow`): a line's inputs are its own section, the lines present that it
    feeds (the crisis team gatekeeps only when there is a ward) and what each line upstream of it passes on,
    which is that line's inputs without its :data:`~paysim.engines.flow.PLACEMENT_KEYS`. The ward's part is the
    key of its bed requests (:func:`requests_key`)."""
    services = scenario.services
    clock = {
        "seed": scenario.seed,
        "warmup_days": scenario.warmup_days,
        "initial_state": scenario.initial_state,
        "years": scenario.years,
        "start_month": scenario.start_month,
    }
    sections = {line: getattr(services, line) for line in LINES}
    inputs: dict[str, Any] = {}
    passes_on: dict[str, Any] = {}
    for line in LINES:  # every line after the lines that feed it
        model = sections[line]
        if model is None:
            inputs[line] = passes_on[line] = None
            continue
        own = model.model_dump(mode="json")
        feeds = [target for target in downstream(line) if sections[target] is not None]
        received = {source: passes_on[source] for source in upstream(line)}
        inputs[line] = {"own": own, "feeds": feeds, "from": received}
        placement = PLACEMENT_KEYS.get(line, ())
        passed = {key: value for key, value in own.items() if key not in placement}
        passes_on[line] = {"own": passed, "feeds": feeds, "from": received}
    return clock, inputs, passes_on["inpatient"]


def beds_key(crisis_key: str) -> str:
    """Key of the crisis team's bed requests, an entry apart from the team's tallies: the requests are much
    larger, and when the cache is full they can leave on their own while the tallies stay."""
    return f"{crisis_key}.beds"


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class LineResult:
    """One line's results for one chunk of replications.

    Attributes
    ----------
    sums:
        The line's monthly integer tallies, ``{tally: [replications, months]}`` (see ``TEAM_TALLIES`` and
        ``WARD_TALLIES`` in :mod:`paysim.engines._kernels`).
    beds:
        The crisis team's gatekept bed requests ``(times in days, referral numbers)``, each
        ``[replications, n]``, or None (other entries).
    requests:
        The ward's bed requests in time order ``(times, lengths of stay in days, readmission flags)``, each
        ``[replications, n]``, or None (other entries).
    """

    sums: dict[str, np.ndarray]
    beds: tuple[np.ndarray, np.ndarray] | None = None
    requests: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    nbytes: int = field(init=False)

    def __post_init__(self) -> None:
        self.nbytes = sum(a.nbytes for a in (*self.sums.values(), *self.inputs))

    @property
    def inputs(self) -> tuple[np.ndarray, ...]:
        """The arrays a line passes on to another (bed requests), as opposed to its own tallies."""
        return (*(self.beds or ()), *(self.requests or ()))


class LineCache:
    """Recent lines' results within ``max_bytes`` (default 256 MiB). When full, entries leave least recently
    used first within each kind, the kinds in this order: the ward's requests (the largest, and drawn again
    in a few seconds from the crisis team's bed requests), then the crisis team's bed requests (without them
    the crisis team must be simulated again), then tallies (small, and the slowest to simulate again).

    Safe to share between threads (the app's sessions). Entries are keyed by the line's
    :func:`line_keys` digest and the replication numbers of the chunk; arrays are stored and handed out
    read-only, so a caller cannot change what a later run gets.
    """

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._entries: OrderedDict[tuple[str, bytes], LineResult] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, replications: np.ndarray) -> LineResult | None:
        """The stored result of line ``key`` for exactly these replications, or None."""
        entry_key = (key, _reps_key(replications))
        with self._lock:
            entry = self._entries.get(entry_key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(entry_key)
            self.hits += 1
            return entry

    def put(self, key: str, replications: np.ndarray, result: LineResult) -> None:
        """Store ``result`` (its arrays are copied and frozen); old entries leave to stay within budget.
        A result larger than the whole budget is not stored."""
        if result.nbytes > self.max_bytes:
            return
        beds = None if result.beds is None else tuple(_frozen(a) for a in result.beds)
        requests = None if result.requests is None else tuple(_frozen(a) for a in result.requests)
        frozen = LineResult({k: _frozen(v) for k, v in result.sums.items()}, beds, requests)
        entry_key = (key, _reps_key(replications))
        with self._lock:
            old = self._entries.pop(entry_key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._entries[entry_key] = frozen
            self._bytes += frozen.nbytes
            while self._bytes > self.max_bytes:
                dropped = self._entries.pop(self._first_out())
                self._bytes -= dropped.nbytes

    def _first_out(self) -> tuple[str, bytes]:
        """The entry to drop next (see the class docstring)."""
        for kind in (lambda e: e.requests is not None, lambda e: e.beds is not None):
            for key, entry in self._entries.items():  # least recently used first
                if kind(entry):
                    return key
        return next(iter(self._entries))

    def discard(self, key: str, replications: np.ndarray) -> None:
        """Forget the result of line ``key`` for these replications, if held."""
        with self._lock:
            old = self._entries.pop((key, _reps_key(replications)), None)
            if old is not None:
                self._bytes -= old.nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


def _reps_key(replications: np.ndarray) -> bytes:
    return np.ascontiguousarray(replications, dtype=np.int64).tobytes()


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    out.flags.writeable = False
    return out
