"""Batch normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``SyncBatchNorm``.

The layer owns the running statistics; ``F.batch_norm`` (``nn/functional/normalization.py``)
normalises and updates them.
"""
import numpy as np

from ...tensor import Tensor
from .. import functional as F
from ... import distributed as dist
from ..functional.normalization import running_average_factor, update_running
from ..functional.sync_batch_norm import SyncBatchNormFunction
from ..parameter import Parameter
from .module import Module
from .utils import check_sizes

__all__ = ["BatchNorm1d", "BatchNorm2d", "SyncBatchNorm"]


class _BatchNorm(Module):
    """Normalise each channel by batch statistics (training) or running ones (eval).

    momentum=None averages all batches seen so far (factor 1/num_batches_tracked).
    """

    unbiased_running_var = True      # PyTorch's; Keras' BatchNormalization sets False

    expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        check_sizes(type(self).__name__, num_features=num_features)
        dtype = np.dtype(dtype or np.float32)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype)) if affine else None
        if not affine:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        if device is not None:
            self.to(device)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_(), self.running_var.fill_(1), self.num_batches_tracked.zero_()

    def forward(self, x):
        if x.ndim not in self.expected_dims:
            raise ValueError(f"{type(self).__name__}: expected a {' or '.join(map(str, self.expected_dims))}-D "
                             f"input, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels "
                             f"(dim 1), got input of shape {x.shape}")
        use_batch_stats = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            momentum = running_average_factor(self.momentum, self.num_batches_tracked)
        return F.batch_norm(x, self.running_mean if self.track_running_stats else None,
                            self.running_var if self.track_running_stats else None,
                            self.weight, self.bias, use_batch_stats, momentum, self.eps,
                            unbiased_running_var=self.unbiased_running_var)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, " \
               f"affine={self.affine}, track_running_stats={self.track_running_stats}"


class BatchNorm1d(_BatchNorm):
    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    expected_dims = (4,)


class SyncBatchNorm(_BatchNorm):
    """Batch norm over the global batch of a data-parallel job (``functional/sync_batch_norm.py``);
    outside one, or in evaluation mode, it is an ordinary batch norm."""

    expected_dims = (2, 3, 4, 5)

    def forward(self, x):
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        y, mean, var, count = SyncBatchNormFunction.apply(x, self.weight, self.bias, eps=self.eps)
        if self.track_running_stats:
            factor = running_average_factor(self.momentum, self.num_batches_tracked)
            count = float(count.item())
            update_running(self.running_mean, mean._array, factor)
            update_running(self.running_var, var._array * (count / (count - 1)), factor)
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm layer replaced by a SyncBatchNorm that shares its
        parameters and buffers (PyTorch's name and behaviour)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats)
            for name in ("weight", "bias"):
                if getattr(module, name) is not None:
                    setattr(converted, name, getattr(module, name))
            for name, buffer in module._buffers.items():
                converted.register_buffer(name, buffer)
            converted.training = module.training
            return converted
        for name, child in list(module.named_children()):
            setattr(module, name, cls.convert_sync_batchnorm(child))
        return module
