"""Softmax and log-softmax along one dimension.

    softmax:      y_i = e^(x_i - max) / Σ_j e^(x_j - max)       dL/dx = y (g - Σ_j g_j y_j)
    log-softmax:  y_i = x_i - max - log Σ_j e^(x_j - max)      dL/dx = g - softmax(x) Σ_j g_j

Subtracting the maximum first changes nothing mathematically (it cancels) and keeps
e^x from overflowing, so logits of ±1e4 give finite results.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .reduction import normalize_dim


def log_softmax_array(x, axis):
    """log softmax on an array, shifted by the maximum so that e^x never overflows."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_array(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class _Normalize(Function):
    """Shared forward: y = normalize(x) along ``dim``; backward needs only y."""

    normalize = None

    @classmethod
    def forward(cls, ctx, x, dim):
        y = cls.normalize(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y


class Softmax(_Normalize):
    """y_i = e^(x_i) / Σ_j e^(x_j);  dL/dx = y (g - Σ_j g_j y_j)."""

    normalize = staticmethod(softmax_array)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        return y * (grad - (grad * y).sum(axis=ctx.dim, keepdims=True))


class LogSoftmax(_Normalize):
    """y_i = x_i - log Σ_j e^(x_j);  dL/dx = g - softmax(x) Σ_j g_j."""

    normalize = staticmethod(log_softmax_array)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        return grad - np.exp(y) * grad.sum(axis=ctx.dim, keepdims=True)


def _softmax_dim(x, dim, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {x.dtype}")
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return normalize_dim(dim, x.ndim, op)


def softmax(x, dim=None):
    return Softmax.apply(x, _softmax_dim(x, dim, "softmax"))


def log_softmax(x, dim=None):
    return LogSoftmax.apply(x, _softmax_dim(x, dim, "log_softmax"))
