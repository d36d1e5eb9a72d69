"""PyTorch's functions on tensors (``torch.exp(x)``, ``torch.mm(a, b)``, ...): each calls the
Tensor method of the same name, so the formula and its gradient live in one place
(``tinynn/ops``).  ``tinynn`` re-exports everything listed in ``__all__``."""
import numpy as np

from .tensor import Tensor

_UNARY = ["exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tanh", "sigmoid",
          "relu", "abs", "square"]
_REDUCTIONS = ["sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "norm"]
_SHAPES = ["flatten", "reshape", "transpose", "squeeze", "unsqueeze", "t"]
_BINARY = ["mm", "bmm", "mul", "div", "matmul"]

__all__ = _UNARY + _REDUCTIONS + _SHAPES + _BINARY + [
    "clip", "clamp", "add", "sub", "addmm", "permute", "from_numpy", "is_tensor", "numel"]


def _method(name):
    def function(input, *args, out=None, **kwargs):
        result = getattr(_tensor(input, name), name)(*args, **kwargs)
        return _into(out, result, name)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``torch.{name}``: the same as ``input.{name}(...)``."
    return function


def _tensor(value, name):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: expected a Tensor as input, got {type(value).__name__}")
    return value


def _into(out, result, name):
    """PyTorch's ``out=``: the result written into an existing tensor (no gradient through it)."""
    if out is None:
        return result
    if not isinstance(out, Tensor) or out.shape != result.shape:
        raise ValueError(f"{name}: expected out to be a Tensor of shape {tuple(result.shape)}, got "
                         f"{getattr(out, 'shape', type(out).__name__)}")
    from .autograd import no_grad
    with no_grad():
        out.copy_(result.detach())
    return out


for _name in _UNARY + _REDUCTIONS + _SHAPES + _BINARY:
    globals()[_name] = _method(_name)


def clip(input, min=None, max=None, *, out=None):
    return _into(out, _tensor(input, "clip").clip(min, max), "clip")


clamp = clip


def add(input, other, *, alpha=1, out=None):
    """input + alpha · other."""
    return _into(out, input + (other if alpha == 1 else other * alpha), "add")


def sub(input, other, *, alpha=1, out=None):
    """input − alpha · other."""
    return _into(out, input - (other if alpha == 1 else other * alpha), "sub")


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta · input + alpha · (mat1 @ mat2): a linear layer's affine map in one call."""
    product = _tensor(mat1, "addmm").mm(mat2)
    return _into(out, (input if beta == 1 else input * beta) + (product if alpha == 1 else product * alpha),
                 "addmm")


def permute(input, dims):
    return _tensor(input, "permute").permute(*dims)


def numel(input):
    return _tensor(input, "numel").numel()


def from_numpy(array):
    """A tensor sharing memory with ``array`` (as ``torch.from_numpy``)."""
    return Tensor._wrap(np.asarray(array))


def is_tensor(obj):
    return isinstance(obj, Tensor)
