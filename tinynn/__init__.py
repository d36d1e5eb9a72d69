"""tinynn: a from-scratch deep-learning engine on NumPy and Numba, written to be read.

The names follow PyTorch, so ``import tinynn as torch`` runs most lecture code.
"""
from . import random as _random_module  # noqa: E402
from .tensor import Tensor  # noqa: F401
from .dtypes import float32, float64, int64, int32, bool_, qint8, quint8  # noqa: F401
from .creation import (  # noqa: F401
    tensor, zeros, ones, full, empty, eye, arange, linspace, randn, rand, randint,
    zeros_like, ones_like, full_like, randn_like, rand_like, cat, stack, where, maximum, minimum,
)
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: F401
from .device import device  # noqa: F401
from . import autograd, cuda, ops  # noqa: F401
from . import nn, optim, data, models, keras, compress, quantization, performance  # noqa: F401
from .warmup import warm_up  # noqa: F401
from .serialization import save, load  # noqa: F401

manual_seed = _random_module.manual_seed
get_rng_state, set_rng_state = _random_module.get_rng_state, _random_module.set_rng_state
float = float32
double = float64
long = int64
bool = bool_

__version__ = "0.1.0"


def exp(x):
    return x.exp()


def log(x):
    return x.log()


def sqrt(x):
    return x.sqrt()


def tanh(x):
    return x.tanh()


def sigmoid(x):
    return x.sigmoid()


def relu(x):
    return x.relu()


def abs(x):
    return x.abs()


def clip(x, min=None, max=None):
    return x.clip(min, max)


clamp = clip


def sum(x, dim=None, keepdim=False):
    return x.sum(dim, keepdim)


def mean(x, dim=None, keepdim=False):
    return x.mean(dim, keepdim)


def max(x, dim=None, keepdim=False):
    return x.max(dim, keepdim)


def min(x, dim=None, keepdim=False):
    return x.min(dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    return x.argmax(dim, keepdim)


def matmul(a, b):
    return a @ b


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)


def reshape(x, shape):
    return x.reshape(shape)


def transpose(x, dim0, dim1):
    return x.transpose(dim0, dim1)


def permute(x, dims):
    return x.permute(*dims)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (as ``torch.from_numpy``)."""
    import numpy as np
    return Tensor._wrap(np.asarray(array))


def is_tensor(obj):
    return isinstance(obj, Tensor)
