"""Sparse and integer products, as their definitions read.

    csr_linear:   y[b, r] = Σ_{k in row r} values[k] · x[b, columns[k]]     (y = x Wᵀ, W in CSR)
    int8_matmul:  out[i, j] = Σ_k a[i, k] · b[j, k]                          (exact, in int32)
    int8_conv2d:  the convolution formula of ``conv.py`` on integers, in int32
    quantized_linear:  q_x = clamp(round(x / s) + z, 0, 255),
                       y[b, c] = s · s_c · (Σ_k q_x[b,k] · q_w[c,k] − z · Σ_k q_w[c,k]) + bias[c]
    quantized_conv2d:  the same with int8_conv2d on q_x padded with z (which stands for 0.0)
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
    """The weight as it is, Σ q_w per output channel, and the weight again (the protocol's
    third item)."""
    return weight, weight.reshape(weight.shape[0], -1).sum(axis=1, dtype=np.int64), weight


def quantize(x, scale, zero_point):
    return np.clip(np.rint(x / np.asarray(scale, dtype=x.dtype)) + zero_point, 0, 255).astype(np.uint8)


def dequantize(accumulated, zero_point, row_sums, scale, weight_scale, bias, dtype):
    """s·s_c·(acc − z Σ q_w) + bias, the channel on axis 1, in this order (the kernels keep it)."""
    shape = (1, -1) + (1,) * (accumulated.ndim - 2)
    out = accumulated.astype(dtype)
    out -= (zero_point * row_sums).astype(dtype).reshape(shape)
    out *= (scale * weight_scale).astype(dtype).reshape(shape)
    return out if bias is None else out + bias.astype(dtype).reshape(shape)


def quantized_linear(x, scale, zero_point, prepared, weight_scale, bias):
    weight, row_sums, _ = prepared
    return dequantize(int8_matmul(quantize(x, scale, zero_point), weight), zero_point, row_sums, scale,
                      weight_scale, bias, x.dtype)


def quantized_conv2d(x, scale, zero_point, prepared, weight_scale, bias, stride, padding, dilation):
    weight, row_sums, _ = prepared
    q = np.pad(quantize(x, scale, zero_point), ((0, 0), (0, 0)) + tuple(padding), constant_values=zero_point)
    out_hw = tuple((size - d * (k - 1) - 1) // s + 1
                   for size, k, s, d in zip(q.shape[2:], weight.shape[2:], stride, dilation))
    return dequantize(int8_conv2d(q, weight, stride, dilation, out_hw), zero_point, row_sums, scale, weight_scale,
                      bias, x.dtype)
