"""The ward's placement policy, one replication at a time: who gets a local bed, who goes out of area, who
comes back and when.

:func:`ward_row` is plain Python written in the subset numba compiles: the reference kernel set runs it as it
is (one replication after another) and the numba twin compiles this very function
(:mod:`paysim.engines._numba_kernels`), so the two agree bit for bit by construction. It is the same policy as
the SimPy model's :class:`paysim.engines.des.Ward`, event by event:

* a **bed request** at time ``t`` (stay ends at the fixed time ``f``, wherever it is spent) takes a free local
  bed; if there is none it waits locally (crisis team, A&E, a leave bed) for up to ``wait`` days;
* a **local bed that frees** goes to the longest-waiting such request; if nobody waits, to the longest-placed
  out-of-area patient who has been out for at least ``after`` days, provided more than ``reserve`` beds are free
  (so ``reserve`` beds stay free after they return), with repatriation on;
* a request still waiting at ``t + wait`` is **placed out of area** then; one whose stay ends first (``f <= t +
  wait``) ends without a bed;
* a placed patient becoming **eligible** to come back (``placed + after``) returns at once if a bed is free
  beyond the reserve and nobody waits locally.

Events at the same instant are taken in this order: a bed freeing, a wait running out, a patient becoming
eligible, a new request (so a bed freeing at the very time of a request is taken by it, as in Erlang's loss
system). With ``wait = 0``, ``after = 0`` and ``reserve = 0`` this is today's first-free-bed repatriation, and
without repatriation it is Erlang's loss system.
"""

from __future__ import annotations

import numpy as np


def ward_row(time, discharge, beds, wait, repatriate, after, reserve, horizon, heap, lq, oq, admit, placed, back):
    """Place one replication's bed requests (arrays of one row; see the module docstring for the policy).

    Parameters
    ----------
    time, discharge : ndarray ``[K]``
        Request times (days, sorted, ``+inf`` padding) and the times their stays end.
    beds, reserve : int
        Local beds, and beds a repatriation may not take.
    wait, after : float
        Days a request may wait locally; days out of area before a patient may come back.
    repatriate : bool
        Whether placed patients come back at all.
    horizon : float
        End of the simulated time (days); nothing is decided from then on.
    heap : ndarray ``[beds + 1]``
        Scratch space: the 4-ary min-heap of the times occupied local beds free (a shallower tree than a
        binary heap: fewer levels to walk per stay; any layout gives the same earliest time).
    lq, oq : ndarray of int64 ``[K]``
        Scratch space: the local waiting list and the out-of-area list, request numbers in order.
    admit, placed, back : ndarray ``[K]``, ``+inf`` on entry
        Written: local admission time, out-of-area placement time, repatriation time (``+inf``: never, or
        not before ``horizon``).
    """
    inf = np.inf
    n_req = time.shape[0]
    occupied = 0
    lq_head = 0
    lq_tail = 0
    oq_head = 0
    oq_tail = 0
    eligible_next = 0  # next entry of the out-of-area list whose eligibility is still to come
    i = 0
    now = -inf
    while True:
        # requests still on the local list whose stay ended while they were not yet first: nothing to place
        while lq_head < lq_tail and discharge[lq[lq_head]] <= now:
            lq_head += 1
        t_request = time[i] if i < n_req else inf
        t_free = heap[0] if occupied > 0 else inf
        t_wait = inf
        if lq_head < lq_tail:
            k = lq[lq_head]
            t_wait = min(discharge[k], time[k] + wait)
        if eligible_next < oq_head:
            eligible_next = oq_head
        t_eligible = placed[oq[eligible_next]] + after if repatriate and eligible_next < oq_tail else inf
        t = min(t_free, t_wait, t_eligible, t_request)
        if not t < horizon:
            break
        now = t
        if t == t_free:  # a local stay ends: pop the heap (4-ary: children 4p + 1 .. 4p + 4)
            occupied -= 1
            last = heap[occupied]
            pos = 0
            while True:
                child = 4 * pos + 1
                if child >= occupied:
                    break
                best = child
                best_value = heap[child]
                for other in range(child + 1, min(child + 4, occupied)):
                    if heap[other] < best_value:
                        best_value = heap[other]
                        best = other
                if best_value < last:
                    heap[pos] = best_value
                    pos = best
                else:
                    break
            heap[pos] = last
        elif t == t_wait:  # the first on the local list leaves it: placed out of area, or its stay is over
            k = lq[lq_head]
            lq_head += 1
            if discharge[k] > t:
                placed[k] = t
                if repatriate:
                    oq[oq_tail] = k
                    oq_tail += 1
        elif t == t_eligible:
            eligible_next += 1
        else:  # a new request joins the local list (and takes a free bed below, if there is one)
            lq[lq_tail] = i
            lq_tail += 1
            i += 1

        # free beds go to those waiting locally, then to eligible patients out of area beyond the reserve
        while occupied < beds:
            while lq_head < lq_tail and discharge[lq[lq_head]] <= t:
                lq_head += 1
            if lq_head < lq_tail:
                k = lq[lq_head]
                lq_head += 1
                admit[k] = t
            elif repatriate and beds - occupied > reserve:
                while oq_head < oq_tail and discharge[oq[oq_head]] <= t:
                    oq_head += 1
                if oq_head == oq_tail:
                    break
                k = oq[oq_head]
                if placed[k] + after > t:
                    break
                oq_head += 1
                back[k] = t
            else:
                break
            value = discharge[k]  # push the new stay's end onto the heap
            pos = occupied
            occupied += 1
            while pos > 0:
                parent = (pos - 1) // 4
                if heap[parent] <= value:
                    break
                heap[pos] = heap[parent]
                pos = parent
            heap[pos] = value
