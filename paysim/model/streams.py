"""Random streams: one independent generator per (seed, replication, stream name).

Every stochastic element of a model draws from its own named stream, seeded with
``SeedSequence(seed, spawn_key=(replication, crc32(name)))``. So a replication's draws do not depend on
which process runs it or on how replications are chunked, and a scenario variant (more beds) that does
not change demand sees exactly the same arrivals and lengths of stay (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_id(name: str) -> int:
    """A stable 32-bit id for a stream name (crc32; never Python's salted ``hash``)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` of ``replication`` under root ``seed``."""
    sequence = np.random.SeedSequence(seed, spawn_key=(int(replication), stream_id(name)))
    return np.random.Generator(np.random.PCG64(sequence))


class Draws:
    """Hands out values of one stream one at a time, drawing them in blocks for speed.

    The values handed out do not depend on the block size, because numpy draws a block as a
    sequence of single draws. ``draw`` is a function ``(rng, n) -> array of n values``.
    """

    def __init__(self, rng: np.random.Generator, draw, block: int = 512) -> None:
        self._rng = rng
        self._draw = draw
        self._block = block
        self._buffer = np.empty(0)
        self._next = 0

    def __call__(self) -> float:
        if self._next == len(self._buffer):
            self._buffer = self._draw(self._rng, self._block)
            self._next = 0
        value = self._buffer[self._next]
        self._next += 1
        return float(value)
