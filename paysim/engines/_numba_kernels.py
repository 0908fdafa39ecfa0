"""The numba twin of the vector engine's sequential kernels (:mod:`paysim.engines._kernels`).

Each kernel walks one replication at a time and takes the same inputs as the NumPy reference; both only
compare, take maxima and add the same operands in the same order, so they return the same numbers bit for
bit. With more than one thread (:func:`paysim.engines.settings.threads`) a second build spreads
replications over numba's threads with ``prange``; each replication reads and writes only its own rows, so
results do not depend on the thread count. The team kernel, one pass per replication, is in
:mod:`paysim.engines._numba_team`. Tally slots come from :mod:`paysim.engines.slots`.
"""

from __future__ import annotations

import threading

import numpy as np

from paysim.activity import OAP_LENGTH_BANDS
from paysim.engines._numba_team import team_line
from paysim.engines._rows import by_row, day_month, pad, per_row
from paysim.engines._ward import ward_row
from paysim.engines.seams import Beds, TeamInputs
from paysim.engines.settings import numba_max_threads, threads
from paysim.engines.slots import INF, TEAM_TALLIES, TICKS_PER_DAY, WARD, WARD_TALLIES


def _build_numba_kernels(parallel: bool = False):
    """Compile the numba kernels. ``parallel``: replications are spread over numba's threads with
    ``prange`` (each replication reads and writes only its own rows, so results do not change)."""
    import numba

    global _sift, _stays_row, _ward_row
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
    _ward_row = numba.njit(cache=True, nogil=True)(ward_row)
    return _build_kernels(numba, njit, rows_loop)


_sift = None
_stays_row = None
_ward_row = None


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
                    gate_share = share_full[r] if earliest > a else share[r]
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
                r, base_time, base_los, readmit_u, delay_u, readmit_los, share[r], window[r], horizon, time, los, readm
            )
        return not short.any()

    ticks_per_day = TICKS_PER_DAY

    @njit
    def ward(time, discharge, beds, wait, repatriate, after, reserve, horizon, admit, placed, back):
        rows_all, requests = time.shape
        for r in rows_loop(rows_all):
            heap = np.empty(beds[r] + 1)
            lq = np.empty(max(requests, 1), np.int64)
            oq = np.empty(max(requests, 1), np.int64)
            _ward_row(
                time[r], discharge[r], beds[r], wait[r], repatriate[r], after[r], reserve[r], horizon, heap, lq, oq,
                admit[r], placed[r], back[r],
            )  # fmt: skip

    bands = np.array(list(OAP_LENGTH_BANDS.values()))  # upper limits (days) of the OAP length bands
    slot = WARD
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
        """Rows of ``out`` as WARD_TALLIES (see tally_ward_numpy). Each request lists its events (slot, time)
        and its intervals (kind of stay, start, end); one loop then adds each to its month, and levels and
        areas go through difference arrays (written out here once: numba helper calls taking arrays cost
        more than the work they do)."""
        months = edges.size - 1
        horizon = edges[months]
        x = (edges * ticks_per_day).astype(np.int64)
        rows_all, requests = time.shape
        for r in rows_loop(rows_all):
            opened = np.zeros((3, months + 1), np.int64)  # rows as stocks: local, out of area, waiting locally
            full = np.zeros((3, months + 1), np.int64)  # whole months of area: -(ends at m) + (starts at m)
            part = np.zeros((3, months + 1), np.int64)  # partial ticks of area in month m
            event_slot = np.empty(8, np.int64)
            event_time = np.empty(8)
            span_kind = np.empty(3, np.int64)
            span_from = np.empty(3)
            span_to = np.empty(3)
            for k in range(requests):
                t = time[r, k]
                if not t < np.inf:
                    break
                a = admit[r, k]
                p = placed[r, k]
                b = back[r, k]
                f = discharge[r, k]
                event_slot[0], event_time[0] = requests_, t
                event_slot[1], event_time[1] = discharges_, f
                n_events = 2
                if readmission[r, k]:
                    event_slot[n_events], event_time[n_events] = readmissions_, t
                    n_events += 1
                span_kind[0], span_from[0], span_to[0] = 2, t, min(min(a, p), f)  # waiting locally
                n_spans = 1
                if a < np.inf:
                    event_slot[n_events], event_time[n_events] = local_, a
                    span_kind[1], span_from[1], span_to[1] = 0, a, f
                    n_events += 1
                    n_spans = 2
                elif p < np.inf:
                    out_end = min(b, f)
                    length = out_end - p
                    band = 0
                    while length > bands[band]:
                        band += 1
                    event_slot[n_events], event_time[n_events] = oap_, p
                    event_slot[n_events + 1], event_time[n_events + 1] = oap_ended_, out_end
                    event_slot[n_events + 2], event_time[n_events + 2] = band_0 + band, out_end
                    n_events += 3
                    span_kind[1], span_from[1], span_to[1] = 1, p, out_end
                    n_spans = 2
                    if b < np.inf:
                        event_slot[n_events], event_time[n_events] = repatriations_, b
                        span_kind[2], span_from[2], span_to[2] = 0, b, f
                        n_events += 1
                        n_spans = 3
                else:
                    event_slot[n_events], event_time[n_events] = ended_waiting_, f
                    n_events += 1
                for e in range(n_events):
                    te = event_time[e]
                    if te >= 0.0 and te < horizon:
                        out[event_slot[e], r, day_month[np.int64(te)]] += 1
                for i in range(n_spans):
                    j = span_kind[i]
                    for end_point, sign in ((span_from[i], 1), (span_to[i], -1)):
                        # level: open at the month ends after the start, up to the one before the end
                        if end_point >= 0.0 and end_point < horizon:
                            m = day_month[np.int64(end_point)]
                            opened[j, m if end_point > edges[m] else max(m - 1, 0)] += sign
                            full[j, m] += sign
                            part[j, m] -= sign * (np.int64(np.floor(end_point * ticks_per_day)) - x[m])
                        elif end_point >= horizon:
                            opened[j, months if end_point > horizon else months - 1] += sign
                            full[j, months] += sign
                        else:
                            opened[j, 0] += sign
                            full[j, 0] += sign
            for j in range(3):
                level_row = stocks[j, 0]
                area_row = stocks[j, 1]
                level = 0
                for m in range(months):
                    level += opened[j, m]
                    out[level_row, r, m] += level
                whole = 0  # month m is wholly covered iff the interval starts before it and ends after it
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
        n = min(threads(), numba_max_threads(), rows)
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
    def new_heap(replications: int, opening: np.ndarray) -> np.ndarray:
        """``[replications, places]`` 4-ary min-heaps of free times, each place free from its opening time
        (``opening``: ``[places]`` ascending, ``-inf`` = free since ever, or ``[replications, places]`` each row's
        own, ``+inf`` padded; see :meth:`~paysim.engines._kernels.NumpyKernels.new_heap`)."""
        opening = np.asarray(opening, dtype=float)
        return np.array(np.broadcast_to(opening, (replications, opening.shape[-1])))

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
        """See :meth:`~paysim.engines._kernels.NumpyKernels.queue_block`."""
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
            np.ascontiguousarray(by_row(share, shape[0])),
            np.ascontiguousarray(by_row(share_full, shape[0])),
            start,
            end,
            to_bed,
        )
        return start, end, to_bed

    def team(self, inputs: TeamInputs) -> tuple[dict[str, np.ndarray], Beds | None]:
        """See :meth:`~paysim.engines._kernels.NumpyKernels.team`: here each replication's draws whole
        (``inputs.replication(row)``) go through :mod:`paysim.engines._numba_team` in one compiled pass
        (replications spread over :func:`threads`; the kernel releases the GIL), with that row's figures."""
        kernel = team_line(outcomes=inputs.outcomes)
        edges = np.asarray(inputs.edges, dtype=float)
        months = day_month(edges)
        out = np.zeros((inputs.rows, len(TEAM_TALLIES), edges.size - 1), dtype=np.int64)
        share, share_full, standard, long_standard = (
            by_row(figure, inputs.rows).tolist()
            for figure in (inputs.share, inputs.share_full, inputs.standard, inputs.long_standard)
        )

        def one(row: int) -> tuple[np.ndarray, np.ndarray]:
            d = inputs.replication(row)
            room = d.uniforms.size if inputs.gatekeeping else 0
            bed_time, bed_index = np.empty(room), np.empty(room)
            k = kernel(
                d.counts, inputs.days, d.uniforms, d.episodes, d.patience, d.assessed_only, d.dropped_out,
                d.recovers, d.first_appointment, d.bed_need, inputs.gatekeeping, share[row], share_full[row],
                inputs.opening_of(row), d.extra_time, d.extra_episode, d.extra_patience, edges, months, standard[row],
                long_standard[row], out[row], bed_time, bed_index,
            )  # fmt: skip
            return bed_time[:k], bed_index[:k]

        beds = per_row(one, range(inputs.rows))
        sums = dict(zip(TEAM_TALLIES, out.transpose(1, 0, 2), strict=True))
        if not inputs.gatekeeping:
            return sums, None
        return sums, (pad([t for t, _ in beds], INF), pad([index for _, index in beds], -1.0))

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
        """See :meth:`~paysim.engines._kernels.NumpyKernels.stays`."""
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
            np.ascontiguousarray(by_row(share, shape[0])),
            np.ascontiguousarray(by_row(window, shape[0])),
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
        """See :func:`~paysim.engines._kernels.tally_ward_numpy`."""
        out = np.zeros((len(WARD_TALLIES), time.shape[0], edges.size - 1), dtype=np.int64)
        c = np.ascontiguousarray
        self._call(
            "tally_ward", time.shape[0], c(edges, dtype=float), day_month(edges), c(time, dtype=float),
            c(admit, dtype=float), c(placed, dtype=float), c(back, dtype=float), c(discharge, dtype=float),
            c(readmission), out,
        )  # fmt: skip
        return dict(zip(WARD_TALLIES, out, strict=True))

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
        """See :meth:`~paysim.engines._kernels.NumpyKernels.ward` (the same row function, compiled)."""
        admit, placed, back = (np.full(time.shape, INF) for _ in range(3))
        c = np.ascontiguousarray
        rows = time.shape[0]
        self._call(
            "ward", rows, c(time, dtype=float), c(discharge, dtype=float), c(by_row(beds, rows, np.int64)),
            c(by_row(wait, rows)), c(by_row(repatriate, rows, np.bool_)), c(by_row(after, rows)),
            c(by_row(reserve, rows, np.int64)), float(horizon), admit, placed, back,
        )  # fmt: skip
        return admit, placed, back
