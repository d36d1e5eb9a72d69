"""A sparse (CSR) weight times a batch of inputs, on the CPU: y = x Wᵀ with W stored as
(values, column of each value, start of each row).

    y[b, r] = Σ_{k = starts[r]}^{starts[r+1] - 1} values[k] · x[b, columns[k]]

Only the non-zero weights are read and multiplied, so the work falls with the sparsity;
dense BLAS does every product at a far higher rate, so this wins only above a measured
sparsity (``benchmarks/bench_compress.py``).  The input is transposed to (in, batch) so
that the innermost loop runs along the batch, contiguous, and vectorises; one thread owns
one output row, so the writes never race.
"""
import numpy as np
from numba import njit, prange

from . import twin


def _csr_linear_impl(x_t, values, columns, starts, out_t):
    rows = starts.shape[0] - 1
    batch = x_t.shape[1]
    for r in prange(rows):
        if batch == 1:                    # one image: a sparse dot product in a register
            total = out_t.dtype.type(0)
            for k in range(starts[r], starts[r + 1]):
                total += values[k] * x_t[columns[k], 0]
            out_t[r, 0] = total
            continue
        for k in range(starts[r], starts[r + 1]):
            weight = values[k]
            column = columns[k]
            for b in range(batch):        # two-dimensional indexing: a row view per non-zero
                out_t[r, b] += weight * x_t[column, b]     # cost more than one image's work


_csr_linear = njit(parallel=True, cache=True, fastmath={"contract"})(_csr_linear_impl)
_csr_linear_serial = njit(cache=True, fastmath={"contract"})(twin(_csr_linear_impl, "_serial"))

# Below this many multiply-adds, starting the thread pool costs more than the work (one
# image through a 92 %-sparse 784→300 layer is ~19k): run on the calling thread.
PARALLEL_MIN_WORK = 2 ** 17


def csr_linear(x, values, columns, starts):
    """(N, in) inputs times the CSR matrix (out, in) transposed: (N, out)."""
    out_t = np.zeros((starts.shape[0] - 1, x.shape[0]), dtype=x.dtype)
    kernel = _csr_linear if len(values) * x.shape[0] >= PARALLEL_MIN_WORK else _csr_linear_serial
    kernel(np.ascontiguousarray(x.T), values.astype(x.dtype, copy=False), columns, starts, out_t)
    return np.ascontiguousarray(out_t.T)
