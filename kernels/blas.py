"""Matrix products on the kernels' own threads: one thread pool per process, not two.

NumPy's ``@`` runs on OpenBLAS's thread pool and the Numba kernels on Numba's.  Each
pool's threads keep spinning after their work (OpenBLAS ~0.1 s, OpenMP several ms), so on
a machine with few cores the two pools steal the cores from each other: a LeNet step took
73 ms with both pools at their defaults against 10.6 ms with OpenBLAS kept to one thread.

So a product here runs with OpenBLAS set to one thread (``single_threaded_blas``, restored
afterwards: no setting outlives the call) and, when it is large enough to pay for a
parallel region, is cut into blocks that Numba's threads hand to single-threaded
``cblas_?gemm`` calls (``_gemm_blocks``): the GEMM keeps every core, in the pool the other
kernels already woke.

    C[b] = A[b] @ B[b],   A[b] (M, K), B[b] (K, N):  rows lo..hi of C[b] = A[b][lo:hi] @ B[b]
                                                   columns lo..hi of C[b] = A[b] @ B[b][:, lo:hi]

One product is cut along C's longer side: cut into rows, ResNet18's (128, 576) @ (576, 8192)
ran at 262 GFLOP/s, cut into columns at 297-323 (NumPy's own threads: 294-324).

Where NumPy's BLAS is not an OpenBLAS this module can find (another BLAS, another OS),
``matmul`` is plain ``np.matmul``.
"""
import ctypes
import math
import os
import threading

import numba
import numpy as np
from numba import njit, prange

from . import workspace

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
PARALLEL_MIN_FLOPS = 8_000_000      # ~80 µs on one core: below, the ~15 µs of setting up a split do not pay
_SUFFIXES = (("scipy_", "64_", ctypes.c_int64), ("", "64_", ctypes.c_int64), ("", "", ctypes.c_int))


class _OpenBLAS:
    """The OpenBLAS that NumPy loaded: its thread-count functions and ``cblas_sgemm/dgemm``."""

    def __init__(self, library, prefix, suffix, index):
        self.get_threads = getattr(library, f"{prefix}openblas_get_num_threads{suffix}")
        self.set_threads = getattr(library, f"{prefix}openblas_set_num_threads{suffix}")
        self.set_threads.argtypes, self.set_threads.restype = [ctypes.c_int], None
        self.gemm = {np.dtype(np.float32): self._gemm(library, f"{prefix}cblas_sgemm{suffix}", ctypes.c_float, index),
                     np.dtype(np.float64): self._gemm(library, f"{prefix}cblas_dgemm{suffix}", ctypes.c_double, index)}

    @staticmethod
    def _gemm(library, name, scalar, index):
        function = getattr(library, name)
        pointer = ctypes.c_void_p
        function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, index, index, index, scalar, pointer,
                             index, pointer, index, scalar, pointer, index]
        function.restype = None
        return function


def _find_openblas():
    """NumPy's OpenBLAS, found among the libraries mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        return None
    for path in (p for p in paths if os.path.isabs(p)):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, index in _SUFFIXES:
            if hasattr(library, f"{prefix}cblas_sgemm{suffix}") and \
                    hasattr(library, f"{prefix}openblas_set_num_threads{suffix}"):
                return _OpenBLAS(library, prefix, suffix, index)
    return None


np.ones((2, 2)) @ np.ones((2, 2))          # makes sure NumPy has mapped its BLAS
OPENBLAS = _find_openblas()


class _SingleThreadedBlas:
    """``with single_threaded_blas:`` OpenBLAS at one thread inside the block, its previous
    count restored on the way out.  OpenBLAS's count is one per process, so the blocks of all
    threads share one counter: the first to enter sets it, the last to leave restores it."""

    def __init__(self):
        self.depth, self.previous, self.lock = 0, None, threading.Lock()

    def __enter__(self):
        with self.lock:
            self.depth += 1
            if self.depth == 1 and OPENBLAS is not None:
                self.previous = OPENBLAS.get_threads()
                OPENBLAS.set_threads(1)

    def __exit__(self, *exc_info):
        with self.lock:
            self.depth -= 1
            if self.depth == 0 and OPENBLAS is not None:
                OPENBLAS.set_threads(self.previous)


single_threaded_blas = _SingleThreadedBlas()


def matmul(a, b):
    """``np.matmul(a, b)``, with the threads described above."""
    with single_threaded_blas:
        operands = _split_operands(a, b)
        if operands is None:
            return _numpy_matmul(a, b)
        batch, blocks, (parts, by_columns), (m, k, n), a_view, b_view = operands
        c = workspace.empty(batch + (m, n), a.dtype)
        one = a.dtype.type(1)
        _gemm_blocks(OPENBLAS.gemm[a.dtype], blocks[0], blocks[1], parts, by_columns, m, n, k, *a_view[:5],
                     *b_view[:5], c.ctypes.data, c.itemsize, one, one - one)
        return c


def _numpy_matmul(a, b):
    """NumPy's product, into a kept buffer where the result is a float matrix (or stack)."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype != b.dtype \
            or a.dtype.kind != "f" or min(a.ndim, b.ndim) < 2 or a.shape[-1] != b.shape[-2]:
        return np.matmul(a, b)
    batch = () if a.ndim == b.ndim == 2 else np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    shape = batch + (a.shape[-2], b.shape[-1])
    return np.matmul(a, b, out=workspace.empty(shape, a.dtype))


def _split_operands(a, b):
    """What ``_gemm_blocks`` needs, or None where NumPy's own call is as good: no
    OpenBLAS, not two float matrices (or stacks of up to two batch axes) of one dtype, or
    too little work to share out."""
    if OPENBLAS is None or type(a) is not np.ndarray or type(b) is not np.ndarray \
            or a.dtype != b.dtype or a.dtype not in OPENBLAS.gemm or min(a.ndim, b.ndim) < 2 \
            or max(a.ndim, b.ndim) > 4 or a.shape[-1] != b.shape[-2]:
        return None
    (m, k), n = a.shape[-2:], b.shape[-1]
    products = max(math.prod(a.shape[:-2]), math.prod(b.shape[:-2]))
    if 2 * m * n * k * products < PARALLEL_MIN_FLOPS or 0 in (m, n, k):
        return None
    threads = numba.get_num_threads()             # (3 µs: asked only when the product is large)
    if threads == 1:
        return None
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    by_columns = n > m                        # cut the longer side of C
    parts = 1 if products >= threads else min(max(m, n), -(-threads // products))
    blocks = (1,) * (2 - len(batch)) + batch
    return batch, blocks, (parts, by_columns), (m, k, n), _blas_view(a, blocks), _blas_view(b, blocks)


def _blas_view(x, blocks):
    """(address, leading dimension, NO_TRANS or TRANS, stride of batch axis 1, of batch
    axis 2), in elements.  A row-major matrix goes as it is, a column-major one (a
    transposed view) as its transpose; anything else is copied first."""
    items = x.itemsize
    if any(stride % items for stride in x.strides):
        x = np.ascontiguousarray(x)
    rows, cols = x.shape[-2:]
    row_step, col_step = x.strides[-2] // items, x.strides[-1] // items
    if (cols == 1 or col_step == 1) and (rows == 1 or row_step >= cols):
        trans, lead = NO_TRANS, row_step if rows > 1 else cols
    elif (rows == 1 or row_step == 1) and (cols == 1 or col_step >= rows):
        trans, lead = TRANS, col_step if cols > 1 else rows
    else:
        x = np.ascontiguousarray(x)
        trans, lead = NO_TRANS, cols
    batch_shape, batch_strides = (1, 1) + x.shape[:-2], (0, 0) + x.strides[:-2]
    steps = [stride // items if size == block else 0
             for size, stride, block in zip(batch_shape[-2:], batch_strides[-2:], blocks)]
    return x.ctypes.data, lead, trans, steps[0], steps[1], x


@njit(cache=True, parallel=True)
def _gemm_blocks(gemm, blocks1, blocks2, parts, by_columns, m, n, k, a_addr, lda, a_trans, a_stride1,
                 a_stride2, b_addr, ldb, b_trans, b_stride1, b_stride2, c_addr, itemsize, one, zero):
    """Every (batch, block) task calls single-threaded ``gemm`` on its block of C: rows
    lo..hi (A's rows), or with ``by_columns`` columns lo..hi (B's columns)."""
    tasks = blocks1 * blocks2 * parts
    for task in prange(tasks):
        block, part = task // parts, task % parts
        i, j = block // blocks2, block % blocks2
        size = n if by_columns else m
        lo, hi = size * part // parts, size * (part + 1) // parts
        rows, cols = (m, hi - lo) if by_columns else (hi - lo, n)
        a_row = 0 if by_columns else (lo * lda if a_trans == NO_TRANS else lo)
        b_col = 0 if not by_columns else (lo if b_trans == NO_TRANS else lo * ldb)
        a_at = a_addr + (i * a_stride1 + j * a_stride2 + a_row) * itemsize
        b_at = b_addr + (i * b_stride1 + j * b_stride2 + b_col) * itemsize
        c_at = c_addr + (block * m * n + (lo if by_columns else lo * n)) * itemsize
        gemm(ROW_MAJOR, a_trans, b_trans, rows, cols, k, one, a_at, lda, b_at, ldb, zero, c_at, n)
