"""The ``'cuda'`` device: availability checks and host/device copies.

A real GPU needs the ``cuda`` extra (``pip install -e ".[cuda]"``: CuPy and
NVIDIA's numba-cuda).  Under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``
set before Python starts) the ``'cuda'`` device is backed by NumPy arrays so
that the dispatch code and the CUDA kernels run on a machine without a GPU.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["is_available", "is_simulator", "to_device_array", "device_count", "current_device",
           "get_device_name", "synchronize", "manual_seed", "manual_seed_all"]


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


def device_count() -> int:
    if not is_available():
        return 0
    if is_simulator():
        return 1
    from numba import cuda
    return len(cuda.gpus)


def current_device() -> int:
    return 0


def get_device_name(index=0) -> str:
    if is_simulator():
        return "Numba CUDA simulator"
    from numba import cuda
    return cuda.gpus[index].name.decode() if is_available() else "no CUDA device"


def synchronize():
    """Wait for the GPU's queued work (CuPy's default stream); nothing to wait for otherwise."""
    if is_available() and not is_simulator():
        import cupy
        cupy.cuda.Stream.null.synchronize()


def manual_seed(seed):
    """Accepted for PyTorch scripts: tinynn draws every random number, GPU tensors' included,
    from one generator on the CPU, which ``tinynn.manual_seed`` seeds."""


manual_seed_all = manual_seed


def to_device_array(array):
    reason = _why_unavailable()
    if reason is not None:
        raise RuntimeError(f"to('cuda'): no CUDA device available: {reason}")
    if is_simulator():
        return np.array(array)  # a copy, as a real host-to-device transfer would be
    import cupy
    return cupy.asarray(array)
