"""Elementwise functions y = f(x) with dL/dx = dL/dy · f'(x).

Most derivatives here are a short formula in the output y or in the input x, so each op
is one row: ``f`` and ``backward``, the rule that turns the upstream gradient g into
dL/dx.  The two base classes save whichever of y or x the rule needs.
"""
import numpy as np

from ..autograd import Function


def stable_sigmoid(x):
    """1 / (1 + e^-x) without overflow: e^x / (1 + e^x) for negative x."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class _RuleOfOutput(Function):
    """y = f(x) whose derivative is written in y: saves y, returns rule(g, y)."""

    f = rule = None

    @classmethod
    def forward(cls, ctx, x):
        y = cls.f(x)
        ctx.save_for_backward(y)
        return y

    @classmethod
    def backward(cls, ctx, grad):
        return cls.rule(grad, *ctx.saved_arrays)


class _RuleOfInput(_RuleOfOutput):
    """y = f(x) whose derivative is written in x: saves x, returns rule(g, x)."""

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return cls.f(x)


class Exp(_RuleOfOutput):
    """y = e^x;  y' = e^x = y."""
    f, rule = staticmethod(np.exp), staticmethod(lambda g, y: g * y)


class Sqrt(_RuleOfOutput):
    """y = √x;  y' = 1 / (2√x) = 1 / (2y)."""
    f, rule = staticmethod(np.sqrt), staticmethod(lambda g, y: g / (2 * y))


class Tanh(_RuleOfOutput):
    """y = tanh(x);  y' = 1 - y²."""
    f, rule = staticmethod(np.tanh), staticmethod(lambda g, y: g * (1 - y * y))


class Sigmoid(_RuleOfOutput):
    """y = σ(x) = 1 / (1 + e^-x);  y' = y (1 - y)."""
    f, rule = staticmethod(stable_sigmoid), staticmethod(lambda g, y: g * y * (1 - y))


class Log(_RuleOfInput):
    """y = ln x;  y' = 1 / x."""
    f, rule = staticmethod(np.log), staticmethod(lambda g, x: g / x)


class Expm1(_RuleOfOutput):
    """y = e^x - 1 (exact for small x);  y' = e^x = y + 1."""
    f, rule = staticmethod(np.expm1), staticmethod(lambda g, y: g * (y + 1))


class Log1p(_RuleOfInput):
    """y = log(1 + x) (exact for small x);  y' = 1 / (1 + x)."""
    f, rule = staticmethod(np.log1p), staticmethod(lambda g, x: g / (1 + x))


class Sin(_RuleOfInput):
    """y = sin x;  y' = cos x."""
    f, rule = staticmethod(np.sin), staticmethod(lambda g, x: g * np.cos(x))


class Cos(_RuleOfInput):
    """y = cos x;  y' = -sin x."""
    f, rule = staticmethod(np.cos), staticmethod(lambda g, x: -g * np.sin(x))


class Abs(_RuleOfInput):
    """y = |x|;  y' = sign(x) (0 at 0, as PyTorch)."""
    f, rule = staticmethod(np.abs), staticmethod(lambda g, x: g * np.sign(x))


class Clip(Function):
    """y = min(max(x, low), high);  y' = 1 inside the range, 0 where clipped.

    At the edges x = low or x = high, ``clamp`` passes the gradient (``edges="inclusive"``)
    and ``hardtanh``/``relu6`` do not (``"exclusive"``), as in PyTorch."""

    @staticmethod
    def forward(ctx, x, low=None, high=None, edges="inclusive"):
        if low is None and high is None:
            raise ValueError("clip: expected at least one of min and max, got neither")
        ctx.low, ctx.high, ctx.inclusive = low, high, edges == "inclusive"
        y = ctx.backend.clip(x, low, high)
        # With exclusive edges low < x < high exactly where low < y < high, so backward can read
        # y and x is freed once nothing else holds it (MobileNetV2: a batch norm's output per
        # ReLU6).  At an inclusive edge y = low also comes from every x below it: keep x.
        ctx.save_for_backward(x if ctx.inclusive else y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x_or_y,) = ctx.saved_arrays
        return ctx.backend.clip_backward(grad, x_or_y, ctx.low, ctx.high, ctx.inclusive)


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
