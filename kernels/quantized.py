"""Integer matrix products for quantised layers, on the CPU: uint8 activations times int8
weights, accumulated exactly in int32.

    out[i, j] = Σ_k a[i, k] · b[j, k]        a: (M, K) uint8,  b: (N, K) int8,  out: int32

Both operands are read along K, contiguous, so the inner product vectorises with integer
SIMD (8-bit loads widened to 32-bit lanes); an int32 cannot overflow for K < 2^31 / 255 /
127 ≈ 66,000.  Four rows of b share each load of a row of a.  The scales and zero points
are applied outside (``tinynn/quantization``), so this kernel is pure integer arithmetic and
equals its reference exactly.
"""
import numpy as np
from numba import njit, prange

from .im2col import im2col


def _int8_matmul_impl(a, b, out):
    m, depth = a.shape
    n = b.shape[0]
    full = n - n % 4
    for i in prange(m):
        row = a[i]
        for j in range(0, full, 4):
            b0, b1, b2, b3 = b[j], b[j + 1], b[j + 2], b[j + 3]
            s0 = s1 = s2 = s3 = np.int32(0)
            for k in range(depth):
                value = np.int32(row[k])
                s0 += value * np.int32(b0[k])
                s1 += value * np.int32(b1[k])
                s2 += value * np.int32(b2[k])
                s3 += value * np.int32(b3[k])
            out[i, j], out[i, j + 1], out[i, j + 2], out[i, j + 3] = s0, s1, s2, s3
        for j in range(full, n):
            total = np.int32(0)
            for k in range(depth):
                total += np.int32(row[k]) * np.int32(b[j, k])
            out[i, j] = total


_int8_matmul = njit(parallel=True, cache=True)(_int8_matmul_impl)


def int8_matmul(a, b):
    """a (M, K) uint8 @ b (N, K) int8 transposed, as int32 (M, N)."""
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.int32)
    _int8_matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), out)
    return out


def int8_conv2d(x, weight, stride, dilation, out_hw):
    """Σ x · w over every window, in int32: x (N, C, H, W) uint8, already padded (with its
    zero point), weight (K, C, KH, KW) int8.  im2col lays the windows out as rows, then one
    integer GEMM: (N·L, C·KH·KW) times (K, C·KH·KW) transposed."""
    n, k = x.shape[0], weight.shape[0]
    cols = im2col(x, weight.shape[2:], stride, (0, 0), dilation, out_hw, batch_in_columns=True)
    rows = np.ascontiguousarray(cols.reshape(cols.shape[0], -1).T)        # (N·L, C·KH·KW)
    out = int8_matmul(rows, weight.reshape(k, -1))                         # (N·L, K)
    return np.ascontiguousarray(out.reshape(n, -1, k).transpose(0, 2, 1)).reshape((n, k) + tuple(out_hw))
