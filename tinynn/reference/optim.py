"""Optimiser updates that the backends run in one pass, as readable NumPy (PyTorch's
formulas, operation for operation, so that float32 results match it bit for bit)."""
import math

import numpy as np


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, step):
    """One Adam step t in place (``max_exp_avg_sq``: AMSGrad's buffer, or None):

        m <- m + (1 - β1)(g - m);   v <- β2 v + (1 - β2) g²;   v̂ <- max(v̂, v), or v̂ = v
        p <- p - (γ / (1 - β1^t)) m / (√v̂ / √(1 - β2^t) + ε)"""
    exp_avg += (1 - beta1) * (grad - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        exp_avg_sq = max_exp_avg_sq
    denominator = np.sqrt(exp_avg_sq) / math.sqrt(1 - beta2 ** step) + eps
    param -= lr / (1 - beta1 ** step) * exp_avg / denominator
