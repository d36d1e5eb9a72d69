"""Elementwise functions y = f(x) with dL/dx = dL/dy * f'(x)."""
import numpy as np

from ..autograd import Function


class Exp(Function):
    """y = e^x;  y' = e^x = y."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        return grad * y


class Log(Function):
    """y = ln x;  y' = 1 / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return grad / x


class Sqrt(Function):
    """y = sqrt(x);  y' = 1 / (2 sqrt(x))."""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        return grad / (2 * y)


class Abs(Function):
    """y = |x|;  y' = sign(x) (0 at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return grad * np.sign(x)


class Clip(Function):
    """y = min(max(x, low), high);  y' = 1 inside the range, 0 where clipped.

    At the edges x = low or x = high, ``clamp`` passes the gradient (``edges="inclusive"``)
    and ``hardtanh``/``relu6`` do not (``"exclusive"``), as in PyTorch."""

    @staticmethod
    def forward(ctx, x, low=None, high=None, edges="inclusive"):
        if low is None and high is None:
            raise ValueError("clip: expected at least one of min and max, got neither")
        ctx.save_for_backward(x)
        ctx.low, ctx.high, ctx.inclusive = low, high, edges == "inclusive"
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        above, below = (np.greater_equal, np.less_equal) if ctx.inclusive else (np.greater, np.less)
        inside = np.ones_like(x, dtype=bool)
        if ctx.low is not None:
            inside &= above(x, ctx.low)
        if ctx.high is not None:
            inside &= below(x, ctx.high)
        return grad * inside


class Tanh(Function):
    """y = tanh(x);  y' = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        return grad * (1 - y * y)


def stable_sigmoid(x):
    """1 / (1 + e^-x) without overflow: e^x / (1 + e^x) for negative x."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  y' = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = stable_sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        return grad * y * (1 - y)


class ReLU(Function):
    """y = max(x, 0);  y' = 1 for x > 0, else 0.  (On the CPU, large arrays take the same
    formula as one parallel Numba pass: ``kernels/elementwise.py``.)"""

    @staticmethod
    def forward(ctx, x):
        y = ctx.backend.relu(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        return ctx.backend.relu_backward(grad, y)
