"""Embedding: row ``i`` of a table for each index ``i`` (a one-hot vector times the table).

    y[..., :] = W[index[...], :];   ∂L/∂W[i] = Σ over the positions holding i of ∂L/∂y

The gradient is indexing's own (``ops/shape.py``: gradients of repeated indices add up);
``padding_idx``'s row gets none, as in PyTorch."""
import numpy as np

from ...tensor import Tensor

__all__ = ["embedding"]


def embedding(input, weight, padding_idx=None):
    indices = np.asarray(input.numpy() if isinstance(input, Tensor) else input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexError(f"embedding: indices must be in [0, {weight.shape[0]}), got values from "
                         f"{indices.min()} to {indices.max()}")
    rows = weight[indices]
    if padding_idx is None:
        return rows
    learns = Tensor._wrap((indices != padding_idx)[..., None].astype(weight.dtype))
    return rows * learns + rows.detach() * (1 - learns)      # the padding row's value, without a gradient
