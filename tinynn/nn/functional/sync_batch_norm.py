"""Batch normalisation whose statistics cover the whole global batch of a data-parallel job:
every rank's shard, not only its own (``nn.SyncBatchNorm``).

    μ = Σ_ranks Σ x / M,   σ² = Σ_ranks Σ (x - μ)² / M          (M: images × positions, all ranks)
    y = γ x̂ + β,  x̂ = (x - μ) / √(σ² + ε)
    ∂L/∂x = γ / √(σ² + ε) · (g - Σg / M - x̂ Σ(g x̂) / M),  the two sums again over all ranks

The sums are all-reduced (``tinynn.distributed``) in float64; ∂L/∂γ = Σ g x̂ and ∂L/∂β = Σ g
stay this rank's, and DistributedDataParallel averages them with the other gradients.
"""
import numpy as np

from ... import distributed as dist
from ...autograd import Function

__all__ = ["SyncBatchNormFunction"]


def _global_sum(per_channel):
    total = np.ascontiguousarray(per_channel, dtype=np.float64)
    dist.all_reduce(total)
    return total


class SyncBatchNormFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        x3 = x.reshape(x.shape[0], x.shape[1], -1)
        count = _global_sum([x3.shape[0] * x3.shape[2]])[0]
        mean = _global_sum(x3.sum(axis=(0, 2))) / count
        centred = x3 - mean[:, None].astype(x.dtype)
        var = _global_sum((centred * centred).sum(axis=(0, 2))) / count
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        x_hat = centred * invstd[:, None]
        weight = np.ones_like(invstd) if weight is None else weight
        bias = np.zeros_like(invstd) if bias is None else bias
        ctx.save_for_backward(x_hat, invstd, weight)
        ctx.count = count
        y = x_hat * weight[:, None] + bias[:, None]
        return y.reshape(x.shape), mean.astype(x.dtype), var.astype(x.dtype), np.asarray(count)

    @staticmethod
    def backward(ctx, grad):
        x_hat, invstd, weight = ctx.saved_arrays
        g3 = grad.reshape(x_hat.shape)
        grad_bias, grad_weight = g3.sum(axis=(0, 2)), (g3 * x_hat).sum(axis=(0, 2))
        sums = _global_sum(np.concatenate([grad_bias, grad_weight])) / ctx.count
        channels = x_hat.shape[1]
        mean_g, mean_gx = sums[:channels].astype(g3.dtype), sums[channels:].astype(g3.dtype)
        grad_x = (weight * invstd)[:, None] * (g3 - mean_g[:, None] - x_hat * mean_gx[:, None])
        return grad_x.reshape(grad.shape), grad_weight, grad_bias
