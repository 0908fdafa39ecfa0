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
how much of its episode it stays: a dropout's mean time in treatment is half the mean episode. A stream is
drawn only when its key is away from its default, so a scenario that does not use a key draws exactly
the numbers it drew before these keys existed. Step-down referrals from a ward into community are not
external referrals: they are always treated and never drop out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from paysim.scenario import ReferralLine, TalkingTherapies, TreatmentLine

FLAGS = ("assessed_only", "dropped_out", "recovers")
"""The per-referral flags of :class:`Outcomes` (each None when its key is at its default)."""


def outcome_streams(name: str, line: ReferralLine) -> dict[str, str]:
    """The outcome draws line ``name`` needs, ``{draw: stream name}``: only those whose key is away from its
    default (none for crisis, none for a line that leaves every key at its default)."""
    streams: dict[str, str] = {}
    if isinstance(line, TreatmentLine):
        if line.treated_share < 1.0:
            streams["assessment"] = f"{name}.assessment"
        if line.dropout_share > 0.0:
            streams["dropout"] = f"{name}.dropout"
    if isinstance(line, TalkingTherapies) and line.recovery_share is not None:
        streams["recovery"] = "talking_therapies.recovery"
    return streams


@dataclass(frozen=True)
class Outcomes:
    """Outcomes of external referrals, arrays of one shape (``[n]`` in the SimPy model, ``[R, K]`` in the
    vector engine's windows); a flag is None when its key is at its default (nobody has it).

    Attributes
    ----------
    held:
        Days a referral holds its place if it starts: its episode, or for a dropout the part it stays.
    assessed_only:
        Assessed and not treated: counted as a referral (and ``<line>.assessed_only``), never on the list.
    dropped_out:
        Leaves treatment after ``held`` days without finishing (``<line>.dropped_out``, not ``completed``).
    recovers:
        Finishes its course and reliably recovers (``talking_therapies.recovered``); never a dropout.
    """

    held: np.ndarray
    assessed_only: np.ndarray | None = None
    dropped_out: np.ndarray | None = None
    recovers: np.ndarray | None = None


def referral_outcomes(line: ReferralLine, episode: np.ndarray, draws: Mapping[str, np.ndarray]) -> Outcomes:
    """Outcomes of external referrals from their episode lengths and outcome draws.

    Parameters
    ----------
    line:
        The referral line (its ``treated_share``, ``dropout_share``, ``recovery_share``).
    episode:
        Episode lengths (days), any shape.
    draws:
        ``{draw: uniforms}`` of the same shape as ``episode``, for exactly the draws of
        :func:`outcome_streams`.

    Returns
    -------
    Outcomes
        Arrays of ``episode``'s shape.
    """
    held = episode
    assessed_only = dropped_out = recovers = None
    if "assessment" in draws:
        assessed_only = draws["assessment"] >= line.treated_share
    if "dropout" in draws:
        u = draws["dropout"]
        share = line.dropout_share
        dropped_out = u < share
        held = np.where(dropped_out, episode * (u / share), episode)
    if "recovery" in draws:
        recovers = draws["recovery"] < line.recovery_share
        if dropped_out is not None:
            recovers = recovers & ~dropped_out
    return Outcomes(held, assessed_only, dropped_out, recovers)
