"""Quantisation parameters: how real values map to 8-bit integers, and observers that
record the range of values a layer sees.

Activations (asymmetric uint8):  q = clamp(round(x / s) + z, 0, 255),   x ≈ (q − z) · s
    with s = (max − min) / 255 and z = round(−min / s), over a range stretched to hold 0,
    so that 0 (padding, ReLU's zeros) is represented exactly.
Weights (symmetric int8, one scale per output channel):  q = clamp(round(w / s_c), −127, 127),
    s_c = max |w_c| / 127 and no zero point, so that products need no correction for it.

Rounding is to the nearest integer, halves to even (``np.rint``), as PyTorch's.
"""
import numpy as np

from ..nn.modules.module import Module
from ..tensor import Tensor

__all__ = ["affine_qparams", "quantize", "dequantize", "quantize_weight", "MinMaxObserver",
           "MovingAverageMinMaxObserver"]

ACTIVATION_RANGE = (0, 255)
WEIGHT_MAX = 127
_TINY = float(np.finfo(np.float32).eps)


def affine_qparams(low, high):
    """(scale, zero_point) for uint8 activations observed in [low, high]."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    scale = max((high - low) / ACTIVATION_RANGE[1], _TINY)
    zero_point = int(np.clip(np.rint(-low / scale), *ACTIVATION_RANGE))
    return scale, zero_point


def quantize(x, scale, zero_point):
    q = x / np.asarray(scale, dtype=x.dtype)            # in place from here: one temporary
    np.rint(q, out=q)
    q += zero_point
    np.clip(q, *ACTIVATION_RANGE, out=q)
    return q.astype(np.uint8)


def dequantize(q, scale, zero_point):
    return (q.astype(np.float32) - zero_point) * scale


def quantize_weight(weight):
    """(int8 weight, float32 scale per output channel) of a float weight (out, ...)."""
    rows = weight.reshape(weight.shape[0], -1)
    scales = np.maximum(np.abs(rows).max(axis=1) / WEIGHT_MAX, _TINY).astype(np.float32)
    shape = (-1,) + (1,) * (weight.ndim - 1)
    q = np.clip(np.rint(weight / scales.reshape(shape)), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int8)
    return q, scales


class MinMaxObserver(Module):
    """Records the smallest and largest value of everything passed through it (calibration)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("min_val", Tensor(np.array(np.inf, np.float32)))
        self.register_buffer("max_val", Tensor(np.array(-np.inf, np.float32)))

    def observe(self, low, high):
        self.min_val._array[...] = min(float(self.min_val._array), low)
        self.max_val._array[...] = max(float(self.max_val._array), high)

    def forward(self, x):
        values = np.asarray(x.detach())
        if values.size and self.training:
            self.observe(float(values.min()), float(values.max()))
        return x

    def qparams(self):
        if not np.isfinite(float(self.min_val._array)):
            raise RuntimeError(f"{type(self).__name__}: no values observed yet; run calibration "
                               "batches through the prepared model before convert()")
        return affine_qparams(float(self.min_val._array), float(self.max_val._array))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """min/max as exponential moving averages (factor 0.01), for quantisation-aware training."""

    averaging_constant = 0.01

    def observe(self, low, high):
        if not np.isfinite(float(self.min_val._array)):
            return super().observe(low, high)
        c = self.averaging_constant
        self.min_val._array[...] = (1 - c) * float(self.min_val._array) + c * low
        self.max_val._array[...] = (1 - c) * float(self.max_val._array) + c * high
