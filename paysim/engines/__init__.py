"""The engines: the SimPy model (the reference) and the vector engine with its two kernel sets.

- :mod:`paysim.engines.des`: the SimPy model, one process per patient.
- :mod:`paysim.engines.vector`: the same model for many replications at once; draws every random number and
  keeps the bookkeeping of a chunk, and hands the sequential work to a kernel set.
- :mod:`paysim.engines.seams`: what a kernel set does (:class:`~paysim.engines.seams.Kernels`) and what it is
  given (:class:`~paysim.engines.seams.TeamInputs`).
- :mod:`paysim.engines._kernels` (the NumPy reference) and :mod:`paysim.engines._numba_kernels` with
  :mod:`paysim.engines._numba_team` (the numba twin): both implement the interface in full, bit for bit alike;
  :mod:`paysim.engines.kernel_sets` chooses one.
- :mod:`paysim.engines.slots` (tally slots), :mod:`paysim.engines.flow` (the order in which lines feed each
  other), :mod:`paysim.engines.settings` (threads, the numba switch): each declared once.
- :mod:`paysim.engines.reuse` (a line's results kept between runs), :mod:`paysim.engines.warm` (compiling the
  kernels ahead of a run: ``paysim warm-up``), :mod:`paysim.engines.referral_outcomes`, and the helpers
  :mod:`paysim.engines._rows`, :mod:`paysim.engines._tally`, :mod:`paysim.engines._ward`.
"""
