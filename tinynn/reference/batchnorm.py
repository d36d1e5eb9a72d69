"""Batch normalisation in training mode, per channel c over the m = N·L values
of x (shape (N, C, L); images are reshaped so that L = H·W):

    μ = 1/m Σ x,   σ² = 1/m Σ (x - μ)²,   x̂ = (x - μ) / sqrt(σ² + ε),   y = γ x̂ + β

    ∂L/∂β = Σ g,   ∂L/∂γ = Σ g x̂,
    ∂L/∂x = γ / (m sqrt(σ² + ε)) · (m g - Σ g - x̂ Σ g x̂)

The last line is the chain rule through μ and σ², which depend on every x.
"""
import numpy as np


def batch_norm_forward(x, weight, bias, eps):
    """Returns y and the batch statistics μ and σ² (biased) per channel."""
    mean = x.mean(axis=(0, 2))
    var = x.var(axis=(0, 2))
    invstd = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean[:, None]) * invstd[:, None]
    return x_hat * weight[:, None] + bias[:, None], mean, var


def batch_norm_backward(grad, x, mean, invstd, weight):
    m = x.shape[0] * x.shape[2]
    x_hat = (x - mean[:, None]) * invstd[:, None]
    grad_bias = grad.sum(axis=(0, 2))
    grad_weight = (grad * x_hat).sum(axis=(0, 2))
    scale = (weight * invstd / m)[:, None]
    grad_x = scale * (m * grad - grad_bias[:, None] - x_hat * grad_weight[:, None])
    return grad_x.astype(x.dtype), grad_weight.astype(x.dtype), grad_bias.astype(x.dtype)
