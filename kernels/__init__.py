"""tinynn's fast path: Numba kernels as pure functions on arrays, CPU and CUDA.

Nothing here imports tinynn.  The engine reaches this folder through one door,
``tinynn/backend.py``, which hands each op one of two backend modules:

    cpu_backend.py    NumPy arrays: Numba loops + OpenBLAS
    cuda_backend.py   CuPy arrays: Numba CUDA kernels + cuBLAS

Each module provides every function of the ``tinynn.backend.Backend`` protocol, as does
the readable NumPy reference in ``tinynn/reference/``; the tests hold every kernel equal
to that reference.  The files, one concept each:

    plan.py          which algorithm runs a convolution (shared by CPU and CUDA)
    conv.py          runs a plan: GEMMs around the device's im2col / depthwise / Winograd
    im2col.py        im2col / col2im loops            depthwise.py   depthwise loops
    winograd.py      Winograd F(4×4, 3×3)             geometry.py    window index arithmetic
    tiled_conv.py    float32 conv in register tiles   tiles.py       the tiles, in LLVM IR
    pool.py          max / average pooling            batchnorm.py   batch-norm statistics
    elementwise.py   ReLU, erf                        cuda_*.py      the CUDA kernels
    quantized.py     int8 products, quantised layers  vnni.py        the same with AVX-512 VNNI
    vnni_conv.py     int8 convolution, VNNI, no im2col
    sparse.py        CSR × dense                      affine.py      float ↔ 8-bit, a row at a time
    optim.py         Adam's update in one pass
    ahead.py         a helper process that compiles the backward kernels while the forward pass runs

``NUMBA_DISABLE_JIT=1`` turns every CPU kernel back into plain Python that a debugger can
step through.
"""
import hashlib
import types
from pathlib import Path


def twin(func, suffix):
    """A copy of ``func`` under another name, for a second ``njit`` of it with other options
    (a serial twin of a parallel kernel).  Numba's cache names a kernel's machine code after
    its function's qualified name, line and signature, not after the options it was compiled
    with, so two ``njit(cache=True)`` of one function load each other's code: a parallel kernel
    once ran serial code from the cache, 2× slower on 2 cores."""
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__ + suffix, func.__defaults__,
                              func.__closure__)
    copy.__qualname__, copy.__doc__ = func.__qualname__ + suffix, func.__doc__
    return copy


def drop_stale_cache(folder=Path(__file__).parent):
    """Delete this folder's cached kernels when any of its sources changed since they were
    compiled.  Numba's ``cache=True`` checks only each kernel's own file, but the kernels
    inline helpers from other files (``geometry.py``), so after an edit or an upgrade a kernel
    could run stale machine code.  A digest of all the sources, kept beside the cache, says
    when; a cache folder that cannot be written is left alone."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.glob("*.py")))).hexdigest()
    cache = folder / "__pycache__"
    stamp = cache / "tinynn-kernels.sha256"
    try:
        recorded = stamp.read_text()
    except OSError:                            # the first run, or an unreadable cache
        recorded = None
    if recorded == digest:
        return False
    try:
        cache.mkdir(exist_ok=True)
        for compiled in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            compiled.unlink()
        stamp.write_text(digest)
    except OSError:
        return False
    return True


def has_compiled_kernels(folder=Path(__file__).parent):
    """Whether any kernel was compiled into Numba's cache before (under ``NUMBA_CACHE_DIR``
    where it is set, else beside the sources): if not, a model's first step compiles."""
    import numba
    place = Path(numba.config.CACHE_DIR) if numba.config.CACHE_DIR else folder / "__pycache__"
    return place.is_dir() and next(place.rglob("*.nbi"), None) is not None


drop_stale_cache()
