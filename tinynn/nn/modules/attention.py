"""``MultiheadAttention`` (PyTorch's parameters and masks) and ``LayerNorm``.

    Q, K, V = x_q W_qᵀ + b_q, x_k W_kᵀ + b_k, x_v W_vᵀ + b_v     (``in_proj_weight`` holds the three)
    head h:   softmax(Q_h K_hᵀ / √d + mask) V_h,   d = embed_dim / num_heads
    output:   the heads side by side, through ``out_proj``

PyTorch's mask conventions: a boolean ``attn_mask`` (L, S) or ``key_padding_mask`` (N, S) is True
where a query may *not* look; a float ``attn_mask`` is added to the scores.
"""
import math

import numpy as np

from ... import random as _random
from ...creation import where
from ...tensor import Tensor
from ..functional.attention import layer_norm
from ..functional.linear import linear
from ..parameter import Parameter
from .linear import Linear
from .module import Module
from .utils import check_sizes

__all__ = ["MultiheadAttention", "LayerNorm"]


class LayerNorm(Module):
    """y = γ (x − μ) / √(σ² + ε) + β over the last ``normalized_shape`` dimensions."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, dtype = eps, np.dtype(dtype or np.float32)
        self.weight = Parameter(np.ones(self.normalized_shape, dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype)) if elementwise_affine and bias else None
        if device is not None:
            self.to(device)

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False, device=None, dtype=None):
        super().__init__()
        check_sizes("MultiheadAttention", embed_dim=embed_dim, num_heads=num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        dtype = np.dtype(dtype or np.float32)
        bound = math.sqrt(6 / (embed_dim + 3 * embed_dim))           # Xavier-uniform, as PyTorch
        self.in_proj_weight = Parameter(_random.generator().uniform(-bound, bound, (3 * embed_dim, embed_dim))
                                        .astype(dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if bias:
            self.out_proj.bias.data = np.zeros(embed_dim, dtype)
        if device is not None:
            self.to(device)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(output (L, N, E), weights (N, L, S) averaged over heads, or None)."""
        if self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        length, batch, embed = query.shape
        source, heads, width = key.shape[0], self.num_heads, self.embed_dim // self.num_heads
        w_q, w_k, w_v = (self.in_proj_weight[i * embed:(i + 1) * embed] for i in range(3))
        b_q, b_k, b_v = ((None,) * 3 if self.in_proj_bias is None else
                         (self.in_proj_bias[i * embed:(i + 1) * embed] for i in range(3)))
        q, k, v = (linear(x, w, b).reshape(x.shape[0], batch * heads, width).transpose(0, 1)
                   for x, w, b in ((query, w_q, b_q), (key, w_k, b_k), (value, w_v, b_v)))
        scores = (q @ k.transpose(1, 2)) * (1 / math.sqrt(width))                 # (N·heads, L, S)
        blocked = _blocked(attn_mask, key_padding_mask, is_causal, batch, heads, length, source)
        if isinstance(blocked, Tensor) and blocked.dtype != np.bool_:
            scores = scores + blocked
        elif blocked is not None:
            scores = where(Tensor._wrap(blocked), Tensor._wrap(np.asarray(-np.inf, scores.dtype)), scores)
        weights = scores.softmax(-1)
        if self.dropout and self.training:
            from ..functional.dropout import dropout
            weights = dropout(weights, self.dropout)
        out = (weights @ v).transpose(0, 1).reshape(length, batch, embed)
        out = self.out_proj(out)
        out = out.transpose(0, 1) if self.batch_first else out
        if not need_weights:
            return out, None
        weights = weights.reshape(batch, heads, length, source)
        return out, (weights.mean(1) if average_attn_weights else weights)


def _blocked(attn_mask, key_padding_mask, is_causal, batch, heads, length, source):
    """Where queries may not look, (N·heads, L, S) booleans, or a float mask to add."""
    if attn_mask is not None and attn_mask.dtype != np.bool_:
        return attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(batch * heads, length, source)
    blocked = np.zeros((batch, heads, length, source), dtype=bool)
    if is_causal and attn_mask is None:
        blocked |= np.triu(np.ones((length, source), dtype=bool), 1)
    if attn_mask is not None:
        mask = attn_mask.numpy()
        blocked |= mask if mask.ndim == 2 else mask.reshape(batch, heads, length, source)
    if key_padding_mask is not None:
        blocked |= key_padding_mask.numpy().astype(bool)[:, None, None, :]
    return blocked.reshape(batch * heads, length, source) if blocked.any() else None
