"""Ops that move values around without changing them; their backward moves the
gradient back to where each value came from."""
import numpy as np

from ..autograd import Function
from ..device import device, move_array
from ..tensor import Tensor
from .reduction import normalize_dim


class Reshape(Function):
    """y = x viewed with a new shape;  dL/dx = dL/dy viewed with x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        if sum(s == -1 for s in shape) > 1 or any(s < -1 for s in shape):
            raise ValueError(f"reshape: expected sizes >= 0 and at most one -1 (inferred), "
                             f"got {tuple(shape)}")
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view a tensor of shape {x.shape} ({x.size} "
                             f"elements) as shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    """y = x with its dimensions reordered;  dL/dx = dL/dy with the inverse order."""

    @staticmethod
    def forward(ctx, x, dims):
        if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
            raise ValueError(f"permute: expected a permutation of {x.ndim} dims, got {dims}")
        ctx.inverse = np.argsort([d % x.ndim for d in dims])
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse)


class BroadcastTo(Function):
    """y = x repeated along broadcast dims;  dL/dx = dL/dy summed back (by the engine)."""

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {x.shape} to {shape}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad


class GetItem(Function):
    """y = x[index];  dL/dx is zero except at the picked places, where repeated
    picks (integer-array indexing) add up (``np.add.at``)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        try:
            return x[index]
        except IndexError as error:
            raise IndexError(f"getitem: {error} (tensor of shape {x.shape})") from None

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros_like(grad, shape=ctx.shape)
        np.add.at(out, ctx.index, grad)
        return out


class Clone(Function):
    """y = copy of x;  dL/dx = dL/dy."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    """y = x in another dtype;  dL/dx = dL/dy in x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype) if ctx.dtype.kind == "f" else None


class ToDevice(Function):
    """y = x copied to another device;  dL/dx = dL/dy copied back."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = "cpu" if isinstance(x, np.ndarray) else "cuda"
        return move_array(x, device)

    @staticmethod
    def backward(ctx, grad):
        return move_array(grad, device(ctx.source))


def _split(grad, sizes, axis):
    return tuple(np.split(grad, np.cumsum(sizes)[:-1], axis=axis))


class Cat(Function):
    """y = [x_1, x_2, ...] joined along dim;  dL/dx_k = the k-th slice of dL/dy."""

    @staticmethod
    def forward(ctx, *xs, dim=0):
        ctx.sizes, ctx.dim = [x.shape[dim] for x in xs], dim
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _split(grad, ctx.sizes, ctx.dim)


class Stack(Function):
    """y = [x_1, x_2, ...] stacked along a new dim;  dL/dx_k = dL/dy[k] along that dim."""

    @staticmethod
    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.dim, 0))


def _check_joinable(op, tensors, dim, new_axis):
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors, got {tensors!r}")
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{op}: expected a list of tensors, got "
                        f"{[type(t).__name__ for t in tensors]}")
    first = tensors[0]
    dim = normalize_dim(dim, first.ndim + new_axis, op)
    for t in tensors[1:]:
        shape_a = list(first.shape)
        shape_b = list(t.shape)
        if not new_axis and len(shape_a) == len(shape_b):
            shape_a[dim] = shape_b[dim] = -1
        if shape_a != shape_b:
            rule = "equal shapes" if new_axis else f"equal shapes except in dim {dim}"
            raise ValueError(f"{op}: expected tensors with {rule}, got {first.shape} and {t.shape}")
    return dim


def cat(tensors, dim=0):
    dim = _check_joinable("cat", tensors, dim, new_axis=False)
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    dim = _check_joinable("stack", tensors, dim, new_axis=True)
    return Stack.apply(*tensors, dim=dim)


# ---------------------------------------------------------------- the Tensor methods' logic
def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    start, end = normalize_dim(start_dim, x.ndim, "flatten"), normalize_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    middle = int(np.prod(x.shape[start:end + 1]))
    return x.reshape(x.shape[:start] + (middle,) + x.shape[end + 1:])


def transpose(x, dim0, dim1):
    dim0, dim1 = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return x.permute(*dims)


def squeeze(x, dim=None):
    if dim is None:
        return x.reshape(tuple(s for s in x.shape if s != 1))
    dim = normalize_dim(dim, x.ndim, "squeeze")
    return x.reshape(x.shape[:dim] + x.shape[dim + 1:] if x.shape[dim] == 1 else x.shape)


def unsqueeze(x, dim):
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor with {x.ndim} "
                         f"dimensions (expected {-x.ndim - 1} to {x.ndim})")
    dim = dim % (x.ndim + 1)
    return x.reshape(x.shape[:dim] + (1,) + x.shape[dim:])


def expand(x, shape):
    """-1 keeps a dimension's size; new leading dimensions are added."""
    padded = (1,) * (len(shape) - x.ndim) + x.shape
    return BroadcastTo.apply(x, shape=tuple(old if new == -1 else new for old, new in zip(padded, shape)))
