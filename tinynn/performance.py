"""Opt-in tuning of the whole process, for programs that own it (the ``tinynn`` command,
the benchmarks).  Importing tinynn never calls this: a library does not change its host.

Thread pools need no tuning any more: tinynn runs its matrix products on Numba's threads
with OpenBLAS kept to one thread for the duration of each call (``kernels/blas.py``), so
one pool is awake at a time and nothing outlives the call.

Freed memory is what remains.  glibc hands the top of its heap back to the kernel when
more than a threshold is free there, and a training step frees most of what it allocated
at its end, so the next step page-faults it in again, one 4 KiB page at a time.  The
kernels' large outputs avoid that by themselves (``kernels/workspace.py`` keeps them
across steps); what is left is NumPy's own temporaries: 556 faults per LeNet-5 step,
5,350 per ResNet18 step, measured on the 2-core VM.  Raising glibc's mmap and trim
thresholds keeps those mapped too: LeNet-5 8.8 → 8.0 ms a step, the other seed models
within noise.  Peak memory is unchanged; the resident set just does not shrink after the
peak, for every library in the process.
"""
import ctypes
import ctypes.util
import sys

__all__ = ["tune_process"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = {}


def tune_process():
    """Keep freed heap memory mapped (glibc's ``mallopt``), for this whole process.

    Returns what was applied, ``{"malloc": True}`` or ``{"malloc": False}`` where the C
    library has no ``mallopt`` (not Linux, or not glibc).  Calling it again does nothing.
    """
    if "malloc" not in _applied:
        _applied["malloc"] = _keep_freed_memory()
    return dict(_applied)


def _keep_freed_memory():
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):          # musl and other libcs have no mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 1 << 30) and mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1))
