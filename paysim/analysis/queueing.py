"""Closed-form queueing results that the engines are validated against.

* Erlang's loss formula (Erlang B): the share of bed requests that find every local bed full when OAP
  patients never come back (insensitive to the length-of-stay distribution).
* Erlang C: the chance of waiting and the mean wait in an M/M/c queue (community team, exponential
  episodes, no withdrawals).
* M/G/infinity: with repatriation every free local bed is filled at once, so local occupancy is
  min(N, beds) with N ~ Poisson(offered load) people needing a bed.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability with ``servers`` places and ``offered_load`` erlangs (arrival rate x mean stay)."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (needs offered_load < servers)."""
    if offered_load >= servers:
        raise ValueError(f"offered_load must be < servers for a stable queue, got {offered_load} >= {servers}")
    b = erlang_b(servers, offered_load)
    rho = offered_load / servers
    return b / (1 - rho * (1 - b))


def mmc_mean_wait(arrival_rate: float, mean_service: float, servers: int) -> float:
    """Mean wait before service in an M/M/c queue, in the time unit of the inputs (days)."""
    load = arrival_rate * mean_service
    return erlang_c(servers, load) * mean_service / (servers - load)


def mmc_wait_exceeds(arrival_rate: float, mean_service: float, servers: int, t: float) -> float:
    """P(wait > t) in an M/M/c queue: C(c, a) exp(-(c mu - lambda) t)."""
    load = arrival_rate * mean_service
    return erlang_c(servers, load) * np.exp(-(servers / mean_service - arrival_rate) * t)


def mginf_local_and_overflow(offered_load: float, beds: int) -> tuple[float, float]:
    """Mean local occupancy E[min(N, beds)] and mean number out of area E[(N - beds)+], N ~ Poisson."""
    n = np.arange(beds)
    below = stats.poisson.pmf(n, offered_load)
    local = float((n * below).sum() + beds * stats.poisson.sf(beds - 1, offered_load))
    return local, offered_load - local
