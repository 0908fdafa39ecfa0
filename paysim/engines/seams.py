"""The seam between the vector engine and its kernels: what a kernel set does, and what it is given.

The vector engine (:mod:`paysim.engines.vector`) draws every random number and keeps the bookkeeping of a
chunk of replications; a kernel set does the sequential work. Two kernel sets implement :class:`Kernels` in
full: the NumPy reference (:class:`paysim.engines._kernels.NumpyKernels`, vectorised over replications) and
its numba twin (:class:`paysim.engines._numba_kernels.NumbaKernels`, one compiled pass per replication). They
return the same numbers bit for bit (``tests/test_vector_exact.py``), so which one runs never changes a result;
:func:`paysim.engines.kernel_sets.kernels` chooses.

A team is handed over as :class:`TeamInputs`: its figures, and its draws in the two shapes the two kernel sets
walk them in (windows of days over all replications, or one replication whole). Both shapes hold the same draws
from the same streams, in the same order.

**Per-row figures.** The rows of a chunk may each have their own scenario (a parameter-uncertainty run: every
replication with its own parameter set, same lines and clock), so every figure a kernel reads is per row: an
``[R]`` array (a place count or a share of row *r* in element *r*), or a scalar taken by every row. Each kernel
set gives row *r* exactly the numbers it gives a chunk of that row alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

Beds = tuple[np.ndarray, np.ndarray]
"""The crisis team's gatekept bed requests: times (days, ``+inf`` padding) and the referral's number in its
replication (``-1`` padding), each ``[R, n]``."""


@dataclass(frozen=True)
class TeamDraws:
    """One replication's draws for a team, in referral order (see :meth:`TeamInputs.replication`).

    Attributes
    ----------
    counts:
        ``[days]`` external referrals per day of the run (int64).
    uniforms:
        ``[n]`` each referral's time within its day (sorted within the day by the kernel).
    episodes, patience:
        ``[n]`` days a starter holds its place; days it waits before leaving the list (``+inf``: never).
    assessed_only, dropped_out, recovers:
        ``[n]`` bool referral outcomes, or empty when the line's key is at its default.
    first_appointment:
        ``[n]`` days from allocation to the first appointment, or empty when every one is at once.
    bed_need:
        ``[n]`` the crisis gatekeeping's uniforms, or empty without gatekeeping.
    extra_time, extra_episode, extra_patience:
        ``[m]`` the ward's step-downs into the community team (sorted by time), or empty.
    """

    counts: np.ndarray
    uniforms: np.ndarray
    episodes: np.ndarray
    patience: np.ndarray
    assessed_only: np.ndarray
    dropped_out: np.ndarray
    recovers: np.ndarray
    first_appointment: np.ndarray
    bed_need: np.ndarray
    extra_time: np.ndarray
    extra_episode: np.ndarray
    extra_patience: np.ndarray


@dataclass(frozen=True)
class TeamInputs:
    """Everything a kernel set needs to run one team (talking therapies, crisis or community) for a chunk.

    Attributes
    ----------
    rows:
        Replications in the chunk.
    days:
        ``[days]`` first instant (days from the horizon start) of each day of the run, warm-up included.
    edges:
        ``[months + 1]`` month edges (days from the horizon start).
    opening:
        When each place opens, ascending (``-inf``: free since ever): ``[places]`` for every row, or
        ``[R, places]`` per row, a row with fewer places padded with ``+inf`` (a place that never opens);
        :meth:`opening_of` gives one row's.
    gatekeeping, share, share_full:
        Crisis gatekeeping to a ward: on (the same for every row), and per row ``[R]`` the shares of referrals
        needing a bed (any time, when full; ``-1`` without gatekeeping).
    standard, long_standard:
        ``[R]`` waiting-time standards (days; ``+inf`` when a line has no long standard).
    outcomes:
        Whether the line uses referral outcomes or first appointments (the draws' optional arrays).
    windows:
        ``windows()`` yields the referrals (external and step-downs merged) window by window over all rows:
        ``{"arrival", "episode", "patience", outcome flags, "first_appointment", "bed_u", "index"}``, each
        ``[R, K]``, sorted by arrival, ``+inf`` arrival padding.
    replication:
        ``replication(row)`` gives row ``row``'s draws whole, :class:`TeamDraws`.
    """

    rows: int
    days: np.ndarray
    edges: np.ndarray
    opening: np.ndarray
    gatekeeping: bool
    share: np.ndarray
    share_full: np.ndarray
    standard: np.ndarray
    long_standard: np.ndarray
    outcomes: bool
    windows: Callable[[], Iterator[dict[str, np.ndarray]]]
    replication: Callable[[int], TeamDraws]

    def opening_of(self, row: int) -> np.ndarray:
        """Row ``row``'s opening times, ``[places]`` (``+inf`` padding included)."""
        return self.opening if self.opening.ndim == 1 else self.opening[row]


class Kernels(Protocol):
    """A kernel set: the sequential parts of the vector engine. Every method gives the same numbers in every
    implementation, bit for bit."""

    name: str

    def new_heap(self, replications: int, opening: np.ndarray) -> np.ndarray:
        """Free times of a team's places per replication, each place free from its opening time (``opening``:
        ``[places]`` for every row, or ``[R, places]``, ``+inf`` padded)."""
        ...

    def queue_block(
        self,
        heap: np.ndarray,
        arrival: np.ndarray,
        deadline: np.ndarray,
        hold: np.ndarray,
        fixed_end: bool,
        bed_u: np.ndarray | None = None,
        share: float | np.ndarray = -1.0,
        share_full: float | np.ndarray = -1.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A block of customers through FIFO queues with reneging: ``start, end, to_bed``, each ``[R, K]``
        (``share``, ``share_full``: scalars or ``[R]``)."""
        ...

    def team(self, inputs: TeamInputs) -> tuple[dict[str, np.ndarray], Beds | None]:
        """A team for a chunk: its tallies ``{tally: [R, month]}`` (:data:`paysim.engines.slots.TEAM_TALLIES`)
        and, with gatekeeping, the bed requests it sends to the ward."""
        ...

    def stays(
        self,
        base_time: np.ndarray,
        base_los: np.ndarray,
        readmit_u: np.ndarray,
        delay_u: np.ndarray,
        readmit_los: np.ndarray,
        share: float | np.ndarray,
        window: float | np.ndarray,
        horizon: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Every bed request in time order, readmissions included: ``time, los, readmission, complete``
        (``share``, ``window``: scalars or ``[R]``)."""
        ...

    def ward(
        self,
        time: np.ndarray,
        discharge: np.ndarray,
        beds: int | np.ndarray,
        wait: float | np.ndarray,
        repatriate: bool | np.ndarray,
        after: float | np.ndarray,
        reserve: int | np.ndarray,
        horizon: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ward's placement policy: ``admit, placed, back`` times, each ``[R, K]`` (the policy's figures:
        scalars or ``[R]``)."""
        ...

    def tally_ward(
        self,
        edges: np.ndarray,
        time: np.ndarray,
        admit: np.ndarray,
        placed: np.ndarray,
        back: np.ndarray,
        discharge: np.ndarray,
        readmission: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """The ward's tallies ``{tally: [R, month]}`` (:data:`paysim.engines.slots.WARD_TALLIES`)."""
        ...
