"""The numba twin's team kernel (talking therapies, community, crisis): one replication in one compiled pass.

:meth:`paysim.engines._numba_kernels.NumbaKernels.team` runs it. The NumPy reference
(:meth:`paysim.engines._kernels.NumpyKernels.team`) builds a team's results in stages over a chunk of
replications: arrival times, the queue, then the monthly tallies, each stage writing ``[replications,
customers]`` arrays for the next. Here one compiled call takes one replication's draws (drawn by numpy in
bulk, from the same streams in the same order) and does the rest customer by customer: sort each day's
arrivals, merge in the ward's step-downs, run the FIFO queue and add each customer to the monthly tallies as
soon as its start and end are known. The places' free times are kept in a loser (tournament) tree: taking the
earliest free time and putting back the customer's end replays one fixed path of log2(places) matches, one
branch-free comparison each (0.2-0.9x the time of the 4-ary heap it replaced, standalone, and 0.87x the whole
default scenario per replication, numba, one thread, same run). Nothing is held per customer but the draws, so
the work stays in cache: 10-20 % faster (one / two threads) than the staged kernels it replaced. Referral
outcomes (assessed and not treated, dropout, recovery; :mod:`paysim.engines.referral_outcomes`) come in as
per-referral flags computed by numpy (empty arrays when a key is at its default), with a dropout's episode
already shortened; so do the days from allocation to the first appointment (already in the time a place is
held; added here to the wait).

It does the same arithmetic on the same numbers as the reference (``tests/test_vector_exact.py`` checks
bit-identical results). The caller runs replications on threads; the kernel releases the GIL.
"""

from __future__ import annotations

import numpy as np

from paysim.engines.slots import TEAM, TICKS_PER_DAY

_kernels: dict = {}


_month_ends_before = None
_tree_build = None
_tree_replace = None


def team_line(outcomes: bool = False):
    """The compiled kernel (built, or loaded from numba's cache, on first use). ``outcomes``: the build that
    reads the referral-outcome flags and the days to the first appointment, for a line that sets one of their
    keys; the other build has that code compiled out, so a line without them runs exactly the kernel it ran
    before the keys existed."""
    if outcomes not in _kernels:
        _kernels[outcomes] = _build(outcomes)
    return _kernels[outcomes]


def _build(outcomes: bool):
    import numba

    global _month_ends_before, _tree_build, _tree_replace
    # The helpers are module globals, not closure cells: a cell holding a dispatcher pickles differently in
    # every process, so numba's cache would miss (and compile the kernel again, about a second) in each one.
    inline = numba.njit(inline="always", nogil=True, cache=True)
    ticks_per_day = TICKS_PER_DAY
    with_outcomes = bool(outcomes)  # a closure constant: the two builds compile (and cache) apart
    # tally slots (closure constants, from the one declaration in paysim.engines.slots)
    referrals_, started_, within_, within_long_ = (
        TEAM["referrals"],
        TEAM["started"],
        TEAM["started_within_standard"],
        TEAM["started_within_long_standard"],
    )
    wait_ticks_, caseload_ticks_, in_treatment_end_, waiting_end_ = (
        TEAM["wait_ticks"],
        TEAM["caseload_ticks"],
        TEAM["in_treatment_end"],
        TEAM["waiting_end"],
    )
    withdrawn_, completed_, admissions_ = TEAM["withdrawn"], TEAM["completed"], TEAM["admissions"]
    assessed_only_, dropped_out_, recovered_ = TEAM["assessed_only"], TEAM["dropped_out"], TEAM["recovered"]

    if _month_ends_before is None:

        @inline
        def month_ends_before(t, edges, day_month, horizon, months):
            """Number of month ends strictly before t (for levels at month ends)."""
            if t >= 0.0 and t < horizon:
                m = day_month[np.int64(t)]
                return m if t > edges[m] else max(m - 1, 0)
            if t >= horizon:
                return months if t > horizon else months - 1
            return 0

        _month_ends_before = month_ends_before

    if _tree_build is None:

        @numba.njit(nogil=True, cache=True)
        def tree_build(opening):
            """A loser tree over the places' free times ``opening``: ``(key, index, size)``. Leaf ``i`` of
            ``size`` (a power of two; leaves past the places hold ``+inf``) is place ``i``; internal node ``n``
            (1 .. size - 1, children ``2n``, ``2n + 1``) holds the loser of the match there (its free time and
            leaf), node 0 the winner: the earliest free time."""
            places = opening.size
            size = 1
            while size < places:
                size *= 2
            key = np.empty(size)
            index = np.empty(size, np.int64)
            win_key = np.full(2 * size, np.inf)
            win_index = np.empty(2 * size, np.int64)
            for i in range(size):
                win_index[size + i] = i
                if i < places:
                    win_key[size + i] = opening[i]
            for node in range(size - 1, 0, -1):
                left = 2 * node
                right = left + 1
                if win_key[right] < win_key[left]:
                    left, right = right, left
                win_key[node], win_index[node] = win_key[left], win_index[left]
                key[node], index[node] = win_key[right], win_index[right]
            key[0], index[0] = win_key[1], win_index[1]
            return key, index, size

        @inline
        def tree_replace(key, index, size, value):
            """The winner's place takes free time ``value``; replay its matches up to the root. Written without
            branches on the keys (selects, not jumps): a loser tree's path is fixed, so one comparison a level
            and nothing to mispredict, against a 4-ary heap's four comparisons and a data-dependent path."""
            node = (index[0] + size) >> 1
            cur_key = value
            cur_index = index[0]
            while node > 0:
                k = key[node]
                i = index[node]
                swap = k < cur_key
                key[node] = cur_key if swap else k
                index[node] = cur_index if swap else i
                cur_key = k if swap else cur_key
                cur_index = i if swap else cur_index
                node >>= 1
            key[0] = cur_key
            index[0] = cur_index

        _tree_build, _tree_replace = tree_build, tree_replace

    @numba.njit(cache=True, nogil=True)
    def kernel(
        counts, days, uniforms, episodes, patience, assessed_only, dropped_out, recovers, first_appointment,
        bed_need, gate, share, share_full, opening, extra_time, extra_episode, extra_patience,
        edges, day_month, standard, long_standard, out, bed_time, bed_index,
    ):  # fmt: skip
        """One replication of a team (arguments as :meth:`paysim.engines._numba_kernels.NumbaKernels.team`
        passes them). Adds its tallies to ``out`` and returns how many gatekept bed requests it wrote to
        ``bed_time``/``bed_index`` (time, and the referral's number in the replication). ``assessed_only``,
        ``dropped_out``, ``recovers``: per external referral, or empty when nobody is; ``first_appointment``:
        days from allocation to the first appointment per external referral (already in ``episodes``), or
        empty when every first appointment is at once. ``opening``: when each place opens, ascending (``-inf``
        for the first year's places, ``365 y`` for those added at the start of contract year ``y``; see
        :func:`paysim.engines.vector.opening_times`), the queue's first state."""
        months = edges.size - 1
        horizon = edges[months]
        x = (edges * ticks_per_day).astype(np.int64)
        in_treatment = np.zeros(months + 1, np.int64)  # difference arrays over month ends
        waiting = np.zeros(months + 1, np.int64)
        full = np.zeros(months + 1, np.int64)  # caseload area: whole months and partial ticks
        part = np.zeros(months + 1, np.int64)

        places = opening.size
        # free times of the places (-inf: free since ever; a place added at T: busy until T) in a loser tree
        tree_key, tree_index, tree_size = _tree_build(opening)

        n_days = counts.size
        widest = 1
        for d in range(n_days):
            widest = max(widest, counts[d])
        first = np.zeros(widest + 1, np.int64)
        drawn = np.empty(widest)
        held = np.empty(widest)  # today's arrival offsets, sorted
        day = -1
        n_today = 0
        q = 0
        n_extra = extra_time.size
        j = 0
        n_bed = 0
        iu = 0
        ix = 0
        assessing = with_outcomes and assessed_only.size > 0
        dropping = with_outcomes and dropped_out.size > 0
        recovering = with_outcomes and recovers.size > 0
        booking = with_outcomes and first_appointment.size > 0

        while True:
            # --- next referral: today's next external one or the next step-down, whichever is first ---
            while q == n_today and day + 1 < n_days:
                day += 1
                n = counts[day]
                n_today = n
                q = 0
                if n == 1:
                    held[0] = uniforms[iu]
                    iu += 1
                elif n > 1:  # bucket sort (one bucket per value) then insertion sort: O(1) per value
                    first[: n + 1] = 0
                    for i in range(n):
                        u = uniforms[iu]
                        iu += 1
                        drawn[i] = u
                        first[min(np.int64(u * n), n - 1) + 1] += 1
                    for i in range(n):
                        first[i + 1] += first[i]
                    for i in range(n):
                        u = drawn[i]
                        b = min(np.int64(u * n), n - 1)
                        held[first[b]] = u
                        first[b] += 1
                    for i in range(1, n):
                        u = held[i]
                        p = i - 1
                        while p >= 0 and held[p] > u:
                            held[p + 1] = held[p]
                            p -= 1
                        held[p + 1] = u
            a_ext = days[day] + held[q] if q < n_today else np.inf
            a_sd = extra_time[j] if j < n_extra else np.inf
            if not (a_ext < np.inf or a_sd < np.inf):
                break
            gatekept = False
            bed_u = 0.0
            bed_number = 0
            assessed = False
            leaves = False  # a dropout
            recovered = False
            booked = 0.0  # days from allocation to the first appointment (0 for a step-down)
            if a_ext <= a_sd:
                a = a_ext
                q += 1
                hold = episodes[ix]
                deadline = a + patience[ix]
                if gate:
                    gatekept = True
                    bed_u = bed_need[ix]
                    bed_number = ix
                if assessing:
                    assessed = assessed_only[ix]
                if dropping:
                    leaves = dropped_out[ix]
                if recovering:
                    recovered = recovers[ix]
                if booking:
                    booked = first_appointment[ix]
                ix += 1
            else:
                a = a_sd
                hold = extra_episode[j]
                deadline = a + extra_patience[j]
                j += 1

            if assessed:  # assessed and not treated: a referral in its month, never on the list
                if a >= 0.0 and a < horizon:
                    m = day_month[np.int64(a)]
                    out[referrals_, m] += 1
                    out[assessed_only_, m] += 1
                continue

            # --- FIFO: start at the earliest free place unless that is after the deadline --------------
            earliest = tree_key[0] if places > 0 else np.inf
            s = a if a > earliest else earliest
            ok = s <= deadline and s < np.inf
            to_bed = False
            if gatekept and bed_u < (share_full if earliest > a else share):
                to_bed = True
                ok = False
            e = np.inf
            if ok:
                e = s + hold
                _tree_replace(tree_key, tree_index, tree_size, e)
            else:
                s = np.inf

            # --- monthly tallies (slots of TEAM_TALLIES; see tally_team_numpy) ------------------------
            ma = day_month[np.int64(a)] if a >= 0.0 and a < horizon else -1
            if ma >= 0:
                out[referrals_, ma] += 1
            if to_bed:
                if ma >= 0:
                    out[admissions_, ma] += 1
                bed_time[n_bed] = a
                bed_index[n_bed] = bed_number
                n_bed += 1
                continue
            waiting[_month_ends_before(a, edges, day_month, horizon, months)] += 1
            if s < np.inf:
                wait = s - a
                if booking:
                    wait = wait + booked  # the wait runs to the first appointment
                s_ends = _month_ends_before(s, edges, day_month, horizon, months)
                e_ends = _month_ends_before(e, edges, day_month, horizon, months)
                # month and tick of s and of e for the caseload area, written out twice: an inlined helper
                # returning the pair measured about 20 % slower for the whole kernel
                s_pos = 0
                s_tick = np.int64(0)
                if s >= 0.0 and s < horizon:
                    ms = day_month[np.int64(s)]
                    s_pos = ms
                    s_tick = np.int64(np.floor(s * ticks_per_day))
                    out[started_, ms] += 1
                    if wait <= standard:
                        out[within_, ms] += 1
                    if wait <= long_standard:
                        out[within_long_, ms] += 1
                    out[wait_ticks_, ms] += np.int64(np.floor(wait * ticks_per_day))
                elif s >= horizon:
                    s_pos = months
                    s_tick = x[months]
                e_pos = 0
                e_tick = np.int64(0)
                if e >= 0.0 and e < horizon:
                    me = day_month[np.int64(e)]
                    e_pos = me
                    e_tick = np.int64(np.floor(e * ticks_per_day))
                    if leaves:
                        out[dropped_out_, me] += 1
                    else:
                        out[completed_, me] += 1
                        if recovered:
                            out[recovered_, me] += 1
                elif e >= horizon:
                    e_pos = months
                    e_tick = x[months]
                waiting[s_ends] -= 1
                in_treatment[s_ends] += 1
                in_treatment[e_ends] -= 1
                full[e_pos] -= 1  # caseload ticks: [0, e) minus [0, s)
                part[e_pos] += e_tick - x[e_pos]
                full[s_pos] += 1
                part[s_pos] -= s_tick - x[s_pos]
            else:
                if deadline >= 0.0 and deadline < horizon:
                    out[withdrawn_, day_month[np.int64(deadline)]] += 1
                waiting[_month_ends_before(deadline, edges, day_month, horizon, months)] -= 1

        treat = 0
        wait_level = 0
        for m in range(months):
            treat += in_treatment[m]
            wait_level += waiting[m]
            out[in_treatment_end_, m] += treat
            out[waiting_end_, m] += wait_level
        full_months = 0  # full[p] holds -(ends at p) + (starts at p): month m is covered iff s_pos < m < e_pos
        for m in range(months - 1, -1, -1):
            full_months -= full[m + 1]
            out[caseload_ticks_, m] += full_months * (x[m + 1] - x[m]) + part[m]
        return n_bed

    return kernel
