"""Binary arithmetic with NumPy broadcasting.

Each backward returns the gradient in the broadcast shape; the autograd engine
sums it back to the shape of the input (``_unbroadcast``).
"""
import numbers

import numpy as np

from ..autograd import Function
from ..dtypes import result_type


def binary(function, a, b, lift):
    """``function.apply(a, b)`` after PyTorch's type promotion (``dtypes.result_type``):
    ``a`` or ``b`` is a Tensor, the other a Tensor, an array or a Python number, which
    ``lift`` turns into a constant tensor of the result dtype.  The cast is part of the
    graph, so each input's gradient comes back in its own dtype."""
    like = a if hasattr(a, "_array") else b
    a, b = (x if isinstance(x, numbers.Number) and not isinstance(x, np.generic) else lift(x, like)
            for x in (a, b))
    dtype = result_type(a, b)
    return function.apply(*(x.to(dtype) if hasattr(x, "_array") else lift(x, like, dtype) for x in (a, b)))


def check_broadcast(op, *operands):
    """Raise a readable error instead of NumPy's when the operands' shapes do not broadcast."""
    shapes = [np.shape(x) for x in operands]
    if all(shape == shapes[0] for shape in shapes):            # the common case: nothing to check
        return
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {' and '.join(map(str, shapes))} cannot be broadcast "
                         "together (trailing dimensions must be equal or 1)") from None


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        check_broadcast("add", a, b)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        check_broadcast("sub", a, b)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        check_broadcast("mul", a, b)
        ctx.save_for_backward(ctx.needed_by(a, 1), ctx.needed_by(b, 0))
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)


class Div(Function):
    """z = a / b;  dz/da = 1 / b, dz/db = -a / b^2.  int / int gives float32 as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        check_broadcast("div", a, b)
        ctx.save_for_backward(ctx.needed_by(a, 1), b)
        out = a / b
        if a.dtype.kind in "iub" and b.dtype.kind in "iub":
            out = out.astype(np.float32)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        grad_a = grad / b
        return grad_a, (-grad_a * a / b if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """z = -a;  dz/da = -1."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class PowScalar(Function):
    """z = a^p for a number p;  dz/da = p a^(p-1)."""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return a ** exponent if a.dtype.kind == "f" else a ** np.asarray(exponent, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        p = ctx.exponent
        return grad * (p * a ** (p - 1)).astype(a.dtype, copy=False)


class Pow(Function):
    """z = a^b for tensors;  dz/da = b a^(b-1), dz/db = a^b ln a."""

    @staticmethod
    def forward(ctx, a, b):
        check_broadcast("pow", a, b)
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_arrays
        grad_a = grad * b * a ** (b - 1) if ctx.needs_input_grad[0] else None
        grad_b = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = grad * out * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
        return grad_a, grad_b


class MatMul(Function):
    """Z = A @ B;  dL/dA = dL/dZ @ B^T, dL/dB = A^T @ dL/dZ.

    1-D operands are treated as a row (A) or a column (B) vector and batch
    dimensions broadcast, as in ``numpy.matmul``.
    """

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: expected operands with at least 1 dimension, got shapes "
                             f"{a.shape} and {b.shape}")
        inner_a = a.shape[-1]
        inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if inner_a != inner_b:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: expected "
                             f"a.shape[-1] ({inner_a}) to equal b.shape[-2] ({inner_b})")
        if a.dtype != b.dtype:                 # PyTorch does not promote inside a GEMM either
            raise TypeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} "
                            f"and {b.dtype}")
        if a.ndim > 2 and b.ndim > 2:
            check_broadcast("matmul (batch dimensions)", a[..., 0, 0], b[..., 0, 0])
        ctx.save_for_backward(ctx.needed_by(a, 1), ctx.needed_by(b, 0))
        ctx.ndims = a.ndim, b.ndim
        return ctx.backend.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        a_ndim, b_ndim = ctx.ndims
        if b_ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a_ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            b2 = b[:, None] if b_ndim == 1 else b
            grad_a = ctx.backend.matmul(grad, np.swapaxes(b2, -1, -2))
            grad_a = grad_a[..., 0, :] if a_ndim == 1 else grad_a
        if ctx.needs_input_grad[1]:
            a2 = a[None, :] if a_ndim == 1 else a
            grad_b = ctx.backend.matmul(np.swapaxes(a2, -1, -2), grad)
            grad_b = grad_b[..., 0] if b_ndim == 1 else grad_b
        return grad_a, grad_b


class Where(Function):
    """z = cond ? a : b;  the gradient goes to whichever side was picked."""

    @staticmethod
    def forward(ctx, a, b, condition):
        check_broadcast("where", condition, a, b)
        ctx.save_for_backward(condition)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_arrays
        return np.where(condition, grad, 0), np.where(condition, 0, grad)
