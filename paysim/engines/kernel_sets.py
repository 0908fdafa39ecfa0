"""The kernel sets of the vector engine, and the choice between them.

Both implement :class:`paysim.engines.seams.Kernels` in full and agree bit for bit: the NumPy reference
(:class:`~paysim.engines._kernels.NumpyKernels`) and its numba twin
(:class:`~paysim.engines._numba_kernels.NumbaKernels`, compiled on first use or loaded from numba's on-disk
cache).
"""

from __future__ import annotations

from paysim.engines._kernels import NumpyKernels
from paysim.engines._numba_kernels import NumbaKernels
from paysim.engines.seams import Kernels
from paysim.engines.settings import numba_chosen

_NUMBA: NumbaKernels | None = None


def kernels(use_numba: bool | None = None) -> Kernels:
    """The kernel set to use.

    Parameters
    ----------
    use_numba:
        True: numba (ImportError if it is missing); False: NumPy; None: numba if it is importable and the
        environment variable ``PAYSIM_NUMBA`` is not ``0`` (:func:`~paysim.engines.settings.numba_chosen`).
    """
    global _NUMBA
    if not numba_chosen(use_numba):
        return NumpyKernels()
    if _NUMBA is None:
        _NUMBA = NumbaKernels()
    return _NUMBA
