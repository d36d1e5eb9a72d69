"""The affine maps between floats and 8-bit integers, one row at a time, shared by the int8
kernels (``quantized.py`` and ``vnni.py``) and compiled inline into each.

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


quantize_row = njit(inline="always", cache=True)(_quantize_row_impl)
dequantize_row = njit(inline="always", cache=True)(_dequantize_row_impl)
