"""tinynn: a from-scratch deep-learning engine on NumPy and Numba, written to be read.

The names follow PyTorch, so ``import tinynn as torch`` runs most lecture code.
"""
from . import random as _random_module  # noqa: E402
from .tensor import Tensor  # noqa: F401
from .dtypes import float32, float64, int64, int32, bool_, qint8, quint8  # noqa: F401
from .creation import (  # noqa: F401
    tensor, zeros, ones, full, empty, eye, arange, linspace, randn, rand, randint,
    zeros_like, ones_like, full_like, randn_like, rand_like, cat, stack, where, maximum, minimum,
    set_default_device, get_default_device,
)
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: F401
from .device import device  # noqa: F401
from . import autograd, cuda, ops, accelerator, backends, distributed  # noqa: F401
from .size import Size  # noqa: F401
from . import nn, optim, data, models, keras, compress, quantization, performance, utils, vision  # noqa: F401
from .warmup import warm_up  # noqa: F401
from .keras.tape import GradientTape  # noqa: F401  (tf.GradientTape under import tinynn as tf)
from .serialization import save, load  # noqa: F401
from .functions import *  # noqa: F401,F403  (torch.exp, torch.mm, ...: functions.py)

manual_seed = _random_module.manual_seed
get_rng_state, set_rng_state = _random_module.get_rng_state, _random_module.set_rng_state
float = float32
double = float64
long = int64
bool = bool_
newaxis = None                      # tf.newaxis / np.newaxis: x[:, tinynn.newaxis]

__version__ = "0.1.0"
