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


def _csr_linear_impl(x_t, values, columns, starts, out_t):
    rows = starts.shape[0] - 1
    batch = x_t.shape[1]
    for r in prange(rows):
        line = out_t[r]
        for k in range(starts[r], starts[r + 1]):
            weight = values[k]
            source = x_t[columns[k]]
            for b in range(batch):
                line[b] += weight * source[b]


_csr_linear = njit(parallel=True, cache=True, fastmath={"contract"})(_csr_linear_impl)


def csr_linear(x, values, columns, starts):
    """(N, in) inputs times the CSR matrix (out, in) transposed: (N, out)."""
    out_t = np.zeros((starts.shape[0] - 1, x.shape[0]), dtype=x.dtype)
    _csr_linear(np.ascontiguousarray(x.T), values.astype(x.dtype, copy=False), columns, starts, out_t)
    return np.ascontiguousarray(out_t.T)
