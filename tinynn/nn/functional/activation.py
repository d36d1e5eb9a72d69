"""Activation functions: y = f(x) elementwise, with f'(x) for the backward pass.

ReLU, sigmoid, tanh, clip and softmax are ops of the Tensor itself (``tinynn/ops``);
the rest are written here, next to their functional form.  ``inplace=True`` is
accepted for PyTorch compatibility; tinynn always returns a new tensor (the values
are the same).
"""
import math

import numpy as np

from ...autograd import Function
from ...ops import unary
from ...ops.softmax import log_softmax, softmax  # noqa: F401  (F.softmax is the op's function)

__all__ = ["relu", "relu6", "leaky_relu", "sigmoid", "tanh", "silu", "swish", "mish", "gelu",
           "softmax", "log_softmax", "softplus", "hardtanh"]


def relu(x, inplace=False):
    """ReLU(x) = max(0, x)."""
    return unary.ReLU.apply(x)


def sigmoid(x):
    """σ(x) = 1 / (1 + e^-x)."""
    return unary.Sigmoid.apply(x)


def tanh(x):
    return unary.Tanh.apply(x)


def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
    """y = clip(x, min_val, max_val);  y' = 1 strictly inside, 0 at and beyond the edges."""
    return unary.Clip.apply(x, low=min_val, high=max_val, edges="exclusive")


def relu6(x, inplace=False):
    """ReLU6(x) = min(max(0, x), 6), MobileNet's bounded ReLU."""
    return hardtanh(x, 0.0, 6.0)


class LeakyReLU(Function):
    """y = x for x > 0, slope * x otherwise;  y' = 1 or slope."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return np.where(x > 0, grad, grad * ctx.slope)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    return LeakyReLU.apply(x, negative_slope)


class SiLU(Function):
    """Swish/SiLU: y = x σ(x);  y' = σ(x) (1 + x (1 - σ(x)))."""

    @staticmethod
    def forward(ctx, x):
        s = unary.stable_sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_arrays
        return grad * s * (1 + x * (1 - s))


def silu(x, inplace=False):
    return SiLU.apply(x)


swish = silu


def _softplus(x):
    """log(1 + e^x) computed without overflow: max(x, 0) + log1p(e^-|x|)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class Softplus(Function):
    """y = (1/β) log(1 + e^(βx)), linear above the threshold;  y' = σ(βx)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = beta * x
        return np.where(bx > threshold, x, _softplus(bx) / beta)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        bx = ctx.beta * x
        return grad * np.where(bx > ctx.threshold, 1, unary.stable_sigmoid(bx))


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(x, beta, threshold)


class Mish(Function):
    """y = x tanh(softplus(x));  y' = tanh(sp) + x (1 - tanh(sp)^2) σ(x)."""

    @staticmethod
    def forward(ctx, x):
        t = np.tanh(_softplus(x))
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_arrays
        return grad * (t + x * (1 - t * t) * unary.stable_sigmoid(x))


def mish(x, inplace=False):
    return Mish.apply(x)


class GELU(Function):
    """Exact: y = x Φ(x) = x (1 + erf(x/√2)) / 2;  y' = Φ(x) + x φ(x).
    'tanh': y = x (1 + tanh(u)) / 2 with u = √(2/π) (x + 0.044715 x^3)."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_gelu_inner(x)))
        return 0.5 * x * (1 + ctx.backend.erf(x / np.asarray(math.sqrt(2), dtype=x.dtype)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        if ctx.approximate == "tanh":
            t = np.tanh(_gelu_inner(x))
            du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        cdf = 0.5 * (1 + ctx.backend.erf(x / np.asarray(math.sqrt(2), dtype=x.dtype)))
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad * (cdf + x * pdf)


def _gelu_inner(x):
    return math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: expected approximate='none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate)
