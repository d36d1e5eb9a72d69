"""The affine maps between floats and 8-bit integers, a row (or a convolution's tile) at a
time, shared by the int8 kernels (``quantized.py``, ``vnni.py``, ``vnni_conv.py``) and
compiled inline into each.

    quantise:    q = clamp(round(x / s) + z, 0, 255)          (rounding halves to even)
    dequantise:  y = (acc − correction_c) · multiplier_c + bias_c

The dequantisation keeps the reference's order of operations, so the results are the same
bits as ``tinynn/reference/lowbit.py``'s.
"""
import numpy as np
from numba import njit


def _quantize_row_impl(source, scale, zero_point, target):
    """target[k] = q(source[k]); ``target`` may be longer (its padding is left alone)."""
    for k in range(source.shape[0]):
        value = np.rint(source[k] / scale) + zero_point
        target[k] = min(max(value, 0), 255)


def _dequantize_row_impl(accumulated, correction, multiplier, bias, target):
    """target[c] = y(accumulated[c]) for every c of ``target`` (the sums may be padded)."""
    for c in range(target.shape[0]):
        target[c] = (target.dtype.type(accumulated[c]) - correction[c]) * multiplier[c] + bias[c]


def _dequantize_tile_impl(sums, out, b, y, x0, k0, correction, multiplier, bias):
    """out[b, k0 + c, y, x0 + p] = y(sums[c, p]) for the channels and outputs of ``out`` (N, K,
    OH, OW) that exist: a tile of a convolution's sums, a row of outputs per channel."""
    count = min(sums.shape[1], out.shape[3] - x0)
    for c in range(min(sums.shape[0], out.shape[1] - k0)):
        k = k0 + c
        line, source = out[b, k, y, x0:x0 + count], sums[c]
        shift, factor, offset = correction[k], multiplier[k], bias[k]      # hoisted: the row vectorises
        for p in range(count):
            line[p] = (line.dtype.type(source[p]) - shift) * factor + offset


quantize_row = njit(inline="always", cache=True)(_quantize_row_impl)
dequantize_row = njit(inline="always", cache=True)(_dequantize_row_impl)
dequantize_tile = njit(inline="always", cache=True)(_dequantize_tile_impl)
