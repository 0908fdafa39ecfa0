"""Sequential kernels of the vector engine: the NumPy reference (the numba twin is in ``_numba_kernels``).

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
need; it is kept per replication in a 16-ary heap here, and in numba in a loser tree (the team kernel)
or a 4-ary heap (:meth:`~paysim.engines._numba_kernels.NumbaKernels.queue_block`): any layout gives the same
minimum, so the results agree bit for bit. This is exact in continuous time: no time step. The same kernel runs

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

from typing import TYPE_CHECKING

import numpy as np

from paysim.activity import OAP_LENGTH_BANDS
from paysim.engines._rows import by_row, compact
from paysim.engines._ward import ward_row
from paysim.engines.referral_outcomes import FLAGS
from paysim.engines.settings import numba_available, numba_chosen, set_threads, threads  # noqa: F401 (old path)
from paysim.engines.slots import INF, TEAM_TALLIES, TICKS_PER_DAY, WARD_TALLIES  # noqa: F401 (old path)

if TYPE_CHECKING:
    from paysim.engines.seams import Beds, TeamInputs

ARITY = 16
"""Children per node of the NumPy heap: a shallow tree means few vectorised steps per customer."""
_CHILDREN = np.arange(1, ARITY + 1)


# --- NumPy reference ----------------------------------------------------------------------------------


class NumpyKernels:
    """The reference kernels: NumPy, vectorised over replications."""

    name = "numpy"

    @staticmethod
    def new_heap(replications: int, opening: np.ndarray) -> np.ndarray:
        """Free times of a team's places per replication, each place free from its opening time.

        Parameters
        ----------
        replications:
            Rows of the heap.
        opening:
            ``[places]`` time (days) each place opens, ascending: ``-inf`` = free since ever, ``T`` = a place
            added at ``T``, which in a FIFO queue is a place busy until ``T``
            (:func:`paysim.engines.vector.opening_times`). Ascending values are a valid heap of any arity.
            ``[replications, places]`` gives each row its own, a row with fewer places padded with ``+inf`` (a
            place that never opens: the earliest free time, all the queue reads, is unchanged).

        Returns
        -------
        ndarray, shape ``[replications, places + 1]``
            A 16-ary min-heap per row and a ``+inf`` sentinel column.
        """
        places = opening.shape[-1]
        heap = np.empty((replications, places + 1))
        heap[:, :places] = opening
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
        share: float | np.ndarray = -1.0,
        share_full: float | np.ndarray = -1.0,
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
            taken on arrival) goes to a bed instead; ``None`` for no gatekeeping. The shares are scalars or
            ``[R]`` (each row its own).

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
        share: float | np.ndarray,
        window: float | np.ndarray,
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
            Readmission share and window (days), scalars or ``[R]`` (each row its own); end of the simulated
            time (days).

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
        share = by_row(share, rows_all)
        window = by_row(window, rows_all)
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
                pend_t[who, first_free[again]] = (t[again] + stay[again]) + du[k][again] * window[again]
                pend_l[who, first_free[again]] = rl[k][again]
        raise AssertionError("unreachable")

    def team(self, inputs: TeamInputs) -> tuple[dict[str, np.ndarray], Beds | None]:
        """Run a team's FIFO queue over its referrals window by window (:meth:`queue_block`, all replications
        at once) and tally its measures (:func:`tally_team_numpy`).

        Parameters
        ----------
        inputs:
            The team's figures (per row) and draws; this kernel set reads ``inputs.windows()``.

        Returns
        -------
        sums : dict of ndarray ``[R, month]``
            The team's tallies, :data:`~paysim.engines.slots.TEAM_TALLIES`, int64.
        beds : tuple of ndarray ``[R, n]``, or None
            With gatekeeping, the bed requests: times (``+inf`` padding) and referral numbers (``-1`` padding).
        """
        heap = self.new_heap(inputs.rows, inputs.opening)
        sums: dict[str, np.ndarray] = {}
        beds_t: list[np.ndarray] = []
        beds_index: list[np.ndarray] = []
        for block in inputs.windows():
            arrival = block["arrival"]
            deadline = arrival + block["patience"]
            assessed_only = block.get("assessed_only")
            if assessed_only is not None:  # never on the list: a deadline before arrival keeps them off the queue
                deadline = np.where(assessed_only, -INF, deadline)
            if inputs.gatekeeping:
                start, end, to_bed = self.queue_block(
                    heap, arrival, deadline, block["episode"], False, block["bed_u"], inputs.share, inputs.share_full
                )
            else:
                start, end, to_bed = self.queue_block(heap, arrival, deadline, block["episode"], False)
            block_sums = tally_team_numpy(
                inputs.edges, arrival, start, end, deadline, to_bed, inputs.standard, inputs.long_standard,
                **{key: block.get(key) for key in (*FLAGS, "first_appointment")},
            )  # fmt: skip
            for key, values in block_sums.items():
                sums[key] = sums[key] + values if key in sums else np.array(values, dtype=np.int64)
            if inputs.gatekeeping:
                beds_t.append(compact(arrival, to_bed, INF))
                beds_index.append(compact(block["index"], to_bed, -1.0))
        if not inputs.gatekeeping:
            return sums, None
        times = np.concatenate(beds_t, axis=1)
        index = np.concatenate(beds_index, axis=1)
        keep = np.isfinite(times)
        return sums, (compact(times, keep, INF), compact(index, keep, -1.0))

    @staticmethod
    def tally_ward(
        edges: np.ndarray,
        time: np.ndarray,
        admit: np.ndarray,
        placed: np.ndarray,
        back: np.ndarray,
        discharge: np.ndarray,
        readmission: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """See :func:`tally_ward_numpy`."""
        return tally_ward_numpy(edges, time, admit, placed, back, discharge, readmission)

    @staticmethod
    def ward(
        time: np.ndarray,
        discharge: np.ndarray,
        beds: int | np.ndarray,
        wait: float | np.ndarray,
        repatriate: bool | np.ndarray,
        after: float | np.ndarray,
        reserve: int | np.ndarray,
        horizon: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Place every replication's bed requests: :func:`paysim.engines._ward.ward_row`, row by row.

        Parameters
        ----------
        time, discharge:
            ``[R, K]`` request times (sorted per row, ``+inf`` padding) and the times the stays end (days).
        beds, wait, repatriate, after, reserve:
            Local beds and the placement policy (``services.inpatient.oap``; ``reserve`` in beds): scalars, or
            ``[R]`` (each row its own).
        horizon:
            End of the simulated time (days).

        Returns
        -------
        admit, placed, back : ndarray ``[R, K]``
            Local admission, out-of-area placement and repatriation times (days; ``+inf``: none).
        """
        rows = time.shape[0]
        admit, placed, back = (np.full(time.shape, INF) for _ in range(3))
        figures = zip(  # each row's, as Python scalars (ward_row is plain Python here)
            by_row(beds, rows, int).tolist(), by_row(wait, rows).tolist(), by_row(repatriate, rows, bool).tolist(),
            by_row(after, rows).tolist(), by_row(reserve, rows, int).tolist(), strict=True,
        )  # fmt: skip
        scratch = _ward_scratch(time.shape[1], int(np.max(beds, initial=0)))
        for r, (row_beds, row_wait, row_repatriate, row_after, row_reserve) in enumerate(figures):
            ward_row(
                time[r], discharge[r], row_beds, row_wait, row_repatriate, row_after, row_reserve, horizon,
                *scratch, admit[r], placed[r], back[r],
            )  # fmt: skip
        return admit, placed, back


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
    standard: float | np.ndarray,
    long_standard: float | np.ndarray,
    assessed_only: np.ndarray | None = None,
    dropped_out: np.ndarray | None = None,
    recovers: np.ndarray | None = None,
    first_appointment: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Monthly tallies of a block of a team's customers (all ``[R, K]``), see :data:`TEAM_TALLIES`. The
    standards (days) are scalars or ``[R]`` (each row its own).

    ``assessed_only``, ``dropped_out``, ``recovers`` (bool ``[R, K]``, or None when nobody is) are the
    referral outcomes of :mod:`paysim.engines.referral_outcomes`: an assessed-only referral counts in its
    referral month and never joins the list; a dropout's end counts as ``dropped_out``, not ``completed``.
    ``first_appointment`` (days ``[R, K]``, or None when every first appointment is at once) is added to each
    starter's wait, ``start - arrival``: the wait the mean and the standards count runs to the first
    appointment, while the start (the place allocated) keeps its month.
    """
    present = arrival < INF
    served = start < INF
    joined = present & ~to_bed
    zero = np.zeros((arrival.shape[0], edges.size - 1), dtype=np.int64)
    assessed = zero
    if assessed_only is not None:
        joined &= ~assessed_only
        assessed = count_by_month(edges, arrival, present & assessed_only)
    finished = served
    dropped = zero
    if dropped_out is not None:
        finished = served & ~dropped_out
        dropped = count_by_month(edges, end, served & dropped_out)
    recovered = zero if recovers is None else count_by_month(edges, end, finished & recovers)
    with np.errstate(invalid="ignore"):
        wait = np.where(served, start - arrival, 0.0)
    if first_appointment is not None:
        wait = wait + first_appointment
    standard = np.reshape(standard, (-1, 1))  # a column: each row's own
    long_standard = np.reshape(long_standard, (-1, 1))
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
        "completed": count_by_month(edges, end, finished),
        "admissions": count_by_month(edges, arrival, to_bed),
        "assessed_only": assessed,
        "dropped_out": dropped,
        "recovered": recovered,
    }


def tally_ward_numpy(
    edges: np.ndarray,
    time: np.ndarray,
    admit: np.ndarray,
    placed: np.ndarray,
    back: np.ndarray,
    discharge: np.ndarray,
    readmission: np.ndarray,
) -> dict[str, np.ndarray]:
    """Monthly tallies of bed requests (all ``[R, K]``; times from :meth:`NumpyKernels.ward`), see
    :data:`WARD_TALLIES`. A request is local from its admission or repatriation to its discharge, out of area
    from its placement to its repatriation or discharge, and waits locally from its request to whichever of
    admission, placement and discharge comes first."""
    present = time < INF
    in_bed = np.minimum(admit, back)  # local from admission, or from repatriation
    local = in_bed < INF
    out = placed < INF
    out_end = np.minimum(back, discharge)
    wait_end = np.minimum(np.minimum(admit, placed), discharge)
    with np.errstate(invalid="ignore"):  # inf - inf where never placed
        length = out_end - placed
    ended_waiting = present & (admit == INF) & (placed == INF)
    tallies = {
        "bed_requests": count_by_month(edges, time, present),
        "local_admissions": count_by_month(edges, admit, admit < INF),
        "oap_admissions": count_by_month(edges, placed, out),
        "repatriations": count_by_month(edges, back, back < INF),
        "readmissions": count_by_month(edges, time, readmission),
        "discharges": count_by_month(edges, discharge, present),
        "local_bed_ticks": area_by_month(edges, in_bed, discharge, local),
        "oap_bed_ticks": area_by_month(edges, placed, out_end, out),
        "local_end": level_by_month(edges, in_bed, discharge, local),
        "oap_end": level_by_month(edges, placed, out_end, out),
        "waiting_end": level_by_month(edges, time, wait_end, present),
        "bed_wait_ticks": area_by_month(edges, time, wait_end, present),
        "ended_waiting": count_by_month(edges, discharge, ended_waiting),
        "oap_ended": count_by_month(edges, out_end, out),
    }
    low = -INF
    for band, high in OAP_LENGTH_BANDS.items():
        tallies[band] = count_by_month(edges, out_end, out & (length > low) & (length <= high))
        low = high
    return tallies


def _ward_scratch(requests: int, beds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scratch arrays for :func:`paysim.engines._ward.ward_row`: the bed heap and the two waiting lists."""
    return np.empty(beds + 1), np.empty(max(requests, 1), np.int64), np.empty(max(requests, 1), np.int64)
