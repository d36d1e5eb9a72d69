"""Batch normalisation (``F.batch_norm``), training and evaluation modes, and the update of
the running statistics (all of it here; ``nn.BatchNorm*d`` only owns the buffers).

Training normalises with the batch's statistics and updates the running ones in place:

    running = (1 - momentum) · running + momentum · batch

using the unbiased variance (m / (m - 1) · σ²) for running_var, as PyTorch does; with
``momentum=None`` the factor is 1 / (batches seen), a cumulative average.  Evaluation
normalises with the running statistics, a fixed affine map.  The per-channel arithmetic
runs in the backend: ``tinynn/reference/batchnorm.py`` or ``kernels/batchnorm.py``.
"""
import numpy as np

from ...autograd import Function
from ...autograd.versions import bump
from ...tensor import Tensor

__all__ = ["batch_norm", "running_average_factor"]


class BatchNorm(Function):
    """y = γ (x - μ) / sqrt(σ² + ε) + β on x viewed as (N, C, L)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running, eps):
        x3 = x.reshape(x.shape[0], x.shape[1], -1)
        channels = x.shape[1]
        weight = np.ones_like(x, shape=(channels,)) if weight is None else weight
        bias = np.zeros_like(x, shape=(channels,)) if bias is None else bias
        if running is None:                       # training: statistics of this batch
            y, mean, var = ctx.backend.batch_norm_forward(x3, weight, bias, eps)
        else:                                     # evaluation: the running statistics
            mean, var = running
            scale = weight / np.sqrt(var + eps)
            y = x3 * scale[:, None] + (bias - mean * scale)[:, None]
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        ctx.save_for_backward(x3, mean, invstd, weight)
        ctx.batch_statistics = running is None
        return y.reshape(x.shape), mean, var

    @staticmethod
    def backward(ctx, grad):
        x3, mean, invstd, weight = ctx.saved_arrays
        g3 = np.ascontiguousarray(grad).reshape(x3.shape)
        if ctx.batch_statistics:
            grad_x, grad_w, grad_b = ctx.backend.batch_norm_backward(g3, x3, mean, invstd, weight)
        else:                                     # μ and σ are constants here
            x_hat = (x3 - mean[:, None]) * invstd[:, None]
            grad_x = g3 * (weight * invstd)[:, None]
            grad_w, grad_b = (g3 * x_hat).sum(axis=(0, 2)), g3.sum(axis=(0, 2))
        return grad_x.reshape(grad.shape), grad_w, grad_b


def _check_batch_norm_inputs(input, running_mean, running_var, weight, bias):
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: expected {name} of shape ({channels},) for an input "
                             f"with {channels} channels, got {tuple(t.shape)}")


def running_average_factor(momentum, num_batches_tracked):
    """Count one more training batch in ``num_batches_tracked`` (a 0-d int64 tensor) and
    return the factor of its statistics in the running ones: ``momentum``, or with
    ``momentum=None`` 1 / (batches seen so far), a cumulative average."""
    num_batches_tracked._array += 1
    return 1.0 / float(num_batches_tracked._array) if momentum is None else momentum


def update_running(running, batch, momentum):
    running._array *= 1 - momentum
    running._array += momentum * batch
    bump(running._array)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, unbiased_running_var=True):
    """``unbiased_running_var=False`` (not in PyTorch) keeps the batch's biased σ² in
    running_var, as Keras' BatchNormalization does."""
    _check_batch_norm_inputs(input, running_mean, running_var, weight, bias)
    count = input.numel() // input.shape[1]
    if training and count <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got "
                         f"input shape {input.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
    running = None if training else (running_mean._array, running_var._array)
    out, mean, var = BatchNorm.apply(input, weight, bias, running=running, eps=eps)
    if training and running_mean is not None:
        update_running(running_mean, mean._array, momentum)
    if training and running_var is not None:
        correction = count / (count - 1) if unbiased_running_var else 1.0
        update_running(running_var, var._array * correction, momentum)
    return out
