"""The numba twin of the vector engine's sequential kernels (:mod:`paysim.engines._kernels`).

Each kernel walks one replication at a time and takes the same inputs as the NumPy reference; both only
compare, take maxima and add the same operands in the same order, so they return the same numbers bit for
bit. With more than one thread (:func:`paysim.engines._kernels.threads`) a second build spreads
replications over numba's threads with ``prange``; each replication reads and writes only its own rows, so
results do not depend on the thread count. Used only when numba is installed (the ``fast`` extra).
"""

from __future__ import annotations

import threading

import numpy as np

from paysim.engines._kernels import INF, TICKS_PER_DAY, WARD_TALLIES, _numba_max_threads, threads


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

    @numba.njit(cache=True, nogil=True, inline="always")  # inlined where called: a call costs more than a step
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

    return queue_block, stays, tally_ward


_KERNEL_NAMES = ("queue_block", "stays", "tally_ward")


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


def _day_month(edges: np.ndarray) -> np.ndarray:
    """Month index of each whole day of the horizon (edges are whole days from 0)."""
    return np.repeat(np.arange(edges.size - 1), np.diff(edges).astype(np.int64)).astype(np.int64)
