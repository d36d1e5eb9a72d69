"""Fake quantisation for quantisation-aware training: the forward pass rounds as the int8
model will, the backward pass lets the gradient through (the straight-through estimator).

    y = (clamp(round(x / s) + z, q_min, q_max) − z) · s
    ∂y/∂x = 1 where q_min ≤ round(x / s) + z ≤ q_max, else 0

Rounding has a zero derivative almost everywhere, which would stop all learning; the
estimator treats it as the identity inside the representable range, and as a constant
(clipped) outside it, as PyTorch's ``fake_quantize_per_tensor_affine`` does.
"""
import numpy as np

from ..autograd import Function
from .observer import ACTIVATION_RANGE, WEIGHT_MAX, affine_qparams

__all__ = ["FakeQuantize", "fake_quantize_activation", "fake_quantize_weight"]


class FakeQuantize(Function):
    """``scale`` and ``zero_point`` are numbers or arrays broadcast against x (per channel)."""

    @staticmethod
    def forward(ctx, x, scale, zero_point, q_min, q_max):
        q = np.rint(x / scale) + zero_point
        ctx.save_for_backward((q >= q_min) & (q <= q_max))
        return ((np.clip(q, q_min, q_max) - zero_point) * scale).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_arrays
        return grad * inside, None, None, None, None


def fake_quantize_activation(x, low, high):
    """x rounded to the uint8 grid of the observed range [low, high]."""
    scale, zero_point = affine_qparams(low, high)
    return FakeQuantize.apply(x, scale, zero_point, *ACTIVATION_RANGE)


def fake_quantize_weight(weight):
    """A weight rounded to its symmetric int8 grid, one scale per output channel."""
    rows = np.abs(np.asarray(weight.detach())).reshape(weight.shape[0], -1)
    scale = np.maximum(rows.max(axis=1) / WEIGHT_MAX, np.finfo(np.float32).eps)
    scale = scale.astype(weight.dtype).reshape((-1,) + (1,) * (weight.ndim - 1))
    return FakeQuantize.apply(weight, scale, 0, -WEIGHT_MAX, WEIGHT_MAX)
