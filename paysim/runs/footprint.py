"""The memory a run needs at its peak, and the memory this machine has free.

A run that cannot fit stops before anything is simulated, with a message naming the keys that drive it,
instead of swapping for hours or being killed by the system: :func:`paysim.runs.montecarlo.check_memory` compares
:func:`run_footprint` with :func:`available_memory` wherever runs are planned.

**What the engines hold.** The figures below were measured with ``benchmarks/bench_memory.py`` (the peak resident
memory of one chunk in a fresh process, less what the process held before it) and are rounded up:

* **SimPy model** (``des``): a process simulates one replication at a time and holds a record of every person
  it simulates until the replication ends, about :data:`DES_BYTES_PER_PERSON` bytes per referral and per bed
  request over the simulated days (warm-up included); people on a waiting list at once hold about as much
  again. The ward's discharges joining the community team count as community referrals.
* **vector engine**: a chunk of replications at once (at most :func:`paysim.engines.vector.default_chunk_size`
  rows) holds, per row, the ward's bed requests whole (:data:`VECTOR_BYTES_PER_REQUEST` each), the community
  team's step-downs (:data:`VECTOR_BYTES_PER_STEPDOWN` each) and a free-place heap of the largest team or ward
  (8 bytes a place). A referral line is simulated with numba one replication per thread, each holding the
  replication's draws (:data:`NUMBA_BYTES_PER_REFERRAL` per referral), or with NumPy window by window
  (:data:`NUMPY_BYTES_PER_REFERRAL` per referral in a window of at least seven days of the chunk's rows).
* **the run**: ``min(workers, chunks)`` processes run a chunk each (a worker process also holds its own imports
  and compiled kernels, :data:`WORKER_BYTES`); :func:`paysim.runs.montecarlo.run_replications`
  keeps every measure of every replication by month (:func:`activity_bytes`), :func:`paysim.runs.batch.run_batch`
  one value per replication and column (:func:`table_bytes`).

Counts are expected counts (the integral of the demand curve), at the upper end of any uncertain parameter's
range. The estimate is rough, within a factor of about two: it tells a run that needs a terabyte from one that
needs a hundred megabytes, and a run is refused only when the estimate exceeds the memory free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from paysim.activity import measure_kinds
from paysim.engines import _kernels
from paysim.engines._referrals import BLOCK_ELEMENTS
from paysim.engines.vector import default_chunk_size as vector_chunk_size
from paysim.model.demand import DemandCurve
from paysim.model.scenario import Scenario, ScenarioError, places_by_year
from paysim.model.uncertainty import central, is_whole

DES_BYTES_PER_PERSON = 500
"""Bytes the SimPy model holds per referral or bed request of a replication (about 1,000 while waiting)."""
VECTOR_BYTES_PER_REQUEST = 128
"""Bytes the vector engine holds per bed request and row of a chunk (16 float64 arrays)."""
VECTOR_BYTES_PER_STEPDOWN = 24
"""Bytes the vector engine holds per step-down to the community team and row of a chunk."""
NUMBA_BYTES_PER_REFERRAL = 32
"""Bytes a numba thread holds per referral of the replication it simulates (its draws; a crisis team that sends
people to a bed holds :data:`NUMBA_BYTES_PER_CRISIS_REFERRAL`)."""
NUMBA_BYTES_PER_CRISIS_REFERRAL = 48
"""As :data:`NUMBA_BYTES_PER_REFERRAL`, with each referral's bed need and bed request."""
NUMPY_BYTES_PER_REFERRAL = 100
"""Bytes the NumPy kernels hold per referral in a window of a chunk (its draws, queue and tallies)."""
WORKER_BYTES = {"vector": 250 * 2**20, "des": 120 * 2**20}
"""What a worker process holds before it simulates anything: Python, NumPy and paysim (about 110 MiB) and, for
the vector engine, numba's compiled kernels (about 140 MiB more; ``benchmarks/bench_memory.py``)."""
RESULT_BYTES = 16
"""Bytes per value kept for every replication: 8, held twice while chunks are joined or tabled."""


@dataclass(frozen=True)
class Part:
    """One part of a run's peak memory: ``nbytes``, what it is, and the scenario keys and options driving it."""

    nbytes: float
    what: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Footprint:
    """A run's estimated peak memory, in parts (bytes; see the module docstring)."""

    parts: tuple[Part, ...]

    @property
    def total(self) -> float:
        """Estimated peak bytes."""
        return float(sum(part.nbytes for part in self.parts))

    @property
    def largest(self) -> Part:
        """The part that needs the most memory."""
        return max(self.parts, key=lambda part: part.nbytes)

    def explain(self, name: str, available: float) -> str:
        """The one-paragraph message of a run that cannot fit: how much it needs, what drives it, what to do."""
        top = self.largest
        keys = list(top.keys)
        named = keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} and {keys[-1]}"
        verb, them = ("drives", "it") if len(keys) == 1 else ("drive", "them")
        return (
            f"{name}: this run would need about {size(self.total)} of memory at its peak, and this machine has "
            f"{size(available)} free. Most of it ({size(top.nbytes)}) is {top.what}; {named} {verb} it. Lower "
            f"{them}, or run fewer replications at once; nothing was simulated."
        )


SECONDS_PER_PERSON = {"des": 7.8e-5, "numpy": 4.4e-6, "numba": 1.8e-7}
"""Seconds one process spends per referral or bed request of a replication, by engine (and kernels for the vector
engine): the default trust's 190,839 per replication took 14.9 s in the SimPy model, 0.845 s on the NumPy kernels
and 29-44 ms with numba on the 2-core development machine (the README's benchmark table). A guide to the order
of a run's time, not a promise: machines differ by several times."""
NUMBA_START_SECONDS = 30.0
"""Seconds a process may spend loading or compiling numba's kernels before its first replication."""


def run_seconds(scenario: Scenario, reps: int, engine: str, processes: int = 1) -> float:
    """A rough estimate of a run's simulation time in seconds (:data:`SECONDS_PER_PERSON`): the expected people
    of one replication (:func:`expected_people`) x ``reps`` / ``processes``, plus numba's start-up. Pricing and
    writing are not counted (they take a small part of the time of a run of the default)."""
    people = sum(expected_people(central(scenario)).values())
    kind = engine if engine != "vector" else ("numba" if _kernels.numba_chosen(None) else "numpy")
    seconds = people * reps * SECONDS_PER_PERSON.get(kind, SECONDS_PER_PERSON["des"]) / max(1, processes)
    return seconds + (NUMBA_START_SECONDS if kind == "numba" else 0.0)


def duration(seconds: float) -> str:
    """Seconds for people, rounded as an estimate deserves: ``40 s``, ``12 min``, ``3.5 h``, ``9 days``."""
    if seconds < 90:
        return f"{max(1, round(seconds, -1 if seconds >= 20 else 0)):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


def size(nbytes: float) -> str:
    """Bytes for people: ``512 MiB``, ``23.1 GiB``, ``1.2 TiB``."""
    for unit, power in (("PiB", 50), ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 2**power:
            value = nbytes / 2**power
            return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    return f"{nbytes:.0f} bytes"


# --- what a run holds -----------------------------------------------------------------------------------


def run_footprint(
    scenario: Scenario,
    reps: int,
    engine: str,
    rows: int = 1,
    processes: int = 1,
    kept_per_replication: float = 0.0,
    threads: int | None = None,
) -> Footprint:
    """Estimated peak memory of a run.

    Parameters
    ----------
    scenario:
        The scenario run (with an ``uncertain:`` block, every uncertain key that changes the simulation is
        taken at the top of its range).
    reps:
        Replications in the run.
    engine:
        ``"des"``, ``"vector"``, or another engine (estimated as the SimPy model).
    rows:
        Replications in one chunk.
    processes:
        Chunks simulated at once, each in its own process.
    kept_per_replication:
        Bytes the caller keeps per replication (:func:`activity_bytes`, :func:`table_bytes`).
    threads:
        Threads of one vector-engine process (default: :func:`paysim.engines._kernels.threads` when the run is
        in this process, 1 in worker processes).

    Returns
    -------
    Footprint
        Its parts in bytes.
    """
    model = _heaviest(scenario)
    if engine == "vector":
        threads = threads if threads is not None else (_kernels.threads() if processes == 1 else 1)
        parts = _vector_parts(model, min(rows, vector_chunk_size(model)), processes, threads)
    else:
        parts = _des_parts(model, processes)
    if processes > 1:
        each = WORKER_BYTES.get(engine, WORKER_BYTES["des"])
        parts.append(Part(processes * each, f"{processes} worker processes' own imports and kernels", ("--workers",)))
    if kept_per_replication:
        parts.append(Part(reps * kept_per_replication, f"the results kept for {reps:,} replications", ("--reps",)))
    return Footprint(tuple(parts))


def activity_bytes(scenario: Scenario) -> float:
    """Bytes kept per replication by a run that keeps every measure by month (an Activity ``[R, months]``)."""
    measures = measure_kinds(scenario.lines(), scenario.services.inpatient is not None)
    return RESULT_BYTES * scenario.months * len(measures)


def table_bytes(scenario: Scenario) -> float:
    """Bytes kept per replication by a run priced chunk by chunk: one value per results column, and each rule's
    surplus and spend per contract year."""
    measures = measure_kinds(scenario.lines(), scenario.services.inpatient is not None, public_only=True)
    rules = len(scenario.contracts.rules) if scenario.contracts is not None else 0
    params = len(scenario.uncertain.names) if scenario.uncertain is not None else 0
    columns = 1 + len(measures) + 4 * rules + params
    return RESULT_BYTES * columns + RESULT_BYTES * 2 * rules * scenario.years


def _des_parts(scenario: Scenario, processes: int) -> list[Part]:
    """One replication per process, every person simulated held to its end."""
    counts = expected_people(scenario)
    days = scenario.warmup_days + scenario.horizon_days
    each = f", in each of {processes} processes" if processes > 1 else ""
    workers = ("--workers",) if processes > 1 else ()
    parts = []
    for line, count in counts.items():
        what = "bed requests" if line == "inpatient" else "referrals"
        parts.append(
            Part(
                processes * DES_BYTES_PER_PERSON * count,
                f"the {line} {what} one replication of the SimPy model holds: about {_count(count)} over "
                f"{days:,} simulated days, about {DES_BYTES_PER_PERSON} bytes each{each}",
                (*_demand_keys(scenario, line), *workers),
            )
        )
    return parts


def _vector_parts(scenario: Scenario, rows: int, processes: int, threads: int) -> list[Part]:
    """A chunk of ``rows`` replications per process."""
    counts = expected_people(scenario)
    days = scenario.warmup_days + scenario.horizon_days
    each = f", in each of {processes} processes" if processes > 1 else ""
    chunk = f"a chunk of {rows:,} replication{'s' if rows > 1 else ''} of the vector engine"
    options = tuple(o for o, used in (("--reps", rows > 1), ("--workers", processes > 1)) if used)
    parts = []
    services = scenario.services
    if services.inpatient is not None:
        requests = counts["inpatient"]
        parts.append(
            Part(
                processes * rows * VECTOR_BYTES_PER_REQUEST * requests,
                f"the bed requests {chunk} holds: about {_count(requests)} a replication over {days:,} simulated "
                f"days, {VECTOR_BYTES_PER_REQUEST} bytes each{each}",
                (*_demand_keys(scenario, "inpatient"), *options),
            )
        )
        if services.community is not None:
            parts.append(
                Part(
                    processes * rows * VECTOR_BYTES_PER_STEPDOWN * requests,
                    f"the step-downs to the community team {chunk} holds{each}",
                    (*_demand_keys(scenario, "inpatient"), *options),
                )
            )
    teams = scenario.lines_and_ward()
    places = {name: _places(scenario, name) for name in teams if _places(scenario, name)}
    if places:
        widest = max(places, key=places.__getitem__)
        parts.append(
            Part(
                processes * rows * 8.0 * (places[widest] + 1),
                f"the free places of the {widest} team {chunk} holds: {places[widest]:,} a replication{each}",
                (*_capacity_keys(widest), *options),
            )
        )
    lines = scenario.lines()
    if lines:
        biggest = max(lines, key=lambda line: counts[line])
        if _kernels.numba_chosen():
            busy = max(1, min(threads, rows // 8))
            gatekeeping = biggest == "crisis" and services.inpatient is not None
            each_referral = NUMBA_BYTES_PER_CRISIS_REFERRAL if gatekeeping else NUMBA_BYTES_PER_REFERRAL
            nbytes = processes * busy * each_referral * counts[biggest]
            what = (
                f"the {biggest} referrals of one replication, held by each of {busy} thread{'s' if busy > 1 else ''}"
                f" of the vector engine: about {_count(counts[biggest])} over {days:,} simulated days, "
                f"{each_referral} bytes each{each}"
            )
        else:
            window = max(BLOCK_ELEMENTS, rows * 7 * 1.2 * _peak_per_day(scenario, biggest))
            nbytes = processes * NUMPY_BYTES_PER_REFERRAL * window
            what = f"a window of {_count(window)} {biggest} referrals of {chunk}{each}"
        parts.append(Part(nbytes, what, (*_demand_keys(scenario, biggest), *options)))
    return parts


def expected_people(scenario: Scenario) -> dict[str, float]:
    """Expected referrals of each referral line and bed requests (``"inpatient"``) in one replication over the
    simulated days, warm-up included: bed requests count crisis admissions (at the mean of the shares when the
    team has room and when it is full) and readmissions; community referrals count the ward's step-downs."""
    services = scenario.services
    start, end = -scenario.warmup_days, scenario.horizon_days
    counts = {
        line: float(DemandCurve.for_line(getattr(services, line), scenario.start_month).expected(start, end))
        for line in scenario.lines()
    }
    inpatient = services.inpatient
    if inpatient is not None:
        requests = float(DemandCurve.for_line(inpatient, scenario.start_month).expected(start, end))
        if services.crisis is not None:
            requests += counts["crisis"] * (services.crisis.admission_share + services.crisis.share_when_full) / 2
        requests /= 1.0 - min(inpatient.readmission_share, 0.9)
        counts["inpatient"] = requests
        if "community" in counts:
            counts["community"] += requests
    return counts


def _peak_per_day(scenario: Scenario, line: str) -> float:
    """The largest expected referrals in a day on ``line`` (growth at its strongest end, seasonal peak)."""
    curve = DemandCurve.for_line(getattr(scenario.services, line), scenario.start_month)
    trend = max((1 + curve.growth) ** (-scenario.warmup_days / 365), (1 + curve.growth) ** scenario.years)
    return curve.per_year / 365 * trend * (1 + curve.amplitude)


def _places(scenario: Scenario, name: str) -> int:
    """A team's places in the last contract year (the most, when its capacity grows), or the ward's beds."""
    if name == "inpatient":
        return scenario.services.inpatient.beds
    return places_by_year(getattr(scenario.services, name), scenario.years)[-1]


def _capacity_keys(name: str) -> tuple[str, ...]:
    """The keys that set line ``name``'s capacity (a line from a plugin: its ``capacity`` block)."""
    return {
        "talking_therapies": (
            "services.talking_therapies.capacity.courses",
            "services.talking_therapies.capacity.growth",
        ),
        "community": (
            "services.community.capacity.staff_wte",
            "services.community.capacity.caseload_per_wte",
            "services.community.capacity.growth",
        ),
        "crisis": ("services.crisis.capacity.places",),
        "inpatient": ("services.inpatient.beds",),
    }.get(name, (f"services.{name}.capacity",))


def _demand_keys(scenario: Scenario, line: str) -> tuple[str, ...]:
    """The keys that set a line's expected count over the run."""
    if line != "inpatient":
        keys: tuple[str, ...] = (f"services.{line}.referrals_per_year", f"services.{line}.growth")
    else:
        keys = ("services.inpatient.admissions_per_year", "services.inpatient.growth")
        if scenario.services.crisis is not None:
            keys += ("services.crisis.referrals_per_year", "services.crisis.admission_share_when_full")
        keys += ("services.inpatient.readmission_share",)
    return (*keys, "years", "warmup_days")


def _count(value: float) -> str:
    """A count for people: ``41,000``, ``2.4 billion``."""
    if value >= 1e9:
        return f"{value / 1e9:,.1f} billion"
    if value >= 1e6:
        return f"{value / 1e6:,.1f} million"
    return f"{value:,.0f}"


def _heaviest(scenario: Scenario) -> Scenario:
    """The scenario at the top of every uncertain range that changes the simulation (its central values if that
    combination is not a valid scenario, or nothing is uncertain)."""
    base = central(scenario)
    uncertain = scenario.uncertain
    if uncertain is None or not uncertain.simulation_keys():
        return base
    tops = {}
    for key in uncertain.simulation_keys():
        top = uncertain.parameters[key].support()[1]
        tops[key] = round(top) if is_whole(base, key) else top
    try:
        return base.with_overrides(tops)
    except ScenarioError:
        return base


# --- what this machine has -----------------------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes of memory free for a run now, or None if the system does not say.

    Linux: ``MemAvailable`` of ``/proc/meminfo`` (free memory plus what the kernel can reclaim), capped by the
    room left under this process's cgroup memory limit (a container's). Elsewhere: the free physical pages
    (``os.sysconf``), where the system reports them.
    """
    free = _meminfo_available()
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            free = None
    room = _cgroup_room()
    if room is not None:
        free = room if free is None else min(free, room)
    return free


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """Bytes left under the cgroup v2 memory limit of this process, None if it has none."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                folder = Path("/sys/fs/cgroup") / line[3:].strip().lstrip("/")
                limit = (folder / "memory.max").read_text().strip()
                if limit == "max":
                    return None
                return max(0, int(limit) - int((folder / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        pass
    return None


__all__ = [
    "Footprint",
    "Part",
    "activity_bytes",
    "available_memory",
    "expected_people",
    "run_footprint",
    "size",
    "table_bytes",
]
