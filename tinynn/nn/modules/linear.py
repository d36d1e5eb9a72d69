"""Dense layers: ``Linear`` (seed 002: h = σ(W h_prev + b), one row per sample) and
``Identity``."""
import math

import numpy as np

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import check_sizes

__all__ = ["Identity", "Linear"]


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


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(WeightedLayer):
    """y = x W^T + b with W of shape (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self._create_parameters((out_features, in_features), bias, dtype, device)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"
