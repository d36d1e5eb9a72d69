"""Sparse and integer products, as their definitions read.

    csr_linear:   y[b, r] = Σ_{k in row r} values[k] · x[b, columns[k]]     (y = x Wᵀ, W in CSR)
    int8_matmul:  out[i, j] = Σ_k a[i, k] · b[j, k]                          (exact, in int32)
    int8_conv2d:  the convolution formula of ``conv.py`` on integers, in int32
    quantized_linear:  q_x = clamp(round(x / s) + z, 0, 255),
                       y[b, c] = s · s_c · (Σ_k q_x[b,k] · q_w[c,k] − z · Σ_k q_w[c,k]) + bias[c]
"""
import numpy as np

from .conv import convolve


def csr_linear(x, values, columns, starts):
    out = np.zeros((x.shape[0], len(starts) - 1), dtype=x.dtype)
    for row in range(len(starts) - 1):
        taken = slice(starts[row], starts[row + 1])
        out[:, row] = x[:, columns[taken]] @ values[taken].astype(x.dtype)
    return out


def int8_matmul(a, b):
    return a.astype(np.int32) @ b.astype(np.int32).T


def int8_conv2d(x, weight, stride, dilation, out_hw):
    return convolve(x.astype(np.int32), weight.astype(np.int32), stride, (0, 0), dilation, 1, out_hw)


def prepare_int8_weight(weight):
    """The weight as it is, and Σ_k q_w[c, k]."""
    return weight, weight.sum(axis=1, dtype=np.int64)


def quantized_linear(x, scale, zero_point, prepared, weight_scale, bias):
    weight, row_sums = prepared
    q = np.clip(np.rint(x / np.asarray(scale, dtype=x.dtype)) + zero_point, 0, 255).astype(np.uint8)
    accumulated = int8_matmul(q, weight).astype(x.dtype)
    accumulated -= (zero_point * row_sums).astype(x.dtype)
    accumulated *= (scale * weight_scale).astype(x.dtype)
    return accumulated if bias is None else accumulated + bias
