"""``Tensor``: an array, the op that made it, and the gradient that flows back into it.

A tensor wraps one NumPy array (or a GPU array on the ``'cuda'`` device).
Arithmetic, reductions and reshapes are :class:`~tinynn.autograd.Function`s
from :mod:`tinynn.ops`; each records a node when gradients are wanted, and
``backward()`` walks those nodes in reverse.
"""
from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from . import random as _random
from .device import CPU, as_device, move_array

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "randn",
    "rand", "randint", "zeros_like", "ones_like", "full_like", "randn_like", "rand_like", "cat",
    "stack", "where", "float32", "float64", "int64", "int32", "bool_", "maximum", "minimum",
]

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)
_DEFAULT_FLOAT = float32

ReductionWithIndices = namedtuple("ReductionWithIndices", ["values", "indices"])


def _dtype_of_python_data(data):
    """torch.tensor's rule: floats become float32, ints int64, bools bool."""
    flat = np.asarray(data)
    if flat.dtype.kind == "f":
        return _DEFAULT_FLOAT
    if flat.dtype.kind in "iu":
        return int64
    return flat.dtype


def _to_array(data, dtype):
    if isinstance(data, Tensor):
        data = data._array
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    if isinstance(data, np.ndarray):
        return data.copy()
    if isinstance(data, np.generic):
        return np.array(data)
    return np.array(data, dtype=_dtype_of_python_data(data))


class Tensor:
    """An n-dimensional array that remembers how it was computed."""

    __slots__ = ("_array", "_device", "requires_grad", "grad", "_node", "_retains_grad", "name",
                 "__weakref__")
    __array_priority__ = 1000  # make ndarray + Tensor defer to Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        array = _to_array(data, dtype)
        self._init(array, as_device(device), requires_grad)
        if self._device.type == "cuda":
            self._array = move_array(array, self._device)

    def _init(self, array, device, requires_grad):
        if requires_grad and array.dtype.kind not in "fc":
            raise RuntimeError(f"tensor: only floating point tensors can require gradients, "
                               f"got dtype {array.dtype}")
        self._array = array
        self._device = device
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._node = None
        self._retains_grad = False
        self.name = None

    @classmethod
    def _wrap(cls, array, device=None, requires_grad=False):
        """Wrap an array without copying it (used by ops)."""
        out = cls.__new__(cls)
        if isinstance(array, np.generic) or not hasattr(array, "dtype"):
            array = np.asarray(array)  # NumPy reductions return scalars, not 0-d arrays
        out._init(array, device or CPU, requires_grad)
        return out

    # ---------------------------------------------------------------- metadata
    @property
    def shape(self):
        return self._array.shape

    @property
    def dtype(self):
        return self._array.dtype

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def device(self):
        return self._device

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    @property
    def data(self):
        """The same array, detached from the graph (PyTorch's ``.data``)."""
        return Tensor._wrap(self._array, self._device)

    @data.setter
    def data(self, value):
        self._array = value._array if isinstance(value, Tensor) else np.asarray(value)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self._array.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def is_floating_point(self):
        return self.dtype.kind == "f"

    # ---------------------------------------------------------------- conversion
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return move_array(self._array, CPU)

    def __array__(self, dtype=None, copy=None):
        array = move_array(self._array, CPU)
        return array if dtype is None else array.astype(dtype)

    def tolist(self):
        return move_array(self._array, CPU).tolist()

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python "
                             f"number, got shape {self.shape}")
        return move_array(self._array, CPU).reshape(-1)[0].item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"bool: a tensor of shape {self.shape} is ambiguous; "
                               "use .any() or .all()")
        return bool(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def detach(self):
        return Tensor._wrap(self._array, self._device)

    def clone(self):
        return _ops.shape.Clone.apply(self)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only floating point tensors can require "
                               f"gradients, got dtype {self.dtype}")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_: you can only change requires_grad of leaf tensors")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep ``.grad`` on a non-leaf tensor too (leaves keep it anyway)."""
        self._retains_grad = True
        return self

    def to(self, *args, dtype=None, device=None, copy=False):
        for arg in args:
            if isinstance(arg, (str, type(CPU))):
                device = arg
            else:
                dtype = arg
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = _ops.shape.Cast.apply(out, dtype=np.dtype(dtype))
        if device is not None and as_device(device) != self._device:
            out = _ops.shape.ToDevice.apply(out, device=as_device(device))
            out._device = as_device(device)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def bool(self):
        return self.to(bool_)

    def type(self, dtype):
        return self.to(dtype)

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=False):
        _autograd.backward(self, gradient, retain_graph)

    def _accumulate_grad(self, grad):
        if self.grad is None:
            # A copy: backward may hand the same (or a read-only broadcast) array to several inputs.
            self.grad = Tensor._wrap(grad.copy(), self._device)
        else:
            self.grad = Tensor._wrap(self.grad._array + grad, self._device)

    # ---------------------------------------------------------------- in-place updates
    def _check_inplace(self, op):
        if self.requires_grad and _autograd.is_grad_enabled():
            raise RuntimeError(f"{op}: a tensor that requires grad is being used in an in-place "
                               "operation; wrap the update in tinynn.no_grad()")

    def _inplace(self, op, ufunc, other, out_of_place=None):
        """Update the array in place when no graph is being recorded.  Inside a graph,
        ``x += y`` records ``x + y`` instead (Python rebinds the name, as lecture code
        expects); ``x.add_(y)`` cannot rebind, so it is an error there."""
        recording = _autograd.is_grad_enabled() and (
            self.requires_grad or getattr(other, "requires_grad", False))
        if recording:
            if out_of_place is None or (self.is_leaf and self.requires_grad):
                raise RuntimeError(f"{op}: in-place update of a tensor that is part of the "
                                   "autograd graph; write x = x + y, or wrap the update in "
                                   "tinynn.no_grad()")
            return out_of_place(other)
        value = other._array if isinstance(other, Tensor) else other
        ufunc(self._array, value, out=self._array, casting="same_kind")
        return self

    def __iadd__(self, other):
        return self._inplace("add_", np.add, other, self.__add__)

    def __isub__(self, other):
        return self._inplace("sub_", np.subtract, other, self.__sub__)

    def __imul__(self, other):
        return self._inplace("mul_", np.multiply, other, self.__mul__)

    def __itruediv__(self, other):
        return self._inplace("div_", np.true_divide, other, self.__truediv__)

    def add_(self, other, alpha=1):
        return self._inplace("add_", np.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", np.subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace("mul_", np.multiply, other)

    def div_(self, other):
        return self._inplace("div_", np.true_divide, other)

    def copy_(self, source):
        self._check_inplace("copy_")
        value = source._array if isinstance(source, Tensor) else source
        try:
            fits = np.broadcast_shapes(np.shape(value), self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"copy_: expected a source broadcastable to {self.shape}, "
                             f"got {np.shape(value)}")
        self._array[...] = move_array(value, CPU) if self._device.type == "cpu" else value
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self._array[...] = value
        return self

    def zero_(self):
        return self.fill_(0)

    def uniform_(self, low=0.0, high=1.0):
        return self.copy_(_random.generator().uniform(low, high, self.shape).astype(self.dtype))

    def normal_(self, mean=0.0, std=1.0):
        return self.copy_(_random.generator().normal(mean, std, self.shape).astype(self.dtype))

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_")
        np.clip(self._array, min, max, out=self._array)
        return self

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return _ops.arithmetic.Add.apply(self, _lift(other, self))

    def __radd__(self, other):
        return _ops.arithmetic.Add.apply(_lift(other, self), self)

    def __sub__(self, other):
        return _ops.arithmetic.Sub.apply(self, _lift(other, self))

    def __rsub__(self, other):
        return _ops.arithmetic.Sub.apply(_lift(other, self), self)

    def __mul__(self, other):
        return _ops.arithmetic.Mul.apply(self, _lift(other, self))

    def __rmul__(self, other):
        return _ops.arithmetic.Mul.apply(_lift(other, self), self)

    def __truediv__(self, other):
        return _ops.arithmetic.Div.apply(self, _lift(other, self))

    def __rtruediv__(self, other):
        return _ops.arithmetic.Div.apply(_lift(other, self), self)

    def __pow__(self, exponent):
        if isinstance(exponent, numbers.Number):
            return _ops.arithmetic.PowScalar.apply(self, exponent=exponent)
        return _ops.arithmetic.Pow.apply(self, _lift(exponent, self))

    def __rpow__(self, base):
        return _ops.arithmetic.Pow.apply(_lift(base, self), self)

    def __matmul__(self, other):
        return _ops.arithmetic.MatMul.apply(self, _lift(other, self))

    def __rmatmul__(self, other):
        return _ops.arithmetic.MatMul.apply(_lift(other, self), self)

    def __neg__(self):
        return _ops.arithmetic.Neg.apply(self)

    def __pos__(self):
        return self

    def add(self, other, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        return self @ other

    def mm(self, other):
        return self @ other

    # ---------------------------------------------------------------- comparisons (no gradient)
    def _compare(self, ufunc, other):
        value = other._array if isinstance(other, Tensor) else other
        return Tensor._wrap(ufunc(self._array, value), self._device)

    def __eq__(self, other):
        return self._compare(np.equal, other)

    def __ne__(self, other):
        return self._compare(np.not_equal, other)

    def __lt__(self, other):
        return self._compare(np.less, other)

    def __le__(self, other):
        return self._compare(np.less_equal, other)

    def __gt__(self, other):
        return self._compare(np.greater, other)

    def __ge__(self, other):
        return self._compare(np.greater_equal, other)

    __hash__ = object.__hash__

    def eq(self, other):
        return self == other

    def equal(self, other):
        return self.shape == other.shape and bool(np.array_equal(self._array, other._array))

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        return bool(np.allclose(self._array, other._array, rtol=rtol, atol=atol))

    def any(self):
        return Tensor._wrap(np.asarray(self._array.any()), self._device)

    def all(self):
        return Tensor._wrap(np.asarray(self._array.all()), self._device)

    def isfinite(self):
        return Tensor._wrap(np.isfinite(self._array), self._device)

    def __mod__(self, other):  # integer helpers, not differentiable
        return self._compare(np.remainder, other)

    def __floordiv__(self, other):
        return self._compare(np.floor_divide, other)

    def __invert__(self):
        return Tensor._wrap(~self._array, self._device)

    def __and__(self, other):
        return self._compare(np.logical_and, other)

    def __or__(self, other):
        return self._compare(np.logical_or, other)

    # ---------------------------------------------------------------- elementwise functions
    def exp(self):
        return _ops.unary.Exp.apply(self)

    def log(self):
        return _ops.unary.Log.apply(self)

    def sqrt(self):
        return _ops.unary.Sqrt.apply(self)

    def abs(self):
        return _ops.unary.Abs.apply(self)

    def sign(self):
        return Tensor._wrap(np.sign(self._array), self._device)

    def clip(self, min=None, max=None):
        return _ops.unary.Clip.apply(self, low=min, high=max)

    clamp = clip

    def tanh(self):
        return _ops.unary.Tanh.apply(self)

    def sigmoid(self):
        return _ops.unary.Sigmoid.apply(self)

    def relu(self):
        return _ops.unary.ReLU.apply(self)

    def square(self):
        return self ** 2

    def softmax(self, dim):
        from .nn import functional as F
        return F.softmax(self, dim)

    def log_softmax(self, dim):
        from .nn import functional as F
        return F.log_softmax(self, dim)

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        out = _ops.reduction.Sum.apply(self, dim=dim, keepdim=keepdim)
        return out if dtype is None else out.to(dtype)

    def mean(self, dim=None, keepdim=False):
        return _ops.reduction.Mean.apply(self, dim=dim, keepdim=keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return _ops.reduction.Var.apply(self, dim=dim, keepdim=keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return self.var(dim, unbiased, keepdim, correction).sqrt()

    def _extremum(self, function, argfunction, dim, keepdim):
        if dim is None:
            return function.apply(self, dim=None, keepdim=False)
        if not isinstance(dim, int):
            raise TypeError(f"max/min: expected dim to be an int, got {dim!r}; use amax/amin for several dims")
        values = function.apply(self, dim=dim, keepdim=keepdim, first_only=True)
        return ReductionWithIndices(values, argfunction(dim, keepdim))

    def max(self, dim=None, keepdim=False):
        """``max()`` is a scalar; ``max(dim)`` returns ``(values, indices)`` as in PyTorch."""
        return self._extremum(_ops.reduction.Max, self.argmax, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return self._extremum(_ops.reduction.Min, self.argmin, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _ops.reduction.Max.apply(self, dim=dim, keepdim=keepdim)

    def amin(self, dim=None, keepdim=False):
        return _ops.reduction.Min.apply(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False):
        return self._arg(np.argmax, "argmax", dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return self._arg(np.argmin, "argmin", dim, keepdim)

    def _arg(self, function, name, dim, keepdim):
        if dim is None:
            return Tensor._wrap(np.asarray(function(self._array)).astype(np.int64), self._device)
        dim = _ops.reduction.normalize_dim(dim, self.ndim, name)
        index = function(self._array, axis=dim).astype(np.int64)
        if keepdim:
            index = np.expand_dims(index, dim)
        return Tensor._wrap(index, self._device)

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape):
        shape = _shape_arg(shape)
        return _ops.shape.Reshape.apply(self, shape=shape)

    def view(self, *shape):
        return self.reshape(*shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start = start_dim % self.ndim
        end = end_dim % self.ndim
        middle = int(np.prod(self.shape[start:end + 1]))
        return self.reshape(self.shape[:start] + (middle,) + self.shape[end + 1:])

    def permute(self, *dims):
        return _ops.shape.Permute.apply(self, dims=_shape_arg(dims))

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(*dims)

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t: expected a tensor with at most 2 dimensions, got {self.ndim}")
        return self.T

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            dim = _ops.reduction.normalize_dim(dim, self.ndim, "squeeze")
            shape = self.shape[:dim] + self.shape[dim + 1:] if self.shape[dim] == 1 else self.shape
        return self.reshape(shape)

    def unsqueeze(self, dim):
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor with {self.ndim} "
                             f"dimensions (expected {-self.ndim - 1} to {self.ndim})")
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *shape):
        shape = tuple(old if new == -1 else new
                      for old, new in zip((1,) * (len(_shape_arg(shape)) - self.ndim) + self.shape,
                                          _shape_arg(shape)))
        return _ops.shape.BroadcastTo.apply(self, shape=shape)

    def contiguous(self):
        return self

    def __getitem__(self, index):
        return _ops.shape.GetItem.apply(self, index=_index_arg(index))

    def __setitem__(self, index, value):
        self._check_inplace("setitem")
        self._array[_index_arg(index)] = value._array if isinstance(value, Tensor) else value

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        body = np.array2string(move_array(self._array, CPU), separator=", ", precision=4,
                               prefix="tensor(")
        extras = []
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.dtype}")
        if self._device.type != "cpu":
            extras.append(f"device='{self._device}'")
        if self._node is not None:
            extras.append(f"grad_fn={self._node}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"


def _lift(value, like: Tensor) -> Tensor:
    """Turn a Python number or array into a constant tensor next to ``like``.

    A Python number takes the tensor's dtype (``x * 2.0`` stays float32, as in
    PyTorch), except that a float scalar with an integer tensor gives float32.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        kind = like.dtype.kind
        if isinstance(value, bool):
            dtype = like.dtype
        elif isinstance(value, numbers.Integral):
            dtype = like.dtype if kind in "iuf" else int64
        else:
            dtype = like.dtype if kind == "f" else _DEFAULT_FLOAT
        return Tensor._wrap(np.asarray(value, dtype=dtype), like.device)
    return Tensor(value, device=like.device)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(s) for s in shape[0])
    return tuple(int(s) for s in shape)


def _index_arg(index):
    if isinstance(index, Tensor):
        return index._array
    if isinstance(index, tuple):
        return tuple(i._array if isinstance(i, Tensor) else i for i in index)
    return index


# -------------------------------------------------------------------- constructors
def tensor(data, dtype=None, requires_grad=False, device=None) -> Tensor:
    """``torch.tensor``: copies ``data``; floats become float32, ints int64, arrays keep their dtype."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def _make(array, dtype, requires_grad, device):
    array = array.astype(np.dtype(dtype) if dtype is not None else _DEFAULT_FLOAT, copy=False)
    return Tensor(array, requires_grad=requires_grad, device=device)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _make(np.zeros(_shape_arg(size)), dtype, requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _make(np.ones(_shape_arg(size)), dtype, requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None and isinstance(fill_value, numbers.Integral) and not isinstance(fill_value, bool):
        dtype = int64
    return _make(np.full(_shape_arg((size,)), fill_value), dtype, requires_grad, device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _make(np.eye(n, m), dtype, requires_grad, device)


def randn(*size, dtype=None, requires_grad=False, device=None):
    return _make(_random.generator().standard_normal(_shape_arg(size)), dtype, requires_grad, device)


def rand(*size, dtype=None, requires_grad=False, device=None):
    return _make(_random.generator().random(_shape_arg(size)), dtype, requires_grad, device)


def randint(low, high=None, size=(), dtype=None, device=None):
    if high is None:
        low, high = 0, low
    values = _random.generator().integers(low, high, size=_shape_arg((size,)))
    return _make(values, dtype or int64, False, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = int64 if values.dtype.kind in "iu" else _DEFAULT_FLOAT
    return _make(values, dtype, requires_grad, device)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    return _make(np.linspace(start, end, steps), dtype, requires_grad, device)


def _like(function, other, dtype, requires_grad, device, *args):
    return function(*args, *other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad,
                    device=device or other.device)


def zeros_like(other, dtype=None, requires_grad=False, device=None):
    return _like(zeros, other, dtype, requires_grad, device)


def ones_like(other, dtype=None, requires_grad=False, device=None):
    return _like(ones, other, dtype, requires_grad, device)


def randn_like(other, dtype=None, requires_grad=False, device=None):
    return _like(randn, other, dtype, requires_grad, device)


def rand_like(other, dtype=None, requires_grad=False, device=None):
    return _like(rand, other, dtype, requires_grad, device)


def full_like(other, fill_value, dtype=None, requires_grad=False, device=None):
    return full(other.shape, fill_value, dtype=dtype or other.dtype, requires_grad=requires_grad,
                device=device or other.device)


def cat(tensors, dim=0):
    return _ops.shape.cat(tensors, dim)


def stack(tensors, dim=0):
    return _ops.shape.stack(tensors, dim)


def where(condition, input, other):
    """Pick ``input`` where ``condition`` holds, else ``other``; gradients follow the pick."""
    like = input if isinstance(input, Tensor) else other
    condition = condition._array if isinstance(condition, Tensor) else np.asarray(condition)
    return _ops.arithmetic.Where.apply(_lift(input, like), _lift(other, like), condition=condition)


def maximum(input, other):
    return where(input >= other, input, other)


def minimum(input, other):
    return where(input <= other, input, other)


# The ops need the Tensor class and Tensor's methods need the ops, so they are
# imported once the class exists.
from . import autograd as _autograd  # noqa: E402
from . import ops as _ops  # noqa: E402
