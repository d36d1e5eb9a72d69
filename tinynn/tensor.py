"""``Tensor``: an array, the op that made it, and the gradient that flows back into it.

A tensor wraps one NumPy array (or a GPU array on the ``'cuda'`` device).
Arithmetic, reductions and reshapes are :class:`~tinynn.autograd.Function`s
from :mod:`tinynn.ops`; each records a node when gradients are wanted, and
``backward()`` walks those nodes in reverse.  The methods below are one line
each where an op does the work: read the op's module for its formula and gradient.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

from . import random as _random
from .device import CPU, as_device, move_array
from .dtypes import DEFAULT_FLOAT, bool_, dtype_of_data, float32, float64, int32, int64, result_type
from .size import Size
from .tensor_math import TensorMath

__all__ = ["Tensor"]


def _to_array(data, dtype):
    """A copy of ``data`` as a numeric array: numbers, nested lists of equal lengths, arrays,
    tensors.  Strings, None, objects and complex numbers are refused here, not far away."""
    if isinstance(data, Tensor):
        data = data._array
    try:
        if dtype is not None:
            array = np.array(data, dtype=np.dtype(dtype))
        elif isinstance(data, (np.ndarray, np.generic)):
            array = np.array(data)
        else:
            array = np.array(data, dtype=dtype_of_data(data))
    except (ValueError, TypeError) as error:
        raise ValueError(f"tensor: could not read {type(data).__name__} data as a rectangular array "
                         f"of numbers (every row of a nested list must have the same length): "
                         f"{error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tensor: expected numbers (bool, int or float), got data of dtype "
                        f"{array.dtype} from {type(data).__name__}: {_preview(data)}")
    return array


def _preview(data, limit=60):
    text = repr(data)
    return text if len(text) <= limit else text[:limit] + "..."


class Tensor(TensorMath):
    """An n-dimensional array that remembers how it was computed."""

    __slots__ = ("_array", "_device", "requires_grad", "grad", "_node", "_retains_grad", "name",
                 "_grad_hooks", "_activation", "__weakref__")
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
        self.name = self._grad_hooks = self._activation = None

    @classmethod
    def _wrap(cls, array, device=None, requires_grad=False):
        """Wrap an array without copying it (used by ops)."""
        out = cls.__new__(cls)
        if isinstance(array, np.generic) or not hasattr(array, "dtype"):
            array = np.asarray(array)  # NumPy reductions return scalars, not 0-d arrays
        out._init(array, device or CPU, requires_grad)
        return out

    # ---------------------------------------------------------------- metadata
    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    device = property(lambda self: self._device)
    is_leaf = property(lambda self: self._node is None)
    grad_fn = property(lambda self: self._node)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    @property
    def data(self):
        """The same array, detached from the graph (PyTorch's ``.data``)."""
        return Tensor._wrap(self._array, self._device)

    @data.setter
    def data(self, value):
        self._array = value._array if isinstance(value, Tensor) else np.asarray(value)

    def size(self, dim=None):
        return Size(self.shape) if dim is None else self.shape[dim]

    def __format__(self, spec):          # f"{loss:.3f}" on a 0-d tensor, as in PyTorch
        return format(self.item(), spec) if self.ndim == 0 else object.__format__(self, spec)

    def dim(self): return self.ndim
    def numel(self): return int(self._array.size)
    def is_floating_point(self): return self.dtype.kind == "f"

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

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

    def __float__(self): return float(self.item())
    def __int__(self): return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"bool: a tensor of shape {self.shape} is ambiguous; "
                               "use .any() or .all()")
        return bool(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def to(self, *args, dtype=None, device=None, copy=False):
        for arg in args:
            if isinstance(arg, (str, type(CPU))):
                device = arg
            else:
                dtype = arg
        out = self
        if dtype is not None and np.dtype(dtype).kind not in "biuf":
            raise TypeError(f"to: expected a numeric dtype (tinynn.float32, tinynn.int64, ...), got {dtype!r}")
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = _ops.shape.Cast.apply(out, dtype=np.dtype(dtype))
        if device is not None and as_device(device) != self._device:
            out = _ops.shape.ToDevice.apply(out, device=as_device(device))
            out._device = as_device(device)
        return self.clone() if copy and out is self else out

    def cpu(self): return self.to("cpu")
    def cuda(self): return self.to("cuda")
    def float(self): return self.to(float32)
    def double(self): return self.to(float64)
    def long(self): return self.to(int64)
    def int(self): return self.to(int32)
    def bool(self): return self.to(bool_)
    def type(self, dtype): return self.to(dtype)
    def detach(self): return Tensor._wrap(self._array, self._device)
    def clone(self): return _ops.shape.Clone.apply(self)
    def contiguous(self): return self

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=False):
        _autograd.backward(self, gradient, retain_graph)

    def _accumulate_grad(self, grad):
        if self.grad is None:
            # A copy: backward may hand the same (or a read-only broadcast) array to several inputs.
            self.grad = Tensor._wrap(grad.copy(), self._device)
        else:
            self.grad = Tensor._wrap(self.grad._array + grad, self._device)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only floating point tensors can require "
                               f"gradients, got dtype {self.dtype}")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_: you can only change requires_grad of leaf tensors")
        self.requires_grad = requires_grad
        return self

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` each time backward has finished this leaf's ``.grad`` (PyTorch's
        name; data-parallel training starts a gradient's allreduce from here)."""
        hooks = self._grad_hooks = self._grad_hooks or []
        hooks.append(hook)
        return _autograd.engine.RemovableHandle(hooks, hook)

    def retain_grad(self):
        """Keep ``.grad`` on a non-leaf tensor too (leaves keep it anyway)."""
        self._retains_grad = True
        return self

    # ---------------------------------------------------------------- in-place updates: ops/inplace.py
    def __iadd__(self, other): return _ops.inplace.update(self, "add_", np.add, other, self.__add__)
    def __isub__(self, other): return _ops.inplace.update(self, "sub_", np.subtract, other, self.__sub__)
    def __imul__(self, other): return _ops.inplace.update(self, "mul_", np.multiply, other, self.__mul__)
    def __itruediv__(self, other): return _ops.inplace.update(self, "div_", np.true_divide, other, self.__truediv__)
    def add_(self, other, alpha=1): return _ops.inplace.update(self, "add_", np.add, _scaled(other, alpha))
    def sub_(self, other, alpha=1): return _ops.inplace.update(self, "sub_", np.subtract, _scaled(other, alpha))
    def mul_(self, other): return _ops.inplace.update(self, "mul_", np.multiply, other)
    def div_(self, other): return _ops.inplace.update(self, "div_", np.true_divide, other)
    def copy_(self, source): return _ops.inplace.copy(self, source)
    def fill_(self, value): return _ops.inplace.fill(self, value)
    def zero_(self): return _ops.inplace.fill(self, 0)
    def clamp_(self, min=None, max=None): return _ops.inplace.clamp(self, min, max)
    def __setitem__(self, index, value): _ops.inplace.setitem(self, _index_arg(index), value)

    def uniform_(self, low=0.0, high=1.0):
        return self.copy_(_random.generator().uniform(low, high, self.shape).astype(self.dtype))

    def normal_(self, mean=0.0, std=1.0):
        return self.copy_(_random.generator().normal(mean, std, self.shape).astype(self.dtype))

    # ---------------------------------------------------------------- arithmetic: ops/arithmetic.py
    def __add__(self, other): return _ops.arithmetic.binary(_ops.arithmetic.Add, self, other, lift)
    def __radd__(self, other): return _ops.arithmetic.binary(_ops.arithmetic.Add, other, self, lift)
    def __sub__(self, other): return _ops.arithmetic.binary(_ops.arithmetic.Sub, self, other, lift)
    def __rsub__(self, other): return _ops.arithmetic.binary(_ops.arithmetic.Sub, other, self, lift)
    def __mul__(self, other): return _ops.arithmetic.binary(_ops.arithmetic.Mul, self, other, lift)
    def __rmul__(self, other): return _ops.arithmetic.binary(_ops.arithmetic.Mul, other, self, lift)
    def __truediv__(self, other): return _ops.arithmetic.binary(_ops.arithmetic.Div, self, other, lift)
    def __rtruediv__(self, other): return _ops.arithmetic.binary(_ops.arithmetic.Div, other, self, lift)
    def __rpow__(self, base): return _ops.arithmetic.binary(_ops.arithmetic.Pow, base, self, lift)
    def __matmul__(self, other): return _ops.arithmetic.MatMul.apply(self, lift(other, self))
    def __rmatmul__(self, other): return _ops.arithmetic.MatMul.apply(lift(other, self), self)
    def __neg__(self): return _ops.arithmetic.Neg.apply(self)
    def __pos__(self): return self

    def __pow__(self, exponent):
        if isinstance(exponent, numbers.Number):            # x ** 2: one op, promoted as in PyTorch
            dtype = result_type(self, exponent)
            out = _ops.arithmetic.PowScalar.apply(self.to(dtype), exponent=exponent)
            return out.to(dtype)
        return _ops.arithmetic.binary(_ops.arithmetic.Pow, self, exponent, lift)

    def add(self, other, alpha=1): return self + _scaled(other, alpha)
    def sub(self, other, alpha=1): return self - _scaled(other, alpha)
    def mul(self, other): return self * other
    def div(self, other): return self / other
    def pow(self, exponent): return self ** exponent

    # ---------------------------------------------------------------- comparisons (no gradient)
    def _compare(self, ufunc, other):
        value = other._array if isinstance(other, Tensor) else other
        _ops.arithmetic.check_broadcast(ufunc.__name__, self._array, value)
        return Tensor._wrap(ufunc(self._array, value), self._device)

    def __eq__(self, other): return self._compare(np.equal, other)
    def __ne__(self, other): return self._compare(np.not_equal, other)
    def __lt__(self, other): return self._compare(np.less, other)
    def __le__(self, other): return self._compare(np.less_equal, other)
    def __gt__(self, other): return self._compare(np.greater, other)
    def __ge__(self, other): return self._compare(np.greater_equal, other)
    def __mod__(self, other): return self._compare(np.remainder, other)
    def __floordiv__(self, other): return self._compare(np.floor_divide, other)
    def __and__(self, other): return self._compare(np.logical_and, other)
    def __or__(self, other): return self._compare(np.logical_or, other)
    def __invert__(self): return Tensor._wrap(~self._array, self._device)
    __hash__ = object.__hash__

    def eq(self, other): return self == other
    def any(self): return Tensor._wrap(np.asarray(self._array.any()), self._device)
    def all(self): return Tensor._wrap(np.asarray(self._array.all()), self._device)
    def isfinite(self): return Tensor._wrap(np.isfinite(self._array), self._device)
    def sign(self): return Tensor._wrap(np.sign(self._array), self._device)

    def equal(self, other):
        return self.shape == other.shape and bool(np.array_equal(self._array, other._array))

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        return bool(np.allclose(self._array, other._array, rtol=rtol, atol=atol))

    # ---------------------------------------------------------------- shape: ops/shape.py
    def reshape(self, *shape): return _ops.shape.Reshape.apply(self, shape=shape_arg(shape, "reshape"))
    def view(self, *shape): return self.reshape(*shape)
    def view_as(self, other): return self.reshape(other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return _ops.shape.flatten(self, start_dim, end_dim)
    def permute(self, *dims): return _ops.shape.Permute.apply(self, dims=shape_arg(dims, "permute"))
    def transpose(self, dim0, dim1): return _ops.shape.transpose(self, dim0, dim1)
    def squeeze(self, dim=None): return _ops.shape.squeeze(self, dim)
    def unsqueeze(self, dim): return _ops.shape.unsqueeze(self, dim)
    def expand(self, *shape): return _ops.shape.expand(self, shape_arg(shape, "expand"))
    def __getitem__(self, index): return _ops.shape.GetItem.apply(self, index=_index_arg(index))

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t: expected a tensor with at most 2 dimensions, got {self.ndim}")
        return self.T

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


def lift(value, like: Tensor, dtype=None) -> Tensor:
    """Turn a Python number or array into a constant tensor next to ``like``, of ``dtype``
    if given.  Else a Python number takes the tensor's dtype (``x * 2.0`` stays float32,
    as in PyTorch), except that a float scalar with an integer tensor gives float32.
    """
    if isinstance(value, Tensor):
        return value
    if dtype is not None:
        return Tensor._wrap(np.asarray(value, dtype=dtype), like.device)
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        kind = like.dtype.kind
        if isinstance(value, bool):
            dtype = like.dtype
        elif isinstance(value, numbers.Integral):
            dtype = like.dtype if kind in "iuf" else int64
        else:
            dtype = like.dtype if kind == "f" else DEFAULT_FLOAT
        return Tensor._wrap(np.asarray(value, dtype=dtype), like.device)
    return Tensor(value, device=like.device)


def shape_arg(shape, op):
    """``f(2, 3)`` and ``f((2, 3))`` both as the tuple (2, 3); every entry an integer."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        if any(isinstance(s, bool) for s in shape):
            raise TypeError
        return tuple(operator.index(s) for s in shape)       # ints, NumPy ints, 0-d int tensors
    except TypeError:
        raise TypeError(f"{op}: expected integer sizes, got {shape}") from None


def _index_arg(index):
    if isinstance(index, Tensor):
        return index._array
    if isinstance(index, tuple):
        return tuple(i._array if isinstance(i, Tensor) else i for i in index)
    return index


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


# The ops need the Tensor class and Tensor's methods need the ops: the one late import
# between them, once the class exists.
from . import autograd as _autograd, ops as _ops  # noqa: E402
