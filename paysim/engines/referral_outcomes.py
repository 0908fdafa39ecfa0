"""What becomes of a referral to talking therapies or community: assessed and not treated, dropped out, or a
finished course (and, in talking therapies, reliable recovery).

NHS Talking Therapies figures (docs/sources.md, last section): about 67 % of referrals enter treatment, about 55 %
of starters finish a course, and about 48-50 % of finishers reliably recover. The scenario keys
``treated_share``, ``dropout_share`` (talking therapies and community) and ``recovery_share`` (talking
therapies) set these shares; both engines turn them into per-referral outcomes here, from one uniform per
**external** referral of the line, in arrival order (as ``<line>.episode_days`` is drawn), each from its own
stream:

==============================  =================  ==========================================================
stream                          key (default)      referral *k* with uniform ``u_k``
==============================  =================  ==========================================================
``<line>.assessment``           ``treated_share``  joins the list iff ``u_k < treated_share``; otherwise it is
                                (1)                assessed and not treated (counted, never on the list)
``<line>.dropout``              ``dropout_share``  if it starts, drops out iff ``u_k < dropout_share``, after
                                (0)                ``episode_k x u_k / dropout_share`` days in treatment
``talking_therapies.recovery``  ``recovery_share`` if it finishes, reliably recovers iff
                                (null)             ``u_k < recovery_share``
==============================  =================  ==========================================================

Given ``u < p``, ``u / p`` is uniform on ``[0, 1)``, so one draw decides both whether a starter drops out and
how much of its episode it stays: a dropout's mean time in treatment is half the mean episode.

**The first appointment.** The waiting standards count from referral to the *first treatment appointment*,
and once a place is allocated (a therapist or care coordinator has room) that appointment still has to be
booked. With ``first_appointment_days`` set (a :class:`~paysim.model.distributions.Duration`), referral *k* draws
``b_k`` days from the stream ``<line>.first_appointment`` (one draw per external referral in arrival order,
whatever becomes of it, as ``<line>.episode_days``). A referral allocated a place at ``s_k`` holds it from
``s_k`` to ``s_k + b_k + time in treatment`` (its episode, or a dropout's part of it: ``b_k`` comes first), and
its wait is ``s_k - referral_k + b_k``: that is the wait ``wait_days_mean`` and the standards count. ``started``
and the caseload keep their timing (an allocated patient is on a clinician's caseload from ``s_k``). In a big
FIFO team everybody allocated a place on the same day has waited about as long, so without this the share
within a standard is near 0 or near 1; the dispersion of real waits comes from here.

A stream is drawn only when its key is away from its default, so a scenario that does not use a key draws
exactly the numbers it drew before these keys existed. Step-down referrals from a ward into community are not
external referrals: they are always treated, have their first appointment at once (``b = 0``) and never drop
out; they draw from streams of their own (``community.stepdown_*``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from paysim.model import streams as st
from paysim.model.lines import line_stream
from paysim.model.scenario import ReferralLine, TalkingTherapies, TreatmentLine

FLAGS = ("assessed_only", "dropped_out", "recovers")
"""The per-referral flags of :class:`Outcomes` (each None when its key is at its default)."""


def first_appointment_stream(name: str, line: ReferralLine) -> str | None:
    """The stream of line ``name``'s days from allocation to first appointment, or None when
    ``first_appointment_days`` is null (the first appointment at once; nothing drawn) or the line has no such key
    (crisis)."""
    if isinstance(line, TreatmentLine) and line.first_appointment_days is not None:
        return line_stream(name, st.FIRST_APPOINTMENT)
    return None


def uses_outcomes(name: str, line: ReferralLine) -> bool:
    """True when line ``name`` sets any key of this module (an outcome share or the first appointment)."""
    return bool(outcome_streams(name, line)) or first_appointment_stream(name, line) is not None


def outcome_streams(name: str, line: ReferralLine) -> dict[str, str]:
    """The outcome draws line ``name`` needs, ``{draw: stream name}``: only those whose key is away from its
    default (none for crisis, none for a line that leaves every key at its default)."""
    streams: dict[str, str] = {}
    if isinstance(line, TreatmentLine):
        if line.treated_share < 1.0:
            streams["assessment"] = line_stream(name, st.ASSESSMENT)
        if line.dropout_share > 0.0:
            streams["dropout"] = line_stream(name, st.DROPOUT)
    if isinstance(line, TalkingTherapies) and line.recovery_share is not None:
        streams["recovery"] = line_stream(name, st.RECOVERY)
    return streams


@dataclass(frozen=True)
class Outcomes:
    """Outcomes of external referrals, arrays of one shape (``[n]`` in the SimPy model, ``[R, K]`` in the
    vector engine's windows); a flag is None when its key is at its default (nobody has it).

    Attributes
    ----------
    held:
        Days a referral holds its place if it starts: the days to its first appointment, then its episode, or for
        a dropout the part of it it stays.
    assessed_only:
        Assessed and not treated: counted as a referral (and ``<line>.assessed_only``), never on the list.
    dropped_out:
        Leaves treatment after ``held`` days without finishing (``<line>.dropped_out``, not ``completed``).
    recovers:
        Finishes its course and reliably recovers (``talking_therapies.recovered``); never a dropout.
    first_appointment:
        Days from the place being allocated to the first appointment (float; None when
        ``first_appointment_days`` is null): added to the referral's wait, and included in ``held``.
    """

    held: np.ndarray
    assessed_only: np.ndarray | None = None
    dropped_out: np.ndarray | None = None
    recovers: np.ndarray | None = None
    first_appointment: np.ndarray | None = None


@dataclass(frozen=True)
class RowShares:
    """The outcome shares of a chunk's rows when each row has its own scenario: what :func:`referral_outcomes`
    reads of a line, as ``[R, 1]`` columns (to broadcast over ``[R, K]`` draws).

    A row whose key is at its default (or null) holds the share that leaves every referral at the default outcome
    when its draws are 0, as they are for a row that draws nothing from that stream (the vector engine pads such a
    row with 0): treated share 1, dropout share 0, recovery share 0.
    """

    treated_share: np.ndarray
    dropout_share: np.ndarray
    recovery_share: np.ndarray

    @classmethod
    def of(cls, lines: Sequence[ReferralLine]) -> RowShares:
        """The shares of each row's line, ``lines[i]`` for row *i*."""

        def column(key: str, default: float) -> np.ndarray:
            values = [getattr(line, key, None) for line in lines]
            return np.array([[default if value is None else value] for value in values], dtype=float)

        return cls(column("treated_share", 1.0), column("dropout_share", 0.0), column("recovery_share", 0.0))


def referral_outcomes(
    line: ReferralLine | RowShares,
    episode: np.ndarray,
    draws: Mapping[str, np.ndarray],
    first_appointment: np.ndarray | None = None,
) -> Outcomes:
    """Outcomes of external referrals from their episode lengths and outcome draws.

    Parameters
    ----------
    line:
        The referral line (its ``treated_share``, ``dropout_share``, ``recovery_share``), or each row's shares
        (:class:`RowShares`, for ``[R, K]`` arrays).
    episode:
        Episode lengths (days), any shape.
    draws:
        ``{draw: uniforms}`` of the same shape as ``episode``, for exactly the draws of
        :func:`outcome_streams`.
    first_appointment:
        Days from allocation to the first appointment (``episode``'s shape, drawn from
        :func:`first_appointment_stream`), or None when the line's ``first_appointment_days`` is null.

    Returns
    -------
    Outcomes
        Arrays of ``episode``'s shape; ``held`` is ``first_appointment + time in treatment``.
    """
    held = episode
    assessed_only = dropped_out = recovers = None
    if "assessment" in draws:
        assessed_only = draws["assessment"] >= line.treated_share
    if "dropout" in draws:
        u = draws["dropout"]
        share = line.dropout_share
        dropped_out = u < share
        with np.errstate(divide="ignore", invalid="ignore"):  # a row of RowShares at dropout share 0: nobody
            held = np.where(dropped_out, episode * (u / share), episode)
    if "recovery" in draws:
        recovers = draws["recovery"] < line.recovery_share
        if dropped_out is not None:
            recovers = recovers & ~dropped_out
    if first_appointment is not None:
        held = first_appointment + held
    return Outcomes(held, assessed_only, dropped_out, recovers, first_appointment)


def draw_outcomes(
    name: str, line: ReferralLine, episode: np.ndarray, rng: Callable[[str], np.random.Generator]
) -> Outcomes:
    """Outcomes of all ``n`` external referrals of one replication (``episode``: ``[n]`` days), drawing
    ``n`` values from each stream in use (``rng(stream name)`` gives its generator), as the SimPy model and the
    vector engine's numba path take them; the NumPy path draws the same values window by window."""
    n = len(episode)
    draws = {key: rng(stream_name).random(n) for key, stream_name in outcome_streams(name, line).items()}
    appointment_stream = first_appointment_stream(name, line)
    first_appointment = None
    if appointment_stream is not None:
        first_appointment = line.first_appointment_days.sample(rng(appointment_stream), n)
    return referral_outcomes(line, episode, draws, first_appointment)
