"""Reductions over one, several or all dimensions, with PyTorch's ``dim``/``keepdim``.

Every backward first re-inserts the reduced dimensions (``_expand``) so that
the gradient broadcasts against the input.
"""
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..tensor import Tensor

ReductionWithIndices = namedtuple("ReductionWithIndices", ["values", "indices"])


def normalize_dim(dim, ndim, op):
    """An int dim in [-ndim, ndim) as a non-negative int, or a clear IndexError."""
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not low <= dim <= high:
        raise IndexError(f"{op}: dim {dim} out of range for a tensor with {ndim} dimensions "
                         f"(expected {low} to {high})")
    return dim % max(ndim, 1)


def _axes(dim, ndim, op):
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(sorted({normalize_dim(d, ndim, op) for d in dims})) if ndim else ()


def _expand(grad, axes, keepdim):
    return grad if keepdim else np.expand_dims(grad, axes)


class Sum(Function):
    """y = Σ_i x_i;  dy/dx_i = 1."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.axes, ctx.keepdim, ctx.shape = _axes(dim, x.ndim, "sum"), keepdim, x.shape
        return x.sum(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_expand(grad, ctx.axes, ctx.keepdim), ctx.shape)


class Norm(Function):
    """y = ‖x‖₂ = √(Σ_i x_i²);  dy/dx_i = x_i / y, and 0 where y = 0 (PyTorch's subgradient,
    so that the norm of a zero vector does not turn a loss into NaN)."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.axes, ctx.keepdim = _axes(dim, x.ndim, "norm"), keepdim
        y = np.sqrt((x * x).sum(axis=ctx.axes, keepdims=keepdim))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_arrays
        y, grad = _expand(y, ctx.axes, ctx.keepdim), _expand(grad, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y == 0, 0, grad * x / y).astype(x.dtype, copy=False)


class Mean(Function):
    """y = (1/n) Σ_i x_i;  dy/dx_i = 1/n."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        if x.dtype.kind != "f":
            raise TypeError(f"mean: expected a floating point tensor, got {x.dtype}")
        ctx.axes, ctx.keepdim, ctx.shape = _axes(dim, x.ndim, "mean"), keepdim, x.shape
        ctx.count = int(np.prod([x.shape[a] for a in ctx.axes]))
        return x.mean(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_expand(grad, ctx.axes, ctx.keepdim) / ctx.count, ctx.shape)


class Var(Function):
    """y = Σ_i (x_i - mean)^2 / (n - correction);  dy/dx_i = 2 (x_i - mean) / (n - correction)."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, correction=1):
        axes = _axes(dim, x.ndim, "var")
        count = int(np.prod([x.shape[a] for a in axes]))
        centred = x - x.mean(axis=axes, keepdims=True)
        ctx.save_for_backward(centred)
        ctx.axes, ctx.keepdim, ctx.divisor = axes, keepdim, max(count - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (centred * centred).sum(axis=axes, keepdims=keepdim) / ctx.divisor

    @staticmethod
    def backward(ctx, grad):
        (centred,) = ctx.saved_arrays
        return _expand(grad, ctx.axes, ctx.keepdim) * 2 * centred / ctx.divisor


class _Extremum(Function):
    """y = max_i x_i (or min).  Ties: ``amax``/``max()`` share the gradient equally
    between the tied elements; ``max(dim)`` gives it all to the element whose
    index it returns (``first_only``), as PyTorch does."""

    reduce = None
    arg = None

    @classmethod
    def forward(cls, ctx, x, dim=None, keepdim=False, first_only=False):
        if x.size == 0:
            raise ValueError(f"{cls.__name__.lower()}: expected a non-empty tensor")
        axes = _axes(dim, x.ndim, cls.__name__.lower())
        y = cls.reduce(x, axis=axes, keepdims=True)
        if first_only:
            ctx.index = np.expand_dims(cls.arg(x, axis=axes[0]), axes)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim, ctx.first_only = axes, keepdim, first_only
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_arrays
        grad = _expand(grad, ctx.axes, ctx.keepdim)
        if ctx.first_only:
            out = np.zeros_like(x)
            np.put_along_axis(out, ctx.index, grad, axis=ctx.axes[0])
            return out
        hits = x == y
        return grad * (hits / hits.sum(axis=ctx.axes, keepdims=True)).astype(x.dtype)


class Max(_Extremum):
    reduce = staticmethod(np.max)
    arg = staticmethod(np.argmax)


class Min(_Extremum):
    reduce = staticmethod(np.min)
    arg = staticmethod(np.argmin)


# ---------------------------------------------------------------- the Tensor methods' logic
def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """``unbiased``/``correction`` as PyTorch: divide by n - 1 unless told otherwise."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return Var.apply(x, dim=dim, keepdim=keepdim, correction=correction)


def extremum(x, function, dim, keepdim):
    """``max()`` is a scalar; ``max(dim)`` returns ``(values, indices)`` as in PyTorch."""
    if dim is None:
        return function.apply(x, dim=None, keepdim=False)
    if not isinstance(dim, int):
        raise TypeError(f"max/min: expected dim to be an int, got {dim!r}; use amax/amin for "
                        "several dims")
    values = function.apply(x, dim=dim, keepdim=keepdim, first_only=True)
    return ReductionWithIndices(values, arg_extremum(x, function.arg, dim, keepdim))


def arg_extremum(x, function, dim, keepdim):
    """The int64 index of the maximum (``np.argmax``) or minimum, not differentiable."""
    if dim is None:
        return Tensor._wrap(np.asarray(function(x._array)).astype(np.int64), x.device)
    dim = normalize_dim(dim, x.ndim, function.__name__)
    index = function(x._array, axis=dim).astype(np.int64)
    return Tensor._wrap(np.expand_dims(index, dim) if keepdim else index, x.device)


def reduce_max(x, dim=None, keepdim=False): return extremum(x, Max, dim, keepdim)
def reduce_min(x, dim=None, keepdim=False): return extremum(x, Min, dim, keepdim)
def argmax(x, dim=None, keepdim=False): return arg_extremum(x, np.argmax, dim, keepdim)
def argmin(x, dim=None, keepdim=False): return arg_extremum(x, np.argmin, dim, keepdim)
