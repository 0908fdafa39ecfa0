"""Random streams: one independent generator per (seed, replication, stream name).

Every stochastic element of a model draws from its own named stream, seeded with
``SeedSequence(seed, spawn_key=(replication, crc32(name)))``. So a replication's draws do not depend on
which process runs it or on how replications are chunked, and a scenario variant (more beds) that does
not change demand sees exactly the same arrivals and lengths of stay (common random numbers).

The stream names are declared here once. A service line's streams are ``<line>.<part>`` with the parts below;
which parts each line draws is declared with the line (:attr:`paysim.model.lines.ServiceLine.streams`), and the
engines name a stream with :func:`paysim.model.lines.line_stream`, which refuses a part the line does not
declare. A name is part of the results: renaming a stream changes every draw it makes.
"""

from __future__ import annotations

import zlib

import numpy as np

# Parts of a line's stream names, ``<line>.<part>`` (the strings are the streams' identities; never rename one).
ARRIVALS = "arrivals"
"""Arrival times (referrals, or a ward's direct admissions)."""
EPISODE_DAYS = "episode_days"
"""Days of treatment per external referral, in arrival order."""
PATIENCE = "patience"
"""Days a referral waits before it leaves the list (abandonment)."""
FIRST_APPOINTMENT = "first_appointment"
"""Days from a place being allocated to the first appointment."""
ASSESSMENT = "assessment"
"""One uniform per external referral: assessed and not treated, or on the list."""
DROPOUT = "dropout"
"""One uniform per external referral: drops out of treatment, and when."""
RECOVERY = "recovery"
"""One uniform per external referral: reliably recovers on finishing."""
BED_NEED = "bed_need"
"""Crisis: one uniform per referral, gatekept straight into a bed or not."""
LOS = "los"
"""Length of stay of an admission (the crisis line's gatekept admissions draw their own)."""
READMISSION = "readmission"
"""Ward: one uniform per bed request, readmitted or not."""
READMISSION_DELAY = "readmission_delay"
"""Ward: one uniform per bed request, the days to the readmission within the window."""
READMISSION_LOS = "readmission_los"
"""Ward: the length of stay of the readmission."""
STEPDOWN_EPISODE = "stepdown_episode"
"""Community: days of treatment of a step-down from the ward."""
STEPDOWN_PATIENCE = "stepdown_patience"
"""Community: patience of a step-down from the ward."""
INITIAL = "initial"
"""The people a line holds at the start of the warm-up with ``initial_state: steady`` (how many, and each one's
remaining days; :mod:`paysim.engines.initial`)."""

UNCERTAIN = "uncertain"
"""The stream of a replication's parameter draw (:mod:`paysim.model.uncertainty`); not a line's."""


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
