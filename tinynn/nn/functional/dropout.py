"""Dropout: during training, zero each element with probability p and scale the rest by
1/(1 - p), so that the expected value is unchanged; at evaluation, the identity."""
import numpy as np

from ...autograd import Function
from ...device import move_array
from ...random import generator

__all__ = ["dropout", "dropout2d"]


class Dropout(Function):
    """Training: y = x · m / (1 - p) with m ~ Bernoulli(1 - p);  dL/dx = g · m / (1 - p)."""

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask, None


def dropout_mask(shape, p, dtype):
    """The scaled keep-mask: 1/(1-p) with probability 1-p, else 0."""
    if p == 1.0:
        return np.zeros(shape, dtype=dtype)
    keep = generator().random(shape) >= p
    return (keep / (1.0 - p)).astype(dtype)


def dropout(input, p=0.5, training=True, inplace=False):
    return _dropout("dropout", input, p, training, input.shape)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Whole channels: one keep-or-drop draw per (sample, channel) of an (N, C, H, W) input,
    broadcast over H×W (neighbouring pixels of a feature map are correlated, so dropping
    single pixels regularises little: Tompson et al. 2015)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    return _dropout("dropout2d", input, p, training, input.shape[:-2] + (1, 1))


def _dropout(op, input, p, training, mask_shape):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: expected a probability p in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    mask = move_array(dropout_mask(mask_shape, p, input.dtype), input.device)
    return Dropout.apply(input, mask)
