"""The ``'cuda'`` device: availability checks and host/device copies.

A real GPU needs the ``cuda`` extra (``pip install -e ".[cuda]"``: CuPy and
NVIDIA's numba-cuda).  Under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``
set before Python starts) the ``'cuda'`` device is backed by NumPy arrays so
that the dispatch code and the CUDA kernels run on a machine without a GPU.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["is_available", "is_simulator", "to_device_array"]


def is_simulator() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"


def _why_unavailable():
    """None when a GPU can be used, else the reason in words."""
    if is_simulator():
        return None
    try:
        import cupy  # noqa: F401  (only checks that CuPy imports)
    except ImportError:
        return ("CuPy is not installed; install the GPU extra with pip install -e \".[cuda]\" "
                "(or set NUMBA_ENABLE_CUDASIM=1 to run the CUDA kernels in Numba's simulator)")
    try:
        from numba import cuda
        if not cuda.is_available():
            return "Numba found no CUDA GPU or driver on this machine"
    except Exception as exc:  # a broken driver raises all sorts of errors
        return f"Numba could not initialise CUDA: {exc}"
    return None


def is_available() -> bool:
    return _why_unavailable() is None


def to_device_array(array):
    reason = _why_unavailable()
    if reason is not None:
        raise RuntimeError(f"to('cuda'): no CUDA device available: {reason}")
    if is_simulator():
        return np.array(array)  # a copy, as a real host-to-device transfer would be
    import cupy
    return cupy.asarray(array)
