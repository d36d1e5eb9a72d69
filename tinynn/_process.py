"""Process-wide settings tinynn applies once, when it is imported.

Both exist because a training step alternates many short Numba kernels with
BLAS GEMMs, and the defaults of the C libraries underneath are tuned for the
opposite: one long computation at a time.

Threads that spin.  Numba's OpenMP threads and OpenBLAS's threads each keep
spinning for a while after their parallel work; on 2 cores they then steal the
cores from the other library's next kernel.  Measured on the 2-core VM: a LeNet
step took 70 ms with OpenMP spinning and 16 ms passive, and OpenBLAS's default
spin (2^28 cycles, ~0.1 s) cost another 13-20 % of every model's step (LeNet
17.4 → 15.1 ms, the Keras CIFAR CNN 80 → 65 ms) against 2^16 cycles (~25 µs,
still long enough to bridge the GEMMs of one batched matmul).  Variables the
user set are left alone.

Freed memory.  glibc serves allocations above 128 KiB with fresh ``mmap`` pages
and unmaps them on free, so every im2col buffer or activation of a training step
is page-faulted in again, one 4 KiB page at a time.  On the 2-core VM that was
half the time of im2col on ResNet18's 64-channel layers (53 ms → 27 ms).
Raising the mmap and trim thresholds makes glibc reuse freed heap memory, much
as PyTorch's caching allocator does.  Peak memory is unchanged; the resident set
just does not shrink after the peak.  ``TINYNN_MALLOC_TUNING=0`` leaves malloc
alone.
"""
import ctypes
import ctypes.util
import os
import sys

OPENBLAS_SPIN_LOG2_CYCLES = "16"
APPLIED = {}        # the environment variables this module set (not the user)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def calm_spinning_threads():
    """OMP_WAIT_POLICY=PASSIVE (read when Numba first starts its OpenMP threads) and a
    short OpenBLAS spin (read when OpenBLAS loads, i.e. on NumPy's import: if NumPy
    is already imported, OpenBLAS is asked to read its settings again)."""
    _set_default("OMP_WAIT_POLICY", "PASSIVE")
    if _set_default("OPENBLAS_THREAD_TIMEOUT", OPENBLAS_SPIN_LOG2_CYCLES) and "numpy" in sys.modules:
        for library in _loaded_openblas_libraries():
            library.openblas_read_env()
            library.blas_thread_shutdown_()      # its threads restart, with the new spin, on the next GEMM


def environment_without_our_settings():
    """``os.environ`` less the variables this module set: for a child process that must start
    its thread pools with their own defaults (PyTorch, timed as the benchmarks' yardstick)."""
    return {name: value for name, value in os.environ.items() if name not in APPLIED}


def _set_default(name, value):
    if name in os.environ:
        return False
    os.environ[name] = APPLIED[name] = value
    return True


def _loaded_openblas_libraries():
    """The OpenBLAS builds mapped into this process that export the two functions above
    (NumPy's wheels do); none where /proc/self/maps does not exist."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    libraries = []
    for path in sorted(p for p in paths if p.startswith("/")):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(library, "openblas_read_env") and hasattr(library, "blas_thread_shutdown_"):
            libraries.append(library)
    return libraries


def keep_freed_memory():
    """Best effort: only on Linux with glibc, and only once per process."""
    if os.environ.get("TINYNN_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):          # musl and other libcs have no mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 1 << 30) and mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1))
