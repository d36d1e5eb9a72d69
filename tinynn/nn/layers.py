"""Basic layers: Linear, Dropout, Flatten, Identity, and the containers."""
import math
from collections import OrderedDict

import numpy as np

from . import functional as F
from . import init
from .module import Module, Parameter


class WeightedLayer(Module):
    """Shared by Linear and Conv2d: a weight, an optional bias and PyTorch's default init,
    W ~ kaiming_uniform(a=√5) = U(-1/√fan_in, 1/√fan_in) and b ~ U(-1/√fan_in, 1/√fan_in)."""

    def _create_parameters(self, weight_shape, bias, dtype, device):
        dtype = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.zeros(weight_shape, dtype))
        if bias:
            self.bias = Parameter(np.zeros(weight_shape[0], dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = init.default_bias_bound(self.weight)
            init.uniform_(self.bias, -bound, bound)


class Linear(WeightedLayer):
    """y = x W^T + b with W of shape (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: expected positive feature counts, got in_features="
                             f"{in_features}, out_features={out_features}")
        self.in_features, self.out_features = in_features, out_features
        self._create_parameters((out_features, in_features), bias, dtype, device)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero each element with probability p during training, scale the rest by 1/(1-p)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: expected a probability p in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace=False"


class _ModuleSequence(Module):
    """Sub-modules named "0", "1", ... in order; shared by Sequential and ModuleList."""

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(*modules[index]) if isinstance(self, Sequential) \
                else type(self)(modules[index])
        return modules[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(_ModuleSequence):
    """Call the given modules in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            self.extend(modules)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)
