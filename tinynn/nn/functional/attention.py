"""Layer normalisation and attention, composed from differentiable ops (their gradients come
from autograd; the tests hold them to PyTorch's).

    layer_norm:  y = γ (x − μ) / √(σ² + ε) + β,  μ and σ² (biased) over the last dims
    scaled_dot_product_attention:  softmax(Q Kᵀ / √d + mask) V   (Vaswani et al. 2017)
"""
import math

import numpy as np

from ...creation import where
from ...tensor import Tensor

__all__ = ["layer_norm", "scaled_dot_product_attention"]


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[-len(normalized_shape):]) != normalized_shape:
        raise ValueError(f"layer_norm: expected the input's last dimensions to be {normalized_shape}, got "
                         f"shape {tuple(input.shape)}")
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(dims, keepdim=True)
    centred = input - mean
    out = centred / ((centred * centred).mean(dims, keepdim=True) + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """(…, L, E) queries, (…, S, E) keys, (…, S, Ev) values → (…, L, Ev).  A boolean mask is
    True where attending is allowed; a float mask is added to the scores."""
    from .dropout import dropout
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        attn_mask = Tensor._wrap(np.tril(np.ones((length, source), dtype=bool)))
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            scores = where(attn_mask, scores, Tensor._wrap(np.asarray(-np.inf, scores.dtype)))
        else:
            scores = scores + attn_mask
    weights = scores.softmax(-1)
    if dropout_p:
        weights = dropout(weights, dropout_p)
    return weights @ value
