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


def _build_numba_kernels():
    import numba

    njit = numba.njit(cache=True, nogil=True)

    @njit
    def _sift(h, n, value):
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

    @njit
    def queue_block(heap, arrival, deadline, hold, fixed_end, bed_u, has_bed, share, share_full, start, end, to_bed):
        rows_all, customers = arrival.shape
        places = heap.shape[1]
        for r in range(rows_all):
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
        rows_all, draws = readmit_u.shape
        bases = base_time.shape[1]
        complete = True
        for r in range(rows_all):
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
                    complete = False
                    break
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
        return complete

    ticks_per_day = TICKS_PER_DAY

    @njit
    def _count_le(a, v):
        """Number of entries of sorted ``a`` that are <= v (searchsorted right)."""
        lo, hi = 0, a.size
        while lo < hi:
            mid = (lo + hi) // 2
            if a[mid] <= v:
                lo = mid + 1
            else:
                hi = mid
        return lo

    @njit
    def _count_lt(a, v):
        """Number of entries of sorted ``a`` that are < v (searchsorted left)."""
        lo, hi = 0, a.size
        while lo < hi:
            mid = (lo + hi) // 2
            if a[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        return lo

    @njit
    def _month(edges, t):
        if t < edges[0] or not t < edges[edges.size - 1]:
            return -1
        return _count_le(edges, t) - 1

    @njit
    def _tick(edges, t):
        clipped = min(max(t, edges[0]), edges[edges.size - 1])
        return np.int64(np.floor(clipped * ticks_per_day))

    @njit
    def _add_area(row, x, edges, u, v):
        """Add the ticks of [u, v) inside each month to ``row``."""
        lo_tick = _tick(edges, u)
        hi_tick = _tick(edges, v)
        if hi_tick <= lo_tick:
            return
        months = x.size - 1
        m = max(_count_le(x, lo_tick) - 1, 0)
        while m < months and x[m] < hi_tick:
            lo = lo_tick if lo_tick > x[m] else x[m]
            hi = hi_tick if hi_tick < x[m + 1] else x[m + 1]
            if hi > lo:
                row[m] += hi - lo
            m += 1

    @njit
    def _open_at_ends(diff, ends, u, v):
        diff[_count_lt(ends, u)] += 1
        diff[_count_lt(ends, v)] -= 1

    @njit
    def _levels(out_row, diff):
        level = 0
        for m in range(out_row.size):
            level += diff[m]
            out_row[m] += level

    @njit
    def tally_team(edges, arrival, start, end, deadline, to_bed, standard, long_standard, out):
        months = edges.size - 1
        x = (edges * ticks_per_day).astype(np.int64)
        ends = edges[1:]
        rows_all, customers = arrival.shape
        for r in range(rows_all):
            in_treatment = np.zeros(months + 1, np.int64)
            waiting = np.zeros(months + 1, np.int64)
            for k in range(customers):
                a = arrival[r, k]
                if not a < np.inf:
                    break
                ma = _month(edges, a)
                if ma >= 0:
                    out[0, r, ma] += 1
                if to_bed[r, k]:
                    if ma >= 0:
                        out[10, r, ma] += 1
                    continue
                s = start[r, k]
                if s < np.inf:
                    wait = s - a
                    ms = _month(edges, s)
                    if ms >= 0:
                        out[1, r, ms] += 1
                        if wait <= standard:
                            out[2, r, ms] += 1
                        if wait <= long_standard:
                            out[3, r, ms] += 1
                        out[4, r, ms] += np.int64(np.floor(wait * ticks_per_day))
                    e = end[r, k]
                    _add_area(out[5, r], x, edges, s, e)
                    _open_at_ends(in_treatment, ends, s, e)
                    _open_at_ends(waiting, ends, a, s)
                    me = _month(edges, e)
                    if me >= 0:
                        out[9, r, me] += 1
                else:
                    d = deadline[r, k]
                    md = _month(edges, d)
                    if md >= 0:
                        out[8, r, md] += 1
                    _open_at_ends(waiting, ends, a, d)
            _levels(out[6, r], in_treatment)
            _levels(out[7, r], waiting)

    @njit
    def tally_ward(edges, time, start, discharge, readmission, out):
        months = edges.size - 1
        x = (edges * ticks_per_day).astype(np.int64)
        ends = edges[1:]
        rows_all, requests = time.shape
        for r in range(rows_all):
            local_open = np.zeros(months + 1, np.int64)
            oap_open = np.zeros(months + 1, np.int64)
            for k in range(requests):
                t = time[r, k]
                if not t < np.inf:
                    break
                s = start[r, k]
                f = discharge[r, k]
                served = s < np.inf
                local = served and s <= t
                mt = _month(edges, t)
                if mt >= 0:
                    out[0, r, mt] += 1
                    if local:
                        out[1, r, mt] += 1
                    else:
                        out[2, r, mt] += 1
                    if readmission[r, k]:
                        out[4, r, mt] += 1
                mf = _month(edges, f)
                if mf >= 0:
                    out[5, r, mf] += 1
                if served:
                    if not local:
                        ms = _month(edges, s)
                        if ms >= 0:
                            out[3, r, ms] += 1
                    _add_area(out[6, r], x, edges, s, f)
                    _open_at_ends(local_open, ends, s, f)
                if not local:
                    back = s if s < f else f
                    _add_area(out[7, r], x, edges, t, back)
                    _open_at_ends(oap_open, ends, t, back)
            _levels(out[8, r], local_open)
            _levels(out[9, r], oap_open)

    return queue_block, stays, tally_team, tally_ward


class NumbaKernels:
    """The same kernels compiled with numba, one replication at a time (identical results)."""

    name = "numba"

    def __init__(self) -> None:
        self._queue_block, self._stays, self._tally_team, self._tally_ward = _build_numba_kernels()

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
        self._queue_block(
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
        complete = self._stays(
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
        self._tally_team(
            c(edges, dtype=float), c(arrival), c(start), c(end), c(deadline), c(to_bed),
            float(standard), float(long_standard), out,
        )  # fmt: skip
        return dict(zip(TEAM_TALLIES, out, strict=True))

    def tally_ward(
        self, edges: np.ndarray, time: np.ndarray, start: np.ndarray, discharge: np.ndarray, readmission: np.ndarray
    ) -> dict[str, np.ndarray]:
        """See :func:`tally_ward_numpy`."""
        out = np.zeros((len(WARD_TALLIES), time.shape[0], edges.size - 1), dtype=np.int64)
        c = np.ascontiguousarray
        self._tally_ward(c(edges, dtype=float), c(time), c(start), c(discharge), c(readmission), out)
        return dict(zip(WARD_TALLIES, out, strict=True))


_NUMBA: NumbaKernels | None = None


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
