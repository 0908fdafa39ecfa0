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

from paysim.activity import OAP_LENGTH_BANDS
from paysim.engines._kernels import INF, TICKS_PER_DAY, WARD_TALLIES, _numba_max_threads, threads
from paysim.engines._ward import ward_row


def _build_numba_kernels(parallel: bool = False):
    """Compile the numba kernels. ``parallel``: replications are spread over numba's threads with
    ``prange`` (each replication reads and writes only its own rows, so results do not change)."""
    import numba

    global _sift, _stays_row, _ward_row, _count, _interval
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

    inline = numba.njit(cache=True, nogil=True, inline="always")
    ticks_per_day = TICKS_PER_DAY

    @inline
    def position(t, edges, day_month, x):
        """Month and tick of time t clipped to the horizon, for areas: (month, tick) with month = months and
        tick = the last edge from the horizon's end on, (0, 0) before its start."""
        months = edges.size - 1
        if t >= edges[months]:
            return months, x[months]
        if t >= 0.0:
            return day_month[np.int64(t)], np.int64(np.floor(t * ticks_per_day))
        return 0, x[0]

    @inline
    def ends_before(t, edges, day_month):
        """Number of month ends strictly before t (where a level that changes at t starts or stops counting)."""
        months = edges.size - 1
        horizon = edges[months]
        if t >= 0.0 and t < horizon:
            m = day_month[np.int64(t)]
            return m if t > edges[m] else max(m - 1, 0)
        if t >= horizon:
            return months if t > horizon else months - 1
        return 0

    @inline
    def count(row, t, edges, day_month):
        """Add one event at time t to its month of ``row`` (nothing outside the horizon)."""
        if t >= 0.0 and t < edges[edges.size - 1]:
            row[day_month[np.int64(t)]] += 1

    @inline
    def interval(opened, full, part, u, v, edges, day_month, x):
        """Add the interval [u, v) to a level's difference array and an area's whole months and partial ticks."""
        opened[ends_before(u, edges, day_month)] += 1
        opened[ends_before(v, edges, day_month)] -= 1
        pv, tv = position(v, edges, day_month, x)
        pu, tu = position(u, edges, day_month, x)
        full[pv] -= 1
        part[pv] += tv - x[pv]
        full[pu] += 1
        part[pu] -= tu - x[pu]

    _sift, _stays_row = sift, stays_row
    _ward_row = numba.njit(cache=True, nogil=True)(ward_row)
    _count, _interval = count, interval
    return _build_kernels(numba, njit, rows_loop)


_sift = None
_stays_row = None
_ward_row = None
_count = None
_interval = None


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

    @njit
    def ward(time, discharge, beds, wait, repatriate, after, reserve, horizon, admit, placed, back):
        rows_all, requests = time.shape
        for r in rows_loop(rows_all):
            heap = np.empty(beds + 1)
            lq = np.empty(max(requests, 1), np.int64)
            oq = np.empty(max(requests, 1), np.int64)
            _ward_row(
                time[r], discharge[r], beds, wait, repatriate, after, reserve, horizon, heap, lq, oq,
                admit[r], placed[r], back[r],
            )  # fmt: skip

    bands = np.array(list(OAP_LENGTH_BANDS.values()))  # upper limits (days) of the OAP length bands
    slot = {name: i for i, name in enumerate(WARD_TALLIES)}
    requests_, local_, oap_, repatriations_, readmissions_, discharges_, ended_waiting_, oap_ended_, band_0 = (
        slot[name]
        for name in (
            "bed_requests", "local_admissions", "oap_admissions", "repatriations", "readmissions", "discharges",
            "ended_waiting", "oap_ended", next(iter(OAP_LENGTH_BANDS)),
        )
    )  # fmt: skip
    # per kind of stay (local, out of area, waiting locally): its level at month ends and its area in ticks
    stocks = np.array(
        [
            [slot["local_end"], slot["local_bed_ticks"]],
            [slot["oap_end"], slot["oap_bed_ticks"]],
            [slot["waiting_end"], slot["bed_wait_ticks"]],
        ]
    )

    @njit
    def tally_ward(edges, day_month, time, admit, placed, back, discharge, readmission, out):
        """Rows of ``out`` as WARD_TALLIES (see tally_ward_numpy); levels and areas by difference arrays."""
        months = edges.size - 1
        x = (edges * TICKS_PER_DAY).astype(np.int64)
        rows_all, requests = time.shape
        for r in rows_loop(rows_all):
            opened = np.zeros((3, months + 1), np.int64)  # as stocks: local, out of area, waiting locally
            full = np.zeros((3, months + 1), np.int64)
            part = np.zeros((3, months + 1), np.int64)
            for k in range(requests):
                t = time[r, k]
                if not t < np.inf:
                    break
                a = admit[r, k]
                p = placed[r, k]
                b = back[r, k]
                f = discharge[r, k]
                _count(out[requests_, r], t, edges, day_month)
                if readmission[r, k]:
                    _count(out[readmissions_, r], t, edges, day_month)
                _count(out[discharges_, r], f, edges, day_month)
                wait_end = min(min(a, p), f)
                _interval(opened[2], full[2], part[2], t, wait_end, edges, day_month, x)
                if a < np.inf:
                    _count(out[local_, r], a, edges, day_month)
                    _interval(opened[0], full[0], part[0], a, f, edges, day_month, x)
                elif p < np.inf:
                    out_end = min(b, f)
                    _count(out[oap_, r], p, edges, day_month)
                    _interval(opened[1], full[1], part[1], p, out_end, edges, day_month, x)
                    _count(out[oap_ended_, r], out_end, edges, day_month)
                    length = out_end - p
                    band = 0
                    while length > bands[band]:
                        band += 1
                    _count(out[band_0 + band, r], out_end, edges, day_month)
                    if b < np.inf:
                        _count(out[repatriations_, r], b, edges, day_month)
                        _interval(opened[0], full[0], part[0], b, f, edges, day_month, x)
                else:
                    _count(out[ended_waiting_, r], f, edges, day_month)
            for j in range(3):
                level_row = stocks[j, 0]
                area_row = stocks[j, 1]
                level = 0
                for m in range(months):
                    level += opened[j, m]
                    out[level_row, r, m] += level
                whole = 0  # full[p] holds -(ends at p) + (starts at p): month m is covered iff start < m < end
                for m in range(months - 1, -1, -1):
                    whole -= full[j, m + 1]
                    out[area_row, r, m] += whole * (x[m + 1] - x[m]) + part[j, m]

    return queue_block, stays, tally_ward, ward


_KERNEL_NAMES = ("queue_block", "stays", "tally_ward", "ward")


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
        self,
        edges: np.ndarray,
        time: np.ndarray,
        admit: np.ndarray,
        placed: np.ndarray,
        back: np.ndarray,
        discharge: np.ndarray,
        readmission: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """See :func:`tally_ward_numpy`."""
        out = np.zeros((len(WARD_TALLIES), time.shape[0], edges.size - 1), dtype=np.int64)
        c = np.ascontiguousarray
        self._call(
            "tally_ward", time.shape[0], c(edges, dtype=float), _day_month(edges), c(time, dtype=float),
            c(admit, dtype=float), c(placed, dtype=float), c(back, dtype=float), c(discharge, dtype=float),
            c(readmission), out,
        )  # fmt: skip
        return dict(zip(WARD_TALLIES, out, strict=True))

    def ward(
        self,
        time: np.ndarray,
        discharge: np.ndarray,
        beds: int,
        wait: float,
        repatriate: bool,
        after: float,
        reserve: int,
        horizon: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """See :meth:`NumpyKernels.ward` (the same row function, compiled)."""
        admit, placed, back = (np.full(time.shape, INF) for _ in range(3))
        c = np.ascontiguousarray
        self._call(
            "ward", time.shape[0], c(time, dtype=float), c(discharge, dtype=float), int(beds), float(wait),
            bool(repatriate), float(after), int(reserve), float(horizon), admit, placed, back,
        )  # fmt: skip
        return admit, placed, back


def _day_month(edges: np.ndarray) -> np.ndarray:
    """Month index of each whole day of the horizon (edges are whole days from 0)."""
    return np.repeat(np.arange(edges.size - 1), np.diff(edges).astype(np.int64)).astype(np.int64)
