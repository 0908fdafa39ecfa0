"""Sequential kernels of the vector engine: a NumPy reference and an optional numba twin.

Two computations in the model are sequential by nature; everything else in :mod:`paysim.engines.vector`
is plain array work. Each has a NumPy implementation, vectorised over replications (one Python step per
customer *index*, acting on all replications at once), and a numba implementation that walks each
replication in turn. Both take the same inputs and return the same numbers, bit for bit: they only
compare, take maxima and add the same operands in the same order, so which one runs never changes a
result (``tests/test_vector_exact.py`` checks this).

**FIFO multi-server queue with reneging** (:func:`queue_block`). Customers, in arrival order, wait for
one of ``c`` places; customer *k* starts at ``max(arrival_k, earliest free time of a place)`` unless that
is after its deadline (then it leaves the list and never starts). A started customer holds the place
until ``start + hold`` (a team's episode) or until a fixed time (an inpatient's discharge). Because
service starts in arrival order, the free times of the places form a multiset whose minimum is all we
need; it is kept in a heap per replication (16-ary in NumPy, 4-ary in numba: any layout
gives the same minimum). This is exact in continuous time: no time step. The same kernel runs

* the talking therapies, community and crisis teams (deadline = referral + patience);
* the crisis team's gatekeeping: a referral needs a bed with probability ``share`` or, when every place
  is taken at that instant (minimum free time > arrival), ``share_full``; it then leaves the team;
* the ward: places = local beds, deadline = discharge with repatriation (an out-of-area patient comes
  back at the first free local bed, first placed first back) or = arrival without it (loss system),
  and the place is held until the fixed discharge time.

**Bed requests with readmissions** (:func:`stays`). Direct and crisis bed requests are known in advance;
a discharged patient is readmitted with probability ``share`` after ``uniform x window`` days. The
kernel merges the known requests with pending readmissions in time order and hands out the per-request
draws (readmitted?, delay, length of stay of the readmission) in request order, as the SimPy model does.

Array conventions: ``[replication, customer]``, times in days, ``+inf`` pads rows that have fewer
customers than the widest one (padding always sits at the end of a row).
"""

from __future__ import annotations

import os
import threading

import numpy as np

INF = np.inf
ARITY = 16
"""Children per node of the NumPy heap: a shallow tree means few vectorised steps per customer."""
_CHILDREN = np.arange(1, ARITY + 1)


# --- NumPy reference ----------------------------------------------------------------------------------


class NumpyKernels:
    """The reference kernels: NumPy, vectorised over replications."""

    name = "numpy"

    @staticmethod
    def new_heap(replications: int, places: int) -> np.ndarray:
        """Free times of ``places`` places per replication, all free since ever.

        Returns
        -------
        ndarray, shape ``[replications, places + 1]``
            A 16-ary min-heap per row (``-inf`` = free since ever) and a ``+inf`` sentinel column.
        """
        heap = np.full((replications, places + 1), -INF)
        heap[:, places] = INF
        return heap

    @staticmethod
    def queue_block(
        heap: np.ndarray,
        arrival: np.ndarray,
        deadline: np.ndarray,
        hold: np.ndarray,
        fixed_end: bool,
        bed_u: np.ndarray | None = None,
        share: float = -1.0,
        share_full: float = -1.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run a block of customers through FIFO queues with reneging (one queue per replication).

        Parameters
        ----------
        heap:
            Queue state from :meth:`new_heap`, updated in place (blocks of one line run in order).
        arrival:
            ``[R, K]`` arrival times (days), sorted within a row, ``+inf`` padding at the end.
        deadline:
            ``[R, K]`` latest start (days); a customer whose start would be later leaves the list.
        hold:
            ``[R, K]`` episode length (days) if ``fixed_end`` is false, else the time the place frees.
        fixed_end:
            False for teams (the place frees at start + hold), true for the ward (at ``hold``).
        bed_u, share, share_full:
            Crisis gatekeeping: a customer with ``bed_u < share`` (``share_full`` when every place is
            taken on arrival) goes to a bed instead; ``None`` for no gatekeeping.

        Returns
        -------
        start, end : ndarray ``[R, K]``
            Start of treatment and time the place frees (days); ``+inf`` for customers who never start.
        to_bed : ndarray ``[R, K]`` of bool
            Customers sent to a bed by the gatekeeping.
        """
        rows_all, customers = arrival.shape
        arr = np.ascontiguousarray(arrival.T)
        dead = np.ascontiguousarray(deadline.T)
        held = np.ascontiguousarray(hold.T)
        need_u = None if bed_u is None else np.ascontiguousarray(bed_u.T)
        start = np.full((customers, rows_all), INF)
        end = np.full((customers, rows_all), INF)
        to_bed = np.zeros((customers, rows_all), dtype=bool)
        top = heap[:, 0]  # a view: always the current minimum free time
        for k in range(customers):
            a = arr[k]
            present = a < INF
            if not present.any():
                break
            earliest = top.copy()
            s = np.maximum(a, earliest)
            ok = (s <= dead[k]) & (s < INF)
            if need_u is not None:
                gate = need_u[k] < np.where(earliest > a, share_full, share)
                gate &= present
                to_bed[k] = gate
                ok &= ~gate
            e = held[k] if fixed_end else s + held[k]
            rows = np.flatnonzero(ok)
            if rows.size:
                _replace_top(heap, rows, e[rows])
            start[k] = np.where(ok, s, INF)
            end[k] = np.where(ok, e, INF)
        return start.T, end.T, to_bed.T

    @staticmethod
    def stays(
        base_time: np.ndarray,
        base_los: np.ndarray,
        readmit_u: np.ndarray,
        delay_u: np.ndarray,
        readmit_los: np.ndarray,
        share: float,
        window: float,
        horizon: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Every bed request in time order: the known ones merged with readmissions as they arise.

        Parameters
        ----------
        base_time, base_los:
            ``[R, B]`` known requests (direct and crisis), sorted, ``+inf`` padding; length of stay (days).
        readmit_u, delay_u, readmit_los:
            ``[R, D]`` per-request draws in request order: uniform for "readmitted?", uniform for the
            delay (x ``window`` days), and the readmission's length of stay (days).
        share, window, horizon:
            Readmission share, window (days), end of the simulated time (days).

        Returns
        -------
        time, los : ndarray ``[R, D]``
            Request times (``+inf`` padding) and lengths of stay (days).
        readmission : ndarray ``[R, D]`` of bool
        complete : bool
            False if some replication needed more than ``D`` draws (call again with more).
        """
        rows_all, draws = readmit_u.shape
        rows = np.arange(rows_all)
        base_t = np.concatenate([base_time, np.full((rows_all, 1), INF)], axis=1)
        base_l = np.concatenate([base_los, np.zeros((rows_all, 1))], axis=1)
        next_base = np.zeros(rows_all, dtype=np.intp)
        pend_t = np.full((rows_all, 8), INF)
        pend_l = np.zeros((rows_all, 8))
        time = np.full((draws, rows_all), INF)
        los = np.zeros((draws, rows_all))
        readm = np.zeros((draws, rows_all), dtype=bool)
        ru = np.ascontiguousarray(readmit_u.T)
        du = np.ascontiguousarray(delay_u.T)
        rl = np.ascontiguousarray(readmit_los.T)
        for k in range(draws + 1):
            bt = base_t[rows, next_base]
            slot = pend_t.argmin(axis=1)
            pt = pend_t[rows, slot]
            from_base = bt <= pt
            t = np.minimum(bt, pt)
            active = t < horizon
            if not active.any():
                return time.T, los.T, readm.T, True
            if k == draws:
                return time.T, los.T, readm.T, False
            stay = np.where(from_base, base_l[rows, next_base], pend_l[rows, slot])
            next_base += from_base & active
            back = active & ~from_base
            pend_t[rows[back], slot[back]] = INF
            time[k] = np.where(active, t, INF)
            los[k] = np.where(active, stay, 0.0)
            readm[k] = back
            again = active & (ru[k] < share)
            if again.any():
                free = np.isinf(pend_t)
                if not free[again].any(axis=1).all():  # some row has no free slot: grow every row
                    width = pend_t.shape[1]
                    pend_t = np.concatenate([pend_t, np.full((rows_all, width), INF)], axis=1)
                    pend_l = np.concatenate([pend_l, np.zeros((rows_all, width))], axis=1)
                    free = np.isinf(pend_t)
                first_free = free.argmax(axis=1)
                who = rows[again]
                pend_t[who, first_free[again]] = (t[again] + stay[again]) + du[k][again] * window
                pend_l[who, first_free[again]] = rl[k][again]
        raise AssertionError("unreachable")

    @staticmethod
    def merge_rows(
        first: np.ndarray, second: np.ndarray, first_values: list[np.ndarray], second_values: list[np.ndarray]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Merge two row-sorted time arrays ``[R, K1]``, ``[R, K2]`` (with values of the same shapes) into
        ``[R, K1 + K2]`` sorted rows; on equal times entries of ``first`` come first (a stable merge)."""
        times = np.concatenate([first, second], axis=1)
        order = np.argsort(times, axis=1, kind="stable")
        merged = [
            np.take_along_axis(np.concatenate([a, b], axis=1), order, axis=1)
            for a, b in zip(first_values, second_values, strict=True)
        ]
        return np.take_along_axis(times, order, axis=1), merged

    @staticmethod
    def arrange_days(uniforms: list[np.ndarray], counts: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Arrival times from per-day counts and one uniform per arrival, as :meth:`DemandCurve.arrivals`
        builds them: row r is ``sort(repeat(days, counts[r]) + uniforms[r])``, ``[R, K]``, ``+inf`` padding.
        """
        rows = []
        for u, per_day in zip(uniforms, counts, strict=True):
            times = np.repeat(days, per_day) + u
            times.sort()
            rows.append(times)
        width = max((r.size for r in rows), default=0)
        out = np.full((len(rows), width), INF)
        for i, r in enumerate(rows):
            out[i, : r.size] = r
        return out

    @staticmethod
    def tally_team(*args, **kwargs) -> dict[str, np.ndarray]:
        """See :func:`tally_team_numpy`."""
        return tally_team_numpy(*args, **kwargs)

    @staticmethod
    def tally_ward(*args, **kwargs) -> dict[str, np.ndarray]:
        """See :func:`tally_ward_numpy`."""
        return tally_ward_numpy(*args, **kwargs)


def _replace_top(heap: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """Replace the minimum of the heaps in ``rows`` by ``values`` and restore heap order (sift down)."""
    sentinel = heap.shape[1] - 1
    pos = np.zeros(rows.size, dtype=np.intp)
    while True:
        child = pos[:, None] * ARITY + _CHILDREN
        np.minimum(child, sentinel, out=child)
        candidates = heap[rows[:, None], child]
        j = candidates.argmin(axis=1)
        pick = np.arange(rows.size)
        best = candidates[pick, j]
        move = best < values
        if not move.all():
            settle = ~move
            heap[rows[settle], pos[settle]] = values[settle]
            if not move.any():
                return
            rows, pos, values, best = rows[move], pos[move], values[move], best[move]
            child, j = child[move], j[move]
            pick = np.arange(rows.size)
        heap[rows, pos] = best
        pos = child[pick, j]


# --- tallies (integers, so any summation order gives the same numbers) ---------------------------------

TICKS_PER_DAY = 2**30
"""Bed days, caseload days and waits are summed in integer ticks of 2**-30 day (about 80 microseconds):
integer sums do not depend on their order, so the NumPy and numba tallies agree exactly."""

TEAM_TALLIES = (
    "referrals", "started", "started_within_standard", "started_within_long_standard", "wait_ticks",
    "caseload_ticks", "in_treatment_end", "waiting_end", "withdrawn", "completed", "admissions",
)  # fmt: skip
"""What :meth:`NumpyKernels.tally_team` returns, each ``[R, month]`` int64."""

WARD_TALLIES = (
    "bed_requests", "local_admissions", "oap_admissions", "repatriations", "readmissions", "discharges",
    "local_bed_ticks", "oap_bed_ticks", "local_end", "oap_end",
)  # fmt: skip
"""What :meth:`NumpyKernels.tally_ward` returns, each ``[R, month]`` int64."""


def _ticks(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Times clipped to the counted horizon, in whole ticks (int64)."""
    return np.floor(np.clip(times, edges[0], edges[-1]) * TICKS_PER_DAY).astype(np.int64)


def _bin_sums(rows: np.ndarray, position: np.ndarray, bins: int, n_rows: int, weights=None) -> np.ndarray:
    """Exact per-(row, bin) counts or sums of non-negative int64 ``weights`` below 2**48: ``[rows, bins]``."""
    flat = rows * bins + position
    size = n_rows * bins
    if weights is None:
        return np.bincount(flat, minlength=size).reshape(n_rows, bins).astype(np.int64)
    high = np.bincount(flat, weights=(weights >> 24).astype(float), minlength=size).astype(np.int64)
    low = np.bincount(flat, weights=(weights & 0xFFFFFF).astype(float), minlength=size).astype(np.int64)
    return ((high << 24) + low).reshape(n_rows, bins)


def _selected(times: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.broadcast_to(np.arange(times.shape[0])[:, None], times.shape)[where]
    return rows, times[where]


def count_by_month(edges: np.ndarray, times: np.ndarray, where: np.ndarray, weights=None) -> np.ndarray:
    """Events at ``times`` (``[R, K]`` days, where ``where``) per month ``[R, M]``; ``weights``: int64."""
    months = edges.size - 1
    ok = where & (times >= edges[0]) & (times < edges[-1])
    rows, t = _selected(times, ok)
    position = np.searchsorted(edges, t, side="right")  # 1 .. months
    w = None if weights is None else weights[ok]
    return _bin_sums(rows, position, months + 2, times.shape[0], w)[:, 1 : months + 1]


def area_by_month(edges: np.ndarray, up: np.ndarray, down: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Ticks of ``[up, down)`` (``[R, K]`` days, where ``where``) inside each month, ``[R, M]`` int64."""
    return _cumulative_ticks(edges, down, where) - _cumulative_ticks(edges, up, where)


def _cumulative_ticks(edges: np.ndarray, times: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``sum_i min(t_i, X_{m+1}) - min(t_i, X_m)`` in ticks, for each month m (``X``: edges in ticks)."""
    months = edges.size - 1
    n_rows = times.shape[0]
    rows, t = _selected(times, where)
    ticks = _ticks(t, edges)
    x = (edges * TICKS_PER_DAY).astype(np.int64)
    position = np.searchsorted(x, ticks, side="right")  # edges <= t: 1 .. months + 1
    below = np.cumsum(_bin_sums(rows, position, months + 2, n_rows, ticks), axis=1)[:, : months + 1]
    count = _bin_sums(rows, position, months + 2, n_rows)
    above = count.sum(axis=1, keepdims=True) - np.cumsum(count, axis=1)[:, : months + 1]
    return np.diff(below + x * above, axis=1)


def level_by_month(edges: np.ndarray, up: np.ndarray, down: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Number of ``[up, down)`` open at each month's end (a change at the end already applied)."""
    months = edges.size - 1
    n_rows = up.shape[0]
    rows, u = _selected(up, where)
    _, v = _selected(down, where)
    ups = np.cumsum(_bin_sums(rows, np.searchsorted(edges, u, side="left"), months + 2, n_rows), axis=1)
    downs = np.cumsum(_bin_sums(rows, np.searchsorted(edges, v, side="left"), months + 2, n_rows), axis=1)
    return (ups - downs)[:, 1 : months + 1]


def tally_team_numpy(
    edges: np.ndarray,
    arrival: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    deadline: np.ndarray,
    to_bed: np.ndarray,
    standard: float,
    long_standard: float,
) -> dict[str, np.ndarray]:
    """Monthly tallies of a block of a team's customers (all ``[R, K]``), see :data:`TEAM_TALLIES`."""
    present = arrival < INF
    served = start < INF
    joined = present & ~to_bed
    with np.errstate(invalid="ignore"):
        wait = np.where(served, start - arrival, 0.0)
    return {
        "referrals": count_by_month(edges, arrival, present),
        "started": count_by_month(edges, start, served),
        "started_within_standard": count_by_month(edges, start, served & (wait <= standard)),
        "started_within_long_standard": count_by_month(edges, start, served & (wait <= long_standard)),
        "wait_ticks": count_by_month(edges, start, served, np.floor(wait * TICKS_PER_DAY).astype(np.int64)),
        "caseload_ticks": area_by_month(edges, start, end, served),
        "in_treatment_end": level_by_month(edges, start, end, served),
        "waiting_end": level_by_month(edges, arrival, np.where(served, start, deadline), joined),
        "withdrawn": count_by_month(edges, deadline, joined & ~served),
        "completed": count_by_month(edges, end, served),
        "admissions": count_by_month(edges, arrival, to_bed),
    }


def tally_ward_numpy(
    edges: np.ndarray, time: np.ndarray, start: np.ndarray, discharge: np.ndarray, readmission: np.ndarray
) -> dict[str, np.ndarray]:
    """Monthly tallies of bed requests (all ``[R, K]``), see :data:`WARD_TALLIES`."""
    present = time < INF
    served = start < INF
    local = served & (start <= time)
    out_of_area = present & ~local
    back = np.minimum(start, discharge)
    return {
        "bed_requests": count_by_month(edges, time, present),
        "local_admissions": count_by_month(edges, time, local),
        "oap_admissions": count_by_month(edges, time, out_of_area),
        "repatriations": count_by_month(edges, start, served & ~local),
        "readmissions": count_by_month(edges, time, readmission),
        "discharges": count_by_month(edges, discharge, present),
        "local_bed_ticks": area_by_month(edges, start, discharge, served),
        "oap_bed_ticks": area_by_month(edges, time, back, out_of_area),
        "local_end": level_by_month(edges, start, discharge, served),
        "oap_end": level_by_month(edges, time, back, out_of_area),
    }


# --- numba twin ---------------------------------------------------------------------------------------


def _build_numba_kernels(parallel: bool = False):
    """Compile the numba kernels. ``parallel``: replications are spread over numba's threads with
    ``prange`` (each replication reads and writes only its own rows, so results do not change)."""
    import numba

    global _sift, _stays_row
    njit = numba.njit(cache=True, nogil=True, parallel=parallel)
    rows_loop = numba.prange if parallel else range  # a closure cell: the two builds cache apart
    # The helpers are module globals, not closure cells: a cell holding a dispatcher pickles differently
    # in every process, which would make numba's cache miss (and recompile) the kernels that call them.
    if _sift is not None:
        return _build_kernels(numba, njit, rows_loop)

    @numba.njit(cache=True, nogil=True)
    def sift(h, n, value):
        """4-ary min-heap of size n: replace the root by value (shallow tree, few mispredicted branches)."""
        pos = 0
        while True:
            child = 4 * pos + 1
            if child >= n:
                break
            best = child
            best_value = h[child]
            last = min(child + 4, n)
            for i in range(child + 1, last):
                if h[i] < best_value:
                    best_value = h[i]
                    best = i
            if best_value < value:
                h[pos] = best_value
                pos = best
            else:
                break
        h[pos] = value

    @numba.njit(cache=True, nogil=True)
    def stays_row(r, base_time, base_los, readmit_u, delay_u, readmit_los, share, window, horizon, time, los, readm):
        """Bed requests of replication r (a function of its own: its pending list grows by reallocation,
        which numba does not allow inside a prange body). Returns False if it needed more draws."""
        draws = readmit_u.shape[1]
        bases = base_time.shape[1]
        pend_t = np.full(8, np.inf)
        pend_l = np.zeros(8)
        nb = 0
        k = 0
        while True:
            bt = base_time[r, nb] if nb < bases else np.inf
            slot = 0
            pt = pend_t[0]
            for i in range(1, pend_t.size):
                if pend_t[i] < pt:
                    pt = pend_t[i]
                    slot = i
            from_base = bt <= pt
            t = bt if from_base else pt
            if not t < horizon:
                break
            if k == draws:
                return False
            if from_base:
                stay = base_los[r, nb]
                nb += 1
            else:
                stay = pend_l[slot]
                pend_t[slot] = np.inf
                readm[r, k] = True
            time[r, k] = t
            los[r, k] = stay
            if readmit_u[r, k] < share:
                free = -1
                for i in range(pend_t.size):
                    if pend_t[i] == np.inf:
                        free = i
                        break
                if free < 0:
                    width = pend_t.size
                    grown_t = np.full(2 * width, np.inf)
                    grown_l = np.zeros(2 * width)
                    grown_t[:width] = pend_t
                    grown_l[:width] = pend_l
                    pend_t = grown_t
                    pend_l = grown_l
                    free = width
                pend_t[free] = (t + stay) + delay_u[r, k] * window
                pend_l[free] = readmit_los[r, k]
            k += 1
        return True

    _sift, _stays_row = sift, stays_row
    return _build_kernels(numba, njit, rows_loop)


_sift = None
_stays_row = None


def _build_kernels(numba, njit, rows_loop):
    """The kernels of :func:`_build_numba_kernels` (its helpers already built)."""

    @njit
    def queue_block(heap, arrival, deadline, hold, fixed_end, bed_u, has_bed, share, share_full, start, end, to_bed):
        rows_all, customers = arrival.shape
        places = heap.shape[1]
        for r in rows_loop(rows_all):
            h = heap[r]
            for k in range(customers):
                a = arrival[r, k]
                if not a < np.inf:
                    break
                earliest = h[0] if places > 0 else np.inf
                s = a if a > earliest else earliest
                ok = s <= deadline[r, k] and s < np.inf
                if has_bed:
                    gate_share = share_full if earliest > a else share
                    if bed_u[r, k] < gate_share:
                        to_bed[r, k] = True
                        ok = False
                if ok:
                    e = hold[r, k] if fixed_end else s + hold[r, k]
                    _sift(h, places, e)
                    start[r, k] = s
                    end[r, k] = e

    @njit
    def stays(base_time, base_los, readmit_u, delay_u, readmit_los, share, window, horizon, time, los, readm):
        rows_all = readmit_u.shape[0]
        short = np.zeros(rows_all, np.bool_)  # per row: needed more than the draws given
        for r in rows_loop(rows_all):
            short[r] = not _stays_row(
                r, base_time, base_los, readmit_u, delay_u, readmit_los, share, window, horizon, time, los, readm
            )
        return not short.any()

    ticks_per_day = TICKS_PER_DAY

    # The tallies below inline every lookup by hand: numba helper calls that take arrays cost ~10 ns each
    # (reference counting), several times the work they do. For an event time t (days, horizon [0, H)):
    #   month     m = day_month[int(t)] for 0 <= t < H, else outside;
    #   level     ends_before(t) = number of month ends < t, so [u, v) is open at ends ends_before(u) ..
    #             ends_before(v) - 1 (a difference array per row, summed at the end);
    #   area      the ticks of [0, t) in each month = full months before month p plus t - X_p in month p,
    #             for t clipped to [0, H] (difference counts of full months and partial ticks per row).

    @njit
    def tally_team(edges, day_month, arrival, start, end, deadline, to_bed, standard, long_standard, out):
        months = edges.size - 1
        horizon = edges[months]
        x = (edges * ticks_per_day).astype(np.int64)
        rows_all, customers = arrival.shape
        for r in rows_loop(rows_all):
            in_treatment = np.zeros(months + 1, np.int64)
            waiting = np.zeros(months + 1, np.int64)
            full = np.zeros(months + 1, np.int64)
            part = np.zeros(months + 1, np.int64)
            for k in range(customers):
                a = arrival[r, k]
                if not a < np.inf:
                    break
                # arrival: month and month ends before it
                ma = -1
                a_ends = 0
                if a >= 0.0 and a < horizon:
                    ma = day_month[np.int64(a)]
                    a_ends = ma if a > edges[ma] else max(ma - 1, 0)
                elif a >= horizon:
                    a_ends = months if a > horizon else months - 1
                if ma >= 0:
                    out[0, r, ma] += 1
                if to_bed[r, k]:
                    if ma >= 0:
                        out[10, r, ma] += 1
                    continue
                waiting[a_ends] += 1
                s = start[r, k]
                if s < np.inf:
                    wait = s - a
                    ms = -1
                    s_ends = 0
                    s_pos = 0
                    s_tick = np.int64(0)
                    if s >= 0.0 and s < horizon:
                        ms = day_month[np.int64(s)]
                        s_ends = ms if s > edges[ms] else max(ms - 1, 0)
                        s_pos = ms
                        s_tick = np.int64(np.floor(s * ticks_per_day))
                    elif s >= horizon:
                        s_ends = months if s > horizon else months - 1
                        s_pos = months
                        s_tick = x[months]
                    if ms >= 0:
                        out[1, r, ms] += 1
                        if wait <= standard:
                            out[2, r, ms] += 1
                        if wait <= long_standard:
                            out[3, r, ms] += 1
                        out[4, r, ms] += np.int64(np.floor(wait * ticks_per_day))
                    e = end[r, k]
                    me = -1
                    e_ends = 0
                    e_pos = 0
                    e_tick = np.int64(0)
                    if e >= 0.0 and e < horizon:
                        me = day_month[np.int64(e)]
                        e_ends = me if e > edges[me] else max(me - 1, 0)
                        e_pos = me
                        e_tick = np.int64(np.floor(e * ticks_per_day))
                    elif e >= horizon:
                        e_ends = months if e > horizon else months - 1
                        e_pos = months
                        e_tick = x[months]
                    if me >= 0:
                        out[9, r, me] += 1
                    waiting[s_ends] -= 1
                    in_treatment[s_ends] += 1
                    in_treatment[e_ends] -= 1
                    # caseload ticks: [0, e) minus [0, s)
                    full[e_pos] -= 1
                    part[e_pos] += e_tick - x[e_pos]
                    full[s_pos] += 1
                    part[s_pos] -= s_tick - x[s_pos]
                else:
                    d = deadline[r, k]
                    d_ends = 0
                    if d >= 0.0 and d < horizon:
                        md = day_month[np.int64(d)]
                        out[8, r, md] += 1
                        d_ends = md if d > edges[md] else max(md - 1, 0)
                    elif d >= horizon:
                        d_ends = months if d > horizon else months - 1
                    waiting[d_ends] -= 1
            treat = 0
            wait_level = 0
            full_months = 0
            for m in range(months):
                treat += in_treatment[m]
                wait_level += waiting[m]
                out[6, r, m] += treat
                out[7, r, m] += wait_level
            # full[p] holds -(ends at p) + (starts at p); intervals cover month m fully iff s_pos < m < e_pos
            for m in range(months - 1, -1, -1):
                full_months -= full[m + 1]
                out[5, r, m] += full_months * (x[m + 1] - x[m]) + part[m]

    @njit
    def tally_ward(edges, day_month, time, start, discharge, readmission, out):
        months = edges.size - 1
        horizon = edges[months]
        x = (edges * ticks_per_day).astype(np.int64)
        rows_all, requests = time.shape
        for r in rows_loop(rows_all):
            local_open = np.zeros(months + 1, np.int64)
            oap_open = np.zeros(months + 1, np.int64)
            local_full = np.zeros(months + 1, np.int64)
            local_part = np.zeros(months + 1, np.int64)
            oap_full = np.zeros(months + 1, np.int64)
            oap_part = np.zeros(months + 1, np.int64)
            for k in range(requests):
                t = time[r, k]
                if not t < np.inf:
                    break
                s = start[r, k]
                f = discharge[r, k]
                served = s < np.inf
                local = served and s <= t
                back = s if s < f else f
                # positions of t, s (if served), f and back: month, month ends before, area position, tick
                mt = -1
                t_ends = 0
                t_pos = 0
                t_tick = np.int64(0)
                if t >= 0.0 and t < horizon:
                    mt = day_month[np.int64(t)]
                    t_ends = mt if t > edges[mt] else max(mt - 1, 0)
                    t_pos = mt
                    t_tick = np.int64(np.floor(t * ticks_per_day))
                elif t >= horizon:
                    t_ends = months if t > horizon else months - 1
                    t_pos = months
                    t_tick = x[months]
                mf = -1
                f_ends = 0
                f_pos = 0
                f_tick = np.int64(0)
                if f >= 0.0 and f < horizon:
                    mf = day_month[np.int64(f)]
                    f_ends = mf if f > edges[mf] else max(mf - 1, 0)
                    f_pos = mf
                    f_tick = np.int64(np.floor(f * ticks_per_day))
                elif f >= horizon:
                    f_ends = months if f > horizon else months - 1
                    f_pos = months
                    f_tick = x[months]
                if mt >= 0:
                    out[0, r, mt] += 1
                    if local:
                        out[1, r, mt] += 1
                    else:
                        out[2, r, mt] += 1
                    if readmission[r, k]:
                        out[4, r, mt] += 1
                if mf >= 0:
                    out[5, r, mf] += 1
                if local:
                    local_open[t_ends] += 1
                    local_open[f_ends] -= 1
                    local_full[f_pos] -= 1
                    local_part[f_pos] += f_tick - x[f_pos]
                    local_full[t_pos] += 1
                    local_part[t_pos] -= t_tick - x[t_pos]
                    continue
                # out of area from t until back (= repatriation at s, or discharge)
                b_ends = 0
                b_pos = 0
                b_tick = np.int64(0)
                mb = -1
                if back >= 0.0 and back < horizon:
                    mb = day_month[np.int64(back)]
                    b_ends = mb if back > edges[mb] else max(mb - 1, 0)
                    b_pos = mb
                    b_tick = np.int64(np.floor(back * ticks_per_day))
                elif back >= horizon:
                    b_ends = months if back > horizon else months - 1
                    b_pos = months
                    b_tick = x[months]
                oap_open[t_ends] += 1
                oap_open[b_ends] -= 1
                oap_full[b_pos] -= 1
                oap_part[b_pos] += b_tick - x[b_pos]
                oap_full[t_pos] += 1
                oap_part[t_pos] -= t_tick - x[t_pos]
                if served:  # repatriated at s = back, local until discharge
                    if mb >= 0:
                        out[3, r, mb] += 1
                    local_open[b_ends] += 1
                    local_open[f_ends] -= 1
                    local_full[f_pos] -= 1
                    local_part[f_pos] += f_tick - x[f_pos]
                    local_full[b_pos] += 1
                    local_part[b_pos] -= b_tick - x[b_pos]
            local_level = 0
            oap_level = 0
            for m in range(months):
                local_level += local_open[m]
                oap_level += oap_open[m]
                out[8, r, m] += local_level
                out[9, r, m] += oap_level
            local_months = 0
            oap_months = 0
            for m in range(months - 1, -1, -1):
                local_months -= local_full[m + 1]
                oap_months -= oap_full[m + 1]
                out[6, r, m] += local_months * (x[m + 1] - x[m]) + local_part[m]
                out[7, r, m] += oap_months * (x[m + 1] - x[m]) + oap_part[m]

    @njit
    def arrange_days(uniforms, offsets, counts, days, out):
        """Row r of ``out`` = sorted ``repeat(days, counts[r]) + uniforms[offsets[r]:]``.

        Days are disjoint, so sorting each day's uniforms and then adding the day sorts the row (adding
        a constant is monotone in floating point, so the values are exactly those of ``np.sort``). A
        day's uniforms are iid U(0, 1): a bucket sort with one bucket per value takes O(1) per value.
        """
        rows_all, n_days = counts.shape
        for r in rows_loop(rows_all):
            widest = 1
            for d in range(n_days):
                widest = max(widest, counts[r, d])
            first = np.zeros(widest + 1, np.int64)  # scratch of this row (rows may run on other threads)
            held = np.empty(widest)
            i = offsets[r]
            j = 0
            for d in range(n_days):
                n = counts[r, d]
                if n == 1:
                    out[r, j] = days[d] + uniforms[i]
                elif n > 1:
                    first[: n + 1] = 0
                    for q in range(n):
                        first[min(np.int64(uniforms[i + q] * n), n - 1) + 1] += 1
                    for q in range(n):
                        first[q + 1] += first[q]
                    for q in range(n):
                        u = uniforms[i + q]
                        bucket = min(np.int64(u * n), n - 1)
                        held[first[bucket]] = u
                        first[bucket] += 1
                    for q in range(1, n):  # insertion sort: values are already in their buckets
                        u = held[q]
                        p = q - 1
                        while p >= 0 and held[p] > u:
                            held[p + 1] = held[p]
                            p -= 1
                        held[p + 1] = u
                    for q in range(n):
                        out[r, j + q] = days[d] + held[q]
                i += n
                j += n

    @njit
    def merge_rows(first, second, first_values, second_values, times, values):
        rows_all, n1 = first.shape
        n2 = second.shape[1]
        for r in rows_loop(rows_all):
            i = 0
            j = 0
            for k in range(n1 + n2):
                if j >= n2 or (i < n1 and first[r, i] <= second[r, j]):
                    times[r, k] = first[r, i]
                    for v in range(values.shape[0]):
                        values[v, r, k] = first_values[v, r, i]
                    i += 1
                else:
                    times[r, k] = second[r, j]
                    for v in range(values.shape[0]):
                        values[v, r, k] = second_values[v, r, j]
                    j += 1

    return queue_block, stays, tally_team, tally_ward, arrange_days, merge_rows


_KERNEL_NAMES = ("queue_block", "stays", "tally_team", "tally_ward", "arrange_days", "merge_rows")


class NumbaKernels:
    """The same kernels compiled with numba (identical results).

    With one thread (:func:`threads`) every kernel walks the replications in turn; with more, a second
    build spreads them over numba's threads (``prange`` over replications: each replication is computed
    exactly as before and writes only its own rows, so results are bit-identical for any thread count).
    Only one run at a time uses the threaded build; a concurrent run (another thread of the process)
    falls back to the one-thread build rather than wait.
    """

    name = "numba"

    def __init__(self) -> None:
        self._serial = dict(zip(_KERNEL_NAMES, _build_numba_kernels(parallel=False), strict=True))
        self._parallel: dict | None = None
        self._parallel_lock = threading.Lock()

    def _call(self, name: str, rows: int, *args):
        """Run kernel ``name`` over ``rows`` replications on :func:`threads` threads (its one-thread build
        if that is 1, there is one replication, or another thread is using the threaded build)."""
        n = min(threads(), _numba_max_threads(), rows)
        if n > 1 and self._parallel_lock.acquire(blocking=False):
            try:
                if self._parallel is None:
                    self._parallel = dict(zip(_KERNEL_NAMES, _build_numba_kernels(parallel=True), strict=True))
                import numba

                numba.set_num_threads(n)
                return self._parallel[name](*args)
            finally:
                self._parallel_lock.release()
        return self._serial[name](*args)

    @staticmethod
    def new_heap(replications: int, places: int) -> np.ndarray:
        """``[replications, places]`` 4-ary min-heaps of free times (``-inf`` = free since ever)."""
        return np.full((replications, places), -INF)

    def queue_block(
        self,
        heap: np.ndarray,
        arrival: np.ndarray,
        deadline: np.ndarray,
        hold: np.ndarray,
        fixed_end: bool,
        bed_u: np.ndarray | None = None,
        share: float = -1.0,
        share_full: float = -1.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """See :meth:`NumpyKernels.queue_block`."""
        shape = arrival.shape
        start = np.full(shape, INF)
        end = np.full(shape, INF)
        to_bed = np.zeros(shape, dtype=bool)
        has_bed = bed_u is not None
        u = np.ascontiguousarray(bed_u) if has_bed else np.zeros((0, 0))
        self._call(
            "queue_block",
            shape[0],
            heap,
            np.ascontiguousarray(arrival, dtype=float),
            np.ascontiguousarray(deadline, dtype=float),
            np.ascontiguousarray(hold, dtype=float),
            bool(fixed_end),
            u,
            has_bed,
            float(share),
            float(share_full),
            start,
            end,
            to_bed,
        )
        return start, end, to_bed

    def stays(
        self,
        base_time: np.ndarray,
        base_los: np.ndarray,
        readmit_u: np.ndarray,
        delay_u: np.ndarray,
        readmit_los: np.ndarray,
        share: float,
        window: float,
        horizon: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """See :meth:`NumpyKernels.stays`."""
        shape = readmit_u.shape
        time = np.full(shape, INF)
        los = np.zeros(shape)
        readm = np.zeros(shape, dtype=bool)
        complete = self._call(
            "stays",
            shape[0],
            np.ascontiguousarray(base_time, dtype=float),
            np.ascontiguousarray(base_los, dtype=float),
            np.ascontiguousarray(readmit_u, dtype=float),
            np.ascontiguousarray(delay_u, dtype=float),
            np.ascontiguousarray(readmit_los, dtype=float),
            float(share),
            float(window),
            float(horizon),
            time,
            los,
            readm,
        )
        return time, los, readm, bool(complete)

    def tally_team(
        self,
        edges: np.ndarray,
        arrival: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        deadline: np.ndarray,
        to_bed: np.ndarray,
        standard: float,
        long_standard: float,
    ) -> dict[str, np.ndarray]:
        """See :func:`tally_team_numpy`."""
        out = np.zeros((len(TEAM_TALLIES), arrival.shape[0], edges.size - 1), dtype=np.int64)
        c = np.ascontiguousarray
        self._call(
            "tally_team",
            arrival.shape[0],
            c(edges, dtype=float), _day_month(edges), c(arrival), c(start), c(end), c(deadline), c(to_bed),
            float(standard), float(long_standard), out,
        )  # fmt: skip
        return dict(zip(TEAM_TALLIES, out, strict=True))

    def tally_ward(
        self, edges: np.ndarray, time: np.ndarray, start: np.ndarray, discharge: np.ndarray, readmission: np.ndarray
    ) -> dict[str, np.ndarray]:
        """See :func:`tally_ward_numpy`."""
        out = np.zeros((len(WARD_TALLIES), time.shape[0], edges.size - 1), dtype=np.int64)
        c = np.ascontiguousarray
        self._call(
            "tally_ward",
            time.shape[0],
            c(edges, dtype=float),
            _day_month(edges),
            c(time),
            c(start),
            c(discharge),
            c(readmission),
            out,
        )
        return dict(zip(WARD_TALLIES, out, strict=True))

    def merge_rows(
        self,
        first: np.ndarray,
        second: np.ndarray,
        first_values: list[np.ndarray],
        second_values: list[np.ndarray],
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """See :meth:`NumpyKernels.merge_rows`."""
        rows_all = first.shape[0]
        width = first.shape[1] + second.shape[1]
        times = np.empty((rows_all, width))
        values = np.empty((len(first_values), rows_all, width))
        v1 = np.stack(first_values) if first_values else np.zeros((0, *first.shape))
        v2 = np.stack(second_values) if second_values else np.zeros((0, *second.shape))
        self._call(
            "merge_rows",
            rows_all,
            np.ascontiguousarray(first, dtype=float),
            np.ascontiguousarray(second, dtype=float),
            v1,
            v2,
            times,
            values,
        )
        return times, list(values)

    def arrange_days(self, uniforms: list[np.ndarray], counts: np.ndarray, days: np.ndarray) -> np.ndarray:
        """See :meth:`NumpyKernels.arrange_days`."""
        totals = counts.sum(axis=1)
        out = np.full((counts.shape[0], int(totals.max(initial=0))), INF)
        offsets = np.concatenate([[0], np.cumsum(totals)[:-1]]).astype(np.int64)
        flat = np.concatenate(uniforms) if uniforms else np.zeros(0)
        self._call(
            "arrange_days",
            counts.shape[0],
            flat,
            offsets,
            np.ascontiguousarray(counts, dtype=np.int64),
            days.astype(float),
            out,
        )
        return out


def _day_month(edges: np.ndarray) -> np.ndarray:
    """Month index of each whole day of the horizon (edges are whole days from 0)."""
    return np.repeat(np.arange(edges.size - 1), np.diff(edges).astype(np.int64)).astype(np.int64)


_NUMBA: NumbaKernels | None = None
_THREADS: int | None = None


def threads() -> int:
    """Threads one run of the vector engine uses (numba kernels and the per-replication draws).

    :func:`set_threads` if it was called, else the environment variable ``PAYSIM_THREADS``, else numba's
    ``NUMBA_NUM_THREADS`` (the machine's cores unless that variable says otherwise; 1 without numba).
    Results do not depend on it.
    """
    if _THREADS is not None:
        return _THREADS
    value = os.environ.get("PAYSIM_THREADS", "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"PAYSIM_THREADS must be a whole number >= 1, got {value!r}") from None
    return _numba_max_threads()


def set_threads(n: int | None) -> None:
    """Use ``n`` threads per run in this process from now on (None: back to :func:`threads`' default).
    Worker processes of a Monte Carlo run set 1, so processes and threads do not oversubscribe."""
    global _THREADS
    if n is not None and (isinstance(n, bool) or int(n) < 1):
        raise ValueError(f"threads must be >= 1, got {n!r}")
    _THREADS = None if n is None else int(n)


def _numba_max_threads() -> int:
    """numba's thread count (``NUMBA_NUM_THREADS``), 1 if numba is missing."""
    try:
        import numba
    except ImportError:
        return 1
    return int(numba.config.NUMBA_NUM_THREADS)


def numba_available() -> bool:
    """True if numba can be imported (the ``fast`` extra is installed)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def kernels(use_numba: bool | None = None) -> NumpyKernels | NumbaKernels:
    """The kernel set to use.

    Parameters
    ----------
    use_numba:
        True: numba (ImportError if it is missing); False: NumPy; None: numba if it is importable and the
        environment variable ``PAYSIM_NUMBA`` is not ``0``.
    """
    global _NUMBA
    if use_numba is None:
        use_numba = os.environ.get("PAYSIM_NUMBA", "1").strip() not in ("0", "false", "no", "off") and (
            numba_available()
        )
    if not use_numba:
        return NumpyKernels()
    if _NUMBA is None:
        _NUMBA = NumbaKernels()
    return _NUMBA
